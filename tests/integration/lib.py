"""Integration test kit for doorman: real processes on loopback.

Starts the real `doorman` (and through it the real `doorman-smtpd`
workers), a real upstream (Postfix's smtp-sink, or a private Postfix
instance from postfix_instance.py), and plays clients from distinct
127.x.y.z source addresses with raw sockets or smtplib.  Everything a
test starts is stopped by the test, and every wait is bounded.
"""
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# make sets DOORMAN_BIN (build-san/bin under SAN=1); by hand, bin/.
BIN = os.environ.get("DOORMAN_BIN") or os.path.join(ROOT, "bin")


def stop_process(proc, grace=5):
    """SIGTERM, then SIGKILL if it is still there after grace seconds; reaped either way."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_until(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise TestFailure("timed out after %.1fs waiting for %s" % (timeout, what))


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class SmtpSink:
    """smtp-sink as the upstream MTA; each message is dumped to a file."""

    def __init__(self, port, extra=()):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="doorman-sink-")
        os.chmod(self.dir, 0o777)
        args = ["smtp-sink", "-u", "nobody", "-d", os.path.join(self.dir, "msg.")]
        args += list(extra) + ["127.0.0.1:%d" % port, "100"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr"), "w"))
        wait_until(lambda: port_open(port), 5, "smtp-sink on port %d" % port)

    def messages(self):
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.startswith("msg."):
                with open(os.path.join(self.dir, name), "rb") as f:
                    out.append(f.read())
        return out

    def stop(self):
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class Doorman:
    """One doorman daemon with its own config directory and log file."""

    BASE = """\
listen = 127.0.0.1:{port}
backend_upstream = {upstream}
maillog_file = {dir}/maillog
data_directory = {dir}/data
mynetworks = 127.0.0.1/32
myhostname = doorman.test
screen_greet_wait = {greet_wait}
"""

    def __init__(self, port, upstream, extra="", greet_wait="1s"):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="doorman-it-")
        self.conf = os.path.join(self.dir, "doorman.cf")
        with open(self.conf, "w") as f:
            f.write(self.BASE.format(port=port, upstream=upstream, dir=self.dir,
                                     greet_wait=greet_wait))
            f.write(extra)
        self.proc = None
        self.logpos = 0

    def start(self, args=(), prefix=()):
        """prefix: a command to run doorman under (e.g. prlimit)."""
        self.mark()
        self.proc = subprocess.Popen(
            list(prefix) + [os.path.join(BIN, "doorman"), "-c", self.dir] + list(args) + ["run"],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.dir, "stderr"), "w"))
        wait_until(lambda: "daemon started" in self.log()[self.logpos:] or
                   self.proc.poll() is not None, 10, "doorman start")
        if self.proc.poll() is not None:
            raise TestFailure("doorman exited at start: %s" % self.stderr())
        return self

    def stderr(self):
        try:
            with open(os.path.join(self.dir, "stderr")) as f:
                return f.read()
        except FileNotFoundError:   # stopped already
            return ""

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def mark(self):
        """Remember the log's end: wait_log(since_mark=True) looks after it."""
        self.logpos = len(self.log())

    def wait_log(self, regex, timeout=5, since_mark=True):
        rx = re.compile(regex)

        def found():
            text = self.log()[self.logpos if since_mark else 0:]
            return rx.search(text)
        return wait_until(found, timeout, "log line /%s/ in %s/maillog" % (regex, self.dir))

    def no_log(self, regex, since_mark=True):
        text = self.log()[self.logpos if since_mark else 0:]
        check(not re.search(regex, text), "unexpected log line /%s/" % regex)

    def status(self):
        """What `doorman status` prints."""
        return subprocess.run([os.path.join(BIN, "doorman"), "-c", self.dir, "status"],
                              capture_output=True, text=True, timeout=10).stdout

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-f", "doorman-smtpd -c %s " % self.dir],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def worker_cmdlines(self):
        res = []
        for pid in self.worker_pids():
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    res.append(f.read().replace(b"\0", b" ").decode())
            except OSError:
                pass
        return res

    def stop(self, keep=False, drain=5):
        """SIGTERM, then SIGKILL after `drain` seconds (a test that left a
        client connected need not wait for the whole drain)."""
        stop_process(self.proc, drain)
        for pid in self.worker_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        # Under SAN=1 the daemon and its workers report here (fd 2 is shared).
        report = self.stderr()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if marker in report:
                raise TestFailure("sanitizer report from doorman or a worker:\n%s"
                                  % report[-3000:])


def connect(port, src, timeout=10):
    """A raw client socket bound to source address src."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_reply(s, timeout=10):
    """One complete SMTP reply (all its lines), as a list of str lines;
    an empty list at EOF.  Read byte by byte so that nothing after the
    reply is consumed."""
    lines = []
    while True:
        line = read_line(s, timeout)
        if line == "":
            return lines
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return lines


def read_line(s, timeout=10):
    s.settimeout(timeout)
    buf = b""
    while not buf.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            break
        buf += c
    return buf.decode(errors="replace").rstrip("\r\n")


def command(s, line, timeout=10):
    s.sendall(line.encode() + b"\r\n")
    return read_reply(s, timeout)


def is_closed(s, timeout=5):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def read_to_eof_after_a_pause(s, pause=0.3):
    """Everything the server sent before it closed, read late, as a slow
    client would; a reset instead of a FIN fails the test (the reset can
    destroy the server's last reply before the client reads it)."""
    time.sleep(pause)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    except ConnectionResetError:
        raise TestFailure("reset instead of a close after the last reply (got %r)"
                          % data[-300:])


def greet_and_quit(port, src):
    """Connect, read the whole greeting (timed), QUIT: (greeting, seconds)."""
    s = connect(port, src)
    t0 = time.monotonic()
    greeting = read_reply(s)
    elapsed = time.monotonic() - t0
    command(s, "QUIT")
    s.close()
    return greeting, elapsed


def send_mail(port, src, rcpt="user@example.test", sender="sender@example.test",
              body="Subject: test\r\n\r\nhello\r\n", timeout=20):
    """A complete session with smtplib; returns the reply to the message."""
    with smtplib.SMTP("127.0.0.1", port, source_address=(src, 0), timeout=timeout) as c:
        c.ehlo("client.test")
        c.mail(sender)
        code, msg = c.rcpt(rcpt)
        if code >= 400:
            return code, msg
        code, msg = c.data(body)
        return code, msg


class DnsServer:
    """The test DNSBL server (dns/rbl-test-server.py): answers by client IP,
    see its header for which address gets which answer."""

    def __init__(self, port, zones=("dnsbl.test",), extra=()):
        self.port = port
        args = ["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "dns",
                                                 "rbl-test-server.py"), "--port", str(port)]
        for z in zones:
            args += ["--zone", z]
        self.proc = subprocess.Popen(args + list(extra), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until(lambda: self.ping(), 10, "DNS server on port %d" % port)

    def txt(self, name):
        import struct
        q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
        for label in name.split("."):
            q += bytes([len(label)]) + label.encode()
        q += b"\0" + struct.pack(">HH", 16, 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        try:
            s.sendto(q, ("127.0.0.1", self.port))
            data, _ = s.recvfrom(4096)
            return data
        except OSError:
            return None
        finally:
            s.close()

    def ping(self):
        return self.txt("ping.ctl") is not None

    def count(self):
        """(queries, distinct names) seen since the last reset."""
        data = self.txt("count.ctl") or b""
        m = re.search(rb"queries=(\d+) names=(\d+)", data)
        return (int(m.group(1)), int(m.group(2))) if m else None

    def reset(self):
        self.txt("reset.ctl")

    def stop(self):
        stop_process(self.proc)


class RedisServer:
    """A private redis-server on a loopback port, nothing saved to disk."""

    def __init__(self, port):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="doorman-redis-")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), 10, "redis-server on port %d" % self.port)

    def stop(self, remove=True):
        stop_process(self.proc)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)
