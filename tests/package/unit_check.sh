#!/bin/bash
# Runs INSIDE a container booted with systemd (tests/package/unit_test.sh),
# as a oneshot unit, against the installed package: the real unit, with
# all its sandboxing, started and driven by systemd. Writes "ok"/"FAIL"
# lines to /out/result and powers the container off.
out=/out/result
: > "$out"
ok() { echo "ok - $*" >> "$out"; }
bad() { echo "FAIL - $*" >> "$out"; }
check() { local what=$1; shift; if "$@" >> /out/log 2>&1; then ok "$what"; else bad "$what"; fi; }

# The private network has only lo: an address for IKE (a veth pair; the
# minimal kernels here have no dummy module).
check "an address for IKE (veth in the private network)" sh -c '
    ip link add pkgv0 type veth peer name pkgv1 &&
    ip addr add 192.0.2.10/24 dev pkgv0 && ip link set pkgv0 up &&
    ip link set pkgv1 up'
# A policy with filters, authored in the installed store (/etc overlay).
check "ipseccmd static: assign a built-in policy in /etc/ipsec-agent/store.xml" \
    ipseccmd static set policy "name=Server (Request Security)" assign=yes
check "systemctl start ipsec-agentd" systemctl start ipsec-agentd.service
check "the unit is active" systemctl is-active ipsec-agentd.service
check "ipseccmd service status: RUNNING" \
    sh -c 'ipseccmd service status | grep -q RUNNING'
check "ipseccmd show filters: the policy's filters are in the driver" \
    sh -c 'ipseccmd --json show filters | grep -q "\"action\""'
pid=$(systemctl show -p MainPID --value ipsec-agentd.service)
st=/proc/$pid/status
check "capabilities: exactly NET_ADMIN, NET_RAW, NET_BIND_SERVICE" \
    sh -c "grep -E '^Cap(Eff|Prm|Bnd):' $st | awk '{print \$2}' | sort -u | grep -qx 0000000000003400"
check "seccomp filter and no_new_privs on" \
    sh -c "grep -q '^Seccomp:[[:space:]]*2' $st && grep -q '^NoNewPrivs:[[:space:]]*1' $st"
check "control socket root:ipsec-admins 0660" \
    sh -c '[ "$(stat -c %U:%G:%a /run/ipsec-agent/control.sock)" = root:ipsec-admins:660 ]'
check "a user outside ipsec-admins cannot pause the service" \
    sh -c '! setpriv --reuid nobody --regid nogroup --clear-groups ipseccmd service pause'
check "a member of ipsec-admins can (pause, continue)" \
    sh -c 'g=$(getent group ipsec-admins | cut -d: -f3); setpriv --reuid nobody --regid nogroup --groups $g ipseccmd service pause && setpriv --reuid nobody --regid nogroup --groups $g ipseccmd service continue'
check "systemctl reload: still active" \
    sh -c 'systemctl reload ipsec-agentd.service && systemctl is-active ipsec-agentd.service'
check "state, log and run directories" \
    sh -c '[ -d /var/lib/ipsec-agent ] && [ -d /var/log/ipsec-agent ] && [ -S /run/ipsec-agent/control.sock ]'
check "systemctl stop: clean (Result=success)" \
    sh -c 'systemctl stop ipsec-agentd.service && [ "$(systemctl show -p Result --value ipsec-agentd.service)" = success ]'
check "the stop was audited (event 4293 or 'service stopped')" \
    sh -c 'journalctl -u ipsec-agentd --no-pager | grep -q "service stopped"'
journalctl -u ipsec-agentd --no-pager > /out/journal.txt 2>&1
systemctl poweroff
