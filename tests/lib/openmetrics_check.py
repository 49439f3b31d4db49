#!/usr/bin/python3
"""Check `ipseccmd show stats --format=openmetrics` (or the metrics textfile)
with a real OpenMetrics parser, against `show stats --json`.

usage: openmetrics_check.py METRICS [STATS_JSON [QMSAS_JSON]]

METRICS is parsed with prometheus_client's OpenMetrics parser (Debian's
python3-prometheus-client), which refuses a missing `# EOF`, a counter
sample without `_total`, a # UNIT that is not the name's suffix, clashing
or malformed names. On top of that:
- every family is named ipsec_agent_<snake_case> and has a # HELP text;
- with STATS_JSON: each counter of the "oakley", "ipsec" and "agent"
  tables (snake_case keys) has a family ipsec_agent_<table>_<key> with
  one unlabelled sample, equal to the JSON value;
- with QMSAS_JSON (`show qmsas --json`): each peer with SAs appears as a
  peer="<address>" label in some family.
Exit 0 if all holds, 1 with the reasons otherwise. The
/usr/bin/python3 interpreter is Debian's, where the parser is installed.
"""
import json
import re
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

NAME = re.compile(r"ipsec_agent_[a-z0-9]+(_[a-z0-9]+)*$")


def main(argv):
    if len(argv) < 2 or len(argv) > 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        text = f.read()
    errs = []
    try:
        fams = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser's verdict, whatever its type
        print(f"not OpenMetrics: {e}", file=sys.stderr)
        return 1
    if not fams:
        errs.append("no metric family")
    for fam in fams:
        if not NAME.match(fam.name):
            errs.append(f"{fam.name}: not ipsec_agent_<snake_case>")
        if not fam.documentation:
            errs.append(f"{fam.name}: no # HELP")
    if len(argv) > 2:
        with open(argv[2], encoding="utf-8") as f:
            stats = json.load(f)
        for table in ("oakley", "ipsec", "agent"):
            for key, want in stats.get(table, {}).items():
                name = f"ipsec_agent_{table}_{key}"
                hit = [m for m in fams if m.name == name]
                if not hit:
                    errs.append(f"{table} '{key}': no family {name}")
                for fam in hit:
                    plain = [s for s in fam.samples if not s.labels and
                             not s.name.endswith("_created")]
                    if len(plain) != 1:
                        errs.append(f"{fam.name}: {len(plain)} unlabelled "
                                    "samples, want 1")
                    elif plain[0].value != want:
                        errs.append(f"{plain[0].name} = {plain[0].value}, "
                                    f"show stats --json '{key}' = {want}")
    if len(argv) > 3:
        with open(argv[3], encoding="utf-8") as f:
            qmsas = json.load(f)
        labelled = {s.labels.get("peer") for m in fams for s in m.samples}
        for sa in qmsas.get("qmsas", []):
            if sa["peer"] not in labelled:
                errs.append(f"peer {sa['peer']}: no peer label")
    for e in errs:
        print(e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
