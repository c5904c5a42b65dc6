"""doorman's demo: its main job on loopback, scene by scene.

A DNS server serves a demo DNSBL (dnsbl.demo) and DNSWL (dnswl.demo), a
private Postfix instance is the MTA on 127.0.0.1:10025 (PROXY protocol),
and doorman listens on 127.0.0.1:2525.  Clients play from distinct
127.x.y.z addresses; doorman's log lines and Postfix's are printed as
they come.  Everything started here is stopped at the end.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (BIN, DnsServer, Doorman, command, connect, read_line,  # noqa: E402
                 read_reply, send_mail, wait_until)
from postfix_instance import PostfixInstance  # noqa: E402

PORT, MTA_PORT, DNS_PORT, METRICS = 2525, 10025, 10053, 10026
shown = 0


def say(text):
    print("\n\033[1m== %s\033[0m" % text, flush=True)


def show_log(d, pattern=None):
    """Print doorman's log lines that arrived since the last call."""
    global shown
    time.sleep(0.3)
    text = d.log()
    for line in text[shown:].splitlines():
        if pattern is None or re.search(pattern, line):
            print("   " + line.split(" ", 4)[-1], flush=True)
    shown = len(text)


def status(d):
    out = subprocess.run([os.path.join(BIN, "doorman"), "-c", d.dir, "status"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        print("   | " + line)


def early_talker(src):
    s = connect(PORT, src)
    print("   client %s: %s" % (src, read_line(s)))
    s.sendall(b"EHLO zombie.example\r\n")
    print("   client %s sends EHLO before the greeting is complete" % src)
    for _ in range(2):      # the rest of the greeting, then the EHLO reply
        r = read_reply(s)
        print("   client %s: %s" % (src, " | ".join(r)))
    command(s, "MAIL FROM:<zombie@example.net>")
    print("   client %s: RCPT -> %s" % (src, " | ".join(command(s, "RCPT TO:<you@example.test>"))))
    command(s, "QUIT")


def main():
    work = tempfile.mkdtemp(prefix="doorman-demo-")
    maps = os.path.join(work, "rbl_reply_maps")
    with open(maps, "w") as f:
        f.write("# zombie codes: hang up (STRESS_README's example, here always on)\n"
                "dnsbl.demo=127.0.0.10  521 4.7.1 Service unavailable; $rbl_class [$rbl_what]"
                " blocked using $rbl_domain\n"
                "dnsbl.demo             550 5.7.1 $rbl_class $rbl_what is listed in"
                " $rbl_domain\n")
    dns = mta = d = None
    try:
        say("starting a DNS server (demo zones dnsbl.demo, dnswl.demo) on 127.0.0.1:%d"
            % DNS_PORT)
        dns = DnsServer(DNS_PORT, zones=("dnsbl.demo", "dnswl.demo"),
                        extra=("--only", "dnswl.demo=127.0.4.", "--only", "dnsbl.demo=127.0.1.",
                               "--only", "dnswl.demo=127.0.0.2", "--only", "dnsbl.demo=127.0.0.2"))
        say("starting a private Postfix instance as the MTA on 127.0.0.1:%d "
            "(smtpd_upstream_proxy_protocol = haproxy)" % MTA_PORT)
        mta = PostfixInstance(os.path.join(work, "postfix"), MTA_PORT, "haproxy",
                              stop_at_exit=True)
        mta.start()
        say("starting doorman on 127.0.0.1:%d" % PORT)
        d = Doorman(PORT, "127.0.0.1:%d" % MTA_PORT, """\
backend_proxy_protocol = haproxy
backend_process_limit = 2
backend_stress_cooldown = 5s
screen_post_queue_timeout = 30s
screen_greet_action = enforce
dns_servers = 127.0.0.1:%d
screen_dnsbl_sites = dnsbl.demo=127.0.0.[2..11]*3, dnswl.demo=127.0.[0..255].[1..3]*-5
screen_dnsbl_threshold = 3
screen_dnsbl_allowlist_threshold = -1
screen_dnsbl_action = enforce
rbl_reply_maps = texthash:%s
metrics_listen = 127.0.0.1:%d
""" % (DNS_PORT, maps, METRICS), greet_wait="2s")
        print("   doorman.cf:")
        for line in open(d.conf):
            print("   | " + line.rstrip())
        d.start()
        show_log(d)

        say("1. a legitimate client (127.0.7.77) sends a message")
        code, msg = send_mail(PORT, "127.0.7.77", rcpt="you@example.test")
        print("   client: message -> %d %s" % (code, msg.decode()))
        show_log(d)
        m = mta.wait_client("127.0.7.77")
        print("   Postfix (the MTA) logs the real client: ...%s" % m.group(0))

        say("2. the same client comes back: its pass is cached (PASS OLD, no greet wait)")
        t0 = time.monotonic()
        code, msg = send_mail(PORT, "127.0.7.77", rcpt="you@example.test")
        print("   client: message -> %d in %.2fs" % (code, time.monotonic() - t0))
        show_log(d)

        say("3. an early talker (127.0.8.8): PREGREET, then refused")
        early_talker("127.0.8.8")
        show_log(d)

        say("4. a listed zombie (127.0.1.10, listed as 127.0.0.10): 521 from rbl_reply_maps")
        s = connect(PORT, "127.0.1.10")
        r = read_reply(s)
        print("   zombie: %s" % " | ".join(r))
        command(s, "EHLO zombie.example")
        command(s, "MAIL FROM:<zombie@example.net>")
        print("   zombie: RCPT -> %s" % " | ".join(command(s, "RCPT TO:<you@example.test>")))
        print("   zombie: connection closed: %s" % (s.recv(1) == b""))
        show_log(d)

        say("5. a DNSWL sender (127.0.4.2): passes as soon as DNS answers")
        t0 = time.monotonic()
        code, msg = send_mail(PORT, "127.0.4.2", rcpt="you@example.test")
        print("   client: message -> %d in %.2fs (greet wait is 2s)"
              % (code, time.monotonic() - t0))
        show_log(d)

        say("6. a burst: 5 slow clients (127.0.9.1-5) for 2 workers saturate the pool")
        socks = [connect(PORT, "127.0.9.%d" % (i + 1)) for i in range(5)]
        d.wait_log(r"entering stress mode", timeout=15)
        time.sleep(0.5)
        show_log(d)
        print("   ps: the busy workers still run with -o stress= until their session ends")
        for c in d.worker_cmdlines():
            print("   | " + c)
        say("   the first client says QUIT: its worker ends, a -o stress=yes worker takes a waiting client")
        try:
            socks[0].sendall(b"QUIT\r\n")
        except OSError:
            pass
        wait_until(lambda: any("stress=yes" in c for c in d.worker_cmdlines()), 15,
                   "a -o stress=yes worker")
        time.sleep(0.5)
        show_log(d)
        print("   ps:")
        for c in d.worker_cmdlines():
            print("   | " + c)
        status(d)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
        say("   the clients leave; after backend_stress_cooldown (5s) doorman leaves stress")
        d.wait_log(r"leaving stress mode", timeout=20)
        code, msg = send_mail(PORT, "127.0.7.77", rcpt="you@example.test")
        show_log(d)
        print("   ps:")
        for c in d.worker_cmdlines():
            print("   | " + c)

        say("doorman status")
        status(d)
        say("done; stopping what the demo started")
    finally:
        if d is not None:
            d.stop()
        if mta is not None:
            mta.remove()
        if dns is not None:
            dns.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
