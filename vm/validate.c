/*
 * vm/validate.c - load-time checks that need no verifier, and decoding.
 *
 * Owns ebpfvm__validate_and_decode(): every instruction word of a program is
 * matched against EBPF_INSN_FORMS (through ebpfvm__form_of), checked for the
 * fields its operand format does not use (they must be zero), for register
 * numbers, writes to the frame pointer, jump and call targets, LD_IMM64
 * pairs and pseudo references, helper IDs, and fall-through off the end.
 * Each rejection names the instruction ("insn N: ...") and the reason.
 *
 * On success prog->code holds the decoded program and the invariants listed
 * in vm/internal.h hold, so the interpreter needs no structural checks:
 *   - code[i].form is a valid form, or EBPF_OP_COUNT_ for an LD_IMM64 tail;
 *   - registers are <= 10 and no instruction writes r10;
 *   - u.target of jumps / local calls is a valid, non-tail instruction index;
 *   - the conditional jumps' comparison immediate is in `off` (u holds the
 *     target), sign-extended at use;
 *   - CALL with src 0 names a registered helper (u.imm = its id);
 *   - the last instruction is EXIT or an unconditional jump.
 */
#include <string.h>

#include "vm/internal.h"

/* Which instruction fields (besides the opcode) an operand format uses. */
enum {
    USES_DST = 1u << 0,
    USES_SRC = 1u << 1,
    USES_OFF = 1u << 2,
    USES_IMM = 1u << 3
};

static unsigned format_fields(enum ebpf_insn_format fmt)
{
    switch (fmt) {
    case EBPF_FMT_ALU_IMM: return USES_DST | USES_OFF | USES_IMM; /* off: discriminator */
    case EBPF_FMT_ALU_REG: return USES_DST | USES_SRC | USES_OFF;
    case EBPF_FMT_ALU_UNARY: return USES_DST;
    case EBPF_FMT_ENDIAN: return USES_DST | USES_IMM;
    case EBPF_FMT_LD_IMM64: return USES_DST | USES_SRC | USES_IMM;
    case EBPF_FMT_LD_ABS: return USES_IMM;
    case EBPF_FMT_LD_IND: return USES_SRC | USES_IMM;
    case EBPF_FMT_LDX: return USES_DST | USES_SRC | USES_OFF;
    case EBPF_FMT_ST: return USES_DST | USES_OFF | USES_IMM;
    case EBPF_FMT_STX: return USES_DST | USES_SRC | USES_OFF;
    case EBPF_FMT_ATOMIC: return USES_DST | USES_SRC | USES_OFF | USES_IMM;
    case EBPF_FMT_JA: return USES_OFF;
    case EBPF_FMT_MAY_GOTO: return USES_OFF; /* src: the discriminator (0) */
    case EBPF_FMT_JA32: return USES_IMM;
    case EBPF_FMT_JMP_IMM: return USES_DST | USES_OFF | USES_IMM;
    case EBPF_FMT_JMP_REG: return USES_DST | USES_SRC | USES_OFF;
    case EBPF_FMT_CALL: return USES_SRC | USES_IMM; /* src: helper/local/kfunc */
    case EBPF_FMT_CALLX: return USES_DST;
    case EBPF_FMT_EXIT: return 0;
    }
    return 0;
}

/* Formats whose dst field is a register the instruction writes. */
static bool format_writes_dst(enum ebpf_insn_format fmt)
{
    switch (fmt) {
    case EBPF_FMT_ALU_IMM:
    case EBPF_FMT_ALU_REG:
    case EBPF_FMT_ALU_UNARY:
    case EBPF_FMT_ENDIAN:
    case EBPF_FMT_LD_IMM64:
    case EBPF_FMT_LDX:
        return true;
    default:
        return false;
    }
}

/* Formats whose src field names a register (not a pseudo/call kind). */
static bool format_src_is_reg(enum ebpf_insn_format fmt)
{
    return fmt != EBPF_FMT_LD_IMM64 && fmt != EBPF_FMT_CALL;
}

/* The rejection for a word that matches no form: an unknown opcode byte, or
 * a known one whose discriminating field has a value no form accepts. */
static int reject_unknown(struct ebpfvm_vm *vm, size_t pc, const struct ebpf_insn *insn)
{
    for (int i = 0; i < EBPF_OP_COUNT_; i++) {
        const struct ebpfvm_form_info *f = &ebpfvm__forms[i];
        if (f->opcode != insn->opcode)
            continue;
        switch (f->disc) {
        case EBPF_DISC_OFF:
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: invalid off %d for opcode 0x%02x", pc,
                                 insn->off, insn->opcode);
        case EBPF_DISC_IMM:
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: invalid imm %d for opcode 0x%02x", pc,
                                 insn->imm, insn->opcode);
        case EBPF_DISC_SRC:
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: invalid src_reg %d for opcode 0x%02x", pc,
                                 insn->src_reg, insn->opcode);
        default:
            break;
        }
    }
    return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: unknown opcode 0x%02x", pc, insn->opcode);
}

/* Unused fields must be zero (the kernel's "uses reserved fields"). */
static int check_reserved(struct ebpfvm_vm *vm, size_t pc, const struct ebpf_insn *insn, const char *mnemonic,
                          unsigned uses)
{
    const char *field = NULL;
    if (!(uses & USES_DST) && insn->dst_reg != 0)
        field = "dst_reg";
    else if (!(uses & USES_SRC) && insn->src_reg != 0)
        field = "src_reg";
    else if (!(uses & USES_OFF) && insn->off != 0)
        field = "off";
    else if (!(uses & USES_IMM) && insn->imm != 0)
        field = "imm";
    if (field)
        return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: %s uses reserved fields (%s must be 0)", pc,
                             mnemonic, field);
    return 0;
}

/* Whether the instruction writes r10. Not refused here: like the kernel,
 * only a write on a path the verifier explores makes a program invalid
 * ("frame pointer is read only"); the load records the first one
 * (prog->fp_write_pc) and unverified runs and the JIT refuse the program. */
static bool writes_fp(const struct ebpf_insn *insn, enum ebpf_insn_format fmt, int form)
{
    if (format_writes_dst(fmt) && insn->dst_reg == EBPF_REG_FP)
        return true;
    /* Fetching atomics (not cmpxchg, which writes r0) load into src. */
    return fmt == EBPF_FMT_ATOMIC && (ebpfvm__forms[form].disc_value & EBPF_ATOMIC_FETCH) &&
           ebpfvm__forms[form].disc_value != EBPF_ATOMIC_CMPXCHG && insn->src_reg == EBPF_REG_FP;
}

static int check_registers(struct ebpfvm_vm *vm, size_t pc, const struct ebpf_insn *insn,
                           enum ebpf_insn_format fmt, unsigned uses)
{
    if ((uses & USES_DST) && insn->dst_reg >= EBPF_NREGS)
        return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: invalid register r%d", pc, insn->dst_reg);
    if ((uses & USES_SRC) && format_src_is_reg(fmt) && insn->src_reg >= EBPF_NREGS)
        return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: invalid register r%d", pc, insn->src_reg);
    return 0;
}

/* Resolve a pseudo LD_IMM64 (words pc and pc + 1) into its 64-bit value. */
static int decode_ld_imm64(struct ebpfvm_vm *vm, struct ebpfvm_prog *prog, size_t pc, uint64_t *value)
{
    const struct ebpf_insn *lo = &prog->insns[pc], *hi = &prog->insns[pc + 1];
    switch (lo->src_reg) {
    case EBPF_PSEUDO_NONE:
        *value = (uint64_t)(uint32_t)lo->imm | ((uint64_t)(uint32_t)hi->imm << 32);
        return 0;
    case EBPF_PSEUDO_MAP_FD:
    case EBPF_PSEUDO_MAP_IDX:
    case EBPF_PSEUDO_MAP_VALUE:
    case EBPF_PSEUDO_MAP_IDX_VALUE: {
        bool direct = lo->src_reg == EBPF_PSEUDO_MAP_VALUE || lo->src_reg == EBPF_PSEUDO_MAP_IDX_VALUE;
        if (lo->imm < 0 || (uint32_t)lo->imm >= vm->nmaps || !vm->maps[lo->imm])
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: ld_imm64 refers to map %d, which does not exist",
                                 pc, lo->imm);
        struct ebpfvm_map *map = vm->maps[lo->imm];
        if (!direct) {
            if (hi->imm != 0)
                return ebpfvm__error(vm, EBPFVM_ERR_BADPROG,
                                     "insn %zu: ld_imm64 map reference with non-zero second imm %d", pc, hi->imm);
            *value = (uint64_t)(uintptr_t)map;
            return 0;
        }
        uint64_t addr = 0;
        if (ebpfvm__map_direct_value(map, (uint32_t)hi->imm, &addr) != 0)
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG,
                                 "insn %zu: ld_imm64 direct value access to map %d at offset %u is not allowed", pc,
                                 lo->imm, (uint32_t)hi->imm);
        *value = addr;
        return 0;
    }
    case EBPF_PSEUDO_BTF_ID:
        return ebpfvm__error(vm, EBPFVM_ERR_UNSUPP, "insn %zu: ld_imm64 of a BTF id (src_reg 3) is not supported",
                             pc);
    case EBPF_PSEUDO_FUNC: {
        int64_t target = (int64_t)pc + 1 + lo->imm;
        if (target < 0 || (uint64_t)target >= prog->count)
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: ld_imm64 function reference out of range to %lld",
                                 pc, (long long)target);
        *value = (uint64_t)target; /* checked against LD_IMM64 tails in the second pass */
        return 0;
    }
    default:
        return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: ld_imm64 with unknown src_reg %d", pc,
                             lo->src_reg);
    }
}

static int decode_call(struct ebpfvm_vm *vm, struct ebpfvm_prog *prog, size_t pc, struct ebpfvm_dinsn *d)
{
    const struct ebpf_insn *insn = &prog->insns[pc];
    switch (insn->src_reg) {
    case EBPF_PSEUDO_CALL_HELPER:
        if (insn->imm <= 0 || insn->imm > EBPFVM_MAX_HELPER_ID || !vm->helpers || !vm->helpers[insn->imm].fn)
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: unknown helper %d", pc, insn->imm);
        d->u.imm = insn->imm;
        return 0;
    case EBPF_PSEUDO_CALL_LOCAL: {
        int64_t target = (int64_t)pc + 1 + insn->imm;
        if (target < 0 || (uint64_t)target >= prog->count)
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: local call out of range to %lld", pc,
                                 (long long)target);
        d->u.target = (uint32_t)target;
        return 0;
    }
    case EBPF_PSEUDO_CALL_KFUNC:
        if (insn->imm <= 0 || insn->imm >= EBPFVM_KFUNC_COUNT_ || insn->off != 0)
            return ebpfvm__error(vm, EBPFVM_ERR_UNSUPP,
                                 "insn %zu: kfunc call (src_reg 2, id %d) is not one of ebpfvm's kfuncs", pc,
                                 insn->imm);
        d->u.imm = insn->imm;
        return 0;
    default:
        return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: call with invalid src_reg %d", pc, insn->src_reg);
    }
}

/* Decode one jump's target (relative `rel`, from the word after pc). */
static int decode_jump(struct ebpfvm_vm *vm, const struct ebpfvm_prog *prog, size_t pc, int64_t rel,
                       struct ebpfvm_dinsn *d)
{
    int64_t target = (int64_t)pc + 1 + rel;
    if (target < 0 || (uint64_t)target >= prog->count)
        return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: jump out of range to %lld", pc, (long long)target);
    d->u.target = (uint32_t)target;
    return 0;
}

/* Decode word pc (and pc + 1 for LD_IMM64). Returns the words consumed. */
static int decode_insn(struct ebpfvm_vm *vm, struct ebpfvm_prog *prog, size_t pc)
{
    const struct ebpf_insn *insn = &prog->insns[pc];
    struct ebpfvm_dinsn *d = &prog->code[pc];
    int form = ebpfvm__form_of(insn);
    if (form < 0)
        return reject_unknown(vm, pc, insn);
    const struct ebpfvm_form_info *info = &ebpfvm__forms[form];
    enum ebpf_insn_format fmt = (enum ebpf_insn_format)info->format;
    unsigned uses = format_fields(fmt);
    int err = check_reserved(vm, pc, insn, info->mnemonic, uses);
    if (!err)
        err = check_registers(vm, pc, insn, fmt, uses);
    if (err)
        return err;
    if (prog->fp_write_pc < 0 && writes_fp(insn, fmt, form))
        prog->fp_write_pc = (int32_t)pc;

    memset(d, 0, sizeof *d);
    d->form = (uint8_t)form;
    d->dst = insn->dst_reg;
    d->src = insn->src_reg;
    d->off = insn->off;
    d->u.imm = insn->imm;

    switch (fmt) {
    case EBPF_FMT_LD_IMM64: {
        if (pc + 1 >= prog->count)
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: incomplete ld_imm64 (it is the last word)", pc);
        const struct ebpf_insn *hi = &prog->insns[pc + 1];
        if (hi->opcode != 0 || hi->dst_reg != 0 || hi->src_reg != 0 || hi->off != 0)
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG,
                                 "insn %zu: incomplete ld_imm64 (its second word has a non-zero opcode, register "
                                 "or offset)",
                                 pc);
        err = decode_ld_imm64(vm, prog, pc, &d->u.uimm);
        if (err)
            return err;
        memset(&prog->code[pc + 1], 0, sizeof prog->code[pc + 1]);
        prog->code[pc + 1].form = EBPF_OP_COUNT_;
        return 2;
    }
    case EBPF_FMT_LD_ABS:
    case EBPF_FMT_LD_IND:
        if (prog->prog_type == EBPFVM_PROG_TYPE_XDP)
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG,
                                 "insn %zu: legacy packet load %s is not allowed in XDP programs", pc, info->mnemonic);
        d->size = (uint8_t)ebpfvm__size_bytes(insn->opcode);
        break;
    case EBPF_FMT_LDX:
    case EBPF_FMT_ST:
    case EBPF_FMT_STX:
    case EBPF_FMT_ATOMIC:
        d->size = (uint8_t)ebpfvm__size_bytes(insn->opcode);
        break;
    case EBPF_FMT_JA:
    case EBPF_FMT_MAY_GOTO:
        err = decode_jump(vm, prog, pc, insn->off, d);
        break;
    case EBPF_FMT_JA32:
        err = decode_jump(vm, prog, pc, insn->imm, d);
        break;
    case EBPF_FMT_JMP_IMM:
        d->off = insn->imm; /* the comparison operand; u.target holds the target */
        err = decode_jump(vm, prog, pc, insn->off, d);
        break;
    case EBPF_FMT_JMP_REG:
        d->off = 0;
        err = decode_jump(vm, prog, pc, insn->off, d);
        break;
    case EBPF_FMT_CALL:
        err = decode_call(vm, prog, pc, d);
        break;
    default:
        break;
    }
    return err ? err : 1;
}

/* Whether a decoded form transfers control to u.target (second pass). */
static bool has_target(enum ebpf_insn_format fmt, const struct ebpfvm_dinsn *d)
{
    switch (fmt) {
    case EBPF_FMT_JA:
    case EBPF_FMT_JA32:
    case EBPF_FMT_MAY_GOTO:
    case EBPF_FMT_JMP_IMM:
    case EBPF_FMT_JMP_REG:
        return true;
    case EBPF_FMT_CALL:
        return d->src == EBPF_PSEUDO_CALL_LOCAL;
    default:
        return false;
    }
}

int ebpfvm__validate_and_decode(struct ebpfvm_vm *vm, struct ebpfvm_prog *prog)
{
    size_t count = prog->count;
    size_t last = 0; /* index of the last instruction (not an LD_IMM64 tail) */

    /* Pass 1: forms, fields, registers, LD_IMM64 pairs, helpers, targets in range. */
    for (size_t pc = 0; pc < count;) {
        int n = decode_insn(vm, prog, pc);
        if (n < 0)
            return n;
        last = pc;
        pc += (size_t)n;
    }

    /* Pass 2: no target may be the second word of an LD_IMM64. */
    for (size_t pc = 0; pc < count; pc++) {
        const struct ebpfvm_dinsn *d = &prog->code[pc];
        if (d->form == EBPF_OP_COUNT_)
            continue;
        enum ebpf_insn_format fmt = (enum ebpf_insn_format)ebpfvm__forms[d->form].format;
        uint64_t target;
        const char *what;
        if (has_target(fmt, d)) {
            target = d->u.target;
            what = fmt == EBPF_FMT_CALL ? "local call" : "jump";
        } else if (fmt == EBPF_FMT_LD_IMM64 && d->src == EBPF_PSEUDO_FUNC) {
            target = d->u.uimm;
            what = "ld_imm64 function reference";
        } else {
            continue;
        }
        if (prog->code[target].form == EBPF_OP_COUNT_)
            return ebpfvm__error(vm, EBPFVM_ERR_BADPROG, "insn %zu: %s into the middle of ld_imm64 at %llu", pc,
                                 what, (unsigned long long)target);
    }

    /* The last instruction must not fall through off the end. */
    const struct ebpfvm_dinsn *end = &prog->code[last];
    enum ebpf_insn_format end_fmt = (enum ebpf_insn_format)ebpfvm__forms[end->form].format;
    if (end_fmt != EBPF_FMT_EXIT && end_fmt != EBPF_FMT_JA && end_fmt != EBPF_FMT_JA32)
        return ebpfvm__error(vm, EBPFVM_ERR_BADPROG,
                             "insn %zu: last instruction is not exit or jump (fall-through off the end)", last);
    return 0;
}
