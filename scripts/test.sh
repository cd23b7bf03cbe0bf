#!/usr/bin/env bash
# scripts/test.sh - the whole test suite, as CI runs it.
#
#   1. scripts/setup.sh (installs the Debian packages when missing);
#   2. build/      : normal build, warnings are errors; ctest;
#                    then `cmake --install` into a temporary prefix and build
#                    tests/install/ against it (CMake package and pkg-config)
#                    and the embedding sample of README.md;
#   3. build-asan/ : ASan + UBSan build, warnings are errors; ctest with
#                    halt_on_error and leak detection.
#
# The last line is `tests: N passed, N failed`, summed over both builds.
# Exits non-zero when a build, a test or the install check fails.
#
# Environment: EBPFVM_JOBS (parallel build/test jobs, default 2),
# EBPFVM_CONFORMANCE_DIR (the bpf_conformance .data files, default
# ../shared/conformance/tests beside the repository; the conformance tests
# skip when it is absent).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

jobs=${EBPFVM_JOBS:-2}
conformance_dir=${EBPFVM_CONFORMANCE_DIR:-$root/../shared/conformance/tests}

bash scripts/setup.sh

if [[ -d "$conformance_dir" ]]; then
    conformance_dir=$(cd "$conformance_dir" && pwd)
    echo "conformance: $(find "$conformance_dir" -name '*.data' | wc -l) files in $conformance_dir"
else
    echo "conformance: $conformance_dir not found: the conformance tests will skip"
fi

passed=0
failed=0
problems=()
tmpdirs=()
cleanup() {
    if ((${#tmpdirs[@]} > 0)); then
        rm -rf "${tmpdirs[@]}"
    fi
}
trap cleanup EXIT

# configure_and_build DIR [cmake options...]: returns non-zero on failure.
configure_and_build() {
    local dir=$1
    shift
    echo "== configure $dir ($*)"
    mkdir -p "$root/$dir"
    if ! cmake -S "$root" -B "$root/$dir" -G Ninja -DEBPFVM_CONFORMANCE_DIR="$conformance_dir" "$@" \
        >"$root/$dir/configure.log" 2>&1; then
        cat "$root/$dir/configure.log"
        return 1
    fi
    echo "== build $dir"
    cmake --build "$root/$dir" -j "$jobs"
}

# run_ctest DIR: runs the tests, adds their counts to passed/failed.
run_ctest() {
    local dir=$1 log="$root/$1/ctest.log" ok=1
    echo "== test $dir"
    if ! ctest --test-dir "$root/$dir" --output-on-failure --no-tests=error -j "$jobs" 2>&1 | tee "$log"; then
        ok=0
    fi
    # "100% tests passed, 0 tests failed out of 7"
    local summary total nfail
    summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1) || summary=""
    if [[ -z "$summary" ]]; then
        problems+=("$dir: ctest printed no summary")
        return 0
    fi
    nfail=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$summary")
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
    passed=$((passed + total - nfail))
    failed=$((failed + nfail))
    if ((ok == 0 && nfail == 0)); then
        problems+=("$dir: ctest failed")
    fi
}

# install_check DIR: install into a temporary prefix and build the consumer
# in tests/install/ against it, through find_package and through pkg-config.
install_check() {
    local dir=$1 prefix consumer pcdir cflags libs
    prefix=$(mktemp -d "${TMPDIR:-/tmp}/ebpfvm-install.XXXXXX") || return 1
    tmpdirs+=("$prefix")
    consumer="$root/$dir/install-consumer"
    echo "== install check ($prefix)"
    cmake --install "$root/$dir" --prefix "$prefix" >/dev/null || return 1

    # The CMake package: shared and static library targets.
    rm -rf "$consumer"
    cmake -S "$root/tests/install" -B "$consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null || return 1
    cmake --build "$consumer" || return 1
    "$consumer/consumer_shared" || return 1
    "$consumer/consumer_static" || return 1

    # pkg-config: the .pc file records the configure-time prefix, so point
    # it at the staging prefix the usual way (--define-variable).
    pcdir=$(dirname "$(find "$prefix" -name ebpfvm.pc -print -quit)")
    cflags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$prefix" --cflags ebpfvm) || return 1
    libs=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$prefix" --libs ebpfvm) || return 1
    # shellcheck disable=SC2086 # word splitting of pkg-config output is intended
    cc -std=c11 -Wall -Wextra -Werror $cflags "$root/tests/install/consumer.c" -o "$consumer/consumer_pkgconfig" \
        $libs -Wl,-rpath,"$(dirname "$pcdir")" || return 1
    "$consumer/consumer_pkgconfig" || return 1

    # The embedding sample in README.md (its first ```c block) compiles
    # against the installed headers and prints what its comment says.
    sed -n '/^```c$/,/^```$/p' "$root/README.md" | sed '1d;$d' >"$consumer/readme_sample.c"
    # shellcheck disable=SC2086
    cc -std=c11 -Wall -Wextra -Werror $cflags "$consumer/readme_sample.c" -o "$consumer/readme_sample" \
        $libs -Wl,-rpath,"$(dirname "$pcdir")" || return 1
    "$consumer/readme_sample" | tee "$consumer/readme_sample.out" || return 1
    grep -qx 'r0 = 42' "$consumer/readme_sample.out" || return 1
}

if configure_and_build build -DEBPFVM_WERROR=ON; then
    run_ctest build
    if ! install_check build; then
        problems+=("install check failed")
    fi
else
    problems+=("build failed")
fi

# Sanitizer runs: stop at the first report, check for leaks, print stacks.
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=print_suppressions=0
if configure_and_build build-asan -DEBPFVM_SANITIZE=ON -DEBPFVM_WERROR=ON; then
    run_ctest build-asan
else
    problems+=("build-asan failed")
fi

for p in "${problems[@]}"; do
    echo "FAILED: $p"
done
echo "tests: $passed passed, $failed failed"
if ((failed > 0 || ${#problems[@]} > 0)); then
    exit 1
fi
