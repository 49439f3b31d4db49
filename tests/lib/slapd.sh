#!/usr/bin/env bash
# slapd.sh -- a throwaway OpenLDAP slapd with the AD IPsec schema, for tests.
#
#   slapd.sh start DIR [options]     start; prints shell assignments (also DIR/env)
#   slapd.sh stop DIR                stop the slapd of DIR (TERM, bounded wait, KILL)
#   slapd.sh load DIR FILE...        apply LDIF (ldapmodify -a as the admin; @SUFFIX@ substituted)
#   slapd.sh restart DIR             start the stopped slapd of DIR again (same port, same data)
#   slapd.sh replicate DIR URI       make DIR's slapd also a consumer of URI (multi-provider), restart it
#
# start options:
#   --suffix DN          naming context (default dc=example,dc=test)
#   --keytab FILE        keytab with ldap/<sasl-host>@REALM: enables SASL/GSSAPI
#   --krb5-config FILE   krb5.conf for slapd (KRB5_CONFIG)
#   --sasl-host NAME     host part of slapd's principal (default localhost)
#   --realm REALM        realm of the identity mapping (default from the suffix)
#   --tls                make a CA and a server certificate for 127.0.0.1 and
#                        localhost; serve StartTLS on ldap:// and ldaps:// on a
#                        second port (LDAPS_URI, LDAP_CA in the env output)
#   --ldif FILE          LDIF to load after start (repeatable)
#   --syncprov           the syncprov overlay (RFC 4533 content synchronisation)
#   --server-id N        serverID N (multi-provider replication)
#   --rootpw PW          the admin's password (default: random)
#   --syncrepl-from URI  start empty and replicate URI's suffix (multi-provider,
#                        with --syncprov, --server-id and the provider's --rootpw)
#
# A free loopback port is chosen (another one is tried if slapd loses a race
# for it). Identity mapping: host/<name>.<domain>@REALM -> the device entry
# (anywhere under the suffix, as in AD) whose dNSHostName is <name>.<domain>;
# root over ldapi:// -> cn=admin,<suffix>. IPsec and GPO containers are
# readable by computer (device) accounts and the admin only. Output variables: SLAPD_PID LDAP_URI LDAPS_URI LDAPI_URI LDAP_BASE
# LDAP_ADMIN_DN LDAP_ADMIN_PW LDAP_CA LDAP_PORT.
#
# Exit status: 0 ok, 77 when slapd/ldap-utils are not installed (a test can
# skip), 1 on failure (what was started is killed, the log tail shown), 2 usage.
# Environment: SLAPD_TIMEOUT seconds to wait (default 20).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCHEMA="$HERE/../../packaging/ldap/ipsec-ad.schema"
TIMEOUT=${SLAPD_TIMEOUT:-20}
prog=slapd.sh

die() { echo "$prog: $*" >&2; exit 1; }
usage() { sed -n '4,6p' "$0" | sed 's/^# *//' >&2; exit 2; }

need_tools() {
	local b
	for b in slapd slapadd ldapmodify ldapsearch openssl; do
		command -v "$b" >/dev/null 2>&1 || {
			echo "$prog: $b not installed (slapd ldap-utils openssl)" >&2
			exit 77
		}
	done
}

# wait until a pid is gone; bounded
wait_gone() {
	local pid=$1 i
	for i in $(seq 1 $((TIMEOUT * 20))); do
		kill -0 "$pid" 2>/dev/null || return 0
		[ "$(cat "/proc/$pid/stat" 2>/dev/null | awk '{print $3}')" = Z ] && return 0
		sleep 0.05
	done
	return 1
}

do_stop() {
	local dir=$1 pid
	[ -s "$dir/slapd.pid" ] || return 0
	pid=$(cat "$dir/slapd.pid")
	if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slapd ]; then
		kill "$pid" 2>/dev/null || true
		wait_gone "$pid" || kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/slapd.pid"
}

do_load() {
	local dir=$1 f
	shift
	# shellcheck disable=SC1091
	. "$dir/env"
	for f in "$@"; do
		sed "s/@SUFFIX@/$LDAP_BASE/g" "$f" |
			ldapmodify -a -Q -Y EXTERNAL -H "$LDAPI_URI" >>"$dir/load.log" 2>&1 ||
			{ tail -n 15 "$dir/load.log" >&2; die "loading $f failed"; }
	done
}

make_tls() {
	local dir=$1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=slapd.sh test CA" \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign \
		>/dev/null 2>&1 || die "cannot make the CA"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
		-keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1 ||
		die "cannot make the server key"
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.pem" \
		>/dev/null 2>&1 || die "cannot sign the server certificate"
	chmod 600 "$dir/server.key" "$dir/ca.key"
}

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

do_start() {
	local dir=$1
	shift
	local suffix="dc=example,dc=test" keytab="" krb5conf="" saslhost=localhost
	local realm="" tls=0 ldifs=() syncmod="" syncov="" sid="" rootpw=""
	local from=""
	while [ $# -gt 0 ]; do
		case $1 in
		--suffix) suffix=$2; shift 2 ;;
		--keytab) keytab=$(realpath "$2"); shift 2 ;;
		--krb5-config) krb5conf=$(realpath "$2"); shift 2 ;;
		--sasl-host) saslhost=$2; shift 2 ;;
		--realm) realm=$2; shift 2 ;;
		--tls) tls=1; shift ;;
		--ldif) ldifs+=("$(realpath "$2")"); shift 2 ;;
		--server-id) sid=$2; shift 2 ;;
		--rootpw) rootpw=$2; shift 2 ;;
		--syncrepl-from) from=$2; shift 2 ;;
		--syncprov) syncmod="moduleload syncprov"
			syncov="index entryCSN,entryUUID eq
overlay syncprov"; shift ;;
		*) usage ;;
		esac
	done
	need_tools
	[ -r "$SCHEMA" ] || die "schema $SCHEMA missing"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	do_stop "$dir"
	rm -rf "$dir/db" "$dir/env" "$dir/load.log"
	mkdir -p "$dir/db"
	local domain first admin="cn=admin,$suffix" pw
	domain=$(echo "$suffix" | tr ',' '\n' | sed -n 's/^ *[dD][cC]=//p' | paste -sd. -)
	[ -n "$domain" ] || die "suffix must be dc= parts: $suffix"
	first=${domain%%.*}
	[ -n "$realm" ] || realm=$(echo "$domain" | tr '[:lower:]' '[:upper:]')
	pw=${rootpw:-$(openssl rand -hex 12)}
	local sock="$dir/ldapi"
	[ ${#sock} -lt 100 ] || die "socket path too long: $sock"
	local ldapi="ldapi://$(printf '%s' "$sock" | sed 's|/|%2F|g')"
	# slapd.conf drops backslashes: regex specials go in brackets
	local rrealm rdomain
	rrealm=$(printf '%s' "$realm" | tr '[:upper:]' '[:lower:]' | sed 's/[.]/[.]/g')
	rdomain=$(printf '%s' "$domain" | tr '[:upper:]' '[:lower:]' | sed 's/[.]/[.]/g')
	local tlsconf=""
	if [ "$tls" = 1 ]; then
		make_tls "$dir"
		tlsconf="TLSCACertificateFile $dir/ca.pem
TLSCertificateFile $dir/server.pem
TLSCertificateKeyFile $dir/server.key"
	fi
	cat >"$dir/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include $SCHEMA
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
$syncmod
${sid:+serverID $sid}
sasl-host $saslhost
sasl-secprops noanonymous
$tlsconf
authz-regexp "^gidnumber=0[+]uidnumber=0,cn=peercred,cn=external,cn=auth\$" "$admin"
authz-regexp "^uid=host/([^.,/]+)[.]$rdomain,cn=$rrealm,cn=gssapi,cn=auth\$" "ldap:///$suffix??sub?(&(objectClass=device)(dNSHostName=\$1.$domain))"
authz-regexp "^uid=host/([^.,/]+)[.]$rdomain,cn=gssapi,cn=auth\$" "ldap:///$suffix??sub?(&(objectClass=device)(dNSHostName=\$1.$domain))"
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read
database config
access to * by dn.exact="$admin" manage by * none
database mdb
suffix "$suffix"
rootdn "$admin"
rootpw $pw
directory $dir/db
maxsize 268435456
index objectClass eq
index cn eq
access to dn.subtree="cn=IP Security,cn=System,$suffix"
  by dn.exact="$admin" manage
  by set="user/objectClass & [device]" read
  by * none
access to dn.subtree="cn=Policies,cn=System,$suffix"
  by dn.exact="$admin" manage
  by set="user/objectClass & [device]" read
  by * none
access to attrs=userPassword
  by anonymous auth
  by * none
# the SASL identity mapping searches devices by dNSHostName before the
# bind completes, as anonymous
access to dn.base="$suffix" attrs=entry
  by dn.exact="$admin" manage
  by anonymous search
  by users read
  by * none
access to filter=(objectClass=device) attrs=entry,objectClass,dNSHostName
  by dn.exact="$admin" manage
  by anonymous search
  by users read
  by * none
access to *
  by dn.exact="$admin" manage
  by users read
  by * none
#SYNCREPL
$syncov
EOF
	cat >"$dir/base.ldif" <<EOF
dn: $suffix
objectClass: domain
objectClass: extensibleObject
dc: $first

dn: cn=System,$suffix
objectClass: container
cn: System

dn: cn=IP Security,cn=System,$suffix
objectClass: container
cn: IP Security

dn: cn=Policies,cn=System,$suffix
objectClass: container
cn: Policies

dn: cn=Computers,$suffix
objectClass: container
cn: Computers
EOF
	if [ -n "$from" ]; then
		add_syncrepl "$dir" "$from" "$suffix" "$admin" "$pw"
	else
		slapadd -q ${sid:+-S "$sid"} -f "$dir/slapd.conf" \
			-l "$dir/base.ldif" >"$dir/slapadd.log" 2>&1 ||
			{ cat "$dir/slapadd.log" >&2; die "slapadd failed"; }
	fi
	local try port sport="" uris pid="" deadline
	for try in 1 2 3 4 5; do
		port=$(free_port)
		uris="ldap://127.0.0.1:$port/ $ldapi/"
		if [ "$tls" = 1 ]; then
			sport=$(free_port)
			uris="$uris ldaps://127.0.0.1:$sport/"
		fi
		(
			[ -z "$keytab" ] || export KRB5_KTNAME="FILE:$keytab"
			[ -z "$krb5conf" ] || export KRB5_CONFIG="$krb5conf"
			exec slapd -d stats -h "$uris" -f "$dir/slapd.conf"
		) </dev/null >"$dir/slapd.log" 2>&1 &
		pid=$!
		deadline=$(($(date +%s) + TIMEOUT))
		while :; do
			if ldapsearch -x -H "ldap://127.0.0.1:$port" -b "" -s base -LLL \
				namingContexts >/dev/null 2>&1 &&
				ldapsearch -Q -Y EXTERNAL -H "$ldapi" -b "" -s base -LLL \
				>/dev/null 2>&1; then
				break
			fi
			kill -0 "$pid" 2>/dev/null || break
			if [ "$(date +%s)" -ge "$deadline" ]; then
				kill -9 "$pid" 2>/dev/null || true
				die "slapd did not answer within ${TIMEOUT}s"
			fi
			sleep 0.02
		done
		kill -0 "$pid" 2>/dev/null && break
		grep -q "Address already in use" "$dir/slapd.log" ||
			{ tail -n 20 "$dir/slapd.log" >&2; die "slapd exited"; }
		pid=""
	done
	[ -n "$pid" ] || die "no free port found"
	printf '%s\n' "$uris" "$keytab" "$krb5conf" >"$dir/restart.args"
	cat >"$dir/env" <<EOF
SLAPD_PID=$pid
LDAP_PORT=$port
LDAP_URI='ldap://127.0.0.1:$port'
LDAPS_URI='${sport:+ldaps://127.0.0.1:$sport}'
LDAPI_URI='$ldapi'
LDAP_BASE='$suffix'
LDAP_ADMIN_DN='$admin'
LDAP_ADMIN_PW='$pw'
LDAP_CA='$([ "$tls" = 1 ] && echo "$dir/ca.pem")'
EOF
	chmod 600 "$dir/env"
	[ ${#ldifs[@]} -eq 0 ] || do_load "$dir" "${ldifs[@]}" || { do_stop "$dir"; exit 1; }
	cat "$dir/env"
}

# A consumer of URI in DIR's slapd.conf (before its syncprov overlay).
add_syncrepl() {
	local dir=$1 from=$2 suffix=$3 admin=$4 pw=$5 rid
	rid=$(printf '%03d' $(( $(grep -c '^syncrepl' "$dir/slapd.conf") + 1 )))
	python3 - "$dir/slapd.conf" "syncrepl rid=$rid provider=$from bindmethod=simple binddn=\"$admin\" credentials=$pw searchbase=\"$suffix\" type=refreshAndPersist retry=\"1 +\" timeout=3
multiprovider on" <<'PY'
import sys
p, add = sys.argv[1:3]
s = open(p).read()
s = s.replace("multiprovider on\n", "")
s = s.replace("#SYNCREPL\n", add + "\n#SYNCREPL\n", 1)
open(p, "w").write(s)
PY
}

do_replicate() {
	local dir=$1 from=$2
	# shellcheck disable=SC1091
	. "$dir/env"
	add_syncrepl "$dir" "$from" "$LDAP_BASE" "$LDAP_ADMIN_DN" "$LDAP_ADMIN_PW"
	do_restart "$dir"
}

# The same slapd again after stop: same port, database and settings.
do_restart() {
	local dir=$1 uris keytab krb5conf pid port i
	[ -s "$dir/restart.args" ] || die "$dir: never started"
	{ read -r uris; read -r keytab; read -r krb5conf; } <"$dir/restart.args"
	# shellcheck disable=SC1091
	. "$dir/env"
	do_stop "$dir"
	(
		[ -z "$keytab" ] || export KRB5_KTNAME="FILE:$keytab"
		[ -z "$krb5conf" ] || export KRB5_CONFIG="$krb5conf"
		exec slapd -d stats -h "$uris" -f "$dir/slapd.conf"
	) </dev/null >>"$dir/slapd.log" 2>&1 &
	pid=$!
	for i in $(seq 1 $((TIMEOUT * 50))); do
		ldapsearch -x -H "$LDAP_URI" -b "" -s base -LLL namingContexts \
			>/dev/null 2>&1 && { sed -i "s/^SLAPD_PID=.*/SLAPD_PID=$pid/" "$dir/env"; return 0; }
		kill -0 "$pid" 2>/dev/null || die "slapd did not restart (port $LDAP_PORT taken?)"
		sleep 0.02
	done
	die "slapd did not answer within ${TIMEOUT}s after restart"
}

[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2
case $cmd in
start) do_start "$dir" "$@" ;;
stop) do_stop "$dir" ;;
load) do_load "$dir" "$@" ;;
restart) do_restart "$dir" ;;
replicate) do_replicate "$dir" "${1:?URI}" ;;
*) usage ;;
esac
