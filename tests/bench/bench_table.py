#!/usr/bin/env python3
"""bench_table.py RAW: the table of tests/bench/run-all.sh from its raw
"RESULT section key=value ..." lines: medians and ranges over the runs;
ratios ours/charon are taken within each run (paired) and then summarised.
"""
import statistics
import sys
from collections import defaultdict

GROUPS = {"modp2048": "MODP-2048", "modp1024": "MODP-1024", "ecp256": "ECP-256"}
FLOOR_ID = {"modp2048": "14", "modp1024": "2", "ecp256": "19"}


def parse(path):
    rows = []
    header = []
    for line in open(path):
        line = line.strip()
        if line.startswith("#"):
            header.append(line)
            continue
        if not line.startswith("RESULT "):
            continue
        parts = line.split()
        d = {"section": parts[1]}
        for p in parts[2:]:
            if "=" in p:
                k, v = p.split("=", 1)
                d[k] = v
        rows.append(d)
    return header, rows


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def summ(vals, fmt="{:.0f}"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    m = statistics.median(vals)
    if len(vals) == 1:
        return fmt.format(m) + " (1 run)"
    return "{} ({}-{}, n={})".format(fmt.format(m), fmt.format(min(vals)),
                                      fmt.format(max(vals)), len(vals))


def loads(rows):
    ls = [r.get("load", "") for r in rows]
    one = [num(x.split("/")[0]) for x in ls if x]
    one = [x for x in one if x is not None]
    if not one:
        return "-"
    return "{:.2f}-{:.2f}".format(min(one), max(one))


def paired(rows, key, a="ours", b="charon", match=("run",)):
    """ratio a/b of key within each run (rows of a and b with equal match)."""
    by = defaultdict(dict)
    for r in rows:
        k = tuple(r.get(m) for m in match)
        v = num(r.get(key))
        if v is not None:
            by[k][r.get("who")] = v
    out = []
    for d in by.values():
        if a in d and b in d and d[b] > 0:
            out.append(d[a] / d[b])
    return out


def main():
    header, rows = parse(sys.argv[1])
    sec = defaultdict(list)
    errs = defaultdict(list)
    for r in rows:
        (errs if "error" in r else sec)[r["section"]].append(r)
    for h in header:
        print(h)
    print("Load average: 1-min range of each row's runs (2 CPUs); the machine "
          "is shared: compare only side-by-side ratios.")
    print()

    ike = sec["ike"]
    if ike:
        floors = defaultdict(list)
        for r in sec["floor"]:
            floors[r.get("group")].append(num(r.get("ms_per_pair")))
        print("## IKEv1 Main Mode + Quick Mode, responder: ours (ike_peer, uesp) vs "
              "charon tuned (kernel-libipsec); same initiator, same concurrency")
        print()
        print("| DH | auth | in flight | ours hs/s | charon hs/s | rate ratio | "
              "ours resp. CPU ms/hs | charon resp. CPU ms/hs | charon/ours CPU | "
              "DH floor ms | ours CPU / floor | load |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        keys = []
        for r in ike:
            k = (r["group"], r["auth"], r.get("par"))
            if k not in keys:
                keys.append(k)
        for g, auth, par in keys:
            rs = [r for r in ike if (r["group"], r["auth"], r.get("par")) == (g, auth, par)]
            ours = [r for r in rs if r["who"] == "ours"]
            ch = [r for r in rs if r["who"] == "charon"]
            fl = floors.get(FLOOR_ID.get(g), [])
            fmed = statistics.median([f for f in fl if f]) if fl else None
            over = [num(r["resp_cpu_ms"]) / fmed for r in ours
                    if fmed and num(r.get("resp_cpu_ms"))]
            print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                GROUPS.get(g, g), auth.upper(), par,
                summ([num(r["rate"]) for r in ours]),
                summ([num(r["rate"]) for r in ch]),
                summ(paired(rs, "rate"), "{:.2f}x"),
                summ([num(r["resp_cpu_ms"]) for r in ours], "{:.2f}"),
                summ([num(r["resp_cpu_ms"]) for r in ch], "{:.2f}"),
                summ([1 / x for x in paired(rs, "resp_cpu_ms") if x], "{:.2f}x"),
                summ(fl, "{:.3f}"),
                summ(over, "{:.2f}x"),
                loads(rs)))
        fails = [r for r in ike if num(r.get("failures")) or num(r.get("retransmits"))]
        if fails:
            print()
            print("Failures or retransmissions in {} of {} batches (see raw).".format(
                len(fails), len(ike)))
        print()

    sc = sec["scale"]
    if sc:
        print("## Scale: PSK MODP-2048, rate of the last 1000 handshakes before N SAs, "
              "RSS per MM+QM SA pair (ESP state on both: uesp / kernel-libipsec)")
        print()
        print("| SAs | ours hs/s | charon hs/s | rate ratio | ours KiB/SA | "
              "charon KiB/SA | ours resp. CPU ms/hs | charon resp. CPU ms/hs | load |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        targets = sorted({int(r["target"]) for r in sc})
        for t in targets:
            rs = [r for r in sc if int(r["target"]) == t]
            o = [r for r in rs if r["who"] == "ours"]
            c = [r for r in rs if r["who"] == "charon"]
            print("| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                t, summ([num(r["rate"]) for r in o]), summ([num(r["rate"]) for r in c]),
                summ(paired(rs, "rate"), "{:.2f}x"),
                summ([num(r["kib_per_sa"]) for r in o], "{:.1f}"),
                summ([num(r["kib_per_sa"]) for r in c], "{:.1f}"),
                summ([num(r["resp_cpu_ms"]) for r in o], "{:.2f}"),
                summ([num(r["resp_cpu_ms"]) for r in c], "{:.2f}"),
                loads(rs)))
        short = [r for r in sc if r.get("sas") and r["sas"] != r["target"]]
        for r in short:
            print()
            print("Run {} of {}: {} SAs instead of {} (the initiator gave up after failed "
                  "negotiations).".format(r.get("run"), r["who"], r["sas"], r["target"]))
        print()

    idle_o = [num(r["rss_idle_kb"]) / 1024 for r in ike + sc if r["who"] == "ours"]
    idle_c = [num(r["rss_idle_kb"]) / 1024 for r in ike + sc if r["who"] == "charon"]
    ag = sec["agent"]
    if idle_o or ag:
        print("## Memory idle (VmRSS, MB)")
        print()
        print("| process | idle RSS MB | with one SA pair MB | load |")
        print("|---|---:|---:|---|")
        if ag:
            print("| ipsec-agentd (uesp, one-rule policy) | {} | {} | {} |".format(
                summ([num(r["idle_rss_kb_a"]) / 1024 for r in ag if num(r.get("idle_rss_kb_a"))]
                     + [num(r["idle_rss_kb_b"]) / 1024 for r in ag if num(r.get("idle_rss_kb_b"))],
                     "{:.1f}"),
                summ([num(r["rss_kb_one_sa"]) / 1024 for r in ag if num(r.get("rss_kb_one_sa"))],
                     "{:.1f}"), loads(ag)))
        if idle_o:
            print("| ike_peer (engine alone, uesp) | {} | - | {} |".format(
                summ(idle_o, "{:.1f}"), loads(ike + sc)))
        if idle_c:
            print("| charon tuned (kernel-libipsec) | {} | - | {} |".format(
                summ(idle_c, "{:.1f}"), loads(ike + sc)))
        print()

    lat = sec["latency"]
    if lat or ag:
        print("## Latency")
        print()
        print("| what | median ms (range of run medians) | load |")
        print("|---|---:|---|")
        for w in ("ours", "charon"):
            rs = [r for r in lat if r["who"] == w]
            if rs:
                print("| negotiation, one at a time (acquire to both QM SAs), "
                      "responder {} | {} | {} |".format(
                          w, summ([num(r["median_ms"]) for r in rs], "{:.0f}"), loads(rs)))
        if ag:
            print("| first ping of a fresh negotiation, two agents (ping's RTT) | {} | {} |".format(
                summ([num(r["first_ping_ms"]) for r in ag], "{:.1f}"), loads(ag)))
            print("| the same, wall clock of `ping -c 1` | {} | {} |".format(
                summ([num(r["first_ping_wall_ms"]) for r in ag], "{:.0f}"), loads(ag)))
            print("| second ping (SA in place) | {} | {} |".format(
                summ([num(r["second_ping_ms"]) for r in ag], "{:.2f}"), loads(ag)))
        print()

    esp = sec["esp"]
    if esp:
        print("## ESP: one TCP stream (iperf3), tunnel ESP-in-UDP, A on CPU 0, B on CPU 1")
        print()
        evp = defaultdict(list)
        for r in sec["evp"]:
            evp[r["alg"]].append(num(r["mbps"]))
        print("| path | Mbit/s | CPU of both ESP processes per Gbit/s | "
              "uesp/charon (paired) | % of EVP single-core ceiling | load |")
        print("|---|---:|---:|---:|---:|---|")
        for path, ch, alg in (("veth", None, None),
                              ("uesp-cbc", "charon-aes128-sha1", "aes-128-cbc"),
                              ("charon-aes128-sha1", None, "aes-128-cbc"),
                              ("uesp-gcm", "charon-aes128gcm16", "aes-128-gcm"),
                              ("charon-aes128gcm16", None, "aes-128-gcm")):
            rs = [r for r in esp if r["path"] == path]
            if not rs:
                continue
            ratio = "-"
            pct = "-"
            if ch:
                byrun = defaultdict(dict)
                for r in esp:
                    if r["path"] in (path, ch):
                        byrun[r.get("run")][r["path"]] = num(r["mbps"])
                ratio = summ([d[path] / d[ch] for d in byrun.values()
                              if d.get(path) and d.get(ch)], "{:.1f}x")
            if alg and evp.get(alg):
                byrun = {r.get("run"): num(r["mbps"]) for r in sec["evp"] if r["alg"] == alg}
                pct = summ([100 * num(r["mbps"]) / byrun[r.get("run")] for r in rs
                            if byrun.get(r.get("run"))], "{:.0f} %")
            print("| {} | {} | {} | {} | {} | {} |".format(
                path, summ([num(r["mbps"]) for r in rs]),
                summ([num(r["cpu_per_gbps"]) for r in rs], "{:.2f}") if path != "veth" else "-",
                ratio, pct, loads(rs)))
        for alg, v in evp.items():
            print("| EVP {} single core, 1400 B | {} | - | - | 100 % | - |".format(alg, summ(v)))
        print()

    spd = sec["spd"]
    if spd:
        print("## SPD (bench_spd)")
        print()
        print("| filters | compile ms | lookups/s | load |")
        print("|---:|---:|---:|---|")
        for f in sorted({int(r["filters"]) for r in spd}):
            rs = [r for r in spd if int(r["filters"]) == f]
            print("| {} | {} | {} | {} |".format(
                f, summ([num(r["compile_ms"]) for r in rs], "{:.1f}"),
                summ([num(r["lookups_per_s"]) for r in rs]), loads(rs)))
        print()

    d = sec["dir"]
    if d:
        print("## Directory fetch (10,000 filters from slapd, GSSAPI bind)")
        print()
        print("| total ms | fetch+parse ms | peak RSS MB | load |")
        print("|---:|---:|---:|---|")
        print("| {} | {} | {} | {} |".format(
            summ([num(r.get("total_ms")) for r in d]),
            summ([num(r.get("fetch+parse_ms")) for r in d]),
            summ([num(r.get("peak_rss_mb")) for r in d]), loads(d)))
        print()
    for k, v in sorted(errs.items()):
        print("{}: {} run(s) failed or skipped ({}).".format(
            k, len(v), ", ".join(sorted({r["error"] for r in v}))))


if __name__ == "__main__":
    main()
