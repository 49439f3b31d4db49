#!/usr/bin/env bash
# charon_tuned.sh - strongSwan's charon configured for throughput, for the
# benchmarks only (the interop tests keep tests/integration/ike/charon.sh).
#
#   charon_tuned.sh start DIR NETNS LOCAL REMOTE PSK IKE ESP MODE [LTS RTS]
#   charon_tuned.sh stop DIR
#
# Same arguments and environment as charon.sh (CHARON_CERT/KEY/CA for RSA
# signatures, CHARON_REMOTE_ID, CHARON_UNIQUE, CHARON_ROUTES, CHARON_ENCAP,
# CHARON_LIBIPSEC= to leave kernel-libipsec out), with the settings an
# operator running many SAs would use (../shared/peers/strongswan/NUMBERS.md,
# "A fair strongSwan baseline"):
#   block_threshold 100000 (default 5 half-open SAs per peer address),
#   ikesa_table_size 32768 in 16 segments (default: one list),
#   dh_exponent_ansi_x9_42 = no, and the gmp plugin before openssl
#   (OpenSSL 3 otherwise checks y^q on every peer key),
#   no logging at all (no file log, syslog off).
# CHARON_TUNED_ORDER=openssl puts openssl before gmp (RSA private-key
# operations then run in OpenSSL; MODP then pays the y^q check).
# Prints nothing on success; writes DIR/charon.pid. Needs root.
set -euo pipefail

die() { echo "charon_tuned.sh: $*" >&2; exit 1; }

charon_bin() {
	local c
	for c in /usr/lib/ipsec/charon /usr/libexec/ipsec/charon; do
		[ -x "$c" ] && { echo "$c"; return 0; }
	done
	return 1
}

running() {
	local s
	s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

cmd=${1:-}
case $cmd in
start)
	[ $# -ge 9 ] || die "usage: start DIR NETNS LOCAL REMOTE PSK IKE ESP MODE [LTS RTS]"
	dir=$2 ns=$3 local=$4 remote=$5 psk=$6 ike=$7 esp=$8 mode=$9
	lts=${10:-} rts=${11:-}
	bin=$(charon_bin) || die "charon not installed"
	mkdir -p "$dir/run" "$dir/swanctl/private" "$dir/swanctl/x509" \
	    "$dir/swanctl/x509ca"
	dir=$(cd "$dir" && pwd)
	uri="unix://$dir/run/charon.vici"
	if [ "${CHARON_TUNED_ORDER:-gmp}" = openssl ]; then
		crypto="openssl gmp"
	else
		crypto="gmp openssl"
	fi
	cat >"$dir/strongswan.conf" <<CONF
charon {
	load = random nonce $crypto aes sha1 sha2 md5 hmac gcm pem pkcs1 x509 pubkey kdf ${CHARON_LIBIPSEC-kernel-libipsec} kernel-netlink socket-default vici
	load_modular = no
	install_routes = ${CHARON_ROUTES:-yes}
	install_virtual_ip = no
	retransmit_timeout = 1
	retransmit_tries = 2
	block_threshold = 100000
	ikesa_table_size = 32768
	ikesa_table_segments = 16
	dh_exponent_ansi_x9_42 = no
	syslog {
		daemon {
			default = -1
		}
		auth {
			default = -1
		}
	}
	plugins {
		vici {
			socket = $uri
		}
		socket-default {
			fwmark = 0x42
		}
		kernel-netlink {
			fwmark = !0x42
		}
		kernel-libipsec {
			allow_peer_ts = yes
		}
	}
}
CONF
	ts=""
	[ -n "$lts" ] && ts="local_ts = $lts"
	[ -n "$rts" ] && ts="$ts
				remote_ts = $rts"
	if [ -n "${CHARON_CERT:-}" ]; then
		cp "$CHARON_CERT" "$dir/swanctl/x509/host.pem"
		cp "$CHARON_KEY" "$dir/swanctl/private/host.key"
		cp "$CHARON_CA" "$dir/swanctl/x509ca/ca.pem"
		lauth="auth = pubkey
			certs = host.pem"
		rauth="auth = pubkey
			cacerts = ca.pem
			id = %any"
		secret="private-t {
		file = host.key
	}"
	else
		lauth="auth = psk
			id = $local"
		rid=${CHARON_REMOTE_ID:-$remote}
		rauth="auth = psk
			id = $rid"
		if [ "$rid" = "%any" ]; then
			secret="ike-t {
		id-local = $local
		secret = \"$psk\"
	}"
		else
			secret="ike-t {
		id-local = $local
		id-remote = $rid
		secret = \"$psk\"
	}"
		fi
	fi
	cat >"$dir/swanctl/swanctl.conf" <<CONF
connections {
	t {
		version = 1
		local_addrs = $local
		remote_addrs = $remote
		proposals = $ike
		encap = ${CHARON_ENCAP:-no}
		send_cert = always
		unique = ${CHARON_UNIQUE:-no}
		local {
			$lauth
		}
		remote {
			$rauth
		}
		children {
			t {
				mode = $mode
				${esp:+esp_proposals = $esp}
				$ts
			}
		}
	}
}
secrets {
	$secret
}
CONF
	chmod 600 "$dir/swanctl/swanctl.conf"
	STRONGSWAN_CONF="$dir/strongswan.conf" setsid ip netns exec "$ns" \
	    unshare --mount --propagation private \
	    sh -c 'mount --bind "$1" /run && exec "$2"' sh "$dir/run" "$bin" \
	    </dev/null >"$dir/charon.out" 2>&1 &
	launcher=$!
	echo "$launcher" >"$dir/launcher.pid"
	for _ in $(seq 1 300); do
		swanctl --stats --uri "$uri" >/dev/null 2>&1 && break
		running "$launcher" || { cat "$dir/charon.out" >&2; die "charon exited"; }
		sleep 0.02
	done
	swanctl --stats --uri "$uri" >/dev/null 2>&1 || die "no VICI socket"
	cp "$dir/run/charon.pid" "$dir/charon.pid"
	SWANCTL_DIR="$dir/swanctl" swanctl --load-all --noprompt --uri "$uri" \
	    --file "$dir/swanctl/swanctl.conf" >"$dir/load.out" 2>&1 ||
	    { cat "$dir/load.out" >&2; die "load failed"; }
	;;
stop)
	dir=$2
	[ -f "$dir/charon.pid" ] || exit 0
	pid=$(cat "$dir/charon.pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 150); do
		running "$pid" || break
		sleep 0.02
	done
	running "$pid" && kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/charon.pid"
	;;
*)
	die "usage: charon_tuned.sh start|stop ..."
	;;
esac
