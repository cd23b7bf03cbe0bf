#!/usr/bin/env bash
# bench/run.sh - build a Release tree in build-bench/ and run the
# interpreter benchmark (prints the Markdown table docs/performance.md
# shows). Extra arguments go to bench_interp (e.g. --min-ms 500).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

mkdir -p build-bench
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DEBPFVM_BUILD_TESTS=OFF \
    >build-bench/configure.log 2>&1 || {
    cat build-bench/configure.log
    exit 1
}
cmake --build build-bench -j "${EBPFVM_JOBS:-2}" --target bench_interp
echo "nproc: $(nproc)"
build-bench/bench/bench_interp "$@"
