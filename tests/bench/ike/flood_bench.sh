#!/usr/bin/env bash
# IKE flood benchmark: the rate of spoofed MM #1 (random sources and the
# legitimate peer's own address, 10 % malformed) at which a legitimate
# peer's Main Mode + Quick Mode stops completing within 1 s, against
# ipsec-agentd in its default configuration (tests/integration/ike/
# flood.sh does the set-up; this runs it at rising rates). Not a test: run
# as root on an otherwise idle machine.
#
# usage: flood_bench.sh BUILD_DIR [RATE...]   (default 20000 50000 80000 120000)
set -uo pipefail
build=${1:?usage: flood_bench.sh BUILD_DIR [RATE...]}
shift
rates=${*:-20000 50000 80000 120000}
here=$(cd "$(dirname "$0")" && pwd)
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-9s %-8s %-8s %-7s %-10s %s\n' pps sent/s median max failed rcvbuf_drop cookies
for r in $rates; do
	out=$(FLOOD_GIVEUP_MS=5000 bash "$here/../../integration/ike/flood.sh" \
	    "$build" "$r" 25 2>&1)
	sent=$(sed -n 's/^# flood: .* rate=\([0-9]*\).*/\1/p' <<<"$out")
	leg=$(sed -n 's/^# legitimate: //p' <<<"$out")
	med=$(sed -n 's/.*median_ms=\([0-9]*\).*/\1/p' <<<"$leg")
	max=$(sed -n 's/.*max_ms=\([0-9]*\).*/\1/p' <<<"$leg")
	fl=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$leg")
	drop=$(sed -n 's/^# datagrams_dropped_receive_buffer: .* -> //p' <<<"$out")
	ck=$(sed -n 's/^# dos_cookies_sent: .* -> //p' <<<"$out")
	printf '%-8s %-9s %-8s %-8s %-7s %-10s %s\n' "$r" "${sent:-?}" \
	    "${med:-?}" "${max:-?}" "${fl:-?}" "${drop:-?}" "${ck:-?}"
done
