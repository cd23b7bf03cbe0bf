/*
 * verifier/state.c - register and stack state: construction, the
 * inclusion test used for pruning, and iteration over every register a
 * state holds (live registers and spilled ones).
 *
 * The inclusion test (ebpfvm__states_equal, the kernel's states_equal):
 * a state `old` from which every path was already proven safe covers `cur`
 * when every concrete machine state described by cur is described by old:
 *   - an uninitialised register or stack byte in old covers anything (the
 *     safe paths from old never read it);
 *   - a scalar covers a scalar whose ranges and tnum lie inside its own;
 *   - a pointer covers a pointer of the same type, map (for a map_ptr out
 *     of a map-in-map: the outer map's template), fixed offset and
 *     (packets) a range at most cur's, with a variable offset inside its own;
 *   - ids must correspond through one mapping old id -> cur id, so that
 *     whatever old learnt through a shared id, cur learns too (a function,
 *     not necessarily injective: more sharing in cur only adds precision);
 *   - the acquired references must be the same;
 *   - a register of the main frame that is dead (precision.c: not in
 *     live_regs) is not compared;
 *   - a scalar of the main frame whose value never reaches a check from
 *     this instruction on (precision.c: not in need_regs / need_slots)
 *     covers any scalar.
 * `exact` (enum vexact) EXACT, used to detect an infinite loop against a
 * state still being explored, asks for identical registers and stack (and
 * may_goto depth); RANGE_WITHIN, used at a may_goto against a state still
 * being explored, compares every register and slot (no liveness, since the
 * old state's paths are not all known yet) and asks uninitialised
 * registers and the kind of every stack byte to match.
 */
#include <string.h>

#include "verifier/verifier_internal.h"

void ebpfvm__mark_reg_not_init(struct vreg *reg)
{
    memset(reg, 0, sizeof *reg);
    reg->type = NOT_INIT;
}

void ebpfvm__clear_scalar_id(struct vreg *reg)
{
    reg->id = 0;
    reg->off = 0;
    reg->add_const = 0;
}

void ebpfvm__assign_scalar_id_before_mov(struct venv *env, struct vreg *src)
{
    if (src->type != SCALAR_VALUE)
        return;
    if (src->add_const)
        ebpfvm__clear_scalar_id(src);
    if (!src->id && !ebpfvm__bounds_is_const(&src->b))
        src->id = ebpfvm__new_id(env);
}

void ebpfvm__mark_reg_unknown(struct vreg *reg)
{
    memset(reg, 0, sizeof *reg);
    reg->type = SCALAR_VALUE;
    ebpfvm__bounds_unknown(&reg->b);
}

void ebpfvm__mark_reg_const(struct vreg *reg, uint64_t value)
{
    memset(reg, 0, sizeof *reg);
    reg->type = SCALAR_VALUE;
    ebpfvm__bounds_const(&reg->b, value);
}

void ebpfvm__mark_reg_ptr(struct vreg *reg, enum vtype type)
{
    memset(reg, 0, sizeof *reg);
    reg->type = (uint8_t)type;
    ebpfvm__bounds_const(&reg->b, 0);
}

void ebpfvm__mark_ptr_not_null(struct vreg *reg)
{
    if (reg->type == PTR_TO_MEM_OR_NULL) {
        reg->type = PTR_TO_MEM;
    } else if (reg->type == PTR_TO_MAP_VALUE_OR_NULL) {
        /* A lookup in a map-in-map gave an inner map: a map_ptr to the
         * template (the kernel's mark_ptr_not_null_reg, inner_map_meta). */
        if (reg->map && reg->map->inner_meta) {
            reg->type = CONST_PTR_TO_MAP;
            reg->map = reg->map->inner_meta;
        } else {
            reg->type = PTR_TO_MAP_VALUE;
        }
    }
}

bool ebpfvm__reg_is_ptr(const struct vreg *reg)
{
    return reg->type != NOT_INIT && reg->type != SCALAR_VALUE;
}

bool ebpfvm__reg_is_pkt(const struct vreg *reg)
{
    return reg->type == PTR_TO_PACKET || reg->type == PTR_TO_PACKET_META;
}

void ebpfvm__state_for_each_reg(struct vstate *st, ebpfvm_reg_visit_fn fn, void *ud)
{
    for (int r = 0; r < EBPF_NREGS; r++)
        fn(&st->regs[r], ud);
    for (int s = 0; s < NSLOTS; s++)
        if (st->stack[s * 8] == STACK_SPILL)
            fn(&st->spills[s], ud);
    for (uint32_t f = 0; f < st->curframe; f++) {
        struct vframe *fr = &st->callers[f];
        for (int r = 0; r < EBPF_NREGS; r++)
            fn(&fr->regs[r], ud);
        for (int s = 0; s < NSLOTS; s++)
            if (fr->stack[s * 8] == STACK_SPILL)
                fn(&fr->spills[s], ud);
    }
}

void ebpfvm__state_free(struct venv *env, struct vstate *st)
{
    ebpfvm__free(env->vm, st->callers);
    st->callers = NULL;
}

int ebpfvm__state_copy(struct venv *env, struct vstate *dst, const struct vstate *src)
{
    struct vframe *callers = NULL;
    if (src->curframe) {
        callers = ebpfvm__alloc(env->vm, src->curframe * sizeof *callers);
        if (!callers)
            return EBPFVM_ERR_NOMEM;
        memcpy(callers, src->callers, src->curframe * sizeof *callers);
    }
    ebpfvm__free(env->vm, dst->callers);
    *dst = *src;
    dst->callers = callers;
    return 0;
}

/* ------------------------------------------------------------ inclusion */

enum { IDMAP_SIZE = 2 * (EBPF_NREGS + NSLOTS) * EBPF_MAX_CALL_DEPTH };

struct idmap {
    uint32_t old_id[IDMAP_SIZE];
    uint32_t cur_id[IDMAP_SIZE];
    unsigned n;
    bool strict; /* EBPFVM_VERIFY_STRICT: uninitialised stack is unreadable */
    bool range_within; /* RANGE_WITHIN: uninitialised and slot kinds must match */
};

/* Record old -> cur; false when old already maps to another id. */
static bool idmap_check(struct idmap *m, uint32_t old_id, uint32_t cur_id)
{
    if (!old_id)
        return true;
    if (!cur_id)
        return false;
    for (unsigned i = 0; i < m->n; i++)
        if (m->old_id[i] == old_id)
            return m->cur_id[i] == cur_id;
    if (m->n == IDMAP_SIZE)
        return false;
    m->old_id[m->n] = old_id;
    m->cur_id[m->n] = cur_id;
    m->n++;
    return true;
}

static bool bounds_same(const struct bounds *a, const struct bounds *b)
{
    return a->smin == b->smin && a->smax == b->smax && a->umin == b->umin && a->umax == b->umax &&
           a->s32_min == b->s32_min && a->s32_max == b->s32_max && a->u32_min == b->u32_min &&
           a->u32_max == b->u32_max && ebpfvm__tnum_equals(a->var_off, b->var_off);
}

static bool regs_same(const struct vreg *a, const struct vreg *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == NOT_INIT)
        return true;
    return bounds_same(&a->b, &b->b) && a->map == b->map && a->off == b->off && a->id == b->id &&
           a->add_const == b->add_const && a->rdonly == b->rdonly &&
           a->frameno == b->frameno &&
           a->ref_obj_id == b->ref_obj_id && a->range == b->range && a->mem_size == b->mem_size;
}

static bool regsafe(const struct vreg *old, const struct vreg *cur, struct idmap *m, bool loose)
{
    if (old->type == NOT_INIT)
        return !m->range_within || cur->type == NOT_INIT;
    if (old->type != cur->type)
        return false;
    switch (old->type) {
    case SCALAR_VALUE:
        if (loose) /* its value never reaches a check (precision.c) */
            return true;
        /* A link old relied on (r = base + off, or a plain copy) must be
         * the same kind of link in cur, with the same offset. */
        if ((old->add_const && (old->add_const != cur->add_const || old->off != cur->off)) ||
            (old->id && !old->add_const && cur->add_const))
            return false;
        return ebpfvm__bounds_within(&old->b, &cur->b) && idmap_check(m, old->id, cur->id);
    case PTR_TO_PACKET:
    case PTR_TO_PACKET_META:
        /* cur must have proven at least as many bytes as old relied on. */
        return old->off == cur->off && cur->range >= old->range && ebpfvm__bounds_within(&old->b, &cur->b) &&
               idmap_check(m, old->id, cur->id);
    case PTR_TO_MAP_VALUE_OR_NULL:
    case PTR_TO_MEM_OR_NULL:
        return old->map == cur->map && old->off == cur->off && old->mem_size == cur->mem_size &&
               old->rdonly == cur->rdonly && bounds_same(&old->b, &cur->b) && idmap_check(m, old->id, cur->id) &&
               idmap_check(m, old->ref_obj_id, cur->ref_obj_id) && (old->ref_obj_id == 0) == (cur->ref_obj_id == 0);
    default:
        return old->map == cur->map && old->off == cur->off && old->mem_size == cur->mem_size &&
               old->frameno == cur->frameno && old->rdonly == cur->rdonly &&
               ebpfvm__bounds_within(&old->b, &cur->b) && idmap_check(m, old->ref_obj_id, cur->ref_obj_id) &&
               (old->ref_obj_id == 0) == (cur->ref_obj_id == 0);
    }
}

static bool stacksafe(const uint8_t *old_stack, const struct vreg *old_spills, const uint8_t *cur_stack,
                      const struct vreg *cur_spills, struct idmap *m, uint64_t loose_slots)
{
    for (int k = 0; k < EBPF_STACK_SIZE; k++) {
        uint8_t o = old_stack[k], c = cur_stack[k];
        if (m->range_within && o != c)
            return false;
        if (o == STACK_INVALID)
            continue;
        if (o == STACK_MISC) {
            /* old read these bytes as an unknown scalar: cur must not hold
             * a pointer there - unless, as for Linux's privileged loaders,
             * anything on the stack may be read as a scalar. */
            if (c == STACK_MISC || !m->strict)
                continue;
            if (c == STACK_SPILL && cur_spills[k / 8].type == SCALAR_VALUE)
                continue;
            return false;
        }
        if (o == STACK_ITER) {
            /* The same iterator (reference) in the same state; the depth
             * is not compared (the kernel's: it would keep loops from
             * converging). */
            if (c != STACK_ITER)
                return false;
            if (k % 8 == 0) {
                const struct vreg *a = &old_spills[k / 8], *b = &cur_spills[k / 8];
                if (a->off != b->off || !idmap_check(m, a->ref_obj_id, b->ref_obj_id))
                    return false;
            }
            continue;
        }
        /* STACK_SPILL: compare once per slot. A spill's bytes are the
         * first n of its slot and its register holds a value of n bytes
         * (check_mem.c), so a cur spill of at least old's bytes whose
         * value old's covers stores the same low bytes; old's other bytes
         * are data or invalid and cover anything. */
        if (c != STACK_SPILL)
            return false;
        if (k % 8 == 0 &&
            !regsafe(&old_spills[k / 8], &cur_spills[k / 8], m, (loose_slots >> (k / 8)) & 1))
            return false;
    }
    return true;
}

static bool frames_same(const struct vreg *ra, const uint8_t *sa, const struct vreg *pa, const struct vreg *rb,
                        const uint8_t *sb, const struct vreg *pb)
{
    for (int r = 0; r < EBPF_NREGS; r++)
        if (!regs_same(&ra[r], &rb[r]))
            return false;
    if (memcmp(sa, sb, EBPF_STACK_SIZE) != 0)
        return false;
    for (int s = 0; s < NSLOTS; s++)
        if ((sa[s * 8] == STACK_SPILL || sa[s * 8] == STACK_ITER) && !regs_same(&pa[s], &pb[s]))
            return false;
    return true;
}

static bool frames_safe(const struct vreg *ra, const uint8_t *sa, const struct vreg *pa, const struct vreg *rb,
                        const uint8_t *sb, const struct vreg *pb, struct idmap *m, uint16_t dead_regs,
                        uint16_t loose_regs, uint64_t loose_slots)
{
    for (int r = 0; r < EBPF_NREGS; r++)
        if (!((dead_regs >> r) & 1) && !regsafe(&ra[r], &rb[r], m, (loose_regs >> r) & 1))
            return false;
    return stacksafe(sa, pa, sb, pb, m, loose_slots);
}

bool ebpfvm__states_equal(const struct vstate *old, const struct vstate *cur, enum vexact exact, bool strict,
                          uint16_t dead_regs, uint16_t loose_regs, uint64_t loose_slots)
{
    if (old->nrefs != cur->nrefs || old->curframe != cur->curframe)
        return false;
    for (uint32_t f = 0; f < old->curframe; f++)
        if (old->callers[f].callsite != cur->callers[f].callsite)
            return false;
    /* A state that queued more callback iterations from a frame covers no
     * state that queued fewer (the kernel's func_states_equal). */
    if (old->callback_depth > cur->callback_depth)
        return false;
    for (uint32_t f = 0; f < old->curframe; f++)
        if (old->callers[f].callback_depth > cur->callers[f].callback_depth)
            return false;
    if (exact == EXACT) {
        if (old->may_goto_depth != cur->may_goto_depth ||
            old->callback_unroll_depth != cur->callback_unroll_depth)
            return false;
        if (!frames_same(old->regs, old->stack, old->spills, cur->regs, cur->stack, cur->spills))
            return false;
        for (uint32_t f = 0; f < old->curframe; f++) {
            const struct vframe *a = &old->callers[f], *b = &cur->callers[f];
            if (!frames_same(a->regs, a->stack, a->spills, b->regs, b->stack, b->spills))
                return false;
        }
        return memcmp(old->refs, cur->refs, old->nrefs * sizeof old->refs[0]) == 0;
    }
    struct idmap m;
    m.n = 0;
    m.strict = strict;
    m.range_within = exact == RANGE_WITHIN;
    /* Only the main frame is ever loosened (precision.c). */
    if (old->curframe || exact == RANGE_WITHIN) {
        dead_regs = 0;
        loose_regs = 0;
        loose_slots = 0;
    }
    if (!frames_safe(old->regs, old->stack, old->spills, cur->regs, cur->stack, cur->spills, &m, dead_regs,
                     loose_regs, loose_slots))
        return false;
    for (uint32_t f = 0; f < old->curframe; f++) {
        const struct vframe *a = &old->callers[f], *b = &cur->callers[f];
        if (!frames_safe(a->regs, a->stack, a->spills, b->regs, b->stack, b->spills, &m, 0, 0, 0))
            return false;
    }
    for (uint32_t i = 0; i < old->nrefs; i++)
        if (!idmap_check(&m, old->refs[i], cur->refs[i]))
            return false;
    return true;
}
