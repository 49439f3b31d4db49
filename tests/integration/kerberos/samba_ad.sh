#!/usr/bin/env bash
# Kerberos IKE authentication against an Active Directory KDC: a throwaway
# Samba AD domain (KDC service only) in a private network namespace, with
# machine accounts as a Windows join makes them (NAME$, SPN host/<fqdn>,
# AES only, random password, keytab exported from the directory). Then
# test_gss_kdc --ad runs inside the namespace: machine account to machine
# account, to the SPN, to a host-based name, a stale keytab after a
# password change, an unknown SPN, a principal the rule refuses.
#
# Usage: samba_ad.sh TEST_GSS_KDC_BINARY
# Exit 77 (skip) without root, network namespaces or Samba's AD DC
# (apt-get install samba samba-ad-dc python3-samba).
set -euo pipefail

BIN=${1:?usage: $0 TEST_GSS_KDC_BINARY}
. "$(cd "$(dirname "$0")" && pwd)/../../lib/samba.sh"

samba_need
t_tmpdir pa-krbad
t0=$(date +%s%N)
# Only the KDC: nothing else of the DC is needed here.
samba_provision AD.EXAMPLE.TEST ad.example.test kdc
samba_computers hosta hostb hostc
# hostc's machine password changes after its keytab was written.
samba-tool user setpassword 'hostc$' \
    --newpassword="$(head -c 30 /dev/urandom | base64)" \
    -s "$samba_smb" >/dev/null
t1=$(date +%s%N)

samba_krb5_conf
export KRB5_CONFIG="$tmp/krb5.conf" KRB5CCNAME="MEMORY:samba-ad-probe"
kdc_up() {
	ip netns exec "$samba_ns" kinit -k -t "$tmp/keytabs/hosta.keytab" \
	    "hosta\$@$samba_realm" >/dev/null 2>&1
}
samba_start krbF kdc_up
t2=$(date +%s%N)
echo "samba AD: provision + accounts $(( (t1 - t0) / 1000000 )) ms, KDC up $(( (t2 - t1) / 1000000 )) ms"

ip netns exec "$samba_ns" env PA_AD_REALM="$samba_realm" \
    PA_AD_DNS="$samba_dns" PA_AD_KEYTABS="$tmp/keytabs" \
    KRB5_CONFIG="$tmp/krb5.conf" "$BIN" --ad
