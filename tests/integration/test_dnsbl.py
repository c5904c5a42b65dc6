"""DNSBL/DNSWL screening in the daemon (issue 5), against a real DNS
server on loopback: listed clients get the reply map's line (521 hangs
up, and nothing reaches the upstream), DNSWL clients pass before the
greet wait ends, one query per (client, domain) however many sessions."""
import os
import time

from lib import (DnsServer, Doorman, SmtpSink, check, command, connect,
                 is_closed, read_line, read_reply, send_mail)

SINK_PORT = 24601
DNS_PORT = 24602
sink = dns = None


def setup_module():
    global sink, dns
    sink = SmtpSink(SINK_PORT)
    dns = DnsServer(DNS_PORT, zones=("dnsbl.test", "dnswl.test"))


def teardown_module():
    sink.stop()
    dns.stop()


def doorman(port, extra, greet_wait="2s"):
    d = Doorman(port, "127.0.0.1:%d" % SINK_PORT,
                "dns_servers = 127.0.0.1:%d\nscreen_dnsbl_timeout = 2s\n" % DNS_PORT,
                greet_wait=greet_wait)
    maps = os.path.join(d.dir, "rbl_reply_maps")
    with open(maps, "w") as f:
        f.write("# per-code replies\n"
                "dnsbl.test=127.0.0.10  521 4.7.1 Service unavailable; $rbl_class [$rbl_what]"
                " blocked using $rbl_domain\n")
    with open(d.conf, "a") as f:
        f.write(extra.replace("MAPS", maps))
    return d.start()


def test_listed_521_hangs_up_and_nothing_reaches_upstream():
    d = doorman(24600, "screen_dnsbl_sites = dnsbl.test=127.0.0.[2..11]*2\n"
                "screen_dnsbl_action = enforce\nrbl_reply_maps = texthash:MAPS\n")
    try:
        before = len(sink.messages())
        s = connect(24600, "127.0.1.10")
        r = read_reply(s)
        check(r[-1].startswith("220 "), "the engine completes the greeting: %r" % r)
        command(s, "EHLO zombie.test")
        command(s, "MAIL FROM:<z@example.test>")
        r = command(s, "RCPT TO:<v@example.test>")
        check(r == ["521 5.7.1 Service unavailable; Client host [127.0.1.10] blocked using "
                    "dnsbl.test"], "the map's line, class forced to 5: %r" % r)
        check(is_closed(s), "521 hangs up")
        d.wait_log(r"DNSBL rank 2 for \[127\.0\.1\.10\]:\d+")
        d.wait_log(r"NOQUEUE: reject: RCPT from \[127\.0\.1\.10\]:\d+: 521 5\.7\.1")
        check(len(sink.messages()) == before, "nothing reached the upstream")
        d.no_log(r"smtpd\[\d+\]: connect from unknown\[127\.0\.1\.10\]")
    finally:
        d.stop()


def test_listed_drop_right_after_teaser():
    d = doorman(24603, "screen_dnsbl_sites = dnsbl.test\nscreen_dnsbl_action = drop\n")
    try:
        s = connect(24603, "127.0.1.3")
        check(read_line(s).startswith("220-"), "teaser")
        r = read_reply(s)
        check(r == ["521 5.7.1 Service unavailable; client [127.0.1.3] blocked using "
                    "dnsbl.test"], "postscreen's default drop reply: %r" % r)
        check(is_closed(s), "closed")
        d.wait_log(r"DNSBL rank 1 for \[127\.0\.1\.3\]")
        d.wait_log(r"DISCONNECT \[127\.0\.1\.3\]")
    finally:
        d.stop()


def test_unlisted_passes_and_delivers():
    d = doorman(24604, "screen_dnsbl_sites = dnsbl.test\nscreen_dnsbl_action = drop\n",
                greet_wait="1s")
    try:
        code, msg = send_mail(24604, "127.0.7.77")
        check(code == 250, "unlisted client delivers: %d %r" % (code, msg))
        d.wait_log(r"PASS NEW \[127\.0\.7\.77\]")
    finally:
        d.stop()


def test_dnswl_passes_early():
    d = doorman(24605, "screen_dnsbl_sites = dnswl.test=127.0.[0..255].[1..3]*-5, "
                "dnsbl.test*1\nscreen_dnsbl_allowlist_threshold = -1\n", greet_wait="6s")
    try:
        s = connect(24605, "127.0.4.2")
        t0 = time.monotonic()
        r = read_reply(s)
        waited = time.monotonic() - t0
        check(r[-1].startswith("220 "), "greeting: %r" % r)
        check(waited < 2.0, "a DNSWL client passes as soon as DNS answers: %.2fs" % waited)
        command(s, "QUIT")
        d.wait_log(r"PASS NEW \[127\.0\.4\.2\]")
    finally:
        d.stop()


def test_error_codes_never_count():
    d = doorman(24606, "screen_dnsbl_sites = dnsbl.test\nscreen_dnsbl_action = drop\n",
                greet_wait="1s")
    try:
        code, msg = send_mail(24606, "127.0.3.254")
        check(code == 250, "an error answer (127.255.255.254) is not a listing: %d" % code)
        d.wait_log(r"warning: dnsbl\.test answered error code 127\.255\.255\.254")
        d.no_log(r"DNSBL rank")
    finally:
        d.stop()


def test_one_query_per_domain_for_concurrent_sessions():
    d = doorman(24607, "screen_dnsbl_sites = dnsbl.test*1, dnsbl.test=127.0.0.4*2, "
                "dnswl.test*-1\nscreen_client_connection_count_limit = 0\n"
                "screen_dnsbl_action = ignore\n", greet_wait="3s")
    try:
        dns.reset()
        socks = []
        for _ in range(100):
            socks.append(connect(24607, "127.0.1.4"))
        for s in socks:
            read_line(s)
        time.sleep(1)
        queries, names = dns.count()
        check(queries == 2 and names == 2,
              "exactly one query per domain for 100 sessions: queries=%d names=%d"
              % (queries, names))
        for s in socks:
            s.close()
    finally:
        d.stop()


def test_dns_server_down_counts_as_not_listed():
    d = Doorman(24608, "127.0.0.1:%d" % SINK_PORT,
                "dns_servers = 127.0.0.1:24699\nscreen_dnsbl_timeout = 1s\n"
                "screen_dnsbl_sites = dnsbl.test\nscreen_dnsbl_action = drop\n",
                greet_wait="1s").start()
    try:
        code, msg = send_mail(24608, "127.0.1.10")
        check(code == 250, "no answer = not listed: %d" % code)
    finally:
        d.stop()


def rcpt_reply(port, src):
    s = connect(port, src)
    read_reply(s)
    command(s, "EHLO zombie.test")
    command(s, "MAIL FROM:<z@example.test>")
    r = command(s, "RCPT TO:<v@example.test>")
    s.close()
    return r


def test_stress_readme_reply_map_only_under_stress():
    """STRESS_README: rbl_reply_maps = ${stress?texthash:...} hangs up on
    zombie codes with 521 exactly while the site is under stress."""
    sites = ("screen_dnsbl_sites = dnsbl.test=127.0.0.[2..11]\n"
             "screen_dnsbl_action = enforce\nrbl_reply_maps = ${stress?texthash:MAPS}\n")
    d = doorman(24609, sites)
    try:
        r = rcpt_reply(24609, "127.0.1.10")
        check(r == ["550 5.7.1 Service unavailable; client [127.0.1.10] blocked using "
                    "dnsbl.test"], "no stress: postscreen's reply: %r" % r)
    finally:
        d.stop()
    d = doorman(24610, sites + "backend_stress = on\n")
    try:
        r = rcpt_reply(24610, "127.0.1.10")
        check(r == ["521 5.7.1 Service unavailable; Client host [127.0.1.10] blocked using "
                    "dnsbl.test"], "under stress: the map's 521: %r" % r)
    finally:
        d.stop()
