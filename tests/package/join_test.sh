#!/usr/bin/env bash
# join_test.sh IPSEC_AGENTD IPSECCMD -- README "Join a domain", as an
# administrator would do it: a throwaway Samba AD DC (LDAP, KDC, DNS) in a
# private network namespace holds an IPsec policy assigned through the
# Default Domain Policy; the member joins with `adcli join` (Debian package
# adcli), which creates its computer account and writes /etc/krb5.keytab;
# the agent is configured with only policy_source = directory,
# directory_domain, directory_base and directory_computer (keytab and
# principal by default), started with `ipseccmd service start`, and must
# apply the domain policy (`ipseccmd show all`). /etc is a copy-on-write
# overlay in a private mount namespace: the host's /etc/krb5.keytab,
# krb5.conf and /etc/ipsec-agent are never touched. The data path is the
# null driver and IKE is off (the policy is what this test is about);
# state, socket and audit live in the temp dir.
# Skips (77) without root, Samba's AD DC or adcli.
set -euo pipefail
agentd=${1:?usage: join_test.sh IPSEC_AGENTD IPSECCMD}
cmd=${2:?}
here=$(cd "$(dirname "$0")" && pwd)
DDP='{31B2F340-016D-11D2-945F-00C04FB984F9}'	# Default Domain Policy
POLICY="Secure Server (Require Security)"
. "$here/../lib/samba.sh"
samba_need adcli ldapsearch jq unshare
[ "$(readlink -f "$(dirname "$agentd")")" = "$(readlink -f "$(dirname "$cmd")")" ] ||
    die "ipsec-agentd and ipseccmd must be in the same folder"
t_tmpdir pkg-join
samba_provision AD.EXAMPLE.TEST ad.example.test "ldap kdc dns"
adminpw="Adm-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')7q"
samba-tool user setpassword Administrator --newpassword="$adminpw" \
    -s "$samba_smb" >"$tmp/setpw.log" 2>&1 || samba_fail setpw.log
# Offline: computers may read the IPsec objects, the policy is assigned in
# the Default Domain Policy, dc1 has its A record (for the SRV target).
/usr/bin/python3 - "$samba_smb" "$DDP" "$POLICY" >"$tmp/setup.log" 2>&1 <<'PY' || samba_fail setup.log
import sys
import ldb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_unpack
from samba.param import LoadParm
from samba.provision import sambadns
from samba.samdb import SamDB

smb, ddp, name = sys.argv[1:4]
lp = LoadParm()
lp.load(smb)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = str(db.domain_dn())
sid = security.dom_sid(str(db.get_domain_sid()))
ipsec = "CN=IP Security,CN=System," + base
res = db.search(base=ipsec, scope=ldb.SCOPE_BASE,
                attrs=["nTSecurityDescriptor"], controls=["sd_flags:1:4"])
desc = ndr_unpack(security.descriptor, res[0]["nTSecurityDescriptor"][0])
new = desc.as_sddl() + "(A;CI;RPLCLORC;;;%s-515)" % str(sid)
m = ldb.Message(ldb.Dn(db, ipsec))
m["nTSecurityDescriptor"] = ldb.MessageElement(
    [security.descriptor.from_sddl(new, sid).__ndr_pack__()],
    ldb.FLAG_MOD_REPLACE, "nTSecurityDescriptor")
db.modify(m, controls=["sd_flags:1:4"])
res = db.search(base=ipsec, scope=ldb.SCOPE_ONELEVEL,
                expression="(&(objectClass=ipsecPolicy)(ipsecName=%s))"
                % ldb.binary_encode(name), attrs=["dn"])
parent = "CN=Machine,CN=%s,CN=Policies,CN=System,%s" % (ddp, base)
for cn in ("Microsoft", "Windows"):
    parent = "CN=%s,%s" % (cn, parent)
    try:
        db.add({"dn": parent, "objectClass": "container"})
    except ldb.LdbError:
        pass
db.add({"dn": "CN=IPSEC," + parent, "objectClass": "ipsecPolicy",
        "ipsecName": name, "ipsecOwnersReference": str(res[0].dn)})
sambadns.add_host_record(db, "DC=%s,CN=MicrosoftDNS,DC=DomainDnsZones,%s"
                         % (db.domain_dns_name(), base), "DC=dc1",
                         "127.0.0.1", None)
print("ok")
PY
dc_up() {
	ip netns exec "$samba_ns" ldapsearch -x -H ldap://127.0.0.1 -b "" \
	    -s base -LLL defaultNamingContext >/dev/null 2>&1 &&
	    ip netns exec "$samba_ns" host -W 1 dc1.$samba_dns 127.0.0.1 \
	    >/dev/null 2>&1
}
command -v host >/dev/null || dc_up() {
	ip netns exec "$samba_ns" ldapsearch -x -H ldap://127.0.0.1 -b "" \
	    -s base -LLL defaultNamingContext >/dev/null 2>&1
}
samba_start pjoin dc_up

# The member's /etc, copy-on-write: resolver on the DC, the realm's
# krb5.conf, the agent's configuration as README "Join a domain" has it.
mkdir -p "$tmp/etc-up/ipsec-agent" "$tmp/etc-work" "$tmp/state"
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' \
    >"$tmp/etc-up/resolv.conf"
cat >"$tmp/etc-up/krb5.conf" <<EOF
[libdefaults]
	default_realm = $samba_realm
	dns_lookup_kdc = true
	rdns = false
	dns_canonicalize_hostname = false
EOF
cat >"$tmp/etc-up/ipsec-agent/ipsec-agentd.conf" <<EOF
# README "Join a domain"
policy_source = directory
directory_domain = $samba_dns
directory_base = DC=ad,DC=example,DC=test
directory_computer = MEMBER1\$
# This test only: no TLS on the DC's LDAP (GSSAPI signs and seals), quick
# polls, the null driver without IKE, its files in the temp dir.
directory_starttls = no
directory_min_poll = 1
directory_backoff_unit = 1
directory_cache = $tmp/state/directory-policy.cache
driver = null
ike = off
audit_sink = none
audit_file = $tmp/audit.jsonl
control_socket = $tmp/ctl.sock
state_dir = $tmp/state
drop_privileges = no
EOF
cat >"$tmp/member.sh" <<EOF
set -euo pipefail
mount -t overlay overlay -o lowerdir=/etc,upperdir=$tmp/etc-up,workdir=$tmp/etc-work /etc
[ ! -e /etc/krb5.keytab ] || { echo "FAIL: the overlay shows a keytab"; exit 1; }
echo '$adminpw' | adcli join --domain=$samba_dns \\
    --domain-controller=dc1.$samba_dns --computer-name=MEMBER1 \\
    --host-fqdn=member1.$samba_dns -U Administrator --stdin-password \\
    -v > $tmp/adcli.log 2>&1 || { cat $tmp/adcli.log; echo "FAIL: adcli join"; exit 1; }
echo "ok - adcli join: MEMBER1\\\$ in $samba_realm, /etc/krb5.keytab written"
klist -k /etc/krb5.keytab | grep -q 'MEMBER1\\\$@$samba_realm' ||
    { klist -k /etc/krb5.keytab; echo "FAIL: no MEMBER1\\\$ key"; exit 1; }
# An address besides loopback, for the policy's "me" filters.
ip link add pjv0 type veth peer name pjv1 && ip addr add 192.0.2.10/24 dev pjv0 &&
    ip link set pjv0 up && ip link set pjv1 up
"$cmd" service start > $tmp/start.log 2>&1 ||
    { cat $tmp/start.log; echo "FAIL: ipseccmd service start"; exit 1; }
deadline=\$((\$(date +%s) + \${SAMBA_TIMEOUT:-60}))
while :; do
	st=\$("$cmd" --json service status)
	[ "\$(jq -r .directory.last_poll <<<"\$st")" != applied ] || break
	[ "\$(date +%s)" -lt "\$deadline" ] || { echo "FAIL: no domain policy: \$st"; exit 1; }
	"$cmd" reload >/dev/null
done
"$cmd" show all > $tmp/show.txt
[ "\$(jq -r .policy <<<"\$st")" = "$POLICY" ] || { echo "FAIL: policy: \$st"; exit 1; }
grep -q "$POLICY" $tmp/show.txt || { cat $tmp/show.txt; echo "FAIL: show all"; exit 1; }
[ "\$("$cmd" --json show filters | jq '.filters | length')" -gt 0 ] ||
    { echo "FAIL: no filters"; exit 1; }
echo "ok - the agent bound with /etc/krb5.keytab, found the DC by DNS and applied '$POLICY' (ipseccmd show all)"
"$cmd" --timeout 5000 service stop >/dev/null
EOF
stop_agent() { [ ! -S "$tmp/ctl.sock" ] || "$cmd" -c "$tmp/etc-up/ipsec-agent/ipsec-agentd.conf" --timeout 5000 service stop; }
t_at_exit stop_agent
ip netns exec "$samba_ns" unshare -m --propagation private \
    bash "$tmp/member.sh" || die "the member did not get the domain policy"
[ ! -e /etc/krb5.keytab ] || die "a /etc/krb5.keytab appeared on the host"
echo "all join_test checks passed"
