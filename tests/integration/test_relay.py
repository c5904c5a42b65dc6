"""The worker's relay (issue 4): no accepted mail is ever lost, hostile
input is bounded, a killed worker affects nobody else."""
import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time

from lib import (Doorman, SmtpSink, check, command, connect, is_closed,
                 read_reply, read_to_eof_after_a_pause, send_mail, wait_until)


def greet(s):
    r = read_reply(s)
    check(r and r[-1].startswith("220 "), "greeting: %r" % r)


@contextlib.contextmanager
def relay(port, sink_args=(), extra=""):
    """A doorman on port in front of an smtp-sink on port + 1; both stopped after."""
    sink = SmtpSink(port + 1, list(sink_args))
    d = Doorman(port, "127.0.0.1:%d" % (port + 1), extra, greet_wait="1s").start()
    try:
        yield d, sink
    finally:
        d.stop()
        sink.stop()


def start_data(s):
    """Greeting, EHLO, MAIL, RCPT, DATA: the client may send the message."""
    start_transaction(s)
    check(command(s, "DATA")[0].startswith("354"), "DATA")


def start_transaction(s, rcpt="r@example.test"):
    greet(s)
    check(command(s, "EHLO c.test")[-1].startswith("250 "), "EHLO")
    check(command(s, "MAIL FROM:<s@example.test>")[0].startswith("250"), "MAIL")
    check(command(s, "RCPT TO:<%s>" % rcpt)[0].startswith("250"), "RCPT")


def test_upstream_refuses_message_client_gets_4xx():
    with relay(24200, ["-r", "."]) as (d, sink):
        s = connect(24200, "127.0.10.1")
        start_data(s)
        s.sendall(b"Subject: refused\r\n\r\nbody\r\n.\r\n")
        r = read_reply(s)
        check(r and r[0][0] == "4", "the upstream's 4xx reaches the client: %r" % r)
        check(not any(l.startswith("250") for l in r), "never 250: %r" % r)


def test_upstream_killed_mid_data_client_gets_4xx():
    with relay(24202) as (d, sink):
        s = connect(24202, "127.0.10.2")
        start_data(s)
        s.sendall(b"Subject: half\r\n\r\nfirst part\r\n")
        time.sleep(0.3)
        sink.proc.kill()
        sink.proc.wait()
        time.sleep(0.2)
        try:
            s.sendall(b"second part\r\n.\r\n")
            r = read_reply(s)
        except OSError:
            r = []
        check(r and r[0][0] == "4", "client gets a 4xx, never 250: %r" % r)


def test_bare_lf_dot_is_content_not_end_of_data():
    with relay(24204) as (d, sink):
        s = connect(24204, "127.0.10.3")
        start_data(s)
        s.sendall(b"Subject: smuggle\r\n\r\nline one\n.\nMAIL FROM:<evil@example.test>\r\n"
                  b"..leading dot\r\n.\r\n")
        r = read_reply(s)
        check(r and r[0].startswith("250"), "message accepted: %r" % r)
        check(command(s, "QUIT")[0].startswith("221"), "QUIT")
        msgs = wait_until(lambda: sink.messages(), 5, "the message at the sink")
        body = msgs[-1]
        check(b"MAIL FROM:<evil@example.test>" in body,
              "the smuggled command stayed inside the message: %r" % body)
        check(b"\n.leading dot" in body, "dot-stuffing kept: %r" % body)
        check(len(msgs) == 1, "exactly one message")


def hostile_clients(port):
    """Each returns a short description of what it saw; none may hang."""
    def long_line():
        s = connect(port, "127.0.11.1")
        greet(s)
        try:
            s.sendall(b"EHLO " + b"x" * 100000 + b"\r\n")
            r = read_reply(s, timeout=15)
        except OSError:
            r = ["<closed>"]
        return ("long line", r)

    def nul_bytes():
        s = connect(port, "127.0.11.2")
        greet(s)
        r = command(s, "EHLO a\0b")
        r2 = command(s, "\0\0\0")
        return ("nul", r + r2)

    def bare_lf():
        s = connect(port, "127.0.11.3")
        greet(s)
        s.sendall(b"EHLO bare.test\nNOOP\n")
        r = read_reply(s) + read_reply(s)
        return ("bare lf", r)

    def junk():
        s = connect(port, "127.0.11.4")
        greet(s)
        s.sendall(bytes(range(256)) * 4 + b"\r\n")
        try:
            r = read_reply(s, timeout=15)
        except OSError:
            r = ["<closed>"]
        return ("junk", r)

    def half_close():
        s = connect(port, "127.0.11.5")
        greet(s)
        s.sendall(b"EHLO half.test\r\n")
        s.shutdown(socket.SHUT_WR)
        r = read_reply(s)
        return ("half close", r)

    def drip():
        s = connect(port, "127.0.11.6")
        greet(s)
        for c in b"EHLO drip":
            s.sendall(bytes([c]))
            time.sleep(0.3)
        s.sendall(b"\r\n")
        r = read_reply(s, timeout=15)
        return ("drip", r)

    return [long_line, nul_bytes, bare_lf, junk, half_close, drip]


def test_hostile_input_while_a_legitimate_client_is_served():
    sink = SmtpSink(24207)
    d = Doorman(24206, "127.0.0.1:24207", greet_wait="1s").start()
    results = {}
    try:
        threads = []
        for fn in hostile_clients(24206):
            t = threading.Thread(target=lambda f=fn: results.__setitem__(f.__name__, f()))
            t.start()
            threads.append(t)
        code, msg = send_mail(24206, "127.0.11.100")
        check(code == 250, "the legitimate client is served: %d %r" % (code, msg))
        for t in threads:
            t.join(30)
            check(not t.is_alive(), "a hostile client hung")
        check(d.proc.poll() is None, "doorman still running")
        for name, (what, replies) in results.items():
            check(replies, "%s: got a reply or a close: %r" % (what, replies))
        long_reply = results["long_line"][1]
        check(long_reply == ["<closed>"] or long_reply[0][0] in "45",
              "overlong line refused: %r" % long_reply)
        check(results["bare_lf"][1][0].startswith("250"), "bare LF commands work: %r"
              % results["bare_lf"][1])
        code, msg = send_mail(24206, "127.0.11.101")
        check(code == 250, "still serving afterwards")
    finally:
        d.stop()
        sink.stop()


def test_worker_killed_mid_session_others_unaffected():
    with relay(24208) as (d, sink):
        victim = connect(24208, "127.0.12.1")
        start_transaction(victim)
        bystander = connect(24208, "127.0.12.2")
        start_transaction(bystander)
        d.mark()
        pids = d.worker_pids()
        check(len(pids) == 2, "two busy workers: %r" % pids)
        # The victim's worker is the one whose client is 127.0.12.1.
        victim_pid = None
        for line in d.log().splitlines():
            if "connect from unknown[127.0.12.1]" in line:
                victim_pid = int(line.split("smtpd[")[1].split("]")[0])
        check(victim_pid in pids, "found the victim's worker")
        check(ppid(victim_pid) == d.proc.pid, "workers are the screen's children")
        os.kill(victim_pid, signal.SIGKILL)
        d.wait_log(r"process \S+/doorman-smtpd pid %d killed by signal 9" % victim_pid)
        check(is_closed(victim), "the victim's connection is closed")
        check(command(bystander, "DATA")[0].startswith("354"), "bystander goes on")
        bystander.sendall(b"Subject: bystander\r\n\r\nok\r\n.\r\n")
        check(read_reply(bystander)[0].startswith("250"), "bystander's mail accepted")
        code, msg = send_mail(24208, "127.0.12.3")
        check(code == 250, "a new client is served by a new worker")


def ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_spawner_killed_workers_start_from_the_screen():
    """The helper that starts workers dies: the screen says so and starts
    them itself; no client notices."""
    with relay(24218, extra="backend_max_use = 1\n") as (d, sink):
        code, msg = send_mail(24218, "127.0.12.10")
        check(code == 250, "served through the spawner's worker")
        out = subprocess.run(["pgrep", "-P", str(d.proc.pid), "-x", "doorman-spawn"],
                             capture_output=True, text=True).stdout.split()
        check(len(out) == 1, "one spawner, the screen's child: %r" % out)
        d.mark()
        os.kill(int(out[0]), signal.SIGKILL)
        d.wait_log(r"master\[\d+\]: warning: worker spawner pid %s killed by signal 9" % out[0])
        d.wait_log(r"master\[\d+\]: warning: worker spawner pid %s is gone: "
                   r"starting workers directly" % out[0])
        for i in range(3):   # max_use 1: every session needs a new worker
            code, msg = send_mail(24218, "127.0.12.%d" % (11 + i))
            check(code == 250, "client %d served by a worker the screen started" % i)
        check(d.proc.poll() is None, "doorman still running")


def _template_pids(d):
    """The screen's children that are worker templates (argv[0] doorman-templ)."""
    out = subprocess.run(["pgrep", "-P", str(d.proc.pid), "-f", "^doorman-templ -c %s " % d.dir],
                         capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def test_workers_forked_from_a_template():
    """Workers after the first are forked from a template doorman-smtpd that
    has loaded the config: the screen's children all the same, shown in ps
    as workers, with their own pid in the log; a changed doorman.cf or a
    killed template only means the next worker is exec'd."""
    with relay(24224, extra="backend_max_use = 1\n") as (d, sink):
        seen = set()
        for i in range(3):   # max_use 1: every session needs a new worker
            code, msg = send_mail(24224, "127.0.13.%d" % (10 + i))
            check(code == 250, "client %d served" % i)
        tpl = _template_pids(d)
        check(len(tpl) == 1, "one template, the screen's child: %r" % tpl)
        with open("/proc/%d/comm" % tpl[0]) as f:
            check(f.read().strip() == "doorman-templ", "the template's name")
        for pid in d.worker_pids():
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            check(ppid == d.proc.pid, "worker %d is the screen's child" % pid)
            check(os.path.basename(os.readlink("/proc/%d/exe" % pid)) == "doorman-smtpd",
                  "worker %d runs doorman-smtpd" % pid)
        for m in re.finditer(r"smtpd\[(\d+)\]: connect from", d.log()):
            seen.add(int(m.group(1)))
        check(len(seen) == 3, "each worker logs with its own pid: %r" % seen)

        # doorman.cf changes: the template leaves, the next worker reads the new file.
        with open(d.conf, "a") as f:
            f.write("smtpd_banner = $myhostname ESMTP changed\n")
        s = connect(24224, "127.0.13.20")
        check(read_reply(s)[-1].startswith("220 "), "greeted after the change")
        command(s, "QUIT")
        wait_until(lambda: tpl[0] not in _template_pids(d), 5, "the stale template leaves")
        code, msg = send_mail(24224, "127.0.13.21")
        check(code == 250, "served after the change")
        tpl2 = _template_pids(d)
        check(len(tpl2) == 1 and tpl2 != tpl, "a fresh template: %r" % tpl2)

        # A template killed: the next worker is exec'd, no client notices.
        os.kill(tpl2[0], signal.SIGKILL)
        for i in range(2):
            code, msg = send_mail(24224, "127.0.13.%d" % (30 + i))
            check(code == 250, "client %d served after the template was killed" % i)
        d.no_log(r"master\[\d+\]: warning")
        check(d.proc.poll() is None, "doorman still running")


def test_junk_commands_count_as_errors_past_the_limit():
    """smtpd_junk_command_limit as Postfix counts it: past the limit a junk
    command is still answered but adds an error; the hard error limit then
    ends the session.  Under stress both are 1: two NOOPs free, the third
    answered and counted, then 421."""
    with relay(24226, extra="backend_stress = on\n") as (d, sink):
        s = connect(24226, "127.0.10.26")
        greet(s)
        check(command(s, "EHLO junk.test")[-1].startswith("250"), "EHLO")
        for i in range(3):
            r = command(s, "NOOP")
            check(r and r[0].startswith("250"), "NOOP %d answered: %r" % (i + 1, r))
        r = read_reply(s)
        check(r and r[0].startswith("421 4.7.0 ") and "too many errors" in r[0],
              "then the hard error limit: %r" % r)
        d.wait_log(r"too many errors after NOOP from unknown\[127\.0\.10\.26\]")


def test_421_reaches_a_client_that_pipelined_more():
    """The worker closes after its 421 with the client's later commands
    unread: it reads them away first, or the close is a reset that can
    destroy the 421 before a slow client reads it."""
    with relay(24228, extra="backend_stress = on\n") as (d, sink):
        s = connect(24228, "127.0.10.28")
        greet(s)
        # more than the worker reads at once (8 KB), so some stays in the kernel
        s.sendall(b"EHLO junk.test\r\n" + b"NOOP\r\n" * 3000)
        d.wait_log(r"too many errors after NOOP from unknown\[127\.0\.10\.28\]")
        data = read_to_eof_after_a_pause(s)
        check(b"\r\n421 4.7.0 " in data and data.endswith(b"too many errors\r\n"),
              "the 421 arrives, then EOF: %r" % data[-200:])


def test_upstream_rcpt_reject_is_logged_like_smtpd():
    with relay(24210, ["-f", "rcpt"]) as (d, sink):
        s = connect(24210, "127.0.10.9")
        greet(s)
        command(s, "EHLO sender.test")
        command(s, "MAIL FROM:<s@example.test>")
        r = command(s, "RCPT TO:<nobody@example.test>")
        check(r and r[0].startswith("5"), "the upstream's 5xx reaches the client: %r" % r)
        command(s, "QUIT")
        d.wait_log(r"smtpd\[\d+\]: NOQUEUE: reject: RCPT from unknown\[127\.0\.10\.9\]: 5\d\d .*; "
                   r"from=<s@example\.test> to=<nobody@example\.test> proto=ESMTP "
                   r"helo=<sender\.test>")


def test_local_greeting_connects_upstream_only_when_needed():
    """backend_upstream_greeting = local: the worker greets itself and
    reaches the MTA at the first command that needs it (as Postfix's
    smtpd_proxy_filter); a QUIT-only client never costs an upstream
    connection."""
    down = Doorman(24212, "127.0.0.1:24298", "backend_upstream_greeting = local\n").start()
    try:
        s = connect(24212, "127.0.0.1")
        check(read_reply(s) == ["220 doorman.test ESMTP doorman"], "own greeting")
        check(command(s, "NOOP") == ["250 2.0.0 Ok"], "NOOP answered locally")
        check(command(s, "QUIT") == ["221 2.0.0 Bye"], "QUIT without an upstream")
        s = connect(24212, "127.0.0.1")
        read_reply(s)
        r = command(s, "EHLO c.test")
        check(r == ["421 4.3.2 Service currently unavailable"], "upstream down at EHLO: %r" % r)
    finally:
        down.stop()
    sink = SmtpSink(24213)
    d = Doorman(24214, "127.0.0.1:24213", "backend_upstream_greeting = local\n",
                greet_wait="1s").start()
    try:
        s = connect(24214, "127.0.10.20")
        r = read_reply(s)
        check(r == ["220-doorman.test ESMTP doorman", "220 doorman.test ESMTP doorman"],
              "teaser completed by the worker's own line: %r" % r)
        check(command(s, "EHLO c.test")[-1].startswith("250 "), "EHLO from the MTA")
        check(command(s, "MAIL FROM:<s@example.test>")[0].startswith("250"), "MAIL")
        check(command(s, "RCPT TO:<r@example.test>")[0].startswith("250"), "RCPT")
        check(command(s, "DATA")[0].startswith("354"), "DATA")
        s.sendall(b"Subject: local greeting\r\n\r\nbody\r\n.\r\n")
        check(read_reply(s)[0].startswith("250"), "delivered")
        command(s, "QUIT")
        check(b"Subject: local greeting" in b"".join(
            wait_until(lambda: sink.messages(), 5, "the message")), "at the sink")
    finally:
        d.stop()
        sink.stop()


def test_local_greeting_holds_a_silent_client_in_the_screen():
    """With local greetings a greeted client stays in the screen until it
    speaks: no worker for a client that says nothing, and smtpd's 421 when
    smtpd_timeout runs out."""
    d = Doorman(24220, "127.0.0.1:24221", "backend_upstream_greeting = local\n"
                "smtpd_timeout = 2s\n", greet_wait="1s").start()
    try:
        s = connect(24220, "127.0.0.1")
        check(read_reply(s) == ["220 doorman.test ESMTP doorman"], "greeted by the screen")
        st = d.status()
        check("greeted, waiting for a command: 1" in st, "held in the screen: %s" % st)
        check(d.worker_pids() == [], "no worker for a silent client")
        t0 = time.time()
        r = read_reply(s, 10)
        check(r == ["421 4.4.2 doorman.test Error: timeout exceeded"], "smtpd's 421: %r" % r)
        check(1.5 < time.time() - t0 < 4, "after smtpd_timeout")
        check(is_closed(s), "then closed")
        d.wait_log(r"postscreen\[\d+\]: COMMAND TIME LIMIT from \[127\.0\.0\.1\]:\d+ after CONNECT")
        # One that speaks gets its worker (the MTA is down here: the worker says so).
        s = connect(24220, "127.0.0.1")
        read_reply(s)
        check(command(s, "NOOP") == ["250 2.0.0 Ok"], "answered by a worker")
        check(len(d.worker_pids()) == 1, "one worker now")
        # Shutting down: a greeted client that has said nothing is told so.
        q = connect(24220, "127.0.0.1")
        read_reply(q)
        d.proc.send_signal(signal.SIGTERM)
        r = read_reply(q, 5)
        check(r == ["421 4.3.2 Service shutting down"], "told at SIGTERM: %r" % r)
        command(s, "QUIT")
    finally:
        d.stop()


def test_local_greeting_is_sent_by_the_screen_and_queue_refusal_follows_it():
    """With local greetings the screen sends the final 220 itself; a client
    then refused by a full post-queue gets the 421 to its first command,
    never a second greeting."""
    sink = SmtpSink(24216)
    d = Doorman(24215, "127.0.0.1:24216", "backend_upstream_greeting = local\n"
                "backend_process_limit = 1\nscreen_post_queue_limit = 1\n"
                "screen_post_queue_timeout = 2s\n", greet_wait="1s").start()
    try:
        a = connect(24215, "127.0.0.1")
        check(read_reply(a) == ["220 doorman.test ESMTP doorman"], "a greeted")
        check(command(a, "EHLO a.test")[-1].startswith("250 "), "a served by the worker")
        b = connect(24215, "127.0.0.1")
        check(read_reply(b) == ["220 doorman.test ESMTP doorman"], "b greeted at once")
        t0 = time.time()
        # Its EHLO puts it in the post-queue, behind the only worker, for 2 s.
        r = command(b, "EHLO b.test", timeout=10)
        check(r == ["421 4.3.2 All server ports are busy"], "the 421 answers its command: %r" % r)
        check(1.5 < time.time() - t0 < 5, "after the post-queue wait")
        check(is_closed(b), "then closed")
        command(a, "QUIT")
        code, msg = send_mail(24215, "127.0.10.30")
        check(code == 250, "mail still flows: %d %r" % (code, msg))
    finally:
        d.stop()
        sink.stop()
