/*
 * verifier/reg_bounds.c - the scalar domain: a tnum plus signed and
 * unsigned, 64- and 32-bit ranges, all describing one set of values.
 *
 * Owns: the sync step (a chain of named deductions, each sound on its own,
 * that makes the five views agree), the abstract ALU (every ALU/ALU64 form,
 * 32-bit forms through a zero- or sign-extended "view" of the subregister
 * and a truncation), branch feasibility and the refinement of both operands
 * of a conditional jump on either branch.
 *
 * Invariants: after ebpfvm__bounds_sync() returned true the struct is
 * consistent (every min <= max, the tnum inside the ranges); operations
 * over-approximate: for concrete inputs in the arguments' sets, the
 * concrete result is in the result's set (tests/test_verifier_bounds.c
 * checks this by sampling).
 */
#include <string.h>

#include "verifier/verifier_internal.h"
#include "vm/arith.h"

#define SIGN64 ((uint64_t)1 << 63)

static uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static int64_t smax64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t smin64(int64_t a, int64_t b) { return a < b ? a : b; }
static uint32_t umax32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t umin32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static int32_t smax32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t smin32(int32_t a, int32_t b) { return a < b ? a : b; }

static void bounds_full_32(struct bounds *b)
{
    b->s32_min = INT32_MIN;
    b->s32_max = INT32_MAX;
    b->u32_min = 0;
    b->u32_max = UINT32_MAX;
}

static void bounds_full_64(struct bounds *b)
{
    b->smin = INT64_MIN;
    b->smax = INT64_MAX;
    b->umin = 0;
    b->umax = UINT64_MAX;
}

void ebpfvm__bounds_unknown(struct bounds *b)
{
    b->var_off = TNUM_UNKNOWN;
    bounds_full_64(b);
    bounds_full_32(b);
}

void ebpfvm__bounds_const(struct bounds *b, uint64_t value)
{
    b->var_off = ebpfvm__tnum_const(value);
    b->smin = b->smax = ebpf_as_s64(value);
    b->umin = b->umax = value;
    b->s32_min = b->s32_max = ebpf_as_s32((uint32_t)value);
    b->u32_min = b->u32_max = (uint32_t)value;
}

bool ebpfvm__bounds_is_const(const struct bounds *b)
{
    return ebpfvm__tnum_is_const(b->var_off);
}

/* ------------------------------------------------------------ the sync */

/* Deduction 1: the known bits bound every range. */
static void deduce_ranges_from_tnum(struct bounds *b)
{
    struct tnum t = b->var_off;
    b->smin = smax64(b->smin, ebpf_as_s64(t.value | (t.mask & SIGN64)));
    b->smax = smin64(b->smax, ebpf_as_s64(t.value | (t.mask & ~SIGN64)));
    b->umin = umax64(b->umin, t.value);
    b->umax = umin64(b->umax, t.value | t.mask);
    uint32_t v32 = (uint32_t)t.value, m32 = (uint32_t)t.mask;
    b->s32_min = smax32(b->s32_min, ebpf_as_s32(v32 | (m32 & 0x80000000u)));
    b->s32_max = smin32(b->s32_max, ebpf_as_s32(v32 | (m32 & 0x7fffffffu)));
    b->u32_min = umax32(b->u32_min, v32);
    b->u32_max = umin32(b->u32_max, v32 | m32);
}

/* Deduction 2: a 64-bit range whose ends share their upper 32 bits bounds
 * the lower 32 bits (and their signed view, when it does not wrap). */
static void deduce_32_from_64(struct bounds *b)
{
    if ((b->umin >> 32) == (b->umax >> 32)) {
        b->u32_min = umax32(b->u32_min, (uint32_t)b->umin);
        b->u32_max = umin32(b->u32_max, (uint32_t)b->umax);
        if (ebpf_as_s32((uint32_t)b->umin) <= ebpf_as_s32((uint32_t)b->umax)) {
            b->s32_min = smax32(b->s32_min, ebpf_as_s32((uint32_t)b->umin));
            b->s32_max = smin32(b->s32_max, ebpf_as_s32((uint32_t)b->umax));
        }
    }
    if (((uint64_t)b->smin >> 32) == ((uint64_t)b->smax >> 32)) {
        uint32_t lo = (uint32_t)(uint64_t)b->smin, hi = (uint32_t)(uint64_t)b->smax;
        if (lo <= hi) {
            b->u32_min = umax32(b->u32_min, lo);
            b->u32_max = umin32(b->u32_max, hi);
        }
        if (ebpf_as_s32(lo) <= ebpf_as_s32(hi)) {
            b->s32_min = smax32(b->s32_min, ebpf_as_s32(lo));
            b->s32_max = smin32(b->s32_max, ebpf_as_s32(hi));
        }
    }
}

/* Deduction 3: a signed range that does not cross the sign boundary is an
 * unsigned range with the same ends, and the other way round (32 bits). */
static void deduce_32_sign(struct bounds *b)
{
    if (ebpf_as_s32(b->u32_min) <= ebpf_as_s32(b->u32_max)) {
        b->s32_min = smax32(b->s32_min, ebpf_as_s32(b->u32_min));
        b->s32_max = smin32(b->s32_max, ebpf_as_s32(b->u32_max));
    }
    if ((uint32_t)b->s32_min <= (uint32_t)b->s32_max) {
        b->u32_min = umax32(b->u32_min, (uint32_t)b->s32_min);
        b->u32_max = umin32(b->u32_max, (uint32_t)b->s32_max);
    } else if (b->u32_max < (uint32_t)b->s32_min) {
        /* The signed range wraps (negative to positive) and the unsigned
         * one lies below its negative part: only the non-negative part
         * is possible. */
        b->s32_min = ebpf_as_s32(b->u32_min);
        b->u32_max = umin32(b->u32_max, (uint32_t)b->s32_max);
    } else if ((uint32_t)b->s32_max < b->u32_min) {
        /* ... or above its positive part: only the negative part. */
        b->s32_max = ebpf_as_s32(b->u32_max);
        b->u32_min = umax32(b->u32_min, (uint32_t)b->s32_min);
    }
}

/* Deduction 4: the same between the signed and unsigned 64-bit ranges. */
static void deduce_64_sign(struct bounds *b)
{
    if (ebpf_as_s64(b->umin) <= ebpf_as_s64(b->umax)) {
        b->smin = smax64(b->smin, ebpf_as_s64(b->umin));
        b->smax = smin64(b->smax, ebpf_as_s64(b->umax));
    }
    if ((uint64_t)b->smin <= (uint64_t)b->smax) {
        b->umin = umax64(b->umin, (uint64_t)b->smin);
        b->umax = umin64(b->umax, (uint64_t)b->smax);
    } else if (b->umax < (uint64_t)b->smin) {
        /* As in deduce_32_sign: the wrapped signed range meets the
         * unsigned one in its non-negative part only ... */
        b->smin = ebpf_as_s64(b->umin);
        b->umax = umin64(b->umax, (uint64_t)b->smax);
    } else if ((uint64_t)b->smax < b->umin) {
        /* ... or in its negative part only. */
        b->smax = ebpf_as_s64(b->umax);
        b->umin = umax64(b->umin, (uint64_t)b->smin);
    }
}

/* Deduction 5: the 32-bit ranges tighten the low half of the 64-bit ends
 * (64-bit order is the upper half first, then the low half unsigned); a
 * value known to be a sign-extended 32-bit value is inside the s32 range. */
static void deduce_64_from_32(struct bounds *b)
{
    uint64_t high = ~(uint64_t)UINT32_MAX;
    b->umin = umax64(b->umin, (b->umin & high) | b->u32_min);
    b->umax = umin64(b->umax, (b->umax & high) | b->u32_max);
    b->smin = smax64(b->smin, ebpf_as_s64(((uint64_t)b->smin & high) | b->u32_min));
    b->smax = smin64(b->smax, ebpf_as_s64(((uint64_t)b->smax & high) | b->u32_max));
    if (b->smin >= INT32_MIN && b->smax <= INT32_MAX) {
        b->smin = smax64(b->smin, b->s32_min);
        b->smax = smin64(b->smax, b->s32_max);
    }
}

static bool tnums_overlap(struct tnum a, struct tnum b)
{
    return ((a.value ^ b.value) & ~a.mask & ~b.mask) == 0;
}

/* Deduction 6: the unsigned ranges bound the tnum. */
static bool deduce_tnum_from_ranges(struct bounds *b)
{
    struct tnum r64 = ebpfvm__tnum_range(b->umin, b->umax);
    if (!tnums_overlap(b->var_off, r64))
        return false;
    b->var_off = ebpfvm__tnum_intersect(b->var_off, r64);
    struct tnum sub = ebpfvm__tnum_subreg(b->var_off);
    struct tnum r32 = ebpfvm__tnum_range(b->u32_min, b->u32_max);
    if (!tnums_overlap(sub, r32))
        return false;
    b->var_off = ebpfvm__tnum_with_subreg(b->var_off, ebpfvm__tnum_intersect(sub, r32));
    return true;
}

static bool bounds_consistent(const struct bounds *b)
{
    if (b->smin > b->smax || b->umin > b->umax || b->s32_min > b->s32_max || b->u32_min > b->u32_max)
        return false;
    if (b->var_off.value & b->var_off.mask)
        return false;
    /* The tnum's smallest and largest members must be inside the range. */
    return b->var_off.value <= b->umax && (b->var_off.value | b->var_off.mask) >= b->umin;
}

bool ebpfvm__bounds_sync(struct bounds *b)
{
    for (int round = 0; round < 2; round++) {
        deduce_ranges_from_tnum(b);
        deduce_32_from_64(b);
        deduce_32_sign(b);
        deduce_64_sign(b);
        deduce_64_from_32(b);
        deduce_64_sign(b);
        if (!bounds_consistent(b) || !deduce_tnum_from_ranges(b))
            return false;
    }
    deduce_ranges_from_tnum(b);
    return bounds_consistent(b);
}

/* ------------------------------------------------------------ the ALU */

void ebpfvm__bounds_truncate(struct bounds *b, unsigned size)
{
    if (size >= 8)
        return;
    unsigned bits = size * 8;
    uint64_t mask = ((uint64_t)1 << bits) - 1;
    b->var_off = ebpfvm__tnum_cast(b->var_off, size);
    if ((b->umin >> bits) == (b->umax >> bits)) {
        b->umin &= mask;
        b->umax &= mask;
    } else {
        b->umin = 0;
        b->umax = mask;
    }
    b->smin = (int64_t)b->umin;
    b->smax = (int64_t)b->umax;
    if (size < 4)
        bounds_full_32(b);
    /* size 4: the low 32 bits did not change, nor their ranges. */
    if (!ebpfvm__bounds_sync(b)) {
        /* Cannot happen for a consistent input; stay sound. */
        ebpfvm__bounds_unknown(b);
        ebpfvm__bounds_truncate(b, size);
    }
}

void ebpfvm__bounds_load(struct bounds *b, unsigned size, bool sign_extend)
{
    ebpfvm__bounds_unknown(b);
    if (size >= 8)
        return;
    if (!sign_extend) {
        ebpfvm__bounds_truncate(b, size);
        return;
    }
    unsigned bits = size * 8;
    b->smin = -((int64_t)1 << (bits - 1));
    b->smax = ((int64_t)1 << (bits - 1)) - 1;
    ebpfvm__bounds_sync(b);
}

/* The subregister as a zero-extended 64-bit value. */
static struct bounds view_zext32(const struct bounds *b)
{
    struct bounds z = *b;
    z.var_off = ebpfvm__tnum_subreg(b->var_off);
    z.umin = b->u32_min;
    z.umax = b->u32_max;
    z.smin = b->u32_min;
    z.smax = b->u32_max;
    if (!ebpfvm__bounds_sync(&z)) {
        ebpfvm__bounds_unknown(&z);
        ebpfvm__bounds_truncate(&z, 4);
    }
    return z;
}

/* The subregister as a sign-extended 64-bit value. */
static struct bounds view_sext32(const struct bounds *b)
{
    struct bounds s;
    ebpfvm__bounds_unknown(&s);
    struct tnum sub = ebpfvm__tnum_subreg(b->var_off);
    if (!(sub.mask & 0x80000000u)) {
        if (sub.value & 0x80000000u)
            sub.value |= ~(uint64_t)UINT32_MAX;
    } else {
        sub.mask |= ~(uint64_t)UINT32_MAX;
    }
    s.var_off = sub;
    s.smin = b->s32_min;
    s.smax = b->s32_max;
    s.s32_min = b->s32_min;
    s.s32_max = b->s32_max;
    s.u32_min = b->u32_min;
    s.u32_max = b->u32_max;
    if (!ebpfvm__bounds_sync(&s)) {
        ebpfvm__bounds_unknown(&s);
        s.smin = INT32_MIN;
        s.smax = INT32_MAX;
        ebpfvm__bounds_sync(&s);
    }
    return s;
}

static void set_result(struct bounds *d, struct tnum var_off, uint64_t umin, uint64_t umax, int64_t smin, int64_t smax)
{
    d->var_off = var_off;
    d->umin = umin;
    d->umax = umax;
    d->smin = smin;
    d->smax = smax;
    bounds_full_32(d);
    if (!ebpfvm__bounds_sync(d)) {
        /* An operation's result set is never empty; fall back soundly. */
        ebpfvm__bounds_unknown(d);
    }
}

static void alu_add(struct bounds *d, const struct bounds *s)
{
    uint64_t umin, umax;
    int64_t smin, smax;
    bool uover = __builtin_add_overflow(d->umin, s->umin, &umin) | __builtin_add_overflow(d->umax, s->umax, &umax);
    bool sover = __builtin_add_overflow(d->smin, s->smin, &smin) | __builtin_add_overflow(d->smax, s->smax, &smax);
    if (uover) {
        umin = 0;
        umax = UINT64_MAX;
    }
    if (sover) {
        smin = INT64_MIN;
        smax = INT64_MAX;
    }
    set_result(d, ebpfvm__tnum_add(d->var_off, s->var_off), umin, umax, smin, smax);
}

static void alu_sub(struct bounds *d, const struct bounds *s)
{
    uint64_t umin = 0, umax = UINT64_MAX;
    int64_t smin, smax;
    if (d->umin >= s->umax) {
        umin = d->umin - s->umax;
        umax = d->umax - s->umin;
    }
    bool sover = __builtin_sub_overflow(d->smin, s->smax, &smin) | __builtin_sub_overflow(d->smax, s->smin, &smax);
    if (sover) {
        smin = INT64_MIN;
        smax = INT64_MAX;
    }
    set_result(d, ebpfvm__tnum_sub(d->var_off, s->var_off), umin, umax, smin, smax);
}

static void alu_mul(struct bounds *d, const struct bounds *s)
{
    uint64_t umin = 0, umax = UINT64_MAX, hi;
    if (!__builtin_mul_overflow(d->umax, s->umax, &hi)) {
        umin = d->umin * s->umin;
        umax = hi;
    }
    set_result(d, ebpfvm__tnum_mul(d->var_off, s->var_off), umin, umax, INT64_MIN, INT64_MAX);
}

/* Unsigned division: x / 0 = 0 and x / y <= x. */
static void alu_div(struct bounds *d, const struct bounds *s)
{
    uint64_t umin = 0, umax = d->umax;
    if (s->umin > 0) {
        umin = d->umin / s->umax;
        umax = d->umax / s->umin;
    }
    set_result(d, TNUM_UNKNOWN, umin, umax, INT64_MIN, INT64_MAX);
}

/* Unsigned modulo: x % 0 = x and x % y <= x, x % y < y for y > 0. */
static void alu_mod(struct bounds *d, const struct bounds *s)
{
    uint64_t umax = d->umax;
    if (s->umin > 0)
        umax = umin64(umax, s->umax - 1);
    set_result(d, TNUM_UNKNOWN, 0, umax, INT64_MIN, INT64_MAX);
}

static void alu_and(struct bounds *d, const struct bounds *s)
{
    set_result(d, ebpfvm__tnum_and(d->var_off, s->var_off), 0, umin64(d->umax, s->umax), INT64_MIN, INT64_MAX);
}

static void alu_or(struct bounds *d, const struct bounds *s)
{
    set_result(d, ebpfvm__tnum_or(d->var_off, s->var_off), umax64(d->umin, s->umin), UINT64_MAX, INT64_MIN,
               INT64_MAX);
}

static void alu_xor(struct bounds *d, const struct bounds *s)
{
    set_result(d, ebpfvm__tnum_xor(d->var_off, s->var_off), 0, UINT64_MAX, INT64_MIN, INT64_MAX);
}

/* Shifts: ebpfvm__bounds_alu only gets here with a constant count below
 * the width. */
static void alu_lsh(struct bounds *d, const struct bounds *s, unsigned width)
{
    unsigned k = (unsigned)(s->var_off.value & (width - 1));
    uint64_t umin = 0, umax = UINT64_MAX;
    if (k == 0 || (d->umax >> (64 - k)) == 0) {
        umin = d->umin << k;
        umax = d->umax << k;
    }
    set_result(d, ebpfvm__tnum_lshift(d->var_off, k), umin, umax, INT64_MIN, INT64_MAX);
}

static void alu_rsh(struct bounds *d, const struct bounds *s, unsigned width)
{
    unsigned k = (unsigned)(s->var_off.value & (width - 1));
    set_result(d, ebpfvm__tnum_rshift(d->var_off, k), d->umin >> k, d->umax >> k, INT64_MIN, INT64_MAX);
}

/* Arithmetic shift of a 64-bit value (32-bit forms pass the sign-extended
 * view, whose low 32 bits shift like the 32-bit operation's). */
static void alu_arsh(struct bounds *d, const struct bounds *s, unsigned width)
{
    unsigned k = (unsigned)(s->var_off.value & (width - 1));
    int64_t smin = ebpf_as_s64(ebpf_arsh64((uint64_t)d->smin, k));
    int64_t smax = ebpf_as_s64(ebpf_arsh64((uint64_t)d->smax, k));
    set_result(d, ebpfvm__tnum_arshift(d->var_off, k, 64), 0, UINT64_MAX, smin, smax);
}

static bool form_is_32(enum ebpf_insn_form form)
{
    return EBPF_CLASS(ebpfvm__forms[form].opcode) == EBPF_CLASS_ALU;
}

void ebpfvm__bounds_alu(struct bounds *dst, const struct bounds *src, enum ebpf_insn_form form)
{
    const struct ebpfvm_form_info *info = &ebpfvm__forms[form];
    unsigned op = EBPF_OP(info->opcode);
    bool is32 = form_is_32(form);
    bool signed_op = (op == EBPF_ALU_DIV || op == EBPF_ALU_MOD) && info->disc_value == 1;

    /* Like the kernel (is_safe_to_compute_dst_reg_range), a shift by a
     * count not known to be below the width gives a fully unknown value
     * (not even zero-extended for the 32-bit forms), although the
     * interpreter masks the count. */
    if (op == EBPF_ALU_LSH || op == EBPF_ALU_RSH || op == EBPF_ALU_ARSH) {
        bool known = is32 ? ebpfvm__tnum_is_const(ebpfvm__tnum_subreg(src->var_off))
                          : ebpfvm__tnum_is_const(src->var_off);
        if (!known || src->umax >= (is32 ? 32u : 64u)) {
            ebpfvm__bounds_unknown(dst);
            return;
        }
    }
    /* Constants fold exactly, with the interpreter's arithmetic. */
    if (ebpfvm__bounds_is_const(dst) && ebpfvm__bounds_is_const(src)) {
        bool ok;
        uint64_t v = ebpf_alu_eval(form, dst->var_off.value, src->var_off.value, &ok);
        if (ok) {
            ebpfvm__bounds_const(dst, v);
            return;
        }
    }
    if (op == EBPF_ALU_END) {
        unsigned width = (unsigned)info->disc_value;
        bool identity = (info->opcode == 0xd4u && ebpf_host_is_le()) || (info->opcode == 0xdcu && !ebpf_host_is_le());
        if (identity) {
            ebpfvm__bounds_truncate(dst, width / 8);
        } else {
            ebpfvm__bounds_unknown(dst);
            ebpfvm__bounds_truncate(dst, width / 8);
        }
        return;
    }

    struct bounds d, s;
    if (is32 && op == EBPF_ALU_ARSH) {
        d = view_sext32(dst);
        s = view_zext32(src);
    } else if (is32) {
        d = view_zext32(dst);
        s = view_zext32(src);
    } else {
        d = *dst;
        s = *src;
    }
    unsigned width = is32 ? 32 : 64;

    switch (op) {
    case EBPF_ALU_ADD: alu_add(&d, &s); break;
    case EBPF_ALU_SUB: alu_sub(&d, &s); break;
    case EBPF_ALU_MUL: alu_mul(&d, &s); break;
    case EBPF_ALU_DIV:
        if (signed_op)
            ebpfvm__bounds_unknown(&d);
        else
            alu_div(&d, &s);
        break;
    case EBPF_ALU_MOD:
        if (signed_op)
            ebpfvm__bounds_unknown(&d);
        else
            alu_mod(&d, &s);
        break;
    case EBPF_ALU_OR: alu_or(&d, &s); break;
    case EBPF_ALU_AND: alu_and(&d, &s); break;
    case EBPF_ALU_XOR: alu_xor(&d, &s); break;
    case EBPF_ALU_LSH: alu_lsh(&d, &s, width); break;
    case EBPF_ALU_RSH: alu_rsh(&d, &s, width); break;
    case EBPF_ALU_ARSH: alu_arsh(&d, &s, width); break;
    case EBPF_ALU_NEG: {
        struct bounds zero;
        ebpfvm__bounds_const(&zero, 0);
        alu_sub(&zero, &d);
        d = zero;
        break;
    }
    case EBPF_ALU_MOV: d = s; break;
    default: ebpfvm__bounds_unknown(&d); break;
    }
    if (is32)
        ebpfvm__bounds_truncate(&d, 4);
    *dst = d;
}

/* ------------------------------------------------- conditional jumps */

struct rng {
    uint64_t umin, umax;
    int64_t smin, smax;
};

static struct rng get_rng(const struct bounds *b, bool is32)
{
    if (is32)
        return (struct rng){b->u32_min, b->u32_max, b->s32_min, b->s32_max};
    return (struct rng){b->umin, b->umax, b->smin, b->smax};
}

static void put_rng(struct bounds *b, const struct rng *r, bool is32)
{
    if (is32) {
        b->u32_min = (uint32_t)r->umin;
        b->u32_max = (uint32_t)r->umax;
        b->s32_min = (int32_t)r->smin;
        b->s32_max = (int32_t)r->smax;
    } else {
        b->umin = r->umin;
        b->umax = r->umax;
        b->smin = r->smin;
        b->smax = r->smax;
    }
}

static struct tnum get_tnum(const struct bounds *b, bool is32)
{
    return is32 ? ebpfvm__tnum_subreg(b->var_off) : b->var_off;
}

static void put_tnum(struct bounds *b, struct tnum t, bool is32)
{
    b->var_off = is32 ? ebpfvm__tnum_with_subreg(b->var_off, t) : t;
}

static unsigned swap_op(unsigned op)
{
    switch (op) {
    case EBPF_JMP_JGT: return EBPF_JMP_JLT;
    case EBPF_JMP_JGE: return EBPF_JMP_JLE;
    case EBPF_JMP_JLT: return EBPF_JMP_JGT;
    case EBPF_JMP_JLE: return EBPF_JMP_JGE;
    case EBPF_JMP_JSGT: return EBPF_JMP_JSLT;
    case EBPF_JMP_JSGE: return EBPF_JMP_JSLE;
    case EBPF_JMP_JSLT: return EBPF_JMP_JSGT;
    case EBPF_JMP_JSLE: return EBPF_JMP_JSGE;
    default: return op; /* JEQ, JNE, JSET are symmetric */
    }
}

static unsigned negate_op(unsigned op)
{
    switch (op) {
    case EBPF_JMP_JEQ: return EBPF_JMP_JNE;
    case EBPF_JMP_JNE: return EBPF_JMP_JEQ;
    case EBPF_JMP_JGT: return EBPF_JMP_JLE;
    case EBPF_JMP_JGE: return EBPF_JMP_JLT;
    case EBPF_JMP_JLT: return EBPF_JMP_JGE;
    case EBPF_JMP_JLE: return EBPF_JMP_JGT;
    case EBPF_JMP_JSGT: return EBPF_JMP_JSLE;
    case EBPF_JMP_JSGE: return EBPF_JMP_JSLT;
    case EBPF_JMP_JSLT: return EBPF_JMP_JSGE;
    case EBPF_JMP_JSLE: return EBPF_JMP_JSGT;
    default: return op;
    }
}

int ebpfvm__bounds_branch_taken(const struct bounds *a, const struct bounds *b, unsigned op, bool is32)
{
    struct rng x = get_rng(a, is32), y = get_rng(b, is32);
    struct tnum ta = get_tnum(a, is32), tb = get_tnum(b, is32);
    switch (op) {
    case EBPF_JMP_JEQ:
    case EBPF_JMP_JNE: {
        int eq = -1;
        if (ebpfvm__tnum_is_const(ta) && ebpfvm__tnum_is_const(tb))
            eq = ta.value == tb.value;
        else if (x.umin > y.umax || x.umax < y.umin || x.smin > y.smax || x.smax < y.smin || !tnums_overlap(ta, tb))
            eq = 0;
        if (eq < 0)
            return -1;
        return op == EBPF_JMP_JEQ ? eq : !eq;
    }
    case EBPF_JMP_JSET:
        if (ta.value & tb.value)
            return 1;
        if (((ta.value | ta.mask) & (tb.value | tb.mask)) == 0)
            return 0;
        return -1;
    case EBPF_JMP_JGT:
        return x.umin > y.umax ? 1 : x.umax <= y.umin ? 0 : -1;
    case EBPF_JMP_JGE:
        return x.umin >= y.umax ? 1 : x.umax < y.umin ? 0 : -1;
    case EBPF_JMP_JSGT:
        return x.smin > y.smax ? 1 : x.smax <= y.smin ? 0 : -1;
    case EBPF_JMP_JSGE:
        return x.smin >= y.smax ? 1 : x.smax < y.smin ? 0 : -1;
    case EBPF_JMP_JLT:
    case EBPF_JMP_JLE:
    case EBPF_JMP_JSLT:
    case EBPF_JMP_JSLE:
        return ebpfvm__bounds_branch_taken(b, a, swap_op(op), is32);
    default:
        return -1;
    }
}

/* x != c for a constant c: move the ends of x's ranges off c. */
static void refine_ne_const(struct rng *x, uint64_t c_u, int64_t c_s)
{
    if (x->umin == c_u && x->umin < x->umax)
        x->umin++;
    else if (x->umax == c_u && x->umax > x->umin)
        x->umax--;
    if (x->smin == c_s && x->smin < x->smax)
        x->smin++;
    else if (x->smax == c_s && x->smax > x->smin)
        x->smax--;
}

bool ebpfvm__bounds_refine(struct bounds *a, struct bounds *b, unsigned op, bool is32, bool taken)
{
    if (!taken)
        op = negate_op(op);
    if (op == EBPF_JMP_JLT || op == EBPF_JMP_JLE || op == EBPF_JMP_JSLT || op == EBPF_JMP_JSLE) {
        struct bounds *t = a;
        a = b;
        b = t;
        op = swap_op(op);
    }
    struct rng x = get_rng(a, is32), y = get_rng(b, is32);
    uint64_t umaxv = is32 ? UINT32_MAX : UINT64_MAX;
    int64_t smaxv = is32 ? INT32_MAX : INT64_MAX, sminv = is32 ? INT32_MIN : INT64_MIN;
    struct tnum ta = get_tnum(a, is32), tb = get_tnum(b, is32);

    switch (op) {
    case EBPF_JMP_JEQ: {
        if (!tnums_overlap(ta, tb))
            return false;
        struct tnum t = ebpfvm__tnum_intersect(ta, tb);
        put_tnum(a, t, is32);
        put_tnum(b, t, is32);
        x.umin = y.umin = umax64(x.umin, y.umin);
        x.umax = y.umax = umin64(x.umax, y.umax);
        x.smin = y.smin = smax64(x.smin, y.smin);
        x.smax = y.smax = smin64(x.smax, y.smax);
        break;
    }
    case EBPF_JMP_JNE:
        if (ebpfvm__tnum_is_const(tb))
            refine_ne_const(&x, y.umin, y.smin);
        else if (ebpfvm__tnum_is_const(ta))
            refine_ne_const(&y, x.umin, x.smin);
        break;
    case EBPF_JMP_JSET:
        if (taken) {
            /* Some bit of a & b is set; with one known bit it is that bit. */
            if (ebpfvm__tnum_is_const(tb) && tb.value && !(tb.value & (tb.value - 1)))
                put_tnum(a, ebpfvm__tnum_or(ta, tb), is32);
        } else {
            /* a & b == 0: every bit b surely has is clear in a. */
            if (ebpfvm__tnum_is_const(tb)) {
                uint64_t keep = ~tb.value & (is32 ? UINT32_MAX : UINT64_MAX);
                put_tnum(a, ebpfvm__tnum_and(ta, ebpfvm__tnum_const(keep)), is32);
            }
        }
        break;
    case EBPF_JMP_JGT:
        if (y.umin == umaxv || x.umax == 0)
            return false;
        x.umin = umax64(x.umin, y.umin + 1);
        y.umax = umin64(y.umax, x.umax - 1);
        break;
    case EBPF_JMP_JGE:
        x.umin = umax64(x.umin, y.umin);
        y.umax = umin64(y.umax, x.umax);
        break;
    case EBPF_JMP_JSGT:
        if (y.smin == smaxv || x.smax == sminv)
            return false;
        x.smin = smax64(x.smin, y.smin + 1);
        y.smax = smin64(y.smax, x.smax - 1);
        break;
    case EBPF_JMP_JSGE:
        x.smin = smax64(x.smin, y.smin);
        y.smax = smin64(y.smax, x.smax);
        break;
    default:
        break;
    }
    if (x.umin > x.umax || x.smin > x.smax || y.umin > y.umax || y.smin > y.smax)
        return false;
    put_rng(a, &x, is32);
    put_rng(b, &y, is32);
    return ebpfvm__bounds_sync(a) && ebpfvm__bounds_sync(b);
}

bool ebpfvm__bounds_within(const struct bounds *old, const struct bounds *cur)
{
    return old->umin <= cur->umin && cur->umax <= old->umax && old->smin <= cur->smin && cur->smax <= old->smax &&
           old->u32_min <= cur->u32_min && cur->u32_max <= old->u32_max && old->s32_min <= cur->s32_min &&
           cur->s32_max <= old->s32_max && ebpfvm__tnum_in(old->var_off, cur->var_off);
}
