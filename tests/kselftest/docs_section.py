#!/usr/bin/env python3
"""tests/kselftest/docs_section.py BUILD_DIR - the selftest section of
docs/verifier.md, from a run's verdict files (build/kselftest/verdicts.tsv,
legacy_verdicts.tsv) and the divergence lists with their reasons
(tests/kselftest/divergences.txt, legacy_divergences.txt). Prints Markdown;
docs/verifier.md carries the output of the last run (see the section's
first lines for how to refresh it)."""
import collections
import os
import sys


def read_tsv(path):
    rows = []
    with open(path) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 5:
                rows.append(cols)
    return rows


def reasons(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            out[cols[0]] = cols[3] if len(cols) > 3 else ""
    return out


def legacy_key(name):
    # verifier/<file>/<index>:<descr> -> verifier/<file>/<descr>
    head, _, rest = name.partition("/")
    file, _, tail = rest.partition("/")
    return "%s/%s/%s" % (head, file, tail.split(":", 1)[1] if ":" in tail else tail)


def main():
    build = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    suites = [
        ("progs/verifier_*.c", read_tsv(os.path.join(build, "kselftest/verdicts.tsv")),
         reasons(os.path.join(here, "divergences.txt")), lambda n: n),
        ("verifier/*.c", read_tsv(os.path.join(build, "kselftest/legacy_verdicts.tsv")),
         reasons(os.path.join(here, "legacy_divergences.txt")), legacy_key),
    ]
    print("| suite | programs | XDP + socket filter | compared | same verdict | different | outside our types |")
    print("|---|---|---|---|---|---|---|")
    totals = collections.Counter()
    for title, rows, _, _ in suites:
        ours = [r for r in rows if r[2] in ("xdp", "socket_filter")]
        compared = [r for r in ours if r[4] != "ebpfvm=outside" and r[3] in ("kernel=accept", "kernel=reject")]
        same = [r for r in compared if r[3][7:] == r[4][7:]]
        c = collections.Counter(programs=len(rows), ours=len(ours), compared=len(compared), same=len(same),
                                diff=len(compared) - len(same), outside=len(rows) - len(ours))
        totals.update(c)
        print("| %s | %d | %d | %d | %d | %d | %d |" % (title, c["programs"], c["ours"], c["compared"], c["same"],
                                                       c["diff"], c["outside"]))
    print("| **both** | %d | %d | %d | **%d** | **%d** | %d |" % (
        totals["programs"], totals["ours"], totals["compared"], totals["same"], totals["diff"], totals["outside"]))
    print()
    print("XDP and socket filter programs not compared: %s." % "; ".join(
        "%s: %s" % (t, ", ".join("%s (%s)" % (r[0], (r[7] if len(r) > 7 else "") or r[3]) for r in rows
                                 if r[2] in ("xdp", "socket_filter") and
                                 (r[4] == "ebpfvm=outside" or r[3] not in ("kernel=accept", "kernel=reject"))) or "none")
        for t, rows, _, _ in suites))
    print()
    print("### Where the verdicts differ")
    print()
    print("| program | kernel | ebpfvm | why |")
    print("|---|---|---|---|")
    for title, rows, why, key in suites:
        seen = set()
        for r in rows:
            if r[2] not in ("xdp", "socket_filter") or r[4] == "ebpfvm=outside":
                continue
            if r[3] not in ("kernel=accept", "kernel=reject") or r[3][7:] == r[4][7:]:
                continue
            k = key(r[0])
            if k in seen:
                continue
            seen.add(k)
            print("| `%s` | %s | %s | %s |" % (k, r[3][7:], r[4][7:], why.get(k, "")))
    print()
    print("### Programs outside ebpfvm's program types")
    print()
    for title, rows, _, key in suites:
        bytype = collections.Counter(r[2] for r in rows if r[2] not in ("xdp", "socket_filter"))
        print("%s, by type: %s." % (title, ", ".join("%s %d" % kv for kv in sorted(bytype.items(), key=lambda kv: -kv[1]))))
        print()
    print("<details><summary>Every program outside ebpfvm's types, by source file</summary>")
    print()
    for title, rows, _, key in suites:
        byfile = collections.OrderedDict()
        for r in rows:
            if r[2] in ("xdp", "socket_filter"):
                continue
            parts = r[0].split("/")
            byfile.setdefault(parts[1], []).append("%s (%s)" % ("/".join(parts[2:]), r[2]))
        for f, names in byfile.items():
            print("- `%s/%s`: %s" % (title.split("/")[0], f, "; ".join(names)))
    print()
    print("</details>")


if __name__ == "__main__":
    main()
