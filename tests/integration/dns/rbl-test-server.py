#!/usr/bin/python3
"""rbl-test-server.py: a DNSBL server that misbehaves on purpose, for doorman's rbl tests.

Every zone given with --zone answers the same way; what it answers depends on the
client address in the query name (IPv4, reversed octets):

  127.0.0.2            A 127.0.0.2 (RFC 5782 test point), TXT "<ip> listed in <zone>"
  127.0.1.N            A 127.0.0.N (N = 2, 3, 4, 9, 10, 11)
  127.0.1.24           A 127.0.0.2 and 127.0.0.4
  127.0.3.N            A 127.255.255.N (Spamhaus error codes, N = 252..255)
  127.0.3.1            A 127.0.0.255 (dnswl's "limit exceeded")
  127.0.4.N            A 127.0.10.N (a DNSWL-style answer)
  127.0.5.1            never answered (timeout)
  127.0.5.2            listed, answered --slow-ms late
  127.0.5.3            the first query is dropped, the retry is answered (listed)
  127.0.6.1            listed answer with a wrong ID first, then the true NXDOMAIN
  127.0.6.2            listed answer from another port first, then the true NXDOMAIN
  127.0.6.3            garbage first, then the true NXDOMAIN
  127.0.6.4            truncated (TC) listed answer
  127.0.6.5            SERVFAIL
  127.0.6.6            listed answer for another question first, then the true NXDOMAIN
  127.0.6.7            REFUSED
  anything else        NXDOMAIN with the zone's SOA (negative TTL --neg-ttl)

--only ZONE=PREFIX (repeatable) narrows a zone: it answers NXDOMAIN for every
client address that does not start with one of its prefixes (the demo keeps its
DNSWL zone to 127.0.4.x and its DNSBL zone to the others).

Control names (any type; answered with TXT):
  ping.ctl             "pong"
  count.ctl            "queries=Q names=N": queries under the zones and distinct (name, type)
  reset.ctl            resets the counters

Needs /usr/bin/python3 with dnslib (Debian: python3-dnslib).
"""

import argparse
import heapq
import os
import selectors
import signal
import socket
import sys
import time

from dnslib import A, QTYPE, RCODE, RR, SOA, TXT, DNSRecord, DNSLabel

FIXED = {
    "127.0.0.2": ["127.0.0.2"],
    "127.0.1.24": ["127.0.0.2", "127.0.0.4"],
    "127.0.3.1": ["127.0.0.255"],
}
for n in (2, 3, 4, 9, 10, 11):
    FIXED[f"127.0.1.{n}"] = [f"127.0.0.{n}"]
for n in range(252, 256):
    FIXED[f"127.0.3.{n}"] = [f"127.255.255.{n}"]


def codes_for(ip):
    if ip in FIXED:
        return FIXED[ip]
    if ip.startswith("127.0.4."):
        return ["127.0.10." + ip.split(".")[3]]
    if ip in ("127.0.5.2", "127.0.5.3"):
        return ["127.0.0.2"]
    return None


class Server:
    def __init__(self, args):
        self.zones = [DNSLabel(z.strip(".").lower()) for z in args.zone]
        self.only = {}
        for spec in args.only or ():
            zone, _, prefix = spec.partition("=")
            self.only.setdefault(zone.strip(".").lower(), []).append(prefix)
        self.args = args
        self.reset()
        self.seen_once = set()

    def reset(self):
        self.queries = 0
        self.names = set()

    def zone_of(self, qname):
        for z in self.zones:
            if qname.matchSuffix(z) and qname != z:
                return z
        return None

    def soa(self, z):
        return RR(z, QTYPE.SOA, ttl=self.args.neg_ttl * 10,
                  rdata=SOA(f"ns.{z}", f"hostmaster.{z}", (1, 3600, 600, 86400, self.args.neg_ttl)))

    def nx(self, req, z):
        r = req.reply()
        r.header.rcode = RCODE.NXDOMAIN
        r.add_auth(self.soa(z))
        return r

    def listed(self, req, ip, z, codes):
        r = req.reply()
        q = req.q
        if q.qtype in (QTYPE.A, QTYPE.ANY):
            for c in codes:
                r.add_answer(RR(q.qname, QTYPE.A, rdata=A(c), ttl=self.args.ttl))
        if q.qtype in (QTYPE.TXT, QTYPE.ANY):
            r.add_answer(RR(q.qname, QTYPE.TXT, rdata=TXT(f"{ip} listed in {str(z).rstrip('.')}"), ttl=self.args.ttl))
        if not r.rr:
            r.add_auth(self.soa(z))
        return r

    def handle(self, data):
        """A list of (delay_s, bytes, via_other_socket) to send back."""
        try:
            req = DNSRecord.parse(data)
        except Exception:
            return []
        q = req.q
        name = str(q.qname).rstrip(".").lower()
        if name.endswith(".ctl") or name in ("ping", "count", "reset"):
            r = req.reply()
            if name.startswith("ping"):
                text = "pong"
            elif name.startswith("count"):
                text = f"queries={self.queries} names={len(self.names)}"
            else:
                self.reset()
                text = "reset"
            r.add_answer(RR(q.qname, QTYPE.TXT, rdata=TXT(text), ttl=0))
            return [(0, r.pack(), False)]
        z = self.zone_of(q.qname)
        if z is None:
            r = req.reply()
            r.header.rcode = RCODE.NXDOMAIN
            return [(0, r.pack(), False)]
        self.queries += 1
        self.names.add((name, q.qtype))
        labels = [l.decode("ascii", "replace") for l in q.qname.label[:len(q.qname.label) - len(z.label)]]
        ip = ".".join(reversed(labels)) if len(labels) == 4 else ""
        nx = self.nx(req, z).pack()
        if ip == "127.0.5.1":
            return []
        if ip == "127.0.5.2":
            return [(self.args.slow_ms / 1000.0, self.listed(req, ip, z, ["127.0.0.2"]).pack(), False)]
        if ip == "127.0.5.3":
            key = (name, q.qtype)
            if key not in self.seen_once:
                self.seen_once.add(key)
                return []
        if ip == "127.0.6.1":
            bad = self.listed(req, ip, z, ["127.0.0.2"])
            bad.header.id = (req.header.id + 1) & 0xFFFF
            return [(0, bad.pack(), False), (0.05, nx, False)]
        if ip == "127.0.6.2":
            return [(0, self.listed(req, ip, z, ["127.0.0.2"]).pack(), True), (0.05, nx, False)]
        if ip == "127.0.6.3":
            return [(0, data[:2] + b"\x81\x80garbage\xff\x00\x01" * 3, False), (0.05, nx, False)]
        if ip == "127.0.6.4":
            r = self.listed(req, ip, z, ["127.0.0.2"])
            r.header.tc = 1
            return [(0, r.pack(), False)]
        if ip in ("127.0.6.5", "127.0.6.7"):
            r = req.reply()
            r.header.rcode = RCODE.SERVFAIL if ip == "127.0.6.5" else RCODE.REFUSED
            return [(0, r.pack(), False)]
        if ip == "127.0.6.6":
            other = DNSRecord.question("9.9.9.9." + str(z), "A")
            other.header.id = req.header.id
            r = other.reply()
            r.add_answer(RR(other.q.qname, QTYPE.A, rdata=A("127.0.0.2"), ttl=300))
            return [(0, r.pack(), False), (0.05, nx, False)]
        codes = codes_for(ip)
        narrowed = self.only.get(str(z).rstrip("."))
        if codes is None or (narrowed and not any(ip.startswith(p) for p in narrowed)):
            return [(0, nx, False)]
        return [(0, self.listed(req, ip, z, codes).pack(), False)]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--zone", action="append", default=None)
    p.add_argument("--only", action="append", default=None, metavar="ZONE=PREFIX")
    p.add_argument("--ttl", type=int, default=300)
    p.add_argument("--neg-ttl", type=int, default=120)
    p.add_argument("--slow-ms", type=float, default=5000)
    args = p.parse_args()
    if not args.zone:
        args.zone = ["dnsbl.test"]
    server = Server(args)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.listen, args.port))
    s.setblocking(False)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind((args.listen, 0))
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"rbl-test-server: {', '.join(map(str, server.zones))} on {args.listen}:{args.port}, "
          f"pid {os.getpid()}", file=sys.stderr, flush=True)
    delayed = []
    seq = 0
    while True:
        timeout = max(0.0, delayed[0][0] - time.monotonic()) if delayed else None
        for _key, _ in sel.select(timeout):
            while True:
                try:
                    data, peer = s.recvfrom(4096)
                except (BlockingIOError, InterruptedError):
                    break
                for delay, reply, via_other in server.handle(data):
                    seq += 1
                    heapq.heappush(delayed, (time.monotonic() + delay, seq, reply, peer, via_other))
        now = time.monotonic()
        while delayed and delayed[0][0] <= now:
            _, _, reply, peer, via_other = heapq.heappop(delayed)
            try:
                (other if via_other else s).sendto(reply, peer)
            except OSError:
                pass


if __name__ == "__main__":
    main()
