"""The screening cache in the daemon (issue 7): PASS NEW, then PASS OLD
with no greet wait, across a restart; concurrent sessions share the
record; failures are never cached."""
import os
import time

from lib import (Doorman, SmtpSink, check, command, connect, greet_and_quit,
                 read_line, read_reply)

SINK_PORT = 24401
sink = None


def setup_module():
    global sink
    sink = SmtpSink(SINK_PORT)


def teardown_module():
    sink.stop()


def test_pass_new_then_pass_old_across_restart():
    d = Doorman(24400, "127.0.0.1:%d" % SINK_PORT, greet_wait="2s")
    d.start()
    try:
        greeting, waited = greet_and_quit(24400, "127.0.20.1")
        check(waited >= 1.9, "first visit waits the greet wait: %.2f" % waited)
        d.wait_log(r"PASS NEW \[127\.0\.20\.1\]:\d+")
        d.mark()
        greeting, waited = greet_and_quit(24400, "127.0.20.1")
        check(waited < 0.5, "a cached client does not wait: %.2fs" % waited)
        check(len(greeting) == 1 and greeting[0].startswith("220 "),
              "no teaser for PASS OLD: %r" % greeting)
        d.wait_log(r"PASS OLD \[127\.0\.20\.1\]:\d+")
        d.stop(keep=True)
        d.start()
        d.mark()
        greeting, waited = greet_and_quit(24400, "127.0.20.1")
        check(waited < 0.5, "still cached after a restart: %.2fs" % waited)
        d.wait_log(r"PASS OLD \[127\.0\.20\.1\]:\d+")
        check(os.path.exists(os.path.join(d.dir, "data", "screen_cache.lmdb")),
              "the cache file is in data_directory")
    finally:
        d.stop()


def test_failure_is_not_cached():
    d = Doorman(24402, "127.0.0.1:%d" % SINK_PORT, greet_wait="1s")
    d.start()
    try:
        s = connect(24402, "127.0.20.2")
        read_line(s)
        s.sendall(b"EHLO early\r\n")
        read_reply(s)
        s.close()
        d.wait_log(r"PREGREET .* from \[127\.0\.20\.2\]")
        time.sleep(1.5)
        d.mark()
        greeting, waited = greet_and_quit(24402, "127.0.20.2")
        check(waited >= 0.9, "tested again: %.2f" % waited)
        d.wait_log(r"PASS NEW \[127\.0\.20\.2\]")
    finally:
        d.stop()


def test_concurrent_sessions_one_pass_new():
    d = Doorman(24403, "127.0.0.1:%d" % SINK_PORT, greet_wait="1s")
    d.start()
    try:
        socks = [connect(24403, "127.0.20.3") for _ in range(3)]
        for s in socks:
            r = read_reply(s)
            check(r[-1].startswith("220 "), "greeting: %r" % r)
        for s in socks:
            command(s, "QUIT")
            s.close()
        time.sleep(0.3)
        n = len([l for l in d.log().splitlines() if "PASS NEW [127.0.20.3]" in l])
        check(n == 1, "only the first concurrent session logs PASS NEW: %d" % n)
        # the others pass too, and say so, as postscreen's (reference §3)
        n = len([l for l in d.log().splitlines() if "PASS OLD [127.0.20.3]" in l])
        check(n == 2, "the other concurrent sessions log PASS OLD: %d" % n)
    finally:
        d.stop()


def test_denylisted_client_never_passes_from_the_cache():
    """A client that passed once, then denylisted under enforce, must not
    be handed off on the strength of its cached pass."""
    import os
    d = Doorman(24404, "127.0.0.1:%d" % SINK_PORT, "", greet_wait="1s")
    d.start()
    try:
        greet_and_quit(24404, "127.0.20.4")
        d.wait_log(r"PASS NEW \[127\.0\.20\.4\]")
        with open(os.path.join(d.dir, "doorman.cf"), "a") as f:
            f.write("screen_access_list = permit_mynetworks, cidr:{{127.0.20.4 reject}}\n"
                    "screen_denylist_action = enforce\n")
        d.stop(keep=True)
        d.start()
        s = connect(24404, "127.0.20.4")
        r = read_reply(s)
        command(s, "EHLO again.test")
        command(s, "MAIL FROM:<a@example.test>")
        r = command(s, "RCPT TO:<b@example.test>")
        check(r == ["550 5.3.2 Service currently unavailable"], "enforced: %r" % r)
        d.wait_log(r"DENYLISTED \[127\.0\.20\.4\]")
        d.no_log(r"PASS OLD \[127\.0\.20\.4\]")
        d.no_log(r"smtpd\[\d+\]: connect from unknown\[127\.0\.20\.4\]")
    finally:
        d.stop()
