/*
 * tests/test_tnum.c - the tnum domain (verifier/tnum.c): exact results on
 * hand-picked cases and soundness by sampling: for random tnums A, B and
 * random members a of A, b of B, op(a, b) must be a member of op(A, B).
 */
#include <criterion/criterion.h>

#include "verifier/tnum.h"
#include "vm/arith.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* A random tnum, biased toward few unknown bits and small values. */
static struct tnum rnd_tnum(void)
{
    uint64_t mask;
    switch (rnd() % 4) {
    case 0: mask = rnd() & 0xff; break;
    case 1: mask = rnd() & rnd() & rnd(); break;
    case 2: mask = rnd(); break;
    default: mask = 0; break;
    }
    uint64_t value = (rnd() % 3 == 0 ? rnd() & 0xffff : rnd()) & ~mask;
    return (struct tnum){value, mask};
}

static uint64_t member(struct tnum t)
{
    return t.value | (rnd() & t.mask);
}

static bool contains(struct tnum t, uint64_t x)
{
    return (x & ~t.mask) == t.value;
}

#define N 20000

Test(tnum, exact_cases)
{
    struct tnum r = ebpfvm__tnum_range(0, 255);
    cr_expect(r.value == 0 && r.mask == 0xff);
    r = ebpfvm__tnum_range(16, 31);
    cr_expect(r.value == 16 && r.mask == 15);
    r = ebpfvm__tnum_range(5, 5);
    cr_expect(r.value == 5 && r.mask == 0);
    r = ebpfvm__tnum_range(0, UINT64_MAX);
    cr_expect(ebpfvm__tnum_is_unknown(r));
    r = ebpfvm__tnum_add(ebpfvm__tnum_const(3), ebpfvm__tnum_const(4));
    cr_expect(r.value == 7 && r.mask == 0);
    r = ebpfvm__tnum_and((struct tnum){0, 0xff}, ebpfvm__tnum_const(0x0f));
    cr_expect(r.value == 0 && r.mask == 0x0f);
    r = ebpfvm__tnum_or((struct tnum){0, 0xff}, ebpfvm__tnum_const(0x100));
    cr_expect(r.value == 0x100 && r.mask == 0xff);
    r = ebpfvm__tnum_lshift((struct tnum){1, 2}, 4);
    cr_expect(r.value == 0x10 && r.mask == 0x20);
    r = ebpfvm__tnum_arshift((struct tnum){0x80000000u, 0}, 4, 32);
    cr_expect(r.value == 0xf8000000u && r.mask == 0, "%llx", (unsigned long long)r.value);
    r = ebpfvm__tnum_mul(ebpfvm__tnum_const(6), ebpfvm__tnum_const(7));
    cr_expect(r.value == 42 && r.mask == 0);
    r = ebpfvm__tnum_cast((struct tnum){0x1234, 0xff0000}, 2);
    cr_expect(r.value == 0x1234 && r.mask == 0);
    cr_expect(ebpfvm__tnum_in((struct tnum){0, 0xff}, ebpfvm__tnum_const(0x12)));
    cr_expect(!ebpfvm__tnum_in(ebpfvm__tnum_const(0x12), (struct tnum){0, 0xff}));
    cr_expect(!ebpfvm__tnum_in((struct tnum){0, 0xf}, ebpfvm__tnum_const(0x12)));
    char buf[64];
    cr_expect_str_eq(ebpfvm__tnum_str((struct tnum){0, 0xff}, buf, sizeof buf), "(0x0; 0xff)");
    r = ebpfvm__tnum_with_subreg((struct tnum){0xaaaa00000000ull, 0xffffffffull}, ebpfvm__tnum_const(7));
    cr_expect(r.value == 0xaaaa00000007ull && r.mask == 0);
}

Test(tnum, binary_ops_are_sound)
{
    for (int i = 0; i < N; i++) {
        struct tnum A = rnd_tnum(), B = rnd_tnum();
        uint64_t a = member(A), b = member(B);
        cr_assert(contains(ebpfvm__tnum_add(A, B), a + b), "add");
        cr_assert(contains(ebpfvm__tnum_sub(A, B), a - b), "sub");
        cr_assert(contains(ebpfvm__tnum_mul(A, B), a * b), "mul %llx*%llx", (unsigned long long)a,
                  (unsigned long long)b);
        cr_assert(contains(ebpfvm__tnum_and(A, B), a & b), "and");
        cr_assert(contains(ebpfvm__tnum_or(A, B), a | b), "or");
        cr_assert(contains(ebpfvm__tnum_xor(A, B), a ^ b), "xor");
        cr_assert(contains(ebpfvm__tnum_neg(A), 0 - a), "neg");
        unsigned k = (unsigned)(rnd() % 64);
        cr_assert(contains(ebpfvm__tnum_lshift(A, k), a << k), "lsh");
        cr_assert(contains(ebpfvm__tnum_rshift(A, k), a >> k), "rsh");
        cr_assert(contains(ebpfvm__tnum_arshift(A, k, 64), ebpf_arsh64(a, k)), "arsh64");
        struct tnum A32 = ebpfvm__tnum_subreg(A);
        cr_assert(contains(ebpfvm__tnum_arshift(A32, k % 32, 32), ebpf_arsh32((uint32_t)a, k % 32)), "arsh32");
        unsigned size = 1u << (rnd() % 4);
        uint64_t keep = size == 8 ? UINT64_MAX : ((uint64_t)1 << (size * 8)) - 1;
        cr_assert(contains(ebpfvm__tnum_cast(A, size), a & keep), "cast");
        cr_assert(contains(ebpfvm__tnum_with_subreg(A, B), (a & ~(uint64_t)UINT32_MAX) | (b & UINT32_MAX)),
                  "with_subreg");
        /* Every result keeps the invariant. */
        struct tnum m = ebpfvm__tnum_mul(A, B);
        cr_assert_eq(m.value & m.mask, 0);
    }
}

Test(tnum, intersect_range_and_in)
{
    for (int i = 0; i < N; i++) {
        struct tnum A = rnd_tnum();
        uint64_t x = member(A);
        /* B: a tnum that also contains x. */
        struct tnum B;
        B.mask = rnd() & rnd();
        B.value = x & ~B.mask;
        struct tnum I = ebpfvm__tnum_intersect(A, B);
        cr_assert(contains(I, x), "intersect");
        cr_assert(ebpfvm__tnum_in(A, I) && ebpfvm__tnum_in(B, I), "intersect inside both");
        uint64_t lo = rnd() % 3 ? rnd() >> (rnd() % 64) : rnd(), hi = lo + (rnd() >> (rnd() % 64));
        if (hi < lo)
            hi = UINT64_MAX;
        struct tnum R = ebpfvm__tnum_range(lo, hi);
        uint64_t span = hi - lo;
        uint64_t inside = lo + (span == UINT64_MAX ? rnd() : rnd() % (span + 1));
        cr_assert(contains(R, lo) && contains(R, hi) && contains(R, inside), "range");
        /* tnum_in(A, C) means every member of C is in A. */
        struct tnum C = {A.value | (rnd() & A.mask), 0};
        C.mask = A.mask & rnd();
        C.value &= ~C.mask;
        cr_assert(ebpfvm__tnum_in(A, C));
        cr_assert(contains(A, member(C)));
    }
}
