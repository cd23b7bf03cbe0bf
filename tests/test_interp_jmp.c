/*
 * tests/test_interp_jmp.c - JMP and JMP32 in the interpreter, both modes:
 * every conditional form of EBPF_INSN_FORMS against vm/arith.h, signed and
 * 32-bit comparisons, ja, gotol (JA32, imm offset), backward loops.
 */
#include <criterion/criterion.h>

#include "interp_run.h"
#include "vm/arith.h"
#include "vm/internal.h"

/* r0 = 1 when the jump is taken, 0 otherwise. */
static uint64_t taken(ebpfvm_vm *vm, struct ebpf_insn jump, uint64_t a, uint64_t b)
{
    jump.off = 1;
    const struct ebpf_insn prog[] = {
        EBPF_LD_IMM64(1, a), EBPF_LD_IMM64(2, b), EBPF_MOV64_IMM(0, 0), jump, EBPF_EXIT(), EBPF_MOV64_IMM(0, 1),
        EBPF_EXIT(),
    };
    return interp_run_both(vm, prog, EBPF_NWORDS(prog), NULL, 0);
}

static const uint64_t values[] = {
    0, 1, 2, 0x7fffffff, 0x80000000ull, 0xffffffffull, 0x100000000ull, 0x1ffffffffull,
    0x7fffffffffffffffull, 0x8000000000000000ull, UINT64_MAX, (uint64_t)-2, 0xffffffff00000001ull,
};
static const int32_t imms[] = {0, 1, -1, 2, INT32_MAX, INT32_MIN, -2};

Test(interp_jmp, every_conditional_form_matches_arith)
{
    ebpfvm_vm *vm = interp_test_vm();
    int forms = 0;
    for (int form = 0; form < EBPF_OP_COUNT_; form++) {
        const struct ebpfvm_form_info *f = &ebpfvm__forms[form];
        if (f->format == EBPF_FMT_JMP_REG) {
            forms++;
            for (size_t i = 0; i < EBPF_NWORDS(values); i++)
                for (size_t j = 0; j < EBPF_NWORDS(values); j++) {
                    bool want = ebpf_jmp_eval(f->opcode, values[i], values[j]);
                    uint64_t got = taken(vm, EBPF_RAW(f->opcode, 1, 2, 0, 0), values[i], values[j]);
                    cr_assert_eq(got, want, "%s 0x%llx, 0x%llx", f->mnemonic, (unsigned long long)values[i],
                                 (unsigned long long)values[j]);
                }
        } else if (f->format == EBPF_FMT_JMP_IMM) {
            forms++;
            for (size_t i = 0; i < EBPF_NWORDS(values); i++)
                for (size_t k = 0; k < EBPF_NWORDS(imms); k++) {
                    bool want = ebpf_jmp_eval(f->opcode, values[i], ebpf_imm64(imms[k]));
                    uint64_t got = taken(vm, EBPF_RAW(f->opcode, 1, 0, 0, imms[k]), values[i], 0);
                    cr_assert_eq(got, want, "%s 0x%llx, %d", f->mnemonic, (unsigned long long)values[i], imms[k]);
                }
        }
    }
    cr_assert_eq(forms, 44); /* 11 conditions x {imm, reg} x {64, 32} */
    ebpfvm_vm_destroy(vm);
}

Test(interp_jmp, signed_and_32_bit_comparisons)
{
    ebpfvm_vm *vm = interp_test_vm();
    /* -1 < 1 signed, > unsigned */
    cr_assert_eq(taken(vm, EBPF_JMP_REG(EBPF_JMP_JSLT, 1, 2, 0), UINT64_MAX, 1), 1);
    cr_assert_eq(taken(vm, EBPF_JMP_REG(EBPF_JMP_JLT, 1, 2, 0), UINT64_MAX, 1), 0);
    /* jmp32 looks only at the low halves, as int32 for signed ones */
    cr_assert_eq(taken(vm, EBPF_JMP32_REG(EBPF_JMP_JSLT, 1, 2, 0), 0x00000000ffffffffull, 1), 1);
    cr_assert_eq(taken(vm, EBPF_JMP_REG(EBPF_JMP_JSLT, 1, 2, 0), 0x00000000ffffffffull, 1), 0);
    cr_assert_eq(taken(vm, EBPF_JMP32_IMM(EBPF_JMP_JEQ, 1, 5, 0), 0x1234567800000005ull, 0), 1);
    cr_assert_eq(taken(vm, EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 5, 0), 0x1234567800000005ull, 0), 0);
    cr_assert_eq(taken(vm, EBPF_JMP32_IMM(EBPF_JMP_JSGT, 1, -2, 0), 0xffffffffull, 0), 1);
    cr_assert_eq(taken(vm, EBPF_JMP32_IMM(EBPF_JMP_JSGE, 1, 0, 0), 0x80000000ull, 0), 0);
    cr_assert_eq(taken(vm, EBPF_JMP32_IMM(EBPF_JMP_JSLE, 1, -1, 0), 0x180000000ull, 0), 1);
    /* 64-bit imm is sign-extended: jeq r1, -1 with r1 = 0xffffffff is not taken */
    cr_assert_eq(taken(vm, EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, -1, 0), 0xffffffffull, 0), 0);
    cr_assert_eq(taken(vm, EBPF_JMP32_IMM(EBPF_JMP_JEQ, 1, -1, 0), 0xffffffffull, 0), 1);
    cr_assert_eq(taken(vm, EBPF_JMP_IMM(EBPF_JMP_JSET, 1, 0x10, 0), 0x30, 0), 1);
    cr_assert_eq(taken(vm, EBPF_JMP32_IMM(EBPF_JMP_JSET, 1, 0x10, 0), 0x1000000020ull, 0), 0);
    ebpfvm_vm_destroy(vm);
}

Test(interp_jmp, ja_forward_and_backward)
{
    /* ja +1 skips one instruction */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(0, 1), EBPF_JA(1), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()), 1);
    /* jump backward: ja to the exit placed before */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(0, 3), EBPF_JA(1), EBPF_EXIT(), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 4),
                           EBPF_JA(-3)),
                 7);
}

Test(interp_jmp, gotol_uses_imm_as_offset)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(0, 1), EBPF_GOTOL(2), EBPF_MOV64_IMM(0, 2), EBPF_MOV64_IMM(0, 3),
                           EBPF_EXIT()),
                 1);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(0, 1), EBPF_GOTOL(1), EBPF_EXIT(), EBPF_MOV64_IMM(0, 9), EBPF_GOTOL(-3)),
                 9);
}

Test(interp_jmp, loop_sums)
{
    /* r0 = sum 1..100 */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(1, 100), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1),
                           EBPF_ALU64_IMM(EBPF_ALU_SUB, 1, 1), EBPF_JMP_IMM(EBPF_JMP_JNE, 1, 0, -3), EBPF_EXIT()),
                 5050);
}

Test(interp_jmp, jump_over_ld_imm64)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(0, 1), EBPF_JA(2), EBPF_LD_IMM64(0, 7), EBPF_EXIT()), 1);
}

/* ------------------------------------------------------------- may_goto */

/* r0 counts the fall-throughs of one may_goto loop until it jumps out. */
#define MAY_GOTO_COUNT_LOOP(reg) EBPF_MAY_GOTO(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, reg, 1), EBPF_JA(-3)

Test(interp_jmp, may_goto_falls_through_budget_times_then_jumps)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(0, 0), MAY_GOTO_COUNT_LOOP(0), EBPF_EXIT()), EBPF_MAY_GOTO_BUDGET);
}

Test(interp_jmp, may_goto_keeps_jumping_once_the_budget_is_spent)
{
    /* Two loops in one frame: the second finds the budget spent. */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(0, 0), MAY_GOTO_COUNT_LOOP(0), EBPF_MOV64_IMM(0, 0), MAY_GOTO_COUNT_LOOP(0),
                           EBPF_EXIT()),
                 0);
}

Test(interp_jmp, may_goto_budget_is_per_call)
{
    /* main spends its budget, then calls a subprogram twice: each call
     * starts with a budget of its own, and main's stays spent. */
    uint64_t r0 = INTERP_R0(EBPF_MOV64_IMM(6, 0), MAY_GOTO_COUNT_LOOP(6), /* 0-3 */
                            EBPF_CALL_LOCAL(8),                           /* 4: -> 13 */
                            EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 0),           /* 5 */
                            EBPF_CALL_LOCAL(6),                           /* 6: -> 13 */
                            EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 0),           /* 7 */
                            MAY_GOTO_COUNT_LOOP(6),                       /* 8-10: spent, no count */
                            EBPF_MOV64_REG(0, 6), EBPF_EXIT(),            /* 11-12 */
                            EBPF_MOV64_IMM(0, 0), MAY_GOTO_COUNT_LOOP(0), EBPF_EXIT()); /* 13-17 */
    cr_assert_eq(r0, 3ull * EBPF_MAY_GOTO_BUDGET);
}
