#!/usr/bin/python3
"""smtpd_harness - a stand-in for the screen, to drive bin/doorman-smtpd alone.

It starts one worker on a SOCK_SEQPACKET socketpair (the worker's end
passed as "-s FD"), listens on a TCP port, and hands every accepted client to
the worker with a hand-off record (backend/handoff.c's layout) and the fd
in SCM_RIGHTS, one at a time, printing the status bytes it gets back.

  smtpd_harness.py --worker bin/doorman-smtpd --config DIR
                   --listen 127.0.0.1:21100 [--teaser BANNER] [--x21]
                   [--count N] [--pending TEXT] [--ehlo NAME] [-o name=value]...

With --teaser, the harness sends "220-BANNER" itself before the hand-off
and marks the record TEASER_SENT, as the screen does after its greet wait.
It exits after --count clients, closing the socketpair (the worker must
exit 0), and prints "worker exit N".
"""
import argparse
import socket
import struct
import subprocess
import sys

MAGIC = 0x444D4831
VERSION = 1
F_TEASER_SENT = 0x0001
F_PASS_NEW = 0x0008
F_X21 = 0x0080


def wire_addr(sockaddr):
    """Encode (host, port[, flow, scope]) as the record's addr field."""
    host, port = sockaddr[0], sockaddr[1]
    if ":" in host:
        raw = socket.inet_pton(socket.AF_INET6, host)
        return struct.pack("!B16sHI", 6, raw, port, sockaddr[3] if len(sockaddr) > 3 else 0)
    raw = socket.inet_pton(socket.AF_INET, host) + b"\0" * 12
    return struct.pack("!B16sHI", 4, raw, port, 0)


def wire_str(s):
    b = s.encode()
    return struct.pack("!B", len(b)) + b + b"\0"


def record(client, server, listener, flags, score=0, ehlo="", pending=b""):
    return (struct.pack("!IHIi", MAGIC, VERSION, flags, score)
            + wire_addr(client) + wire_addr(server)
            + wire_str(listener) + wire_str(ehlo)
            + struct.pack("!H", len(pending)) + pending)


def status(sock, timeout=None):
    sock.settimeout(timeout)
    try:
        b = sock.recv(16)
    except socket.timeout:
        return None
    return b.decode() if b else "EOF"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--listen", default="127.0.0.1:21100")
    ap.add_argument("--teaser")
    ap.add_argument("--x21", action="store_true")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--pending", default="")
    ap.add_argument("--ehlo", default="")
    ap.add_argument("-o", action="append", default=[])
    a = ap.parse_args()

    host, port = a.listen.rsplit(":", 1)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, int(port)))
    lsock.listen(16)

    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    args = [a.worker, "-c", a.config, "-o", "stress="]
    for o in a.o:
        args += ["-o", o]
    args += ["-s", str(theirs.fileno())]
    w = subprocess.Popen(args, pass_fds=(theirs.fileno(),))
    theirs.close()
    print("worker pid", w.pid, "status", status(mine, 10), flush=True)

    for _ in range(a.count):
        c, peer = lsock.accept()
        flags = F_PASS_NEW
        if a.teaser is not None:
            c.sendall(("220-" + a.teaser + "\r\n").encode())
            flags |= F_TEASER_SENT
        if a.x21:
            flags |= F_X21
        rec = record(peer, c.getsockname(), a.listen, flags, ehlo=a.ehlo,
                     pending=a.pending.encode().decode("unicode_escape").encode("latin-1"))
        socket.send_fds(mine, [rec], [c.fileno()])
        st = status(mine, 10)
        print("handoff from", peer, "status", st, flush=True)
        c.close()      # only after BUSY, as the screen does
        st = status(mine, 700)
        print("session status", st, flush=True)
        if st != "DR":      # "D" alone: the worker is leaving
            break
    mine.close()
    print("worker exit", w.wait(timeout=30), flush=True)


if __name__ == "__main__":
    sys.exit(main())
