#!/usr/bin/env bash
# CI stage "package" (Debian 12, as root; called by .ci/run): build the
# Debian package with the standard tools, lint it, install it with apt,
# check what it installed (version, man pages, the unit with
# systemd-analyze verify/security and for real in a container booted with
# systemd, the man-page/completion drift test on the installed files), run
# the demo on the installed binaries and configuration, purge it and check
# that nothing is left.
#   bash .ci/package.sh            (PKG_KEEP=1 keeps the work folder)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
say() { printf '== package: %s\n' "$*"; }
die() { echo "FAIL: package: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (apt-get install, purge)"
for p in ipsec-agent cockpit-ipsec-agent; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
		die "$p is installed on this machine already: not touching it"
	fi
done
# A `cmake --install` with the default prefix leaves a unit in
# /usr/local/lib/systemd/system that systemd prefers to the package's
# (/lib/systemd/system): the package would then be tested through it.
for f in /usr/local/lib/systemd/system/ipsec-agentd.service \
    /usr/local/sbin/ipsec-agentd /usr/local/etc/ipsec-agent; do
	[ ! -e "$f" ] || die "$f: an install outside the package is on this " \
	    "machine (it would shadow the package's files); remove it"
done
export DEBIAN_FRONTEND=noninteractive
need=()
for p in debhelper dpkg-dev lintian man-db groff-base systemd-container \
    fakeroot; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

w=$(mktemp -d /tmp/pkg-ci.XXXXXX)
installed=0
cleanup() {
	[ "$installed" = 0 ] ||
	    apt-get purge -y -qq ipsec-agent cockpit-ipsec-agent >/dev/null 2>&1
	if [ "${PKG_KEEP:-0}" = 1 ]; then echo "kept $w"; else rm -rf "$w"; fi
}
trap cleanup EXIT

say "building (dpkg-buildpackage -us -uc -b) in a copy of the tree"
mkdir -p "$w/src/ipsec-agent"
git ls-files -co --exclude-standard | grep -v '^build/' |
    tar -cf - -T - | tar -xf - -C "$w/src/ipsec-agent"
(cd "$w/src/ipsec-agent" &&
    dpkg-buildpackage -us -uc -b -j"$(nproc)" > "$w/build.log" 2>&1) ||
    { tail -40 "$w/build.log"; die "dpkg-buildpackage failed"; }
deb=$(ls "$w"/src/ipsec-agent_*_*.deb)
version=$(dpkg-deb -f "$deb" Version)
say "built $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print "   ", $1, $2, $6}'
# The web console (issue 20): its own package, the Cockpit page only.
cdeb=$(ls "$w"/src/cockpit-ipsec-agent_*_all.deb)
say "built $(basename "$cdeb")"
# (listed to files first: grep -q would end a pipe early, and pipefail)
dpkg-deb -c "$cdeb" > "$w/cockpit.lst"
dpkg-deb -c "$deb" > "$w/agent.lst"
awk '{print "   ", $1, $2, $6}' "$w/cockpit.lst"
for f in manifest.json index.html ipsec.js ipsec.css; do
	grep -q " \./usr/share/cockpit/ipsec-agent/$f$" "$w/cockpit.lst" ||
	    die "$(basename "$cdeb") lacks /usr/share/cockpit/ipsec-agent/$f"
done
! grep -q ' \./usr/share/cockpit' "$w/agent.lst" ||
    die "$(basename "$deb") carries the Cockpit page (cockpit-ipsec-agent's)"
cdepends=$(dpkg-deb -f "$cdeb" Depends)
for d in cockpit-bridge ipsec-agent; do
	grep -qw "$d" <<<"$cdepends" ||
	    die "$(basename "$cdeb") does not depend on $d"
done

say "lintian --pedantic (errors fail the stage)"
lintian --pedantic -I --fail-on error "$w"/src/ipsec-agent_*.changes ||
    die "lintian found errors"

say "snapshot of the file system before installing"
snap() {
	find / -xdev \( -path /proc -o -path /sys -o -path /tmp -o \
	    -path /work -o -path /var/tmp -o -path /var/cache -o \
	    -path /run/netns -o -path /etc/netns -o -path /var/log/journal \
	    \) -prune -o -print 2>/dev/null | sort
}
snap > "$w/before.lst"

say "apt-get install ./$(basename "$deb") ./$(basename "$cdeb")"
(cd "$w/src" && apt-get install -y -q "./$(basename "$deb")" \
    "./$(basename "$cdeb")") > "$w/apt.log" 2>&1 ||
    { cat "$w/apt.log"; die "apt-get install failed"; }
installed=1
dpkg -L ipsec-agent cockpit-ipsec-agent > "$w/files.lst"

say "what the package installed"
[ "$(ipsec-agentd --version)" = "ipsec-agentd $version" ] ||
    die "ipsec-agentd --version: $(ipsec-agentd --version), package $version"
[ "$(ipseccmd --version)" = "ipseccmd $version" ] ||
    die "ipseccmd --version: $(ipseccmd --version)"
for page in ipsec-agentd ipseccmd ipsec-agentd.conf; do
	man -w "$page" >/dev/null || die "man $page: not installed"
done
ipsec-agentd -t -c /etc/ipsec-agent/ipsec-agentd.conf ||
    die "the installed configuration is refused"
getent group ipsec-admins >/dev/null || die "no group ipsec-admins"
grep -q '^admin_group = ipsec-admins$' /etc/ipsec-agent/ipsec-agentd.conf ||
    die "the installed configuration does not name ipsec-admins"
for f in /usr/share/ipsec-agent/policy.xsd \
    /usr/share/ipsec-agent/ipsec-ad.schema /usr/share/ipsec-agent/ipsec-ad.ldif \
    /usr/share/ipsec-agent/schema/stats.json \
    /usr/share/ipsec-agent/schema/reply.json \
    /usr/share/bash-completion/completions/ipseccmd \
    /etc/ipsec-agent/store.xml /lib/systemd/system/ipsec-agentd.service; do
	[ -f "$f" ] || die "$f is missing"
done
echo "    versions $version, man pages, configuration, group, schemas: ok"
# Cockpit's bridge reads the installed manifest and lists the page.
cpackages=$(cockpit-bridge --packages)
grep -Eq '^ipsec-agent +IPsec +/usr/share/cockpit/ipsec-agent$' <<<"$cpackages" ||
    die "cockpit-bridge --packages does not list the page: $cpackages"
echo "    cockpit-bridge --packages: ipsec-agent (IPsec) in /usr/share/cockpit/ipsec-agent"

say "systemd-analyze verify / security (the installed unit)"
systemd-analyze verify /lib/systemd/system/ipsec-agentd.service ||
    die "systemd-analyze verify"
systemd-analyze security --offline=yes \
    /lib/systemd/system/ipsec-agentd.service 2>&1 | tail -1

say "man pages and completion against the installed programs' tables"
mkdir -p "$w/man"
for f in /usr/share/man/man8/ipsec-agentd.8.gz /usr/share/man/man8/ipseccmd.8.gz \
    /usr/share/man/man5/ipsec-agentd.conf.5.gz; do
	b=$(basename "$f" .gz)
	gzip -dc "$f" > "$w/man/$b"
done
python3 tests/integration/man_drift.py /usr/sbin/ipsec-agentd \
    /usr/sbin/ipseccmd "$w/man" /usr/share/bash-completion/completions/ipseccmd

say "the unit, run by systemd in a container"
bash tests/package/unit_test.sh

say "the demo on the installed binaries and /etc/ipsec-agent"
DEMO_BIN=/usr/sbin DEMO_SYSTEM=1 bash examples/demo.sh > "$w/demo.log" 2>&1 ||
    { tail -40 "$w/demo.log"; die "the demo failed"; }
grep -E 'using the installed|Only IKE and ESP|demo finished' "$w/demo.log" |
    sed 's/^/    /'

say "README 'Join a domain': adcli join to a Samba AD DC, the installed agent applies the domain policy"
bash tests/package/join_test.sh /usr/sbin/ipsec-agentd /usr/sbin/ipseccmd \
    > "$w/join.log" 2>&1 || { cat "$w/join.log"; die "the domain join test failed (or skipped)"; }
sed 's/^/    /' "$w/join.log"

say "apt-get purge: nothing may be left"
apt-get purge -y -q ipsec-agent cockpit-ipsec-agent > "$w/purge.log" 2>&1 ||
    { cat "$w/purge.log"; die "apt-get purge failed"; }
installed=0
left=0
while read -r f; do
	if [ -e "$f" ] && [ ! -d "$f" ]; then echo "    left: $f"; left=1; fi
done < "$w/files.lst"
for d in /etc/ipsec-agent /var/lib/ipsec-agent /var/log/ipsec-agent \
    /run/ipsec-agent /usr/share/ipsec-agent /usr/share/doc/ipsec-agent \
    /usr/share/cockpit/ipsec-agent /usr/share/doc/cockpit-ipsec-agent; do
	[ ! -e "$d" ] || { echo "    left: $d"; left=1; }
done
getent group ipsec-admins >/dev/null && { echo "    left: group ipsec-admins"; left=1; }
snap > "$w/after.lst"
# Only ours counts: other jobs on this machine may create files meanwhile.
comm -13 "$w/before.lst" "$w/after.lst" > "$w/new.lst" || true
if grep -Ei 'ipsec|agentd' "$w/new.lst"; then left=1; fi
[ "$left" = 0 ] || die "the purge left files behind"
echo "    purged: none of the $(wc -l < "$w/files.lst") packaged paths," \
    "no state, log, run or configuration directory, no group left"
say "all package checks passed"
