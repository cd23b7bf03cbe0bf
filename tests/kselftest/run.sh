#!/usr/bin/env bash
# tests/kselftest/run.sh BUILD_DIR - the kernel's verifier selftests
# (progs/verifier_*.c of linux-source-6.12) in the running kernel and in
# ebpfvm, verdicts compared (docs/kselftest.md).
#
#   1. compiles every progs/verifier_*.c of BUILD_DIR/kselftest/src (extracted
#      by the kselftest_source target) into BUILD_DIR/kselftest/obj with
#      clang-19; the first error line of a file that does not compile goes
#      into the report;
#   2. runs BUILD_DIR/tests/kselftest/kselftest_verdicts over the objects
#      (BUILD_DIR/kselftest/verdicts.tsv, one line per program);
#   3. writes BUILD_DIR/kselftest/report.md: counts, the programs outside
#      ebpfvm's program types, the divergences;
#   4. compares the divergences (kernel and ebpfvm verdicts differ) with
#      tests/kselftest/divergences.txt.
#
# Exit status: 0 the divergences are exactly those of divergences.txt;
# 1 unexpected divergences or stale entries (listed); 2 usage;
# 77 (ctest's skip) not root, bpf() unavailable, no extracted sources
# (tarball absent), no clang-19, or no kselftest_verdicts tool.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/kselftest/compare.sh
source "$here/compare.sh"
if (($# != 1)); then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
work=$build/kselftest
src=$work/src
bpfdir=$src/tools/testing/selftests/bpf
tool=$build/tests/kselftest/kselftest_verdicts
expected=$here/divergences.txt

skip() {
    echo "kselftest_verifier: SKIP: $*"
    exit 77
}
((EUID == 0)) || skip "not root (bpf() program loads need CAP_BPF/CAP_SYS_ADMIN)"
[[ -f $work/src.stamp && -d $bpfdir/progs ]] ||
    skip "no extracted selftests in $src (EBPFVM_KERNEL_SOURCE absent at configure time? apt-get install linux-source-6.12)"
command -v clang-19 >/dev/null 2>&1 || skip "clang-19 not found (apt-get install clang-19)"
[[ -x $tool ]] || skip "$tool not built (libbpf-dev or libelf-dev missing)"

start=$SECONDS
obj=$work/obj
rm -rf "$obj"
mkdir -p "$obj"

# vmlinux.h of the running kernel, for the files that include it.
vmlinux_dir=$work/vmlinux
if [[ ! -s $vmlinux_dir/vmlinux.h ]]; then
    mkdir -p "$vmlinux_dir"
    if [[ -r /sys/kernel/btf/vmlinux ]] && command -v bpftool >/dev/null 2>&1; then
        bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$vmlinux_dir/vmlinux.h.tmp" &&
            mv "$vmlinux_dir/vmlinux.h.tmp" "$vmlinux_dir/vmlinux.h"
    fi
fi
have_vmlinux=0
[[ -s $vmlinux_dir/vmlinux.h ]] && have_vmlinux=1

# ---- 1. compile ----
cflags=(-O2 -g -target bpf -mcpu=v4 -D__TARGET_ARCH_x86 -I progs -I .)
[[ -d $work/libbpf-include ]] && cflags+=(-I "$work/libbpf-include")
cflags+=(-I "$vmlinux_dir" -I ../../../include/uapi)
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
[[ -n $multiarch && -d /usr/include/$multiarch ]] && cflags+=(-I "/usr/include/$multiarch")

compile_one() { # source file relative to $bpfdir
    local f=$1 name
    name=$(basename "$f" .c)
    if ((!have_vmlinux)) && grep -q 'vmlinux\.h' "$f"; then
        echo "needs vmlinux.h (no /sys/kernel/btf/vmlinux or bpftool)" >"$obj/$name.err"
        return 0
    fi
    if clang-19 "${cflags[@]}" -c "$f" -o "$obj/$name.o" 2>"$obj/$name.err"; then
        rm -f "$obj/$name.err"
    else
        rm -f "$obj/$name.o"
        [[ -s $obj/$name.err ]] || echo "clang-19 failed" >"$obj/$name.err"
    fi
}
export -f compile_one
export obj have_vmlinux
export cflags_str="${cflags[*]}"
cd "$bpfdir"
# xargs runs a fresh bash: pass the flags through the environment.
ls progs/verifier_*.c | xargs -P 2 -n 1 bash -c 'read -ra cflags <<<"$cflags_str"; compile_one "$1"' _
sources=$(ls progs/verifier_*.c | wc -l)
compile_s=$((SECONDS - start))

# ---- 2. verdicts ----
tsv=$work/verdicts.tsv
set +e
"$tool" --prefix progs "$obj"/*.o >"$tsv" 2>"$work/verdicts.stderr"
rc=$?
set -e
cat "$work/verdicts.stderr" >&2
((rc == 77)) && skip "$(tail -n 1 "$work/verdicts.stderr")"
if ((rc != 0)); then
    echo "kselftest_verifier: kselftest_verdicts failed ($rc)" >&2
    exit 1
fi
run_s=$((SECONDS - start - compile_s))

# ---- 3. report ----
notcompiled=$work/not-compiled.tsv
: >"$notcompiled"
for e in "$obj"/*.err; do
    [[ -e $e ]] || continue
    reason=$(grep -m 1 'error:' "$e" || head -n 1 "$e")
    reason=${reason#*error: }
    printf 'progs/%s.c\t%s\n' "$(basename "$e" .err)" "$reason" >>"$notcompiled"
done

actual=$work/divergences.actual
awk -F '\t' '$4 ~ /^kernel=(accept|reject)$/ && $5 ~ /^ebpfvm=(accept|reject)$/ &&
             substr($4, 8) != substr($5, 8) { print $1 "\t" $4 "\t" $5 }' "$tsv" | sort >"$actual"
expected_set=$work/divergences.expected
grep -v '^[[:space:]]*#' "$expected" | grep -v '^[[:space:]]*$' | cut -f 1-3 | sort >"$expected_set" || true

report=$work/report.md
awk -F '\t' -v sources="$sources" -v notcompiled="$notcompiled" -v compile_s="$compile_s" -v run_s="$run_s" '
function strip(m) {
    sub(/^(verifier: )?insn [0-9]+: /, "", m)
    sub(/^[^ :]+: program [^:]*: /, "", m)
    sub(/^verifier_[a-z0-9_]+: /, "", m)
    gsub(/[0-9]+/, "N", m)
    return substr(m, 1, 70)
}
$1 ~ /\/\(all\)$/ { objerr++; objerr_list = objerr_list "- " $1 ": " $7 "\n"; next }
{
    total++
    type[$3]++
    k = substr($4, 8); v = substr($5, 8)
    if (v == "outside") {
        if ($8 ~ /^program type /) { outside[$3]++; outside_list[$3] = outside_list[$3] "- " $1 " (" $2 ")\n" }
        else { other_out++; other_list = other_list "- " $1 ": " $8 "\n" }
    }
    if (k == "error" || k == "skip") { kerr++; kerr_list = kerr_list "- " $1 ": " $7 "\n" }
    if ((k == "accept" || k == "reject") && (v == "accept" || v == "reject")) {
        compared++
        if (k == v) agree++
        else {
            diverge++
            if (k == "accept") ka++; else kr++
            rows = rows "| " $1 " | " k " | " v " | " $8 " | " $7 " |\n"
            if (v == "reject") msgs[strip($8)]++
        }
    }
    if ((k == "accept" && $6 == "expect=failure") || (k == "reject" && $6 == "expect=success")) {
        expmis++; exp_list = exp_list "- " $1 ": kernel=" k ", " $6 " (" $7 ")\n"
    }
    if ($9 != "-" && $9 + 0 > 2000) { slow = slow "- " $1 ": " $9 " ms\n" }
}
END {
    nc = 0
    while ((getline line < notcompiled) > 0) { split(line, f, "\t"); nc++; nc_list = nc_list "- " f[1] ": " f[2] "\n" }
    print "# Kernel verifier selftests (progs/verifier_*.c): kernel vs ebpfvm\n"
    print "Generated by tests/kselftest/run.sh (ctest kselftest_verifier); see docs/kselftest.md.\n"
    printf "- source files: %d, compiled: %d, not compiled: %d, not opened by libbpf: %d\n", sources, sources - nc, nc, objerr
    printf "- programs (not __auxiliary): %d (xdp %d, socket_filter %d)\n", total, type["xdp"], type["socket_filter"]
    printf "- outside ebpfvm'\''s program types: %d\n", total - type["xdp"] - type["socket_filter"]
    for (t in outside) printf "  - %s: %d\n", t, outside[t]
    printf "- xdp/socket_filter programs not compared (flags not modelled): %d\n", other_out + 0
    printf "- no kernel verdict (libbpf failed before BPF_PROG_LOAD): %d\n", kerr + 0
    printf "- compared: %d, agree: %d, diverge: %d (kernel accepts/ebpfvm rejects: %d, kernel rejects/ebpfvm accepts: %d)\n",
           compared, agree, diverge, ka + 0, kr + 0
    printf "- kernel verdict differs from the selftest'\''s own expectation: %d\n", expmis + 0
    printf "- time: compile %d s, load and verify %d s\n\n", compile_s, run_s
    print "Unprivileged expectations (__success_unpriv, __failure_unpriv) are not tested: both verifiers run privileged (root).\n"
    print "## Divergences\n"
    print "| program | kernel | ebpfvm | ebpfvm message | kernel message |"
    print "|---|---|---|---|---|"
    printf "%s\n", rows
    print "## Most common ebpfvm rejections among the divergences\n"
    n = 0
    for (m in msgs) order[++n] = m
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
        if (msgs[order[j]] > msgs[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
    for (i = 1; i <= n; i++) printf "%4d  %s\n", msgs[order[i]], order[i]
    print ""
    if (nc) { print "## Not compiled\n"; printf "%s\n", nc_list }
    if (objerr) { print "## Objects libbpf could not open\n"; printf "%s\n", objerr_list }
    if (kerr) { print "## No kernel verdict\n"; printf "%s\n", kerr_list }
    if (expmis) { print "## Kernel verdict differs from the selftest expectation\n"; printf "%s\n", exp_list }
    if (slow) { print "## Slower than 2 s in ebpfvm\n"; printf "%s\n", slow }
    if (other_out) { print "## XDP/socket programs not compared\n"; printf "%s\n", other_list }
    print "## Outside ebpfvm'\''s program types\n"
    print "(unspec: a section name the installed libbpf does not know.)\n"
    for (t in outside) { printf "### %s\n\n%s\n", t, outside_list[t] }
}' "$tsv" >"$report"

# ---- 4. compare with divergences.txt ----
summary=$(grep -m 1 '^- compared' "$report")
echo "kselftest_verifier: $(grep -m 1 '^- programs' "$report" | cut -c 3-); ${summary#- }"
echo "kselftest_verifier: report in $report ($((SECONDS - start)) s)"
status=0
compare_divergences kselftest_verifier "$actual" "$expected_set" tests/kselftest/divergences.txt || status=$?
exit $status
