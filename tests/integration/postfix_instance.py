#!/usr/bin/python3
"""A real, private Postfix instance on loopback: the upstream MTA for tests.

DESIGN.md §10 ("Who proves the client's address"): smtp-sink cannot show
which client address an XCLIENT or PROXY header carried, so the oracle is a
real Postfix smtpd whose log must show `client=unknown[<client ip>]`.  This
module builds such an instance in a directory of its own (config, queue,
data directory and maillog_file all under DIR), listening only on
127.0.0.1:PORT, accepting every message (250 after DATA) and then
discarding it.  It never reads or touches /etc/postfix's configuration or
/var/spool/postfix, so any number of instances run side by side.

    inst = PostfixInstance("/tmp/x/mta", 24500, "haproxy")
    inst.start()                      # bounded, raises with the log tail
    ...                               # talk SMTP to 127.0.0.1:24500
    inst.wait_client("192.0.2.10")    # the client= line of its smtpd
    inst.stop()                       # nothing keeps running

Modes: "haproxy" (smtpd_upstream_proxy_protocol = haproxy: PROXY v1 and
v2), "xclient" (smtpd_authorized_xclient_hosts = 127.0.0.0/8), "plain".

Stdlib only; run with /usr/bin/python3.  Also a CLI (see main()) and a
self-test: `postfix_instance.py --selftest`.
"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
MODES = ("haproxy", "xclient", "plain")
DEFAULT_SYSLOG_NAME = "postfix-upstream"

# The log line that proves which client Postfix saw.  The smtpd logs
# "QUEUEID: client=NAME[ADDR]" (XCLIENT adds ", orig_client=NAME[ADDR]")
# once MAIL FROM was accepted, and "connect from NAME[ADDR]" at the start
# of a session (after the PROXY header in haproxy mode).  With
# smtpd_peername_lookup = no, NAME is "unknown" unless XCLIENT set one.
CLIENT_RE = re.compile(
    r"/smtpd\[(?P<pid>\d+)\]: (?P<queue_id>[0-9A-Za-z]+): "
    r"client=(?P<name>[^\[\s]*)\[(?P<addr>[^\]]*)\]")
CONNECT_RE = re.compile(
    r"/smtpd\[(?P<pid>\d+)\]: connect from "
    r"(?P<name>[^\[\s]*)\[(?P<addr>[^\]]*)\]")


class PostfixInstanceError(Exception):
    pass


def _mail_owner():
    """Postfix's unprivileged user and its group (from the package)."""
    import grp
    import pwd
    pw = pwd.getpwnam("postfix")
    try:
        gid = grp.getgrnam("postfix").gr_gid
    except KeyError:
        gid = pw.pw_gid
    return pw.pw_uid, gid


def _port_listening(port, addr="127.0.0.1"):
    """True when something LISTENs on addr:port (read from /proc, so no
    probe connection lands in the instance's log)."""
    want = "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(addr))[0],
                          port)
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if len(parts) > 3 and parts[1] == want and parts[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def _port_free(port, addr="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


MARK = "# Private Postfix instance written by postfix_instance.py"


def _reap_stale(port):
    """Stop a leftover instance of this fixture (say, from a test run that
    crashed) that still holds 127.0.0.1:port.  Recognised by its master's
    MAIL_CONFIG pointing at a master.cf we wrote for that port; nothing
    else is touched."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % name) as f:
                if f.read().strip() != "master":
                    continue
            with open("/proc/%s/environ" % name, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        for e in env:
            if not e.startswith(b"MAIL_CONFIG="):
                continue
            conf = e[len(b"MAIL_CONFIG="):].decode(errors="replace")
            try:
                with open(os.path.join(conf, "master.cf")) as f:
                    text = f.read()
            except OSError:
                continue
            if (text.startswith(MARK) and conf.endswith("/etc") and
                    re.search(r"^127\.0\.0\.1:%d\s" % port, text, re.M)):
                PostfixInstance(os.path.dirname(conf), port, None).stop()


class PostfixInstance:
    """One private Postfix instance under `dir`, smtpd on 127.0.0.1:port.

    Layout: DIR/etc (config_directory: main.cf, master.cf), DIR/spool
    (queue_directory), DIR/data (data_directory), DIR/maillog
    (maillog_file).  `main_overrides` (dict) adds or replaces main.cf
    parameters, e.g. {"smtpd_forbid_bare_newline": "normalize"}.
    tls=True makes smtpd offer STARTTLS with a self-signed certificate
    (DIR/etc/tls.pem, made once with the openssl command).
    stop_at_exit=True registers stop() with atexit once started (the
    instance is a daemon: otherwise it outlives the Python process).
    """

    def __init__(self, dir, port=None, mode="plain", syslog_name=None,
                 main_overrides=None, start_timeout=10.0, tls=False,
                 stop_at_exit=False):
        if mode is not None and mode not in MODES:
            raise ValueError("mode must be one of %s, not %r" %
                             ("/".join(MODES), mode))
        if port is not None:
            port = int(port)
            if not 1024 <= port <= 65535:
                raise ValueError("port %d out of range" % port)
        self.dir = os.path.realpath(os.path.abspath(dir))
        self.port = port
        self.mode = mode
        self.syslog_name = syslog_name or DEFAULT_SYSLOG_NAME
        self.main_overrides = dict(main_overrides or {})
        self.start_timeout = start_timeout
        self.tls = bool(tls)
        self.stop_at_exit = stop_at_exit
        self._atexit = False
        self.config_dir = os.path.join(self.dir, "etc")
        self.queue_dir = os.path.join(self.dir, "spool")
        self.data_dir = os.path.join(self.dir, "data")
        self.maillog = os.path.join(self.dir, "maillog")
        self.tls_pem = os.path.join(self.config_dir, "tls.pem")
        self.start_seconds = None

    def __repr__(self):
        return "PostfixInstance(%r, %r, %r)" % (self.dir, self.port,
                                                self.mode)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def address(self):
        return ("127.0.0.1", self.port)

    # ---- configuration ------------------------------------------------

    def main_cf(self):
        p = [
            ("compatibility_level", "3.6"),
            ("config_directory", self.config_dir),
            ("queue_directory", self.queue_dir),
            ("data_directory", self.data_dir),
            ("mail_owner", "postfix"),
            ("setgid_group", "postdrop"),
            ("syslog_name", self.syslog_name),
            # postlogd writes the log; the prefix list must allow the path.
            ("maillog_file", self.maillog),
            ("maillog_file_prefixes", self.dir),
            ("inet_interfaces", "loopback-only"),
            ("inet_protocols", "all"),
            ("myhostname", "upstream.test"),
            ("mydomain", "upstream.test"),
            ("myorigin", "$myhostname"),
            ("mydestination", ""),
            ("mynetworks", "127.0.0.0/8"),
            ("mynetworks_style", "host"),
            # Every domain is a relay domain, so reject_unauth_destination
            # (which smtpd insists on) lets any recipient through.
            ("relay_domains", "static:ALL"),
            ("alias_maps", ""),
            ("alias_database", ""),
            ("local_recipient_maps", ""),
            ("biff", "no"),
            # Accept everything, deliver nothing: every transport discards.
            ("smtpd_relay_restrictions", "reject_unauth_destination"),
            ("smtpd_recipient_restrictions", ""),
            ("default_transport", "discard:upstream.test discards"),
            ("relay_transport", "discard:upstream.test discards"),
            ("local_transport", "discard:upstream.test discards"),
            ("virtual_transport", "discard:upstream.test discards"),
            # No DNS: the log shows unknown[ADDR]; no lookup can stall.
            ("smtpd_peername_lookup", "no"),
            ("smtp_dns_support_level", "disabled"),
            # Tests and stress runs send many sessions from one address.
            ("smtpd_client_connection_count_limit", "0"),
            ("smtpd_client_connection_rate_limit", "0"),
            ("smtpd_client_event_limit_exceptions", "0.0.0.0/0 [::]/0"),
            ("smtpd_error_sleep_time", "0"),
            ("smtpd_tls_security_level", "may" if self.tls else "none"),
            ("smtpd_tls_chain_files", self.tls_pem if self.tls else ""),
            ("smtp_tls_security_level", "none"),
            ("smtpd_upstream_proxy_protocol",
             "haproxy" if self.mode == "haproxy" else ""),
            ("smtpd_authorized_xclient_hosts",
             "127.0.0.0/8" if self.mode == "xclient" else ""),
            ("readme_directory", "no"),
            ("html_directory", "no"),
            ("delay_warning_time", "0h"),
            ("maximal_queue_lifetime", "1h"),
            ("bounce_queue_lifetime", "1h"),
        ]
        keys = [k for k, _ in p]
        d = dict(p)
        for k, v in self.main_overrides.items():
            if k not in d:
                keys.append(k)
            d[k] = str(v)
        head = ("%s (doorman tests).\n# mode=%s port=%s; regenerated at "
                "each start.\n" % (MARK, self.mode, self.port))
        return head + "".join("%s = %s\n" % (k, d[k]) for k in keys)

    def master_cf(self):
        # No chroot anywhere (nothing to copy into the jail); the only
        # inet service is smtpd on 127.0.0.1:PORT, never port 25.
        rows = [
            ("127.0.0.1:%d" % self.port, "inet", "n", "-", "n", "-", "-",
             "smtpd"),
            ("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
            ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
            ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
            ("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
            ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
            ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
            ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
            ("proxywrite", "unix", "-", "-", "n", "-", "1", "proxymap"),
            ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
            ("error", "unix", "-", "-", "n", "-", "-", "error"),
            ("retry", "unix", "-", "-", "n", "-", "-", "error"),
            ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
            ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
            ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
            ("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
        ]
        if self.tls:
            rows.append(("tlsmgr", "unix", "-", "-", "n", "1000?", "1",
                         "tlsmgr"))
        head = MARK + " (doorman tests).\n"
        return head + "".join("%-18s %-10s %-3s %-3s %-3s %-6s %-3s %s\n" % r
                              for r in rows)

    # ---- process control ----------------------------------------------

    def _env(self):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C",
               "MAIL_CONFIG": self.config_dir}
        if "TZ" in os.environ:
            env["TZ"] = os.environ["TZ"]
        return env

    def _postfix(self, *args, timeout=15):
        return subprocess.run([POSTFIX, "-c", self.config_dir] + list(args),
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=self._env(), timeout=timeout,
                              universal_newlines=True, errors="replace")

    def master_pid(self):
        """The live master's pid, or None."""
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if pid <= 1 or not _pid_alive(pid):
            return None
        # A recycled pid is not ours: the master runs with our MAIL_CONFIG.
        if pid not in self._own_pids():
            return None
        return pid

    def running(self):
        return self.master_pid() is not None

    def _own_pids(self):
        """Every process started for this instance: Postfix imports
        MAIL_CONFIG into master and all its children."""
        want = b"MAIL_CONFIG=" + self.config_dir.encode()
        pids = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % name, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if want in env:
                pid = int(name)
                if pid != os.getpid() and _pid_alive(pid):
                    pids.append(pid)
        return pids

    def _kill_leftovers(self, timeout=5.0):
        end = time.monotonic() + timeout
        while True:
            pids = self._own_pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if time.monotonic() > end:
                raise PostfixInstanceError("%r: processes survive SIGKILL: %s"
                                           % (self, pids))
            time.sleep(0.05)

    def _prepare_dirs(self):
        uid, gid = _mail_owner()
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        # Postfix daemons run as the postfix user and chdir into the queue
        # directory: every ancestor must be searchable by others.  A
        # mkdtemp() parent is 0700, so add the search bit where missing
        # (only on directories we own; "/" and friends already have it).
        path = self.dir
        while True:
            st = os.stat(path)
            if not st.st_mode & 0o001:
                if st.st_uid != os.geteuid():
                    raise PostfixInstanceError(
                        "%s is not searchable by the postfix user and not "
                        "ours to chmod" % path)
                os.chmod(path, (st.st_mode & 0o7777) | 0o011)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        os.chmod(self.dir, 0o755)
        for d in (self.config_dir, self.queue_dir):
            os.makedirs(d, mode=0o755, exist_ok=True)
            os.chown(d, 0, 0)
            os.chmod(d, 0o755)
        os.makedirs(self.data_dir, mode=0o700, exist_ok=True)
        os.chown(self.data_dir, uid, gid)
        os.chmod(self.data_dir, 0o700)

    def _write(self, path, text):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        # Postfix rereads a main.cf whose mtime is under a couple of
        # seconds old (it may be mid-edit), costing ~2.4 s per program
        # start; backdate it, we wrote it whole.
        past = time.time() - 60
        os.utime(tmp, (past, past))
        os.replace(tmp, path)

    def _make_cert(self):
        """A throw-away self-signed key+certificate for STARTTLS."""
        if os.path.exists(self.tls_pem):
            return
        key = self.tls_pem + ".key"
        crt = self.tls_pem + ".crt"
        r = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-subj", "/CN=upstream.test", "-days", "30",
             "-keyout", key, "-out", crt],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=10,
            universal_newlines=True)
        if r.returncode != 0:
            raise PostfixInstanceError("openssl req failed: %s" % r.stdout)
        with open(key) as k, open(crt) as c:
            pem = k.read() + c.read()
        fd = os.open(self.tls_pem + ".tmp",
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pem)
        os.replace(self.tls_pem + ".tmp", self.tls_pem)
        os.unlink(key)
        os.unlink(crt)

    def _read(self, path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return None

    def start(self):
        """Start (or keep) the instance; return when smtpd listens.

        Idempotent: if this instance already runs with the same
        configuration it is left alone; with another port/mode it is
        stopped and restarted.  Raises PostfixInstanceError with the log
        tail if it is not ready within start_timeout seconds."""
        if self.port is None or self.mode is None:
            raise PostfixInstanceError("start needs a port and a mode")
        t0 = time.monotonic()
        if self.stop_at_exit and not self._atexit:
            import atexit
            atexit.register(self.stop)
            self._atexit = True
        main, master = self.main_cf(), self.master_cf()
        mpath = os.path.join(self.config_dir, "main.cf")
        spath = os.path.join(self.config_dir, "master.cf")
        if self.running():
            if (self._read(mpath) == main and self._read(spath) == master
                    and _port_listening(self.port)):
                self.start_seconds = 0.0
                return self
            self.stop()
        else:
            self._kill_leftovers()
        if not _port_free(self.port):
            _reap_stale(self.port)
        if not _port_free(self.port):
            raise PostfixInstanceError(
                "%r: 127.0.0.1:%d is already in use" % (self, self.port))
        self._prepare_dirs()
        if self.tls:
            self._make_cert()
        self._write(mpath, main)
        self._write(spath, master)
        log_start = self.log_size()
        deadline = t0 + self.start_timeout
        try:
            r = self._postfix("start",
                              timeout=max(1.0, deadline - time.monotonic()))
            out = r.stdout
            ok = r.returncode == 0
        except subprocess.TimeoutExpired as e:
            out = e.output or ""
            if isinstance(out, bytes):
                out = out.decode(errors="replace")
            ok = False
        if ok:
            started = re.compile(r"/master\[\d+\]: daemon started")
            while time.monotonic() < deadline:
                if (_port_listening(self.port) and self.running()
                        and started.search(self.log(log_start))):
                    self.start_seconds = time.monotonic() - t0
                    return self
                time.sleep(0.02)
        tail = "\n".join(self.log(log_start).splitlines()[-25:])
        try:
            self.stop()
        except Exception:
            pass
        raise PostfixInstanceError(
            "%r did not start (waited up to %.0fs)\n--- postfix start "
            "said:\n%s"
            "--- maillog tail:\n%s" % (self, self.start_timeout, out, tail))

    def stop(self, timeout=10.0):
        """`postfix stop`, then SIGKILL whatever of this instance is left
        (master's process group and anything with our MAIL_CONFIG).  The
        directory and its maillog stay for inspection; see remove()."""
        if not os.path.isdir(self.config_dir):
            return
        pid = self.master_pid()
        if pid is not None:
            try:
                self._postfix("stop", timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            end = time.monotonic() + 2.0
            while _pid_alive(pid) and time.monotonic() < end:
                time.sleep(0.02)
            if _pid_alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
        self._kill_leftovers()
        if self.port is not None:
            end = time.monotonic() + 2.0
            while _port_listening(self.port) and time.monotonic() < end:
                time.sleep(0.02)

    def remove(self):
        """Stop and delete the whole instance directory."""
        import shutil
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the log -------------------------------------------------------

    def log_size(self):
        """Byte offset of the end of the log: pass it as `start` to log(),
        wait_log() etc. to look only at what comes after."""
        try:
            return os.path.getsize(self.maillog)
        except OSError:
            return 0

    def log(self, start=0):
        """The instance's maillog text (from byte offset `start`)."""
        try:
            with open(self.maillog, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def wait_log(self, regex, timeout=10.0, start=0):
        """Wait until `regex` matches a line of the log after `start`;
        return the match object, or raise PostfixInstanceError with the
        log tail."""
        rx = re.compile(regex) if isinstance(regex, str) else regex
        end = time.monotonic() + timeout
        while True:
            text = self.log(start)
            for line in text.splitlines():
                m = rx.search(line)
                if m:
                    return m
            if time.monotonic() >= end:
                tail = "\n".join(text.splitlines()[-15:])
                raise PostfixInstanceError(
                    "%r: no log line matching %r within %.1fs; tail:\n%s"
                    % (self, rx.pattern, timeout, tail))
            time.sleep(0.02)

    def clients(self, start=0):
        """Client addresses from the smtpd's `QUEUEID: client=NAME[ADDR]`
        lines, in log order (one per accepted MAIL FROM)."""
        return [m.group("addr") for m in
                (CLIENT_RE.search(l) for l in self.log(start).splitlines())
                if m]

    def client_entries(self, start=0):
        """Like clients(), as dicts: pid, queue_id, name, addr, line."""
        out = []
        for line in self.log(start).splitlines():
            m = CLIENT_RE.search(line)
            if m:
                e = m.groupdict()
                e["line"] = line
                out.append(e)
        return out

    def connects(self, start=0):
        """Addresses from the smtpd's `connect from NAME[ADDR]` lines."""
        return [m.group("addr") for m in
                (CONNECT_RE.search(l) for l in self.log(start).splitlines())
                if m]

    def wait_client(self, addr, timeout=10.0, start=0):
        """Wait for `client=NAME[addr]`; return the match object."""
        return self.wait_log(r"/smtpd\[\d+\]: [0-9A-Za-z]+: client=[^\[\s]*"
                             r"\[" + re.escape(addr) + r"\]",
                             timeout=timeout, start=start)

    def wait_connect(self, addr, timeout=10.0, start=0):
        return self.wait_log(r"/smtpd\[\d+\]: connect from [^\[\s]*\["
                             + re.escape(addr) + r"\]",
                             timeout=timeout, start=start)


# ---- a tiny SMTP client for the self-test (and for callers) -------------

def proxy_v1(src, dst="127.0.0.1", sport=56324, dport=25):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport,
                                          dport)).encode()


def proxy_v2(src, dst="127.0.0.1", sport=56324, dport=25):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if ":" in src:
        body = (socket.inet_pton(socket.AF_INET6, src) +
                socket.inet_pton(socket.AF_INET6, dst) +
                struct.pack("!HH", sport, dport))
        fam = 0x21
    else:
        body = (socket.inet_aton(src) + socket.inet_aton(dst) +
                struct.pack("!HH", sport, dport))
        fam = 0x11
    return sig + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


class SmtpTalk:
    """Raw-socket SMTP: send lines, read (multi-line) replies."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0, source=None):
        self.sock = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self):
        """Read one reply; return (code, [lines])."""
        lines = []
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise PostfixInstanceError("connection closed; got %r"
                                               % lines)
                self.buf += chunk
                if len(self.buf) > 65536:
                    raise PostfixInstanceError("reply line too long")
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("utf-8", errors="replace")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def cmd(self, line, expect=None):
        self.send(line + "\r\n")
        code, lines = self.reply()
        if expect is not None and code != expect:
            raise PostfixInstanceError("%s -> %r (wanted %d)"
                                       % (line, lines, expect))
        return code, lines

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def send_message(talk, sender="sender@client.test",
                 rcpt="rcpt@example.test", body="Subject: test\r\n\r\nhi\r\n"):
    """MAIL, RCPT, DATA, body, dot: return the reply to the dot."""
    talk.cmd("MAIL FROM:<%s>" % sender, 250)
    talk.cmd("RCPT TO:<%s>" % rcpt, 250)
    talk.cmd("DATA", 354)
    talk.send(body + ".\r\n")
    return talk.reply()


# ---- self-test -------------------------------------------------------------

def _selftest():
    t_all = time.monotonic()
    base = tempfile.mkdtemp(prefix="postfix-instance-selftest-")
    insts = [PostfixInstance(os.path.join(base, m), 24500 + i, m)
             for i, m in enumerate(MODES)]
    ok = False
    try:
        for inst in insts:
            inst.start()
            print("started %r in %.2fs" % (inst, inst.start_seconds))
        # Idempotent: a second start of a running instance is a no-op.
        insts[0].start()
        assert insts[0].start_seconds == 0.0, "second start restarted"
        hp, xc, pl = insts

        # (a) haproxy: PROXY v1 then a whole message.
        t = SmtpTalk(hp.port)
        t.send(proxy_v1("192.0.2.10", "127.0.0.1", 56324, 25))
        code, lines = t.reply()
        assert code == 220, lines
        t.cmd("EHLO client.test", 250)
        code, lines = send_message(t)
        assert code == 250, "haproxy v1: dot got %r" % lines
        t.cmd("QUIT", 221)
        t.close()
        m = hp.wait_client("192.0.2.10", 10)
        print("haproxy v1 ok: %s" % m.string.strip())
        hp.wait_connect("192.0.2.10", 5)

        # (a') haproxy: PROXY v2 binary header.
        t = SmtpTalk(hp.port)
        t.send(proxy_v2("198.51.100.7", "127.0.0.1", 40000, 25))
        code, lines = t.reply()
        assert code == 220, lines
        t.cmd("EHLO client.test", 250)
        code, lines = send_message(t)
        assert code == 250, "haproxy v2: dot got %r" % lines
        t.cmd("QUIT", 221)
        t.close()
        m = hp.wait_client("198.51.100.7", 10)
        print("haproxy v2 ok: %s" % m.string.strip())
        assert hp.clients() == ["192.0.2.10", "198.51.100.7"], hp.clients()

        # (b) xclient: announced, 220 to XCLIENT, EHLO again, a message.
        t = SmtpTalk(xc.port)
        code, lines = t.reply()
        assert code == 220, lines
        code, lines = t.cmd("EHLO worker.test", 250)
        xl = [l for l in lines if l[4:].upper().startswith("XCLIENT")]
        assert xl and "ADDR" in xl[0].upper().split(), \
            "XCLIENT ADDR not announced: %r" % lines
        t.cmd("XCLIENT ADDR=192.0.2.11 PORT=1234 NAME=[UNAVAILABLE]", 220)
        t.cmd("EHLO client.test", 250)
        code, lines = send_message(t)
        assert code == 250, "xclient: dot got %r" % lines
        t.cmd("QUIT", 221)
        t.close()
        m = xc.wait_client("192.0.2.11", 10)
        print("xclient ok: %s" % m.string.strip())

        # (c) plain: the TCP peer; XCLIENT neither offered nor accepted.
        t = SmtpTalk(pl.port, source="127.0.0.5")
        code, lines = t.reply()
        assert code == 220, lines
        code, lines = t.cmd("EHLO client.test", 250)
        assert not any("XCLIENT" in l.upper() for l in lines), lines
        code, lines = t.cmd("XCLIENT ADDR=192.0.2.12")
        assert code >= 500, "plain accepted XCLIENT: %r" % lines
        code, lines = send_message(t)
        assert code == 250, "plain: dot got %r" % lines
        t.cmd("QUIT", 221)
        t.close()
        m = pl.wait_client("127.0.0.5", 10)
        print("plain ok: %s" % m.string.strip())

        # Mail is discarded, not queued.
        hp.wait_log(r"/discard\[\d+\]: .*status=sent", 10)
        ok = True
    finally:
        for inst in insts:
            inst.stop()
        for inst in insts:
            left = inst._own_pids()
            if left or _port_listening(inst.port):
                print("LEFTOVER: %r pids=%s" % (inst, left))
                ok = False
        if ok:
            import shutil
            shutil.rmtree(base, ignore_errors=True)
        else:
            print("kept %s for inspection" % base)
    print("selftest %s in %.1fs" % ("PASSED" if ok else "FAILED",
                                    time.monotonic() - t_all))
    return 0 if ok else 1


USAGE = """usage: postfix_instance.py start DIR PORT MODE [tls] [name=value ...]
       postfix_instance.py stop DIR
       postfix_instance.py status DIR
       postfix_instance.py log DIR
       postfix_instance.py clients DIR
       postfix_instance.py wait DIR REGEX [TIMEOUT]
       postfix_instance.py --selftest
MODE is haproxy, xclient or plain; "tls" makes smtpd offer STARTTLS;
name=value pairs override main.cf parameters."""


def main(argv):
    if len(argv) == 2 and argv[1] == "--selftest":
        return _selftest()
    if len(argv) < 3:
        print(USAGE, file=sys.stderr)
        return 2
    cmd, d = argv[1], argv[2]
    try:
        if cmd == "start" and len(argv) >= 5:
            over = {}
            tls = False
            for a in argv[5:]:
                if a == "tls":
                    tls = True
                    continue
                k, sep, v = a.partition("=")
                if not sep:
                    print(USAGE, file=sys.stderr)
                    return 2
                over[k.strip()] = v.strip()
            inst = PostfixInstance(d, argv[3], argv[4], main_overrides=over,
                                   tls=tls)
            inst.start()
            print("postfix-instance: %s mode %s on 127.0.0.1:%d, log %s "
                  "(%.2fs)" % (inst.dir, inst.mode, inst.port, inst.maillog,
                               inst.start_seconds))
        elif cmd == "stop" and len(argv) == 3:
            PostfixInstance(d, None, None).stop()
        elif cmd == "status" and len(argv) == 3:
            pid = PostfixInstance(d, None, None).master_pid()
            print("running, master pid %d" % pid if pid else "not running")
            return 0 if pid else 1
        elif cmd == "log" and len(argv) == 3:
            sys.stdout.write(PostfixInstance(d, None, None).log())
        elif cmd == "clients" and len(argv) == 3:
            for a in PostfixInstance(d, None, None).clients():
                print(a)
        elif cmd == "wait" and len(argv) in (4, 5):
            t = float(argv[4]) if len(argv) == 5 else 10.0
            m = PostfixInstance(d, None, None).wait_log(argv[3], t)
            print(m.string)
        else:
            print(USAGE, file=sys.stderr)
            return 2
    except (PostfixInstanceError, ValueError, OSError) as e:
        print("postfix-instance: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
