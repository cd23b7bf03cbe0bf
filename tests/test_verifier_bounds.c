/*
 * tests/test_verifier_bounds.c - the scalar domain of the verifier
 * (verifier/reg_bounds.c) by sampling: random abstract values with random
 * concrete members, checking that
 *   - sync never loses a member;
 *   - every ALU/ALU64 form's abstract result contains the interpreter's
 *     result (vm/arith.h) for the members;
 *   - a branch declared always (never) taken is taken (not taken) for the
 *     members, and refining both operands on the branch the members take
 *     keeps them;
 *   - inclusion (used for pruning) implies membership.
 * Plus exact deductions that the kernel makes and programs rely on.
 */
#include <criterion/criterion.h>

#include "verifier/verifier_internal.h"
#include "vm/arith.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_value(void)
{
    switch (rnd() % 6) {
    case 0: return rnd() % 16;
    case 1: return (uint64_t)0 - rnd() % 16;
    case 2: return rnd() & 0xffffffffu;
    case 3: return ((uint64_t)1 << (rnd() % 64)) + rnd() % 3 - 1;
    case 4: return (uint64_t)ebpf_sext(rnd(), 32);
    default: return rnd();
    }
}

static bool is_member(const struct bounds *b, uint64_t v)
{
    int64_t s = ebpf_as_s64(v);
    uint32_t v32 = (uint32_t)v;
    int32_t s32 = ebpf_as_s32(v32);
    return v >= b->umin && v <= b->umax && s >= b->smin && s <= b->smax && v32 >= b->u32_min && v32 <= b->u32_max &&
           s32 >= b->s32_min && s32 <= b->s32_max && (v & ~b->var_off.mask) == b->var_off.value;
}

/* A random abstract value with a known member *x. */
static struct bounds rnd_bounds(uint64_t *x)
{
    for (;;) {
        uint64_t v = rnd_value();
        struct bounds b;
        ebpfvm__bounds_unknown(&b);
        switch (rnd() % 7) {
        case 0:
            ebpfvm__bounds_const(&b, v);
            break;
        case 1: { /* unsigned range around v */
            uint64_t lo = v - (rnd() % 3 ? rnd() % 100 : rnd() >> (rnd() % 64));
            uint64_t hi = v + (rnd() % 3 ? rnd() % 100 : rnd() >> (rnd() % 64));
            b.umin = lo <= v ? lo : 0;
            b.umax = hi >= v ? hi : UINT64_MAX;
            break;
        }
        case 2: { /* signed range around v */
            int64_t s = ebpf_as_s64(v), d1 = (int64_t)(rnd() % 1000), d2 = (int64_t)(rnd() % 1000);
            b.smin = s > INT64_MIN + d1 ? s - d1 : INT64_MIN;
            b.smax = s < INT64_MAX - d2 ? s + d2 : INT64_MAX;
            break;
        }
        case 3: { /* known bits */
            uint64_t mask = rnd() & rnd();
            b.var_off = (struct tnum){v & ~mask, mask};
            break;
        }
        case 4: { /* 32-bit ranges */
            uint32_t v32 = (uint32_t)v, d = (uint32_t)(rnd() % 5000);
            b.u32_min = v32 >= d ? v32 - d : 0;
            b.u32_max = v32 <= UINT32_MAX - d ? v32 + d : UINT32_MAX;
            int32_t s32 = ebpf_as_s32(v32);
            b.s32_min = s32 > INT32_MIN + 100 ? s32 - 100 : INT32_MIN;
            break;
        }
        case 5: /* a loaded byte / half / word */
            ebpfvm__bounds_load(&b, 1u << (rnd() % 3), rnd() % 2);
            v = rnd();
            if (!is_member(&b, v))
                v = b.var_off.value | (rnd() & b.var_off.mask);
            break;
        default:
            break;
        }
        if (!is_member(&b, v))
            continue;
        cr_assert(ebpfvm__bounds_sync(&b), "sync declared a set with a member empty");
        cr_assert(is_member(&b, v), "sync lost a member");
        *x = v;
        return b;
    }
}

/* Another member of b near x, or x. */
static uint64_t other_member(const struct bounds *b, uint64_t x)
{
    uint64_t candidates[] = {b->umin, b->umax, (uint64_t)b->smin, (uint64_t)b->smax, b->var_off.value,
                             b->var_off.value | b->var_off.mask, b->var_off.value | (rnd() & b->var_off.mask),
                             x + 1, x - 1};
    uint64_t c = candidates[rnd() % (sizeof candidates / sizeof candidates[0])];
    return is_member(b, c) ? c : x;
}

#define N 4000

Test(verifier_bounds, alu_is_sound)
{
    for (int form = 0; form < EBPF_OP_COUNT_; form++) {
        const struct ebpfvm_form_info *info = &ebpfvm__forms[form];
        unsigned cls = EBPF_CLASS(info->opcode);
        if (cls != EBPF_CLASS_ALU && cls != EBPF_CLASS_ALU64)
            continue;
        if (EBPF_OP(info->opcode) == EBPF_ALU_MOV && info->disc_value != 0)
            continue; /* movsx: check_alu.c, tested through programs */
        for (int i = 0; i < N; i++) {
            uint64_t x, y;
            struct bounds a = rnd_bounds(&x), b = rnd_bounds(&y);
            x = other_member(&a, x);
            y = other_member(&b, y);
            bool ok;
            uint64_t want = ebpf_alu_eval((enum ebpf_insn_form)form, x, y, &ok);
            cr_assert(ok);
            struct bounds r = a;
            ebpfvm__bounds_alu(&r, &b, (enum ebpf_insn_form)form);
            cr_assert(is_member(&r, want),
                      "%s: %#llx op %#llx = %#llx not in result (umin %#llx umax %#llx smin %lld smax %lld "
                      "u32 [%#x, %#x] s32 [%d, %d] var_off (%#llx; %#llx))",
                      info->mnemonic, (unsigned long long)x, (unsigned long long)y, (unsigned long long)want,
                      (unsigned long long)r.umin, (unsigned long long)r.umax, (long long)r.smin, (long long)r.smax,
                      r.u32_min, r.u32_max, r.s32_min, r.s32_max, (unsigned long long)r.var_off.value,
                      (unsigned long long)r.var_off.mask);
        }
    }
}

Test(verifier_bounds, branches_are_sound)
{
    static const unsigned ops[] = {EBPF_JMP_JEQ,  EBPF_JMP_JNE,  EBPF_JMP_JGT,  EBPF_JMP_JGE,
                                   EBPF_JMP_JLT,  EBPF_JMP_JLE,  EBPF_JMP_JSGT, EBPF_JMP_JSGE,
                                   EBPF_JMP_JSLT, EBPF_JMP_JSLE, EBPF_JMP_JSET};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        for (int is32 = 0; is32 < 2; is32++) {
            for (int i = 0; i < N; i++) {
                uint64_t x, y;
                struct bounds a = rnd_bounds(&x), b = rnd_bounds(&y);
                x = other_member(&a, x);
                y = other_member(&b, y);
                if (rnd() % 4 == 0) {
                    ebpfvm__bounds_const(&b, y);
                }
                bool cond = is32 ? ebpf_cond32(ops[k], x, y) : ebpf_cond64(ops[k], x, y);
                int decided = ebpfvm__bounds_branch_taken(&a, &b, ops[k], is32);
                cr_assert(decided < 0 || decided == (int)cond, "op %#x/%d decided %d but %#llx vs %#llx gives %d",
                          ops[k], is32, decided, (unsigned long long)x, (unsigned long long)y, cond);
                struct bounds ra = a, rb = b;
                bool feasible = ebpfvm__bounds_refine(&ra, &rb, ops[k], is32, cond);
                cr_assert(feasible, "op %#x/%d: refining the branch %#llx vs %#llx takes was called impossible",
                          ops[k], is32, (unsigned long long)x, (unsigned long long)y);
                cr_assert(is_member(&ra, x) && is_member(&rb, y),
                          "op %#x/%d branch %d: refinement lost %#llx or %#llx", ops[k], is32, cond,
                          (unsigned long long)x, (unsigned long long)y);
            }
        }
    }
}

Test(verifier_bounds, inclusion_implies_membership)
{
    for (int i = 0; i < N * 4; i++) {
        uint64_t x, y;
        struct bounds old = rnd_bounds(&x), cur = rnd_bounds(&y);
        y = other_member(&cur, y);
        if (ebpfvm__bounds_within(&old, &cur))
            cr_assert(is_member(&old, y));
        cr_assert(ebpfvm__bounds_within(&old, &old));
    }
}

Test(verifier_bounds, kernel_deductions)
{
    struct bounds b;
    /* A u32 load: smin=0, umax=0xffffffff, and the 32-bit signed range
     * stays full. */
    ebpfvm__bounds_load(&b, 4, false);
    cr_expect(b.smin == 0 && b.umax == 0xffffffffu && b.s32_min == INT32_MIN && b.u32_max == UINT32_MAX);
    /* & 0xff: every view is [0, 255] and the tnum (0x0; 0xff). */
    struct bounds mask;
    ebpfvm__bounds_const(&mask, 0xff);
    ebpfvm__bounds_alu(&b, &mask, EBPF_OP_AND64_IMM);
    cr_expect(b.umax == 255 && b.smax == 255 && b.u32_max == 255 && b.s32_max == 255 && b.s32_min == 0 &&
              b.var_off.value == 0 && b.var_off.mask == 0xff);
    /* JMP32 w > 7 false on a zero-extended value bounds 64 bits too. */
    struct bounds x, seven;
    ebpfvm__bounds_load(&x, 4, false);
    ebpfvm__bounds_const(&seven, 7);
    cr_assert(ebpfvm__bounds_refine(&x, &seven, EBPF_JMP_JGT, true, false));
    cr_expect(x.umax == 7 && x.smax == 7 && x.smin == 0 && x.var_off.mask == 7, "umax %llu",
              (unsigned long long)x.umax);
    /* A signed range that does not cross zero is also an unsigned one. */
    ebpfvm__bounds_unknown(&x);
    x.smin = -10;
    x.smax = -2;
    cr_assert(ebpfvm__bounds_sync(&x));
    cr_expect(x.umin == (uint64_t)-10 && x.umax == (uint64_t)-2 && x.s32_min == -10 && x.s32_max == -2);
    /* An impossible refinement is reported: x in [0, 3] and x > 5. */
    struct bounds five;
    ebpfvm__bounds_unknown(&x);
    x.umax = 3;
    cr_assert(ebpfvm__bounds_sync(&x));
    ebpfvm__bounds_const(&five, 5);
    cr_expect_eq(ebpfvm__bounds_branch_taken(&x, &five, EBPF_JMP_JGT, false), 0);
    cr_expect(!ebpfvm__bounds_refine(&x, &five, EBPF_JMP_JGT, false, true));
    /* x != 0 with x in [0, 3] gives [1, 3]. */
    struct bounds zero;
    ebpfvm__bounds_const(&zero, 0);
    cr_assert(ebpfvm__bounds_refine(&x, &zero, EBPF_JMP_JNE, false, true));
    cr_expect(x.umin == 1 && x.umax == 3);
    /* 32-bit add wraps and zero-extends: 0xffffffff + 1 = 0. */
    struct bounds c, one;
    ebpfvm__bounds_const(&c, 0xffffffffu);
    ebpfvm__bounds_const(&one, 1);
    ebpfvm__bounds_alu(&c, &one, EBPF_OP_ADD32_IMM);
    cr_expect(ebpfvm__bounds_is_const(&c) && c.var_off.value == 0);
}

/* The kernel's deduction for a signed range that crosses the sign boundary
 * (negative to positive) met by an unsigned range on one side of it. */
Test(verifier_bounds, sign_crossing_deduction)
{
    /* s in [-5, 100], u in [10, 20]: only [10, 20] (the non-negative part). */
    struct bounds x;
    ebpfvm__bounds_unknown(&x);
    x.smin = -5;
    x.smax = 100;
    x.umin = 10;
    x.umax = 20;
    cr_assert(ebpfvm__bounds_sync(&x));
    cr_expect(x.smin == 10 && x.smax == 20, "smin %lld smax %lld", (long long)x.smin, (long long)x.smax);
    /* s in [-5, 100], u >= 2^63: only the negative part, [-5, -1]. */
    ebpfvm__bounds_unknown(&x);
    x.smin = -5;
    x.smax = 100;
    x.umin = (uint64_t)1 << 63;
    cr_assert(ebpfvm__bounds_sync(&x));
    cr_expect(x.smin == -5 && x.smax == -1 && x.umin == (uint64_t)-5 && x.umax == UINT64_MAX, "smin %lld smax %lld",
              (long long)x.smin, (long long)x.smax);
    /* The same in 32 bits: s32 in [-5, 100], u32 in [10, 20]. */
    ebpfvm__bounds_unknown(&x);
    x.s32_min = -5;
    x.s32_max = 100;
    x.u32_min = 10;
    x.u32_max = 20;
    cr_assert(ebpfvm__bounds_sync(&x));
    cr_expect(x.s32_min == 10 && x.s32_max == 20 && x.u32_min == 10 && x.u32_max == 20);
}

/* Shifts by a count not known to be below the width give unknown. */
Test(verifier_bounds, oversized_or_unknown_shift_counts)
{
    struct bounds x, k;
    ebpfvm__bounds_const(&x, 1);
    ebpfvm__bounds_const(&k, 64);
    ebpfvm__bounds_alu(&x, &k, EBPF_OP_LSH64_REG);
    cr_expect(!ebpfvm__bounds_is_const(&x) && x.umax == UINT64_MAX && x.smin == INT64_MIN);
    ebpfvm__bounds_const(&x, 1);
    ebpfvm__bounds_const(&k, 32);
    ebpfvm__bounds_alu(&x, &k, EBPF_OP_LSH32_REG);
    cr_expect(x.umax == UINT64_MAX, "a 32-bit shift by 32 is unknown, not even zero-extended");
    ebpfvm__bounds_load(&x, 1, false);
    ebpfvm__bounds_load(&k, 1, false);
    ebpfvm__bounds_alu(&x, &k, EBPF_OP_RSH64_REG);
    cr_expect(x.umax == UINT64_MAX);
    ebpfvm__bounds_load(&x, 1, false);
    ebpfvm__bounds_const(&k, 4);
    ebpfvm__bounds_alu(&x, &k, EBPF_OP_RSH64_REG);
    cr_expect(x.umax == 15);
}
