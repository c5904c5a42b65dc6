"""Saturation, stress and load limits (issue 6, DESIGN §6 and §10):
Postfix master's three warnings, workers re-executed with -o stress=yes
and back with -o stress= after the cool-down, the stress values in force,
queue limits with their replies, status/metrics, SIGHUP and SIGTERM."""
import os
import re
import signal
import time
import urllib.request

from lib import (Doorman, SmtpSink, check, command, connect, greet_and_quit, is_closed,
                 read_line, read_reply, send_mail)

SINK_PORT = 24701
sink = None


def setup_module():
    global sink
    sink = SmtpSink(SINK_PORT)


def teardown_module():
    sink.stop()


def doorman(port, extra, **kw):
    return Doorman(port, "127.0.0.1:%d" % SINK_PORT, extra, **kw).start()


def test_saturation_enters_and_leaves_stress():
    d = doorman(24700, "backend_process_limit = 2\nbackend_stress_cooldown = 3s\n"
                "smtpd_timeout = ${stress?{2}:{300}}s\nscreen_post_queue_limit = 10\n"
                "metrics_listen = 127.0.0.1:24709\n")
    try:
        a = connect(24700, "127.0.0.1")
        b = connect(24700, "127.0.0.1")
        check(read_reply(a)[0].startswith("220 "), "a served")
        check(read_reply(b)[0].startswith("220 "), "b served")
        c = connect(24700, "127.0.0.1")          # no worker left: saturation
        d.wait_log(r"postfix-doorman/master\[\d+\]: warning: service \"smtp\" "
                   r"\(127\.0\.0\.1:24700\) has reached its process limit \"2\": "
                   r"new clients may experience noticeable delays")
        d.wait_log(r"master\[\d+\]: warning: to avoid this condition, increase "
                   r"backend_process_limit in doorman\.cf or reduce the service time per client")
        d.wait_log(r"master\[\d+\]: warning: see https://www\.postfix\.org/STRESS_README\.html "
                   r"for examples of stress-adapting configuration settings")
        d.wait_log(r"master\[\d+\]: service \"smtp\": entering stress mode: "
                   r"workers restart with -o stress=yes")
        st = d.status()
        check("waiting for a worker: 1" in st or "post-queue: 1 waiting" in st,
              "status shows the waiting client: %s" % st)
        check("pool stress: on" in st, "status shows stress: %s" % st)
        metrics = urllib.request.urlopen("http://127.0.0.1:24709/metrics", timeout=5).read()
        check(b'doorman_stress{kind="pool"} 1' in metrics, "metrics show stress")
        check(b"doorman_post_queue_clients 1" in metrics, "metrics show the queue")
        # a's session ends: its worker is replaced by a stress worker, which takes c.
        command(a, "QUIT")
        a.close()
        r = read_reply(c)
        check(r and r[0].startswith("220 "), "c is served after the wait: %r" % r)
        cmdlines = d.worker_cmdlines()
        check(any("-o stress=yes" in x for x in cmdlines),
              "a worker runs with -o stress=yes: %r" % cmdlines)
        # The stress value of smtpd_timeout (2s) is in force for c.
        t0 = time.monotonic()
        r = read_reply(c, timeout=20)
        waited = time.monotonic() - t0
        check(r and r[0].startswith("421 4.4.2"), "idle client timed out: %r" % r)
        check(waited < 6, "after the stress timeout, not 300s: %.1fs" % waited)
        command(b, "QUIT")
        b.close()
        # Cool-down: no saturation for 3 s, then back to normal workers.
        d.wait_log(r"master\[\d+\]: service \"smtp\": leaving stress mode after \d+s without "
                   r"saturation: workers restart with -o stress=$", timeout=15)
        code, msg = send_mail(24700, "127.0.0.1")
        check(code == 250, "mail after the surge: %d" % code)
        cmdlines = d.worker_cmdlines()
        check(cmdlines and all("stress=yes" not in x for x in cmdlines),
              "workers back to -o stress=: %r" % cmdlines)
    finally:
        d.stop()


def test_backend_stress_on_and_off():
    d = doorman(24702, "backend_stress = on\n")
    try:
        d.wait_log(r"backend_stress = on: workers run with -o stress=yes", since_mark=False)
        code, msg = send_mail(24702, "127.0.0.1")
        check(code == 250, "mail: %d" % code)
        check(all("-o stress=yes" in x for x in d.worker_cmdlines()), "stress workers")
    finally:
        d.stop()
    d = doorman(24703, "backend_stress = off\nbackend_process_limit = 1\n")
    try:
        a = connect(24703, "127.0.0.1")
        read_reply(a)
        b = connect(24703, "127.0.0.1")
        d.wait_log(r"has reached its process limit \"1\"")
        time.sleep(0.3)
        d.no_log(r"entering stress mode")
        command(a, "QUIT")
        check(read_reply(b)[0].startswith("220"), "b served")
        check(all("stress=yes" not in x for x in d.worker_cmdlines()), "never stress")
    finally:
        d.stop()


def test_post_queue_limit_and_wait():
    d = doorman(24704, "backend_process_limit = 1\nscreen_post_queue_limit = 1\n"
                "screen_post_queue_timeout = 2s\n", greet_wait="1s")
    try:
        a = connect(24704, "127.0.0.1")
        read_reply(a)                               # holds the only worker
        b = connect(24704, "127.0.0.1")             # waits in the post-queue
        time.sleep(0.3)
        c = connect(24704, "127.0.0.1")             # queue full, no teaser: direct 421
        r = read_reply(c)
        check(r == ["421 4.3.2 All server ports are busy"], "queue full: %r" % r)
        d.wait_log(r"NOQUEUE: reject: CONNECT from \[127\.0\.0\.1\]:\d+: all server ports busy")
        # b's wait is bounded: 421 after screen_post_queue_timeout.
        r = read_reply(b, timeout=10)
        check(r == ["421 4.3.2 All server ports are busy"], "bounded wait: %r" % r)
        # A screened client got the teaser: greeting completed, then the 421.
        s = connect(24704, "127.0.13.1")
        r = read_reply(s, timeout=10)
        check(r[0].startswith("220-") and r[-1].startswith("220 "), "X21 greeting: %r" % r)
        r = command(s, "EHLO x.test", timeout=10)
        check(r == ["421 4.3.2 All server ports are busy"], "X21 reply: %r" % r)
        check(is_closed(s), "closed")
        command(a, "QUIT")
    finally:
        d.stop()


def test_pre_queue_limit_and_screen_stress():
    d = doorman(24705, "screen_pre_queue_limit = 10\n"
                "screen_greet_wait = ${stress?{1}:{30}}s\n", greet_wait="${stress?{1}:{30}}s")
    try:
        held = [connect(24705, "127.0.14.%d" % i) for i in range(1, 9)]
        for x in held:
            read_line(x)
        t0 = time.monotonic()
        s = connect(24705, "127.0.14.20")        # the 9th: 90 % of 10
        d.wait_log(r"entering STRESS mode with 9 connections")
        r = read_reply(s)
        check(r[-1].startswith("220 ") and time.monotonic() - t0 < 3,
              "under STRESS the greet wait is the stress value: %r %.1f"
              % (r, time.monotonic() - t0))
        extra = [connect(24705, "127.0.14.%d" % i) for i in range(30, 32)]
        r = read_reply(extra[-1])
        check(r == ["421 4.3.2 All screening ports are busy"], "pre-queue full: %r" % r)
        d.wait_log(r"reject: connect from \[127\.0\.14\.31\]:\d+: all screening ports busy")
        for x in held + extra + [s]:
            x.close()
        d.wait_log(r"leaving STRESS mode with \d+ connections")
    finally:
        d.stop()


def test_sighup_keeps_held_clients():
    d = doorman(24706, "", greet_wait="2s")
    try:
        s = connect(24706, "127.0.15.1")
        read_line(s)
        with open(d.conf, "a") as f:
            f.write("screen_access_list = permit_mynetworks, cidr:{{127.0.15.2 reject}}\n"
                    "screen_denylist_action = drop\n")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log(r"reload: configuration")
        r = read_reply(s)
        check(r and r[-1].startswith("220 "), "the held client passes: %r" % r)
        command(s, "QUIT")
        x = connect(24706, "127.0.15.2")
        r = read_reply(x)
        check(r == ["521 5.3.2 Service currently unavailable"], "new config in force: %r" % r)
    finally:
        d.stop()


def test_sigterm_drains_sessions():
    d = doorman(24707, "")
    try:
        s = connect(24707, "127.0.0.1")
        read_reply(s)
        command(s, "EHLO c.test")
        command(s, "MAIL FROM:<a@example.test>")
        d.proc.send_signal(signal.SIGTERM)
        d.wait_log(r"terminating on signal 15")
        time.sleep(0.3)
        check(d.proc.poll() is None, "still draining")
        try:
            x = connect(24707, "127.0.0.1", timeout=2)
            r = read_reply(x, timeout=2)
            check(r == [], "no new clients: %r" % r)
        except OSError:
            pass
        check(command(s, "RCPT TO:<b@example.test>")[0].startswith("250"), "RCPT")
        check(command(s, "DATA")[0].startswith("354"), "DATA")
        s.sendall(b"Subject: drain\r\n\r\nok\r\n.\r\n")
        check(read_reply(s)[0].startswith("250"), "the session finishes")
        command(s, "QUIT")
        s.close()
        d.proc.wait(10)
        d.wait_log(r"daemon stopped")
    finally:
        d.stop()


def test_burst_on_a_slow_upstream_loses_nothing():
    """Every client of a burst either delivers or gets a 4xx; no 250 without
    the upstream's 250 (the message is at the sink)."""
    import smtplib
    import threading
    slow = SmtpSink(24711, ["-w", "1"])
    d = Doorman(24710, "127.0.0.1:24711", "backend_process_limit = 2\n"
                "screen_post_queue_limit = 3\nscreen_post_queue_timeout = 3s\n",
                greet_wait="1s").start()
    results = {}

    def client(i):
        subject = "burst-%d" % i
        try:
            with smtplib.SMTP("127.0.0.1", 24710, source_address=("127.0.0.1", 0),
                              timeout=30) as c:
                c.ehlo("burst.test")
                c.mail("s@example.test")
                c.rcpt("r@example.test")
                code, _ = c.data("Subject: %s\r\n\r\nbody\r\n" % subject)
                results[subject] = code
        except smtplib.SMTPResponseException as e:
            results[subject] = e.smtp_code
        except (smtplib.SMTPException, OSError) as e:
            results[subject] = str(e)
    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        d.wait_log(r"has reached its process limit \"2\"")
        delivered = b"".join(slow.messages())
        ok = [s for s, c in results.items() if c == 250]
        refused = [s for s, c in results.items() if isinstance(c, int) and 400 <= c < 500]
        check(len(results) == 8, "every client finished: %r" % results)
        check(len(ok) + len(refused) == 8, "each got 250 or a 4xx: %r" % results)
        check(ok, "some mail went through: %r" % results)
        for s in ok:
            check(("Subject: %s\n" % s).encode() in delivered,
                  "250 only after delivery: %s missing at the sink" % s)
    finally:
        d.stop()
        slow.stop()


def test_broken_worker_is_throttled_and_the_client_told():
    import tempfile
    bad = tempfile.mkdtemp(prefix="doorman-badworker-")
    with open(os.path.join(bad, "doorman-smtpd"), "w") as f:
        f.write("#!/bin/sh\nexit 1\n")
    os.chmod(os.path.join(bad, "doorman-smtpd"), 0o755)
    d = doorman(24712, "daemon_directory = %s\nscreen_post_queue_timeout = 3s\n" % bad)
    try:
        s = connect(24712, "127.0.0.1")
        r = read_reply(s, timeout=10)
        check(r == ["421 4.3.2 All server ports are busy"], "told, not left hanging: %r" % r)
        d.wait_log(r"master\[\d+\]: warning: \S+/doorman-smtpd: bad command startup -- throttling")
        starts = len(re.findall(r"pid \d+ exit status 1", d.log()))
        check(1 <= starts <= 4, "throttled (1s, 2s, ...), not a fork bomb: %d starts" % starts)
    finally:
        d.stop()


def test_pool_stress_also_shortens_the_greet_wait():
    """While the pool is in stress every ${stress?...} value of the screen
    takes its stress branch: screen_greet_wait too."""
    d = doorman(24713, "backend_stress = on\n", greet_wait="${stress?{1}:{20}}s")
    try:
        greeting, waited = greet_and_quit(24713, "127.0.17.1")
        check(greeting[-1].startswith("220 ") and waited < 3,
              "stress greet wait (1s), not 20s: %.1fs" % waited)
    finally:
        d.stop()
