/*
 * verifier/tnum.h - tristate numbers: the verifier's bit-level abstract
 * domain.
 *
 * A tnum {value, mask} stands for every 64-bit x with (x & ~mask) == value:
 * bits set in mask are unknown, the others are known and equal to value's.
 * Invariant of every tnum built here: (value & mask) == 0. The operations
 * are sound over-approximations: for any concrete a in A and b in B,
 * op(a, b) is in tnum_op(A, B).
 */
#ifndef EBPFVM_VERIFIER_TNUM_H
#define EBPFVM_VERIFIER_TNUM_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/internal.h"

struct tnum {
    uint64_t value;
    uint64_t mask;
};

#define TNUM_UNKNOWN ((struct tnum){0, UINT64_MAX})

EBPFVM_INTERNAL struct tnum ebpfvm__tnum_const(uint64_t value);
/* The smallest tnum containing every x in [min, max] (unsigned). */
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_range(uint64_t min, uint64_t max);
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_add(struct tnum a, struct tnum b);
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_sub(struct tnum a, struct tnum b);
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_mul(struct tnum a, struct tnum b);
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_and(struct tnum a, struct tnum b);
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_or(struct tnum a, struct tnum b);
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_xor(struct tnum a, struct tnum b);
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_neg(struct tnum a);
/* Shifts by a known amount (0..63). */
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_lshift(struct tnum a, unsigned shift);
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_rshift(struct tnum a, unsigned shift);
/* Arithmetic right shift of the low `width` (32 or 64) bits, result
 * zero-extended from width bits. */
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_arshift(struct tnum a, unsigned shift, unsigned width);
/* Values in both a and b (the caller knows they share at least one). */
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_intersect(struct tnum a, struct tnum b);
/* Keep the low `size` bytes (1..8). */
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_cast(struct tnum a, unsigned size);
/* Whether every value of b is a value of a. */
EBPFVM_INTERNAL bool ebpfvm__tnum_in(struct tnum a, struct tnum b);
EBPFVM_INTERNAL bool ebpfvm__tnum_equals(struct tnum a, struct tnum b);
/* Low 32 bits (zero-extended); a with its low 32 bits replaced by sub's. */
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_subreg(struct tnum a);
EBPFVM_INTERNAL struct tnum ebpfvm__tnum_with_subreg(struct tnum a, struct tnum sub);
/* "(0x0; 0xff)" into buf (at least 40 bytes); returns buf. */
EBPFVM_INTERNAL char *ebpfvm__tnum_str(struct tnum a, char *buf, unsigned long size);

static inline bool ebpfvm__tnum_is_const(struct tnum a)
{
    return a.mask == 0;
}

static inline bool ebpfvm__tnum_is_unknown(struct tnum a)
{
    return a.mask == UINT64_MAX;
}

#endif /* EBPFVM_VERIFIER_TNUM_H */
