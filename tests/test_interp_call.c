/*
 * tests/test_interp_call.c - helper calls, bpf-to-bpf calls (frames, their
 * stacks, r6-r9 and r10 preservation, the depth limit), callx, and the run
 * environment helpers see. Both modes everywhere.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "interp_run.h"
#include "vm/internal.h"

static uint64_t sum5(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)env;
    return r1 + 10 * r2 + 100 * r3 + 1000 * r4 + 10000 * r5;
}

static uint64_t user_and_pc(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
    const uint64_t *user = ebpfvm_env_user(env);
    return *user + env->pc;
}

static uint64_t faulting(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5;
    if (r1 == 1)
        ebpfvm_env_fault(env, "faulting helper: r1 is 1");
    else if (r1 == 2)
        ebpfvm_env_fault(env, NULL);
    return 77;
}

static ebpfvm_vm *call_vm(void)
{
    ebpfvm_vm *vm = interp_test_vm();
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 6, "sum5", sum5, NULL), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 7, "user_and_pc", user_and_pc, NULL), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 8, "faulting", faulting, NULL), 0);
    return vm;
}

/* Load and run in `mode`; the program must fault. */
static int run_expect_error(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t n, enum ebpfvm_exec_mode mode,
                            struct ebpfvm_run_result *res)
{
    ebpfvm_prog *prog = interp_load(vm, insns, n);
    int err = interp_run_mode(prog, mode, 0, NULL, 0, res);
    ebpfvm_prog_destroy(prog);
    return err;
}

Test(interp_call, helper_gets_r1_to_r5_and_returns_r0)
{
    ebpfvm_vm *vm = call_vm();
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_IMM(1, 1), EBPF_MOV64_IMM(2, 2), EBPF_MOV64_IMM(3, 3), EBPF_MOV64_IMM(4, 4),
        EBPF_MOV64_IMM(5, 5), EBPF_CALL_HELPER(6), EBPF_EXIT(),
    };
    cr_assert_eq(interp_run_both(vm, prog, EBPF_NWORDS(prog), NULL, 0), 54321);
    const struct ebpf_insn ident[] = {EBPF_MOV64_IMM(1, -1), EBPF_CALL_HELPER(5), EBPF_EXIT()};
    cr_assert_eq(interp_run_both(vm, ident, EBPF_NWORDS(ident), NULL, 0), UINT64_MAX);
    ebpfvm_vm_destroy(vm);
}

Test(interp_call, helper_sees_user_data_and_call_pc)
{
    ebpfvm_vm *vm = call_vm();
    const struct ebpf_insn insns[] = {EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(0, 0), EBPF_CALL_HELPER(7), EBPF_EXIT()};
    ebpfvm_prog *prog = interp_load(vm, insns, EBPF_NWORDS(insns));
    uint64_t user = 1000;
    for (int mode = EBPFVM_EXEC_CHECKED; mode <= EBPFVM_EXEC_FAST; mode++) {
        struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = (enum ebpfvm_exec_mode)mode, .user = &user,
                                       .flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST};
        struct ebpfvm_run_result res;
        cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &opts, &res), 0);
        cr_assert_eq(res.r0, 1002);
    }
    cr_assert_null(ebpfvm_env_user(NULL));
    ebpfvm_vm_destroy(vm);
}

Test(interp_call, helper_fault_stops_the_run)
{
    ebpfvm_vm *vm = call_vm();
    const struct ebpf_insn insns[] = {
        EBPF_MOV64_IMM(1, 1), EBPF_CALL_HELPER(8), EBPF_MOV64_IMM(0, 5), EBPF_EXIT(),
    };
    const struct ebpf_insn silent[] = {
        EBPF_MOV64_IMM(1, 2), EBPF_MOV64_IMM(0, 0), EBPF_CALL_HELPER(8), EBPF_EXIT(),
    };
    const struct ebpf_insn fine[] = {EBPF_MOV64_IMM(1, 3), EBPF_CALL_HELPER(8), EBPF_EXIT()};
    for (int mode = EBPFVM_EXEC_CHECKED; mode <= EBPFVM_EXEC_FAST; mode++) {
        struct ebpfvm_run_result res;
        cr_assert_eq(run_expect_error(vm, insns, EBPF_NWORDS(insns), (enum ebpfvm_exec_mode)mode, &res),
                     EBPFVM_ERR_FAULT);
        cr_assert_str_eq(res.message, "insn 1: faulting helper: r1 is 1");
        cr_assert_eq(res.fault_pc, 1);
        cr_assert_eq(run_expect_error(vm, silent, EBPF_NWORDS(silent), (enum ebpfvm_exec_mode)mode, &res),
                     EBPFVM_ERR_FAULT);
        cr_assert_str_eq(res.message, "insn 2: helper 8 (faulting) faulted");
    }
    cr_assert_eq(interp_run_both(vm, fine, EBPF_NWORDS(fine), NULL, 0), 77);
    ebpfvm_vm_destroy(vm);
}

/* The conformance suite's call_local: args in r1-r5, r6-r9 preserved. */
Test(interp_call, local_call_passes_args_and_preserves_r6_to_r9)
{
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(1, 1), EBPF_MOV64_IMM(2, 2), EBPF_MOV64_IMM(3, 3),
        EBPF_MOV64_IMM(4, 4), EBPF_MOV64_IMM(5, 5), EBPF_MOV64_IMM(6, 6), EBPF_MOV64_IMM(7, 7),
        EBPF_MOV64_IMM(8, 8), EBPF_MOV64_IMM(9, 9),
        EBPF_CALL_LOCAL(14), /* 10 -> 25 */
        EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 15, 9), EBPF_JMP_IMM(EBPF_JMP_JNE, 6, 6, 8),
        EBPF_JMP_IMM(EBPF_JMP_JNE, 7, 7, 7), EBPF_JMP_IMM(EBPF_JMP_JNE, 8, 8, 6),
        EBPF_JMP_IMM(EBPF_JMP_JNE, 9, 9, 5),
        /* r10 is restored too: it must equal r1 saved before... compare with a stack slot */
        EBPF_MOV64_REG(1, 10), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 1, -8), EBPF_LDX_MEM(EBPF_SIZE_DW, 2, 10, -8),
        EBPF_MOV64_IMM(0, 1), EBPF_EXIT(),
        EBPF_MOV64_IMM(0, -1), EBPF_EXIT(), /* 21, 22: failed */
        EBPF_EXIT(), EBPF_EXIT(),           /* 23, 24: padding */
        /* 25: func */
        EBPF_MOV64_IMM(0, 0), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 2),
        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 3), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 4), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 5),
        EBPF_MOV64_IMM(6, 0), EBPF_MOV64_IMM(7, 0), EBPF_MOV64_IMM(8, 0), EBPF_MOV64_IMM(9, 0), EBPF_EXIT(),
    };
    cr_assert_eq(interp_run_both(NULL, prog, EBPF_NWORDS(prog), NULL, 0), 1);
}

Test(interp_call, each_frame_has_its_own_stack_and_r10_is_restored)
{
    const struct ebpf_insn prog[] = {
        EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 1),      /* 0: main's slot = 1 */
        EBPF_MOV64_REG(6, 10),                     /* 1: r6 = main's r10 */
        EBPF_MOV64_REG(1, 10),                     /* 2 */
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -8),       /* 3: r1 = &main's slot */
        EBPF_CALL_LOCAL(6),                        /* 4 -> 11 */
        EBPF_JMP_REG(EBPF_JMP_JNE, 6, 10, 3),      /* 5: r10 restored? */
        EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, -8),     /* 6: main's slot still 1 */
        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1),        /* 7: r0 = callee's result + 1 */
        EBPF_EXIT(),                               /* 8 */
        EBPF_MOV64_IMM(0, -1),                     /* 9 */
        EBPF_EXIT(),                               /* 10 */
        /* 11: callee: writes its own slot, reads the caller's through r1 */
        EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 100),    /* 11 */
        EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, 0),       /* 12: r0 = caller's slot (1) */
        EBPF_LDX_MEM(EBPF_SIZE_DW, 2, 10, -8),     /* 13 */
        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 2),        /* 14: r0 = 101 */
        EBPF_JMP_REG(EBPF_JMP_JEQ, 10, 6, -7),     /* 15: a new frame has another r10 */
        EBPF_EXIT(),
    };
    cr_assert_eq(interp_run_both(NULL, prog, EBPF_NWORDS(prog), NULL, 0), 102);
}

/* main calls f(n); f adds 1 to r0 and recurses while n > 0: n + 2 frames. */
#define RECURSE(n)                                                                                     \
    {                                                                                                  \
        EBPF_MOV64_IMM(1, n), EBPF_MOV64_IMM(0, 0), EBPF_CALL_LOCAL(1), EBPF_EXIT(),                   \
            EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1), EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 0, 2),                   \
            EBPF_ALU64_IMM(EBPF_ALU_SUB, 1, 1), EBPF_CALL_LOCAL(-4), EBPF_EXIT(),                      \
    }

Test(interp_call, eight_frames_are_allowed)
{
    const struct ebpf_insn prog[] = RECURSE(6); /* 8 frames */
    cr_assert_eq(interp_run_both(NULL, prog, EBPF_NWORDS(prog), NULL, 0), 7);
}

Test(interp_call, ninth_frame_faults_in_both_modes)
{
    const struct ebpf_insn prog[] = RECURSE(7);
    ebpfvm_vm *vm = interp_test_vm();
    for (int mode = EBPFVM_EXEC_CHECKED; mode <= EBPFVM_EXEC_FAST; mode++) {
        struct ebpfvm_run_result res;
        cr_assert_eq(run_expect_error(vm, prog, EBPF_NWORDS(prog), (enum ebpfvm_exec_mode)mode, &res),
                     EBPFVM_ERR_FAULT);
        cr_assert_str_eq(res.message, "insn 7: call depth exceeds 8 frames");
        cr_assert_eq(res.fault_pc, 7);
    }
    ebpfvm_vm_destroy(vm);
}

Test(interp_call, callx_calls_the_helper_whose_id_is_in_dst)
{
    /* the conformance suite's callx.data */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(1, -1), EBPF_MOV64_IMM(2, 5), EBPF_CALLX(2), EBPF_EXIT()), UINT64_MAX);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(1, -1), EBPF_MOV64_IMM(2, 5), EBPF_CALLX(2), EBPF_MOV64_IMM(0, 2),
                           EBPF_EXIT()),
                 2);
}

Test(interp_call, callx_to_an_unknown_helper_faults)
{
    ebpfvm_vm *vm = interp_test_vm();
    const struct ebpf_insn unknown[] = {EBPF_MOV64_IMM(3, 99), EBPF_CALLX(3), EBPF_EXIT()};
    const struct ebpf_insn huge[] = {EBPF_LD_IMM64(3, 0x100000005ull), EBPF_CALLX(3), EBPF_EXIT()};
    for (int mode = EBPFVM_EXEC_CHECKED; mode <= EBPFVM_EXEC_FAST; mode++) {
        struct ebpfvm_run_result res;
        cr_assert_eq(run_expect_error(vm, unknown, EBPF_NWORDS(unknown), (enum ebpfvm_exec_mode)mode, &res),
                     EBPFVM_ERR_FAULT);
        cr_assert_str_eq(res.message, "insn 1: callx r3: unknown helper 99");
        cr_assert_eq(run_expect_error(vm, huge, EBPF_NWORDS(huge), (enum ebpfvm_exec_mode)mode, &res),
                     EBPFVM_ERR_FAULT);
        cr_assert_str_eq(res.message, "insn 2: callx r3: unknown helper 4294967301");
    }
    ebpfvm_vm_destroy(vm);
}

Test(interp_call, ld_imm64_func_reference_is_the_target_index)
{
    /* relative to the first word, like a call: 0 + 1 + 2 */
    cr_assert_eq(INTERP_R0(EBPF_LD_FUNC(0, 2), EBPF_EXIT(), EBPF_EXIT()), 3);
}
