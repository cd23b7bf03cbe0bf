# tests/kselftest/compare.sh - sourced by run.sh and legacy_run.sh: compare
# a run's divergences with the list of known ones.
#
# compare_divergences TEST ACTUAL EXPECTED LIST
#   ACTUAL, EXPECTED: sorted key<TAB>kernel=..<TAB>ebpfvm=.. lines (this
#   run's divergences; LIST's entries without their reasons). Prints the
#   divergences missing from LIST and LIST's stale entries; returns 0 when
#   the two sets are equal, 1 otherwise.
compare_divergences() {
    local test=$1 actual=$2 expected=$3 list=$4 status=0 unexpected stale
    unexpected=$(comm -23 "$actual" "$expected")
    stale=$(comm -13 "$actual" "$expected")
    if [[ -n $unexpected ]]; then
        echo "$test: unexpected divergences (not in $list):"
        printf '%s\n' "$unexpected" | sed 's/^/  /'
        status=1
    fi
    if [[ -n $stale ]]; then
        echo "$test: stale entries of $list (now agree or gone):"
        printf '%s\n' "$stale" | sed 's/^/  /'
        status=1
    fi
    ((status == 0)) && echo "$test: divergences match $list ($(wc -l <"$actual"))"
    return $status
}
