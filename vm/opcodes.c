/*
 * vm/opcodes.c - EBPF_INSN_FORMS expanded into a table the rest of the
 * library queries: which form an instruction word is, and that form's
 * mnemonic, operand format, group and ISA version.
 */
#include "vm/internal.h"

const struct ebpfvm_form_info ebpfvm__forms[EBPF_OP_COUNT_] = {
#define X_FORM_INFO(id, code, disc, dval, mn, fmt, grp, ver) \
    [EBPF_OP_##id] = {(code), (disc), (dval), (mn), (fmt), (grp), (ver)},
    EBPF_INSN_FORMS(X_FORM_INFO)
#undef X_FORM_INFO
};

static bool disc_matches(const struct ebpfvm_form_info *f, const struct ebpf_insn *insn)
{
    switch (f->disc) {
    case EBPF_DISC_OFF: return insn->off == f->disc_value;
    case EBPF_DISC_IMM: return insn->imm == f->disc_value;
    case EBPF_DISC_SRC: return insn->src_reg == f->disc_value;
    default: return true;
    }
}

int ebpfvm__form_of(const struct ebpf_insn *insn)
{
    /* A linear scan: it runs once per instruction at load time only. */
    for (int i = 0; i < EBPF_OP_COUNT_; i++) {
        const struct ebpfvm_form_info *f = &ebpfvm__forms[i];
        if (f->opcode == insn->opcode && disc_matches(f, insn))
            return i;
    }
    return -1;
}
