/*
 * tests/test_verifier_soundness.c - random programs: whatever the verifier
 * accepts must run in the checked interpreter (EBPFVM_EXEC_CHECKED, every
 * memory access checked) without a fault, on several packets and map
 * contents. Any fault is a verifier bug (an unsound bound, a range learnt
 * on the wrong branch, ...).
 *
 * The generator builds XDP programs around the places where bounds matter:
 * a prologue puts the ctx in r6, data in r7, data_end in r8 and a map value
 * (8 bytes, NULL-checked) in r9; then random ALU/ALU32 operations, loads,
 * forward conditional jumps (JMP and JMP32, immediate and register), stack
 * spills and fills, and accesses through r9 + scalar and r7 + scalar
 * (guarded by a data_end comparison or not) on the scalars r0..r5. A
 * quarter of the programs run that body in a bpf-to-bpf callee (r1 = ctx,
 * r5 = a pointer into the caller's stack, r9 = 8 bytes of the callee's own
 * stack instead of the map value). It is deterministic (fixed seed).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "insn.h"

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static int32_t rnd_imm(void)
{
    static const int32_t interesting[] = {0, 1, 2, 3, 4, 7, 8, 14, 15, 16, 31, 32, 63, 64, 255, 256, 0x7fff,
                                          0xffff, 0x7fffffff, -1, -2, -8, -256, (int32_t)0x80000000};
    if (rnd() % 4 == 0)
        return (int32_t)rnd();
    return interesting[rnd() % (sizeof interesting / sizeof interesting[0])];
}

enum { MAX_WORDS = 96 };

struct gen {
    struct ebpf_insn p[MAX_WORDS];
    size_t n;
};

static void emit(struct gen *g, struct ebpf_insn insn)
{
    if (g->n < MAX_WORDS)
        g->p[g->n++] = insn;
}

static unsigned scalar_reg(void)
{
    return rnd() % 6; /* r0..r5 */
}

static void gen_step(struct gen *g, size_t left)
{
    static const unsigned alu_ops[] = {EBPF_ALU_ADD, EBPF_ALU_SUB, EBPF_ALU_MUL, EBPF_ALU_DIV, EBPF_ALU_OR,
                                       EBPF_ALU_AND, EBPF_ALU_LSH, EBPF_ALU_RSH, EBPF_ALU_MOD, EBPF_ALU_XOR,
                                       EBPF_ALU_MOV, EBPF_ALU_ARSH};
    static const unsigned jmp_ops[] = {EBPF_JMP_JEQ, EBPF_JMP_JGT, EBPF_JMP_JGE, EBPF_JMP_JSET, EBPF_JMP_JNE,
                                       EBPF_JMP_JSGT, EBPF_JMP_JSGE, EBPF_JMP_JLT, EBPF_JMP_JLE, EBPF_JMP_JSLT,
                                       EBPF_JMP_JSLE};
    static const uint8_t sizes[] = {EBPF_SIZE_B, EBPF_SIZE_H, EBPF_SIZE_W, EBPF_SIZE_DW};
    unsigned d = scalar_reg(), s = scalar_reg();
    switch (rnd() % 12) {
    case 0:
        emit(g, EBPF_MOV64_IMM(d, rnd_imm()));
        break;
    case 1:
    case 2: {
        unsigned op = alu_ops[rnd() % 12];
        int32_t imm = rnd_imm();
        bool is32 = rnd() % 3 == 0;
        if (op == EBPF_ALU_LSH || op == EBPF_ALU_RSH || op == EBPF_ALU_ARSH)
            imm = (int32_t)(rnd() % (is32 ? 32 : 64));
        if ((op == EBPF_ALU_DIV || op == EBPF_ALU_MOD) && imm == 0)
            imm = 3;
        if (rnd() % 2)
            emit(g, is32 ? EBPF_ALU32_IMM(op, d, imm) : EBPF_ALU64_IMM(op, d, imm));
        else
            emit(g, is32 ? EBPF_ALU32_REG(op, d, s) : EBPF_ALU64_REG(op, d, s));
        break;
    }
    case 3: /* an unknown: a ctx field or packet bytes */
        if (rnd() % 2)
            emit(g, EBPF_LDX_MEM(EBPF_SIZE_W, d, 6, 16));
        else
            emit(g, EBPF_LDX_MEM(sizes[rnd() % 4], d, 9, 0));
        break;
    case 4:
    case 5: { /* forward conditional jump */
        unsigned op = jmp_ops[rnd() % 11];
        int16_t off = (int16_t)(left > 2 ? rnd() % (left - 1) : 0);
        bool is32 = rnd() % 3 == 0;
        if (rnd() % 2)
            emit(g, is32 ? EBPF_JMP32_IMM(op, d, rnd_imm(), off) : EBPF_JMP_IMM(op, d, rnd_imm(), off));
        else
            emit(g, is32 ? EBPF_JMP32_REG(op, d, s, off) : EBPF_JMP_REG(op, d, s, off));
        break;
    }
    case 6: /* map value + scalar */
        emit(g, EBPF_MOV64_REG(1, 9));
        emit(g, EBPF_ALU64_REG(EBPF_ALU_ADD, 1, s == 1 ? 2 : s));
        emit(g, EBPF_LDX_MEM(sizes[rnd() % 3], d, 1, (int16_t)(rnd() % 4)));
        break;
    case 7: /* packet + scalar, checked (or not) against data_end */
        emit(g, EBPF_MOV64_REG(1, 7));
        emit(g, EBPF_ALU64_REG(EBPF_ALU_ADD, 1, s == 1 ? 2 : s));
        emit(g, EBPF_MOV64_REG(2, 1));
        emit(g, EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, (int32_t)(rnd() % 6)));
        if (rnd() % 4)
            emit(g, EBPF_JMP_REG(rnd() % 2 ? EBPF_JMP_JGT : EBPF_JMP_JGE, 2, 8, 1));
        emit(g, EBPF_LDX_MEM(sizes[rnd() % 3], d, 1, 0));
        break;
    case 8: /* packet at a constant offset, checked */
        emit(g, EBPF_MOV64_REG(1, 7));
        emit(g, EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, (int32_t)(rnd() % 40)));
        emit(g, EBPF_JMP_REG(rnd() % 2 ? EBPF_JMP_JGT : EBPF_JMP_JLE, 1, 8, 1));
        emit(g, EBPF_LDX_MEM(EBPF_SIZE_B, d, 7, (int16_t)(rnd() % 40)));
        break;
    case 9: { /* spill and fill */
        int16_t off = (int16_t)(-8 * (int)(1 + rnd() % 4));
        emit(g, EBPF_STX_MEM(rnd() % 3 ? EBPF_SIZE_DW : EBPF_SIZE_W, 10, s, off));
        emit(g, EBPF_LDX_MEM(rnd() % 3 ? EBPF_SIZE_DW : EBPF_SIZE_H, d, 10, off));
        break;
    }
    case 10: /* store into the map value */
        emit(g, EBPF_MOV64_REG(1, 9));
        emit(g, EBPF_ALU64_REG(EBPF_ALU_ADD, 1, s == 1 ? 2 : s));
        emit(g, EBPF_STX_MEM(EBPF_SIZE_B, 1, d == 1 ? 0 : d, 0));
        break;
    default:
        emit(g, EBPF_MOVSX64(d, s, rnd() % 2 ? 8 : 32));
        break;
    }
}

static bool generate(struct gen *g)
{
    g->n = 0;
    emit(g, EBPF_MOV64_REG(6, 1));
    emit(g, EBPF_LDX_MEM(EBPF_SIZE_W, 7, 1, 0));
    emit(g, EBPF_LDX_MEM(EBPF_SIZE_W, 8, 1, 4));
    emit(g, EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0));
    emit(g, EBPF_MOV64_REG(2, 10));
    emit(g, EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4));
    struct ebpf_insn ld[] = {EBPF_LD_MAP_FD(1, 0)};
    emit(g, ld[0]);
    emit(g, ld[1]);
    emit(g, EBPF_CALL_HELPER(1));
    emit(g, EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 2));
    emit(g, EBPF_MOV64_IMM(0, 1));
    emit(g, EBPF_EXIT());
    emit(g, EBPF_MOV64_REG(9, 0));
    for (unsigned r = 0; r <= 5; r++)
        emit(g, EBPF_MOV64_IMM(r, (int32_t)(rnd() % 8)));
    size_t body = 4 + rnd() % 14;
    bool subprog = rnd() % 4 == 0;
    size_t call_at = 0;
    if (subprog) {
        /* The body runs in a subprogram: spill a scalar to the caller's
         * stack, pass its address in r5 (and keep r6..r9 there). */
        emit(g, EBPF_STX_MEM(EBPF_SIZE_DW, 10, 3, -16));
        emit(g, EBPF_MOV64_REG(5, 10));
        emit(g, EBPF_ALU64_IMM(EBPF_ALU_ADD, 5, -16));
        emit(g, EBPF_MOV64_REG(1, 6));
        call_at = g->n;
        emit(g, EBPF_CALL_LOCAL(0)); /* patched below */
        emit(g, EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, -16));
        emit(g, EBPF_MOV64_IMM(0, 2));
        emit(g, EBPF_EXIT());
        g->p[call_at].imm = (int32_t)(g->n - call_at - 1);
        /* Callee prologue: r6..r9 are the caller's, rebuild them. */
        emit(g, EBPF_MOV64_REG(6, 1));
        emit(g, EBPF_LDX_MEM(EBPF_SIZE_W, 7, 1, 0));
        emit(g, EBPF_LDX_MEM(EBPF_SIZE_W, 8, 1, 4));
        emit(g, EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 5, 0));
        emit(g, EBPF_ST_MEM(EBPF_SIZE_DW, 5, 0, 7));
        emit(g, EBPF_MOV64_REG(9, 10));
        emit(g, EBPF_ALU64_IMM(EBPF_ALU_ADD, 9, -8));
        emit(g, EBPF_ST_MEM(EBPF_SIZE_DW, 9, 0, 0));
    }
    for (size_t i = 0; i < body && g->n < MAX_WORDS - 12; i++)
        gen_step(g, body - i + 2);
    /* The jumps above land at most here. */
    emit(g, EBPF_MOV64_IMM(0, 2));
    emit(g, EBPF_MOV64_IMM(0, 2));
    emit(g, EBPF_MOV64_IMM(0, 2));
    emit(g, EBPF_EXIT());
    return subprog;
}

Test(verifier_soundness, accepted_programs_never_fault)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0);
    struct ebpfvm_map_def def = {sizeof def, EBPFVM_MAP_ARRAY, 4, 8, 1, 0, "v", -1};
    int fd;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), 0);
    static unsigned char frame[EBPFVM_XDP_FRAME_SIZE];
    static const size_t lens[] = {14, 20, 33, 64, 300};
    int accepted = 0, rejected = 0, accepted_calls = 0;
    struct gen g;
    for (int iter = 0; iter < 30000; iter++) {
        bool has_call = generate(&g);
        struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_XDP};
        ebpfvm_prog *prog = NULL;
        if (ebpfvm_prog_load(vm, g.p, g.n, &lo, &prog) != 0)
            continue; /* e.g. a jump past the end */
        if (ebpfvm_prog_verify(prog, NULL) != 0) {
            rejected++;
            ebpfvm_prog_destroy(prog);
            continue;
        }
        accepted++;
        accepted_calls += has_call;
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            uint32_t key = 0;
            uint64_t value = (uint64_t)rnd() << (rnd() % 40);
            if (k == 0)
                value = 0;
            cr_assert_eq(ebpfvm_map_update(vm, fd, &key, &value, EBPFVM_ANY), 0);
            unsigned char pkt[300];
            for (size_t i = 0; i < sizeof pkt; i++)
                pkt[i] = (unsigned char)(k == 1 ? 0xff : rnd());
            struct ebpfvm_xdp_buff buff;
            cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, lens[k]), 0);
            struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED, .insn_budget = 100000};
            struct ebpfvm_run_result res;
            int err = ebpfvm_prog_run(prog, &buff, sizeof buff, &ro, &res);
            if (err) {
                char text[160];
                size_t count;
                const struct ebpf_insn *insns = ebpfvm_prog_insns(prog, &count);
                fprintf(stderr, "program %d (packet %zu bytes, map value %#llx) faulted: %s\n", iter, lens[k],
                        (unsigned long long)value, res.message);
                for (size_t pc = 0; pc < count; pc++) {
                    if (ebpfvm_disasm_insn(insns, count, pc, EBPFVM_SYNTAX_LLVM, NULL, NULL, text, sizeof text) > 0)
                        fprintf(stderr, "  %zu: %s\n", pc, text);
                }
                cr_assert_fail("an accepted program faulted in checked mode: %s", res.message);
            }
        }
        ebpfvm_prog_destroy(prog);
    }
    cr_log_info("accepted %d (%d with a call), rejected %d", accepted, accepted_calls, rejected);
    /* The generator must exercise both verdicts. */
    cr_expect_gt(accepted, 500, "accepted %d", accepted);
    cr_expect_gt(rejected, 500, "rejected %d", rejected);
    cr_expect_gt(accepted_calls, 100, "accepted with a call: %d", accepted_calls);
    ebpfvm_vm_destroy(vm);
}
