"""doorman's command line (DESIGN §3): check, config, exit codes, and
bad configuration refused at start-up with file, line and reason."""
import os
import shutil
import subprocess
import tempfile

from lib import BIN, check

DOORMAN = os.path.join(BIN, "doorman")


def run(confdir, *args):
    p = subprocess.run([DOORMAN, "-c", confdir] + list(args), capture_output=True,
                       text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def confdir(text):
    d = tempfile.mkdtemp(prefix="doorman-cli-")
    with open(os.path.join(d, "doorman.cf"), "w") as f:
        f.write(text)
    return d


def test_check_good_config():
    d = confdir("listen = 127.0.0.1:24300\nbackend_upstream = 127.0.0.1:24301\n")
    try:
        rc, out, err = run(d, "check")
        check(rc == 0, "check passes: rc=%d %s" % (rc, err))
    finally:
        shutil.rmtree(d)


def test_check_reports_file_and_line():
    cases = [
        ("listen = 127.0.0.1:24300\n\nscreen_greet_wait = 6x\n", 3, "screen_greet_wait"),
        ("# comment\n  continuation without a parameter\n", 2, ""),
        ("listen = 127.0.0.1:24300\nno equals sign here\n", 2, ""),
        ("screen_greet_action = maybe\n", 1, "screen_greet_action"),
        ("backend_process_limit = 0\n", 1, "backend_process_limit"),
        ("postscreen_greet_wait = ${stress?{2}:{6x}}s\n", 1, "greet_wait"),
        # DNSBL sites are parsed as the daemon does (reference §2.5)
        ("listen = 127.0.0.1:1\nscreen_dnsbl_sites = bl.test*x\n", 2, "weight factor"),
        ("screen_dnsbl_sites = bl.test=1.2.3.3[6..9]\n", 1, "filter syntax"),
        ("screen_dnsbl_sites = bl..test\n", 1, "domain name"),
        # a table that cannot be opened: the line that names it
        ("screen_access_list = cidr:/nonexistent/file\n", 1, "/nonexistent/file"),
        ("rbl_reply_maps = hash:/nonexistent/rbl_reply_maps\nlisten = 127.0.0.1:1\n", 1,
         "/nonexistent/rbl_reply_maps"),
    ]
    for text, line, word in cases:
        d = confdir(text)
        try:
            rc, out, err = run(d, "check")
            check(rc == 1, "exit 1 for %r: rc=%d err=%s" % (text, rc, err))
            path = os.path.join(d, "doorman.cf")
            if line:
                # DESIGN §3: "file:line: reason"
                check("%s:%d: " % (path, line) in err,
                      "file and line for %r: %s" % (text, err))
            check(word in err, "reason names %r: %s" % (word, err))
        finally:
            shutil.rmtree(d)


def test_run_refuses_bad_config():
    d = confdir("listen = 127.0.0.1:24302\nscreen_greet_wait = soon\n")
    try:
        rc, out, err = run(d, "run")
        check(rc == 1, "run exits 1: rc=%d" % rc)
        check("doorman.cf:2: " in err and "screen_greet_wait" in err, "reason: %s" % err)
    finally:
        shutil.rmtree(d)


def test_unknown_parameter_warns():
    d = confdir("listen = 127.0.0.1:24303\nno_such_parameter = 1\n")
    try:
        rc, out, err = run(d, "check")
        check(rc == 0, "an unknown name is only a warning: %s" % err)
        check("no_such_parameter" in err and "warning" in err, "warned: %r" % err)
    finally:
        shutil.rmtree(d)


def test_config_like_postconf():
    d = confdir("listen = 127.0.0.1:24304\npostscreen_greet_action = enforce\n"
                "screen_greet_wait = ${stress?{2}:{6}}s\n")
    try:
        rc, out, err = run(d, "config", "-n")
        check(rc == 0, "config -n: %s" % err)
        lines = out.splitlines()
        check("listen = 127.0.0.1:24304" in lines, "set value shown: %r" % lines)
        check("screen_greet_action = enforce" in lines, "postscreen_ alias: %r" % lines)
        check(not any(l.startswith("smtpd_timeout") for l in lines), "-n shows only set ones")
        rc, out, err = run(d, "config", "-d", "smtpd_timeout")
        check(out.strip() == "smtpd_timeout = ${stress?{10}:{300}}s", "-d: %r" % out)
        rc, out, err = run(d, "config", "-x", "screen_greet_wait")
        check(out.strip() == "screen_greet_wait = 6s", "-x: %r" % out)
        rc, out, err = run(d, "-o", "stress=yes", "config", "-x", "screen_greet_wait")
        check(out.strip() == "screen_greet_wait = 2s", "-x under stress: %r" % out)
        rc, out, err = run(d, "config", "screen_greet_wait")
        check(out.strip() == "screen_greet_wait = ${stress?{2}:{6}}s", "raw: %r" % out)
        # postconf's small print: "name =" for an empty value, -n with
        # names prints only set ones, an unknown name warns with exit 0
        rc, out, err = run(d, "config", "-d", "stress")
        check(out == "stress =\n", "empty value: %r" % out)
        rc, out, err = run(d, "config", "-n", "smtpd_timeout", "listen")
        check(out == "listen = 127.0.0.1:24304\n", "-n with names: %r" % out)
        rc, out, err = run(d, "config", "no_such_name", "listen")
        check(rc == 0 and "warning: no_such_name: unknown parameter" in err and
              out == "listen = 127.0.0.1:24304\n", "unknown name: rc=%d %r %r" % (rc, out, err))
        rc, out, err = run(d, "config", "-d", "daemon_directory")
        check(out.strip() == "daemon_directory = " + os.path.dirname(DOORMAN),
              "daemon_directory default: %r" % out)
    finally:
        shutil.rmtree(d)


def test_usage_exit_2():
    p = subprocess.run([DOORMAN, "frobnicate"], capture_output=True, timeout=10)
    check(p.returncode == 2, "usage error exits 2: %d" % p.returncode)
    p = subprocess.run([DOORMAN, "-o", "foo", "check"], capture_output=True, timeout=10)
    check(p.returncode == 2, "doorman -o without '=' exits 2: %d" % p.returncode)
    smtpd = os.path.join(BIN, "doorman-smtpd")
    p = subprocess.run([smtpd, "-o", "foo"], capture_output=True, timeout=10)
    check(p.returncode == 2, "doorman-smtpd -o without '=' exits 2: %d" % p.returncode)
    # run by hand, without the screen's socket on fd 3
    p = subprocess.run([smtpd], capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
    check(p.returncode == 2 and b"is started by doorman" in p.stderr,
          "doorman-smtpd without the screen: rc=%d %r" % (p.returncode, p.stderr))


def test_long_data_directory_refused():
    d = confdir("listen = 127.0.0.1:24305\ndata_directory = /tmp/%s\n" % ("x" * 120))
    try:
        rc, out, err = run(d, "run")
        check(rc == 1 and "data_directory" in err, "refused: rc=%d %s" % (rc, err))
    finally:
        shutil.rmtree(d)


def test_check_warns_about_redundant_dnsbls():
    d = confdir("listen = 127.0.0.1:24306\ndns_servers = 127.0.0.1:24399\n"
                "screen_dnsbl_timeout = 1s\n"
                "screen_dnsbl_sites = zen.spamhaus.org*2, sbl.spamhaus.org\n")
    try:
        rc, out, err = run(d, "check")
        check(rc == 0, "warnings only: rc=%d %s" % (rc, err))
        check("sbl.spamhaus.org" in err and "zen.spamhaus.org" in err and "warning" in err,
              "redundant list named: %r" % err)
    finally:
        shutil.rmtree(d)


def test_query_prints_verdict_and_reply():
    from lib import DnsServer
    dns = DnsServer(24307, zones=("dnsbl.test",))
    d = confdir("listen = 127.0.0.1:24308\ndns_servers = 127.0.0.1:24307\n"
                "screen_dnsbl_sites = dnsbl.test=127.0.0.[2..11]*3\n"
                "screen_dnsbl_threshold = 3\nmynetworks = 127.0.0.1/32\n")
    try:
        rc, out, err = run(d, "query", "127.0.1.10")
        check(rc == 0, "query: rc=%d %s" % (rc, err))
        check("access list (permit_mynetworks): dunno" in out, "access verdict: %s" % out)
        check("10.1.0.127.dnsbl.test" in out, "query name shown: %s" % out)
        check("127.0.0.10" in out, "answer shown: %s" % out)
        check("550 5.7.1 Service unavailable; client [127.0.1.10] blocked using dnsbl.test"
              in out, "the exact reply: %s" % out)
        rc, out, err = run(d, "query", "not-an-ip")
        check(rc == 2, "bad IP: rc=%d" % rc)
    finally:
        shutil.rmtree(d)
        dns.stop()


def test_check_refuses_a_bad_cache_map():
    for spec, word in (("redis:not-an-address", "HOST:PORT"),
                       ("lmdb:/nonexistent/dir/cache", "/nonexistent/dir/cache")):
        d = confdir("listen = 127.0.0.1:24309\nscreen_cache_map = %s\n" % spec)
        try:
            with open(os.path.join(d, "doorman.cf"), "a") as f:
                f.write("data_directory = %s\n" % d)
            rc, out, err = run(d, "check")
            check(rc == 1, "%s refused: rc=%d" % (spec, rc))
            check("doorman.cf:2: " in err and word in err, "file, line and reason: %r" % err)
        finally:
            shutil.rmtree(d)
