/*
 * verifier/check_mem.c - loads, stores and atomics (LDX, ST, STX, ATOMIC)
 * and the memory-region check that helper arguments share.
 *
 * Per base register type:
 *   - fp (PTR_TO_STACK, of the running frame or of a caller that passed
 *     the pointer down): a constant offset inside [-512, 0), aligned to the
 *     access size. As the kernel does for a privileged loader, a store of a
 *     scalar of any size at the first byte of an 8-byte slot spills it (its
 *     `size` bytes become STACK_SPILL, the slot's spills[] entry its value
 *     truncated to them; it shares the stored register's id when the value
 *     fits), and a load of at most that many bytes from there fills it back
 *     (truncated; the id kept when the value fits the load); pointers are
 *     spilled and filled by 8-byte accesses only. Other stores make their
 *     bytes STACK_MISC and break a spill in their slot (an unknown scalar
 *     when read); pointers cannot be stored or loaded partially;
 *   - ctx: the field table of the program type (vm/progtype.h), unmodified
 *     pointer only, the exact field size; the result register's type comes
 *     from the field (pkt, pkt_end, pkt_meta or a scalar). The field each
 *     instruction reads is recorded for the context rewrite;
 *   - pkt / pkt_meta: the fixed offset must lie in the range proven by a
 *     comparison with data_end (the variable part is the range's base);
 *   - map_value and mem: [off + smin, off + umax + size) inside the value;
 *   - anything else: "R%d invalid mem access '<type>'".
 * Like Linux for a privileged loader, pointers may be stored anywhere
 * writable, uninitialised stack reads as an unknown scalar, and stack
 * accesses may have a bounded variable offset (every byte it may touch is
 * checked and, for a write, becomes STACK_MISC). EBPFVM_VERIFY_STRICT
 * (env->strict) rejects those as Linux does for unprivileged loaders:
 * "R1 leaks addr into map", "invalid read from stack off -8+0 size 8",
 * "R2 variable stack access prohibited, var_off=...".
 */
#include <string.h>

#include "verifier/verifier_internal.h"
#include "vm/arith.h"

#define MAX_VAR_OFF (1ll << 29)

enum access_mode { READ, WRITE, HELPER_READ, HELPER_WRITE };

static bool is_write(enum access_mode m)
{
    return m == WRITE || m == HELPER_WRITE;
}

/* ------------------------------------------------------------- stack */

/* The stack a stack pointer points into: the running frame's, or (a
 * pointer a caller passed down) one of its callers'. */
struct frame_mem {
    uint8_t *stack;
    struct vreg *spills;
};

static struct frame_mem frame_of(struct venv *env, const struct vreg *reg)
{
    struct vstate *st = env->cur;
    if (reg->frameno >= st->curframe)
        return (struct frame_mem){st->stack, st->spills};
    return (struct frame_mem){st->callers[reg->frameno].stack, st->callers[reg->frameno].spills};
}

/* Data written into bytes [first, last]: they become STACK_MISC, and a
 * spill in a slot they touch is broken - its other initialised bytes
 * become unknown data too (the kernel's scrub_special_slot). */
static void break_iter(uint8_t *stack, int s)
{
    for (int i = 0; i < 8; i++)
        if (stack[s * 8 + i] == STACK_ITER)
            stack[s * 8 + i] = STACK_MISC;
}

static void stack_mark_misc(uint8_t *stack, int first, int last)
{
    /* An iterator written over is gone (its reference stays held: the
     * exit reports the leak, as in the kernel). */
    for (int s = first / 8; s <= last / 8; s++)
        break_iter(stack, s);
    for (int s = first / 8; s <= last / 8; s++)
        if (stack[s * 8] == STACK_SPILL)
            for (int i = 0; i < 8; i++)
                if (stack[s * 8 + i] != STACK_INVALID)
                    stack[s * 8 + i] = STACK_MISC;
    for (int k = first; k <= last; k++)
        stack[k] = STACK_MISC;
}

/* The bytes of slot s holding its spilled register: 0 (no spill), or n,
 * bytes 8s .. 8s + n - 1 (a spill always starts at the slot's first,
 * lowest, byte; the rest of the slot is other data). */
static unsigned spill_size(const uint8_t *stack, int s)
{
    unsigned n = 0;
    while (n < 8 && stack[s * 8 + (int)n] == STACK_SPILL)
        n++;
    return n;
}

/* The number of significant bits of a scalar's largest value (fls64 of
 * umax, the kernel's get_reg_width). */
static unsigned reg_width(const struct vreg *reg)
{
    unsigned w = 0;
    for (uint64_t v = reg->b.umax; v; v >>= 1)
        w++;
    return w;
}

/* A variable-offset stack access (not in strict mode): the bytes it may
 * touch, [*first, *last] as indexes into st->stack, after the kernel's
 * checks (check_stack_access_within_bounds, check_ptr_alignment). */
static int check_stack_var_bounds(struct venv *env, unsigned regno, int32_t off, int64_t size, enum access_mode mode,
                                  int *first, int *last)
{
    const struct vreg *reg = &env->cur->regs[regno];
    char tn[64];
    ebpfvm__tnum_str(reg->b.var_off, tn, sizeof tn);
    if (env->strict)
        return ebpfvm__verr(env, "R%u variable stack access prohibited, var_off=%s", regno, tn);
    int64_t fixed = (int64_t)reg->off + off;
    if ((mode == READ || mode == WRITE) && size > 0) {
        struct tnum at = ebpfvm__tnum_add(reg->b.var_off, ebpfvm__tnum_const((uint64_t)fixed));
        if (((at.value | at.mask) & (uint64_t)(size - 1)) != 0)
            return ebpfvm__verr(env, "misaligned stack access var_off=%s off=%lld size=%lld", tn, (long long)fixed,
                                (long long)size);
    }
    const char *what = mode == HELPER_READ || mode == HELPER_WRITE ? " indirect access to"
                       : is_write(mode)                            ? " write to"
                                                                   : " read from";
    /* Pointer arithmetic keeps |smin|, |smax| below 2^29 ("value ...
     * makes fp pointer be out of bounds"), so lo and hi cannot overflow. */
    int64_t lo = reg->b.smin + fixed, hi = reg->b.smax + fixed + size;
    if (lo < -EBPF_STACK_SIZE || hi > 0 || (size == 0 && hi >= 0))
        return ebpfvm__verr(env, "invalid variable-offset%s stack R%u var_off=%s off=%lld size=%lld", what, regno, tn,
                            (long long)fixed, (long long)size);
    *first = (int)(lo + EBPF_STACK_SIZE);
    *last = (int)(hi + EBPF_STACK_SIZE) - 1;
    return 0;
}

/* A read of [first, last] of a frame's stack as data (a var-off load, a
 * helper's memory argument): every byte initialised unless the mode
 * allows uninitialised reads, no spilled pointer unless pointers may leak. */
static int check_stack_data_read(struct venv *env, unsigned regno, struct frame_mem fm, int first, int last,
                                 bool helper)
{
    for (int k = first; k <= last; k++) {
        uint8_t t = fm.stack[k];
        /* An iterator's bytes are not data (any mode); uninitialised ones
         * are only in strict mode. */
        if (t == STACK_ITER || (t == STACK_INVALID && env->strict)) {
            if (helper)
                return ebpfvm__verr(env, "invalid indirect read from stack R%u off %d+%d size %d", regno,
                                    first - EBPF_STACK_SIZE, k - first, last - first + 1);
            return ebpfvm__verr(env, "invalid read from stack off %d+%d size %d", first - EBPF_STACK_SIZE, k - first,
                                last - first + 1);
        }
        /* A helper copying a spilled pointer (into a map, a ring buffer
         * record, ...) would leak it. */
        if (env->strict && t == STACK_SPILL && ebpfvm__reg_is_ptr(&fm.spills[k / 8]))
            return ebpfvm__verr(env, "R%u leaks addr into helper function", regno);
    }
    return 0;
}

/* Bounds and alignment of a constant-offset stack access; *byte receives
 * the index of its first byte in st->stack. */
static int check_stack_bounds(struct venv *env, unsigned regno, int32_t off, int64_t size, enum access_mode mode,
                              int *byte)
{
    const struct vreg *reg = &env->cur->regs[regno];
    if (reg->frameno > env->cur->curframe)
        return ebpfvm__verr(env, "R%u points to the stack of a returned frame", regno);
    int64_t total = (int64_t)reg->off + ebpf_as_s64(reg->b.var_off.value) + off;
    /* The kernel checks alignment first (stack accesses are always strict). */
    if ((mode == READ || mode == WRITE) && size && total % size != 0)
        return ebpfvm__verr(env, "misaligned stack access off %lld+%d+%d size %lld",
                            (long long)ebpf_as_s64(reg->b.var_off.value), reg->off,
                            (int)(total - reg->off - ebpf_as_s64(reg->b.var_off.value)), (long long)size);
    if (total < -EBPF_STACK_SIZE || total + size > 0 || (size == 0 && total >= 0)) {
        const char *what = is_write(mode) ? " write to" : " read from";
        if (mode == HELPER_READ || mode == HELPER_WRITE)
            return ebpfvm__verr(env, "invalid%s stack R%u off=%lld size=%lld", " indirect access to", regno,
                                (long long)total, (long long)size);
        return ebpfvm__verr(env, "invalid%s stack R%u off=%lld size=%lld", what, regno, (long long)total,
                            (long long)size);
    }
    *byte = (int)(total + EBPF_STACK_SIZE);
    return 0;
}

static int stack_write(struct venv *env, unsigned regno, int32_t off, unsigned size, const struct vreg *value,
                       int valueno)
{
    int k;
    const struct vreg *reg = &env->cur->regs[regno];
    struct frame_mem fm = frame_of(env, reg);
    if (reg->frameno <= env->cur->curframe && !ebpfvm__tnum_is_const(reg->b.var_off)) {
        int last;
        if (check_stack_var_bounds(env, regno, off, size, WRITE, &k, &last))
            return -1;
        if (value && value->type == PTR_TO_STACK && reg->frameno != env->cur->curframe)
            return ebpfvm__verr(env, "cannot spill pointers to stack into stack frame of the caller");
        stack_mark_misc(fm.stack, k, last);
        return 0;
    }
    if (check_stack_bounds(env, regno, off, size, WRITE, &k))
        return -1;
    /* No stack pointer may be stored into a caller's frame (the kernel's
     * rule: a pointer into this frame would outlive it there). */
    if (value && value->type == PTR_TO_STACK && reg->frameno != env->cur->curframe)
        return ebpfvm__verr(env, "cannot spill pointers to stack into stack frame of the caller");
    if (value && value->type == SCALAR_VALUE && k % 8 == 0) {
        /* A scalar of any size stored at a slot's first byte is spilled
         * (the kernel's check_stack_write_fixed_off for bpf_capable):
         * `value` is already truncated to `size` bytes. When the stored
         * register's value fits, the spill shares its id (given one if
         * needed) so that what a branch learns about either reaches the
         * other; otherwise they are different numbers. */
        struct vreg sp = *value;
        ebpfvm__clear_scalar_id(&sp);
        if (valueno >= 0) {
            struct vreg *src = &env->cur->regs[valueno];
            if (reg_width(src) <= 8 * size) {
                ebpfvm__assign_scalar_id_before_mov(env, src);
                sp.id = src->id;
            }
        }
        int s = k / 8;
        break_iter(fm.stack, s);
        unsigned old = spill_size(fm.stack, s);
        memset(&fm.stack[k], STACK_SPILL, size);
        /* The rest of the slot: what a broken spill leaves is data. */
        for (int i = (int)size; i < 8; i++)
            if (i < (int)old)
                fm.stack[k + i] = STACK_MISC;
        fm.spills[s] = sp;
        return 0;
    }
    if (value && ebpfvm__reg_is_ptr(value)) {
        if (size != 8)
            return ebpfvm__verr(env, "invalid size of register spill");
        break_iter(fm.stack, k / 8);
        memset(&fm.stack[k], STACK_SPILL, 8);
        fm.spills[k / 8] = *value;
        return 0;
    }
    stack_mark_misc(fm.stack, k, k + (int)size - 1);
    return 0;
}

/* dst := the low `size` (< 8) bytes of a spilled scalar, zero- or
 * sign-extended (the kernel's fill and coerce_reg_to_size{,_sx}). The id
 * stays only when the result is the spilled value itself. */
static void fill_narrow(struct vreg *dst, const struct vreg *spilled, unsigned size, bool sext)
{
    unsigned bits = 8 * size;
    *dst = *spilled;
    if (size >= 8)
        return;
    if (!sext || reg_width(spilled) < bits) {
        /* Zero extension, or a sign extension of a value below the sign
         * bit (the same thing). */
        if (reg_width(spilled) > bits)
            ebpfvm__clear_scalar_id(dst);
        ebpfvm__bounds_truncate(&dst->b, size);
        return;
    }
    ebpfvm__clear_scalar_id(dst);
    if (ebpfvm__bounds_is_const(&spilled->b)) {
        ebpfvm__bounds_const(&dst->b, ebpf_sext(spilled->b.var_off.value, bits));
        return;
    }
    ebpfvm__bounds_load(&dst->b, size, true);
}

static int stack_read(struct venv *env, unsigned regno, int32_t off, unsigned size, struct vreg *dst, bool sext)
{
    int k;
    const struct vreg *reg = &env->cur->regs[regno];
    if (reg->frameno <= env->cur->curframe && !ebpfvm__tnum_is_const(reg->b.var_off)) {
        int last;
        if (check_stack_var_bounds(env, regno, off, size, READ, &k, &last) ||
            check_stack_data_read(env, regno, frame_of(env, reg), k, last, false))
            return -1;
        if (dst) {
            ebpfvm__mark_reg_unknown(dst);
            ebpfvm__bounds_load(&dst->b, size, sext);
        }
        return 0;
    }
    if (check_stack_bounds(env, regno, off, size, READ, &k))
        return -1;
    struct frame_mem fm = frame_of(env, reg);
    for (unsigned i = 0; i < size; i++)
        if (fm.stack[k + (int)i] == STACK_ITER)
            return ebpfvm__verr(env, "invalid read from stack off %d+%u size %u", k - EBPF_STACK_SIZE, i, size);
    int slot = k / 8;
    unsigned spilled_size = spill_size(fm.stack, slot);
    if (spilled_size) {
        /* The kernel's check_stack_read_fixed_off. */
        const struct vreg *spilled = &fm.spills[slot];
        if (size == 8 && spilled_size == 8) {
            if (dst)
                *dst = *spilled;
            return 0;
        }
        if (ebpfvm__reg_is_ptr(spilled))
            return ebpfvm__verr(env, "invalid size of register fill");
        if (size <= spilled_size && k % 8 == 0) {
            /* A fill of the spill's low bytes: its value, truncated. */
            if (dst)
                fill_narrow(dst, spilled, size, sext);
            return 0;
        }
        unsigned spill_cnt = 0;
        for (unsigned i = 0; i < size; i++) {
            uint8_t t = fm.stack[k + (int)i];
            if (t == STACK_INVALID && env->strict)
                return ebpfvm__verr(env, "invalid read from stack off %d+%u size %u", k - EBPF_STACK_SIZE, i,
                                    size);
            spill_cnt += t == STACK_SPILL;
        }
        if (dst) {
            /* Bytes of a spilled zero are zero. */
            if (spill_cnt == size && ebpfvm__bounds_is_const(&spilled->b) && spilled->b.var_off.value == 0) {
                ebpfvm__mark_reg_const(dst, 0);
            } else {
                ebpfvm__mark_reg_unknown(dst);
                ebpfvm__bounds_load(&dst->b, size, sext);
            }
        }
        return 0;
    }
    for (unsigned i = 0; i < size; i++) {
        if (fm.stack[k + (int)i] == STACK_INVALID && env->strict)
            return ebpfvm__verr(env, "invalid read from stack off %d+%u size %u", k - EBPF_STACK_SIZE,
                                i, size);
        if (fm.stack[k + (int)i] == STACK_SPILL && ebpfvm__reg_is_ptr(&fm.spills[(k + (int)i) / 8]))
            return ebpfvm__verr(env, "invalid size of register fill");
    }
    if (dst) {
        ebpfvm__mark_reg_unknown(dst);
        ebpfvm__bounds_load(&dst->b, size, sext);
    }
    return 0;
}

/* ------------------------------------------------- sized memory regions */

/* [reg + off + smin, reg + off + umax + size) inside [0, limit). */
static int check_region_bounds(struct venv *env, unsigned regno, int32_t off, uint64_t size, uint64_t limit,
                               const char *what, const char *limit_name)
{
    const struct vreg *reg = &env->cur->regs[regno];
    int64_t fixed = (int64_t)reg->off + off;
    if (reg->b.smin < 0)
        return ebpfvm__verr(env,
                            "R%u min value is negative, either use unsigned index or do a if (index >=0) check.",
                            regno);
    int64_t lo = fixed + reg->b.smin;
    if (lo < 0 || (uint64_t)lo + size > limit) {
        ebpfvm__verr(env, "invalid access to %s, %s=%llu off=%lld size=%llu", what, limit_name,
                     (unsigned long long)limit, (long long)lo, (unsigned long long)size);
        return ebpfvm__verr(env, "R%u min value is outside of the allowed memory range", regno);
    }
    if (reg->b.umax >= (uint64_t)MAX_VAR_OFF)
        return ebpfvm__verr(env, "R%u unbounded memory access, make sure to bounds check any such access", regno);
    int64_t hi = fixed + (int64_t)reg->b.umax;
    if (hi < 0 || (uint64_t)hi + size > limit) {
        ebpfvm__verr(env, "invalid access to %s, %s=%llu off=%lld size=%llu", what, limit_name,
                     (unsigned long long)limit, (long long)hi, (unsigned long long)size);
        return ebpfvm__verr(env, "R%u max value is outside of the allowed memory range", regno);
    }
    return 0;
}

static int check_packet(struct venv *env, unsigned regno, int32_t off, uint64_t size)
{
    const struct vreg *reg = &env->cur->regs[regno];
    if (reg->b.smin < 0)
        return ebpfvm__verr(env,
                            "R%u min value is negative, either use unsigned index or do a if (index >=0) check.",
                            regno);
    int64_t total = (int64_t)reg->off + off;
    if (total < 0 || (uint64_t)total + size > reg->range) {
        ebpfvm__verr(env, "invalid access to packet, off=%lld size=%llu, R%u(id=%u,off=%lld,r=%u)", (long long)total,
                     (unsigned long long)size, regno, reg->id, (long long)total, reg->range);
        return ebpfvm__verr(env, "R%u offset is outside of the packet", regno);
    }
    return 0;
}

int ebpfvm__check_mem_region(struct venv *env, unsigned regno, int32_t off, uint64_t size, bool write, bool helper)
{
    struct vreg *reg = &env->cur->regs[regno];
    enum access_mode mode = helper ? (write ? HELPER_WRITE : HELPER_READ) : (write ? WRITE : READ);
    switch (reg->type) {
    case PTR_TO_STACK: {
        int k, last;
        if (reg->frameno <= env->cur->curframe && !ebpfvm__tnum_is_const(reg->b.var_off)) {
            if (check_stack_var_bounds(env, regno, off, (int64_t)size, mode, &k, &last))
                return -1;
        } else {
            if (check_stack_bounds(env, regno, off, (int64_t)size, mode, &k))
                return -1;
            last = k + (int)size - 1;
        }
        struct frame_mem fm = frame_of(env, reg);
        if (write) {
            /* The helper may write any byte of the range (with a variable
             * offset: any byte the range may cover). */
            if (size)
                stack_mark_misc(fm.stack, k, last);
            return 0;
        }
        return size ? check_stack_data_read(env, regno, fm, k, last, true) : 0;
    }
    case PTR_TO_PACKET:
    case PTR_TO_PACKET_META:
        return check_packet(env, regno, off, size);
    case PTR_TO_MAP_VALUE:
        if (write && (reg->map->map_flags & EBPFVM_F_RDONLY_PROG))
            return ebpfvm__verr(env, "write into map forbidden, value_size=%u off=%d size=%llu",
                                reg->map->value_size, reg->off + off, (unsigned long long)size);
        if (!write && (reg->map->map_flags & EBPFVM_F_WRONLY_PROG))
            return ebpfvm__verr(env, "read from map forbidden, value_size=%u off=%d size=%llu",
                                reg->map->value_size, reg->off + off, (unsigned long long)size);
        return check_region_bounds(env, regno, off, size, reg->map->value_size, "map value", "value_size");
    case PTR_TO_MEM:
        if (write && reg->rdonly)
            return ebpfvm__verr(env, "R%u cannot write into %s", regno, ebpfvm__reg_type_name(reg));
        return check_region_bounds(env, regno, off, size, reg->mem_size, "memory", "mem_size");
    default:
        return ebpfvm__verr(env, "R%u invalid mem access '%s'", regno, ebpfvm__reg_type_name(reg));
    }
}

/* ------------------------------------------------------------- context */

static int note_access(struct venv *env, uint32_t pc, uint8_t kind, const struct ebpfvm_ctx_field *field)
{
    if (env->access[pc] != ACCESS_NONE && (env->access[pc] != kind || env->ctx_field[pc] != field))
        return ebpfvm__verr(env, "same insn cannot be used with different pointers");
    env->access[pc] = kind;
    env->ctx_field[pc] = field;
    return 0;
}

static int check_ctx(struct venv *env, uint32_t pc, unsigned regno, int32_t off, unsigned size, bool write,
                     struct vreg *dst, bool sext)
{
    const struct vreg *reg = &env->cur->regs[regno];
    if (!ebpfvm__tnum_is_const(reg->b.var_off) || reg->b.var_off.value) {
        char tn[64];
        return ebpfvm__verr(env, "variable ctx access var_off=%s disallowed",
                            ebpfvm__tnum_str(reg->b.var_off, tn, sizeof tn));
    }
    if (reg->off)
        return ebpfvm__verr(env, "dereference of modified ctx ptr R%u off=%d disallowed", regno, reg->off);
    int32_t rt_off;
    unsigned rt_size;
    const struct ebpfvm_ctx_field *field = ebpfvm__ctx_access(env->desc, off, size, write, &rt_off, &rt_size);
    /* Pointer fields cannot be loaded sign-extended (the kernel's
     * xdp_is_valid_access / bpf_skb_is_valid_access). */
    if (!field || (sext && field->kind != EBPFVM_CTX_SCALAR))
        return ebpfvm__verr(env, "invalid bpf_context access off=%d size=%u", off, size);
    if (note_access(env, pc, ACCESS_CTX, field))
        return -1;
    if (!dst)
        return 0;
    switch (field->kind) {
    case EBPFVM_CTX_PKT: ebpfvm__mark_reg_ptr(dst, PTR_TO_PACKET); break;
    case EBPFVM_CTX_PKT_END: ebpfvm__mark_reg_ptr(dst, PTR_TO_PACKET_END); break;
    case EBPFVM_CTX_PKT_META: ebpfvm__mark_reg_ptr(dst, PTR_TO_PACKET_META); break;
    default:
        ebpfvm__mark_reg_unknown(dst);
        ebpfvm__bounds_load(&dst->b, size, sext);
        break;
    }
    return 0;
}

/* ------------------------------------------------------ one access */

/*
 * A load (dst != NULL) or store (value: the stored register's state, NULL
 * for data whose value is not tracked) of size bytes at R[regno] + off.
 */
/* A load at a constant offset of a map value programs cannot write
 * (BPF_F_RDONLY_PROG) and user space no longer can (frozen): the value
 * there, as a known constant (the kernel's bpf_map_direct_read for a
 * frozen .rodata). False when the load is not one of those. */
static bool read_frozen_const(const struct vreg *reg, int32_t off, unsigned size, bool sext, struct vreg *dst)
{
    struct ebpfvm_map *map = reg->map;
    uint64_t addr;
    if (reg->type != PTR_TO_MAP_VALUE || !map || !map->frozen || !(map->map_flags & EBPFVM_F_RDONLY_PROG) ||
        !ebpfvm__tnum_is_const(reg->b.var_off))
        return false;
    int64_t at = (int64_t)reg->off + off + ebpf_as_s64(reg->b.var_off.value);
    if (at < 0 || at + size > map->value_size || ebpfvm__map_direct_value(map, (uint32_t)at, &addr) != 0)
        return false;
    uint64_t v = 0;
    const uint8_t *p = (const uint8_t *)(uintptr_t)addr;
    switch (size) {
    case 1: v = p[0]; break;
    case 2: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
    case 4: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
    default: memcpy(&v, p, 8); break;
    }
    if (sext && size < 8)
        v = ebpf_sext(v, 8 * size);
    ebpfvm__mark_reg_const(dst, v);
    return true;
}

static int check_mem_access(struct venv *env, uint32_t pc, unsigned regno, int32_t off, unsigned size, bool write,
                            const struct vreg *value, int valueno, struct vreg *dst, bool sext)
{
    struct vreg *reg = &env->cur->regs[regno];
    if (reg->type != PTR_TO_CTX && note_access(env, pc, ACCESS_OTHER, NULL))
        return -1;
    if (env->strict && write && value && ebpfvm__reg_is_ptr(value) && reg->type != PTR_TO_STACK) {
        const char *where = reg->type == PTR_TO_MAP_VALUE ? "map"
                            : reg->type == PTR_TO_CTX ? "ctx"
                            : ebpfvm__reg_is_pkt(reg) ? "packet"
                                                      : "mem";
        if (reg->type == PTR_TO_MAP_VALUE || reg->type == PTR_TO_CTX || ebpfvm__reg_is_pkt(reg) ||
            reg->type == PTR_TO_MEM)
            return ebpfvm__verr(env, "R%d leaks addr into %s", valueno, where);
    }
    switch (reg->type) {
    case PTR_TO_STACK:
        if (write)
            return stack_write(env, regno, off, size, value, valueno);
        return stack_read(env, regno, off, size, dst, sext);
    case PTR_TO_CTX:
        return check_ctx(env, pc, regno, off, size, write, dst, sext);
    default:
        if (ebpfvm__check_mem_region(env, regno, off, size, write, false))
            return -1;
        if (dst && !read_frozen_const(reg, off, size, sext, dst)) {
            ebpfvm__mark_reg_unknown(dst);
            ebpfvm__bounds_load(&dst->b, size, sext);
        }
        return 0;
    }
}

int ebpfvm__check_ldx(struct venv *env, uint32_t pc)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    unsigned size = ebpfvm__size_bytes(insn->opcode);
    bool sext = EBPF_MODE(insn->opcode) == EBPF_MODE_MEMSX;
    if (ebpfvm__check_reg_read(env, insn->src_reg))
        return -1;
    if (insn->dst_reg == EBPF_REG_FP)
        return ebpfvm__verr(env, "frame pointer is read only");
    struct vreg result;
    ebpfvm__mark_reg_unknown(&result);
    if (check_mem_access(env, pc, insn->src_reg, insn->off, size, false, NULL, -1, &result, sext))
        return -1;
    env->cur->regs[insn->dst_reg] = result;
    env->cur->written |= (uint16_t)(1u << insn->dst_reg);
    return 0;
}

int ebpfvm__check_store(struct venv *env, uint32_t pc)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    unsigned size = ebpfvm__size_bytes(insn->opcode);
    bool is_st = EBPF_CLASS(insn->opcode) == EBPF_CLASS_ST;
    if (!is_st && ebpfvm__check_reg_read(env, insn->src_reg))
        return -1;
    if (ebpfvm__check_reg_read(env, insn->dst_reg))
        return -1;
    struct vreg value;
    if (is_st)
        ebpfvm__mark_reg_const(&value, (uint64_t)(int64_t)insn->imm);
    else
        value = env->cur->regs[insn->src_reg];
    if (size < 8 && value.type == SCALAR_VALUE)
        ebpfvm__bounds_truncate(&value.b, size);
    return check_mem_access(env, pc, insn->dst_reg, insn->off, size, true, &value, is_st ? -1 : insn->src_reg, NULL,
                            false);
}

int ebpfvm__check_atomic(struct venv *env, uint32_t pc)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    unsigned size = ebpfvm__size_bytes(insn->opcode);
    if (ebpfvm__check_reg_read(env, insn->src_reg) || ebpfvm__check_reg_read(env, insn->dst_reg))
        return -1;
    if (insn->imm == EBPF_ATOMIC_CMPXCHG && ebpfvm__check_reg_read(env, 0))
        return -1;
    if ((insn->imm & EBPF_ATOMIC_FETCH) && insn->imm != EBPF_ATOMIC_CMPXCHG && insn->src_reg == EBPF_REG_FP)
        return ebpfvm__verr(env, "frame pointer is read only");
    const struct vreg *base = &env->cur->regs[insn->dst_reg];
    if (base->type != PTR_TO_STACK && base->type != PTR_TO_MAP_VALUE && base->type != PTR_TO_MEM) {
        if (base->type == SCALAR_VALUE || base->type == PTR_TO_MAP_VALUE_OR_NULL || base->type == CONST_PTR_TO_MAP ||
            base->type == PTR_TO_MEM_OR_NULL || base->type == PTR_TO_PACKET_END)
            return ebpfvm__verr(env, "R%u invalid mem access '%s'", insn->dst_reg, ebpfvm__reg_type_name(base));
        return ebpfvm__verr(env, "BPF_ATOMIC stores into R%u %s is not allowed", insn->dst_reg,
                            ebpfvm__vtype_name(base->type));
    }
    if (env->strict && ebpfvm__reg_is_ptr(&env->cur->regs[insn->src_reg]))
        return ebpfvm__verr(env, "R%u leaks addr into mem", insn->src_reg);
    if (env->strict && insn->imm == EBPF_ATOMIC_CMPXCHG && ebpfvm__reg_is_ptr(&env->cur->regs[0]))
        return ebpfvm__verr(env, "R0 leaks addr into mem");
    struct vreg loaded;
    if (check_mem_access(env, pc, insn->dst_reg, insn->off, size, false, NULL, -1, &loaded, false))
        return -1;
    if (env->strict && base->type == PTR_TO_STACK && loaded.type != SCALAR_VALUE)
        return ebpfvm__verr(env, "R%u leaks addr into mem", insn->dst_reg);
    if (check_mem_access(env, pc, insn->dst_reg, insn->off, size, true, NULL, -1, NULL, false))
        return -1;
    /* The fetched register gets what a load from there gives (a spilled
     * register's state included), as in the kernel's check_atomic. */
    if (insn->imm == EBPF_ATOMIC_CMPXCHG) {
        env->cur->regs[0] = loaded;
        env->cur->written |= 1u;
    } else if (insn->imm & EBPF_ATOMIC_FETCH) {
        env->cur->regs[insn->src_reg] = loaded;
        env->cur->written |= (uint16_t)(1u << insn->src_reg);
    }
    return 0;
}

/* ----------------------------------------------------- legacy packet loads */

/*
 * The hidden exit of an out-of-bounds LD_ABS / LD_IND in a subprogram
 * (st->curframe > 0, r1-r5 already clobbered): the runtime returns 0 to
 * the caller there, so, like the kernel (which pushes the branch at pc + 1
 * and continues on the exit path), a copy of the state returns with r0 =
 * known 0 through the normal subprogram return and is pushed to be
 * explored from after the call; the current path goes on at pc + 1.
 */
static int push_ld_abs_exit(struct venv *env, uint32_t pc)
{
    struct vstate *st = env->cur;
    struct vstate *exit_st = ebpfvm__calloc(env->vm, 1, sizeof *exit_st);
    if (!exit_st || ebpfvm__state_copy(env, exit_st, st)) {
        ebpfvm__free(env->vm, exit_st);
        env->err = EBPFVM_ERR_NOMEM;
        return ebpfvm__verr(env, "out of memory");
    }
    ebpfvm__mark_reg_const(&exit_st->regs[0], 0);
    uint32_t next = 0;
    env->cur = exit_st;
    int err = ebpfvm__check_return(env, pc, &next);
    env->cur = st;
    if (!err)
        err = ebpfvm__push_branch(env, exit_st, next, pc);
    ebpfvm__state_free(env, exit_st);
    ebpfvm__free(env->vm, exit_st);
    return err ? -1 : 0;
}

/*
 * LD_ABS / LD_IND (the kernel's check_ld_abs): only for types whose
 * packet they read, with r6 the unmodified context; r1-r5 become
 * unreadable and r0 an unknown scalar (like the kernel, no range from the
 * load's size). In a subprogram the hidden exit path (return 0 to the
 * caller) is explored too (push_ld_abs_exit). Reserved fields were refused
 * at load (vm/validate.c).
 */
int ebpfvm__check_ld_abs(struct venv *env, uint32_t pc)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    struct vstate *st = env->cur;
    if (!env->desc || !env->desc->legacy_packet_loads || !env->desc->packet)
        return ebpfvm__verr(env, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
    if (st->curframe) {
        /* The loader marks subprograms whose BTF prototype returns no
         * integer: the hidden "return 0" would not fit them (Linux refuses
         * them when the program is loaded; programs without BTF have no
         * marks here, and ebpfvm accepts them). */
        uint32_t start = env->subprog_start[ebpfvm__subprog_of(env, pc)];
        for (uint32_t i = 0; i < env->prog->n_nonint_funcs; i++)
            if (env->prog->nonint_funcs[i] == start)
                return ebpfvm__verr(env, "LD_ABS is only allowed in functions that return 'int'.");
    }
    if (ebpfvm__check_reg_read(env, 6))
        return -1;
    if (st->nrefs)
        return ebpfvm__verr(env, "BPF_LD_[ABS|IND] cannot be mixed with socket references");
    const struct vreg *ctx = &st->regs[6];
    if (ctx->type != PTR_TO_CTX)
        return ebpfvm__verr(env, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
    if (EBPF_MODE(insn->opcode) == EBPF_MODE_IND && ebpfvm__check_reg_read(env, insn->src_reg))
        return -1;
    if (ctx->off || !ebpfvm__tnum_is_const(ctx->b.var_off) || ctx->b.var_off.value)
        return ebpfvm__verr(env, "dereference of modified ctx ptr R6 off=%d disallowed", ctx->off);
    for (unsigned r = 1; r <= 5; r++)
        ebpfvm__mark_reg_not_init(&st->regs[r]);
    ebpfvm__mark_reg_unknown(&st->regs[0]);
    st->written |= 0x3fu;
    if (st->curframe)
        return push_ld_abs_exit(env, pc);
    return 0;
}
