# Sourced by the directory notification tests: variants of the service
# test's policy (tests/integration/service/dir_store.xml) and LDIF that
# changes a directory to them. Needs tmp, svc (that directory), mkldif,
# LDAP_BASE, GPO and LINK.
# Variants of the policy: the same objects with other filters; the
# change is a "replace: ipsecData" of the objects named (by GUID end).
variant() {	# NAME SED-EXPR
	sed "$2" "$svc/dir_store.xml" >"$tmp/$1.xml"
	"$mkldif" "$tmp/$1.xml" "$LDAP_BASE" "$GPO" "$LINK" >"$tmp/$1.ldif" ||
	    fail "svc_mkldif $1"
}
# modify LDIF of the ipsecData of the objects whose DN has GUID-END...
# (records separated by a line "-pause-" when PAUSE is set)
blobs() {	# VARIANT GUID-END...
	python3 - "$tmp/$1.ldif" "${@:2}" <<'PY'
import sys
text = open(sys.argv[1]).read().replace("\n ", "")	# unfold (RFC 2849)
for guid in sys.argv[2:]:
    for rec in text.split("\n\n"):
        lines = rec.strip().split("\n")
        if not lines[0].startswith("dn: ") or guid.upper() + "}," not in lines[0].upper():
            continue
        if not any(l.startswith("ipsecData::") for l in lines):
            continue
        print(lines[0])
        print("changetype: modify")
        print("replace: ipsecData")
        print([l for l in lines if l.startswith("ipsecData::")][0])
        print("-")
        print()
PY
}
