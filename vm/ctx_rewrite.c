/*
 * vm/ctx_rewrite.c - the load-time context pass: find every memory access
 * made through the context pointer, check it against the program type's
 * field table (vm/progtype.c) and rewrite it into the runtime access - the
 * kernel's convert_ctx_accesses, until the verifier takes it over.
 *
 * Method: a forward dataflow over the control-flow graph. Each register and
 * each 8-byte stack slot of the current frame holds one value of the lattice
 *
 *     UNREACHED  <  NOT_CTX | CTX(k)  <  CONFLICT
 *
 * (CTX(k): the context pointer plus the constant k). r1 is CTX(0) at entry;
 * mov copies, add/sub of a constant move k, 8-byte spills and fills through
 * r10 keep the value, anything else that writes a register makes it
 * NOT_CTX. States are kept only at block leaders (jump targets, the
 * instruction after a jump or call, subprogram entries) and joined there;
 * the lattice is finite (CTX(k) joined with CTX(j), j != k, is CONFLICT),
 * so the worklist terminates. A bpf-to-bpf call enters its target with the
 * caller's r1..r5 and a fresh stack; after it r0..r5 are NOT_CTX.
 *
 * Then every reachable instruction is visited once with the fixed-point
 * state before it:
 *   - a load through CTX(k): k must be 0 ("dereference of modified ctx
 *     ptr"), the field at the offset must exist with the access's size and
 *     not be devmap-only ("invalid bpf_context access off=%d size=%d"); the
 *     decoded instruction (prog->code; prog->insns keeps the original) becomes
 *     a load of rt_size bytes at rt_off;
 *   - a store through CTX(k) fails the same field check (XDP has no
 *     writable field), an atomic is "BPF_ATOMIC stores into R%u ctx is not
 *     allowed" - the kernel's (6.18) messages;
 *   - an access through a CONFLICT register is rejected: it might be either.
 *
 * Limits (documented, the verifier will lift them): only spills and fills
 * through r10 itself are tracked (a ctx stored through another stack
 * pointer, or read back in a callee through a pointer, is not); a helper is
 * assumed not to write a spilled context slot.
 */
#include <string.h>

#include "vm/progtype.h"

enum ctx_kind {
    CTXV_UNREACHED = 0,
    CTXV_NOT_CTX,
    CTXV_CTX,
    CTXV_CONFLICT
};

struct ctx_value {
    int32_t off;  /* CTXV_CTX: the constant added to the context pointer */
    uint8_t kind; /* enum ctx_kind */
};

enum { NSLOTS = EBPF_STACK_SIZE / 8, NVALUES = EBPF_NREGS + NSLOTS };

/* Registers r0..r10, then the stack slots (slot i: [r10 - 8 (i + 1), r10 - 8 i)). */
struct ctx_state {
    struct ctx_value v[NVALUES];
};

static const struct ctx_value NOT_CTX = {0, CTXV_NOT_CTX};
static const struct ctx_value CONFLICT = {0, CTXV_CONFLICT};

static struct ctx_value ctx_at(int64_t off)
{
    if (off < INT32_MIN || off > INT32_MAX)
        return CONFLICT;
    return (struct ctx_value){(int32_t)off, CTXV_CTX};
}

/* a := a join b; returns whether a changed. */
static bool value_join(struct ctx_value *a, struct ctx_value b)
{
    if (b.kind == CTXV_UNREACHED || a->kind == CTXV_CONFLICT)
        return false;
    if (a->kind == CTXV_UNREACHED) {
        *a = b;
        return true;
    }
    if (a->kind == b.kind && (a->kind != CTXV_CTX || a->off == b.off))
        return false;
    *a = CONFLICT;
    return true;
}

static bool state_join(struct ctx_state *into, const struct ctx_state *from)
{
    bool changed = false;
    for (int i = 0; i < NVALUES; i++)
        changed |= value_join(&into->v[i], from->v[i]);
    return changed;
}

static void state_fill(struct ctx_state *s, struct ctx_value value)
{
    for (int i = 0; i < NVALUES; i++)
        s->v[i] = value;
}

/* The slot range [first, last] an access of size bytes at r10 + off covers;
 * false when it is not inside the frame. */
static bool stack_slots(int32_t off, unsigned size, int *first, int *last)
{
    int64_t lo = off, hi = (int64_t)off + size; /* [lo, hi) relative to r10 */
    if (lo < -EBPF_STACK_SIZE || hi > 0)
        return false;
    *first = (int)((-hi) / 8);
    *last = (int)((-lo - 1) / 8);
    return true;
}

/* ----------------------------------------------------------- the pass */

struct ctx_pass {
    struct ebpfvm_vm *vm;
    struct ebpfvm_prog *prog;
    const struct ebpfvm_prog_type_desc *desc;
    uint32_t *leader;         /* per insn: index into states + 1, or 0 */
    struct ctx_state *states; /* per leader: the joined entry state */
    uint32_t *worklist;       /* leader indices */
    bool *queued;
    uint32_t nqueued;
    uint32_t nleaders;
};

static enum ebpf_insn_format format_of(const struct ebpfvm_dinsn *d)
{
    return (enum ebpf_insn_format)ebpfvm__forms[d->form].format;
}

static uint8_t opcode_of(const struct ebpfvm_dinsn *d)
{
    return ebpfvm__forms[d->form].opcode;
}

static bool is_local_call(const struct ebpfvm_dinsn *d)
{
    return format_of(d) == EBPF_FMT_CALL && d->src == EBPF_PSEUDO_CALL_LOCAL;
}

/* Whether the instruction ends a straight-line run (its successors are
 * leaders). */
static bool ends_block(const struct ebpfvm_dinsn *d)
{
    switch (format_of(d)) {
    case EBPF_FMT_JA:
    case EBPF_FMT_JA32:
    case EBPF_FMT_MAY_GOTO:
    case EBPF_FMT_JMP_IMM:
    case EBPF_FMT_JMP_REG:
    case EBPF_FMT_EXIT:
        return true;
    case EBPF_FMT_CALL:
        return d->src == EBPF_PSEUDO_CALL_LOCAL;
    default:
        return false;
    }
}

static size_t insn_words(const struct ebpfvm_dinsn *d)
{
    return format_of(d) == EBPF_FMT_LD_IMM64 ? 2 : 1;
}

static void mark_leader(struct ctx_pass *p, size_t pc)
{
    if (pc < p->prog->count && !p->leader[pc])
        p->leader[pc] = ++p->nleaders;
}

static void enqueue(struct ctx_pass *p, uint32_t leader_index)
{
    if (p->queued[leader_index])
        return;
    p->queued[leader_index] = true;
    p->worklist[p->nqueued++] = leader_index;
}

/* Join `s` into the state at leader pc and queue it when it changed. */
static void flow_to(struct ctx_pass *p, size_t pc, const struct ctx_state *s)
{
    uint32_t li = p->leader[pc] - 1;
    if (state_join(&p->states[li], s))
        enqueue(p, li);
}

/* The effect of one non-branching instruction on s. */
static void transfer(const struct ctx_pass *p, const struct ebpfvm_dinsn *d, struct ctx_state *s)
{
    struct ctx_value *reg = s->v, *slot = s->v + EBPF_NREGS;
    uint8_t opc = opcode_of(d);
    int first, last;
    switch (format_of(d)) {
    case EBPF_FMT_ALU_REG:
        if (EBPF_CLASS(opc) == EBPF_CLASS_ALU64 && EBPF_OP(opc) == EBPF_ALU_MOV && d->off == 0)
            reg[d->dst] = reg[d->src];
        else
            reg[d->dst] = NOT_CTX;
        break;
    case EBPF_FMT_ALU_IMM:
        if (EBPF_CLASS(opc) == EBPF_CLASS_ALU64 && reg[d->dst].kind == CTXV_CTX &&
            (EBPF_OP(opc) == EBPF_ALU_ADD || EBPF_OP(opc) == EBPF_ALU_SUB)) {
            int64_t delta = EBPF_OP(opc) == EBPF_ALU_ADD ? d->u.imm : -d->u.imm;
            reg[d->dst] = ctx_at((int64_t)reg[d->dst].off + delta);
        } else if (reg[d->dst].kind != CTXV_CONFLICT || EBPF_OP(opc) == EBPF_ALU_MOV) {
            reg[d->dst] = NOT_CTX;
        }
        break;
    case EBPF_FMT_ALU_UNARY:
    case EBPF_FMT_ENDIAN:
    case EBPF_FMT_LD_IMM64:
        reg[d->dst] = NOT_CTX;
        break;
    case EBPF_FMT_LD_ABS:
    case EBPF_FMT_LD_IND:
        reg[0] = NOT_CTX;
        for (int r = 1; r <= 5; r++)
            reg[r] = NOT_CTX;
        break;
    case EBPF_FMT_LDX:
        if (d->src == EBPF_REG_FP && d->size == 8 && (d->off % 8) == 0 && stack_slots(d->off, 8, &first, &last))
            reg[d->dst] = slot[first];
        else
            reg[d->dst] = NOT_CTX;
        break;
    case EBPF_FMT_ST:
    case EBPF_FMT_STX:
    case EBPF_FMT_ATOMIC:
        if (d->dst == EBPF_REG_FP && stack_slots(d->off, d->size, &first, &last)) {
            bool spill = format_of(d) == EBPF_FMT_STX && d->size == 8 && (d->off % 8) == 0;
            for (int i = first; i <= last; i++)
                slot[i] = spill ? reg[d->src] : NOT_CTX;
        }
        if (format_of(d) == EBPF_FMT_ATOMIC) {
            if (d->u.imm & EBPF_ATOMIC_FETCH)
                reg[d->src] = NOT_CTX;
            if (d->u.imm == EBPF_ATOMIC_CMPXCHG)
                reg[0] = NOT_CTX;
        }
        break;
    case EBPF_FMT_CALL:
    case EBPF_FMT_CALLX:
        for (int r = 0; r <= 5; r++)
            reg[r] = NOT_CTX;
        break;
    default:
        break;
    }
    (void)p;
}

/* Propagate the state at the start of the block of leader li. */
static void flow_block(struct ctx_pass *p, size_t start)
{
    const struct ebpfvm_prog *prog = p->prog;
    struct ctx_state s = p->states[p->leader[start] - 1];
    size_t pc = start;
    for (;;) {
        const struct ebpfvm_dinsn *d = &prog->code[pc];
        enum ebpf_insn_format fmt = format_of(d);
        size_t next = pc + insn_words(d);
        if (is_local_call(d)) {
            struct ctx_state callee;
            state_fill(&callee, NOT_CTX);
            for (int r = 1; r <= 5; r++)
                callee.v[r] = s.v[r];
            flow_to(p, d->u.target, &callee);
            transfer(p, d, &s);
            if (next < prog->count)
                flow_to(p, next, &s);
            return;
        }
        if (fmt == EBPF_FMT_EXIT)
            return;
        if (fmt == EBPF_FMT_JA || fmt == EBPF_FMT_JA32) {
            flow_to(p, d->u.target, &s);
            return;
        }
        if (fmt == EBPF_FMT_JMP_IMM || fmt == EBPF_FMT_JMP_REG || fmt == EBPF_FMT_MAY_GOTO) {
            flow_to(p, d->u.target, &s);
            if (next < prog->count)
                flow_to(p, next, &s);
            return;
        }
        transfer(p, d, &s);
        if (next >= prog->count)
            return; /* validation forbids falling off the end */
        if (p->leader[next]) {
            flow_to(p, next, &s);
            return;
        }
        pc = next;
    }
}

static const char *field_name_or(const struct ebpfvm_ctx_field *f)
{
    return f ? f->name : "?";
}

/* Check and rewrite one access through a context-derived register. */
static int check_access(struct ctx_pass *p, size_t pc, const struct ctx_state *s)
{
    struct ebpfvm_dinsn *d = &p->prog->code[pc];
    enum ebpf_insn_format fmt = format_of(d);
    unsigned base;
    switch (fmt) {
    case EBPF_FMT_LDX: base = d->src; break;
    case EBPF_FMT_ST:
    case EBPF_FMT_STX:
    case EBPF_FMT_ATOMIC: base = d->dst; break;
    default: return 0;
    }
    struct ctx_value v = s->v[base];
    if (v.kind == CTXV_CONFLICT)
        return ebpfvm__error(p->vm, EBPFVM_ERR_BADPROG,
                             "insn %zu: r%u is the context on some paths but not on others (or at different "
                             "offsets): cannot rewrite this access",
                             pc, base);
    if (v.kind != CTXV_CTX)
        return 0;
    /* The kernel's order (6.18): atomics first, then the modified-pointer
     * check, then the type's field check (stores, BPF_ST included, fail it
     * like a bad load). */
    if (fmt == EBPF_FMT_ATOMIC)
        return ebpfvm__error(p->vm, EBPFVM_ERR_BADPROG, "insn %zu: BPF_ATOMIC stores into R%u ctx is not allowed",
                             pc, base);
    if (v.off != 0)
        return ebpfvm__error(p->vm, EBPFVM_ERR_BADPROG, "insn %zu: dereference of modified ctx ptr R%u off=%d disallowed",
                             pc, base, v.off);
    bool write = fmt != EBPF_FMT_LDX;
    int32_t rt_off;
    unsigned rt_size;
    const struct ebpfvm_ctx_field *field = ebpfvm__ctx_access(p->desc, d->off, d->size, write, &rt_off, &rt_size);
    bool sext = !write && EBPF_MODE(opcode_of(d)) == EBPF_MODE_MEMSX;
    if (!field || (sext && field->kind != EBPFVM_CTX_SCALAR))
        return ebpfvm__error(p->vm, EBPFVM_ERR_BADPROG, "insn %zu: invalid bpf_context access off=%d size=%u", pc,
                             d->off, (unsigned)d->size);
    if (ebpfvm__ctx_field_identity(field))
        return 0; /* the runtime context keeps the field in place */
    if (write) /* writable fields of other layouts would need a store rewrite */
        return ebpfvm__error(p->vm, EBPFVM_ERR_UNSUPP, "insn %zu: stores to context field %s are not supported", pc,
                             field_name_or(field));

    /* Rewrite: a load of the runtime field. A sign-extending load keeps its
     * mode for a scalar field of the same width; pointers are plain loads. */
    uint8_t mode = EBPF_MODE(opcode_of(d));
    if (field->rt_size != field->size)
        mode = EBPF_MODE_MEM;
    uint8_t size_bits;
    switch (field->rt_size) {
    case 1: size_bits = EBPF_SIZE_B; break;
    case 2: size_bits = EBPF_SIZE_H; break;
    case 4: size_bits = EBPF_SIZE_W; break;
    default: size_bits = EBPF_SIZE_DW; break;
    }
    struct ebpf_insn word = {0};
    word.opcode = (uint8_t)(EBPF_CLASS_LDX | mode | size_bits);
    word.dst_reg = d->dst & 0xf;
    word.src_reg = d->src & 0xf;
    word.off = (int16_t)field->rt_off;
    int form = ebpfvm__form_of(&word);
    if (form < 0)
        return ebpfvm__error(p->vm, EBPFVM_ERR_BADPROG, "insn %zu: internal error: no load form for context field %s",
                             pc, field->name);
    d->form = (uint8_t)form;
    d->size = field->rt_size;
    d->off = field->rt_off;
    return 0;
}

/* Visit every reachable block once more with its fixed-point state. */
static int check_block(struct ctx_pass *p, size_t start)
{
    const struct ebpfvm_prog *prog = p->prog;
    struct ctx_state s = p->states[p->leader[start] - 1];
    for (size_t pc = start; pc < prog->count;) {
        const struct ebpfvm_dinsn *d = &prog->code[pc];
        int err = check_access(p, pc, &s);
        if (err)
            return err;
        if (ends_block(d))
            return 0;
        transfer(p, d, &s);
        pc += insn_words(d);
        if (pc < prog->count && p->leader[pc])
            return 0;
    }
    return 0;
}

int ebpfvm__ctx_rewrite(struct ebpfvm_vm *vm, struct ebpfvm_prog *prog)
{
    const struct ebpfvm_prog_type_desc *desc = ebpfvm__prog_type(prog->prog_type);
    if (!desc || desc->nfields == 0)
        return 0;

    struct ctx_pass p = {.vm = vm, .prog = prog, .desc = desc};
    size_t count = prog->count;
    p.leader = ebpfvm__calloc(vm, count, sizeof *p.leader);
    if (!p.leader)
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "load: out of memory");

    /* Leaders: entry, jump and call targets, instructions after a block end. */
    mark_leader(&p, 0);
    for (size_t pc = 0; pc < count;) {
        const struct ebpfvm_dinsn *d = &prog->code[pc];
        size_t next = pc + insn_words(d);
        if (ends_block(d)) {
            enum ebpf_insn_format fmt = format_of(d);
            if (fmt != EBPF_FMT_EXIT)
                mark_leader(&p, d->u.target);
            mark_leader(&p, next);
        }
        pc = next;
    }

    int err = 0;
    p.states = ebpfvm__calloc(vm, p.nleaders, sizeof *p.states);
    p.worklist = ebpfvm__calloc(vm, p.nleaders, sizeof *p.worklist);
    p.queued = ebpfvm__calloc(vm, p.nleaders, sizeof *p.queued);
    uint32_t *start_of = ebpfvm__calloc(vm, p.nleaders, sizeof *start_of);
    if (!p.states || !p.worklist || !p.queued || !start_of) {
        err = ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "load: out of memory");
        goto out;
    }
    for (size_t pc = 0; pc < count; pc++)
        if (p.leader[pc])
            start_of[p.leader[pc] - 1] = (uint32_t)pc;

    /* Entry: r1 is the context, everything else is not. */
    struct ctx_state entry;
    state_fill(&entry, NOT_CTX);
    entry.v[1] = ctx_at(0);
    flow_to(&p, 0, &entry);
    while (p.nqueued) {
        uint32_t li = p.worklist[--p.nqueued];
        p.queued[li] = false;
        flow_block(&p, start_of[li]);
    }

    /* In program order, so the first bad access is the one reported. */
    for (size_t pc = 0; pc < count && !err; pc++)
        if (p.leader[pc] && p.states[p.leader[pc] - 1].v[EBPF_REG_FP].kind != CTXV_UNREACHED)
            err = check_block(&p, pc);

out:
    ebpfvm__free(vm, start_of);
    ebpfvm__free(vm, p.queued);
    ebpfvm__free(vm, p.worklist);
    ebpfvm__free(vm, p.states);
    ebpfvm__free(vm, p.leader);
    return err;
}
