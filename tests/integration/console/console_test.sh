#!/usr/bin/env bash
# The Cockpit page (issue 20) in a real browser: two agents (uesp driver,
# IKE, PSK) in network namespaces, Cockpit's own web server started here
# three times (cockpit-ws --no-tls --local-session=cockpit-bridge: as root,
# as nobody in agent A's admin_group adm, as nobody without it), and
# headless Debian chromium driven by chromedriver (python3-selenium) through
# console.py: the monitor shows the SA after a ping and refreshes by itself,
# service pause/continue, keyboard and a narrow window, a what-if answer,
# the audit events of those changes and the chain's verdict, a policy made
# in the page applied by the running agent (ping blocked), a refused field
# with ipseccmd's message; a member of the agent's admin_group (nobody with
# the group adm) pauses and continues the service, audited with its uid;
# nobody without the group refused with nothing changed.
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
getent group adm >/dev/null || skip "no group adm (agent A's admin_group here)"
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
	t_agent_conf $s "ike = on" "natt_port = off" "admin_group = adm"
done
chmod 644 "$tmp/a.conf"
t_agent_start a $na
t_agent_start b $nb
ip netns exec $na ping -c 3 -W 5 10.203.0.2 >/dev/null ||
    fail "no traffic between the agents: $(tail -5 "$tmp/a/oakley.log")"

# The page, and ipseccmd as the page will run it.
mkdir -p "$tmp/xdg/cockpit" "$tmp/bin" "$tmp/shots"
cp -r "$src/snapin_export/cockpit" "$tmp/xdg/cockpit/ipsec-agent"
chmod -R a+rX "$tmp/xdg"
printf '#!/bin/sh\nexec %s -c %s "$@"\n' "$cmd" "$tmp/a.conf" > "$tmp/bin/ipseccmd"
chmod 755 "$tmp/bin/ipseccmd"

# Three free ports for the three web servers.
read -r p_admin p_member p_viewer < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cockpit() { # NAME PORT [SETPRIV-ARGS...]: its home is $tmp/home-NAME
	local h=$tmp/home-$1 p=$2 run=()
	shift 2
	[ $# = 0 ] || run=(setpriv "$@")
	mkdir -p "$h"
	[ $# = 0 ] || chown nobody "$h"
	env -i PATH="$tmp/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$h" \
	    XDG_DATA_HOME="$tmp/xdg" XDG_RUNTIME_DIR="$h" LANG=C.UTF-8 \
	    "${run[@]}" "$ws" --no-tls --address 127.0.0.1 --port "$p" \
	    --local-session=cockpit-bridge > "$h/ws.log" 2>&1 &
	t_at_exit kill $!
}
cockpit root "$p_admin"
cockpit member "$p_member" --reuid=nobody --regid=nogroup --groups=adm
cockpit viewer "$p_viewer" --reuid=nobody --regid=nogroup --clear-groups
for p in "$p_admin" "$p_member" "$p_viewer"; do
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
		sleep 0.1
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null ||
	    fail "cockpit-ws on port $p: $(cat "$tmp"/home-*/ws.log)"
done
page=cockpit/@localhost/ipsec-agent/index.html
/usr/bin/python3 "$here/console.py" "http://127.0.0.1:$p_admin/$page" \
    "http://127.0.0.1:$p_member/$page" "http://127.0.0.1:$p_viewer/$page" "$tmp/bin/ipseccmd" "$tmp/shots" \
    $na 10.203.0.1 10.203.0.2 || fail "the page (screenshots in $tmp/shots;" \
    "cockpit-ws: $(tail -n 5 "$tmp"/home-*/ws.log))"
if [ -n "${PA_CONSOLE_SHOTS:-}" ]; then
	mkdir -p "$PA_CONSOLE_SHOTS"
	cp "$tmp"/shots/*.png "$PA_CONSOLE_SHOTS"/
fi
pass "the console in chromium through cockpit-ws (screenshots: $(cd "$tmp/shots" && echo *.png))"
t_finish "console"
