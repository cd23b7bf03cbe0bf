/*
 * verifier/precision.c - which scalars pruning must compare: a backward
 * analysis of the registers and stack slots whose *value* can still matter
 * to a safety decision (the role of the kernel's precision tracking, done
 * as a static data-flow analysis instead of backtracking).
 *
 * A scalar's value matters when it (or a value computed from it) reaches a
 * "sink": an operand of a conditional jump (it decides which branches are
 * explored and refines bounds), of pointer arithmetic (add/sub where an
 * operand was seen to be a pointer), the base of a memory access, a helper
 * argument (sizes), r0 at an exit whose program type checks the return
 * range. Everything else only moves values around: arithmetic between
 * scalars, spills and fills, stores into memory.
 *
 * live[pc] is the plain liveness of the main frame's registers: those
 * read on some path from pc before being written. A dead register is not
 * compared at all (any type covers it).
 *
 * need[pc] is the set of the main frame's registers (bits 0-10) and stack
 * slots (fp-512 + 8k, bit k) whose values may reach a sink on some path
 * from pc. At a prune point, a scalar register or spilled scalar of frame
 * 0 outside need[pc] is compared by type only (ebpfvm__states_equal): a
 * checkpoint whose every path was proven safe with that register holding
 * some scalar is safe with any scalar there, because the register never
 * decided a branch or a check on those paths (and, by induction, cur
 * follows the same paths: their deciding values are compared exactly).
 *
 * Conservative points (Invariants):
 *   - bpf-to-bpf calls and helpers that run a callback (bpf_loop: the
 *     callback reads the caller's stack), atomics, LD_ABS/LD_IND, and every
 *     instruction of a subprogram need everything; states in a callee are
 *     never relaxed;
 *   - a load or store through a stack pointer other than r10 (recorded
 *     while exploring: env->stack_indirect) needs every slot / the stored
 *     register; an add/sub seen with a pointer operand (env->ptr_alu)
 *     needs both operands;
 *   - those two flags only grow during a run; the analysis is recomputed
 *     (need_dirty) before a comparison when one changed, so it always
 *     covers every instruction a completed checkpoint's paths executed.
 */
#include <string.h>

#include "verifier/verifier_internal.h"

#define ALL_REGS ((uint16_t)((1u << EBPF_NREGS) - 1))
#define ALL_SLOTS (~(uint64_t)0)

/* The slots bytes [off, off + size) of r10 + off cover; all slots when the
 * access is outside the stack (the verifier rejects it anyway). */
static uint64_t slot_bits(int32_t off, uint32_t size)
{
    int32_t lo = EBPF_STACK_SIZE + off, hi = lo + (int32_t)size - 1;
    if (lo < 0 || hi >= EBPF_STACK_SIZE || size == 0)
        return ALL_SLOTS;
    uint64_t bits = 0;
    for (int32_t k = lo / 8; k <= hi / 8; k++)
        bits |= (uint64_t)1 << k;
    return bits;
}

static unsigned access_size(uint8_t opcode)
{
    switch (EBPF_SIZE(opcode)) {
    case EBPF_SIZE_B: return 1;
    case EBPF_SIZE_H: return 2;
    case EBPF_SIZE_W: return 4;
    default: return 8;
    }
}

/* Every conditional jump is a sink, except while computing widening's need
 * set (env->widen_jumps set): then only the jumps listed. */
static bool jump_is_sink(const struct venv *env, uint32_t pc)
{
    if (!env->widen_jumps)
        return true;
    for (unsigned i = 0; i < env->nwiden_jumps; i++)
        if (env->widen_jumps[i] == pc)
            return true;
    return false;
}

/* need before pc from the need after it. */
static void transfer(const struct venv *env, uint32_t pc, uint16_t *regs, uint64_t *slots)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    uint16_t R = *regs;
    uint64_t S = *slots;
    uint16_t dst = (uint16_t)(1u << insn->dst_reg), src = (uint16_t)(1u << insn->src_reg);
    unsigned op = EBPF_OP(insn->opcode);
    bool everything = pc >= env->prog->main_end;
    switch (ebpfvm__vformat(env, pc)) {
    case EBPF_FMT_ALU_IMM:
        if (op == EBPF_ALU_MOV)
            R &= (uint16_t)~dst;
        break;
    case EBPF_FMT_ALU_REG:
        if (op == EBPF_ALU_MOV) {
            bool needed = R & dst;
            R &= (uint16_t)~dst;
            if (needed)
                R |= src;
        } else {
            if (R & dst)
                R |= src;
            if ((op == EBPF_ALU_ADD || op == EBPF_ALU_SUB) && env->ptr_alu[pc])
                R |= dst | src;
        }
        break;
    case EBPF_FMT_ALU_UNARY:
    case EBPF_FMT_ENDIAN:
    case EBPF_FMT_JA:
    case EBPF_FMT_JA32:
    case EBPF_FMT_MAY_GOTO:
        break;
    case EBPF_FMT_LD_IMM64:
        R &= (uint16_t)~dst;
        break;
    case EBPF_FMT_LDX: {
        bool needed = R & dst;
        R &= (uint16_t)~dst;
        R |= src;
        if (needed) {
            if (insn->src_reg == EBPF_REG_FP)
                S |= slot_bits(insn->off, access_size(insn->opcode));
            else if (env->stack_indirect[pc])
                S = ALL_SLOTS;
        }
        break;
    }
    case EBPF_FMT_ST:
        R |= dst;
        break;
    case EBPF_FMT_STX:
        if (insn->dst_reg == EBPF_REG_FP) {
            uint64_t bits = slot_bits(insn->off, access_size(insn->opcode));
            if (S & bits)
                R |= src;
        } else if (env->stack_indirect[pc]) {
            R |= src;
        }
        R |= dst;
        break;
    case EBPF_FMT_JMP_IMM:
        if (jump_is_sink(env, pc))
            R |= dst;
        break;
    case EBPF_FMT_JMP_REG:
        if (jump_is_sink(env, pc))
            R |= dst | src;
        break;
    case EBPF_FMT_CALL:
        if (env->code[pc].src == EBPF_PSEUDO_CALL_HELPER && !ebpfvm__helper_calls_back(insn->imm)) {
            R &= (uint16_t)~0x3fu;  /* r0-r5 are written by the call */
            R |= 0x3eu;             /* r1-r5 are its arguments */
        } else if (env->code[pc].src == EBPF_PSEUDO_CALL_KFUNC) {
            /* The iterator kfuncs: r1 (the iterator's address) matters;
             * new()'s range does not (next() is explored both ways), nor
             * the iterator's bytes (not data). */
            R &= (uint16_t)~0x3fu;
            R |= 0x2u;
        } else { /* a bpf-to-bpf call, or a helper that runs a callback */
            everything = true;
        }
        break;
    case EBPF_FMT_EXIT:
        R = (env->desc && env->desc->ret_checked) ? 1u : 0u;
        S = 0;
        break;
    default: /* atomics, callx, LD_ABS/LD_IND */
        everything = true;
        break;
    }
    if (everything) {
        R = ALL_REGS;
        S = ALL_SLOTS;
    }
    *regs = R;
    *slots = S;
}

/* Registers live before pc (read on some path before being written) from
 * those live after it. */
static uint16_t live_transfer(const struct venv *env, uint32_t pc, uint16_t L)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    uint16_t dst = (uint16_t)(1u << insn->dst_reg), src = (uint16_t)(1u << insn->src_reg);
    unsigned op = EBPF_OP(insn->opcode);
    if (pc >= env->prog->main_end)
        return ALL_REGS;
    switch (ebpfvm__vformat(env, pc)) {
    case EBPF_FMT_ALU_IMM:
        return op == EBPF_ALU_MOV ? (uint16_t)(L & ~dst) : (uint16_t)(L | dst);
    case EBPF_FMT_ALU_REG:
        return op == EBPF_ALU_MOV ? (uint16_t)((L & ~dst) | src) : (uint16_t)(L | dst | src);
    case EBPF_FMT_ALU_UNARY:
    case EBPF_FMT_ENDIAN:
    case EBPF_FMT_ST:
    case EBPF_FMT_JMP_IMM:
        return (uint16_t)(L | dst);
    case EBPF_FMT_JA:
    case EBPF_FMT_JA32:
    case EBPF_FMT_MAY_GOTO:
        return L;
    case EBPF_FMT_LD_IMM64:
        return (uint16_t)(L & ~dst);
    case EBPF_FMT_LDX:
        return (uint16_t)((L & ~dst) | src);
    case EBPF_FMT_STX:
    case EBPF_FMT_JMP_REG:
        return (uint16_t)(L | dst | src);
    case EBPF_FMT_CALL:
        if (env->code[pc].src == EBPF_PSEUDO_CALL_HELPER)
            return (uint16_t)((L & ~0x3fu) | 0x3eu);
        if (env->code[pc].src == EBPF_PSEUDO_CALL_KFUNC) /* new() reads r1-r3, next()/destroy() r1 */
            return (uint16_t)((L & ~0x3fu) | 0xeu);
        return ALL_REGS;
    case EBPF_FMT_EXIT:
        return 1u;
    default:
        return ALL_REGS;
    }
}

static void successors(const struct venv *env, uint32_t pc, uint32_t succ[2], unsigned *n)
{
    const struct ebpfvm_dinsn *d = &env->code[pc];
    *n = 0;
    switch (ebpfvm__vformat(env, pc)) {
    case EBPF_FMT_EXIT:
        return;
    case EBPF_FMT_JA:
    case EBPF_FMT_JA32:
        succ[(*n)++] = d->u.target;
        return;
    case EBPF_FMT_JMP_IMM:
    case EBPF_FMT_JMP_REG:
    case EBPF_FMT_MAY_GOTO:
        succ[(*n)++] = pc + 1;
        succ[(*n)++] = d->u.target;
        return;
    case EBPF_FMT_LD_IMM64:
        succ[(*n)++] = pc + 2;
        return;
    default:
        succ[(*n)++] = pc + 1;
        return;
    }
}

static void need_fixpoint(struct venv *env)
{
    for (uint32_t pc = 0; pc < env->count; pc++) {
        env->need_regs[pc] = 0;
        env->need_slots[pc] = 0;
        env->live_regs[pc] = 0;
    }
    bool changed = true;
    while (changed) {
        changed = false;
        for (uint32_t i = env->count; i-- > 0;) {
            /* The second word of an LD_IMM64 is no instruction: nothing
             * flows through it (its first word's successor is pc + 2). */
            if (env->code[i].form == EBPF_OP_COUNT_)
                continue;
            uint32_t succ[2];
            unsigned n;
            uint16_t R = 0, L = 0;
            uint64_t S = 0;
            successors(env, i, succ, &n);
            for (unsigned k = 0; k < n; k++) {
                if (succ[k] >= env->count) {
                    /* Never taken (cfg.c rejects it); be conservative. */
                    R = L = ALL_REGS;
                    S = ALL_SLOTS;
                    continue;
                }
                R |= env->need_regs[succ[k]];
                S |= env->need_slots[succ[k]];
                L |= env->live_regs[succ[k]];
            }
            transfer(env, i, &R, &S);
            L = live_transfer(env, i, L);
            if (R != env->need_regs[i] || S != env->need_slots[i] || L != env->live_regs[i]) {
                env->need_regs[i] |= R;
                env->need_slots[i] |= S;
                env->live_regs[i] |= L;
                changed = true;
            }
        }
    }
}

void ebpfvm__precision_compute(struct venv *env)
{
    need_fixpoint(env);
    env->need_dirty = false;
    env->widen_valid = false;
}

void ebpfvm__note_decided(struct venv *env, uint32_t pc)
{
    /* A checkpoint holding pc has it in all its ancestors too (it was added
     * to all of them at once): stop there. */
    for (struct vstate *p = env->cur->parent; p && !p->decided_all; p = p->parent) {
        bool have = false;
        for (unsigned i = 0; i < p->ndecided && !have; i++)
            have = p->decided[i] == pc;
        if (have)
            break;
        if (p->ndecided == sizeof p->decided / sizeof p->decided[0])
            p->decided_all = true;
        else
            p->decided[p->ndecided++] = pc;
    }
}

/*
 * Widening (may_goto, iterators, callbacks) turns into unknown the scalars
 * that changed since the previous visit and are not "precise". The kernel
 * marks a scalar precise when its value reached a check - a branch only
 * when the branch was decided by it. A loop's accumulator tested once
 * after the loop is decided while it is still a constant (the first exit)
 * and no more after: precise in that first visit's checkpoint only, so the
 * next visits widen it and the loop converges. need_* counts every jump,
 * which would keep the accumulator exact forever; so widening uses the
 * same analysis with, as jump sinks, only the jumps decided on the paths
 * below prev (vstate.decided). Widening only loses precision: this cannot
 * make the verifier unsound.
 */
bool ebpfvm__widen_need(struct venv *env, const struct vstate *prev, uint32_t pc, uint16_t *regs, uint64_t *slots)
{
    if (env->need_dirty)
        ebpfvm__precision_compute(env);
    if (prev->decided_all) {
        *regs = env->need_regs[pc];
        *slots = env->need_slots[pc];
        return true;
    }
    if (!env->widen_regs) {
        env->widen_regs = ebpfvm__calloc(env->vm, env->count, sizeof *env->widen_regs);
        env->widen_live = ebpfvm__calloc(env->vm, env->count, sizeof *env->widen_live);
        env->widen_slots = ebpfvm__calloc(env->vm, env->count, sizeof *env->widen_slots);
        if (!env->widen_regs || !env->widen_live || !env->widen_slots)
            return false;
    }
    bool same = env->widen_valid && env->nwiden_cache == prev->ndecided;
    for (unsigned i = 0; same && i < prev->ndecided; i++)
        same = env->widen_cache[i] == prev->decided[i];
    if (!same) {
        uint16_t *need = env->need_regs, *live = env->live_regs;
        uint64_t *nslots = env->need_slots;
        env->need_regs = env->widen_regs;
        env->need_slots = env->widen_slots;
        env->live_regs = env->widen_live;
        env->widen_jumps = prev->decided;
        env->nwiden_jumps = prev->ndecided;
        need_fixpoint(env);
        env->widen_jumps = NULL;
        env->need_regs = need;
        env->need_slots = nslots;
        env->live_regs = live;
        memcpy(env->widen_cache, prev->decided, prev->ndecided * sizeof prev->decided[0]);
        env->nwiden_cache = prev->ndecided;
        env->widen_valid = true;
    }
    *regs = env->widen_regs[pc];
    *slots = env->widen_slots[pc];
    return true;
}

void ebpfvm__precision_note(struct venv *env, uint32_t pc)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    const struct vreg *regs = env->cur->regs;
    switch (ebpfvm__vformat(env, pc)) {
    case EBPF_FMT_ALU_REG: {
        unsigned op = EBPF_OP(insn->opcode);
        if ((op == EBPF_ALU_ADD || op == EBPF_ALU_SUB) && !env->ptr_alu[pc] && insn->src_reg < EBPF_NREGS &&
            (ebpfvm__reg_is_ptr(&regs[insn->dst_reg]) || ebpfvm__reg_is_ptr(&regs[insn->src_reg]))) {
            env->ptr_alu[pc] = 1;
            env->need_dirty = true;
        }
        break;
    }
    case EBPF_FMT_LDX:
        if (insn->src_reg != EBPF_REG_FP && insn->src_reg < EBPF_NREGS &&
            regs[insn->src_reg].type == PTR_TO_STACK && !env->stack_indirect[pc]) {
            env->stack_indirect[pc] = 1;
            env->need_dirty = true;
        }
        break;
    case EBPF_FMT_STX:
        if (insn->dst_reg != EBPF_REG_FP && regs[insn->dst_reg].type == PTR_TO_STACK &&
            !env->stack_indirect[pc]) {
            env->stack_indirect[pc] = 1;
            env->need_dirty = true;
        }
        break;
    default:
        break;
    }
}
