# netns.sh -- sourced by the integration tests: network namespaces and
# veth pairs, removed on exit. Sources check.sh.
#
#   t_netns NS...        create the namespaces (loopback up), deleted on
#                        exit; skips (77) when the first cannot be made
#   t_veth NS1 IF1 ADDR1 NS2 IF2 ADDR2
#                        a veth pair IF1 (in NS1) -- IF2 (in NS2), each
#                        end with its ADDR (address/prefix) and up
#
# Names should carry the test's pid ($$) so that parallel runs do not
# collide; an interface name is at most 15 characters.

# shellcheck source=check.sh
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"

t_netns_made=0

t_netns() {
	local ns
	for ns; do
		if ! ip netns add "$ns" 2>/dev/null; then
			[ "$t_netns_made" = 0 ] ||
			    die "cannot create network namespace $ns"
			skip "cannot create network namespaces"
		fi
		t_netns_made=$((t_netns_made + 1))
		t_at_exit ip netns del "$ns"
		ip -n "$ns" link set lo up || die "$ns: lo up"
	done
}

t_veth() {
	local n1=$1 i1=$2 a1=$3 n2=$4 i2=$5 a2=$6
	ip link add "$i1" type veth peer name "$i2" &&
	    ip link set "$i1" netns "$n1" &&
	    ip link set "$i2" netns "$n2" &&
	    ip -n "$n1" addr add "$a1" dev "$i1" &&
	    ip -n "$n2" addr add "$a2" dev "$i2" &&
	    ip -n "$n1" link set "$i1" up &&
	    ip -n "$n2" link set "$i2" up ||
	    die "veth $i1 ($n1) -- $i2 ($n2)"
}

#   t_lan PFX NS1 ADDR1 NS2 ADDR2 [NS ADDR...]
#                        one LAN: a bridge PFXbr in NS1 carrying ADDR1,
#                        and for each further NSi a veth PFXi (in NSi, with
#                        ADDRi) whose other end PFXib (in NS1) is a port of
#                        the bridge; PFX at most 11 characters
t_lan() {
	local pfx=$1 hub=$2 i=1
	ip -n "$hub" link add "${pfx}br" type bridge &&
	    ip -n "$hub" addr add "$3" dev "${pfx}br" &&
	    ip -n "$hub" link set "${pfx}br" up ||
	    die "bridge ${pfx}br in $hub"
	shift 3
	while [ $# -ge 2 ]; do
		i=$((i + 1))
		ip link add "$pfx$i" type veth peer name "$pfx${i}b" &&
		    ip link set "$pfx$i" netns "$1" &&
		    ip link set "$pfx${i}b" netns "$hub" &&
		    ip -n "$1" addr add "$2" dev "$pfx$i" &&
		    ip -n "$hub" link set "$pfx${i}b" master "${pfx}br" &&
		    ip -n "$hub" link set "$pfx${i}b" up &&
		    ip -n "$1" link set "$pfx$i" up ||
		    die "LAN port $pfx$i ($1)"
		shift 2
	done
}
