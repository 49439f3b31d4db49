#!/usr/bin/python3
"""Validate JSON written by ipsec-agentd / ipseccmd against the shipped
JSON Schemas (packaging/schema, draft 2020-12) with a real validator
(Debian's python3-jsonschema).

usage: schema_check.py SCHEMA_DIR NAME FILE...

NAME is a schema file of SCHEMA_DIR without ".json" (status, stats, ...);
each FILE holds one JSON document. On top of the schema, every document
must have "version": 1 at its top level and only snake_case keys
([a-z0-9]+ joined by '_'), except inside the "fields" of an audit record
(the Windows event's field names, data) and the per-peer maps. Exit 0 if
all hold, 1 with the reasons, 2 on usage or when a schema is itself
invalid.
"""
import json
import os
import re
import sys

import jsonschema
from jsonschema import Draft202012Validator

SNAKE = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*$")
DATA_KEYS = {"fields"}


def bad_keys(doc, path="$"):
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if not SNAKE.match(k):
                out.append(f"{path}: key '{k}' is not snake_case")
            if k not in DATA_KEYS:
                out.extend(bad_keys(v, f"{path}.{k}"))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(bad_keys(v, f"{path}[{i}]"))
    return out


def main(argv):
    if len(argv) < 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    sdir, name, files = argv[1], argv[2], argv[3:]
    store = {}
    for fn in sorted(os.listdir(sdir)):
        if fn.endswith(".json"):
            with open(os.path.join(sdir, fn), encoding="utf-8") as f:
                s = json.load(f)
            try:
                Draft202012Validator.check_schema(s)
            except jsonschema.exceptions.SchemaError as e:
                print(f"{fn}: not a valid schema: {e.message}",
                      file=sys.stderr)
                return 2
            store[s["$id"]] = s
    schema = store.get(
        f"https://ipsec-agent.invalid/schema/1/{name}.json")
    if schema is None:
        print(f"no schema {name}.json in {sdir}", file=sys.stderr)
        return 2
    resolver = jsonschema.RefResolver.from_schema(schema, store=store)
    val = Draft202012Validator(schema, resolver=resolver)
    errs = []
    for fn in files:
        try:
            with open(fn, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            errs.append(f"{fn}: not JSON: {e}")
            continue
        for e in sorted(val.iter_errors(doc), key=lambda e: e.path):
            where = "/".join(str(p) for p in e.absolute_path)
            errs.append(f"{fn}: {name}: at /{where}: {e.message}")
        if not isinstance(doc, dict) or doc.get("version") != 1:
            errs.append(f"{fn}: no top-level \"version\": 1")
        errs.extend(f"{fn}: {m}" for m in bad_keys(doc))
    for e in errs:
        print(e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
