#!/usr/bin/env python3
"""man_drift: the man pages and the bash completion against the code's own
tables. Usage: man_drift.py IPSEC_AGENTD IPSECCMD MANDIR COMPLETION

- ipsec-agentd.conf(5) documents every key of `ipsec-agentd --list-keys`
  (the parser's table) as a `.BI "key = "` entry, and no other key;
- ipseccmd(8) has a subsection (.SS) per command, and in it every further
  word of each `ipseccmd --list-commands` path and every `KEY=` of
  `ipseccmd --list-keys` (static keys under static or match, dynamic keys
  under dynamic) in bold;
- groff reads the three pages without a warning;
- the completion offers, for every command path, its next words, and the
  keys after `static add rule` / `match` / `dynamic add rule NAME`.
"""
import re
import subprocess
import sys

agentd, cmd, mandir, compl = sys.argv[1:5]
bad = []


def run(*a):
    return subprocess.run(a, check=True, capture_output=True,
                          text=True).stdout


def roff(path):
    return open(path, encoding="utf-8").read().replace("\\-", "-")


# groff: no warnings
for page in ("ipsec-agentd.8", "ipseccmd.8", "ipsec-agentd.conf.5"):
    r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8",
                        f"{mandir}/{page}"], capture_output=True, text=True)
    if r.returncode != 0 or r.stderr.strip():
        bad.append(f"{page}: groff: {r.stderr.strip()}")

# ipsec-agentd.conf(5) <-> the key table
keys = [l.split("\t")[0] for l in run(agentd, "--list-keys").splitlines()]
if len(keys) < 40:
    bad.append(f"ipsec-agentd --list-keys: only {len(keys)} keys")
conf = roff(f"{mandir}/ipsec-agentd.conf.5")
documented = re.findall(r'^\.BI "([a-z_]+) = "', conf, re.M)
for k in keys:
    if k not in documented:
        bad.append(f"ipsec-agentd.conf(5): key '{k}' is not documented")
for k in documented:
    if k not in keys:
        bad.append(f"ipsec-agentd.conf(5): documents '{k}', which the "
                   "parser does not accept")

# ipseccmd(8) <-> the word tables


def words_of(text):
    """Words and KEY= prefixes, and whole option=value words."""
    return set(re.findall(r"-*[A-Za-z0-9_][A-Za-z0-9_-]*=?", text)) | \
        set(re.findall(r"-*[A-Za-z0-9_][A-Za-z0-9_-]*=[A-Za-z0-9_-]+", text))


def bold_words(text):
    """Words set in bold: .B/.BR/.BI/.RB/.IB macro arguments in bold
    position, and \\fB...\\f spans."""
    out = set()
    for line in text.splitlines():
        m = re.match(r"^\.(B|BR|BI|RB|IB)\s+(.*)$", line)
        if m:
            args = re.findall(r'"[^"]*"|\S+', m.group(2))
            first_bold = m.group(1) in ("B", "BR", "BI")
            for i, a in enumerate(args):
                if m.group(1) == "B" or (i % 2 == 0) == first_bold:
                    out.update(words_of(a.strip('"')))
        for span in re.findall(r"\\fB(.*?)\\f", line):
            out.update(words_of(span))
    return out


page = roff(f"{mandir}/ipseccmd.8")
sections = {}
for m in re.finditer(r"^\.SS (\S+)\n(.*?)(?=^\.S[SH] |\Z)", page,
                     re.M | re.S):
    sections[m.group(1)] = bold_words(m.group(2))
paths = [l.split() for l in run(cmd, "--list-commands").splitlines()]
if len(paths) < 40:
    bad.append(f"ipseccmd --list-commands: only {len(paths)} paths")
for p in paths:
    sec = sections.get(p[0])
    if sec is None:
        bad.append(f"ipseccmd(8): no subsection for command '{p[0]}'")
        continue
    for w in p[1:]:
        if w not in sec:
            bad.append(f"ipseccmd(8): '{' '.join(p)}': '{w}' not in bold "
                       f"in section {p[0]}")
ckeys = [l.split() for l in run(cmd, "--list-keys").splitlines()]
for kind, k in ckeys:
    where = ["dynamic"] if kind == "dynamic" else ["static", "match"]
    if not any(k + "=" in sections.get(s, set()) for s in where):
        bad.append(f"ipseccmd(8): {kind} key '{k}=' not in bold in "
                   f"section {'/'.join(where)}")

# The completion offers the same words.


def complete(words):
    script = f'''
source {compl}
COMP_WORDS=({" ".join(words)} "")
COMP_CWORD={len(words)}
_ipseccmd
printf '%s\\n' "${{COMPREPLY[@]}}"
'''
    return set(subprocess.run(["bash", "-c", script], capture_output=True,
                              text=True, check=True).stdout.split())


by_prefix = {}
for p in paths:
    by_prefix.setdefault(tuple(p[:-1]), set()).add(p[-1])
for prefix, nxt in by_prefix.items():
    got = complete([cmd] + list(prefix))
    for w in nxt:
        if w not in got:
            bad.append(f"completion: after '{' '.join(prefix)}' does not "
                       f"offer '{w}' (offers {sorted(got)})")
for words, kind in ((["static", "add", "rule"], "static"),
                    (["match"], "static"),
                    (["dynamic", "add", "rule", "R1"], "dynamic")):
    got = complete([cmd] + words)
    for k2, k in ckeys:
        if k2 == kind and k + "=" not in got:
            bad.append(f"completion: after '{' '.join(words)}' does not "
                       f"offer '{k}='")

for b in bad:
    print("FAIL:", b)
print(f"{len(keys)} configuration keys, {len(paths)} command paths, "
      f"{len(ckeys)} command keys checked; {len(bad)} problems")
sys.exit(1 if bad else 0)
