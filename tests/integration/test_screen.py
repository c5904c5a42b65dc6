"""The screen and the hand-off (issue 4): pass, allowlist, pregreet under
each action, access list, hang-up, limits, X21 completion of the teaser.

One smtp-sink serves as the upstream; each test starts the doorman it
needs on its own port.  Clients come from distinct 127.x.y.z addresses.
"""
import time

from lib import (Doorman, SmtpSink, check, command, connect, is_closed,
                 read_reply, read_to_eof_after_a_pause, send_mail)

SINK_PORT = 24101
sink = None


def setup_module():
    global sink
    sink = SmtpSink(SINK_PORT)


def teardown_module():
    sink.stop()


def doorman(port, extra="", **kw):
    return Doorman(port, "127.0.0.1:%d" % SINK_PORT, extra, **kw).start()


def test_pass_new_and_delivery():
    d = doorman(24110)
    try:
        before = len(sink.messages())
        s = connect(24110, "127.0.1.1")
        t0 = time.monotonic()
        greeting = read_reply(s)
        waited = time.monotonic() - t0
        check(greeting[0] == "220-doorman.test ESMTP doorman", "teaser: %r" % greeting)
        check(len(greeting) == 2 and greeting[1].startswith("220 "),
              "greeting must end with a final 220 line: %r" % greeting)
        check(waited >= 0.95, "the full greet wait must elapse, waited %.2fs" % waited)
        ehlo = command(s, "EHLO client.test")
        check(ehlo[-1].startswith("250 "), "EHLO last line: %r" % ehlo)
        check(not any(k in l for l in ehlo for k in ("CHUNKING", "XCLIENT", "XFORWARD")),
              "the worker drops what it does not relay: %r" % ehlo)
        check(command(s, "MAIL FROM:<a@example.test>")[0].startswith("250"), "MAIL")
        check(command(s, "RCPT TO:<b@example.test>")[0].startswith("250"), "RCPT")
        check(command(s, "DATA")[0].startswith("354"), "DATA")
        s.sendall(b"Subject: pass\r\n\r\nhello\r\n.\r\n")
        check(read_reply(s)[0].startswith("250"), "end of data")
        command(s, "QUIT")
        s.close()
        d.wait_log(r"CONNECT from \[127\.0\.1\.1\]:\d+ to \[127\.0\.0\.1\]:24110")
        d.wait_log(r"PASS NEW \[127\.0\.1\.1\]:\d+")
        d.wait_log(r"postfix-doorman/smtpd\[\d+\]: connect from unknown\[127\.0\.1\.1\]")
        d.wait_log(r"disconnect from unknown\[127\.0\.1\.1\] ehlo=1 mail=1 rcpt=1 data=1 "
                   r"quit=1 commands=5")
        check(len(sink.messages()) == before + 1, "the sink got the message")
        check(b"Subject: pass" in sink.messages()[-1], "message content")
        cmdlines = d.worker_cmdlines()
        check(cmdlines and all("-o stress=" in c for c in cmdlines),
              "workers run with -o stress=: %r" % cmdlines)
    finally:
        d.stop()


def test_allowlisted_skips_the_wait():
    d = doorman(24111, greet_wait="5s")
    try:
        s = connect(24111, "127.0.0.1")
        t0 = time.monotonic()
        greeting = read_reply(s)
        check(time.monotonic() - t0 < 2, "an allowlisted client does not wait")
        check(len(greeting) == 1 and greeting[0].startswith("220 smtp-sink"),
              "no teaser for an allowlisted client: %r" % greeting)
        command(s, "QUIT")
        d.wait_log(r"ALLOWLISTED \[127\.0\.0\.1\]:\d+")
        d.no_log(r"PASS NEW")
    finally:
        d.stop()


def pregreet(port, action):
    d = doorman(port, "screen_greet_action = %s\n" % action)
    s = connect(port, "127.0.2.%d" % (port % 250))
    check(read_line_teaser(s), "teaser")
    s.sendall(b"EHLO early.test\r\n")
    return d, s


def read_line_teaser(s):
    from lib import read_line
    line = read_line(s)
    return line.startswith("220-")


def test_pregreet_ignore_hands_off():
    d, s = pregreet(24112, "ignore")
    try:
        rest = read_reply(s)
        check(rest and rest[-1].startswith("220 "), "greeting completed: %r" % rest)
        ehlo = read_reply(s)
        check(ehlo and ehlo[-1].startswith("250"), "the early EHLO is answered: %r" % ehlo)
        command(s, "QUIT")
        d.wait_log(r"PREGREET 17 after [\d.]+ from \[127\.0\.2\.\d+\]:\d+: EHLO early\.test\\r\\n")
        d.wait_log(r"connect from unknown\[127\.0\.2\.")
        d.no_log(r"PASS NEW")
    finally:
        d.stop()


def test_pregreet_enforce_rejects_at_rcpt():
    d, s = pregreet(24113, "enforce")
    try:
        rest = read_reply(s, timeout=5)
        check(rest == ["220 doorman.test ESMTP doorman"],
              "the engine completes the greeting first (DESIGN §10): %r" % rest)
        ehlo = read_reply(s, timeout=5)
        check(ehlo and ehlo[0].startswith("250"), "then answers the early EHLO: %r" % ehlo)
        check(command(s, "MAIL FROM:<zombie@example.test>")[0].startswith("250"), "MAIL")
        r = command(s, "RCPT TO:<victim@example.test>")
        check(r == ["550 5.5.1 Protocol error"], "RCPT reply: %r" % r)
        check(command(s, "QUIT") == ["221 2.0.0 Bye"], "QUIT")
        d.wait_log(r"NOQUEUE: reject: RCPT from \[127\.0\.2\.\d+\]:\d+: 550 5\.5\.1 Protocol error; "
                   r"from=<zombie@example\.test>, to=<victim@example\.test>, proto=ESMTP, "
                   r"helo=<early\.test>")
        d.wait_log(r"DISCONNECT \[127\.0\.2\.")
        d.no_log(r"smtpd\[\d+\]: connect from")
    finally:
        d.stop()


def test_pregreet_drop():
    d, s = pregreet(24114, "drop")
    try:
        r = read_reply(s, timeout=5)
        check(r == ["521 5.5.1 Protocol error"], "drop reply: %r" % r)
        check(is_closed(s), "closed after the drop")
        d.wait_log(r"PREGREET 17 after .* from \[127\.0\.2\.\d+\]:\d+: EHLO early\.test\\r\\n")
        d.wait_log(r"DISCONNECT \[127\.0\.2\.")
    finally:
        d.stop()



def test_pregreet_drop_reply_survives_a_late_read():
    """The early talk was only peeked at: unread, it would turn the close into
    a reset that destroys the 521 before a slow client reads it."""
    d, s = pregreet(24123, "drop")
    try:
        d.wait_log(r"DISCONNECT \[127\.0\.2\.")
        data = read_to_eof_after_a_pause(s)
        check(data == b"521 5.5.1 Protocol error\r\n", "the 521 then EOF: %r" % data)
    finally:
        d.stop()

def test_hangup_before_handshake():
    d = doorman(24115, greet_wait="3s")
    try:
        s = connect(24115, "127.0.3.1")
        read_line_teaser(s)
        time.sleep(0.3)
        s.close()
        d.wait_log(r"HANGUP after 0\.\d+ from \[127\.0\.3\.1\]:\d+ in tests before SMTP handshake")
        d.wait_log(r"DISCONNECT \[127\.0\.3\.1\]")
    finally:
        d.stop()


def test_access_list_cidr():
    import os
    d = Doorman(24116, "127.0.0.1:%d" % SINK_PORT, "")
    with open(os.path.join(d.dir, "access.cidr"), "w") as f:
        f.write("# test access list\n127.0.4.1 permit\n127.0.4.0/24 reject\n")
    with open(d.conf, "a") as f:
        f.write("screen_access_list = permit_mynetworks, cidr:%s/access.cidr\n"
                "screen_denylist_action = drop\n" % d.dir)
    d.start()
    try:
        s = connect(24116, "127.0.4.1")
        check(read_reply(s)[0].startswith("220 smtp-sink"), "permitted: straight to a worker")
        command(s, "QUIT")
        d.wait_log(r"ALLOWLISTED \[127\.0\.4\.1\]:\d+")
        s = connect(24116, "127.0.4.2")
        r = read_reply(s)
        check(r == ["521 5.3.2 Service currently unavailable"], "denylisted + drop: %r" % r)
        check(is_closed(s), "closed")
        d.wait_log(r"DENYLISTED \[127\.0\.4\.2\]:\d+")
    finally:
        d.stop()


def test_denylist_enforce():
    d = doorman(24117, "screen_access_list = permit_mynetworks, cidr:{{127.0.5.0/24 reject}}\n"
                "screen_denylist_action = enforce\n")
    try:
        s = connect(24117, "127.0.5.9")
        r = read_reply(s)
        check(r[-1].startswith("220 "), "greeting: %r" % r)
        command(s, "HELO bad.test")
        command(s, "MAIL FROM:<x@example.test>")
        r = command(s, "RCPT TO:<y@example.test>")
        check(r == ["550 5.3.2 Service currently unavailable"], "RCPT: %r" % r)
        d.wait_log(r"DENYLISTED \[127\.0\.5\.9\]")
        d.wait_log(r"NOQUEUE: reject: RCPT from \[127\.0\.5\.9\]:\d+: 550 5\.3\.2 .*proto=SMTP, "
                   r"helo=<bad\.test>")
    finally:
        d.stop()


def test_client_connection_count_limit():
    d = doorman(24118, "screen_client_connection_count_limit = 2\n", greet_wait="3s")
    try:
        a = connect(24118, "127.0.6.1")
        b = connect(24118, "127.0.6.1")
        read_line_teaser(a)
        read_line_teaser(b)
        c = connect(24118, "127.0.6.1")
        r = read_reply(c)
        check(r == ["421 4.7.0 Error: too many connections"], "third connection: %r" % r)
        d.wait_log(r"NOQUEUE: reject: CONNECT from \[127\.0\.6\.1\]:\d+: too many connections")
        other = connect(24118, "127.0.6.2")
        check(read_line_teaser(other), "another client is not affected")
    finally:
        d.stop()


def test_upstream_down_completes_greeting_then_421():
    d = Doorman(24119, "127.0.0.1:24198", "").start()   # nothing listens on 24198
    try:
        s = connect(24119, "127.0.7.1")
        r = read_reply(s)
        check(r[0].startswith("220-") and r[-1].startswith("220 "), "greeting: %r" % r)
        r = command(s, "EHLO c.test")
        check(r == ["421 4.3.2 Service currently unavailable"], "first command: %r" % r)
        check(is_closed(s), "closed")
        s = connect(24119, "127.0.0.1")
        r = read_reply(s)
        check(r == ["421 4.3.2 Service currently unavailable"],
              "allowlisted client, no teaser: %r" % r)
    finally:
        d.stop()


def test_smtplib_session():
    d = doorman(24120)
    try:
        code, msg = send_mail(24120, "127.0.8.1")
        check(code == 250, "smtplib: %d %r" % (code, msg))
    finally:
        d.stop()


def test_out_of_file_descriptors_pauses_accept():
    """Descriptors run out before the pre-queue limit (each client also has
    a DNS query in flight to a server that never answers): accepting pauses
    with one warning, held clients go on, nothing spins or crashes."""
    import socket as sk
    blackhole = sk.socket(sk.AF_INET, sk.SOCK_DGRAM)
    blackhole.bind(("127.0.0.1", 24199))
    d = Doorman(24121, "127.0.0.1:%d" % SINK_PORT,
                "backend_process_limit = 1\ndns_servers = 127.0.0.1:24199\n"
                "screen_dnsbl_sites = dnsbl.test\nscreen_dnsbl_timeout = 20s\n",
                greet_wait="3s")
    d.start(prefix=["prlimit", "--nofile=64:64"])
    try:
        socks = []
        for i in range(60):
            socks.append(connect(24121, "127.0.30.%d" % (i + 1)))
        d.wait_log(r"warning: accept on 127\.0\.0\.1:24121: Too many open files: "
                   r"pausing new connections for 1s")
        check(read_line_teaser(socks[0]), "a held client still has its teaser")
        check(d.proc.poll() is None, "doorman is alive")
        n = len([l for l in d.log().splitlines() if "pausing new connections" in l])
        check(n < 10, "one warning per episode, not a flood: %d" % n)
        # Descriptors come back: the held client is handed to a worker.
        for s in socks[1:]:
            s.close()
        r = read_reply(socks[0], timeout=15)
        check(r and r[-1].startswith("220 "), "the held client is served: %r" % r)
        command(socks[0], "QUIT")
        time.sleep(1.5)
        code, msg = send_mail(24121, "127.0.31.1")
        check(code == 250, "accepting again afterwards: %d" % code)
    finally:
        d.stop()
        blackhole.close()


def test_pre_queue_limit_is_capped_by_the_open_file_limit():
    d = Doorman(24122, "127.0.0.1:%d" % SINK_PORT,
                "screen_pre_queue_limit = 25000\nbackend_process_limit = 4\n")
    d.start(prefix=["prlimit", "--nofile=100:100"])
    try:
        d.wait_log(r"warning: screen_pre_queue_limit 25000 is more than the open file limit "
                   r"100 allows: using 64", since_mark=False)
        d.wait_log(r"up to 64 clients can be held", since_mark=False)
    finally:
        d.stop()
