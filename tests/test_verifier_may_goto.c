/*
 * tests/test_verifier_may_goto.c - may_goto loops in the verifier (the
 * kernel's BPF_JCOND): the jump is explored first, the fall-through is
 * queued one may_goto deeper and widened against the previous visit, a
 * visit inside an earlier one's ranges is pruned, and an unchanged state
 * at the same depth is an infinite loop.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "insn.h"

static char vlog[1 << 20];

struct outcome {
    int status;
    char msg[512];
    uint64_t processed;
};

/* Verify an XDP program; map fd 0 is an array of 4 entries of 8 bytes. */
static struct outcome verify(const struct ebpf_insn *insns, size_t n)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_map_def def = {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "arr", -1};
    int fd = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_XDP, .name = "t"};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, insns, n, &lo, &prog), 0, "load failed: %s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_verify_stats stats;
    memset(&stats, 0, sizeof stats);
    struct ebpfvm_verify_opts vo = {
        .sz = sizeof vo, .log_level = 2, .log_buf = vlog, .log_size = sizeof vlog, .stats = &stats};
    vlog[0] = '\0';
    struct outcome out = {0, "", 0};
    out.status = ebpfvm_prog_verify(prog, &vo);
    snprintf(out.msg, sizeof out.msg, "%s", ebpfvm_vm_errmsg(vm));
    out.processed = stats.insns_processed;
    ebpfvm_vm_destroy(vm);
    return out;
}

#define VERIFY(...) verify((const struct ebpf_insn[]){__VA_ARGS__}, \
                           sizeof((const struct ebpf_insn[]){__VA_ARGS__}) / sizeof(struct ebpf_insn))

static void expect_reject(struct outcome o, const char *text)
{
    cr_assert_eq(o.status, EBPFVM_ERR_VERIFY, "status %d (%s)\nlog:\n%s", o.status, o.msg, vlog);
    cr_assert(strstr(o.msg, text), "message '%s' lacks '%s'\nlog:\n%s", o.msg, text, vlog);
}

static void expect_accept(struct outcome o)
{
    cr_assert_eq(o.status, 0, "rejected: %s\nlog:\n%s", o.msg, vlog);
}

#define PRANDOM EBPF_CALL_HELPER(EBPF_HELPER_get_prandom_u32)

Test(verifier_may_goto, loop_over_an_unknown_counter_converges)
{
    /* r6 unknown; each iteration's r6 + 1 is as unknown: the second visit
     * of the may_goto lies inside the first and is pruned. */
    struct outcome o = VERIFY(PRANDOM, EBPF_MOV64_REG(6, 0),                                   /* 0-1 */
                              EBPF_MAY_GOTO(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 1), EBPF_JA(-3), /* 2-4 */
                              EBPF_MOV64_IMM(0, EBPF_XDP_PASS), EBPF_EXIT());
    expect_accept(o);
    cr_assert_lt(o.processed, 30, "processed %llu\n%s", (unsigned long long)o.processed, vlog);
    cr_assert(strstr(vlog, "2: (e5) may_goto pc+2") || strstr(vlog, "may_goto +2"), "log:\n%s", vlog);
}

Test(verifier_may_goto, unchecked_constant_counter_is_widened)
{
    /* r6 starts at 0 and only counts: nothing checks it, so the third
     * visit widens it to unknown and the loop converges at once instead of
     * being walked for each of its 8M possible iterations. */
    struct outcome o = VERIFY(EBPF_MOV64_IMM(6, 0),                                            /* 0 */
                              EBPF_MAY_GOTO(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 1), EBPF_JA(-3), /* 1-3 */
                              EBPF_MOV64_IMM(0, EBPF_XDP_PASS), EBPF_EXIT());
    expect_accept(o);
    cr_assert_lt(o.processed, 40, "processed %llu\n%s", (unsigned long long)o.processed, vlog);
}

Test(verifier_may_goto, checked_counter_is_not_widened_and_the_overflow_is_found)
{
    /* r6 indexes an 8-byte map value: it matters, so it stays exact, and
     * the iteration where it reaches 8 is rejected. */
    struct outcome o = VERIFY(EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0),                      /* 0 */
                              EBPF_LD_MAP_FD(1, 0),                                     /* 1-2 */
                              EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), /* 3-4 */
                              EBPF_CALL_HELPER(EBPF_HELPER_map_lookup_elem),            /* 5 */
                              EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 7),                      /* 6: -> 14 */
                              EBPF_MOV64_IMM(6, 0),                                     /* 7 */
                              EBPF_MAY_GOTO(5),                                         /* 8: -> 14 */
                              EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 1),                       /* 9 */
                              EBPF_MOV64_REG(7, 0), EBPF_ALU64_REG(EBPF_ALU_ADD, 7, 6), /* 10-11 */
                              EBPF_LDX_MEM(EBPF_SIZE_B, 1, 7, 0),                       /* 12 */
                              EBPF_JA(-6),                                              /* 13: -> 8 */
                              EBPF_MOV64_IMM(0, EBPF_XDP_PASS), EBPF_EXIT());                /* 14-15 */
    expect_reject(o, "invalid access to map value, value_size=8 off=8 size=1");
}

Test(verifier_may_goto, jump_back_to_itself_is_an_infinite_loop)
{
    /* The jump path comes back with the same state at the same depth. */
    expect_reject(VERIFY(EBPF_MOV64_IMM(0, 0), EBPF_MAY_GOTO(-1), EBPF_EXIT()), "infinite loop detected at insn 1");
}

Test(verifier_may_goto, zero_offset_is_invalid)
{
    expect_reject(VERIFY(EBPF_MOV64_IMM(0, 0), EBPF_MAY_GOTO(0), EBPF_EXIT()), "invalid may_goto off 0 imm 0");
}

Test(verifier_may_goto, loop_in_a_subprogram_converges_per_frame)
{
    /* The same unknown-counter loop inside a subprogram called twice. */
    struct outcome o = VERIFY(EBPF_CALL_LOCAL(3), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, EBPF_XDP_PASS), EBPF_EXIT(), /* 0-3 */
                              PRANDOM, EBPF_MAY_GOTO(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1), EBPF_JA(-3),    /* 4-7 */
                              EBPF_EXIT());
    expect_accept(o);
}
