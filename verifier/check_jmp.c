/*
 * verifier/check_jmp.c - conditional jumps (JMP and JMP32, immediate and
 * register operands), helper calls and program exit.
 *
 * A conditional jump on scalars is first decided where the bounds allow
 * (the other branch is dead and never explored); otherwise both operands
 * are refined on both branches (reg_bounds.c) and the refinement spreads to
 * every register holding a copy (same scalar id). Pointer comparisons teach
 * three things, all on 64-bit unsigned conditions:
 *   - pkt' against pkt_end (either order, any of > >= < <=): on the branch
 *     where pkt' <= pkt_end, every packet pointer with pkt''s id gets
 *     range = max(range, pkt'.off);
 *   - pkt_meta' against pkt: the same for metadata pointers;
 *   - a map_value_or_null / mem_or_null register == 0: on the null branch
 *     every register with its id becomes the scalar 0 (and a reference it
 *     held is dropped), on the other it becomes a valid pointer.
 * A helper call checks each argument against the helper's prototype,
 * clobbers r1-r5, types r0 from the return kind and, for helpers that may
 * move the packet, turns every packet pointer into an unknown scalar.
 * A bpf-to-bpf call saves the caller's frame in the state (struct vframe)
 * and enters the callee with r1-r5; the callee's exit restores it.
 */
#include <stdio.h>
#include <string.h>

#include "verifier/verifier_internal.h"
#include "vm/arith.h"

#define MAX_VAR_OFF (1ll << 29)

/* --------------------------------------------------------- id spreading */

struct same_id {
    uint32_t id;
    const struct vreg *model;
};

/* The bounds of `link` applied to the bounds of the link's base value:
 * base + off, or the zero-extended 32-bit base + off. */
static void apply_link(struct bounds *b, unsigned kind, int64_t off)
{
    if (!kind && !off)
        return;
    struct bounds c;
    ebpfvm__bounds_const(&c, (uint64_t)off);
    ebpfvm__bounds_alu(b, &c, kind == ADD_CONST_32 ? EBPF_OP_ADD32_REG : EBPF_OP_ADD64_REG);
}

/* The kernel's sync_linked_regs for one register: a copy of the refined
 * register (the same link) becomes it; a register linked to the same base
 * by another link gets the bounds that link gives from the base's, which
 * the refined register's bounds imply (an ADD_CONST_32 link's base fitted
 * in 32 bits when it was made, so it is the 32-bit difference), and keeps
 * its own link. */
static void copy_scalar_if_same(struct vreg *reg, void *ud)
{
    struct same_id *s = ud;
    const struct vreg *known = s->model;
    if (reg->type != SCALAR_VALUE || reg->id != s->id || reg == known)
        return;
    if (reg->add_const == known->add_const && reg->off == known->off) {
        *reg = *known;
        return;
    }
    struct vreg linked = *reg;
    *reg = *known;
    apply_link(&reg->b, known->add_const, -(int64_t)known->off); /* the base */
    apply_link(&reg->b, linked.add_const, linked.off);
    reg->id = linked.id;
    reg->off = linked.off;
    reg->add_const = linked.add_const;
}

/* After refining a scalar with an id, its copies learn the same. */
static void spread_scalar(struct vstate *st, unsigned regno)
{
    struct vreg *reg = &st->regs[regno];
    if (reg->type != SCALAR_VALUE || !reg->id)
        return;
    struct vreg model = *reg;
    struct same_id s = {model.id, &model};
    ebpfvm__state_for_each_reg(st, copy_scalar_if_same, &s);
}

struct pkt_learn {
    uint8_t type;
    uint32_t id;
    uint32_t range;
};

static void learn_range(struct vreg *reg, void *ud)
{
    struct pkt_learn *p = ud;
    if (reg->type == p->type && reg->id == p->id && reg->range < p->range)
        reg->range = p->range;
}

/* The kernel's MAX_PACKET_OFF: no range is learned past it. */
#define MAX_PACKET_OFF 0xffff

/* ptr <= its limit holds in st (ptr < limit when strict): the bytes
 * [base, base + ptr.off) (one more when strict) are in - the kernel's
 * find_good_pkt_pointers, with its limits against overflow. */
static void mark_pkt_range(struct vstate *st, const struct vreg *ptr, bool strict)
{
    if (ptr->off < 0 || (ptr->off == 0 && strict))
        return;
    if (ptr->b.umax > MAX_PACKET_OFF || ptr->b.umax + (uint64_t)ptr->off > MAX_PACKET_OFF)
        return;
    struct pkt_learn p = {ptr->type, ptr->id, (uint32_t)ptr->off + (strict ? 1u : 0u)};
    if (p.range == 0)
        return;
    ebpfvm__state_for_each_reg(st, learn_range, &p);
}

struct null_mark {
    uint32_t id;
    bool is_null;
    uint32_t released_ref;
};

static void mark_null_or_ptr(struct vreg *reg, void *ud)
{
    struct null_mark *m = ud;
    if ((reg->type != PTR_TO_MAP_VALUE_OR_NULL && reg->type != PTR_TO_MEM_OR_NULL) || reg->id != m->id)
        return;
    if (m->is_null) {
        if (reg->ref_obj_id)
            m->released_ref = reg->ref_obj_id;
        ebpfvm__mark_reg_const(reg, 0);
        return;
    }
    ebpfvm__mark_ptr_not_null(reg); /* map-in-map: a map_ptr to the template */
    reg->id = 0;
}

static void release_ref(struct vstate *st, uint32_t ref)
{
    for (uint32_t i = 0; i < st->nrefs; i++) {
        if (st->refs[i] != ref)
            continue;
        memmove(&st->refs[i], &st->refs[i + 1], (st->nrefs - i - 1) * sizeof st->refs[0]);
        memmove(&st->ref_insn[i], &st->ref_insn[i + 1], (st->nrefs - i - 1) * sizeof st->ref_insn[0]);
        st->nrefs--;
        return;
    }
}

static void mark_null_check(struct vstate *st, uint32_t id, bool is_null)
{
    struct null_mark m = {id, is_null, 0};
    ebpfvm__state_for_each_reg(st, mark_null_or_ptr, &m);
    if (m.released_ref)
        release_ref(st, m.released_ref);
}

/* -------------------------------------------------------- cond jumps */

static bool known_not_null(const struct vreg *reg)
{
    return reg->type == PTR_TO_MAP_VALUE || reg->type == PTR_TO_MEM;
}

static bool is_or_null(const struct vreg *reg)
{
    return reg->type == PTR_TO_MAP_VALUE_OR_NULL || reg->type == PTR_TO_MEM_OR_NULL;
}

static bool is_const_zero(const struct vreg *reg)
{
    return reg->type == SCALAR_VALUE && ebpfvm__bounds_is_const(&reg->b) && reg->b.var_off.value == 0;
}

/* Whether dst (pkt-like) compared with src matches "pkt' vs pkt_end" or
 * "pkt_meta' vs pkt"; sets *limited to the pointer that gets a range. */
static bool pkt_pair(const struct vreg *ptr, const struct vreg *limit)
{
    if (ptr->type == PTR_TO_PACKET && limit->type == PTR_TO_PACKET_END)
        return true;
    return ptr->type == PTR_TO_PACKET_META && limit->type == PTR_TO_PACKET && limit->off == 0 &&
           ebpfvm__bounds_is_const(&limit->b) && limit->b.var_off.value == 0;
}

int ebpfvm__check_cond_jmp(struct venv *env, uint32_t pc, uint32_t *next)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    unsigned op = EBPF_OP(insn->opcode);
    bool is32 = EBPF_CLASS(insn->opcode) == EBPF_CLASS_JMP32;
    bool reg_src = EBPF_SRC(insn->opcode) == EBPF_SRC_X;
    uint32_t target = env->code[pc].u.target, fall = pc + 1;
    struct vstate *st = env->cur;

    if (ebpfvm__check_reg_read(env, insn->dst_reg))
        return -1;
    if (reg_src && ebpfvm__check_reg_read(env, insn->src_reg))
        return -1;
    struct vreg *dst = &st->regs[insn->dst_reg];
    struct vreg imm;
    ebpfvm__mark_reg_const(&imm, (uint64_t)(int64_t)insn->imm);
    struct vreg *src = reg_src ? &st->regs[insn->src_reg] : &imm;

    if (ebpfvm__reg_is_ptr(dst) || ebpfvm__reg_is_ptr(src)) {
        bool eq_op = op == EBPF_JMP_JEQ || op == EBPF_JMP_JNE;
        /* NULL checks of a lookup's result. */
        if (!is32 && eq_op && (is_or_null(dst) || is_or_null(src))) {
            const struct vreg *ptr = is_or_null(dst) ? dst : src;
            const struct vreg *other = ptr == dst ? src : dst;
            if (is_const_zero(other)) {
                uint32_t id = ptr->id;
                bool taken_is_null = op == EBPF_JMP_JEQ;
                if (ebpfvm__push_branch(env, st, target, pc))
                    return -1;
                struct vstate *taken = env->pending[env->npending - 1].st;
                mark_null_check(taken, id, taken_is_null);
                mark_null_check(st, id, !taken_is_null);
                *next = fall;
                return 0;
            }
        }
        /* ptr_or_null == ptr: on the equal side the first is not NULL
         * either (the kernel marks that one register). */
        if (!is32 && eq_op && reg_src && ebpfvm__reg_is_ptr(dst) && ebpfvm__reg_is_ptr(src) &&
            is_or_null(dst) != is_or_null(src)) {
            if (ebpfvm__push_branch(env, st, target, pc))
                return -1;
            struct vstate *eq = op == EBPF_JMP_JEQ ? env->pending[env->npending - 1].st : st;
            struct vreg *r = &eq->regs[is_or_null(dst) ? insn->dst_reg : insn->src_reg];
            ebpfvm__mark_ptr_not_null(r);
            *next = fall;
            return 0;
        }
        /* A map value or memory pointer is never NULL (the kernel's
         * reg_not_null; it decides nothing for the others - ctx, stack,
         * packet - and neither does ebpfvm: both branches are explored). */
        if (!is32 && eq_op && ((known_not_null(dst) && is_const_zero(src)) || (known_not_null(src) && is_const_zero(dst)))) {
            *next = op == EBPF_JMP_JNE ? target : fall;
            return 0;
        }
        if (ebpfvm__push_branch(env, st, target, pc))
            return -1;
        struct vstate *taken = env->pending[env->npending - 1].st;
        bool lt_op = op == EBPF_JMP_JLT || op == EBPF_JMP_JLE, gt_op = op == EBPF_JMP_JGT || op == EBPF_JMP_JGE;
        bool or_equal = op == EBPF_JMP_JGE || op == EBPF_JMP_JLE;
        if (!is32 && reg_src && (lt_op || gt_op)) {
            /* pkt' > end: in range when not taken; pkt' < end: when taken
             * (strictly below end for JGE's fall-through and JLT). */
            if (pkt_pair(dst, src))
                mark_pkt_range(gt_op ? st : taken, dst, gt_op == or_equal);
            /* end > pkt': in range when taken; end < pkt': when not. */
            else if (pkt_pair(src, dst))
                mark_pkt_range(gt_op ? taken : st, src, gt_op != or_equal);
        }
        *next = fall;
        return 0;
    }

    int decided = ebpfvm__bounds_branch_taken(&dst->b, &src->b, op, is32);
    if (decided >= 0)
        ebpfvm__note_decided(env, pc); /* for widening (precision.c) */
    if (decided == 1) {
        *next = target;
        return 0;
    }
    if (decided == 0) {
        *next = fall;
        return 0;
    }
    /* Both branches are possible: refine each. */
    struct vreg tdst = *dst, tsrc = *src, fdst = *dst, fsrc = *src;
    bool taken_ok = ebpfvm__bounds_refine(&tdst.b, &tsrc.b, op, is32, true);
    bool fall_ok = ebpfvm__bounds_refine(&fdst.b, &fsrc.b, op, is32, false);
    if (!taken_ok || !fall_ok)
        ebpfvm__note_decided(env, pc); /* one side impossible: decided too */
    if (taken_ok) {
        if (ebpfvm__push_branch(env, st, target, pc))
            return -1;
        struct vstate *taken = env->pending[env->npending - 1].st;
        taken->regs[insn->dst_reg] = tdst;
        spread_scalar(taken, insn->dst_reg);
        if (reg_src) {
            taken->regs[insn->src_reg] = tsrc;
            spread_scalar(taken, insn->src_reg);
        }
    }
    if (!fall_ok) {
        /* Only the jump is possible: continue there (it was pushed). */
        return 1;
    }
    *dst = fdst;
    spread_scalar(st, insn->dst_reg);
    if (reg_src) {
        st->regs[insn->src_reg] = fsrc;
        spread_scalar(st, insn->src_reg);
    }
    *next = fall;
    return 0;
}

/* ------------------------------------------------------- helper calls */

static void invalidate_pkt(struct vreg *reg, void *ud)
{
    (void)ud;
    if (reg->type == PTR_TO_PACKET || reg->type == PTR_TO_PACKET_END || reg->type == PTR_TO_PACKET_META)
        ebpfvm__mark_reg_unknown(reg);
}

struct ref_release {
    uint32_t ref;
};

static void invalidate_ref(struct vreg *reg, void *ud)
{
    struct ref_release *r = ud;
    if (reg->ref_obj_id == r->ref)
        ebpfvm__mark_reg_unknown(reg);
}

static const char *helper_name(const struct venv *env, int32_t id)
{
    const struct ebpfvm_helper *h = &env->vm->helpers[id];
    return h->name ? h->name : "?";
}

static int expect_type(struct venv *env, unsigned regno, uint8_t type, const char *expected)
{
    const struct vreg *reg = &env->cur->regs[regno];
    if (reg->type != type)
        return ebpfvm__verr(env, "R%u type=%s expected=%s", regno, ebpfvm__vtype_name(reg->type), expected);
    return 0;
}

static bool is_mem_ptr(const struct vreg *reg)
{
    switch (reg->type) {
    case PTR_TO_STACK:
    case PTR_TO_PACKET:
    case PTR_TO_PACKET_META:
    case PTR_TO_MAP_VALUE:
    case PTR_TO_MEM:
        return true;
    default:
        return false;
    }
}

static int check_mem_arg(struct venv *env, unsigned regno, uint64_t size, bool write)
{
    const struct vreg *reg = &env->cur->regs[regno];
    if (!is_mem_ptr(reg))
        return ebpfvm__verr(env, "R%u type=%s expected=fp, pkt, pkt_meta, map_value, mem", regno,
                            ebpfvm__vtype_name(reg->type));
    return ebpfvm__check_mem_region(env, regno, 0, size, write, true);
}

/* The kernel's check_ptr_alignment with strict alignment (MEM_ALIGNED
 * helper arguments): R[regno] + 0 aligned to size, packet pointers with
 * NET_IP_ALIGN (2) added. */
static int check_arg_alignment(struct venv *env, unsigned regno, unsigned size)
{
    const struct vreg *reg = &env->cur->regs[regno];
    int ip_align = 0;
    const char *desc = "";
    switch (reg->type) {
    case PTR_TO_PACKET:
    case PTR_TO_PACKET_META: ip_align = 2; break;
    case PTR_TO_MAP_VALUE: desc = "value "; break;
    case PTR_TO_STACK: desc = "stack "; break;
    default: break;
    }
    struct tnum at = ebpfvm__tnum_add(reg->b.var_off, ebpfvm__tnum_const((uint64_t)(int64_t)(ip_align + reg->off)));
    if (((at.value | at.mask) & (uint64_t)(size - 1)) == 0)
        return 0;
    char tn[64];
    if (ebpfvm__tnum_is_const(reg->b.var_off))
        snprintf(tn, sizeof tn, "%lld", (long long)ebpf_as_s64(reg->b.var_off.value));
    else
        ebpfvm__tnum_str(reg->b.var_off, tn, sizeof tn);
    if (ip_align)
        return ebpfvm__verr(env, "misaligned packet access off %d+%s+%d+%d size %u", ip_align, tn, reg->off, 0, size);
    return ebpfvm__verr(env, "misaligned %saccess off %s+%d+%d size %u", desc, tn, reg->off, 0, size);
}

/* The size argument in R[regno] of a memory argument in R[regno - 1]. */
static int check_size_arg(struct venv *env, unsigned regno, bool zero_ok, bool write)
{
    if (ebpfvm__check_reg_read(env, regno))
        return -1;
    const struct vreg *size = &env->cur->regs[regno];
    if (size->type != SCALAR_VALUE)
        return ebpfvm__verr(env, "R%u type=%s expected=scalar", regno, ebpfvm__vtype_name(size->type));
    if (size->b.smin < 0)
        return ebpfvm__verr(env,
                            "R%u min value is negative, either use unsigned index or do a if (index >=0) check.",
                            regno);
    if (size->b.umin == 0 && !zero_ok)
        return ebpfvm__verr(env, "R%u invalid zero-sized read", regno);
    if (size->b.umax >= (uint64_t)MAX_VAR_OFF)
        return ebpfvm__verr(env, "R%u unbounded memory access, use 'var &= const' or 'if (var < const)'", regno);
    if (size->b.umax == 0)
        return 0;
    return check_mem_arg(env, regno - 1, size->b.umax, write);
}

static int push_callback(struct venv *env, uint32_t pc);
static int invalid_r0_range(struct venv *env, const char *what, const struct vreg *r0, int64_t lo, int64_t hi);

static bool map_helper(int32_t id)
{
    return id == EBPF_HELPER_map_lookup_elem || id == EBPF_HELPER_map_update_elem ||
           id == EBPF_HELPER_map_delete_elem;
}

static bool ringbuf_helper(int32_t id)
{
    return id == EBPF_HELPER_ringbuf_output || id == EBPF_HELPER_ringbuf_reserve;
}

int ebpfvm__check_helper_call(struct venv *env, uint32_t pc)
{
    int32_t id = env->insns[pc].imm;
    struct vstate *st = env->cur;
    if (id <= 0 || id > EBPFVM_MAX_HELPER_ID || !env->vm->helpers || !env->vm->helpers[id].fn)
        return ebpfvm__verr(env, "invalid func unknown#%d", id);
    if (env->desc && env->desc->helper_allowed && !env->desc->helper_allowed((uint32_t)id))
        return ebpfvm__verr(env, "unknown func bpf_%s#%d", helper_name(env, id), id);
    const struct ebpfvm_helper_proto *proto = &env->vm->helpers[id].proto;
    struct ebpfvm_map *map = NULL;
    uint64_t const_size = 0;
    uint32_t release = 0;

    for (unsigned i = 0; i < 5; i++) {
        enum ebpfvm_arg_kind kind = proto->args[i];
        unsigned regno = i + 1;
        if (kind == EBPFVM_ARG_NONE)
            break;
        if (ebpfvm__check_reg_read(env, regno))
            return -1;
        struct vreg *reg = &st->regs[regno];
        if (ebpfvm__reg_is_pkt(reg) && !(proto->flags & EBPFVM_HELPER_PKT_ACCESS) &&
            (kind == EBPFVM_ARG_PTR_TO_MAP_KEY || kind == EBPFVM_ARG_PTR_TO_MAP_VALUE || kind == EBPFVM_ARG_PTR_TO_MEM ||
             kind == EBPFVM_ARG_PTR_TO_MEM_OR_NULL || kind == EBPFVM_ARG_PTR_TO_UNINIT_MEM ||
             kind == EBPFVM_ARG_PTR_TO_LONG))
            return ebpfvm__verr(env, "helper access to the packet is not allowed");
        switch (kind) {
        case EBPFVM_ARG_ANYTHING:
            break;
        case EBPFVM_ARG_SCALAR:
            if (expect_type(env, regno, SCALAR_VALUE, "scalar"))
                return -1;
            break;
        case EBPFVM_ARG_CONST_MAP_PTR:
            if (expect_type(env, regno, CONST_PTR_TO_MAP, "map_ptr"))
                return -1;
            map = reg->map;
            if ((map_helper(id) && (map->type == EBPFVM_MAP_RINGBUF || map->type == EBPFVM_MAP_PROG_ARRAY)) ||
                map->type == EBPFVM_MAP_USER_RINGBUF || /* only bpf_user_ringbuf_drain, not provided */
                map->type == EBPFVM_MAP_SK_STORAGE ||   /* only bpf_sk_storage_*, not provided */
                /* socket maps: the kernel passes them to sock helpers ebpfvm does not provide, and
                 * sockmap/sockhash also to bpf_map_lookup_elem (returns a socket reference) and
                 * update/delete (take a socket): no ebpfvm program type ever holds a socket */
                map->type == EBPFVM_MAP_SOCKMAP || map->type == EBPFVM_MAP_SOCKHASH ||
                map->type == EBPFVM_MAP_REUSEPORT_SOCKARRAY ||
                (map->inner_meta && id != EBPF_HELPER_map_lookup_elem) || /* map-in-map: lookup only */
                (ringbuf_helper(id) && map->type != EBPFVM_MAP_RINGBUF))
                return ebpfvm__verr(env, "cannot pass map_type %d into func bpf_%s#%d", (int)map->type,
                                    helper_name(env, id), id);
            break;
        case EBPFVM_ARG_PTR_TO_MAP_KEY:
        case EBPFVM_ARG_PTR_TO_MAP_VALUE:
            if (!map)
                return ebpfvm__verr(env, "invalid map_ptr to access map->%s",
                                    kind == EBPFVM_ARG_PTR_TO_MAP_KEY ? "key" : "value");
            if (check_mem_arg(env, regno, kind == EBPFVM_ARG_PTR_TO_MAP_KEY ? map->key_size : map->value_size,
                              false))
                return -1;
            break;
        case EBPFVM_ARG_PTR_TO_CTX:
            if (expect_type(env, regno, PTR_TO_CTX, "ctx"))
                return -1;
            if (reg->off || !ebpfvm__bounds_is_const(&reg->b) || reg->b.var_off.value)
                return ebpfvm__verr(env, "dereference of modified ctx ptr R%u off=%d disallowed", regno, reg->off);
            break;
        case EBPFVM_ARG_PTR_TO_MEM:
        case EBPFVM_ARG_PTR_TO_MEM_OR_NULL:
        case EBPFVM_ARG_PTR_TO_UNINIT_MEM: {
            enum ebpfvm_arg_kind next = i + 1 < 5 ? proto->args[i + 1] : EBPFVM_ARG_NONE;
            if (next != EBPFVM_ARG_CONST_SIZE && next != EBPFVM_ARG_CONST_SIZE_OR_ZERO)
                return ebpfvm__verr(env, "helper %s#%d: memory argument R%u has no size argument",
                                    helper_name(env, id), id, regno);
            /* NULL (the scalar 0) where the prototype allows it: only a
             * size of 0 is then accepted (check_size_arg checks memory,
             * and rejects the scalar, for any size above 0). */
            bool null_ok = kind == EBPFVM_ARG_PTR_TO_MEM_OR_NULL && reg->type == SCALAR_VALUE &&
                           ebpfvm__bounds_is_const(&reg->b) && reg->b.var_off.value == 0;
            if (!is_mem_ptr(reg) && !null_ok)
                return ebpfvm__verr(env, "R%u type=%s expected=fp, pkt, pkt_meta, map_value, mem", regno,
                                    ebpfvm__vtype_name(reg->type));
            if (check_size_arg(env, regno + 1, next == EBPFVM_ARG_CONST_SIZE_OR_ZERO,
                               kind == EBPFVM_ARG_PTR_TO_UNINIT_MEM))
                return -1;
            i++; /* the size argument is checked */
            break;
        }
        case EBPFVM_ARG_CONST_SIZE:
        case EBPFVM_ARG_CONST_SIZE_OR_ZERO:
            /* A size without a memory argument before it (ringbuf_reserve). */
            if (expect_type(env, regno, SCALAR_VALUE, "scalar"))
                return -1;
            if (!ebpfvm__bounds_is_const(&reg->b))
                return ebpfvm__verr(env, "R%u is not a known constant'", regno);
            const_size = reg->b.var_off.value;
            break;
        case EBPFVM_ARG_PTR_TO_ALLOC_MEM:
            if (reg->type != PTR_TO_MEM || !reg->ref_obj_id)
                return ebpfvm__verr(env, "R%u type=%s expected=ringbuf_mem", regno, ebpfvm__vtype_name(reg->type));
            if (reg->off || !ebpfvm__bounds_is_const(&reg->b) || reg->b.var_off.value)
                return ebpfvm__verr(env, "R%u must have zero offset when passed to release func", regno);
            release = reg->ref_obj_id;
            break;
        case EBPFVM_ARG_PTR_TO_STACK:
            if (expect_type(env, regno, PTR_TO_STACK, "fp"))
                return -1;
            break;
        case EBPFVM_ARG_PTR_TO_STACK_OR_NULL:
            if (reg->type == SCALAR_VALUE && ebpfvm__bounds_is_const(&reg->b) && reg->b.var_off.value == 0)
                break;
            if (expect_type(env, regno, PTR_TO_STACK, "fp"))
                return -1;
            break;
        case EBPFVM_ARG_PTR_TO_FUNC:
            if (expect_type(env, regno, PTR_TO_FUNC, "func"))
                return -1;
            break;
        case EBPFVM_ARG_PTR_TO_LONG:
            /* 8 writable bytes (uninitialised allowed; on the stack they
             * are initialised after the call), then strict alignment: the
             * kernel's ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE |
             * MEM_ALIGNED of sizeof(u64), bounds before alignment. */
            if (check_mem_arg(env, regno, 8, true) || check_arg_alignment(env, regno, 8))
                return -1;
            break;
        default:
            env->err = EBPFVM_ERR_UNSUPP;
            return ebpfvm__verr(env, "helper %s#%d: argument kind %d of R%u is not supported by the verifier",
                                helper_name(env, id), id, (int)kind, regno);
        }
    }

    if (ebpfvm__helper_calls_back(id) && push_callback(env, pc))
        return -1;
    if (release) {
        struct ref_release r = {release};
        ebpfvm__state_for_each_reg(st, invalidate_ref, &r);
        release_ref(st, release);
    }
    for (unsigned r = 1; r <= 5; r++)
        ebpfvm__mark_reg_not_init(&st->regs[r]);
    struct vreg *r0 = &st->regs[0];
    switch (proto->ret) {
    case EBPFVM_RET_VOID:
        ebpfvm__mark_reg_not_init(r0);
        break;
    case EBPFVM_RET_MAP_VALUE_OR_NULL:
        if (!map)
            return ebpfvm__verr(env, "kernel subsystem misconfigured verifier");
        ebpfvm__mark_reg_ptr(r0, PTR_TO_MAP_VALUE_OR_NULL);
        r0->map = map;
        r0->id = ebpfvm__new_id(env);
        break;
    case EBPFVM_RET_ALLOC_MEM_OR_NULL:
        if (st->nrefs == MAX_REFS)
            return ebpfvm__verr(env, "too many references held (%u)", st->nrefs);
        if (const_size > UINT32_MAX)
            return ebpfvm__verr(env, "R2 size %llu is too large", (unsigned long long)const_size);
        ebpfvm__mark_reg_ptr(r0, PTR_TO_MEM_OR_NULL);
        r0->mem_size = (uint32_t)const_size;
        r0->id = ebpfvm__new_id(env);
        r0->ref_obj_id = r0->id;
        st->refs[st->nrefs] = r0->id;
        st->ref_insn[st->nrefs] = pc;
        st->nrefs++;
        break;
    default:
        ebpfvm__mark_reg_unknown(r0);
        break;
    }
    st->written |= 0x3fu;
    if (proto->flags & EBPFVM_HELPER_CHANGES_PACKET)
        ebpfvm__state_for_each_reg(st, invalidate_pkt, NULL);
    return 0;
}

/* -------------------------------------------------------------- exit */

int ebpfvm__check_exit(struct venv *env, uint32_t pc)
{
    (void)pc;
    struct vstate *st = env->cur;
    if (ebpfvm__check_reg_read(env, 0))
        return -1;
    const struct vreg *r0 = &st->regs[0];
    /* Linux lets a privileged loader return a pointer. */
    if (env->strict && ebpfvm__reg_is_ptr(r0))
        return ebpfvm__verr(env, "R0 leaks addr as return value");
    if (st->nrefs) {
        ebpfvm__verr(env, "Unreleased reference id=%u alloc_insn=%u", st->refs[0], st->ref_insn[0]);
        return ebpfvm__verr(env, "BPF_EXIT instruction in main prog would lead to reference leak");
    }
    if (env->desc && env->desc->ret_checked && r0->type != SCALAR_VALUE)
        return ebpfvm__verr(env, "At program exit the register R0 is not a known value (%s)",
                            ebpfvm__reg_type_name(r0));
    if (env->desc && env->desc->ret_checked &&
        (r0->b.smin < env->desc->ret_min || r0->b.smax > env->desc->ret_max))
        return invalid_r0_range(env, "At program exit", r0, env->desc->ret_min, env->desc->ret_max);
    return 0;
}

/* ------------------------------------------------ bpf-to-bpf calls */

/* Push st's running frame (left by the call at pc) and start a callee's:
 * r1-r5 as they are, its own frame pointer, everything else unknown. */
static int enter_frame(struct venv *env, struct vstate *st, uint32_t pc)
{
    if (st->curframe + 1 >= EBPF_MAX_CALL_DEPTH)
        return ebpfvm__verr(env, "the call stack of %u frames is too deep", st->curframe + 2);
    struct vframe *callers = ebpfvm__alloc(env->vm, (st->curframe + 1) * sizeof *callers);
    if (!callers) {
        env->err = EBPFVM_ERR_NOMEM;
        return ebpfvm__verr(env, "out of memory");
    }
    if (st->curframe)
        memcpy(callers, st->callers, st->curframe * sizeof *callers);
    struct vframe *saved = &callers[st->curframe];
    memcpy(saved->regs, st->regs, sizeof saved->regs);
    memcpy(saved->stack, st->stack, sizeof saved->stack);
    memcpy(saved->spills, st->spills, sizeof saved->spills);
    saved->callsite = pc;
    saved->callback_depth = st->callback_depth;
    saved->in_callback = st->in_callback;
    ebpfvm__free(env->vm, st->callers);
    st->callers = callers;
    st->curframe++;
    st->callback_depth = 0;
    st->in_callback = 0;
    ebpfvm__mark_reg_not_init(&st->regs[0]);
    for (int r = 6; r < EBPF_NREGS; r++)
        ebpfvm__mark_reg_not_init(&st->regs[r]);
    ebpfvm__mark_reg_ptr(&st->regs[EBPF_REG_FP], PTR_TO_STACK);
    st->regs[EBPF_REG_FP].frameno = (uint8_t)st->curframe;
    memset(st->stack, STACK_INVALID, sizeof st->stack);
    memset(st->spills, 0, sizeof st->spills);
    return 0;
}

int ebpfvm__check_local_call(struct venv *env, uint32_t pc, uint32_t *next)
{
    if (enter_frame(env, env->cur, pc))
        return -1;
    *next = env->code[pc].u.target;
    return 0;
}

/*
 * bpf_loop(nr, callback, ctx, flags) at pc, its arguments checked: the
 * kernel's push_callback_call. The current path goes on past the call as
 * if the loop ran no more iterations; a copy of the state is queued that
 * enters the callback (r1 = the index, unknown; r2 = ctx) with this
 * frame's callback_depth one higher. The callback's exit comes back to
 * this call with its effects (ebpfvm__check_return), which queues the next
 * iteration, until callback_depth reaches nr's upper bound or the state at
 * the call repeats inside an earlier one's ranges (verifier.c prunes it).
 */
static int push_callback(struct venv *env, uint32_t pc)
{
    struct vstate *st = env->cur;
    const struct vreg *nr = &st->regs[1];
    if (st->callback_depth >= nr->b.umax) {
        st->callback_depth = 0; /* the kernel's "bpf_loop iteration limit reached" */
        return 0;
    }
    uint32_t target = (uint32_t)st->regs[2].off;
    if (ebpfvm__push_branch(env, st, target, pc))
        return -1;
    struct vstate *cb = env->pending[env->npending - 1].st;
    struct vreg ctx = cb->regs[3];
    cb->callback_depth++;
    if (enter_frame(env, cb, pc))
        return -1;
    cb->in_callback = 1;
    cb->callback_unroll_depth++;
    ebpfvm__mark_reg_unknown(&cb->regs[1]);
    cb->regs[2] = ctx;
    for (int r = 3; r <= 5; r++)
        ebpfvm__mark_reg_not_init(&cb->regs[r]);
    st->callback_depth = 0;
    return 0;
}

/* "<what> the register R0 has smin=.. smax=.. should have been in [lo, hi]"
 * (the kernel's verbose_invalid_scalar). */
static int invalid_r0_range(struct venv *env, const char *what, const struct vreg *r0, int64_t lo, int64_t hi)
{
    char text[200];
    size_t n = 0;
    bool unknown = true;
    n += (size_t)snprintf(text + n, sizeof text - n, "%s the register R0 has", what);
    if (r0->b.smin > INT64_MIN) {
        n += (size_t)snprintf(text + n, sizeof text - n, " smin=%lld", (long long)r0->b.smin);
        unknown = false;
    }
    if (r0->b.smax < INT64_MAX && n < sizeof text) {
        n += (size_t)snprintf(text + n, sizeof text - n, " smax=%lld", (long long)r0->b.smax);
        unknown = false;
    }
    if (unknown && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, " unknown scalar value");
    if (n < sizeof text)
        snprintf(text + n, sizeof text - n, " should have been in [%lld, %lld]", (long long)lo, (long long)hi);
    return ebpfvm__verr(env, "%s", text);
}

int ebpfvm__check_return(struct venv *env, uint32_t pc, uint32_t *next)
{
    (void)pc;
    struct vstate *st = env->cur;
    /* Like the kernel's prepare_func_exit: r0 goes back to the caller as
     * it is, uninitialised included (the caller's read of it fails). */
    struct vreg r0 = st->regs[0];
    if (r0.type == PTR_TO_STACK)
        return ebpfvm__verr(env, "cannot return stack pointer to the caller");
    bool callback = st->in_callback;
    if (callback) {
        /* A bpf_loop callback returns 0 (go on) or 1 (stop). */
        if (ebpfvm__check_reg_read(env, 0))
            return -1;
        if (r0.type != SCALAR_VALUE)
            return ebpfvm__verr(env, "R0 not a scalar value");
        if (r0.b.smin < 0 || r0.b.smax > 1)
            return invalid_r0_range(env, "At callback return", &r0, 0, 1);
    }
    struct vframe *saved = &st->callers[st->curframe - 1];
    memcpy(st->regs, saved->regs, sizeof st->regs);
    memcpy(st->stack, saved->stack, sizeof st->stack);
    memcpy(st->spills, saved->spills, sizeof st->spills);
    st->callback_depth = saved->callback_depth;
    st->in_callback = saved->in_callback;
    uint32_t callsite = saved->callsite;
    st->curframe--; /* saved is freed below when it was the last caller */
    if (!st->curframe) {
        ebpfvm__free(env->vm, st->callers);
        st->callers = NULL;
    }
    if (callback) {
        /* Back to the helper call with the caller's registers as they
         * were: it runs again and queues the next iteration. Scalars the
         * iterations change and nothing checks are widened against the
         * previous visit of the call. */
        *next = callsite;
        const struct vstate *prev = ebpfvm__find_prev_entry(env, st, *next, NULL);
        if (prev)
            ebpfvm__widen_imprecise_scalars(env, prev, st, *next);
        return 0;
    }
    *next = callsite + 1;
    st->regs[0] = r0;
    for (int r = 1; r <= 5; r++)
        ebpfvm__mark_reg_not_init(&st->regs[r]);
    st->written |= 0x3fu;
    return 0;
}

/* ------------------------------------------------------------ kfuncs */

/*
 * The open-coded numeric iterator, bpf_iter_num_{new,next,destroy} (the
 * kernel's process_iter_arg, mark_stack_slots_iter, process_iter_next_call):
 *   - new(&it, start, end) takes 8 bytes of stack at a constant, aligned
 *     offset that hold no iterator, and makes them one: ACTIVE, depth 0,
 *     holding a new reference (released by destroy; the exit reports a
 *     leak);
 *   - next(&it) on an ACTIVE iterator queues the path where it returns an
 *     element (a read-only int, not NULL) with the depth one higher and
 *     scalars widened against the previous visit, and goes on with the
 *     path where it returned NULL (the iterator DRAINED) - the loop's exit
 *     is explored first, as for may_goto; the loop converges when a later
 *     visit of next() lies within an earlier one (verifier.c);
 *   - destroy(&it) releases the reference and the stack bytes.
 */
static bool iter_initialized(const uint8_t *bytes, const struct vreg *meta);

/* The stack slot R1 addresses as an iterator's: its spills[] entry and its
 * bytes; NULL and the reason (the kernel's words) when R1 cannot hold one. */
static const char *locate_iter(struct vstate *st, struct vreg **meta, uint8_t **bytes, int64_t *off)
{
    const struct vreg *r1 = &st->regs[1];
    if (r1->type != PTR_TO_STACK)
        return "arg#0 expected pointer to an iterator on stack";
    if (!ebpfvm__tnum_is_const(r1->b.var_off))
        return "iter has to be at a constant offset";
    *off = (int64_t)r1->off + ebpf_as_s64(r1->b.var_off.value);
    if (*off % 8 || *off < -EBPF_STACK_SIZE || *off >= 0)
        return "cannot pass in iter at an offset";
    if (r1->frameno > st->curframe)
        return "R1 points to the stack of a returned frame";
    int slot = (int)(*off + EBPF_STACK_SIZE) / 8;
    bool own = r1->frameno >= st->curframe;
    *meta = own ? &st->spills[slot] : &st->callers[r1->frameno].spills[slot];
    *bytes = own ? &st->stack[slot * 8] : &st->callers[r1->frameno].stack[slot * 8];
    return NULL;
}

static int iter_slot(struct venv *env, struct vstate *st, struct vreg **meta, uint8_t **bytes)
{
    int64_t off = 0;
    const char *why = locate_iter(st, meta, bytes, &off);
    if (why && !strcmp(why, "cannot pass in iter at an offset"))
        return ebpfvm__verr(env, "%s=%lld", why, (long long)off);
    return why ? ebpfvm__verr(env, "%s", why) : 0;
}

struct vreg *ebpfvm__iter_of_r1(struct vstate *st)
{
    struct vreg *meta;
    uint8_t *bytes;
    int64_t off;
    if (locate_iter(st, &meta, &bytes, &off) || !iter_initialized(bytes, meta))
        return NULL;
    return meta;
}

static bool iter_initialized(const uint8_t *bytes, const struct vreg *meta)
{
    for (int i = 0; i < 8; i++)
        if (bytes[i] != STACK_ITER)
            return false;
    return meta->ref_obj_id != 0;
}

int ebpfvm__check_kfunc_call(struct venv *env, uint32_t pc)
{
    struct vstate *st = env->cur;
    int32_t id = env->code[pc].u.imm;
    struct vreg *meta = NULL;
    uint8_t *bytes = NULL;
    if (ebpfvm__check_reg_read(env, 1) || iter_slot(env, st, &meta, &bytes))
        return -1;
    switch (id) {
    case EBPFVM_KFUNC_ITER_NUM_NEW: {
        if (ebpfvm__check_reg_read(env, 2) || ebpfvm__check_reg_read(env, 3))
            return -1;
        for (unsigned r = 2; r <= 3; r++)
            if (st->regs[r].type != SCALAR_VALUE)
                return ebpfvm__verr(env, "R%u is not a scalar", r);
        if (memchr(bytes, STACK_ITER, 8))
            return ebpfvm__verr(env, "expected uninitialized iter_num as arg #0");
        if (st->nrefs == MAX_REFS)
            return ebpfvm__verr(env, "too many references held (%u)", st->nrefs);
        uint32_t ref = ebpfvm__new_id(env);
        st->refs[st->nrefs] = ref;
        st->ref_insn[st->nrefs] = pc;
        st->nrefs++;
        memset(bytes, STACK_ITER, 8);
        ebpfvm__mark_reg_ptr(meta, PTR_TO_STACK);
        meta->ref_obj_id = ref;
        meta->off = ITER_ACTIVE;
        meta->range = 0;
        for (unsigned r = 1; r <= 5; r++)
            ebpfvm__mark_reg_not_init(&st->regs[r]);
        ebpfvm__mark_reg_unknown(&st->regs[0]);
        return 0;
    }
    case EBPFVM_KFUNC_ITER_NUM_NEXT: {
        if (!iter_initialized(bytes, meta))
            return ebpfvm__verr(env, "expected an initialized iter_num as arg #0");
        /* Where the iterator is, to find it again in the queued copy. */
        ptrdiff_t meta_at = (const uint8_t *)meta - (const uint8_t *)st;
        bool in_caller = meta < st->spills || meta >= st->spills + NSLOTS;
        uint32_t frameno = st->regs[1].frameno;
        bool active = meta->off == ITER_ACTIVE;
        for (unsigned r = 1; r <= 5; r++)
            ebpfvm__mark_reg_not_init(&st->regs[r]);
        if (active) {
            const struct vstate *prev = ebpfvm__find_prev_entry(env, st, pc, env->just_kept);
            if (ebpfvm__push_branch(env, st, pc + 1, pc))
                return -1;
            struct vstate *q = env->pending[env->npending - 1].st;
            struct vreg *qmeta;
            if (in_caller) {
                size_t slot = (size_t)(meta - st->callers[frameno].spills);
                qmeta = &q->callers[frameno].spills[slot];
            } else {
                qmeta = (struct vreg *)((uint8_t *)q + meta_at);
            }
            qmeta->range++;
            if (prev)
                ebpfvm__widen_imprecise_scalars(env, prev, q, pc + 1);
            ebpfvm__mark_reg_ptr(&q->regs[0], PTR_TO_MEM);
            q->regs[0].mem_size = 4;
            q->regs[0].rdonly = 1;
        }
        meta->off = ITER_DRAINED;
        ebpfvm__mark_reg_const(&st->regs[0], 0);
        return 0;
    }
    case EBPFVM_KFUNC_ITER_NUM_DESTROY: {
        if (!iter_initialized(bytes, meta))
            return ebpfvm__verr(env, "expected an initialized iter_num as arg #0");
        release_ref(st, meta->ref_obj_id);
        memset(bytes, STACK_INVALID, 8);
        ebpfvm__mark_reg_not_init(meta);
        for (unsigned r = 1; r <= 5; r++)
            ebpfvm__mark_reg_not_init(&st->regs[r]);
        ebpfvm__mark_reg_not_init(&st->regs[0]);
        return 0;
    }
    default:
        env->err = EBPFVM_ERR_UNSUPP;
        return ebpfvm__verr(env, "kfunc %d is not supported by the verifier", id);
    }
}
