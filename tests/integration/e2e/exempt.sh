#!/usr/bin/env bash
# Kerberos is exempt from the policy, as Windows 2000/XP exempt it by
# default: a domain member must reach its KDC (Kerberos IKE needs a ticket
# before it can secure anything). ipsec-agentd (uesp) in one namespace
# has a rule "negotiate everything with 10.80.0.2"; the peer runs no
# agent, so nothing of it can be secured. Kerberos (UDP and TCP port 88)
# still flows in clear both ways; the same traffic to port 89 does not
# (held for IKE outbound, dropped and counted as clear text inbound).
# Needs root, netns, TUN, nft, python3; skips (77) otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"

t_need_agents python3

id=$$
nsA=e2e-xa$id nsB=e2e-xb$id
t_tmpdir e2e-exempt
t_netns $nsA $nsB
t_veth $nsA e2exa$id 10.80.0.1/24 $nsB e2exb$id 10.80.0.2/24

# echo ADDR PORT READY: a UDP and a TCP echo service (one line each);
# READY is created once both listen
cat > "$tmp/echo.py" <<'EOP'
import socket, sys, threading
addr, port = sys.argv[1], int(sys.argv[2])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((addr, port))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, port))
t.listen(8)
open(sys.argv[3], "w").close()
def udp():
    while True:
        d, a = u.recvfrom(2048)
        u.sendto(d, a)
def tcp():
    while True:
        c, _ = t.accept()
        c.sendall(c.recv(2048))
        c.close()
threading.Thread(target=udp, daemon=True).start()
tcp()
EOP
# ask NS SRC DST PORT udp|tcp: "ok" if DST:PORT echoes within 2 s
cat > "$tmp/ask.py" <<'EOP'
import socket, sys
src, dst, port, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET,
    socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
s.bind((src, 0))
s.settimeout(2)
try:
    if kind == "udp":
        s.sendto(b"krb", (dst, port))
        d = s.recv(64)
    else:
        s.connect((dst, port))
        s.sendall(b"krb")
        d = s.recv(64)
    print("ok" if d == b"krb" else "bad")
except OSError:
    print("no")
EOP
pids=()
for p in 88 89; do
	ip netns exec $nsB python3 "$tmp/echo.py" 10.80.0.2 $p "$tmp/rb$p" &
	pids+=($!)
	ip netns exec $nsA python3 "$tmp/echo.py" 10.80.0.1 $p "$tmp/ra$p" &
	pids+=($!)
done
t_at_exit kill "${pids[@]}"
# (the echo services listen before anything asks them)
for _ in $(seq 1 500); do
	[ -f "$tmp/rb88" ] && [ -f "$tmp/ra88" ] && [ -f "$tmp/rb89" ] &&
	    [ -f "$tmp/ra89" ] && break
	sleep 0.02
done
ask() { ip netns exec "$1" python3 "$tmp/ask.py" "$2" "$3" "$4" "$5"; }

t_psk_policy a me host:10.80.0.2
t_agent_conf a "natt_port = off"
A=("$cmd" -c "$tmp/a.conf")
t_agent_start a $nsA
t_fail_log=$tmp/a/oakley.log

for kind in udp tcp; do
	[ "$(ask $nsA 10.80.0.1 10.80.0.2 88 $kind)" = ok ] ||
	    fail "Kerberos ($kind 88) from us to the peer did not pass"
	[ "$(ask $nsB 10.80.0.2 10.80.0.1 88 $kind)" = ok ] ||
	    fail "Kerberos ($kind 88) from the peer to us did not pass"
done
pass "Kerberos, UDP and TCP port 88, passes in clear both ways"

c0=$("${A[@]}" --json show stats | jq '.ipsec.unexpected_clear_text_packets')
for kind in udp tcp; do
	[ "$(ask $nsA 10.80.0.1 10.80.0.2 89 $kind)" = no ] ||
	    fail "$kind port 89 to the peer passed in clear"
	[ "$(ask $nsB 10.80.0.2 10.80.0.1 89 $kind)" = no ] ||
	    fail "$kind port 89 from the peer got in in clear"
done
c1=$("${A[@]}" --json show stats | jq '.ipsec.unexpected_clear_text_packets')
[ "$c1" -gt "$c0" ] || fail "the peer's clear text to port 89 was not counted"
grep -q "acquire" "$tmp/a/oakley.log" ||
    fail "our port 89 traffic did not raise an acquire"
pass "the same traffic to port 89 is held for IKE outbound and dropped (counted) inbound"

t_agent_stop a || fail "stop"
t_finish "exemption"
