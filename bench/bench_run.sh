#!/usr/bin/env bash
# bench/bench_run.sh - `ebpfvm run --pcap` throughput beside a bare libpcap
# read loop (bench/pcap_read.c) over the same capture, in one run.
#
#   bash bench/bench_run.sh [BUILD_DIR]     (default: build-bench)
#   bash bench/run.sh run                   builds build-bench/ first
#
# Builds nothing: uses BUILD_DIR/cli/ebpfvm, BUILD_DIR/bench/pcap_read,
# BUILD_DIR/examples/pcap/bench.pcap and BUILD_DIR/examples/xdp/*.o (a
# Release tree: bench/run.sh makes one). Times whole processes (start-up,
# object load and JIT compilation included) round-robin - every command once
# per round, so bursts of load on a shared machine hit all alike - for
# EBPFVM_BENCH_RUNS rounds (default 20) after 2 warm-up rounds, and keeps
# each command's best time. Prints
# a Markdown table: packets/s (capture packets / the fastest run) and the
# ratio to the bare read loop, then the exact commands.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build-bench}
runs=${EBPFVM_BENCH_RUNS:-20}
ebpfvm=$build/cli/ebpfvm
reader=$build/bench/pcap_read
pcap=$build/examples/pcap/bench.pcap
objects=(xdp_udp_drop xdp_counters)

for f in "$ebpfvm" "$reader" "$pcap"; do
    if [[ ! -e $f ]]; then
        echo "bench_run.sh: $f is missing (build $build first: bash bench/run.sh run)" >&2
        exit 1
    fi
done
for o in "${objects[@]}"; do
    if [[ ! -e $build/examples/xdp/$o.o ]]; then
        echo "bench_run.sh: $build/examples/xdp/$o.o is missing (needs clang)" >&2
        exit 1
    fi
done

# The packet count, from the bare loop itself.
packets=$("$reader" "$pcap" | sed -n 's/.*: \([0-9]*\) packets,.*/\1/p')
[[ -n $packets ]] || {
    echo "bench_run.sh: cannot count the packets of $pcap" >&2
    exit 1
}


names=("bare libpcap read loop")
cmds=("$reader $pcap")
for o in "${objects[@]}"; do
    for e in jit fast interp; do
        names+=("$o --$e")
        cmds+=("$ebpfvm run $build/examples/xdp/$o.o --pcap $pcap --$e")
    done
done

echo "capture: $pcap ($packets packets); best of $runs rounds; nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
python3 - "$packets" "$runs" "${#names[@]}" "${names[@]}" "${cmds[@]}" <<'EOF'
import shlex, subprocess, sys, time
packets, runs, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
names, cmds = sys.argv[4:4 + n], sys.argv[4 + n:4 + 2 * n]
best = [float("inf")] * n
for rnd in range(runs + 2):  # round-robin: load bursts hit every command alike
    for i, c in enumerate(cmds):
        t = time.perf_counter()
        subprocess.run(shlex.split(c), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        t = time.perf_counter() - t
        if rnd >= 2:  # two warm-up rounds
            best[i] = min(best[i], t)
base = packets / best[0]
print("| command | best time (ms) | packets/s | vs bare read |")
print("|---|---:|---:|---:|")
for name, b in zip(names, best):
    pps = packets / b
    print(f"| {name} | {b * 1e3:.1f} | {pps / 1e6:.2f} M | {pps / base:.2f}x |")
print()
for c in cmds:
    print("    " + c)
EOF
