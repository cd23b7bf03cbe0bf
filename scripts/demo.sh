#!/usr/bin/env bash
# scripts/demo.sh - set up, build, and run ebpfvm's main job on a bundled
# example: the XDP program examples/xdp/xdp_udp_drop.c (built by clang
# -target bpf, unchanged from what Linux would load) over the mixed capture
# the build generates (build/examples/pcap/mixed.pcap, 371 frames: IPv4/IPv6,
# VLAN, fragments, runts, ...). It verifies the program, runs it as native
# code, writes the packets that leave to build/demo-out.pcapng (with the
# verdict as a comment on each), and then - when this machine lets root use
# bpf() - runs it again beside the Linux kernel (BPF_PROG_TEST_RUN) and
# checks that every verdict, every output byte and every map agree.
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

prog=build/examples/xdp/xdp_udp_drop.o
pcap=build/examples/pcap/mixed.pcap
set -x
build/cli/ebpfvm verify "$prog"
build/cli/ebpfvm run "$prog" --pcap "$pcap" -w build/demo-out.pcapng
set +x
if [[ $EUID -eq 0 ]] && build/cli/ebpfvm run "$prog" --pcap "$pcap" -c 1 --compare-kernel >/dev/null 2>&1; then
    set -x
    build/cli/ebpfvm run "$prog" --pcap "$pcap" --compare-kernel | tail -n 1
else
    echo "demo: the kernel comparison needs root and a bpf() syscall; skipped"
fi
