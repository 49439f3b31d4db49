#!/bin/sh
# Regenerate policy_xsd.c from policy.xsd (run after editing the schema).
set -eu
cd "$(dirname "$0")"
python3 - <<'PY'
src = open('policy.xsd').read()
out = ['/* Generated from policy.xsd (test_policy checks they agree): do not edit. */',
       '#include <stddef.h>', '', '#include "store_xml.h"', '',
       'static const char pol_xsd_text[] =']
for line in src.splitlines(True):
    esc = line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
    out.append('\t"%s"' % esc)
out[-1] += ';'
out += ['', 'const char *', 'pol_store_xsd(size_t *len)', '{',
        '\tif (len != NULL)', '\t\t*len = sizeof(pol_xsd_text) - 1;',
        '\treturn pol_xsd_text;', '}', '']
open('policy_xsd.c', 'w').write('\n'.join(out))
PY
