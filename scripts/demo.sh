#!/usr/bin/env bash
# scripts/demo.sh - set up, build, and run ebpfvm's main job on a bundled
# example: assemble examples/asm/ipv4_checksum.asm and execute it over the
# 20-byte IPv4 header in examples/asm/ipv4_header.bin (the program computes
# the header's checksum; the CLI prints r0).
#
# Uses the same build/ directory and options as scripts/test.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/setup.sh
mkdir -p build
cmake -S . -B build -G Ninja -DEBPFVM_WERROR=ON >build/configure.log 2>&1 || {
    cat build/configure.log
    exit 1
}
cmake --build build -j "${EBPFVM_JOBS:-2}"

set -x
build/cli/ebpfvm exec examples/asm/ipv4_checksum.asm --mem-file examples/asm/ipv4_header.bin
