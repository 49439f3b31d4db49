#!/usr/bin/env bash
# ipseccmd static's readers (show, match on the store, exportpolicy) take
# the store's lock shared: an edit renames the store and then its secrets
# file, and a reader between the two renames saw a rule whose preshared key
# was not there yet ("the preshared key named by this rule is not in
# secrets.xml"). Found by console_browser, whose checks read the store while
# the page edited it. Here the test is the writer caught between its two
# renames: it holds the lock with the new store and the old secrets in
# place, starts `static show all`, waits until the reader either has ended
# (the old behaviour: it fails) or waits for the lock (/proc/locks), then
# puts the secrets in place and lets go: the reader must succeed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/check.sh"
cmd=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service/ipseccmd

t_need_tools flock stat
t_tmpdir hcon-lock
sed "s/@PEER@/10.203.9.2/" "$here/../service/pair_store.xml" > "$tmp/store.xml"
cp "$here/../service/pair_secrets.xml" "$tmp/secrets.good"
cat > "$tmp/secrets.old" <<'EOX'
<?xml version="1.0" encoding="UTF-8"?>
<ipsecSecrets xmlns="urn:ipsec-agent:policy:1" version="1">
</ipsecSecrets>
EOX
chmod 600 "$tmp/secrets.good" "$tmp/secrets.old"
C=("$cmd" --store "$tmp/store.xml" --secrets "$tmp/secrets.xml")
cp -p "$tmp/secrets.good" "$tmp/secrets.xml"
"${C[@]}" --json static show all > /dev/null || fail "the whole store is refused"
cp -p "$tmp/secrets.old" "$tmp/secrets.xml"
! "${C[@]}" --json static show all > /dev/null 2>&1 ||
    fail "a rule whose key is missing is not refused (the test would prove nothing)"
pass "the store with its key is read; without it, refused"

: > "$tmp/store.xml.lock"
exec 9> "$tmp/store.xml.lock"
flock -x 9
"${C[@]}" --json static show all > "$tmp/show.out" 2> "$tmp/show.err" &
reader=$!
ino=$(stat -c %i "$tmp/store.xml.lock")
state=
for _ in $(seq 1 600); do
	if ! kill -0 $reader 2>/dev/null; then state=ended; break; fi
	if grep -Eq "^[0-9]+: -> FLOCK +ADVISORY +READ +$reader [0-9a-f]+:[0-9a-f]+:$ino " \
	    /proc/locks; then
		state=waiting
		break
	fi
	sleep 0.1
done
if [ "$state" != waiting ]; then
	rc=0
	wait $reader || rc=$?
	fail "static show did not wait for the writer's lock (${state:-no progress}," \
	    "exit $rc): $(cat "$tmp/show.err")"
fi
cp -p "$tmp/secrets.good" "$tmp/secrets.xml"
flock -u 9
exec 9>&-
wait $reader || fail "static show after the writer: $(cat "$tmp/show.err")"
[ "$(jq -r '.policies[0].rules[0].name' "$tmp/show.out")" = SecurePeer ] ||
    fail "static show: $(cat "$tmp/show.out")"
pass "static show waits for an edit's lock (shared) and reads the store with its key"
t_finish "store read lock"
