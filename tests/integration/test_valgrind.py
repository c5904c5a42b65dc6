"""Memory checks on the real daemons (Standards: valgrind finds no leaks).

The screen runs under valgrind, and so does every worker: daemon_directory
points at a wrapper that starts the real doorman-smtpd under valgrind. The
clients exercise the common paths (a relayed message, the pregreet test, a
denylisted client, a reload), then SIGTERM; every valgrind log must be empty
(-q: errors and definite leaks only)."""
import glob
import os
import shutil
import signal
import socket
import tempfile
import time

from lib import (BIN, Doorman, SmtpSink, check, send_mail, wait_until)

VALGRIND = ["valgrind", "-q", "--leak-check=full", "--show-leak-kinds=definite",
            "--errors-for-leak-kinds=definite"]


def test_no_leaks_or_memory_errors():
    if "build-san" in BIN:
        print("   (skipped under SAN=1: sanitized binaries do not run under valgrind;"
              " the sanitizers check them instead)")
        return
    if shutil.which("valgrind") is None:
        raise AssertionError("valgrind is not installed (.ci/run installs it)")
    logs = tempfile.mkdtemp(prefix="doorman-vg-")
    wrapper_dir = os.path.join(logs, "bin")
    os.mkdir(wrapper_dir)
    with open(os.path.join(wrapper_dir, "doorman-smtpd"), "w") as f:
        f.write("#!/bin/sh\nexec %s --log-file=%s/smtpd.%%p %s \"$@\"\n"
                % (" ".join(VALGRIND), logs, os.path.join(BIN, "doorman-smtpd")))
    os.chmod(os.path.join(wrapper_dir, "doorman-smtpd"), 0o755)
    sink = SmtpSink(24191)
    d = Doorman(24190, "127.0.0.1:24191",
                "daemon_directory = %s\nbackend_max_use = 2\n"
                "screen_access_list = permit_mynetworks, cidr:{ {127.0.9.60/32 REJECT} }\n"
                % wrapper_dir)
    try:
        d.start(prefix=VALGRIND + ["--log-file=%s/screen.%%p" % logs])
        for i in range(3):
            code, msg = send_mail(24190, "127.0.9.%d" % (i + 1), timeout=60)
            check(code == 250, "message %d relayed under valgrind: %d %r" % (i, code, msg))
        early = socket.create_connection(("127.0.0.1", 24190), timeout=20,
                                         source_address=("127.0.9.50", 0))
        early.recv(100)
        early.sendall(b"EHLO early.test\r\n")
        d.wait_log(r"PREGREET 17 after .* from \[127\.0\.9\.50\]", timeout=20)
        early.close()
        deny = socket.create_connection(("127.0.0.1", 24190), timeout=20,
                                        source_address=("127.0.9.60", 0))
        d.wait_log(r"DENYLISTED \[127\.0\.9\.60\]", timeout=20)
        deny.close()
        d.mark()
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log(r"reload", timeout=20)
        code, msg = send_mail(24190, "127.0.9.9", timeout=60)
        check(code == 250, "message after the reload: %d %r" % (code, msg))
        # SIGTERM: the screen drains and exits, and its workers see their
        # channel close and exit by themselves, each writing its report
        d.proc.terminate()
        d.proc.wait(60)
        wait_until(lambda: not d.worker_pids(), 60, "workers gone")
        screens = glob.glob(os.path.join(logs, "screen.*"))
        smtpds = glob.glob(os.path.join(logs, "smtpd.*"))
        check(screens and smtpds, "valgrind ran both programs: %r" % os.listdir(logs))
        for path in screens + smtpds:
            with open(path, errors="replace") as f:
                report = f.read()
            check(report.strip() == "", "valgrind, %s:\n%s" % (os.path.basename(path), report[:3000]))
    finally:
        d.stop()
        sink.stop()
        shutil.rmtree(logs, ignore_errors=True)
