#!/usr/bin/env bash
# kdc.sh -- a throwaway MIT Kerberos KDC for tests, on a free 127.0.0.1 port.
#
#   kdc.sh start DIR [-r REALM] [-p PORT] [-l MAXLIFE] [-o OFFSET]
#                PRINCIPAL[=PASSWORD]...
#   kdc.sh stop DIR
#   kdc.sh kadmin DIR QUERY...     run one kadmin.local query in DIR's realm
#   kdc.sh keytab DIR PRINCIPAL    print the keytab path of a principal
#
# start: creates a new realm (default EXAMPLE.TEST) in DIR (made if missing;
# anything of an earlier run there is replaced), one principal per argument
# (random key unless =PASSWORD is given; "@REALM" is appended when missing;
# machine accounts such as 'HOSTA$' are fine) and one keytab per principal:
#   DIR/keytabs/<principal without realm, '/' -> '_'>.keytab
#   (host/hosta.example.test -> DIR/keytabs/host_hosta.example.test.keytab)
# The KDC listens on UDP and TCP 127.0.0.1:PORT; without -p a free port is
# picked (and another one tried if the KDC loses a race for it). It is
# ready when this returns: a TCP connect works and, if a principal was
# given, the first principal got a ticket from its keytab.
# DIR/krb5.conf is a client profile with rdns = false and
# dns_canonicalize_hostname = false (no DNS is ever asked).
# stdout and DIR/env: shell assignments to source (all exported):
#   KRB5_CONFIG KRB5_KDC_PROFILE KRB5_REALM KRB5_KDC_PORT KRB5_KDC_PID
#   KRB5_KEYTAB_DIR
# -l sets the realm's maximum ticket life (kadmin time syntax, e.g. "10h").
# -o runs the KDC with its clock off by OFFSET (faketime syntax, e.g. +1h)
#    to provoke clock-skew errors; exit 77 if libfaketime is not installed.
#
# stop: SIGTERM to the KDC of DIR (only if that pid is a krb5kdc), bounded
# wait, then SIGKILL. Exit 0 when it is gone or was not running.
#
# Exit status: 0 ok, 77 when the MIT KDC programs are not installed (so a
# test can skip), 1 on any other failure (the KDC started is killed and the
# tail of its log shown on stderr), 2 on a usage error.
# Environment: KDC_TIMEOUT seconds to wait for readiness/stop (default 20).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

TIMEOUT=${KDC_TIMEOUT:-20}
prog=kdc.sh

die() { echo "$prog: $*" >&2; exit 1; }
usage() {
	sed -n '3,7p' "$0" | sed 's/^# *//' >&2
	exit 2
}

need_tools() {
	local b
	for b in krb5kdc kdb5_util kadmin.local kinit; do
		if ! command -v "$b" >/dev/null 2>&1; then
			echo "$prog: $b not installed (krb5-kdc krb5-admin-server krb5-user)" >&2
			exit 77
		fi
	done
}

# keytab file name of a principal (realm stripped, '/' -> '_')
kt_name() {
	local p=${1%@*}
	echo "${p//\//_}.keytab"
}

is_krb5kdc() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null || true)" = krb5kdc ]
}

alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo X)
	[ "$st" != Z ] && [ "$st" != X ]
}

port_busy() {
	# anything bound to the port on UDP or TCP (any address)?
	ss -Hlnut 2>/dev/null | awk '{print $5}' | grep -Eq "[:.]$1\$"
}

pick_port() {
	local p
	for _ in $(seq 1 200); do
		p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
		port_busy "$p" || { echo "$p"; return 0; }
	done
	return 1
}

write_confs() {  # DIR REALM PORT MAXLIFE
	local dir=$1 realm=$2 port=$3 maxlife=$4 lrealm
	lrealm=$(echo "$realm" | tr '[:upper:]' '[:lower:]')
	cat > "$dir/krb5.conf" <<EOF
# written by tests/lib/kdc.sh: client profile for realm $realm
[libdefaults]
	default_realm = $realm
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	qualify_shortname = ""
	ignore_acceptor_hostname = true
	udp_preference_limit = 1
	kdc_timeout = 2s
	max_retries = 1

[realms]
	$realm = {
		kdc = 127.0.0.1:$port
	}

[domain_realm]
	.$lrealm = $realm
	$lrealm = $realm
	localhost = $realm
EOF
	cat > "$dir/kdc.conf" <<EOF
# written by tests/lib/kdc.sh: KDC profile for realm $realm
[kdcdefaults]
	kdc_listen = 127.0.0.1:$port
	kdc_tcp_listen = 127.0.0.1:$port

[realms]
	$realm = {
		database_name = $dir/db/principal
		key_stash_file = $dir/db/stash
		acl_file = $dir/kadm5.acl
		max_life = $maxlife
		max_renewable_life = 7d
		master_key_type = aes256-cts-hmac-sha1-96
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}

[logging]
	kdc = FILE:$dir/kdc.log
	default = FILE:$dir/kdc.log
EOF
	echo "*/admin@$realm *" > "$dir/kadm5.acl"
}

cmd_start() {
	local dir realm=EXAMPLE.TEST port="" maxlife=10h offset="" opt
	local -a wrap=()
	[ $# -ge 1 ] || usage
	dir=$1; shift
	OPTIND=1
	while getopts "r:p:l:o:" opt; do
		case $opt in
		r) realm=$OPTARG ;;
		p) port=$OPTARG ;;
		l) maxlife=$OPTARG ;;
		o) offset=$OPTARG ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	case $realm in ''|*[!A-Z0-9.-]*) die "bad realm (upper case letters, digits, '.', '-'): $realm" ;; esac
	case $port in *[!0-9]*) die "bad port: $port" ;; esac
	need_tools
	if [ -n "$offset" ]; then
		case $offset in [+-][0-9]*) ;; *) die "bad offset: $offset" ;; esac
		# libfaketime preloaded into krb5kdc itself (the faketime
		# program would stay in between as the parent we signal).
		local lib=""
		for lib in /usr/lib/*/faketime/libfaketime.so.1 \
		    /usr/lib/faketime/libfaketime.so.1 ""; do
			[ -z "$lib" ] || [ ! -f "$lib" ] || break
		done
		if [ -z "$lib" ]; then
			echo "$prog: libfaketime not installed (needed for -o)" >&2
			exit 77
		fi
		wrap=(env "LD_PRELOAD=$lib" "FAKETIME=$offset")
	fi

	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ -s "$dir/kdc.pid" ] && is_krb5kdc "$(cat "$dir/kdc.pid")"; then
		die "a KDC (pid $(cat "$dir/kdc.pid")) already runs from $dir"
	fi
	rm -rf "$dir/db" "$dir/keytabs" "$dir"/kdc.* "$dir/env" \
	    "$dir/krb5.conf" "$dir/kadm5.acl" "$dir"/*.log "$dir/probe.ccache"
	mkdir -p "$dir/db" "$dir/keytabs"
	chmod 700 "$dir/db" "$dir/keytabs"

	# the port is not known yet: write the profiles once for the database
	write_confs "$dir" "$realm" "${port:-88}" "$maxlife"
	export KRB5_CONFIG="$dir/krb5.conf" KRB5_KDC_PROFILE="$dir/kdc.conf"

	local mpw spec name first=""
	mpw=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	kdb5_util -r "$realm" create -s -P "$mpw" >"$dir/kdb5_util.log" 2>&1 \
	    || { cat "$dir/kdb5_util.log" >&2; die "kdb5_util create failed"; }
	{
		for spec in "$@"; do
			name=${spec%%=*}
			case $name in *@*) ;; *) name="$name@$realm" ;; esac
			[ -n "$first" ] || first=$name
			if [ "$spec" != "${spec%%=*}" ]; then
				printf 'addprinc -pw "%s" %s\n' "${spec#*=}" "$name"
			else
				printf 'addprinc -randkey %s\n' "$name"
			fi
			printf 'ktadd -k %s -norandkey %s\n' \
			    "$dir/keytabs/$(kt_name "$name")" "$name"
		done
	} > "$dir/kadmin.cmds"
	if [ -s "$dir/kadmin.cmds" ]; then
		kadmin.local -r "$realm" < "$dir/kadmin.cmds" >"$dir/kadmin.log" 2>&1 \
		    || { cat "$dir/kadmin.log" >&2; die "kadmin.local failed"; }
	fi
	rm -f "$dir/kadmin.cmds"
	for spec in "$@"; do
		name=${spec%%=*}
		[ -s "$dir/keytabs/$(kt_name "$name")" ] \
		    || { cat "$dir/kadmin.log" >&2; die "no keytab for $name"; }
	done

	local pid="" fixed=$port deadline up
	for _ in 1 2 3 4 5; do
		if [ -z "$fixed" ]; then
			port=$(pick_port) || die "no free port found"
		elif port_busy "$port"; then
			die "port $port is in use"
		fi
		write_confs "$dir" "$realm" "$port" "$maxlife"
		"${wrap[@]}" krb5kdc -n -r "$realm" </dev/null >"$dir/kdc.stderr" 2>&1 &
		pid=$!
		echo "$pid" > "$dir/kdc.pid"
		deadline=$(( $(date +%s) + TIMEOUT ))
		up=0
		while alive "$pid"; do
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				up=1; break
			fi
			[ "$(date +%s)" -lt "$deadline" ] || break
			sleep 0.02
		done
		[ "$up" = 1 ] && break
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		rm -f "$dir/kdc.pid"
		pid=""
		# a lost race for a picked port is retried; anything else fails
		if [ -n "$fixed" ] || ! grep -qi "in use" "$dir/kdc.stderr" "$dir/kdc.log" 2>/dev/null; then
			tail -n 20 "$dir/kdc.stderr" "$dir/kdc.log" >&2 2>/dev/null || true
			die "krb5kdc did not start on 127.0.0.1:$port"
		fi
	done
	[ -n "$pid" ] || die "krb5kdc did not start after 5 ports"

	if [ -n "$first" ]; then
		if ! KRB5CCNAME="MEMORY:kdcsh-probe" kinit -k \
		    -t "$dir/keytabs/$(kt_name "$first")" "$first" \
		    >/dev/null 2>"$dir/probe.err"; then
			cat "$dir/probe.err" >&2
			kill -KILL "$pid" 2>/dev/null || true
			rm -f "$dir/kdc.pid"
			tail -n 20 "$dir/kdc.log" >&2 2>/dev/null || true
			die "probe: no ticket for $first from its keytab"
		fi
	fi

	cat > "$dir/env" <<EOF
export KRB5_CONFIG='$dir/krb5.conf'
export KRB5_KDC_PROFILE='$dir/kdc.conf'
export KRB5_REALM='$realm'
export KRB5_KDC_PORT=$port
export KRB5_KDC_PID=$pid
export KRB5_KEYTAB_DIR='$dir/keytabs'
EOF
	cat "$dir/env"
}

cmd_stop() {
	local dir pid end
	[ $# -eq 1 ] || usage
	dir=$1
	[ -f "$dir/kdc.pid" ] || return 0
	pid=$(tr -dc '0-9' < "$dir/kdc.pid" || true)
	if [ -z "$pid" ] || ! is_krb5kdc "$pid"; then
		rm -f "$dir/kdc.pid"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	end=$(( $(date +%s) + TIMEOUT ))
	while alive "$pid" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.02; done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		end=$(( $(date +%s) + 5 ))
		while alive "$pid" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.02; done
	fi
	alive "$pid" && die "krb5kdc pid $pid did not stop"
	rm -f "$dir/kdc.pid"
}

cmd_kadmin() {
	local dir realm
	[ $# -ge 2 ] || usage
	dir=$1; shift
	[ -f "$dir/env" ] || die "no $dir/env: not started"
	# shellcheck disable=SC1091
	. "$dir/env"
	kadmin.local -r "$KRB5_REALM" -q "$*"
}

cmd_keytab() {
	[ $# -eq 2 ] || usage
	echo "$(cd "$1" && pwd)/keytabs/$(kt_name "$2")"
}

[ $# -ge 1 ] || usage
sub=$1; shift
case $sub in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
kadmin) cmd_kadmin "$@" ;;
keytab) cmd_keytab "$@" ;;
*) usage ;;
esac
