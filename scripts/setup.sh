#!/usr/bin/env bash
# scripts/setup.sh - install the Debian 12 packages ebpfvm needs to build,
# test, benchmark and (later) run XDP objects.
#
# Idempotent and quiet: when every package is already installed it does
# nothing (no network access); otherwise it runs `apt-get update` and then
# installs only what is missing, non-interactively. Needs root (or sudo) only
# when something is missing. Every package below exists in Debian 12
# (bookworm) main.
set -euo pipefail

packages=(
    build-essential   # gcc, make, libc headers
    cmake             # >= 3.25 (the top-level CMakeLists.txt requires it)
    ninja-build       # the generator the scripts use
    pkg-config        # finds criterion, libelf (and checks the installed ebpfvm.pc)
    clang             # compiles eBPF C programs to objects (bpf target)
    llvm              # llvm-objdump / llvm-readelf for eBPF objects
    libcriterion-dev  # the unit-test framework (tests/)
    libelf-dev        # the ELF loader (loader/elf*.c)
    libpcap-dev       # pcap packet sources (XDP runtime)
    libbpf-dev        # bpf_helpers.h and friends for building XDP test objects
    libxdp-dev        # AF_XDP packet sources
    linux-libc-dev    # linux/bpf.h, linux/if_xdp.h
    hyperfine         # command-line benchmarks (bench/)
    linux-source-6.12 # the kernel's verifier selftests (tests/kselftest; from bookworm-security)
    clang-19          # compiles those selftests (they need a newer clang than 14)
    bpftool           # vmlinux.h of the running kernel for the selftests
)

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) || status=absent
    if [[ "$status" != installed ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "setup: all ${#packages[@]} packages present"
    exit 0
fi

sudo_cmd=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo)
    else
        echo "setup: need root to install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
