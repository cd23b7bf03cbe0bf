/*
 * verifier/tnum.c - tristate number arithmetic (see tnum.h for the domain).
 *
 * Every function is a pure function of its arguments and keeps the
 * invariant (value & mask) == 0. Soundness of each operation is tested
 * exhaustively on small bit widths in tests/test_tnum.c.
 */
#include <stdio.h>

#include "verifier/tnum.h"

struct tnum ebpfvm__tnum_const(uint64_t value)
{
    return (struct tnum){value, 0};
}

struct tnum ebpfvm__tnum_range(uint64_t min, uint64_t max)
{
    uint64_t diff = min ^ max;
    if (diff == 0)
        return ebpfvm__tnum_const(min);
    /* Every bit below the highest differing bit may take any value. */
    unsigned bits = 64 - (unsigned)__builtin_clzll(diff);
    uint64_t delta = bits >= 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    return (struct tnum){min & ~delta, delta};
}

struct tnum ebpfvm__tnum_add(struct tnum a, struct tnum b)
{
    uint64_t sm = a.mask + b.mask;
    uint64_t sv = a.value + b.value;
    uint64_t sigma = sm + sv;               /* sum with every unknown bit set */
    uint64_t chi = sigma ^ sv;              /* bits whose carry may differ */
    uint64_t mu = chi | a.mask | b.mask;    /* ... plus the unknown inputs */
    return (struct tnum){sv & ~mu, mu};
}

struct tnum ebpfvm__tnum_sub(struct tnum a, struct tnum b)
{
    uint64_t dv = a.value - b.value;
    uint64_t alpha = dv + a.mask;           /* largest borrow-free result */
    uint64_t beta = dv - b.mask;            /* smallest */
    uint64_t chi = alpha ^ beta;
    uint64_t mu = chi | a.mask | b.mask;
    return (struct tnum){dv & ~mu, mu};
}

struct tnum ebpfvm__tnum_and(struct tnum a, struct tnum b)
{
    uint64_t alpha = a.value | a.mask;      /* bits that may be 1 in a */
    uint64_t beta = b.value | b.mask;
    uint64_t v = a.value & b.value;         /* bits surely 1 */
    return (struct tnum){v, alpha & beta & ~v};
}

struct tnum ebpfvm__tnum_or(struct tnum a, struct tnum b)
{
    uint64_t v = a.value | b.value;
    uint64_t mu = a.mask | b.mask;
    return (struct tnum){v, mu & ~v};
}

struct tnum ebpfvm__tnum_xor(struct tnum a, struct tnum b)
{
    uint64_t v = a.value ^ b.value;
    uint64_t mu = a.mask | b.mask;
    return (struct tnum){v & ~mu, mu};
}

struct tnum ebpfvm__tnum_neg(struct tnum a)
{
    return ebpfvm__tnum_sub(ebpfvm__tnum_const(0), a);
}

/*
 * Multiplication as shift-and-add over a's bits: a known 1 bit of a adds
 * b shifted; an unknown bit adds b's possible bits shifted as unknown.
 */
struct tnum ebpfvm__tnum_mul(struct tnum a, struct tnum b)
{
    struct tnum acc_known = ebpfvm__tnum_const(a.value * b.value);
    struct tnum acc_unknown = ebpfvm__tnum_const(0);
    while (a.value || a.mask) {
        if (a.value & 1)
            acc_unknown = ebpfvm__tnum_add(acc_unknown, (struct tnum){0, b.mask});
        else if (a.mask & 1)
            acc_unknown = ebpfvm__tnum_add(acc_unknown, (struct tnum){0, b.value | b.mask});
        a = ebpfvm__tnum_rshift(a, 1);
        b = ebpfvm__tnum_lshift(b, 1);
    }
    return ebpfvm__tnum_add(acc_known, acc_unknown);
}

struct tnum ebpfvm__tnum_lshift(struct tnum a, unsigned shift)
{
    shift &= 63;
    return (struct tnum){a.value << shift, a.mask << shift};
}

struct tnum ebpfvm__tnum_rshift(struct tnum a, unsigned shift)
{
    shift &= 63;
    return (struct tnum){a.value >> shift, a.mask >> shift};
}

/* Arithmetic shift of a signed quantity: shift value and mask each with
 * sign fill; a known sign bit fills value, an unknown one fills mask. */
static uint64_t arsh_bits(uint64_t v, unsigned shift, unsigned width)
{
    if (width == 32) {
        uint32_t x = (uint32_t)v;
        uint32_t fill = (x >> 31) ? ~(UINT32_MAX >> shift) : 0;
        return (uint32_t)((x >> shift) | fill);
    }
    uint64_t fill = (v >> 63) ? ~(UINT64_MAX >> shift) : 0;
    return (v >> shift) | fill;
}

struct tnum ebpfvm__tnum_arshift(struct tnum a, unsigned shift, unsigned width)
{
    shift &= width - 1;
    return (struct tnum){arsh_bits(a.value, shift, width), arsh_bits(a.mask, shift, width)};
}

struct tnum ebpfvm__tnum_intersect(struct tnum a, struct tnum b)
{
    uint64_t v = a.value | b.value;
    uint64_t mu = a.mask & b.mask;
    return (struct tnum){v & ~mu, mu};
}

struct tnum ebpfvm__tnum_cast(struct tnum a, unsigned size)
{
    if (size >= 8)
        return a;
    uint64_t keep = ((uint64_t)1 << (size * 8)) - 1;
    return (struct tnum){a.value & keep, a.mask & keep};
}

bool ebpfvm__tnum_in(struct tnum a, struct tnum b)
{
    if (b.mask & ~a.mask)
        return false;
    return a.value == (b.value & ~a.mask);
}

bool ebpfvm__tnum_equals(struct tnum a, struct tnum b)
{
    return a.value == b.value && a.mask == b.mask;
}

struct tnum ebpfvm__tnum_subreg(struct tnum a)
{
    return ebpfvm__tnum_cast(a, 4);
}

struct tnum ebpfvm__tnum_with_subreg(struct tnum a, struct tnum sub)
{
    uint64_t high = ~(uint64_t)UINT32_MAX;
    return (struct tnum){(a.value & high) | (sub.value & UINT32_MAX), (a.mask & high) | (sub.mask & UINT32_MAX)};
}

char *ebpfvm__tnum_str(struct tnum a, char *buf, unsigned long size)
{
    snprintf(buf, size, "(0x%llx; 0x%llx)", (unsigned long long)a.value, (unsigned long long)a.mask);
    return buf;
}
