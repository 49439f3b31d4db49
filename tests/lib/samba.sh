# samba.sh -- sourced by the tests that need a real Active Directory: a
# throwaway Samba AD DC in a private network namespace. Sources check.sh;
# call t_tmpdir first (everything lives in $tmp).
#
#   samba_need TOOL...
#       skip (77) unless root, samba, samba-tool, ip, kinit, the TOOLs and
#       python3-samba are there
#   samba_provision REALM DNS SERVICES
#       a new domain (NetBIOS name AD, DC dc1 on 127.0.0.1) in $tmp/ad;
#       its smb.conf ($samba_smb) runs only SERVICES (e.g. "ldap kdc").
#       With "dns" among them the zone is Samba's internal DNS (the DC's
#       A and SRV records, served on 127.0.0.1:53), else there is no DNS.
#       Sets samba_realm, samba_dns.
#   samba_computers NAME...
#       machine accounts as a modern Windows join leaves them: NAME$ with
#       the SPNs host/NAME.DNS and HOST/NAME, dNSHostName, AES only, a
#       random password; the keys of NAME$ and host/NAME.DNS exported to
#       $tmp/keytabs/NAME.keytab (checked)
#   samba_krb5_conf
#       $tmp/krb5.conf: the realm's KDC on 127.0.0.1:88, no DNS asked
#   samba_start PREFIX PROBE...
#       start samba in a new namespace ($samba_ns, named PREFIX + a part
#       of $tmp) and wait until the command PROBE (which enters
#       $samba_ns itself) succeeds; SAMBA_TIMEOUT seconds (default 60).
#       On exit samba is stopped and the namespace deleted. Sets
#       samba_pid; samba_provision set samba_adminpass (Administrator's).
#   samba_start_in NS PROBE...
#       the same in the namespace NS made by the caller (t_netns), which
#       may already have its links (samba_listen); samba_halt stops samba
#       on exit, or before to take the DC away (the namespace stays)
#   samba_listen ADDR
#       (before the start) the DC serves on ADDR (and 127.0.0.1): LDAP,
#       the KDC, DNS
#   samba_dns_host NAME ADDR
#       (before the start) A record NAME.$samba_dns -> ADDR in the
#       internal DNS (the provision registers none for dc1 on loopback)
#   samba_setup_ipsec
#       (before the start) let Domain Computers read CN=IP Security (the
#       AD schema gives its classes an empty default security descriptor):
#       samba-tool dsacl set, an inherited ACE (A;CI;RPLCLORC;;;DC)
#   samba_gpo OU NAME POLICY
#       (before the start) OU=OU under the domain, a GPO NAME linked to it
#       whose Machine part assigns the ipsecPolicy named POLICY (ipsecName,
#       e.g. "Client (Respond Only)"), as the IPsec snap-in writes it
#   samba_assign NAME POLICY
#       (DC running, over LDAP as Administrator, as an administrator's
#       change) the GPO NAME now assigns the ipsecPolicy named POLICY

# shellcheck source=check.sh
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"
export PATH="$PATH:/usr/sbin:/sbin"

samba_pid=
samba_ns=

# show a log of $tmp, fail
samba_fail() {
	cat "$tmp/$1"
	die "samba set-up failed (see $1)"
}

samba_need() {
	t_need_root "network namespace, samba"
	t_need_tools samba samba-tool ip kinit "$@"
	/usr/bin/python3 -c 'import samba.samdb' 2>/dev/null ||
	    skip "python3-samba not installed"
}

samba_provision() {
	samba_realm=$1 samba_dns=$2
	local ad="$tmp/ad" dns=NONE
	samba_smb="$ad/etc/smb.conf"
	samba_adminpass="Pa-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')9x"
	case " $3 " in *" dns "*) dns=SAMBA_INTERNAL ;; esac
	mkdir -p "$ad/run" "$ad/log" || die "mkdir $ad"
	samba-tool domain provision --targetdir="$ad" --realm="$samba_realm" \
	    --domain=AD --server-role=dc --dns-backend=$dns \
	    --adminpass="$samba_adminpass" \
	    --host-name=dc1 --host-ip=127.0.0.1 \
	    --option="interfaces = lo" --option="bind interfaces only = yes" \
	    --option="pid directory = $ad/run" \
	    --option="ncalrpc dir = $ad/run/ncalrpc" \
	    --option="ntp signd socket directory = $ad/run/ntp_signd" \
	    --option="winbindd socket directory = $ad/run/winbindd" \
	    --option="log file = $ad/log/log.%m" >"$tmp/provision.log" 2>&1 ||
	    { tail -n 20 "$tmp/provision.log"; die "samba-tool domain provision"; }
	sed -i "s/^\([[:space:]]*server services[[:space:]]*=\).*/\1 $3/" \
	    "$samba_smb"
}

samba_computers() {
	local n kt
	/usr/bin/python3 - "$samba_smb" "$samba_dns" "$@" \
	    >>"$tmp/accounts.log" 2>&1 <<'PY' || samba_fail accounts.log
import secrets, sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

smb, dns, names = sys.argv[1], sys.argv[2], sys.argv[3:]
lp = LoadParm()
lp.load(smb)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
for n in names:
    fqdn = "%s.%s" % (n, dns)
    db.newcomputer(n, service_principal_name_list=["host/" + fqdn,
                                                   "HOST/" + n.upper()])
    db.setpassword("(sAMAccountName=%s$)" % n, secrets.token_urlsafe(48))
    res = db.search(base=db.domain_dn(), scope=ldb.SCOPE_SUBTREE,
                    expression="(sAMAccountName=%s$)" % n, attrs=["dn"])
    m = ldb.Message(res[0].dn)
    m["dNSHostName"] = ldb.MessageElement(fqdn, ldb.FLAG_MOD_REPLACE,
                                          "dNSHostName")
    # 0x18: AES128 + AES256, as Windows 7 and later joins set it.
    m["msDS-SupportedEncryptionTypes"] = ldb.MessageElement(
        "24", ldb.FLAG_MOD_REPLACE, "msDS-SupportedEncryptionTypes")
    db.modify(m)
    print("created %s$ (%s)" % (n, fqdn))
PY
	mkdir -p "$tmp/keytabs" || die "mkdir $tmp/keytabs"
	for n; do
		kt="$tmp/keytabs/$n.keytab"
		samba-tool domain exportkeytab "$kt" \
		    --principal="$n\$@$samba_realm" -s "$samba_smb" \
		    >>"$tmp/accounts.log" 2>&1
		samba-tool domain exportkeytab "$kt" \
		    --principal="host/$n.$samba_dns@$samba_realm" \
		    -s "$samba_smb" >>"$tmp/accounts.log" 2>&1
		klist -k "$kt" | grep -q "host/$n.$samba_dns@$samba_realm" ||
		    { cat "$tmp/accounts.log"; klist -k -e "$kt";
		    die "no SPN key in $kt"; }
	done
}

samba_krb5_conf() {
	samba_krb5_write "$tmp/krb5.conf" 127.0.0.1:88 2
}

# PATH KDC SECONDS: a krb5.conf for the realm whose KDC is KDC, no DNS asked
samba_krb5_write() {
	cat > "$1" <<EOF || die "cannot write $1"
[libdefaults]
	default_realm = $samba_realm
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	qualify_shortname = ""
	kdc_timeout = ${3}s

[realms]
	$samba_realm = {
		kdc = $2
	}

[domain_realm]
	.$samba_dns = $samba_realm
	$samba_dns = $samba_realm
EOF
}

# (on exit) samba, then whatever else runs in its namespace, then the
# namespace
samba_stop() {
	local p
	if [ -n "$samba_pid" ]; then
		kill -TERM "$samba_pid" 2>/dev/null
		for _ in $(seq 1 100); do
			kill -0 "$samba_pid" 2>/dev/null || break
			sleep 0.05
		done
	fi
	if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$samba_ns"
	then
		for p in $(ip netns pids "$samba_ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns delete "$samba_ns" 2>/dev/null
	fi
	return 0
}

samba_start() {
	samba_ns="$1$(basename "$tmp" | tr -dc 'a-zA-Z0-9' | tail -c 8)"
	shift
	ip netns add "$samba_ns" || die "cannot create network namespace"
	t_at_exit samba_stop
	ip netns exec "$samba_ns" ip link set lo up
	samba_run "$@"
}

# samba in $samba_ns (made and registered by the caller), PROBE as above
samba_run() {
	local deadline
	ip netns exec "$samba_ns" samba -F --no-process-group -s "$samba_smb" \
	    </dev/null >"$tmp/samba.log" 2>&1 &
	samba_pid=$!
	deadline=$(($(date +%s) + ${SAMBA_TIMEOUT:-60}))
	until "$@"; do
		kill -0 "$samba_pid" 2>/dev/null ||
		    { tail -n 30 "$tmp/samba.log"; die "samba exited"; }
		[ "$(date +%s)" -lt "$deadline" ] ||
		    { tail -n 30 "$tmp/samba.log";
		    die "samba not up in ${SAMBA_TIMEOUT:-60}s"; }
		sleep 0.1
	done
}

samba_start_in() {
	samba_ns=$1
	shift
	t_at_exit samba_halt
	samba_run "$@"
}

# stop samba (every samba process of $samba_ns), leave the namespace
samba_halt() {
	local p
	[ -n "$samba_pid" ] || return 0
	kill -TERM "$samba_pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$samba_pid" 2>/dev/null || break
		sleep 0.05
	done
	for p in $(ip netns pids "$samba_ns" 2>/dev/null); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" != \
		    "$(command -v samba)" ] || kill -KILL "$p" 2>/dev/null
	done
	wait "$samba_pid" 2>/dev/null || true
	samba_pid=
	return 0
}

samba_listen() {
	sed -i "s/^\([[:space:]]*interfaces[[:space:]]*=\).*/\1 lo $1/" \
	    "$samba_smb"
}

# python3 - SCRIPT ARG...: SamDB of $samba_smb as the system is "db"
samba_py() {
	local log=$1
	shift
	/usr/bin/python3 - "$samba_smb" "$@" >>"$tmp/$log" 2>&1 ||
	    samba_fail "$log"
}

samba_dns_host() {
	samba_py setup.log "$1" "$2" <<'PY'
import sys
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
from samba.provision import sambadns
lp = LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
sambadns.add_host_record(db, "DC=%s,CN=MicrosoftDNS,DC=DomainDnsZones,%s"
                         % (db.domain_dns_name(), db.domain_dn()),
                         "DC=" + sys.argv[2], sys.argv[3], None)
print("A %s -> %s" % (sys.argv[2], sys.argv[3]))
PY
}

samba_setup_ipsec() {
	samba-tool dsacl set -H "$(dirname "$samba_smb")/../private/sam.ldb" \
	    --objectdn="CN=IP Security,CN=System,DC=${samba_dns//./,DC=}" \
	    --sddl="(A;CI;RPLCLORC;;;DC)" >>"$tmp/setup.log" 2>&1 ||
	    samba_fail setup.log
}

samba_gpo() {
	samba_py setup.log "$1" "$2" "$3" <<'PY'
import sys
import uuid
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
smb, ou, name, policy = sys.argv[1:5]
lp = LoadParm()
lp.load(smb)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = str(db.domain_dn())
pol = db.search(base="CN=IP Security,CN=System," + base,
                scope=ldb.SCOPE_ONELEVEL, attrs=["dn"],
                expression="(&(objectClass=ipsecPolicy)(ipsecName=%s))"
                % ldb.binary_encode(policy))
assert len(pol) == 1, "no ipsecPolicy named %s" % policy
ou_dn = "OU=%s,%s" % (ou, base)
try:
    db.add({"dn": ou_dn, "objectClass": "organizationalUnit"})
except ldb.LdbError:
    pass
guid = "{%s}" % str(uuid.uuid4()).upper()
gpo = "CN=%s,CN=Policies,CN=System,%s" % (guid, base)
db.add({"dn": gpo, "objectClass": "groupPolicyContainer",
        "displayName": name, "flags": "0", "versionNumber": "1",
        "gPCFunctionalityVersion": "2",
        "gPCFileSysPath": "\\\\%s\\SysVol\\%s\\Policies\\%s"
        % (db.domain_dns_name(), db.domain_dns_name(), guid)})
parent = gpo
for cn in ("User", "Machine"):
    db.add({"dn": "CN=%s,%s" % (cn, gpo), "objectClass": "container"})
parent = "CN=Machine," + gpo
for cn in ("Microsoft", "Windows"):
    parent = "CN=%s,%s" % (cn, parent)
    db.add({"dn": parent, "objectClass": "container"})
db.add({"dn": "CN=IPSEC," + parent, "objectClass": "ipsecPolicy",
        "ipsecName": policy, "ipsecOwnersReference": str(pol[0].dn)})
m = ldb.Message(ldb.Dn(db, ou_dn))
m["gPLink"] = ldb.MessageElement("[LDAP://%s;0]" % gpo,
                                 ldb.FLAG_MOD_REPLACE, "gPLink")
db.modify(m)
print("GPO %s %s on %s assigns %s" % (name, guid, ou_dn, pol[0].dn))
PY
}

samba_assign() {
	ip netns exec "$samba_ns" /usr/bin/python3 - "$samba_smb" \
	    "$samba_adminpass" "$1" "$2" >>"$tmp/assign.log" 2>&1 <<'PY' ||
import sys
import ldb
from samba.credentials import Credentials
from samba.param import LoadParm
from samba.samdb import SamDB
smb, pw, name, policy = sys.argv[1:5]
lp = LoadParm()
lp.load(smb)
cr = Credentials()
cr.guess(lp)
cr.set_username("Administrator")
cr.set_password(pw)
from samba.credentials import DONT_USE_KERBEROS
cr.set_kerberos_state(DONT_USE_KERBEROS)
db = SamDB(url="ldap://127.0.0.1", credentials=cr, lp=lp)
base = str(db.domain_dn())
pol = db.search(base="CN=IP Security,CN=System," + base,
                scope=ldb.SCOPE_ONELEVEL, attrs=["dn"],
                expression="(&(objectClass=ipsecPolicy)(ipsecName=%s))"
                % ldb.binary_encode(policy))
gpo = db.search(base="CN=Policies,CN=System," + base,
                scope=ldb.SCOPE_ONELEVEL, attrs=["dn"],
                expression="(&(objectClass=groupPolicyContainer)"
                "(displayName=%s))" % ldb.binary_encode(name))
assert len(pol) == 1 and len(gpo) == 1, (policy, name)
m = ldb.Message(ldb.Dn(db, "CN=IPSEC,CN=Windows,CN=Microsoft,CN=Machine,"
                       + str(gpo[0].dn)))
m["ipsecName"] = ldb.MessageElement(policy, ldb.FLAG_MOD_REPLACE,
                                    "ipsecName")
m["ipsecOwnersReference"] = ldb.MessageElement(
    str(pol[0].dn), ldb.FLAG_MOD_REPLACE, "ipsecOwnersReference")
db.modify(m)
print("GPO %s now assigns %s" % (name, pol[0].dn))
PY
	    samba_fail assign.log
}

#   samba_spn ACCOUNT SPN...
#       (before the start) add the SPNs to ACCOUNT (sAMAccountName). The
#       DC's own (ldap/dc1.<dns>...) come from samba_spnupdate a while
#       after samba starts: a client that asks sooner (a slow machine)
#       gets "Server not found in Kerberos database"
samba_spn() {
	samba_py setup.log "$@" <<'PY'
import sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
lp = LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
res = db.search(base=db.domain_dn(), scope=ldb.SCOPE_SUBTREE,
                expression="(sAMAccountName=%s)" % ldb.binary_encode(
                    sys.argv[2]), attrs=["servicePrincipalName"])
have = [str(v).lower() for v in res[0].get("servicePrincipalName", [])]
new = [s for s in sys.argv[3:] if s.lower() not in have]
if new:
    m = ldb.Message(res[0].dn)
    m["servicePrincipalName"] = ldb.MessageElement(
        new, ldb.FLAG_MOD_ADD, "servicePrincipalName")
    db.modify(m)
print("%s: SPNs %s" % (sys.argv[2], " ".join(sys.argv[3:])))
PY
}

#   samba_member S NS DCIP [KDC_TIMEOUT]
#       (DC running) member S in namespace NS: its resolver asks the DC
#       (/etc/netns/NS/resolv.conf, removed on exit), $tmp/S/krb5.conf
#       names the realm's KDC at DCIP (kdc_timeout KDC_TIMEOUT seconds,
#       default 3), $tmp/S/state is made
#   samba_lan_up DCIP NS
#       (a PROBE for samba_start_in) the DC answers LDAP on DCIP and its
#       KDC port is reachable from namespace NS
#   samba_join S NS NAME [OU]
#       adcli join of NAME (host NAME.$samba_dns lowercase) into OU=OU of
#       the domain (default: CN=Computers), as Administrator; its keytab
#       is $tmp/S/krb5.keytab (checked)
samba_member() {
	local s=$1 ns=$2 dcip=$3 kt=${4:-3}
	mkdir -p "/etc/netns/$ns" "$tmp/$s/state" || die "mkdir"
	t_at_exit rm -rf "/etc/netns/$ns"
	printf 'search %s\nnameserver %s\noptions timeout:5 attempts:2\n' \
	    "$samba_dns" "$dcip" >"/etc/netns/$ns/resolv.conf"
	samba_krb5_write "$tmp/$s/krb5.conf" "$dcip" "$kt"
}

samba_join() {
	local s=$1 ns=$2 name=$3 ou=()
	[ -z "${4:-}" ] ||
	    ou=(--domain-ou="OU=$4,DC=${samba_dns//./,DC=}")
	ip netns exec "$ns" env KRB5_CONFIG="$tmp/$s/krb5.conf" \
	    KRB5CCNAME="FILE:$tmp/$s/admin.ccache" \
	    adcli join --verbose --domain="$samba_dns" \
	    --domain-realm="$samba_realm" --computer-name="$name" \
	    --host-fqdn="${name,,}.$samba_dns" "${ou[@]}" \
	    --host-keytab="$tmp/$s/krb5.keytab" \
	    --login-user=Administrator --stdin-password \
	    <<<"$samba_adminpass" >"$tmp/$s/adcli.log" 2>&1 ||
	    { tail -n 30 "$tmp/$s/adcli.log"; die "adcli join $name"; }
	klist -k "$tmp/$s/krb5.keytab" | grep -q "${name}\\\$@$samba_realm" ||
	    { klist -k "$tmp/$s/krb5.keytab"; die "no $name\$ in the keytab"; }
}

samba_lan_up() {
	ip netns exec "$samba_ns" ldapsearch -x -H "ldap://$1" -b "" -s base \
	    -LLL defaultNamingContext >/dev/null 2>&1 &&
	    ip netns exec "$2" bash -c "exec 3<>/dev/tcp/$1/88" 2>/dev/null
}
