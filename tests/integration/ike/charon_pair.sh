# charon_pair.sh -- sourced by the tests of our engine (ike_peer, null
# driver) against strongSwan's charon in two network namespaces
# (interop.sh, refusal.sh). Before sourcing set:
#   build       the build directory (ike_peer is found under it)
#   here        this folder
#   cp_tag      a short tag for the names (namespaces cp_tag-a$$/-b$$,
#               veth pair ${cp_tag}va$$/${cp_tag}vb$$)
#   cp_net      the second octet of the addresses: 10.N.0.1 (A, ours) and
#               10.N.0.2 (B, charon) on the link; 10.N.1.1/32 and
#               10.N.2.1/32 on lo (the protected subnets' addresses)
# It skips (77) without root, charon, /dev/net/tun or namespaces, and
# sets: peer, id, nsA, nsB, tmp, ppid, fails; fail(), wait_for(). The
# namespaces, charon, ike_peer ($ppid) and $tmp go on exit (PA_TEST_KEEP=1
# keeps $tmp).

peer=$build/tests/ike_peer
[ -x "$peer" ] || peer=$(find "$build" -name ike_peer -type f -perm -u+x | head -1)

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v swanctl >/dev/null || skip "swanctl not installed"
[ -x /usr/lib/ipsec/charon ] || [ -x /usr/libexec/ipsec/charon ] || skip "charon not installed"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (charon's libipsec needs it)"
[ -x "$peer" ] || { echo "ike_peer not built"; exit 1; }

id=$$
nsA=$cp_tag-a$id nsB=$cp_tag-b$id
ip netns add "$nsA" 2>/dev/null || skip "cannot create network namespaces"
tmp=$(mktemp -d)
ppid=
cp_cleanup() {
	[ -n "${ppid:-}" ] && kill "$ppid" 2>/dev/null
	"$here/charon.sh" stop "$tmp/sw" >/dev/null 2>&1
	ip netns del "$nsA" 2>/dev/null
	ip netns del "$nsB" 2>/dev/null
	if [ "${PA_TEST_KEEP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cp_cleanup EXIT
ip netns add "$nsB"
ip link add "${cp_tag}va$id" type veth peer name "${cp_tag}vb$id"
ip link set "${cp_tag}va$id" netns "$nsA"
ip link set "${cp_tag}vb$id" netns "$nsB"
ip -n "$nsA" addr add "10.$cp_net.0.1/24" dev "${cp_tag}va$id"
ip -n "$nsB" addr add "10.$cp_net.0.2/24" dev "${cp_tag}vb$id"
ip -n "$nsA" link set "${cp_tag}va$id" up
ip -n "$nsB" link set "${cp_tag}vb$id" up
ip -n "$nsA" link set lo up
ip -n "$nsB" link set lo up
# the protected subnets, one address each (charon routes them via its TUN)
ip -n "$nsA" addr add "10.$cp_net.1.1/32" dev lo
ip -n "$nsB" addr add "10.$cp_net.2.1/32" dev lo

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# wait_for FILE PATTERN SECONDS: poll a file for a line (extended regex,
# bounded).
wait_for() {
	local i n=$(( $3 * 50 ))
	for ((i = 0; i < n; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}
