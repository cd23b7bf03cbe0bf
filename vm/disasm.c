/*
 * vm/disasm.c - text of one instruction, in two syntaxes:
 *
 *   EBPFVM_SYNTAX_LLVM  the C-like syntax of llvm-objdump and the kernel
 *                       verifier log: `r0 = *(u32 *)(r1 + 4)`, `if w1 s< 5
 *                       goto -2`, `lock *(u64 *)(r1 + 0) += r2`, ...
 *   EBPFVM_SYNTAX_ASM   the conformance suite's mnemonics, exactly what
 *                       loader/asm.c reads back: `ldxw %r0, [%r1+4]`.
 *
 * Owns no opcode facts: the form of a word comes from ebpfvm__form_of() over
 * EBPF_INSN_FORMS, the printing is chosen by the form's operand format, the
 * ASM mnemonic is the table's, and the LLVM operator symbols are indexed by
 * the op bits of the opcode (EBPF_OP) - no second opcode list.
 *
 * Invariants: the output buffer is always NUL terminated when size > 0
 * (text is truncated when it does not fit); nothing is allocated; numbers
 * print so that the assembler reads back the same field values (ALU/JMP
 * immediates as signed decimal, LD_IMM64 as 64-bit hex, offsets signed).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vm/internal.h"

/* An append-only text buffer over the caller's storage. */
struct text {
    char *buf;
    size_t size;
    size_t len;
};

static void text_add(struct text *t, const char *fmt, ...) EBPFVM_PRINTF(2, 3);

static void text_add(struct text *t, const char *fmt, ...)
{
    if (t->size == 0 || t->len >= t->size - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    t->len += (size_t)n;
    if (t->len > t->size - 1)
        t->len = t->size - 1;
}

/* LLVM operator of an ALU op (EBPF_OP(opcode) >> 4); atomics reuse it. */
static const char *const alu_symbol[16] = {
    "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "end", "?", "?",
};

/* LLVM comparison of a conditional jump (EBPF_OP(opcode) >> 4). */
static const char *const jmp_symbol[16] = {
    "goto", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<=", "?", "?",
};

/* Width names for LLVM memory operands: index is the access size in bytes. */
static const char *size_name(unsigned bytes, bool sign)
{
    switch (bytes) {
    case 1: return sign ? "s8" : "u8";
    case 2: return sign ? "s16" : "u16";
    case 4: return sign ? "s32" : "u32";
    default: return sign ? "s64" : "u64";
    }
}

/* "r" for 64-bit classes, "w" for the 32-bit ones (ALU, JMP32). */
static char reg_prefix(uint8_t opcode)
{
    uint8_t cls = EBPF_CLASS(opcode);
    return (cls == EBPF_CLASS_ALU || cls == EBPF_CLASS_JMP32) ? 'w' : 'r';
}

/* "base + off" / "base - off" for LLVM memory operands. */
static void add_mem_llvm(struct text *t, unsigned reg, int off)
{
    if (off < 0)
        text_add(t, "r%u - %ld", reg, -(long)off);
    else
        text_add(t, "r%u + %d", reg, off);
}

/* "[%rN+off]" / "[%rN-off]" for ASM memory operands. */
static void add_mem_asm(struct text *t, unsigned reg, int off)
{
    if (off < 0)
        text_add(t, "[%%r%u-%ld]", reg, -(long)off);
    else
        text_add(t, "[%%r%u+%d]", reg, off);
}

/* An atomic mnemonic ("fetch add32", "xchg") without "fetch " and the "32"
 * suffix, e.g. "add": the LLVM spelling of atomic_fetch_<op>. */
static void atomic_op_name(const char *mnemonic, char *out, size_t size)
{
    const char *s = mnemonic;
    if (strncmp(s, "fetch ", 6) == 0)
        s += 6;
    size_t n = strlen(s);
    if (n >= 2 && strcmp(s + n - 2, "32") == 0)
        n -= 2;
    if (n >= size)
        n = size - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static void disasm_llvm(struct text *t, const struct ebpf_insn *insn, int form, uint64_t imm64,
                        ebpfvm_helper_name_fn helper_name, void *helper_name_ud)
{
    const struct ebpfvm_form_info *f = &ebpfvm__forms[form];
    uint8_t op = insn->opcode;
    unsigned dst = insn->dst_reg, src = insn->src_reg;
    char rp = reg_prefix(op);

    switch ((enum ebpf_insn_format)f->format) {
    case EBPF_FMT_ALU_IMM:
        if (f->disc == EBPF_DISC_OFF && f->disc_value == 1) /* sdiv, smod */
            text_add(t, "%c%u s%s %d", rp, dst, alu_symbol[EBPF_OP(op) >> 4], insn->imm);
        else
            text_add(t, "%c%u %s %d", rp, dst, alu_symbol[EBPF_OP(op) >> 4], insn->imm);
        break;
    case EBPF_FMT_ALU_REG:
        if (EBPF_OP(op) == EBPF_ALU_MOV && insn->off != 0) /* movsx */
            text_add(t, "%c%u = (s%d)%c%u", rp, dst, insn->off, rp, src);
        else if (f->disc == EBPF_DISC_OFF && f->disc_value == 1)
            text_add(t, "%c%u s%s %c%u", rp, dst, alu_symbol[EBPF_OP(op) >> 4], rp, src);
        else
            text_add(t, "%c%u %s %c%u", rp, dst, alu_symbol[EBPF_OP(op) >> 4], rp, src);
        break;
    case EBPF_FMT_ALU_UNARY: text_add(t, "%c%u = -%c%u", rp, dst, rp, dst); break;
    case EBPF_FMT_ENDIAN: text_add(t, "r%u = %s r%u", dst, f->mnemonic, dst); break;
    case EBPF_FMT_LD_IMM64:
        switch (src) {
        case EBPF_PSEUDO_NONE: text_add(t, "r%u = 0x%llx ll", dst, (unsigned long long)imm64); break;
        case EBPF_PSEUDO_MAP_FD: text_add(t, "r%u = map[fd:%d]", dst, insn->imm); break;
        case EBPF_PSEUDO_MAP_IDX: text_add(t, "r%u = map[idx:%d]", dst, insn->imm); break;
        case EBPF_PSEUDO_MAP_VALUE:
            text_add(t, "r%u = map[fd:%d][0]+%u", dst, insn->imm, (unsigned)(imm64 >> 32));
            break;
        case EBPF_PSEUDO_MAP_IDX_VALUE:
            text_add(t, "r%u = map[idx:%d][0]+%u", dst, insn->imm, (unsigned)(imm64 >> 32));
            break;
        case EBPF_PSEUDO_FUNC: text_add(t, "r%u = func[pc%+d]", dst, insn->imm); break;
        case EBPF_PSEUDO_BTF_ID: text_add(t, "r%u = btf_id[%d]", dst, insn->imm); break;
        default: text_add(t, "r%u = 0x%llx ll /* src %u */", dst, (unsigned long long)imm64, src); break;
        }
        break;
    case EBPF_FMT_LD_ABS:
        text_add(t, "r0 = *(%s *)skb[%d]", size_name(ebpfvm__size_bytes(op), false), insn->imm);
        break;
    case EBPF_FMT_LD_IND:
        text_add(t, "r0 = *(%s *)skb[r%u + %d]", size_name(ebpfvm__size_bytes(op), false), src, insn->imm);
        break;
    case EBPF_FMT_LDX:
        text_add(t, "r%u = *(%s *)(", dst, size_name(ebpfvm__size_bytes(op), EBPF_MODE(op) == EBPF_MODE_MEMSX));
        add_mem_llvm(t, src, insn->off);
        text_add(t, ")");
        break;
    case EBPF_FMT_ST:
    case EBPF_FMT_STX:
        text_add(t, "*(%s *)(", size_name(ebpfvm__size_bytes(op), false));
        add_mem_llvm(t, dst, insn->off);
        if (f->format == EBPF_FMT_ST)
            text_add(t, ") = %d", insn->imm);
        else
            text_add(t, ") = r%u", src);
        break;
    case EBPF_FMT_ATOMIC: {
        unsigned bytes = ebpfvm__size_bytes(op);
        char wr = bytes == 8 ? 'r' : 'w';
        const char *suffix = bytes == 8 ? "64" : "32_32";
        char name[16];
        atomic_op_name(f->mnemonic, name, sizeof name);
        if (insn->imm == EBPF_ATOMIC_CMPXCHG) {
            text_add(t, "%c0 = cmpxchg%s(", wr, bytes == 8 ? "_64" : "32_32");
            add_mem_llvm(t, dst, insn->off);
            text_add(t, ", %c0, %c%u)", wr, wr, src);
        } else if (insn->imm == EBPF_ATOMIC_XCHG) {
            text_add(t, "%c%u = xchg%s%s(", wr, src, bytes == 8 ? "_" : "", suffix);
            add_mem_llvm(t, dst, insn->off);
            text_add(t, ", %c%u)", wr, src);
        } else if (insn->imm & EBPF_ATOMIC_FETCH) {
            text_add(t, "%c%u = atomic_fetch_%s((%s *)(", wr, src, name, size_name(bytes, false));
            add_mem_llvm(t, dst, insn->off);
            text_add(t, "), %c%u)", wr, src);
        } else {
            text_add(t, "lock *(%s *)(", size_name(bytes, false));
            add_mem_llvm(t, dst, insn->off);
            text_add(t, ") %s %c%u", alu_symbol[((unsigned)insn->imm & 0xf0u) >> 4], wr, src);
        }
        break;
    }
    case EBPF_FMT_JA: text_add(t, "goto %+d", insn->off); break;
    case EBPF_FMT_MAY_GOTO: text_add(t, "may_goto %+d", insn->off); break;
    case EBPF_FMT_JA32: text_add(t, "gotol %+d", insn->imm); break;
    case EBPF_FMT_JMP_IMM:
        text_add(t, "if %c%u %s %d goto %+d", rp, dst, jmp_symbol[EBPF_OP(op) >> 4], insn->imm, insn->off);
        break;
    case EBPF_FMT_JMP_REG:
        text_add(t, "if %c%u %s %c%u goto %+d", rp, dst, jmp_symbol[EBPF_OP(op) >> 4], rp, src, insn->off);
        break;
    case EBPF_FMT_CALL:
        if (src == EBPF_PSEUDO_CALL_LOCAL) {
            text_add(t, "call pc%+d", insn->imm);
        } else if (src == EBPF_PSEUDO_CALL_KFUNC) {
            if (insn->imm > 0 && insn->imm < EBPFVM_KFUNC_COUNT_) /* ebpfvm's: by name, as the kernel's log */
                text_add(t, "call %s", ebpfvm__kfuncs[insn->imm].name);
            else
                text_add(t, "call kfunc %d", insn->imm);
        } else {
            const char *name = helper_name ? helper_name(helper_name_ud, insn->imm) : NULL;
            if (name)
                text_add(t, "call %s", name);
            else
                text_add(t, "call %d", insn->imm);
        }
        break;
    case EBPF_FMT_CALLX: text_add(t, "callx r%u", dst); break;
    case EBPF_FMT_EXIT: text_add(t, "exit"); break;
    }
}

static void disasm_asm(struct text *t, const struct ebpf_insn *insn, int form, uint64_t imm64)
{
    const struct ebpfvm_form_info *f = &ebpfvm__forms[form];
    unsigned dst = insn->dst_reg, src = insn->src_reg;

    switch ((enum ebpf_insn_format)f->format) {
    case EBPF_FMT_ALU_IMM: text_add(t, "%s %%r%u, %d", f->mnemonic, dst, insn->imm); break;
    case EBPF_FMT_ALU_REG: text_add(t, "%s %%r%u, %%r%u", f->mnemonic, dst, src); break;
    case EBPF_FMT_ALU_UNARY:
    case EBPF_FMT_ENDIAN: text_add(t, "%s %%r%u", f->mnemonic, dst); break;
    case EBPF_FMT_LD_IMM64:
        switch (src) {
        case EBPF_PSEUDO_NONE: text_add(t, "lddw %%r%u, 0x%llx", dst, (unsigned long long)imm64); break;
        case EBPF_PSEUDO_MAP_FD: text_add(t, "lddw %%r%u, map_fd %d", dst, insn->imm); break;
        case EBPF_PSEUDO_MAP_IDX: text_add(t, "lddw %%r%u, map_idx %d", dst, insn->imm); break;
        case EBPF_PSEUDO_MAP_VALUE:
            text_add(t, "lddw %%r%u, map_value %d, %d", dst, insn->imm, (int32_t)(uint32_t)(imm64 >> 32));
            break;
        case EBPF_PSEUDO_MAP_IDX_VALUE:
            text_add(t, "lddw %%r%u, map_idx_value %d, %d", dst, insn->imm, (int32_t)(uint32_t)(imm64 >> 32));
            break;
        case EBPF_PSEUDO_FUNC: text_add(t, "lddw %%r%u, func %+d", dst, insn->imm); break;
        default:
            text_add(t, "lddw %%r%u, 0x%llx # src %u", dst, (unsigned long long)imm64, src);
            break;
        }
        break;
    case EBPF_FMT_LD_ABS: text_add(t, "%s %d", f->mnemonic, insn->imm); break;
    case EBPF_FMT_LD_IND: text_add(t, "%s %%r%u, %d", f->mnemonic, src, insn->imm); break;
    case EBPF_FMT_LDX:
        text_add(t, "%s %%r%u, ", f->mnemonic, dst);
        add_mem_asm(t, src, insn->off);
        break;
    case EBPF_FMT_ST:
        text_add(t, "%s ", f->mnemonic);
        add_mem_asm(t, dst, insn->off);
        text_add(t, ", %d", insn->imm);
        break;
    case EBPF_FMT_STX:
        text_add(t, "%s ", f->mnemonic);
        add_mem_asm(t, dst, insn->off);
        text_add(t, ", %%r%u", src);
        break;
    case EBPF_FMT_ATOMIC:
        text_add(t, "lock %s ", f->mnemonic);
        add_mem_asm(t, dst, insn->off);
        text_add(t, ", %%r%u", src);
        break;
    case EBPF_FMT_JA:
    case EBPF_FMT_MAY_GOTO: text_add(t, "%s %+d", f->mnemonic, insn->off); break;
    case EBPF_FMT_JA32: text_add(t, "%s %+d", f->mnemonic, insn->imm); break;
    case EBPF_FMT_JMP_IMM: text_add(t, "%s %%r%u, %d, %+d", f->mnemonic, dst, insn->imm, insn->off); break;
    case EBPF_FMT_JMP_REG: text_add(t, "%s %%r%u, %%r%u, %+d", f->mnemonic, dst, src, insn->off); break;
    case EBPF_FMT_CALL:
        if (src == EBPF_PSEUDO_CALL_LOCAL)
            text_add(t, "%s local %+d", f->mnemonic, insn->imm);
        else if (src == EBPF_PSEUDO_CALL_KFUNC)
            text_add(t, "%s kfunc %d", f->mnemonic, insn->imm);
        else
            text_add(t, "%s %d", f->mnemonic, insn->imm);
        break;
    case EBPF_FMT_CALLX: text_add(t, "%s %%r%u", f->mnemonic, dst); break;
    case EBPF_FMT_EXIT: text_add(t, "%s", f->mnemonic); break;
    }
}

int ebpfvm_disasm_insn(const struct ebpf_insn *insns, size_t count, size_t pc, enum ebpfvm_disasm_syntax syntax,
                       ebpfvm_helper_name_fn helper_name, void *helper_name_ud, char *buf, size_t size)
{
    if (!insns || pc >= count || (size > 0 && !buf) ||
        (syntax != EBPFVM_SYNTAX_LLVM && syntax != EBPFVM_SYNTAX_ASM))
        return EBPFVM_ERR_INVAL;
    struct text t = {buf, size, 0};
    if (size > 0)
        buf[0] = '\0';

    const struct ebpf_insn *insn = &insns[pc];
    int form = ebpfvm__form_of(insn);
    if (form < 0) {
        text_add(&t, "invalid opcode 0x%02x", insn->opcode);
        return EBPFVM_ERR_BADPROG;
    }
    int words = 1;
    uint64_t imm64 = (uint64_t)(uint32_t)insn->imm;
    if (ebpfvm__forms[form].format == EBPF_FMT_LD_IMM64) {
        if (pc + 1 >= count) {
            text_add(&t, "invalid opcode 0x%02x: lddw without its second word", insn->opcode);
            return EBPFVM_ERR_BADPROG;
        }
        imm64 |= (uint64_t)(uint32_t)insns[pc + 1].imm << 32;
        words = 2;
    }
    if (syntax == EBPFVM_SYNTAX_LLVM)
        disasm_llvm(&t, insn, form, imm64, helper_name, helper_name_ud);
    else
        disasm_asm(&t, insn, form, imm64);
    return words;
}
