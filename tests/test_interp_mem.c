/*
 * tests/test_interp_mem.c - loads, stores, sign-extending loads, atomics and
 * the legacy packet loads, in both modes, on the caller's memory block (r1)
 * and the stack (r10).
 */
#include <string.h>

#include <criterion/criterion.h>

#include "interp_run.h"

#define B EBPF_SIZE_B
#define H EBPF_SIZE_H
#define W EBPF_SIZE_W
#define DW EBPF_SIZE_DW

static uint64_t get64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t get32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

Test(interp_mem, ldx_all_sizes)
{
    uint8_t mem[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc};
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDX_MEM(B, 0, 1, 2), EBPF_EXIT()), 0x33);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDX_MEM(H, 0, 1, 2), EBPF_EXIT()), 0x4433);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDX_MEM(W, 0, 1, 4), EBPF_EXIT()), 0x88776655);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDX_MEM(DW, 0, 1, 1), EBPF_EXIT()), 0x9988776655443322ull);
    /* negative offsets from a moved base */
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 8), EBPF_LDX_MEM(B, 0, 1, -8), EBPF_EXIT()),
                 0x11);
    /* r2 holds the block's length */
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_MOV64_REG(0, 2), EBPF_EXIT()), 16);
}

Test(interp_mem, ldxs_sign_extends)
{
    uint8_t mem[8] = {0x80, 0x00, 0x80, 0x00, 0x00, 0x80, 0x7f, 0x00};
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDXS_MEM(B, 0, 1, 0), EBPF_EXIT()), 0xffffffffffffff80ull);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDXS_MEM(B, 0, 1, 6), EBPF_EXIT()), 0x7f);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDXS_MEM(H, 0, 1, 2), EBPF_EXIT()), 0x80);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDXS_MEM(H, 0, 1, 4), EBPF_EXIT()), 0xffffffffffff8000ull);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDXS_MEM(W, 0, 1, 2), EBPF_EXIT()), 0xffffffff80000080ull);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDXS_MEM(W, 0, 1, 4), EBPF_EXIT()), 0x007f8000);
    /* plain ldx zero-extends the same bytes */
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LDX_MEM(B, 0, 1, 0), EBPF_EXIT()), 0x80);
}

Test(interp_mem, st_stores_truncated_sign_extended_imm)
{
    uint8_t mem[24] = {0};
    INTERP_R0_MEM(mem, EBPF_ST_MEM(B, 1, 0, 0x1ff), EBPF_ST_MEM(H, 1, 2, 0x12345), EBPF_ST_MEM(W, 1, 4, -2),
                  EBPF_ST_MEM(DW, 1, 8, -1), EBPF_ST_MEM(DW, 1, 16, 0x7fffffff), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    cr_assert_eq(mem[0], 0xff);
    cr_assert_eq(mem[1], 0);
    cr_assert_eq(mem[2] | mem[3] << 8, 0x2345);
    cr_assert_eq(get32(mem + 4), 0xfffffffeu);
    cr_assert_eq(get64(mem + 8), UINT64_MAX);
    cr_assert_eq(get64(mem + 16), 0x7fffffffu);
}

Test(interp_mem, stx_all_sizes)
{
    uint8_t mem[24] = {0};
    INTERP_R0_MEM(mem, EBPF_LD_IMM64(2, 0x1122334455667788ull), EBPF_STX_MEM(B, 1, 2, 0), EBPF_STX_MEM(H, 1, 2, 2),
                  EBPF_STX_MEM(W, 1, 2, 4), EBPF_STX_MEM(DW, 1, 2, 9), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    cr_assert_eq(mem[0], 0x88);
    cr_assert_eq(mem[1], 0);
    cr_assert_eq(mem[2] | mem[3] << 8, 0x7788);
    cr_assert_eq(get32(mem + 4), 0x55667788u);
    cr_assert_eq(get64(mem + 9), 0x1122334455667788ull);
    cr_assert_eq(mem[8], 0);
}

Test(interp_mem, stack_store_and_load)
{
    cr_assert_eq(INTERP_R0(EBPF_LD_IMM64(1, 0xdeadbeefcafef00dull), EBPF_STX_MEM(DW, 10, 1, -8),
                           EBPF_ST_MEM(W, 10, -512, 7), EBPF_LDX_MEM(DW, 0, 10, -8),
                           EBPF_LDX_MEM(W, 2, 10, -512), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 2), EBPF_EXIT()),
                 0xdeadbeefcafef014ull);
    /* the stack starts zeroed */
    cr_assert_eq(INTERP_R0(EBPF_LDX_MEM(DW, 0, 10, -16), EBPF_EXIT()), 0);
}

/* ---- atomics: mem[0] (64-bit) and mem[8] (32-bit) ---- */

struct atomic_case {
    int op;
    uint64_t before, operand; /* memory before, src operand */
    uint64_t after, src_after; /* memory after, src after */
};

static void run_atomic(unsigned size, const struct atomic_case *c)
{
    _Alignas(8) uint8_t mem[16] = {0};
    unsigned off = size == DW ? 0 : 8;
    if (size == DW)
        memcpy(mem, &c->before, 8);
    else {
        uint32_t v = (uint32_t)c->before;
        memcpy(mem + 8, &v, 4);
    }
    /* returns src after the operation */
    uint64_t src_after = INTERP_R0_MEM(mem, EBPF_LD_IMM64(2, c->operand), EBPF_MOV64_IMM(0, 0),
                                       EBPF_ATOMIC_OP(size, c->op, 1, 2, off), EBPF_MOV64_REG(0, 2), EBPF_EXIT());
    uint64_t after = size == DW ? get64(mem) : get32(mem + 8);
    cr_assert_eq(after, c->after, "op 0x%x size %u: memory 0x%llx, want 0x%llx", c->op, size,
                 (unsigned long long)after, (unsigned long long)c->after);
    cr_assert_eq(src_after, c->src_after, "op 0x%x size %u: src 0x%llx, want 0x%llx", c->op, size,
                 (unsigned long long)src_after, (unsigned long long)c->src_after);
}

Test(interp_mem, atomics_64)
{
    const uint64_t m = 0x00000000f0f0f0f0ull, s = 0x0f0f0f0f0000ffffull;
    const struct atomic_case cases[] = {
        {EBPF_ATOMIC_ADD, m, s, m + s, s},
        {EBPF_ATOMIC_OR, m, s, m | s, s},
        {EBPF_ATOMIC_AND, m, s, m & s, s},
        {EBPF_ATOMIC_XOR, m, s, m ^ s, s},
        {EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH, m, s, m + s, m},
        {EBPF_ATOMIC_OR | EBPF_ATOMIC_FETCH, m, s, m | s, m},
        {EBPF_ATOMIC_AND | EBPF_ATOMIC_FETCH, m, s, m & s, m},
        {EBPF_ATOMIC_XOR | EBPF_ATOMIC_FETCH, m, s, m ^ s, m},
        {EBPF_ATOMIC_XCHG, m, s, s, m},
    };
    for (size_t i = 0; i < EBPF_NWORDS(cases); i++)
        run_atomic(DW, &cases[i]);
}

Test(interp_mem, atomics_32_zero_extend_fetched_values)
{
    const uint64_t m = 0xfffffff0ull, s = 0xabcdef0000000011ull; /* only the low half of s is used */
    const struct atomic_case cases[] = {
        {EBPF_ATOMIC_ADD, m, s, 0x00000001, s},
        {EBPF_ATOMIC_OR, m, s, 0xfffffff1, s},
        {EBPF_ATOMIC_AND, m, s, 0x10, s},
        {EBPF_ATOMIC_XOR, m, s, 0xffffffe1, s},
        {EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH, m, s, 0x00000001, m},
        {EBPF_ATOMIC_OR | EBPF_ATOMIC_FETCH, m, s, 0xfffffff1, m},
        {EBPF_ATOMIC_AND | EBPF_ATOMIC_FETCH, m, s, 0x10, m},
        {EBPF_ATOMIC_XOR | EBPF_ATOMIC_FETCH, m, s, 0xffffffe1, m},
        {EBPF_ATOMIC_XCHG, m, s, 0x11, m},
    };
    for (size_t i = 0; i < EBPF_NWORDS(cases); i++)
        run_atomic(W, &cases[i]);
}

/* cmpxchg: r0 = old value always; the store happens only when old == r0. */
static uint64_t cmpxchg(unsigned size, uint64_t *mem64, uint64_t expected, uint64_t desired)
{
    _Alignas(8) uint8_t mem[8];
    memcpy(mem, mem64, 8);
    uint64_t r0 = INTERP_R0_MEM(mem, EBPF_LD_IMM64(0, expected), EBPF_LD_IMM64(2, desired),
                                EBPF_ATOMIC_OP(size, EBPF_ATOMIC_CMPXCHG, 1, 2, 0), EBPF_EXIT());
    memcpy(mem64, mem, 8);
    return r0;
}

Test(interp_mem, cmpxchg_success_and_failure)
{
    uint64_t m = 0x1111222233334444ull;
    cr_assert_eq(cmpxchg(DW, &m, 0x1111222233334444ull, 0x99), 0x1111222233334444ull);
    cr_assert_eq(m, 0x99); /* success: stored */
    cr_assert_eq(cmpxchg(DW, &m, 0x98, 0x55), 0x99);
    cr_assert_eq(m, 0x99); /* failure: unchanged */

    m = 0x1111222233334444ull;
    /* 32-bit compares the low halves; r0 gets the zero-extended old value */
    cr_assert_eq(cmpxchg(W, &m, 0xffffffff33334444ull, 0xaaaabbbbccccddddull), 0x33334444);
    cr_assert_eq(m, 0x11112222ccccddddull);
    cr_assert_eq(cmpxchg(W, &m, 0x1234, 0x5678), 0xccccdddd);
    cr_assert_eq(m, 0x11112222ccccddddull);
}

Test(interp_mem, legacy_packet_loads_are_big_endian)
{
    uint8_t mem[8] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LD_ABS(B, 1), EBPF_EXIT()), 0x34);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LD_ABS(H, 2), EBPF_EXIT()), 0x5678);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LD_ABS(W, 4), EBPF_EXIT()), 0x9abcdef0);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_MOV64_IMM(3, 3), EBPF_LD_IND(H, 3, 1), EBPF_EXIT()), 0x9abc);
}

Test(interp_mem, legacy_packet_load_out_of_bounds_returns_zero)
{
    uint8_t mem[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_MOV64_IMM(0, 9), EBPF_LD_ABS(W, 5), EBPF_MOV64_IMM(0, 9), EBPF_EXIT()),
                 0);
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_MOV64_IMM(0, 9), EBPF_MOV64_IMM(3, -1), EBPF_LD_IND(B, 3, 0),
                               EBPF_MOV64_IMM(0, 9), EBPF_EXIT()),
                 0);
    /* the last byte is in bounds */
    cr_assert_eq(INTERP_R0_MEM(mem, EBPF_LD_ABS(B, 7), EBPF_EXIT()), 8);
}

/*
 * A run never sees the stack bytes of an earlier run. Runs zero only the
 * part of the frame a program can reach (vm/interp.c, jit/x86_64.c), so a
 * writer fills the frame at several depths, then readers that reach those
 * bytes - directly through r10, or through a copy of r10, which makes the
 * whole frame reachable - must read zeros, in every engine.
 */
Test(interp_mem, a_run_never_reads_an_earlier_runs_stack)
{
    static const struct ebpf_insn writer[] = {
        EBPF_LD_IMM64(1, 0x5a5a5a5a5a5a5a5aull), EBPF_STX_MEM(DW, 10, 1, -8), EBPF_STX_MEM(DW, 10, 1, -256),
        EBPF_STX_MEM(DW, 10, 1, -512),           EBPF_MOV64_REG(2, 10),       EBPF_STX_MEM(DW, 2, 1, -136),
        EBPF_MOV64_IMM(0, 0),                    EBPF_EXIT(),
    };
    static const struct ebpf_insn direct[] = {EBPF_LDX_MEM(DW, 0, 10, -8), EBPF_LDX_MEM(DW, 1, 10, -256),
                                              EBPF_ALU64_REG(EBPF_ALU_OR, 0, 1), EBPF_EXIT()};
    static const struct ebpf_insn copied[] = {EBPF_MOV64_REG(1, 10), EBPF_LDX_MEM(DW, 0, 1, -512),
                                              EBPF_LDX_MEM(DW, 2, 1, -136), EBPF_ALU64_REG(EBPF_ALU_OR, 0, 2),
                                              EBPF_EXIT()};
    const struct {
        const struct ebpf_insn *insns;
        size_t count;
    } readers[] = {{direct, sizeof direct / sizeof direct[0]}, {copied, sizeof copied / sizeof copied[0]}};
    const enum ebpfvm_exec_mode modes[] = {EBPFVM_EXEC_CHECKED, EBPFVM_EXEC_FAST, EBPFVM_EXEC_JIT};

    ebpfvm_vm *vm = interp_test_vm();
    ebpfvm_prog *w = interp_load(vm, writer, sizeof writer / sizeof writer[0]);
    ebpfvm_prog_jit(w, EBPFVM_JIT_ALLOW_UNVERIFIED);
    for (size_t r = 0; r < sizeof readers / sizeof readers[0]; r++) {
        ebpfvm_prog *p = interp_load(vm, readers[r].insns, readers[r].count);
        ebpfvm_prog_jit(p, EBPFVM_JIT_ALLOW_UNVERIFIED);
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            struct ebpfvm_run_result res;
            cr_assert_eq(interp_run_mode(w, modes[m], 0, NULL, 0, &res), 0, "%s", res.message);
            cr_assert_eq(interp_run_mode(p, modes[m], 0, NULL, 0, &res), 0, "%s", res.message);
            cr_assert_eq(res.r0, 0, "reader %zu, mode %d read 0x%llx from an earlier run", r, (int)modes[m],
                         (unsigned long long)res.r0);
        }
    }
    ebpfvm_vm_destroy(vm);
}
