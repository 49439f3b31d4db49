#!/usr/bin/env bash
# catalog_drift.sh SRCDIR: packaging/journald/ipsec-agent.catalog has one
# entry per audit event of agent/audit/audit.c (its MESSAGE_ID: the prefix
# of service/lib/sinks.c and the event ID in 4 hex digits, its name in
# the Subject) and no other; and journalctl compiles it (when installed).
set -u
src=${1:?usage: catalog_drift.sh SRCDIR}
cat=$src/packaging/journald/ipsec-agent.catalog
prefix=$(sed -n 's/^#define MSGID_PREFIX[[:space:]]*"\([0-9a-f]*\)".*/\1/p' \
    "$src/service/lib/sinks.c")
[ ${#prefix} = 28 ] || { echo "FAIL: no MSGID_PREFIX in sinks.c"; exit 1; }
fails=0
# { AUDIT_X, "NAME" } in audit.c, the value of AUDIT_X in audit.h
while read -r sym name; do
	id=$(sed -n "s/^[[:space:]]*$sym = \([0-9]*\).*/\1/p" \
	    "$src/agent/audit/audit.h")
	[ -n "$id" ] || { echo "FAIL: $sym not in audit.h"; fails=$((fails + 1)); continue; }
	mid=$(printf '%s%04x' "$prefix" "$id")
	n=$(grep -c "^-- $mid\$" "$cat")
	[ "$n" = 1 ] || { echo "FAIL: $id $name: $n entries for $mid"; fails=$((fails + 1)); continue; }
	grep -A1 "^-- $mid\$" "$cat" | grep -q "^Subject: .*($id, $name)\$" ||
	    { echo "FAIL: $id: the Subject does not name ($id, $name)"; fails=$((fails + 1)); }
	echo "$mid"
done < <(sed -n 's/^[[:space:]]*{ \(AUDIT_[A-Z_]*\), "\([A-Z_]*\)" },$/\1 \2/p' \
    "$src/agent/audit/audit.c") > "${TMPDIR:-/tmp}/catalog_ids.$$"
known=$(wc -l < "${TMPDIR:-/tmp}/catalog_ids.$$")
[ "$known" -ge 20 ] || { echo "FAIL: only $known events read from audit.c"; fails=$((fails + 1)); }
extra=$(grep '^-- ' "$cat" | cut -c4- | grep -vxF -f "${TMPDIR:-/tmp}/catalog_ids.$$")
rm -f "${TMPDIR:-/tmp}/catalog_ids.$$"
[ -z "$extra" ] || { echo "FAIL: entries of no event: $extra"; fails=$((fails + 1)); }
if command -v journalctl >/dev/null; then
	r=$(mktemp -d)
	mkdir -p "$r/usr/lib/systemd/catalog" "$r/var/lib/systemd/catalog"
	cp "$cat" "$r/usr/lib/systemd/catalog/"
	journalctl --root="$r" --update-catalog 2>/dev/null
	n=$(journalctl --root="$r" --list-catalog 2>/dev/null | grep -c "^$prefix")
	rm -rf "$r"
	[ "$n" = "$known" ] ||
	    { echo "FAIL: journalctl compiled $n of $known entries"; fails=$((fails + 1)); }
fi
[ $fails = 0 ] && echo "ok - $known audit events, one catalog entry each, journalctl compiles them"
[ $fails = 0 ]
