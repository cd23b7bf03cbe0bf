#!/usr/bin/env bash
# bench/run.sh - build a Release tree in build-bench/ and run the
# benchmarks (each prints the Markdown table docs/performance.md shows).
#   bash bench/run.sh [ARGS]       bench_interp ARGS, then bench_xdp
#   bash bench/run.sh xdp [ARGS]   only bench_xdp ARGS (e.g. --min-ms 100)
#   bash bench/run.sh run          only `ebpfvm run --pcap` throughput beside a
#                                  bare libpcap read loop (bench/bench_run.sh)
#   bash bench/run.sh verify [ARGS] only bench_verify ARGS: verification time
#                                  per XDP program beside the kernel's
# bench_xdp's kernel column needs root (BPF_PROG_TEST_RUN); without it the
# column is skipped with the reason printed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

only_xdp=0
only_run=0
if [[ "${1:-}" == "run" ]]; then
    only_run=1
    shift
elif [[ "${1:-}" == "xdp" ]]; then
    only_xdp=1
    shift
fi

mkdir -p build-bench
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DEBPFVM_BUILD_TESTS=OFF \
    >build-bench/configure.log 2>&1 || {
    cat build-bench/configure.log
    exit 1
}
if [[ "${1:-}" == "verify" ]]; then
    shift
    cmake --build build-bench -j "${EBPFVM_JOBS:-2}" --target bench_verify
    exec build-bench/bench/bench_verify "$@"
fi
if [[ $only_run == 1 ]]; then
    cmake --build build-bench -j "${EBPFVM_JOBS:-2}" --target ebpfvm_cli bench_pcap_read ebpfvm_example_pcaps \
        ebpfvm_xdp_examples
    exec bash bench/bench_run.sh "$root/build-bench"
fi
targets=(bench_interp)
if grep -q '^build bench/bench_xdp:' build-bench/build.ninja 2>/dev/null; then
    targets+=(bench_xdp)
fi
cmake --build build-bench -j "${EBPFVM_JOBS:-2}" --target "${targets[@]}"
echo "nproc: $(nproc)"
if [[ $only_xdp == 0 ]]; then
    build-bench/bench/bench_interp "$@"
    set --
fi
if [[ -x build-bench/bench/bench_xdp ]]; then
    build-bench/bench/bench_xdp "$@"
else
    echo "bench_xdp not built (needs clang and the ELF loader)"
fi
