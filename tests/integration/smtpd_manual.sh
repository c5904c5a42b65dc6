#!/bin/sh
# smtpd_manual - a manual check of bin/doorman-smtpd alone (not in make test):
# smtp-sink as the upstream, tests/integration/smtpd_harness.py in the
# screen's place, Python clients on loopback ports 21025 (sink) and 21100.
#
#   tests/integration/smtpd_manual.sh      (from the top of the tree, after make)
#
# Checks: a full session reaches the sink and gets 250; the teaser is
# completed with one "220 " line; the sink killed mid-DATA gives the client
# a 4xx, never 250; upstream down after the teaser is X21 (220, then 421);
# client XCLIENT/BDAT/STARTTLS refused; a 100 KB line, NUL bytes, bare LF
# and junk are answered and bounded; stress limits close the session.
set -u
PY=/usr/bin/python3
TOP=$(cd "$(dirname "$0")/../.." && pwd)
W=$TOP/bin/doorman-smtpd
H=$TOP/tests/integration/smtpd_harness.py
T=$(mktemp -d /tmp/dm-smtpd-check.XXXXXX)
export T
SINK=127.0.0.1:21025
LISTEN=127.0.0.1:21100
fails=0
sinkpid=
harnesspid=

cleanup() {
	[ -n "$harnesspid" ] && kill "$harnesspid" 2>/dev/null
	[ -n "$sinkpid" ] && kill "$sinkpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT INT TERM

cat > "$T/doorman.cf" <<EOF
backend_upstream = $SINK
maillog_file = $T/log
myhostname = mx.test
EOF

start_sink() {
	# -u: smtp-sink refuses to run as root without it.
	if [ "$(id -u)" = 0 ]; then U="-u nobody"; else U=; fi
	mkdir -p "$T/dump" && chmod 755 "$T" && chmod 777 "$T/dump"
	smtp-sink $U -d "$T/dump/%M." "$SINK" 100 >"$T/sink.out" 2>&1 &
	sinkpid=$!
	sleep 0.3
	if ! kill -0 "$sinkpid" 2>/dev/null; then
		echo "smtp-sink did not start on $SINK (port in use?)"; exit 1
	fi
}

stop_sink() {
	[ -n "$sinkpid" ] && kill -9 "$sinkpid" 2>/dev/null
	wait "$sinkpid" 2>/dev/null
	sinkpid=
}

# start_harness COUNT [harness args...]
start_harness() {
	n=$1; shift
	$PY "$H" --worker "$W" --config "$T" --listen "$LISTEN" --count "$n" "$@" \
	    >"$T/harness.out" 2>&1 &
	harnesspid=$!
	for i in 1 2 3 4 5 6 7 8 9 10; do
		grep -q 'status R' "$T/harness.out" 2>/dev/null && return
		sleep 0.2
	done
}

wait_harness() {
	for i in $(seq 1 50); do
		kill -0 "$harnesspid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$harnesspid" 2>/dev/null
	harnesspid=
	check "worker exited 0, no sanitizer report" sh -c \
	    "grep -q '^worker exit 0' '$T/harness.out' && ! grep -q 'Sanitizer\|runtime error' '$T/harness.out'"
}

check() {	# check NAME COMMAND...
	: "defined before use below"
	name=$1; shift
	if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

# client SCRIPT: a Python snippet with c (socket), say(text), get() -> reply.
client() {
	$PY - "$1" <<'EOF'
import socket, sys, time, os
c = socket.create_connection(("127.0.0.1", 21100), timeout=15)
buf = b""
def get():
    """One (multi-line) reply as text."""
    global buf
    lines = []
    while True:
        while b"\n" not in buf:
            d = c.recv(65536)
            if not d:
                lines.append("<EOF>")
                return "\n".join(lines)
            buf += d
        l, buf = buf.split(b"\n", 1)
        l = l.rstrip(b"\r").decode("latin-1")
        lines.append(l)
        if len(l) < 4 or l[3] != "-":
            return "\n".join(lines)
def say(t):
    c.sendall(t if isinstance(t, bytes) else t.encode())
exec(sys.argv[1])
EOF
}

rc=0
start_sink

# 1. A full session with the teaser: 220- from the harness, 220 from the worker.
start_harness 1 --teaser "mx.test ESMTP doorman"
out=$(client '
print(get())
say("EHLO c.test\r\n"); print(get())
say("MAIL FROM:<a@c.test>\r\n"); print(get())
say("RCPT TO:<b@mx.test>\r\n"); print(get())
say("DATA\r\n"); print(get())
say("Subject: t\r\n\r\nline\nbare\r\n.\r\n"); print(get())
say("QUIT\r\n"); print(get())
')
wait_harness
echo "$out" > "$T/c1"
check "teaser completed by one 220 line" \
	$PY -c 'import sys; l=open(sys.argv[1]).read().split("\n"); sys.exit(not (l[0]=="220-mx.test ESMTP doorman" and l[1]=="220 smtp-sink ESMTP"))' "$T/c1"
check "EHLO reply rewritten (no XCLIENT/XFORWARD)" sh -c "! grep -q 'XCLIENT\|XFORWARD' '$T/c1'"
check "message accepted with 250" grep -q '^250 2.0.0 Ok' "$T/c1"
check "disconnect line" grep -q 'disconnect from unknown\[127.0.0.1\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5' "$T/log"
check "bare LF relayed as CRLF" sh -c "cat '$T'/dump/* 2>/dev/null | grep -q 'bare'"

# 2. The sink killed mid-DATA: 4xx, never 250.
start_harness 1
client '
get()
say("EHLO c.test\r\n"); get()
say("MAIL FROM:<a@c.test>\r\n"); get()
say("RCPT TO:<b@mx.test>\r\n"); get()
say("DATA\r\n"); print(get())
say("Subject: t\r\n\r\n" + "x" * 100 + "\r\n")
time.sleep(0.3)
open(os.environ["T"] + "/kill", "w").write("now")
time.sleep(0.5)
say(("y" * 70 + "\r\n") * 2000)
say(".\r\n"); print("FINAL", get())
say("QUIT\r\n"); print("AFTER", get())
' > "$T/c2" &
cpid=$!
for i in $(seq 1 50); do [ -e "$T/kill" ] && break; sleep 0.1; done
stop_sink
wait $cpid
wait_harness
check "sink killed mid-DATA: 4xx" grep -q '^FINAL 4' "$T/c2"
check "then the session ends" grep -q '^AFTER 221\|^AFTER 421\|^AFTER <EOF>' "$T/c2"

# 3. Upstream down after the teaser: X21 (220, then 421 to EHLO).
start_harness 1 --teaser "mx.test ESMTP doorman"
client '
print(get()); say("EHLO c.test\r\n"); print(get()); print(get())
' > "$T/c3"
wait_harness
check "X21: 220- then 220 then 421" \
	$PY -c 'import sys; l=open(sys.argv[1]).read().split("\n"); sys.exit(not (l[0].startswith("220-") and l[1]=="220 mx.test ESMTP doorman" and l[2].startswith("421 4.3.2") and l[3]=="<EOF>"))' "$T/c3"

# 4. Upstream down, no teaser: 421.
start_harness 1
client 'print(get())' > "$T/c4"
wait_harness
check "upstream down: 421 4.3.2" grep -q '^421 4.3.2 Service currently unavailable' "$T/c4"

# 5. Hostile input.
start_sink
start_harness 1
client '
get()
say("EHLO c.test\r\n"); get()
say("XCLIENT ADDR=1.2.3.4\r\n"); print(get())
say("BDAT 10 LAST\r\n"); print(get())
say("STARTTLS\r\n"); print(get())
say("A" * 100000 + "\r\n"); print(get())
say("NO\0OP\r\n"); print(get())
say("NOOP\n"); print(get())
say("QUIT\r\n"); print(get())
' > "$T/c5"
wait_harness
check "client XCLIENT refused" grep -q '^502 5.5.2 Error: command not recognized' "$T/c5"
check "STARTTLS not implemented" grep -q '^502 5.5.1' "$T/c5"
check "100 KB line answered" grep -q '^500 5.5.0 Error: line too long' "$T/c5"
check "NUL command refused" grep -q '^500 5.5.2' "$T/c5"
check "bare LF command works" grep -q '^250 2.0.0 Ok' "$T/c5"

# 6. Stress: hard error limit 1, then 421 too many errors.
start_harness 1 -o stress=yes
client '
get()
say("EHLO c.test\r\n"); get()
say("BOGUS\r\n"); print(get()); print(get())
' > "$T/c6"
wait_harness
check "stress: too many errors" grep -q '^421 4.7.0 mx.test Error: too many errors' "$T/c6"
check "logged too many errors" grep -q 'too many errors after UNKNOWN from unknown\[127.0.0.1\]' "$T/log"

# 7. Drip, 1 byte/s, under stress (smtpd_timeout 10s, per-record deadline).
start_harness 1 -o stress=yes -o smtpd_timeout=3s
client '
get()
t0 = time.time()
try:
    for ch in "EHLO dripping.example\r\n":
        say(ch); time.sleep(1)
except OSError:
    pass
print(get()); print("ELAPSED", int(time.time() - t0))
' > "$T/c7"
wait_harness
check "drip cut by the per-record deadline" grep -q '^421 4.4.2 mx.test Error: timeout exceeded' "$T/c7"

# 8. XCLIENT and PROXY against a scripted fake upstream on 21026 that
# records what it got first (a real Postfix is the lead's oracle).
fake() {	# fake MODE: serve one session, write what it saw to $T/fake.out
	$PY - "$1" "$T/fake.out" <<'EOF'
import socket, sys
mode, out = sys.argv[1], open(sys.argv[2], "wb")
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 21026)); l.listen(1); l.settimeout(20)
c, _ = l.accept(); c.settimeout(10); f = c.makefile("rb")
if mode == "v2":
    out.write(f.read(28)); out.flush()
elif mode == "v1":
    out.write(f.readline()); out.flush()
c.sendall(b"220 fake ESMTP\r\n")
for line in f:
    out.write(line); out.flush()
    w = line.split(b" ")[0].strip().upper()
    if w == b"EHLO":
        c.sendall(b"250-fake\r\n250-XCLIENT NAME ADDR PROTO HELO PORT\r\n250 PIPELINING\r\n" if mode == "xclient" else b"250-fake\r\n250 PIPELINING\r\n")
    elif w == b"XCLIENT":
        c.sendall(b"220 fake ESMTP after xclient\r\n")
    elif w == b"QUIT":
        c.sendall(b"221 bye\r\n"); break
    else:
        c.sendall(b"250 ok\r\n")
EOF
}
for mode in xclient v1 v2; do
	fake $mode & fakepid=$!
	sleep 0.3
	case $mode in xclient) pp=xclient;; v1) pp=haproxy;; v2) pp=haproxy-v2;; esac
	start_harness 1 --teaser "mx.test ESMTP doorman" -o backend_upstream=127.0.0.1:21026 -o backend_proxy_protocol=$pp
	client 'print(get()); say("EHLO c.test\r\n"); print(get()); say("QUIT\r\n"); print(get())' > "$T/c8$mode"
	wait_harness
	wait $fakepid
	case $mode in
	xclient)
		check "XCLIENT sent with the client address" grep -q "^XCLIENT ADDR=127.0.0.1 PORT=[0-9]* NAME=\[UNAVAILABLE\]" "$T/fake.out"
		check "XCLIENT's 220 is the final greeting" grep -q "^220 fake ESMTP after xclient" "$T/c8$mode"
		check "XCLIENT not shown to the client" sh -c "! grep -q XCLIENT '$T/c8$mode'";;
	v1)
		check "PROXY v1 line" grep -q "^PROXY TCP4 127.0.0.1 127.0.0.1 [0-9]* 21100" "$T/fake.out";;
	v2)
		check "PROXY v2 header" $PY -c 'import sys; b=open(sys.argv[1],"rb").read(); sys.exit(not (b[:12]==b"\r\n\r\n\0\r\nQUIT\n" and b[12:16]==b"\x21\x11\x00\x0c" and b[16:20]==bytes([127,0,0,1])))' "$T/fake.out";;
	esac
done

# 9. XCLIENT not offered (smtp-sink announces only NAME HELO): warning, X21.
start_harness 1 --teaser "mx.test ESMTP doorman" -o backend_proxy_protocol=xclient
client 'print(get()); say("EHLO c.test\r\n"); print(get())' > "$T/c9"
wait_harness
check "XCLIENT refused: X21" grep -q "^421 4.3.2 Service currently unavailable" "$T/c9"
check "XCLIENT refused: warning" grep -q "warning: upstream 127.0.0.1:21025 does not accept XCLIENT ADDR (check smtpd_authorized_xclient_hosts)" "$T/log"

echo "--- log"
cat "$T/log"
[ $fails -eq 0 ] && echo "all ok" || echo "$fails failed"
exit $((fails != 0))
