/*
 * tests/test_verifier_loops.c - the loops the kernel verifies without
 * unrolling them to the end:
 *   - may_goto (the kernel's BPF_JCOND): the jump is explored first, the
 *     fall-through is queued one may_goto deeper and widened against the
 *     previous visit, a visit inside an earlier one's ranges is pruned, and
 *     an unchanged state at the same depth is an infinite loop;
 *   - open-coded iterators (bpf_iter_num_new/next/destroy, ebpfvm's
 *     kfuncs): next() explores the drained path first and queues the one
 *     with an element, converging like may_goto; the iterator's stack
 *     slot, reference and read-only element are checked;
 *   - bpf_loop (helper 181): its callback is verified as a call from the
 *     helper, iteration after iteration, until the count's upper bound or
 *     until the state at the call repeats; its arguments and the
 *     callback's return value are checked; and it runs, in the
 *     interpreter, with the kernel's results.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "insn.h"
#include "verify_xdp.h"

static char vlog[1 << 20];

struct outcome {
    int status;
    char msg[512];
    uint64_t processed;
};

/* Verify an XDP program (map fd 0: an array of 4 entries of 8 bytes) with
 * the level 2 log in vlog. */
static struct outcome verify(const struct ebpf_insn *insns, size_t n)
{
    struct verify_outcome v = verify_xdp_prog(insns, n, 2, vlog, sizeof vlog);
    struct outcome out = {v.status, "", v.stats.insns_processed};
    memcpy(out.msg, v.msg, sizeof out.msg);
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

Test(verifier_loops, loop_over_an_unknown_counter_converges)
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

Test(verifier_loops, unchecked_constant_counter_is_widened)
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

Test(verifier_loops, checked_counter_is_not_widened_and_the_overflow_is_found)
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

Test(verifier_loops, jump_back_to_itself_is_an_infinite_loop)
{
    /* The jump path comes back with the same state at the same depth. */
    expect_reject(VERIFY(EBPF_MOV64_IMM(0, 0), EBPF_MAY_GOTO(-1), EBPF_EXIT()), "infinite loop detected at insn 1");
}

Test(verifier_loops, zero_offset_is_invalid)
{
    expect_reject(VERIFY(EBPF_MOV64_IMM(0, 0), EBPF_MAY_GOTO(0), EBPF_EXIT()), "invalid may_goto off 0 imm 0");
}

Test(verifier_loops, loop_in_a_subprogram_converges_per_frame)
{
    /* The same unknown-counter loop inside a subprogram called twice. */
    struct outcome o = VERIFY(EBPF_CALL_LOCAL(3), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, EBPF_XDP_PASS), EBPF_EXIT(), /* 0-3 */
                              PRANDOM, EBPF_MAY_GOTO(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1), EBPF_JA(-3),    /* 4-7 */
                              EBPF_EXIT());
    expect_accept(o);
}

/* ------------------------------------------------------------- bpf_loop */

/*
 * A bpf_loop test program (verifier tests and the kernel differential):
 * main: ctx.i (fp-8) = 0; bpf_loop(N, cb, &ctx, 0); then a byte of the
 * value of array map 0 (key 0, 8-byte values) at index ctx.i. cb:
 * ctx->i += 4, return RET. Words: 0 st; 1 r1 = N; 2-3 r2 = cb; 4-5 r3 =
 * fp-8; 6 r4 = 0; 7 call; 8 r6 = ctx.i; 9-14 lookup; 15 null check;
 * 16-17 r0 += r6, load; 18-19 exit; 20-24 cb.
 */
#define LOOP_PROG(N, RET)                                                              \
    EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 0), EBPF_MOV64_IMM(1, N), EBPF_LD_FUNC(2, 17), EBPF_MOV64_REG(3, 10),     \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -8), EBPF_MOV64_IMM(4, 0), EBPF_CALL_HELPER(EBPF_HELPER_loop),         \
        EBPF_LDX_MEM(EBPF_SIZE_DW, 6, 10, -8), EBPF_ST_MEM(EBPF_SIZE_W, 10, -12, 0), EBPF_MOV64_REG(2, 10),     \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -12), EBPF_LD_MAP_FD(1, 0),                                          \
        EBPF_CALL_HELPER(EBPF_HELPER_map_lookup_elem), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 2),                   \
        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 6), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0), EBPF_MOV64_IMM(0, 2),          \
        EBPF_EXIT(), /* cb */ EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 2, 0), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 4),         \
        EBPF_STX_MEM(EBPF_SIZE_DW, 2, 0, 0), EBPF_MOV64_IMM(0, RET), EBPF_EXIT()

Test(verifier_loops, bpf_loop_callback_runs_as_many_times_as_the_count_allows)
{
    /* One iteration leaves ctx.i at most 4 (0 or 4): inside the value. */
    expect_accept(VERIFY(LOOP_PROG(1, 0)));
    const char *entry = strstr(vlog, "from 7 to 20:");
    cr_assert(entry && !strstr(entry + 1, "from 7 to 20:"), "one visit of the callback expected:\n%s", vlog);
    /* Two may leave it at 8: the access after the loop is out of bounds. */
    expect_reject(VERIFY(LOOP_PROG(2, 0)), "invalid access to map value, value_size=8 off=8 size=1");
}

Test(verifier_loops, bpf_loop_callback_must_return_0_or_1)
{
    expect_reject(VERIFY(LOOP_PROG(1, 2)), "At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]");
}

Test(verifier_loops, bpf_loop_arguments)
{
    /* r2 not a function. */
    expect_reject(VERIFY(EBPF_MOV64_IMM(1, 1), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(3, 0), EBPF_MOV64_IMM(4, 0),
                         EBPF_CALL_HELPER(EBPF_HELPER_loop), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
                  "R2 type=scalar expected=func");
    /* ctx neither a stack pointer nor NULL. */
    expect_reject(VERIFY(EBPF_MOV64_IMM(1, 1), EBPF_LD_FUNC(2, 6), EBPF_MOV64_IMM(3, 8), EBPF_MOV64_IMM(4, 0),
                         EBPF_CALL_HELPER(EBPF_HELPER_loop), EBPF_MOV64_IMM(0, 2), EBPF_EXIT(),
                         /* cb */ EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
                  "R3 type=scalar expected=fp");
    /* A function pointer takes no arithmetic. */
    expect_reject(VERIFY(EBPF_LD_FUNC(2, 4), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, 8), EBPF_MOV64_IMM(0, 2), EBPF_EXIT(),
                         /* cb */ EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
                  "R2 pointer arithmetic on func prohibited");
    /* The callback returns a scalar. */
    expect_reject(VERIFY(EBPF_MOV64_IMM(1, 1), EBPF_LD_FUNC(2, 6), EBPF_MOV64_IMM(3, 0), EBPF_MOV64_IMM(4, 0),
                         EBPF_CALL_HELPER(EBPF_HELPER_loop), EBPF_MOV64_IMM(0, 2), EBPF_EXIT(),
                         /* cb */ EBPF_LD_MAP_FD(0, 0), EBPF_EXIT()),
                  "R0 not a scalar value");
}

Test(verifier_loops, bpf_loop_callback_sees_the_index_and_ctx_only)
{
    /* r3 in the callback is not initialised (only r1 = index, r2 = ctx). */
    expect_reject(VERIFY(EBPF_MOV64_IMM(1, 1), EBPF_LD_FUNC(2, 6), EBPF_MOV64_IMM(3, 0), EBPF_MOV64_IMM(4, 0),
                         EBPF_CALL_HELPER(EBPF_HELPER_loop), EBPF_MOV64_IMM(0, 2), EBPF_EXIT(),
                         /* cb */ EBPF_MOV64_REG(0, 3), EBPF_EXIT()),
                  "R3 !read_ok");
    /* The index is unknown: using it as a stack offset unchecked fails. */
    expect_reject(VERIFY(EBPF_MOV64_IMM(1, 4), EBPF_LD_FUNC(2, 6), EBPF_MOV64_IMM(3, 0), EBPF_MOV64_IMM(4, 0),
                         EBPF_CALL_HELPER(EBPF_HELPER_loop), EBPF_MOV64_IMM(0, 2), EBPF_EXIT(),
                         /* cb */ EBPF_MOV64_REG(0, 10), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1),
                         EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, -1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
                  "math between fp pointer and register with unbounded min value is not allowed");
}

/* -------------------------------------------------------- bpf_loop runs */

static int last_status; /* of the last run_loop_prog */

static uint64_t run_loop_prog(const struct ebpf_insn *insns, size_t n, enum ebpfvm_exec_mode mode,
                              struct ebpfvm_run_result *res)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_MEMORY, .name = "t"};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, insns, n, &lo, &prog), 0, "load failed: %s", ebpfvm_vm_errmsg(vm));
    if (mode == EBPFVM_EXEC_FAST) {
        struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .mem_size = 8};
        cr_assert_eq(ebpfvm_prog_verify(prog, &vo), 0, "%s", ebpfvm_vm_errmsg(vm));
    }
    uint64_t mem = 0;
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = mode};
    last_status = ebpfvm_prog_run(prog, &mem, sizeof mem, &ro, res);
    ebpfvm_vm_destroy(vm);
    return res->r0;
}

#define RUN_LOOP(mode, res, ...) \
    run_loop_prog((const struct ebpf_insn[]){__VA_ARGS__}, \
                  sizeof((const struct ebpf_insn[]){__VA_ARGS__}) / sizeof(struct ebpf_insn), mode, res)

Test(verifier_loops, bpf_loop_runs_like_the_kernel)
{
    /* sum of the indexes 0..9 into fp-8, stopping when the index is 7:
     * r0 = (calls made) * 1000 + sum = 8 * 1000 + (0 + ... + 6). */
    for (int m = 0; m < 2; m++) {
        enum ebpfvm_exec_mode mode = m ? EBPFVM_EXEC_FAST : EBPFVM_EXEC_CHECKED;
        struct ebpfvm_run_result res;
        uint64_t r0 = RUN_LOOP(mode, &res, EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 0), EBPF_MOV64_IMM(1, 10),
                               EBPF_LD_FUNC(2, 9), EBPF_MOV64_REG(3, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -8),
                               EBPF_MOV64_IMM(4, 0), EBPF_CALL_HELPER(EBPF_HELPER_loop),            /* 0-7 */
                               EBPF_ALU64_IMM(EBPF_ALU_MUL, 0, 1000), EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, -8),
                               EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1), EBPF_EXIT(),                      /* 8-11 */
                               /* cb (12): */ EBPF_MOV64_IMM(0, 1), EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 7, 4),
                               EBPF_LDX_MEM(EBPF_SIZE_DW, 3, 2, 0), EBPF_ALU64_REG(EBPF_ALU_ADD, 3, 1),
                               EBPF_STX_MEM(EBPF_SIZE_DW, 2, 3, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
        cr_assert_eq(last_status, 0, "%s", res.message);
        cr_assert_eq(r0, 8 * 1000 + 21, "mode %d: r0 %llu", m, (unsigned long long)r0);
    }
    /* Non-zero flags: -EINVAL; more than 8M iterations: -E2BIG. */
    struct ebpfvm_run_result res;
    cr_assert_eq((int64_t)RUN_LOOP(EBPFVM_EXEC_FAST, &res, EBPF_MOV64_IMM(1, 1), EBPF_LD_FUNC(2, 5),
                                   EBPF_MOV64_IMM(3, 0), EBPF_MOV64_IMM(4, 1), EBPF_CALL_HELPER(EBPF_HELPER_loop),
                                   EBPF_EXIT(), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
                 -22);
    cr_assert_eq((int64_t)RUN_LOOP(EBPFVM_EXEC_FAST, &res, EBPF_MOV64_IMM(1, 8 * 1024 * 1024 + 1), EBPF_LD_FUNC(2, 5),
                                   EBPF_MOV64_IMM(3, 0), EBPF_MOV64_IMM(4, 0), EBPF_CALL_HELPER(EBPF_HELPER_loop),
                                   EBPF_EXIT(), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
                 -7);
}

Test(verifier_loops, bpf_loop_callback_fault_ends_the_run_with_its_message)
{
    /* Unverified, checked: the callback reads through a NULL ctx; the run
     * ends with that fault at the callback's instruction. And a function
     * argument that is no function of the program is refused. */
    struct ebpfvm_run_result res;
    RUN_LOOP(EBPFVM_EXEC_CHECKED, &res, EBPF_MOV64_IMM(1, 3), EBPF_LD_FUNC(2, 5), EBPF_MOV64_IMM(3, 0),
             EBPF_MOV64_IMM(4, 0), EBPF_CALL_HELPER(EBPF_HELPER_loop), EBPF_EXIT(),
             /* cb (7): */ EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 2, 0), EBPF_EXIT());
    cr_assert_eq(last_status, EBPFVM_ERR_FAULT, "%s", res.message);
    cr_assert_eq(res.fault_pc, 7);
    cr_assert(strstr(res.message, "insn 7"), "%s", res.message);
    RUN_LOOP(EBPFVM_EXEC_CHECKED, &res, EBPF_MOV64_IMM(1, 3), EBPF_MOV64_IMM(2, 5), EBPF_MOV64_IMM(3, 0),
             EBPF_MOV64_IMM(4, 0), EBPF_CALL_HELPER(EBPF_HELPER_loop), EBPF_EXIT());
    cr_assert_eq(last_status, EBPFVM_ERR_FAULT, "%s", res.message);
    cr_assert(strstr(res.message, "callback 0x5 is not a function of the program"), "%s", res.message);
}

/* ------------------------------------------------------- iter_num */

#define FP8(reg) EBPF_MOV64_REG(reg, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, reg, -8)
#define ITER_NEW(lo, hi) FP8(1), EBPF_MOV64_IMM(2, lo), EBPF_MOV64_IMM(3, hi), EBPF_CALL_KFUNC(EBPFVM_KFUNC_ITER_NUM_NEW)
#define ITER_NEXT FP8(1), EBPF_CALL_KFUNC(EBPFVM_KFUNC_ITER_NUM_NEXT)
#define ITER_DESTROY FP8(1), EBPF_CALL_KFUNC(EBPFVM_KFUNC_ITER_NUM_DESTROY)

/* sum of the values of iter_num(LO, HI) in r0: 0-4 new; 5 r6 = 0;
 * 6-8 next; 9 if NULL -> 13; 10-12 r6 += *v, back to 6; 13-15 destroy;
 * 16-17 return r6. */
#define ITER_SUM_PROG(LO, HI)                                                                                 \
    ITER_NEW(LO, HI), EBPF_MOV64_IMM(6, 0), ITER_NEXT, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 3),                    \
        EBPF_LDX_MEM(EBPF_SIZE_W, 2, 0, 0), EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 2), EBPF_JA(-7), ITER_DESTROY,     \
        EBPF_MOV64_REG(0, 6), EBPF_EXIT()

Test(verifier_loops, iter_num_loop_converges)
{
    /* The sum is unchecked: widened, the second visit of next() is
     * within the first, whatever the range. */
    struct outcome o = VERIFY(ITER_SUM_PROG(0, 1000000));
    expect_accept(o);
    cr_assert_lt(o.processed, 60, "processed %llu\n%s", (unsigned long long)o.processed, vlog);
    cr_assert(strstr(vlog, "fp-8=iter_num(ref_id="), "log:\n%s", vlog);
}

Test(verifier_loops, iter_num_rules)
{
    /* No destroy: the reference new() took leaks. */
    expect_reject(VERIFY(ITER_NEW(0, 3), ITER_NEXT, EBPF_MOV64_IMM(0, 2), EBPF_EXIT()), "Unreleased reference id=");
    /* next() and destroy() of nothing. */
    expect_reject(VERIFY(ITER_NEXT, EBPF_MOV64_IMM(0, 2), EBPF_EXIT()), "expected an initialized iter_num as arg #0");
    expect_reject(VERIFY(ITER_DESTROY, EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
                  "expected an initialized iter_num as arg #0");
    /* new() over a live iterator. */
    expect_reject(VERIFY(ITER_NEW(0, 3), ITER_NEW(0, 3), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
                  "expected uninitialized iter_num as arg #0");
    /* Its bytes are not data. */
    expect_reject(VERIFY(ITER_NEW(0, 3), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_EXIT()),
                  "invalid read from stack off -8+0 size 8");
    /* The element is read-only. */
    expect_reject(VERIFY(ITER_NEW(0, 3), ITER_NEXT, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1),
                         EBPF_ST_MEM(EBPF_SIZE_W, 0, 0, 1), ITER_DESTROY, EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
                  "R0 cannot write into rdonly_mem");
    /* ... and may be NULL. */
    expect_reject(VERIFY(ITER_NEW(0, 3), ITER_NEXT, EBPF_LDX_MEM(EBPF_SIZE_W, 6, 0, 0), ITER_DESTROY,
                         EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
                  "R0 invalid mem access 'scalar'");
    /* Where the iterator may be. */
    expect_reject(VERIFY(EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(3, 1),
                         EBPF_CALL_KFUNC(EBPFVM_KFUNC_ITER_NUM_NEW), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
                  "arg#0 expected pointer to an iterator on stack");
    expect_reject(VERIFY(EBPF_MOV64_REG(1, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -12), EBPF_MOV64_IMM(2, 0),
                         EBPF_MOV64_IMM(3, 1), EBPF_CALL_KFUNC(EBPFVM_KFUNC_ITER_NUM_NEW), EBPF_MOV64_IMM(0, 2),
                         EBPF_EXIT()),
                  "cannot pass in iter at an offset=-12");
}

Test(verifier_loops, iter_num_index_stays_checked)
{
    /* An index counted next to the iterator and used into an 8-byte map
     * value: it matters, so it is not widened, and the iteration where it
     * reaches 8 is found. 0-4 new; 5-12 lookup (r7 = value); 13 null
     * check; 14 r6 = 0; 15-17 next; 18 NULL -> 22; 19 r8 = r7 + r6;
     * 20 load; 21 r6 += 1 / back; then destroy. */
    expect_reject(VERIFY(ITER_NEW(0, 100), EBPF_ST_MEM(EBPF_SIZE_W, 10, -12, 0), EBPF_MOV64_REG(2, 10),
                         EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -12), EBPF_LD_MAP_FD(1, 0),
                         EBPF_CALL_HELPER(EBPF_HELPER_map_lookup_elem), EBPF_MOV64_REG(7, 0),
                         EBPF_JMP_IMM(EBPF_JMP_JEQ, 7, 0, 10), EBPF_MOV64_IMM(6, 0), ITER_NEXT,
                         EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5), EBPF_MOV64_REG(8, 7), EBPF_ALU64_REG(EBPF_ALU_ADD, 8, 6),
                         EBPF_LDX_MEM(EBPF_SIZE_B, 1, 8, 0), EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 1), EBPF_JA(-9),
                         ITER_DESTROY, EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
                  "invalid access to map value, value_size=8 off=8 size=1");
}

Test(verifier_loops, iter_num_runs_like_the_kernel)
{
    /* 0 + 1 + ... + 9 in the interpreter (checked, and verified fast). */
    struct ebpfvm_run_result res;
    for (int m = 0; m < 2; m++) {
        enum ebpfvm_exec_mode mode = m ? EBPFVM_EXEC_FAST : EBPFVM_EXEC_CHECKED;
        cr_assert_eq(RUN_LOOP(mode, &res, ITER_SUM_PROG(0, 10)), 45, "%s", res.message);
        /* -3 .. 1, each value zero-extended from 32 bits. */
        cr_assert_eq((uint32_t)RUN_LOOP(mode, &res, ITER_SUM_PROG(-3, 2)), (uint32_t)-5, "%s", res.message);
        /* start > end: new() says -EINVAL and next() gives nothing. */
        cr_assert_eq(RUN_LOOP(mode, &res, ITER_SUM_PROG(5, 3)), 0, "%s", res.message);
    }
    /* The return values of new(): -EINVAL, -E2BIG (more than 8M values). */
    cr_assert_eq((int64_t)RUN_LOOP(EBPFVM_EXEC_CHECKED, &res, ITER_NEW(5, 3), EBPF_MOV64_REG(6, 0), ITER_DESTROY,
                                   EBPF_MOV64_REG(0, 6), EBPF_EXIT()),
                 -22);
    cr_assert_eq((int64_t)RUN_LOOP(EBPFVM_EXEC_CHECKED, &res, ITER_NEW(0, 8 * 1024 * 1024 + 1), EBPF_MOV64_REG(6, 0),
                                   ITER_DESTROY, EBPF_MOV64_REG(0, 6), EBPF_EXIT()),
                 -7);
}

/* --------------------------------------------- widening and precision */

Test(verifier_loops, accumulator_tested_after_the_loop_is_widened)
{
    /* r6 sums unknown bytes in a may_goto loop; after the loop, if r6 is
     * odd return 1. On the first exit r6 is 0 and decides that branch, so
     * the first visit keeps it exact; later visits decided nothing with it
     * and widen it: the loop converges (the kernel's behaviour; counting
     * every branch as a check would unroll the loop to the budget). */
    struct outcome o = VERIFY(EBPF_MOV64_IMM(6, 0),                                   /* 0 */
                              EBPF_MAY_GOTO(3),                                      /* 1: -> 5 */
                              EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 16),                   /* 2: an unknown u32 */
                              EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 2), EBPF_JA(-4),       /* 3-4: -> 1 */
                              EBPF_ALU64_IMM(EBPF_ALU_AND, 6, 1),                    /* 5 */
                              EBPF_JMP_IMM(EBPF_JMP_JEQ, 6, 0, 2),                   /* 6: -> 9 */
                              EBPF_MOV64_IMM(0, 1), EBPF_EXIT(),                      /* 7-8 */
                              EBPF_MOV64_IMM(0, 2), EBPF_EXIT());                     /* 9-10 */
    expect_accept(o);
    cr_assert_lt(o.processed, 80, "processed %llu\n%s", (unsigned long long)o.processed, vlog);
}

Test(verifier_loops, counter_deciding_a_branch_stays_exact)
{
    /* r6 counts from 0 up to 3 and stops there; code behind "r6 > 5"
     * would write outside the stack. The branch on r6 == 3 is decided at
     * every visit (r6 is a constant), so r6 is kept exact, the bad write
     * is never reached, and the loop converges once r6 stays 3. Widened,
     * r6 could exceed 5 and the program would be rejected - where the
     * kernel, for the same reason, accepts it. */
    struct outcome o = VERIFY(EBPF_MOV64_IMM(6, 0),                                   /* 0 */
                              EBPF_MAY_GOTO(6),                                      /* 1: -> 8 */
                              EBPF_JMP_IMM(EBPF_JMP_JEQ, 6, 3, 1),                   /* 2: -> 4 */
                              EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 1),                    /* 3 */
                              EBPF_JMP_IMM(EBPF_JMP_JLE, 6, 5, 2),                   /* 4: -> 7 */
                              EBPF_MOV64_REG(1, 10), EBPF_ST_MEM(EBPF_SIZE_DW, 1, -600, 0), /* 5-6 */
                              EBPF_JA(-7),                                           /* 7: -> 1 */
                              EBPF_MOV64_IMM(0, 2), EBPF_EXIT());                    /* 8-9 */
    expect_accept(o);
}
