#!/usr/bin/env bash
# The Cockpit page (issue 20) in a real browser: two agents (uesp driver,
# IKE, PSK) in network namespaces, Cockpit's own web server started here
# twice (cockpit-ws --no-tls --local-session=cockpit-bridge: one as root,
# one as nobody, who is neither root nor in the agent's admin group), and
# headless Debian chromium driven by chromedriver (python3-selenium) through
# console.py: the monitor shows the SA after a ping and refreshes by itself,
# service pause/continue, keyboard and a narrow window, a what-if answer,
# the audit events of those changes and the chain's verdict, a policy made
# in the page applied by the running agent (ping blocked), a refused field
# with ipseccmd's message, and nobody refused with nothing changed.
# Screenshots in $tmp/shots (copied to $PA_CONSOLE_SHOTS when set).
#
# The page is made visible without installing it: the bridge looks for
# packages in $XDG_DATA_HOME/cockpit (its user's ~/.local/share/cockpit),
# so each cockpit-ws gets XDG_DATA_HOME=$tmp/xdg holding a copy of
# snapin_export/cockpit as ipsec-agent/, and a PATH whose ipseccmd is a
# wrapper naming this test's configuration (-c). Needs root, netns, TUN,
# cockpit-ws, cockpit-bridge, chromium, chromedriver, python3-selenium;
# skips (77) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
src=${PA_SOURCE_DIR:-$(cd "$here/../../.." && pwd)}

t_need_agents setpriv
ws=/usr/lib/cockpit/cockpit-ws
[ -x "$ws" ] || skip "cockpit-ws is not installed"
command -v cockpit-bridge >/dev/null || skip "cockpit-bridge is not installed"
[ -x /usr/bin/chromium ] || skip "chromium is not installed"
[ -x /usr/bin/chromedriver ] || skip "chromium-driver is not installed"
/usr/bin/python3 -c 'import selenium' 2>/dev/null || skip "python3-selenium is not installed"

t_tmpdir hcon
chmod 711 "$tmp"
na=hcon-a-$$ nb=hcon-b-$$
t_netns $na $nb
t_veth $na hcon-va-$$ 10.203.0.1/24 $nb hcon-vb-$$ 10.203.0.2/24
for s in a b; do
	peer=10.203.0.2
	[ $s = a ] || peer=10.203.0.1
	mkdir -p "$tmp/$s"
	sed "s/@PEER@/$peer/" "$here/../service/pair_store.xml" > "$tmp/$s/store.xml"
	cp "$here/../service/pair_secrets.xml" "$tmp/$s/secrets.xml"
	chmod 600 "$tmp/$s/secrets.xml"
	t_agent_conf $s "ike = on" "natt_port = off"
done
chmod 644 "$tmp/a.conf"
t_agent_start a $na
t_agent_start b $nb
ip netns exec $na ping -c 3 -W 5 10.203.0.2 >/dev/null ||
    fail "no traffic between the agents: $(tail -5 "$tmp/a/oakley.log")"

# The page, and ipseccmd as the page will run it.
mkdir -p "$tmp/xdg/cockpit" "$tmp/bin" "$tmp/home-root" "$tmp/home-nobody" "$tmp/shots"
cp -r "$src/snapin_export/cockpit" "$tmp/xdg/cockpit/ipsec-agent"
chmod -R a+rX "$tmp/xdg"
printf '#!/bin/sh\nexec %s -c %s "$@"\n' "$cmd" "$tmp/a.conf" > "$tmp/bin/ipseccmd"
chmod 755 "$tmp/bin/ipseccmd"
chown nobody "$tmp/home-nobody"

# Two free ports for the two web servers.
read -r p_admin p_viewer < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cockpit() { # USER HOME PORT
	local run=()
	[ "$1" = root ] || run=(setpriv --reuid="$1" --regid=nogroup --clear-groups)
	env -i PATH="$tmp/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$2" \
	    XDG_DATA_HOME="$tmp/xdg" XDG_RUNTIME_DIR="$2" LANG=C.UTF-8 \
	    "${run[@]}" "$ws" --no-tls --address 127.0.0.1 --port "$3" \
	    --local-session=cockpit-bridge > "$2/ws.log" 2>&1 &
	t_at_exit kill $!
}
cockpit root "$tmp/home-root" "$p_admin"
cockpit nobody "$tmp/home-nobody" "$p_viewer"
for p in "$p_admin" "$p_viewer"; do
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
		sleep 0.1
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null ||
	    fail "cockpit-ws on port $p: $(cat "$tmp"/home-*/ws.log)"
done
page=cockpit/@localhost/ipsec-agent/index.html
/usr/bin/python3 "$here/console.py" "http://127.0.0.1:$p_admin/$page" \
    "http://127.0.0.1:$p_viewer/$page" "$tmp/bin/ipseccmd" "$tmp/shots" \
    $na 10.203.0.1 10.203.0.2 || fail "the page (screenshots in $tmp/shots;" \
    "cockpit-ws: $(tail -n 5 "$tmp"/home-*/ws.log))"
if [ -n "${PA_CONSOLE_SHOTS:-}" ]; then
	mkdir -p "$PA_CONSOLE_SHOTS"
	cp "$tmp"/shots/*.png "$PA_CONSOLE_SHOTS"/
fi
pass "the console in chromium through cockpit-ws (screenshots: $(cd "$tmp/shots" && echo *.png))"
t_finish "console"
