#!/usr/bin/env python3
"""File-level circles in the production code (issue 18).

Reads the object files of a build (everything but tests/), links each
undefined symbol of one file to the file that defines it, and reports every
strongly connected group of two or more source files: A calls into B and B,
directly or through others, calls back into A. Exit 1 when there is one.
"""
import os
import subprocess
import sys


def objects(build):
    seen = {}
    for root, _dirs, files in os.walk(build):
        if os.sep + "tests" + os.sep in root + os.sep or "CMakeFiles" not in root:
            continue
        for f in files:
            if not f.endswith(".c.o"):
                continue
            path = os.path.join(root, f)
            # .../CMakeFiles/<target>.dir/<source path>.c.o
            rel = path.split(".dir" + os.sep, 1)[1][:-2]
            tgt = path.split("CMakeFiles" + os.sep, 1)[1].split(".dir")[0]
            if "fuzz" in tgt or tgt.startswith("test_"):
                continue
            seen[tgt + ":" + rel] = path
    return seen


def nm(path, flag):
    out = subprocess.run(["nm", "-g", flag, path], capture_output=True,
                         text=True, check=True).stdout
    return {ln.split()[-1] for ln in out.splitlines() if ln.strip()}


def sccs(nodes, edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: cycles.py BUILD_DIR")
    objs = objects(sys.argv[1])
    if not objs:
        sys.exit("no object files under " + sys.argv[1])
    defined, undef = {}, {}
    for key, path in objs.items():
        src = key
        for s in nm(path, "--defined-only"):
            defined.setdefault(s, src)
        undef.setdefault(src, set()).update(nm(path, "--undefined-only"))
    edges, why = {}, {}
    for src, syms in undef.items():
        for s in syms:
            dst = defined.get(s)
            if dst is None or dst == src:
                continue
            edges.setdefault(src, set()).add(dst)
            why.setdefault((src, dst), s)
    bad = [c for c in sccs(set(undef), edges) if len(c) > 1]
    for comp in bad:
        print("circle of %d files:" % len(comp))
        for a in comp:
            for b in sorted(edges.get(a, ())):
                if b in comp:
                    print("  %s -> %s (%s)" % (a, b, why[(a, b)]))
    print("%d source files, %d circles" % (len(undef), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
