/*
 * tests/test_disasm.c - ebpfvm_disasm_insn (vm/disasm.c): the exact text of
 * representative instructions of every operand format in both syntaxes,
 * that the ASM text assembles back to the same words, the helper-name
 * callback, truncation, and the error returns.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>

#include "insn.h"

struct row {
    struct ebpf_insn words[2];
    const char *llvm;
    const char *asm_text;
};

#define R1(w, llvm, asm_text) {{w, EBPF_RAW(0, 0, 0, 0, 0)}, llvm, asm_text}
#define R2(w0, w1, llvm, asm_text) {{w0, w1}, llvm, asm_text}

static const struct row rows[] = {
    /* ALU_IMM / ALU_REG, 64 and 32 bits, signed forms */
    R1(EBPF_RAW(0x07, 1, 0, 0, 5), "r1 += 5", "add %r1, 5"),
    R1(EBPF_RAW(0x04, 1, 0, 0, 5), "w1 += 5", "add32 %r1, 5"),
    R1(EBPF_RAW(0x0f, 1, 2, 0, 0), "r1 += r2", "add %r1, %r2"),
    R1(EBPF_RAW(0x1c, 1, 2, 0, 0), "w1 -= w2", "sub32 %r1, %r2"),
    R1(EBPF_RAW(0xb7, 0, 0, 0, -1), "r0 = -1", "mov %r0, -1"),
    R1(EBPF_RAW(0xbc, 1, 2, 0, 0), "w1 = w2", "mov32 %r1, %r2"),
    R1(EBPF_RAW(0x67, 3, 0, 0, 63), "r3 <<= 63", "lsh %r3, 63"),
    R1(EBPF_RAW(0x7c, 3, 4, 0, 0), "w3 >>= w4", "rsh32 %r3, %r4"),
    R1(EBPF_RAW(0xc7, 1, 0, 0, 3), "r1 s>>= 3", "arsh %r1, 3"),
    R1(EBPF_RAW(0x3f, 1, 2, 1, 0), "r1 s/= r2", "sdiv %r1, %r2"),
    R1(EBPF_RAW(0x94, 1, 0, 1, -3), "w1 s%= -3", "smod32 %r1, -3"),
    R1(EBPF_RAW(0x97, 1, 0, 0, 7), "r1 %= 7", "mod %r1, 7"),
    R1(EBPF_RAW(0x27, 1, 0, 0, 2), "r1 *= 2", "mul %r1, 2"),
    R1(EBPF_RAW(0x34, 1, 0, 0, 2), "w1 /= 2", "div32 %r1, 2"),
    R1(EBPF_RAW(0x47, 1, 0, 0, 2), "r1 |= 2", "or %r1, 2"),
    R1(EBPF_RAW(0x5f, 1, 9, 0, 0), "r1 &= r9", "and %r1, %r9"),
    R1(EBPF_RAW(0xa4, 1, 0, 0, -1), "w1 ^= -1", "xor32 %r1, -1"),
    R1(EBPF_RAW(0xbf, 1, 2, 8, 0), "r1 = (s8)r2", "movsx864 %r1, %r2"),
    R1(EBPF_RAW(0xbf, 1, 2, 32, 0), "r1 = (s32)r2", "movsx3264 %r1, %r2"),
    R1(EBPF_RAW(0xbc, 1, 2, 16, 0), "w1 = (s16)w2", "movsx1632 %r1, %r2"),
    /* ALU_UNARY, ENDIAN */
    R1(EBPF_RAW(0x87, 1, 0, 0, 0), "r1 = -r1", "neg %r1"),
    R1(EBPF_RAW(0x84, 1, 0, 0, 0), "w1 = -w1", "neg32 %r1"),
    R1(EBPF_RAW(0xdc, 1, 0, 0, 16), "r1 = be16 r1", "be16 %r1"),
    R1(EBPF_RAW(0xd4, 2, 0, 0, 64), "r2 = le64 r2", "le64 %r2"),
    R1(EBPF_RAW(0xd7, 1, 0, 0, 32), "r1 = bswap32 r1", "bswap32 %r1"),
    /* LD_IMM64 and its pseudo forms */
    R2(EBPF_RAW(0x18, 1, 0, 0, 0x55667788), EBPF_RAW(0, 0, 0, 0, 0x11223344), "r1 = 0x1122334455667788 ll",
       "lddw %r1, 0x1122334455667788"),
    R2(EBPF_RAW(0x18, 0, 0, 0, -1), EBPF_RAW(0, 0, 0, 0, -1), "r0 = 0xffffffffffffffff ll",
       "lddw %r0, 0xffffffffffffffff"),
    R2(EBPF_RAW(0x18, 1, 1, 0, 3), EBPF_RAW(0, 0, 0, 0, 0), "r1 = map[fd:3]", "lddw %r1, map_fd 3"),
    R2(EBPF_RAW(0x18, 1, 5, 0, 0), EBPF_RAW(0, 0, 0, 0, 0), "r1 = map[idx:0]", "lddw %r1, map_idx 0"),
    R2(EBPF_RAW(0x18, 2, 2, 0, 3), EBPF_RAW(0, 0, 0, 0, 8), "r2 = map[fd:3][0]+8", "lddw %r2, map_value 3, 8"),
    R2(EBPF_RAW(0x18, 2, 6, 0, 1), EBPF_RAW(0, 0, 0, 0, 4), "r2 = map[idx:1][0]+4",
       "lddw %r2, map_idx_value 1, 4"),
    R2(EBPF_RAW(0x18, 3, 4, 0, 5), EBPF_RAW(0, 0, 0, 0, 0), "r3 = func[pc+5]", "lddw %r3, func +5"),
    /* LD_ABS, LD_IND */
    R1(EBPF_RAW(0x30, 0, 0, 0, 14), "r0 = *(u8 *)skb[14]", "ldabsb 14"),
    R1(EBPF_RAW(0x20, 0, 0, 0, 26), "r0 = *(u32 *)skb[26]", "ldabsw 26"),
    R1(EBPF_RAW(0x48, 0, 3, 0, 2), "r0 = *(u16 *)skb[r3 + 2]", "ldindh %r3, 2"),
    /* LDX (and sign-extending), ST, STX */
    R1(EBPF_RAW(0x61, 0, 1, 4, 0), "r0 = *(u32 *)(r1 + 4)", "ldxw %r0, [%r1+4]"),
    R1(EBPF_RAW(0x79, 0, 10, -8, 0), "r0 = *(u64 *)(r10 - 8)", "ldxdw %r0, [%r10-8]"),
    R1(EBPF_RAW(0x89, 0, 1, 2, 0), "r0 = *(s16 *)(r1 + 2)", "ldxsh %r0, [%r1+2]"),
    R1(EBPF_RAW(0x91, 2, 1, 0, 0), "r2 = *(s8 *)(r1 + 0)", "ldxsb %r2, [%r1+0]"),
    R1(EBPF_RAW(0x6a, 1, 0, 2, 17), "*(u16 *)(r1 + 2) = 17", "sth [%r1+2], 17"),
    R1(EBPF_RAW(0x7a, 10, 0, -16, -1), "*(u64 *)(r10 - 16) = -1", "stdw [%r10-16], -1"),
    R1(EBPF_RAW(0x73, 10, 1, -8, 0), "*(u8 *)(r10 - 8) = r1", "stxb [%r10-8], %r1"),
    R1(EBPF_RAW(0x63, 1, 2, 32767, 0), "*(u32 *)(r1 + 32767) = r2", "stxw [%r1+32767], %r2"),
    R1(EBPF_RAW(0x6b, 1, 2, -32768, 0), "*(u16 *)(r1 - 32768) = r2", "stxh [%r1-32768], %r2"),
    /* ATOMIC */
    R1(EBPF_RAW(0xdb, 1, 2, 0, 0x00), "lock *(u64 *)(r1 + 0) += r2", "lock add [%r1+0], %r2"),
    R1(EBPF_RAW(0xc3, 1, 2, 4, 0x40), "lock *(u32 *)(r1 + 4) |= w2", "lock or32 [%r1+4], %r2"),
    R1(EBPF_RAW(0xdb, 1, 2, -8, 0x50), "lock *(u64 *)(r1 - 8) &= r2", "lock and [%r1-8], %r2"),
    R1(EBPF_RAW(0xc3, 1, 2, 0, 0xa0), "lock *(u32 *)(r1 + 0) ^= w2", "lock xor32 [%r1+0], %r2"),
    R1(EBPF_RAW(0xdb, 1, 0, 0, 0x01), "r0 = atomic_fetch_add((u64 *)(r1 + 0), r0)", "lock fetch add [%r1+0], %r0"),
    R1(EBPF_RAW(0xc3, 1, 3, -4, 0xa1), "w3 = atomic_fetch_xor((u32 *)(r1 - 4), w3)",
       "lock fetch xor32 [%r1-4], %r3"),
    R1(EBPF_RAW(0xdb, 1, 2, 0, 0xf1), "r0 = cmpxchg_64(r1 + 0, r0, r2)", "lock cmpxchg [%r1+0], %r2"),
    R1(EBPF_RAW(0xc3, 1, 2, 0, 0xf1), "w0 = cmpxchg32_32(r1 + 0, w0, w2)", "lock cmpxchg32 [%r1+0], %r2"),
    R1(EBPF_RAW(0xdb, 1, 2, 0, 0xe1), "r2 = xchg_64(r1 + 0, r2)", "lock xchg [%r1+0], %r2"),
    R1(EBPF_RAW(0xc3, 1, 2, 8, 0xe1), "w2 = xchg32_32(r1 + 8, w2)", "lock xchg32 [%r1+8], %r2"),
    /* JA, JA32, JMP_IMM, JMP_REG */
    R1(EBPF_RAW(0x05, 0, 0, 1, 0), "goto +1", "ja +1"),
    R1(EBPF_RAW(0x05, 0, 0, -3, 0), "goto -3", "ja -3"),
    R1(EBPF_RAW(0x06, 0, 0, 0, 100000), "gotol +100000", "ja32 +100000"),
    R1(EBPF_RAW(0xe5, 0, 0, -3, 0), "may_goto -3", "may_goto -3"),
    R1(EBPF_RAW(0x2d, 1, 2, 3, 0), "if r1 > r2 goto +3", "jgt %r1, %r2, +3"),
    R1(EBPF_RAW(0xc6, 1, 0, -2, 5), "if w1 s< 5 goto -2", "jslt32 %r1, 5, -2"),
    R1(EBPF_RAW(0x15, 1, 0, 0, 11), "if r1 == 11 goto +0", "jeq %r1, 11, +0"),
    R1(EBPF_RAW(0x45, 1, 0, 1, 8), "if r1 & 8 goto +1", "jset %r1, 8, +1"),
    R1(EBPF_RAW(0x5e, 0, 1, 3, 0), "if w0 != w1 goto +3", "jne32 %r0, %r1, +3"),
    R1(EBPF_RAW(0x75, 1, 0, 1, -1), "if r1 s>= -1 goto +1", "jsge %r1, -1, +1"),
    R1(EBPF_RAW(0xbd, 1, 2, 1, 0), "if r1 <= r2 goto +1", "jle %r1, %r2, +1"),
    /* CALL, CALLX, EXIT */
    R1(EBPF_RAW(0x85, 0, 0, 0, 5), "call 5", "call 5"),
    R1(EBPF_RAW(0x85, 0, 1, 0, 3), "call pc+3", "call local +3"),
    R1(EBPF_RAW(0x85, 0, 1, 0, -7), "call pc-7", "call local -7"),
    R1(EBPF_RAW(0x85, 0, 2, 0, 2), "call bpf_iter_num_next", "call kfunc 2"),
    R1(EBPF_RAW(0x85, 0, 2, 0, 77), "call kfunc 77", "call kfunc 77"),
    R1(EBPF_RAW(0x8d, 2, 0, 0, 0), "callx r2", "callx %r2"),
    R1(EBPF_RAW(0x95, 0, 0, 0, 0), "exit", "exit"),
};

static size_t row_words(const struct row *r)
{
    return r->words[0].opcode == 0x18 ? 2 : 1;
}

Test(disasm, llvm_syntax_of_every_format)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[128];
        int n = ebpfvm_disasm_insn(rows[i].words, row_words(&rows[i]), 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf,
                                   sizeof buf);
        cr_expect_eq(n, (int)row_words(&rows[i]), "row %zu (%s): returned %d", i, rows[i].llvm, n);
        cr_expect_str_eq(buf, rows[i].llvm, "row %zu", i);
    }
}

Test(disasm, asm_syntax_of_every_format)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[128];
        int n = ebpfvm_disasm_insn(rows[i].words, row_words(&rows[i]), 0, EBPFVM_SYNTAX_ASM, NULL, NULL, buf,
                                   sizeof buf);
        cr_expect_eq(n, (int)row_words(&rows[i]), "row %zu (%s): returned %d", i, rows[i].asm_text, n);
        cr_expect_str_eq(buf, rows[i].asm_text, "row %zu", i);
    }
}

Test(disasm, asm_text_assembles_to_the_same_words)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ebpf_insn *out = NULL;
        size_t count = 0;
        cr_assert_eq(ebpfvm_assemble(vm, rows[i].asm_text, &out, &count), 0, "%s: %s", rows[i].asm_text,
                     ebpfvm_vm_errmsg(vm));
        cr_assert_eq(count, row_words(&rows[i]), "%s", rows[i].asm_text);
        cr_assert_eq(memcmp(out, rows[i].words, count * sizeof *out), 0, "%s: words differ", rows[i].asm_text);
        ebpfvm_free(vm, out);
    }
    ebpfvm_vm_destroy(vm);
}

/* Every form of the table disassembles (a word built from the form's own
 * opcode and discriminator) in both syntaxes. */
Test(disasm, every_form_of_the_table)
{
    static const struct {
        uint8_t opcode;
        int disc;
        int32_t value;
    } forms[] = {
#define X_FORM(id, code, disc, dval, mn, fmt, grp, ver) {(code), (disc), (dval)},
        EBPF_INSN_FORMS(X_FORM)
#undef X_FORM
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct ebpf_insn w[2] = {EBPF_RAW(forms[i].opcode, 1, 2, 0, 0), EBPF_RAW(0, 0, 0, 0, 0)};
        if (forms[i].disc == EBPF_DISC_OFF)
            w[0].off = (int16_t)forms[i].value;
        else if (forms[i].disc == EBPF_DISC_IMM)
            w[0].imm = forms[i].value;
        else if (forms[i].disc == EBPF_DISC_SRC)
            w[0].src_reg = (uint8_t)forms[i].value;
        if (forms[i].opcode == 0x18)
            w[0].src_reg = 0;
        for (int syntax = EBPFVM_SYNTAX_LLVM; syntax <= EBPFVM_SYNTAX_ASM; syntax++) {
            char buf[128];
            int n = ebpfvm_disasm_insn(w, 2, 0, (enum ebpfvm_disasm_syntax)syntax, NULL, NULL, buf, sizeof buf);
            cr_assert_gt(n, 0, "form %zu (opcode 0x%02x): %s", i, forms[i].opcode, buf);
            cr_assert_eq(strchr(buf, '?'), NULL, "form %zu: %s", i, buf);
        }
    }
}

static const char *helper_names(void *ud, int32_t id)
{
    cr_assert_eq(ud, (void *)helper_names);
    return id == 1 ? "map_lookup_elem" : NULL;
}

Test(disasm, helper_names_come_from_the_callback)
{
    struct ebpf_insn prog[] = {EBPF_RAW(0x85, 0, 0, 0, 1), EBPF_RAW(0x85, 0, 0, 0, 6)};
    char buf[64];
    cr_assert_eq(ebpfvm_disasm_insn(prog, 2, 0, EBPFVM_SYNTAX_LLVM, helper_names, (void *)helper_names, buf,
                                    sizeof buf), 1);
    cr_assert_str_eq(buf, "call map_lookup_elem");
    cr_assert_eq(ebpfvm_disasm_insn(prog, 2, 1, EBPFVM_SYNTAX_LLVM, helper_names, (void *)helper_names, buf,
                                    sizeof buf), 1);
    cr_assert_str_eq(buf, "call 6");
    /* The ASM syntax keeps the number, which the assembler reads back. */
    cr_assert_eq(ebpfvm_disasm_insn(prog, 2, 0, EBPFVM_SYNTAX_ASM, helper_names, (void *)helper_names, buf,
                                    sizeof buf), 1);
    cr_assert_str_eq(buf, "call 1");
}

Test(disasm, pc_selects_the_instruction)
{
    struct ebpf_insn prog[] = {EBPF_RAW(0x18, 1, 0, 0, 7), EBPF_RAW(0, 0, 0, 0, 0), EBPF_RAW(0x95, 0, 0, 0, 0)};
    char buf[64];
    cr_assert_eq(ebpfvm_disasm_insn(prog, 3, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf), 2);
    cr_assert_str_eq(buf, "r1 = 0x7 ll");
    cr_assert_eq(ebpfvm_disasm_insn(prog, 3, 2, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf), 1);
    cr_assert_str_eq(buf, "exit");
}

Test(disasm, truncates_to_the_buffer)
{
    struct ebpf_insn insn = EBPF_RAW(0x61, 0, 1, 4, 0);
    char buf[8];
    memset(buf, 'x', sizeof buf);
    cr_assert_eq(ebpfvm_disasm_insn(&insn, 1, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf), 1);
    cr_assert_str_eq(buf, "r0 = *(");
    cr_assert_eq(ebpfvm_disasm_insn(&insn, 1, 0, EBPFVM_SYNTAX_ASM, NULL, NULL, buf, 1), 1);
    cr_assert_str_eq(buf, "");
    cr_assert_eq(ebpfvm_disasm_insn(&insn, 1, 0, EBPFVM_SYNTAX_ASM, NULL, NULL, NULL, 0), 1);
}

Test(disasm, errors)
{
    char buf[64];
    struct ebpf_insn bad = EBPF_RAW(0xff, 0, 0, 0, 0);
    cr_assert_eq(ebpfvm_disasm_insn(&bad, 1, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf),
                 EBPFVM_ERR_BADPROG);
    cr_assert_str_eq(buf, "invalid opcode 0xff");
    /* A valid opcode with a discriminator no form has (be with imm 8). */
    struct ebpf_insn be8 = EBPF_RAW(0xdc, 1, 0, 0, 8);
    cr_assert_eq(ebpfvm_disasm_insn(&be8, 1, 0, EBPFVM_SYNTAX_ASM, NULL, NULL, buf, sizeof buf),
                 EBPFVM_ERR_BADPROG);
    cr_assert_str_eq(buf, "invalid opcode 0xdc");
    struct ebpf_insn lddw = EBPF_RAW(0x18, 1, 0, 0, 1);
    cr_assert_eq(ebpfvm_disasm_insn(&lddw, 1, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf),
                 EBPFVM_ERR_BADPROG);
    cr_assert_str_eq(buf, "invalid opcode 0x18: lddw without its second word");

    struct ebpf_insn ok = EBPF_RAW(0x95, 0, 0, 0, 0);
    cr_assert_eq(ebpfvm_disasm_insn(NULL, 1, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_disasm_insn(&ok, 1, 1, EBPFVM_SYNTAX_LLVM, NULL, NULL, buf, sizeof buf), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_disasm_insn(&ok, 1, 0, (enum ebpfvm_disasm_syntax)7, NULL, NULL, buf, sizeof buf),
                 EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_disasm_insn(&ok, 1, 0, EBPFVM_SYNTAX_LLVM, NULL, NULL, NULL, sizeof buf), EBPFVM_ERR_INVAL);
}
