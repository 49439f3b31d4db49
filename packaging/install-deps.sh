#!/usr/bin/env bash
# Install the Debian 12 packages listed in packaging/debian-deps.txt that are
# missing (as root). Packages must not start their system services here
# (slapd, krb5kdc, charon, samba): a policy-rc.d refuses that while apt runs.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=$(grep -vE '^\s*(#|$)' packaging/debian-deps.txt | while read -r p; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    echo "$p"
done)
[ -n "$missing" ] || exit 0
echo "== installing: $(echo $missing)"
export DEBIAN_FRONTEND=noninteractive
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
