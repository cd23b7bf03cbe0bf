/*
 * tests/test_interp_alu.c - ALU and ALU64 instructions in the interpreter,
 * every test run in both CHECKED and FAST modes (interp_run_both).
 *
 * Two kinds of tests: hand-written edge cases with their expected values
 * (division by zero, INT_MIN / -1, masked shifts, sign extension, byte
 * order, 32-bit zero extension), and a sweep over every ALU form of
 * EBPF_INSN_FORMS against vm/arith.h, which checks that each generated
 * handler runs its own form.
 */
#include <criterion/criterion.h>

#include "interp_run.h"
#include "vm/arith.h"
#include "vm/internal.h"

#define R0 0
#define R1 1
#define R2 2

Test(interp_alu, add_sub_mul_64_and_32)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 40), EBPF_ALU64_IMM(EBPF_ALU_ADD, R0, 2), EBPF_EXIT()), 42);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 40), EBPF_MOV64_IMM(R1, 50), EBPF_ALU64_REG(EBPF_ALU_SUB, R0, R1),
                           EBPF_EXIT()),
                 (uint64_t)-10);
    /* 32-bit results are zero-extended. */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 40), EBPF_MOV64_IMM(R1, 50), EBPF_ALU32_REG(EBPF_ALU_SUB, R0, R1),
                           EBPF_EXIT()),
                 0xfffffff6u);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, 0xffffffff00000005ull), EBPF_ALU32_IMM(EBPF_ALU_ADD, R0, 1),
                           EBPF_EXIT()),
                 6);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -1), EBPF_ALU32_IMM(EBPF_ALU_ADD, R0, 1), EBPF_EXIT()), 0);
    cr_assert_eq(INTERP_R0(EBPF_MOV32_IMM(R0, 0x10000), EBPF_ALU32_IMM(EBPF_ALU_MUL, R0, 0x10001), EBPF_EXIT()),
                 0x10000);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 0x10000), EBPF_ALU64_IMM(EBPF_ALU_MUL, R0, 0x10001), EBPF_EXIT()),
                 0x100010000ull);
}

Test(interp_alu, mov_imm_sign_extends_64_zero_extends_32)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -1), EBPF_EXIT()), UINT64_MAX);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -1), EBPF_MOV32_IMM(R0, -1), EBPF_EXIT()), 0xffffffffu);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R1, 0x123456789abcdef0ull), EBPF_MOV32_REG(R0, R1), EBPF_EXIT()),
                 0x9abcdef0u);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, 0x123456789abcdef0ull), EBPF_EXIT()), 0x123456789abcdef0ull);
}

Test(interp_alu, division_and_modulo_by_zero)
{
    /* x / 0 = 0, x % 0 = x: 64 and 32 bits, register and immediate. */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 7), EBPF_MOV64_IMM(R1, 0), EBPF_ALU64_REG(EBPF_ALU_DIV, R0, R1),
                           EBPF_EXIT()),
                 0);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 7), EBPF_ALU64_IMM(EBPF_ALU_DIV, R0, 0), EBPF_EXIT()), 0);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 7), EBPF_MOV64_IMM(R1, 0), EBPF_ALU32_REG(EBPF_ALU_DIV, R0, R1),
                           EBPF_EXIT()),
                 0);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 7), EBPF_ALU32_IMM(EBPF_ALU_DIV, R0, 0), EBPF_EXIT()), 0);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -7), EBPF_MOV64_IMM(R1, 0), EBPF_ALU64_REG(EBPF_ALU_MOD, R0, R1),
                           EBPF_EXIT()),
                 (uint64_t)-7);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -7), EBPF_ALU64_IMM(EBPF_ALU_MOD, R0, 0), EBPF_EXIT()), (uint64_t)-7);
    /* 32-bit: the low half of dst, zero-extended. */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -7), EBPF_MOV64_IMM(R1, 0), EBPF_ALU32_REG(EBPF_ALU_MOD, R0, R1),
                           EBPF_EXIT()),
                 0xfffffff9u);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -7), EBPF_ALU32_IMM(EBPF_ALU_MOD, R0, 0), EBPF_EXIT()), 0xfffffff9u);
    /* signed forms too */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -7), EBPF_SALU64_IMM(EBPF_ALU_DIV, R0, 0), EBPF_EXIT()), 0);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -7), EBPF_SALU32_IMM(EBPF_ALU_MOD, R0, 0), EBPF_EXIT()), 0xfffffff9u);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -7), EBPF_MOV64_IMM(R1, 0), EBPF_SALU64_REG(EBPF_ALU_MOD, R0, R1),
                           EBPF_EXIT()),
                 (uint64_t)-7);
}

Test(interp_alu, unsigned_division_treats_operands_as_unsigned)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -1), EBPF_ALU64_IMM(EBPF_ALU_DIV, R0, -1), EBPF_EXIT()), 1);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 100), EBPF_ALU64_IMM(EBPF_ALU_DIV, R0, 7), EBPF_EXIT()), 14);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 100), EBPF_ALU32_IMM(EBPF_ALU_MOD, R0, 7), EBPF_EXIT()), 2);
}

Test(interp_alu, signed_division_int_min_by_minus_one)
{
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, 0x8000000000000000ull), EBPF_SALU64_IMM(EBPF_ALU_DIV, R0, -1),
                           EBPF_EXIT()),
                 0x8000000000000000ull);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, 0x8000000000000000ull), EBPF_MOV64_IMM(R1, -1),
                           EBPF_SALU64_REG(EBPF_ALU_MOD, R0, R1), EBPF_EXIT()),
                 0);
    cr_assert_eq(INTERP_R0(EBPF_MOV32_IMM(R0, INT32_MIN), EBPF_SALU32_IMM(EBPF_ALU_DIV, R0, -1), EBPF_EXIT()),
                 0x80000000u);
    cr_assert_eq(INTERP_R0(EBPF_MOV32_IMM(R0, INT32_MIN), EBPF_MOV64_IMM(R1, -1),
                           EBPF_SALU32_REG(EBPF_ALU_MOD, R0, R1), EBPF_EXIT()),
                 0);
}

Test(interp_alu, signed_division_truncates_and_modulo_follows_dividend)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -7), EBPF_SALU64_IMM(EBPF_ALU_DIV, R0, 2), EBPF_EXIT()), (uint64_t)-3);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -7), EBPF_SALU64_IMM(EBPF_ALU_MOD, R0, 2), EBPF_EXIT()), (uint64_t)-1);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 7), EBPF_SALU64_IMM(EBPF_ALU_MOD, R0, -2), EBPF_EXIT()), 1);
    cr_assert_eq(INTERP_R0(EBPF_MOV32_IMM(R0, -7), EBPF_SALU32_IMM(EBPF_ALU_DIV, R0, 2), EBPF_EXIT()), 0xfffffffdu);
    /* unsigned div of the same bits differs */
    cr_assert_eq(INTERP_R0(EBPF_MOV32_IMM(R0, -7), EBPF_ALU32_IMM(EBPF_ALU_DIV, R0, 2), EBPF_EXIT()), 0x7ffffffcu);
}

Test(interp_alu, shift_counts_are_masked)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 1), EBPF_MOV64_IMM(R1, 65), EBPF_ALU64_REG(EBPF_ALU_LSH, R0, R1),
                           EBPF_EXIT()),
                 2);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 1), EBPF_MOV64_IMM(R1, 33), EBPF_ALU32_REG(EBPF_ALU_LSH, R0, R1),
                           EBPF_EXIT()),
                 2);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 1), EBPF_ALU64_IMM(EBPF_ALU_LSH, R0, 64), EBPF_EXIT()), 1);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 8), EBPF_ALU32_IMM(EBPF_ALU_RSH, R0, 35), EBPF_EXIT()), 1);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 8), EBPF_ALU64_IMM(EBPF_ALU_RSH, R0, -1), EBPF_EXIT()), 0);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -16), EBPF_ALU64_IMM(EBPF_ALU_ARSH, R0, 66), EBPF_EXIT()),
                 (uint64_t)-4);
}

Test(interp_alu, arsh_32_and_64)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV32_IMM(R0, INT32_MIN), EBPF_ALU32_IMM(EBPF_ALU_ARSH, R0, 4), EBPF_EXIT()),
                 0xf8000000u);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, INT32_MIN), EBPF_ALU64_IMM(EBPF_ALU_ARSH, R0, 4), EBPF_EXIT()),
                 0xfffffffff8000000ull);
    cr_assert_eq(INTERP_R0(EBPF_MOV32_IMM(R0, INT32_MIN), EBPF_ALU64_IMM(EBPF_ALU_ARSH, R0, 4), EBPF_EXIT()),
                 0x08000000u);
}

Test(interp_alu, neg_and_bitwise)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 5), EBPF_NEG64(R0), EBPF_EXIT()), (uint64_t)-5);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 5), EBPF_NEG32(R0), EBPF_EXIT()), 0xfffffffbu);
    cr_assert_eq(INTERP_R0(EBPF_MOV32_IMM(R0, INT32_MIN), EBPF_NEG32(R0), EBPF_EXIT()), 0x80000000u);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, 0xf0), EBPF_ALU64_IMM(EBPF_ALU_OR, R0, 0x0f),
                           EBPF_ALU64_IMM(EBPF_ALU_AND, R0, 0x3c), EBPF_ALU64_IMM(EBPF_ALU_XOR, R0, 0x01),
                           EBPF_EXIT()),
                 0x3d);
    /* an AND with a negative imm keeps the upper half (sign-extended imm) */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -1), EBPF_ALU64_IMM(EBPF_ALU_AND, R0, -2), EBPF_EXIT()),
                 0xfffffffffffffffeull);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R0, -1), EBPF_ALU32_IMM(EBPF_ALU_AND, R0, -2), EBPF_EXIT()),
                 0xfffffffeu);
}

Test(interp_alu, movsx)
{
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R1, 0x180), EBPF_MOVSX64(R0, R1, 8), EBPF_EXIT()),
                 0xffffffffffffff80ull);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R1, 0x17f), EBPF_MOVSX64(R0, R1, 8), EBPF_EXIT()), 0x7f);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R1, 0x8000), EBPF_MOVSX64(R0, R1, 16), EBPF_EXIT()),
                 0xffffffffffff8000ull);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R1, INT32_MIN), EBPF_ALU64_IMM(EBPF_ALU_LSH, R1, 32),
                           EBPF_ALU64_IMM(EBPF_ALU_OR, R1, 0x7fffffff), EBPF_MOVSX64(R0, R1, 32), EBPF_EXIT()),
                 0x7fffffff);
    cr_assert_eq(INTERP_R0(EBPF_MOV32_IMM(R1, 0x80000000), EBPF_MOVSX64(R0, R1, 32), EBPF_EXIT()),
                 0xffffffff80000000ull);
    /* 32-bit movsx zero-extends the 32-bit result */
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R1, 0x80), EBPF_MOVSX32(R0, R1, 8), EBPF_EXIT()), 0xffffff80u);
    cr_assert_eq(INTERP_R0(EBPF_MOV64_IMM(R1, 0x8000), EBPF_MOVSX32(R0, R1, 16), EBPF_EXIT()), 0xffff8000u);
}

Test(interp_alu, byte_order)
{
    const uint64_t v = 0x0123456789abcdefull;
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, v), EBPF_LE(R0, 16), EBPF_EXIT()), 0xcdef);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, v), EBPF_LE(R0, 32), EBPF_EXIT()), 0x89abcdef);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, v), EBPF_LE(R0, 64), EBPF_EXIT()), v);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, v), EBPF_BE(R0, 16), EBPF_EXIT()), 0xefcd);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, v), EBPF_BE(R0, 32), EBPF_EXIT()), 0xefcdab89);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, v), EBPF_BE(R0, 64), EBPF_EXIT()), 0xefcdab8967452301ull);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, v), EBPF_BSWAP(R0, 16), EBPF_EXIT()), 0xefcd);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, v), EBPF_BSWAP(R0, 32), EBPF_EXIT()), 0xefcdab89);
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(R0, v), EBPF_BSWAP(R0, 64), EBPF_EXIT()), 0xefcdab8967452301ull);
}

/* ---- every ALU form of the table against vm/arith.h ---- */

static const uint64_t sweep_values[] = {
    0, 1, 2, 7, 31, 32, 63, 64, 65, 0x7f, 0x80, 0xff, 0x8000, 0x7fffffff, 0x80000000ull, 0xffffffffull,
    0x100000000ull, 0x0123456789abcdefull, 0x7fffffffffffffffull, 0x8000000000000000ull, UINT64_MAX,
    (uint64_t)-2, (uint64_t)-7,
};
static const int32_t sweep_imms[] = {0, 1, -1, 2, -2, 7, 31, 32, 33, 63, 64, INT32_MIN, INT32_MAX, 0x1234};

static void sweep_one(ebpfvm_vm *vm, int form, uint64_t dst, uint64_t src, bool imm_form, int32_t imm)
{
    const struct ebpfvm_form_info *f = &ebpfvm__forms[form];
    bool unary = f->format == EBPF_FMT_ALU_UNARY || f->format == EBPF_FMT_ENDIAN;
    struct ebpf_insn op = EBPF_RAW(f->opcode, R0, imm_form || unary ? 0 : R1, 0, imm_form ? imm : 0);
    if (f->disc == EBPF_DISC_OFF)
        op.off = (int16_t)f->disc_value;
    else if (f->disc == EBPF_DISC_IMM)
        op.imm = f->disc_value;
    const struct ebpf_insn prog[] = {EBPF_LD_IMM64(R0, dst), EBPF_LD_IMM64(R1, src), op, EBPF_EXIT()};
    bool ok;
    uint64_t operand = unary ? 0 : imm_form ? ebpf_imm64(imm) : src;
    uint64_t want = ebpf_alu_eval((enum ebpf_insn_form)form, dst, operand, &ok);
    cr_assert(ok);
    uint64_t got = interp_run_both(vm, prog, EBPF_NWORDS(prog), NULL, 0);
    cr_assert_eq(got, want, "%s dst=0x%llx operand=0x%llx: got 0x%llx want 0x%llx", f->mnemonic,
                 (unsigned long long)dst, (unsigned long long)operand, (unsigned long long)got,
                 (unsigned long long)want);
}

Test(interp_alu, every_alu_form_matches_arith)
{
    ebpfvm_vm *vm = interp_test_vm();
    int forms_tested = 0;
    for (int form = 0; form < EBPF_OP_COUNT_; form++) {
        uint8_t fmt = ebpfvm__forms[form].format;
        if (fmt != EBPF_FMT_ALU_IMM && fmt != EBPF_FMT_ALU_REG && fmt != EBPF_FMT_ALU_UNARY &&
            fmt != EBPF_FMT_ENDIAN)
            continue;
        forms_tested++;
        for (size_t i = 0; i < EBPF_NWORDS(sweep_values); i += 3) {
            if (fmt == EBPF_FMT_ALU_IMM) {
                for (size_t k = 0; k < EBPF_NWORDS(sweep_imms); k++)
                    sweep_one(vm, form, sweep_values[i], 0, true, sweep_imms[k]);
            } else if (fmt != EBPF_FMT_ALU_REG) {
                sweep_one(vm, form, sweep_values[i], 0, false, 0);
            } else {
                for (size_t j = 0; j < EBPF_NWORDS(sweep_values); j++)
                    sweep_one(vm, form, sweep_values[i], sweep_values[j], false, 0);
            }
        }
    }
    cr_assert_eq(forms_tested, 72);
    ebpfvm_vm_destroy(vm);
}
