/*
 * tests/test_interp_checked.c - the checked mode's runtime faults (each with
 * its message, fault_pc and fault_addr), regions added by helpers, the
 * instruction budget, mode selection (AUTO, PERM for unverified FAST) and
 * ebpfvm_prog_run's argument errors.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "interp_run.h"
#include "vm/internal.h"

#define W EBPF_SIZE_W
#define DW EBPF_SIZE_DW

static ebpfvm_vm *vm;
static _Alignas(8) uint8_t helper_buf[32];

/* helper 10: declare helper_buf (writable when r1 != 0) and return it */
static uint64_t give_buffer(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5;
    cr_assert_eq(ebpfvm_env_add_region(env, helper_buf, sizeof helper_buf, r1 != 0), 0);
    return (uint64_t)(uintptr_t)helper_buf;
}

/* helper 11: return helper_buf without declaring it */
static uint64_t leak_buffer(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return (uint64_t)(uintptr_t)helper_buf;
}

/* helper 12: whether [r1, r1 + r2) is accessible for writing */
static uint64_t can_write(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r3, (void)r4, (void)r5;
    return ebpfvm__env_check_access(env, (uintptr_t)r1, (size_t)r2, true);
}

/* helper 13: add r1 distinct regions; return the last status */
static uint64_t add_many(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5;
    int err = 0;
    for (uint64_t i = 0; i < r1; i++)
        err = ebpfvm_env_add_region(env, helper_buf + (i % 16), 1 + i / 16, 0);
    return (uint64_t)(int64_t)err;
}

static void setup(void)
{
    vm = interp_test_vm();
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 10, "give_buffer", give_buffer, NULL), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 11, "leak_buffer", leak_buffer, NULL), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 12, "can_write", can_write, NULL), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 13, "add_many", add_many, NULL), 0);
}

static void teardown(void)
{
    ebpfvm_vm_destroy(vm);
}

TestSuite(interp_checked, .init = setup, .fini = teardown);

/* Run in checked mode on mem; returns the status. */
static int checked_run(const struct ebpf_insn *insns, size_t n, void *mem, size_t size,
                       struct ebpfvm_run_result *res)
{
    ebpfvm_prog *prog = interp_load(vm, insns, n);
    int err = interp_run_mode(prog, EBPFVM_EXEC_CHECKED, 0, mem, size, res);
    ebpfvm_prog_destroy(prog);
    return err;
}

#define CHECKED(mem, size, res, ...)                                                                   \
    checked_run(INTERP_PROG(__VA_ARGS__), INTERP_PROG_LEN(__VA_ARGS__), mem, size, res)

Test(interp_checked, read_past_the_context)
{
    _Alignas(8) uint8_t mem[16] = {0};
    struct ebpfvm_run_result res;
    cr_assert_eq(CHECKED(mem, sizeof mem, &res, EBPF_MOV64_IMM(0, 0), EBPF_LDX_MEM(W, 0, 1, 14), EBPF_EXIT()),
                 EBPFVM_ERR_FAULT);
    char want[256];
    snprintf(want, sizeof want,
             "insn 1: invalid read of 4 bytes at 0x%llx (r1 + 14): outside the program's memory",
             (unsigned long long)(uintptr_t)(mem + 14));
    cr_assert_str_eq(res.message, want);
    cr_assert_eq(res.fault_pc, 1);
    cr_assert_eq(res.fault_addr, (uint64_t)(uintptr_t)(mem + 14));
    /* the last 4 bytes are fine */
    cr_assert_eq(CHECKED(mem, sizeof mem, &res, EBPF_LDX_MEM(W, 0, 1, 12), EBPF_EXIT()), 0, "%s", res.message);
}

Test(interp_checked, read_before_the_context_and_null)
{
    _Alignas(8) uint8_t mem[16] = {0};
    struct ebpfvm_run_result res;
    cr_assert_eq(CHECKED(mem, sizeof mem, &res, EBPF_LDX_MEM(EBPF_SIZE_B, 0, 1, -1), EBPF_EXIT()), EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 0: invalid read of 1 bytes at 0x") == res.message, "%s", res.message);
    cr_assert(strstr(res.message, "(r1 - 1): outside the program's memory"), "%s", res.message);
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_MOV64_IMM(3, 0), EBPF_LDX_MEM(DW, 0, 3, 8), EBPF_EXIT()),
                 EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 1: invalid read of 8 bytes at 0x8 (r3 + 8): outside the program's memory");
    cr_assert_eq(res.fault_addr, 8);
}

Test(interp_checked, write_below_the_stack)
{
    struct ebpfvm_run_result res;
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_ST_MEM(DW, 10, -520, 1), EBPF_EXIT()), EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 0: invalid write of 8 bytes at 0x") == res.message, "%s", res.message);
    cr_assert(strstr(res.message, "(r10 - 520): outside the program's memory"), "%s", res.message);
    /* above the top of the stack */
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_MOV64_IMM(0, 0), EBPF_STX_MEM(W, 10, 0, -2), EBPF_EXIT()),
                 EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 1: invalid write of 4 bytes at") == res.message, "%s", res.message);
    /* the whole 512 bytes are usable */
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_ST_MEM(DW, 10, -512, 1), EBPF_LDX_MEM(DW, 0, 10, -512), EBPF_EXIT()),
                 0);
    cr_assert_eq(res.r0, 1);
}

Test(interp_checked, callee_cannot_touch_stack_below_its_frame)
{
    struct ebpfvm_run_result res;
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_ST_MEM(DW, 10, -520, 1), EBPF_EXIT()),
                 EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 2: invalid write of 8 bytes"), "%s", res.message);
    /* after the return, the callee's frame is gone: main's r10 - 520 is the dead frame */
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_CALL_LOCAL(3), EBPF_MOV64_IMM(0, 0), EBPF_ST_MEM(DW, 10, -520, 1),
                         EBPF_EXIT(), EBPF_ST_MEM(DW, 10, -8, 1), EBPF_EXIT()),
                 EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 2: invalid write of 8 bytes"), "%s", res.message);
}

Test(interp_checked, atomics_are_checked_for_bounds_and_alignment)
{
    _Alignas(8) uint8_t mem[16] = {0};
    struct ebpfvm_run_result res;
    cr_assert_eq(CHECKED(mem, sizeof mem, &res, EBPF_MOV64_IMM(2, 1),
                         EBPF_ATOMIC_OP(W, EBPF_ATOMIC_ADD, 1, 2, 2), EBPF_EXIT()),
                 EBPFVM_ERR_FAULT);
    char want[256];
    snprintf(want, sizeof want, "insn 1: misaligned atomic access of 4 bytes at 0x%llx (r1 + 2)",
             (unsigned long long)(uintptr_t)(mem + 2));
    cr_assert_str_eq(res.message, want);
    cr_assert_eq(CHECKED(mem, sizeof mem, &res, EBPF_MOV64_IMM(2, 1),
                         EBPF_ATOMIC_OP(DW, EBPF_ATOMIC_XCHG, 1, 2, 16), EBPF_EXIT()),
                 EBPFVM_ERR_FAULT);
    snprintf(want, sizeof want,
             "insn 1: invalid atomic access of 8 bytes at 0x%llx (r1 + 16): outside the program's memory",
             (unsigned long long)(uintptr_t)(mem + 16));
    cr_assert_str_eq(res.message, want);
}

Test(interp_checked, helper_regions)
{
    struct ebpfvm_run_result res;
    memset(helper_buf, 0, sizeof helper_buf);
    helper_buf[4] = 42;
    /* declared read-only: reading works, writing faults */
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_MOV64_IMM(1, 0), EBPF_CALL_HELPER(10), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 4),
                         EBPF_EXIT()),
                 0, "%s", res.message);
    cr_assert_eq(res.r0, 42);
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_MOV64_IMM(1, 0), EBPF_CALL_HELPER(10), EBPF_ST_MEM(W, 0, 8, 1),
                         EBPF_EXIT()),
                 EBPFVM_ERR_FAULT);
    char want[256];
    snprintf(want, sizeof want, "insn 2: invalid write of 4 bytes at 0x%llx (r0 + 8): read-only memory",
             (unsigned long long)(uintptr_t)(helper_buf + 8));
    cr_assert_str_eq(res.message, want);
    /* declared writable */
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_MOV64_IMM(1, 1), EBPF_CALL_HELPER(10), EBPF_ST_MEM(W, 0, 8, 7),
                         EBPF_EXIT()),
                 0, "%s", res.message);
    cr_assert_eq(helper_buf[8], 7);
    /* not declared at all */
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_CALL_HELPER(11), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 4), EBPF_EXIT()),
                 EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "outside the program's memory"), "%s", res.message);
}

Test(interp_checked, helpers_check_access_against_the_regions)
{
    _Alignas(8) uint8_t mem[16] = {0};
    struct ebpfvm_run_result res;
    /* the stack */
    cr_assert_eq(CHECKED(mem, sizeof mem, &res, EBPF_MOV64_REG(1, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -16),
                         EBPF_MOV64_IMM(2, 16), EBPF_CALL_HELPER(12), EBPF_EXIT()),
                 0);
    cr_assert_eq(res.r0, 1);
    cr_assert_eq(CHECKED(mem, sizeof mem, &res, EBPF_MOV64_REG(1, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -16),
                         EBPF_MOV64_IMM(2, 17), EBPF_CALL_HELPER(12), EBPF_EXIT()),
                 0);
    cr_assert_eq(res.r0, 0);
    /* the context (r1, r2 at entry) */
    cr_assert_eq(CHECKED(mem, sizeof mem, &res, EBPF_CALL_HELPER(12), EBPF_EXIT()), 0);
    cr_assert_eq(res.r0, 1);
    cr_assert_eq(CHECKED(mem, sizeof mem, &res, EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, 1), EBPF_CALL_HELPER(12),
                         EBPF_EXIT()),
                 0);
    cr_assert_eq(res.r0, 0);
    /* in fast mode there is nothing to check */
    ebpfvm_prog *prog = interp_load(vm, INTERP_PROG(EBPF_MOV64_IMM(1, 8), EBPF_CALL_HELPER(12), EBPF_EXIT()), 3);
    cr_assert_eq(interp_run_mode(prog, EBPFVM_EXEC_FAST, 0, NULL, 0, &res), 0);
    cr_assert_eq(res.r0, 1);
    ebpfvm_prog_destroy(prog);
}

Test(interp_checked, region_table_fills_up)
{
    struct ebpfvm_run_result res;
    /* 63 fit next to the context's region, the 64th does not */
    cr_assert_eq(CHECKED(helper_buf, 8, &res, EBPF_MOV64_IMM(1, 63), EBPF_CALL_HELPER(13), EBPF_EXIT()), 0);
    cr_assert_eq(res.r0, 0);
    cr_assert_eq(CHECKED(helper_buf, 8, &res, EBPF_MOV64_IMM(1, 64), EBPF_CALL_HELPER(13), EBPF_EXIT()), 0);
    cr_assert_eq(res.r0, (uint64_t)(int64_t)EBPFVM_ERR_RANGE);
    /* re-adding the same region does not use a slot */
    cr_assert_eq(CHECKED(NULL, 0, &res, EBPF_MOV64_IMM(6, 100), EBPF_MOV64_IMM(1, 0), EBPF_CALL_HELPER(10),
                         EBPF_ALU64_IMM(EBPF_ALU_SUB, 6, 1), EBPF_JMP_IMM(EBPF_JMP_JNE, 6, 0, -4), EBPF_MOV64_IMM(1, 63),
                         EBPF_CALL_HELPER(13), EBPF_EXIT()),
                 0);
    cr_assert_eq(res.r0, 0);
    cr_assert_eq(ebpfvm_env_add_region(NULL, helper_buf, 1, 0), EBPFVM_ERR_INVAL);
}

Test(interp_checked, budget_stops_an_endless_loop)
{
    ebpfvm_prog *prog = interp_load(vm, INTERP_PROG(EBPF_MOV64_IMM(0, 0), EBPF_JA(-1), EBPF_EXIT()), 3);
    struct ebpfvm_run_result res;
    for (int mode = EBPFVM_EXEC_CHECKED; mode <= EBPFVM_EXEC_FAST; mode++) {
        cr_assert_eq(interp_run_mode(prog, (enum ebpfvm_exec_mode)mode, 1000, NULL, 0, &res), EBPFVM_ERR_BUDGET);
        cr_assert_str_eq(res.message, "insn 1: instruction budget of 1000 exhausted");
        cr_assert_eq(res.fault_pc, 1);
        cr_assert_eq(res.insns_executed, 1000);
    }
    /* checked mode with no budget given uses EBPFVM_DEFAULT_BUDGET */
    cr_assert_eq(interp_run_mode(prog, EBPFVM_EXEC_CHECKED, 0, NULL, 0, &res), EBPFVM_ERR_BUDGET);
    cr_assert_str_eq(res.message, "insn 1: instruction budget of 100000000 exhausted");
    ebpfvm_prog_destroy(prog);
}

Test(interp_checked, budget_counts_exactly)
{
    /* 3 instructions: a budget of 3 suffices, 2 does not */
    ebpfvm_prog *prog =
        interp_load(vm, INTERP_PROG(EBPF_MOV64_IMM(0, 1), EBPF_LD_IMM64(1, 2), EBPF_EXIT()), 4);
    struct ebpfvm_run_result res;
    for (int mode = EBPFVM_EXEC_CHECKED; mode <= EBPFVM_EXEC_FAST; mode++) {
        cr_assert_eq(interp_run_mode(prog, (enum ebpfvm_exec_mode)mode, 3, NULL, 0, &res), 0);
        cr_assert_eq(res.insns_executed, 3);
        cr_assert_eq(interp_run_mode(prog, (enum ebpfvm_exec_mode)mode, 2, NULL, 0, &res), EBPFVM_ERR_BUDGET);
        cr_assert_str_eq(res.message, "insn 3: instruction budget of 2 exhausted");
    }
    /* fast mode without a budget does not count */
    cr_assert_eq(interp_run_mode(prog, EBPFVM_EXEC_FAST, 0, NULL, 0, &res), 0);
    cr_assert_eq(res.insns_executed, 0);
    ebpfvm_prog_destroy(prog);
}

Test(interp_checked, fast_mode_on_unverified_program_needs_the_flag)
{
    ebpfvm_prog *prog = interp_load(vm, INTERP_PROG(EBPF_MOV64_IMM(0, 1), EBPF_EXIT()), 2);
    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = EBPFVM_EXEC_FAST};
    struct ebpfvm_run_result res;
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &res), EBPFVM_ERR_PERM);
    cr_assert(strstr(res.message, "fast mode needs a verified program"), "%s", res.message);
    cr_assert_eq(res.fault_pc, -1);
    opts.flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST;
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &res), 0);
    cr_assert_eq(res.r0, 1);
    ebpfvm_prog_destroy(prog);
}

Test(interp_checked, auto_mode_picks_checked_for_unverified_and_fast_for_verified)
{
    ebpfvm_prog *prog = interp_load(vm, INTERP_PROG(EBPF_MOV64_IMM(3, 0), EBPF_LDX_MEM(DW, 0, 3, 0), EBPF_EXIT()), 3);
    struct ebpfvm_run_result res;
    /* unverified: checked, so the NULL read faults instead of crashing */
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, NULL, &res), EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 1: invalid read of 8 bytes at 0x0 (r3 + 0)"), "%s", res.message);
    ebpfvm_prog_destroy(prog);

    prog = interp_load(vm, INTERP_PROG(EBPF_MOV64_IMM(0, 4), EBPF_EXIT()), 2);
    prog->verified = true; /* as a verifier would mark it */
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, NULL, &res), 0);
    cr_assert_eq(res.r0, 4);
    cr_assert_eq(res.insns_executed, 0); /* the uncounted fast loop ran */
    ebpfvm_prog_destroy(prog);
}

Test(interp_checked, run_argument_errors)
{
    ebpfvm_prog *prog = interp_load(vm, INTERP_PROG(EBPF_MOV64_IMM(0, 1), EBPF_EXIT()), 2);
    struct ebpfvm_run_result res;
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, NULL, NULL), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_prog_run(NULL, NULL, 0, NULL, &res), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(res.message, "run: prog is NULL");
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 4, NULL, &res), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(res.message, "run: ctx is NULL but ctx_size is not 0");
    struct ebpfvm_run_opts opts = {.sz = 2};
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &res), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(res.message, "run: opts->sz is too small");
    opts = (struct ebpfvm_run_opts){.sz = sizeof opts, .mode = (enum ebpfvm_exec_mode)7};
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &res), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(res.message, "run: unknown execution mode");
    opts = (struct ebpfvm_run_opts){.sz = sizeof opts, .cpu = 1};
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &res), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(res.message, "run: cpu index is not below the vm's cpu count");
    ebpfvm_prog_destroy(prog);
}

Test(interp_checked, both_modes_agree_on_memory_effects)
{
    /* a small program touching context, stack and atomics */
    _Alignas(8) uint8_t mem[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t r0 = INTERP_R0_MEM(mem, EBPF_LDX_MEM(DW, 2, 1, 0), EBPF_STX_MEM(DW, 10, 2, -8),
                                EBPF_LDX_MEM(W, 3, 10, -6), EBPF_STX_MEM(W, 1, 3, 8), EBPF_MOV64_IMM(4, 3),
                                EBPF_ATOMIC_OP(DW, EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH, 1, 4, 16),
                                EBPF_MOV64_REG(0, 4), EBPF_EXIT());
    cr_assert_eq(r0, 0);
    cr_assert_eq(mem[8], 3);
    cr_assert_eq(mem[16], 3);
}

Test(interp_checked, jit_mode_without_native_code_runs_as_auto)
{
    ebpfvm_prog *prog = interp_load(vm, INTERP_PROG(EBPF_MOV64_IMM(3, 0), EBPF_LDX_MEM(DW, 0, 3, 0), EBPF_EXIT()), 3);
    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = EBPFVM_EXEC_JIT};
    struct ebpfvm_run_result res;
    /* never compiled and unverified: the checked interpreter catches the NULL read */
    cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &res), EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 1: invalid read of 8 bytes at 0x0 (r3 + 0)"), "%s", res.message);
    ebpfvm_prog_destroy(prog);
}
