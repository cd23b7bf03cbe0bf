/*
 * tests/test_jit.c - the x86-64 JIT against the interpreter and against
 * vm/arith.h.
 *
 * Every program here is compiled with EBPFVM_JIT_ALLOW_UNVERIFIED (there is
 * no verifier yet) and run through ebpfvm__jit_prog_run, the function the
 * EBPFVM_EXEC_JIT mode of ebpfvm_prog_run uses; the interpreter runs the
 * same program in FAST mode on its own copy of the memory, and the two
 * must agree on the status, r0, the memory and the fault message.
 *
 * Sweeps: every ALU/ALU64 form for every register pair and a table of edge
 * values, checked against ebpf_alu_eval() with every other register checked
 * for clobbering; every conditional jump form against ebpf_jmp_eval().
 * Then the JIT's own risks: long jumps, programs larger than a page, deep
 * bpf-to-bpf calls, registers around helper calls, faults, W^X, fallback.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "insn.h"
#include "vm/arith.h"
#include "ebpfvm/xdp.h"
#include "jit/jit.h"
#include "vm/internal.h"

#if defined(__x86_64__)

/* ------------------------------------------------------------ support */

static char last_log[512];

static void capture_log(void *ud, const char *line)
{
    (void)ud;
    snprintf(last_log, sizeof last_log, "%s", line);
}

static uint64_t helper_identity(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return r1;
}

/* Weighted sum, so that a swapped argument shows. */
static uint64_t helper_sum(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)env;
    return r1 + 10 * r2 + 100 * r3 + 1000 * r4 + 10000 * r5;
}

static uint64_t helper_user(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
    return (uint64_t)(uintptr_t)ebpfvm_env_user(env);
}

static uint64_t helper_fault(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
    ebpfvm_env_fault(env, "boom");
    return 0;
}

static uint64_t helper_silent_fault(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                    ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
    ebpfvm_env_fault(env, NULL);
    return 0;
}

enum { H_IDENTITY = 5, H_SUM = 6, H_USER = 7, H_FAULT = 8, H_SILENT = 9 };

static ebpfvm_vm *jit_vm(void)
{
    ebpfvm_vm *vm = NULL;
    struct ebpfvm_vm_opts opts = {.sz = sizeof opts, .log = capture_log};
    cr_assert_eq(ebpfvm_vm_create(&opts, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, H_IDENTITY, "identity", helper_identity, NULL), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, H_SUM, "sum", helper_sum, NULL), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, H_USER, "user", helper_user, NULL), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, H_FAULT, "fault", helper_fault, NULL), 0);
    cr_assert_eq(ebpfvm_vm_register_helper(vm, H_SILENT, "silent", helper_silent_fault, NULL), 0);
    return vm;
}

/* Flags added to every compilation of load_and_jit (EBPFVM_JIT_BLIND in the
 * blinded variants; each criterion test runs in its own process). */
static uint32_t extra_jit_flags;

static ebpfvm_prog *load_and_jit(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count)
{
    ebpfvm_prog *prog = NULL;
    int err = ebpfvm_prog_load(vm, insns, count, NULL, &prog);
    cr_assert_eq(err, 0, "load failed (%d): %s", err, ebpfvm_vm_errmsg(vm));
    err = ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED | extra_jit_flags);
    cr_assert_eq(err, 0, "jit failed (%d): %s", err, ebpfvm_vm_errmsg(vm));
    cr_assert(ebpfvm_prog_is_jitted(prog));
    return prog;
}

static int run_jit(const ebpfvm_prog *prog, void *mem, size_t size, void *user, struct ebpfvm_run_result *res)
{
    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = EBPFVM_EXEC_JIT, .user = user};
    return ebpfvm__jit_prog_run(prog, mem, size, &opts, res);
}

static int run_interp(const ebpfvm_prog *prog, void *mem, size_t size, void *user, struct ebpfvm_run_result *res)
{
    struct ebpfvm_run_opts opts = {
        .sz = sizeof opts, .mode = EBPFVM_EXEC_FAST, .flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST, .user = user};
    return ebpfvm_prog_run(prog, mem, size, &opts, res);
}

/*
 * Run a compiled program in the JIT and in the interpreter, each on its own
 * copy of mem (copied back from the JIT run), assert they agree, return the
 * status; *res is the JIT's result.
 */
static int run_compare(const ebpfvm_prog *prog, void *mem, size_t size, struct ebpfvm_run_result *res)
{
    uint64_t *a = calloc(size / 8 + 1, 8), *b = calloc(size / 8 + 1, 8);
    cr_assert(a && b);
    if (size) {
        memcpy(a, mem, size);
        memcpy(b, mem, size);
    }
    struct ebpfvm_run_result ri;
    int ej = run_jit(prog, size ? a : NULL, size, NULL, res);
    int ei = run_interp(prog, size ? b : NULL, size, NULL, &ri);
    cr_assert_eq(ej, ei, "jit status %d (%s) != interpreter status %d (%s)", ej, res->message, ei, ri.message);
    cr_assert_eq(res->r0, ri.r0, "jit r0 0x%" PRIx64 " != interpreter r0 0x%" PRIx64, res->r0, ri.r0);
    cr_assert_str_eq(res->message, ri.message);
    cr_assert_eq(res->fault_pc, ri.fault_pc);
    cr_assert(size == 0 || memcmp(a, b, size) == 0, "jit and interpreter left different memory");
    if (size)
        memcpy(mem, a, size);
    free(a);
    free(b);
    return ej;
}

/* Load, compile, run both ways on mem, return r0 (asserting success). */
static uint64_t jit_r0(const struct ebpf_insn *insns, size_t count, void *mem, size_t size)
{
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = load_and_jit(vm, insns, count);
    struct ebpfvm_run_result res;
    int err = run_compare(prog, mem, size, &res);
    cr_assert_eq(err, 0, "run failed (%d): %s", err, res.message);
    ebpfvm_vm_destroy(vm);
    return res.r0;
}

#define PROG(...) ((const struct ebpf_insn[]){__VA_ARGS__})
#define PROG_LEN(...) (sizeof(PROG(__VA_ARGS__)) / sizeof(struct ebpf_insn))
#define JIT_R0(...) jit_r0(PROG(__VA_ARGS__), PROG_LEN(__VA_ARGS__), NULL, 0)

static const uint64_t edge_values[] = {
    0, 1, 2, 3, 7, 31, 32, 63, 64, 65, 0x7f, 0x80, 0xff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
    0x100000000ull, 0x8000000000000000ull, 0x7fffffffffffffffull, UINT64_MAX, UINT64_MAX - 6, 0xdeadbeefcafebabeull,
    0xffffffff80000000ull, 0x00000000fffffff9ull,
};
#define NVALUES (sizeof edge_values / sizeof edge_values[0])

/* ------------------------------------------------------- ALU sweeps */

/*
 * For dst and src registers (0..9): P = r1 moved to a register that is
 * neither; every other register gets a marker; dst and src are loaded from
 * mem[0] and mem[1]; the operation runs; every register r0..r9 is stored to
 * mem[2 + i]. One compiled program per (form, dst, src), run for every value
 * pair.
 */
static void sweep_alu_form(ebpfvm_vm *vm, enum ebpf_insn_form form, bool reg_form, unsigned dst, unsigned src,
                           int32_t imm)
{
    const struct ebpfvm_form_info *info = &ebpfvm__forms[form];
    unsigned p = 0;
    while (p == dst || p == src || p == 1)
        p++;
    struct ebpf_insn code[64];
    size_t n = 0;
    code[n++] = EBPF_MOV64_REG(p, 1);
    for (unsigned r = 0; r < 10; r++)
        if (r != p)
            code[n++] = EBPF_MOV64_IMM(r, (int32_t)(0x1000 + r));
    code[n++] = EBPF_LDX_MEM(EBPF_SIZE_DW, dst, p, 0);
    if (reg_form && src != dst)
        code[n++] = EBPF_LDX_MEM(EBPF_SIZE_DW, src, p, 8);
    struct ebpf_insn op = EBPF_RAW(info->opcode, dst, reg_form ? src : 0, 0, 0);
    if (info->disc == EBPF_DISC_OFF)
        op.off = (int16_t)info->disc_value;
    else if (info->disc == EBPF_DISC_IMM)
        op.imm = info->disc_value;
    if (info->format == EBPF_FMT_ALU_IMM)
        op.imm = imm;
    code[n++] = op;
    for (unsigned r = 0; r < 10; r++)
        code[n++] = EBPF_STX_MEM(EBPF_SIZE_DW, p, r, (int16_t)(16 + 8 * r));
    code[n++] = EBPF_MOV64_IMM(0, 0);
    code[n++] = EBPF_EXIT();

    ebpfvm_prog *prog = load_and_jit(vm, code, n);
    for (size_t a = 0; a < NVALUES; a++) {
        for (size_t b = 0; b < (reg_form && src != dst ? NVALUES : 1); b++) {
            uint64_t mem[12] = {edge_values[a], edge_values[b]};
            struct ebpfvm_run_result res;
            int err = run_jit(prog, mem, sizeof mem, NULL, &res);
            cr_assert_eq(err, 0, "%s: %s", info->mnemonic, res.message);
            uint64_t dv = edge_values[a];
            uint64_t sv = !reg_form ? ebpf_imm64(imm) : src == dst ? dv : edge_values[b];
            bool ok;
            uint64_t want = ebpf_alu_eval(form, dv, sv, &ok);
            cr_assert(ok);
            for (unsigned r = 0; r < 10; r++) {
                uint64_t expect = r == dst ? want
                                  : r == p ? (uint64_t)(uintptr_t)mem
                                  : (reg_form && r == src) ? sv
                                                           : 0x1000u + r;
                cr_assert_eq(mem[2 + r], expect,
                             "%s r%u, %s%u (dst 0x%" PRIx64 ", src 0x%" PRIx64 "): r%u = 0x%" PRIx64
                             ", want 0x%" PRIx64,
                             info->mnemonic, dst, reg_form ? "r" : "imm ", reg_form ? src : (unsigned)imm, dv, sv, r,
                             mem[2 + r], expect);
            }
        }
    }
    ebpfvm_prog_destroy(prog);
}

static bool is_alu_form(enum ebpf_insn_form f)
{
    uint8_t fmt = ebpfvm__forms[f].format;
    return fmt == EBPF_FMT_ALU_IMM || fmt == EBPF_FMT_ALU_REG || fmt == EBPF_FMT_ALU_UNARY ||
           fmt == EBPF_FMT_ENDIAN;
}

Test(jit_alu, every_register_form_every_register_pair)
{
    ebpfvm_vm *vm = jit_vm();
    for (int f = 0; f < EBPF_OP_COUNT_; f++) {
        if (!is_alu_form((enum ebpf_insn_form)f) || ebpfvm__forms[f].format != EBPF_FMT_ALU_REG)
            continue;
        for (unsigned dst = 0; dst < 10; dst++)
            for (unsigned src = 0; src < 10; src++)
                sweep_alu_form(vm, (enum ebpf_insn_form)f, true, dst, src, 0);
    }
    ebpfvm_vm_destroy(vm);
}

static void every_immediate_and_unary_form(void)
{
    static const int32_t imms[] = {0, 1, -1, 2, 7, -7, 31, 32, 63, 64, 127, 128, -128, 0x7fffffff, INT32_MIN,
                                   0x12345678};
    ebpfvm_vm *vm = jit_vm();
    for (int f = 0; f < EBPF_OP_COUNT_; f++) {
        if (!is_alu_form((enum ebpf_insn_form)f) || ebpfvm__forms[f].format == EBPF_FMT_ALU_REG)
            continue;
        bool has_imm = ebpfvm__forms[f].format == EBPF_FMT_ALU_IMM;
        for (unsigned dst = 0; dst < 10; dst++)
            for (size_t i = 0; i < (has_imm ? sizeof imms / sizeof imms[0] : 1); i++)
                sweep_alu_form(vm, (enum ebpf_insn_form)f, false, dst, dst, has_imm ? imms[i] : 0);
    }
    ebpfvm_vm_destroy(vm);
}

Test(jit_alu, every_immediate_and_unary_form)
{
    every_immediate_and_unary_form();
}

/* r0 = (dst cond src) ? 1 : 2, values from memory. */
static void every_conditional_form_against_arith(void)
{
    ebpfvm_vm *vm = jit_vm();
    static const int32_t imms[] = {0, 1, -1, 0x7fffffff, INT32_MIN, 64};
    for (int f = 0; f < EBPF_OP_COUNT_; f++) {
        const struct ebpfvm_form_info *info = &ebpfvm__forms[f];
        bool reg_form = info->format == EBPF_FMT_JMP_REG;
        if (!reg_form && info->format != EBPF_FMT_JMP_IMM)
            continue;
        for (size_t k = 0; k < (reg_form ? 1 : sizeof imms / sizeof imms[0]); k++) {
            int32_t imm = reg_form ? 0 : imms[k];
            const struct ebpf_insn code[] = {
                EBPF_LDX_MEM(EBPF_SIZE_DW, 3, 1, 0),
                EBPF_LDX_MEM(EBPF_SIZE_DW, 4, 1, 8),
                EBPF_RAW(info->opcode, 3, reg_form ? 4 : 0, 2, imm),
                EBPF_MOV64_IMM(0, 2),
                EBPF_EXIT(),
                EBPF_MOV64_IMM(0, 1),
                EBPF_EXIT(),
            };
            ebpfvm_prog *prog = load_and_jit(vm, code, EBPF_NWORDS(code));
            for (size_t a = 0; a < NVALUES; a++) {
                for (size_t b = 0; b < NVALUES; b++) {
                    uint64_t mem[2] = {edge_values[a], edge_values[b]};
                    struct ebpfvm_run_result res;
                    cr_assert_eq(run_jit(prog, mem, sizeof mem, NULL, &res), 0);
                    uint64_t sv = reg_form ? edge_values[b] : ebpf_imm64(imm);
                    bool taken = ebpf_jmp_eval(info->opcode, edge_values[a], sv);
                    cr_assert_eq(res.r0, taken ? 1u : 2u, "%s 0x%" PRIx64 ", 0x%" PRIx64, info->mnemonic,
                                 edge_values[a], sv);
                }
            }
            ebpfvm_prog_destroy(prog);
        }
    }
    ebpfvm_vm_destroy(vm);
}

Test(jit_jmp, every_conditional_form_against_arith)
{
    every_conditional_form_against_arith();
}

Test(jit_alu, division_and_modulo_edge_cases)
{
    /* x / 0 = 0, x % 0 = x (32-bit: zero-extended), INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0. */
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(0, 7), EBPF_MOV64_IMM(1, 0), EBPF_ALU64_REG(EBPF_ALU_DIV, 0, 1), EBPF_EXIT()),
                 0);
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(0, -7), EBPF_ALU64_IMM(EBPF_ALU_MOD, 0, 0), EBPF_EXIT()), (uint64_t)-7);
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(0, -7), EBPF_MOV64_IMM(2, 0), EBPF_ALU32_REG(EBPF_ALU_MOD, 0, 2),
                        EBPF_EXIT()),
                 0xfffffff9u);
    cr_assert_eq(JIT_R0(EBPF_LD_IMM64(3, INT64_MIN), EBPF_MOV64_IMM(2, -1), EBPF_SALU64_REG(EBPF_ALU_DIV, 3, 2),
                        EBPF_MOV64_REG(0, 3), EBPF_EXIT()),
                 (uint64_t)INT64_MIN);
    cr_assert_eq(JIT_R0(EBPF_LD_IMM64(0, INT64_MIN), EBPF_SALU64_IMM(EBPF_ALU_MOD, 0, -1), EBPF_EXIT()), 0);
    cr_assert_eq(JIT_R0(EBPF_MOV32_IMM(0, INT32_MIN), EBPF_SALU32_IMM(EBPF_ALU_DIV, 0, -1), EBPF_EXIT()),
                 0x80000000u);
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(0, -7), EBPF_SALU64_IMM(EBPF_ALU_MOD, 0, 2), EBPF_EXIT()), (uint64_t)-1);
    /* rdx (r3) as the divisor and rax (r0) as the dividend survive. */
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(0, 100), EBPF_MOV64_IMM(3, 7), EBPF_MOV64_REG(4, 3),
                        EBPF_ALU64_REG(EBPF_ALU_DIV, 4, 0), EBPF_ALU64_REG(EBPF_ALU_MOD, 0, 3),
                        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 3), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 4), EBPF_EXIT()),
                 2 + 7 + 0);
}

/* Every form of EBPF_INSN_FORMS compiles. */
Test(jit_coverage, every_instruction_form_compiles)
{
    ebpfvm_vm *vm = jit_vm();
    for (int f = 0; f < EBPF_OP_COUNT_; f++) {
        const struct ebpfvm_form_info *info = &ebpfvm__forms[f];
        struct ebpf_insn code[3];
        size_t n = 0;
        struct ebpf_insn in = EBPF_RAW(info->opcode, 0, 0, 0, 0);
        switch (info->format) {
        case EBPF_FMT_ALU_IMM: in.dst_reg = 3, in.imm = 3; break;
        case EBPF_FMT_ALU_REG: in.dst_reg = 3, in.src_reg = 4; break;
        case EBPF_FMT_ALU_UNARY: case EBPF_FMT_ENDIAN: in.dst_reg = 3; break;
        case EBPF_FMT_LD_IND: in.src_reg = 2; break;
        case EBPF_FMT_LDX: in.src_reg = 10, in.off = -8; break;
        case EBPF_FMT_ST: in.dst_reg = 10, in.off = -8, in.imm = 1; break;
        case EBPF_FMT_STX: case EBPF_FMT_ATOMIC: in.dst_reg = 10, in.src_reg = 1, in.off = -8; break;
        case EBPF_FMT_JMP_IMM: in.dst_reg = 1; break;
        case EBPF_FMT_JMP_REG: in.dst_reg = 1, in.src_reg = 2; break;
        case EBPF_FMT_CALL: in.imm = H_IDENTITY; break;
        case EBPF_FMT_CALLX: in.dst_reg = 2; break;
        default: break;
        }
        if (info->disc == EBPF_DISC_OFF)
            in.off = (int16_t)info->disc_value;
        else if (info->disc == EBPF_DISC_IMM)
            in.imm = info->disc_value;
        code[n++] = in;
        if (info->format == EBPF_FMT_LD_IMM64)
            code[n++] = EBPF_RAW(0, 0, 0, 0, 0);
        if (info->format != EBPF_FMT_EXIT)
            code[n++] = EBPF_EXIT();
        ebpfvm_prog *prog = NULL;
        int err = ebpfvm_prog_load(vm, code, n, NULL, &prog);
        cr_assert_eq(err, 0, "%s: load failed: %s", info->mnemonic, ebpfvm_vm_errmsg(vm));
        err = ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED);
        cr_assert_eq(err, 0, "%s: %s", info->mnemonic, ebpfvm_vm_errmsg(vm));
        ebpfvm_prog_destroy(prog);
    }
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------ random differential */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int32_t random_imm(void)
{
    static const int32_t imms[] = {0, 1, -1, 2, 31, 32, 63, 64, INT32_MIN, INT32_MAX, 0x8000, -0x80};
    return rng() % 2 ? imms[rng() % (sizeof imms / sizeof imms[0])] : (int32_t)(uint32_t)rng();
}

/*
 * Random straight-line programs with forward jumps: random values in r0-r9,
 * random ALU forms, conditional jumps, stack stores, loads and atomics,
 * helper calls; at the end every register and stack slot is folded into r0.
 * JIT and interpreter must agree on every one.
 */
static void random_differential(void)
{
    enum { BODY = 48, SLOTS = 8 };
    ebpfvm_vm *vm = jit_vm();
    int alu_forms[EBPF_OP_COUNT_], jmp_forms[EBPF_OP_COUNT_], nalu = 0, njmp = 0;
    for (int f = 0; f < EBPF_OP_COUNT_; f++) {
        if (is_alu_form((enum ebpf_insn_form)f))
            alu_forms[nalu++] = f;
        if (ebpfvm__forms[f].format == EBPF_FMT_JMP_IMM || ebpfvm__forms[f].format == EBPF_FMT_JMP_REG)
            jmp_forms[njmp++] = f;
    }
    for (int iter = 0; iter < 2000; iter++) {
        struct ebpf_insn code[20 + BODY + 2 * SLOTS + 16];
        size_t n = 0;
        for (unsigned r = 0; r < 10; r++) {
            struct ebpf_insn ld[2] = {EBPF_LD_IMM64(r, rng())};
            code[n++] = ld[0];
            code[n++] = ld[1];
        }
        size_t body_start = n, body_end = n + BODY;
        while (n < body_end) {
            unsigned dst = (unsigned)(rng() % 10), src = (unsigned)(rng() % 10);
            int16_t slot = (int16_t)(-8 * (int)(1 + rng() % SLOTS));
            switch (rng() % 8) {
            case 0: case 1: case 2: { /* ALU */
                const struct ebpfvm_form_info *info = &ebpfvm__forms[alu_forms[rng() % (uint64_t)nalu]];
                struct ebpf_insn in = EBPF_RAW(info->opcode, dst, 0, 0, 0);
                if (info->format == EBPF_FMT_ALU_REG)
                    in.src_reg = (uint8_t)src;
                if (info->format == EBPF_FMT_ALU_IMM)
                    in.imm = random_imm();
                if (info->disc == EBPF_DISC_OFF)
                    in.off = (int16_t)info->disc_value;
                else if (info->disc == EBPF_DISC_IMM)
                    in.imm = info->disc_value;
                code[n++] = in;
                break;
            }
            case 3: { /* forward conditional jump inside the body (or to its end) */
                const struct ebpfvm_form_info *info = &ebpfvm__forms[jmp_forms[rng() % (uint64_t)njmp]];
                size_t left = body_end - n - 1;
                int16_t off = (int16_t)(left ? rng() % (left + 1) : 0);
                code[n++] = EBPF_RAW(info->opcode, dst, info->format == EBPF_FMT_JMP_REG ? src : 0, off,
                                     info->format == EBPF_FMT_JMP_IMM ? random_imm() : 0);
                break;
            }
            case 4: { /* stack store of a random size */
                static const uint8_t sizes[] = {EBPF_SIZE_B, EBPF_SIZE_H, EBPF_SIZE_W, EBPF_SIZE_DW};
                uint8_t size = sizes[rng() % 4];
                code[n++] = rng() % 2 ? EBPF_STX_MEM(size, 10, src, slot) : EBPF_ST_MEM(size, 10, slot, random_imm());
                break;
            }
            case 5: { /* stack load, zero- or sign-extending */
                static const uint8_t sizes[] = {EBPF_SIZE_B, EBPF_SIZE_H, EBPF_SIZE_W, EBPF_SIZE_DW};
                uint8_t size = sizes[rng() % 4];
                code[n++] = rng() % 2 || size == EBPF_SIZE_DW ? EBPF_LDX_MEM(size, dst, 10, slot)
                                                              : EBPF_LDXS_MEM(size, dst, 10, slot);
                break;
            }
            case 6: { /* atomic on a stack slot */
                static const int ops[] = {EBPF_ATOMIC_ADD, EBPF_ATOMIC_OR | EBPF_ATOMIC_FETCH,
                                          EBPF_ATOMIC_AND | EBPF_ATOMIC_FETCH, EBPF_ATOMIC_XOR,
                                          EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH, EBPF_ATOMIC_XCHG, EBPF_ATOMIC_CMPXCHG};
                code[n++] = EBPF_ATOMIC_OP(rng() % 2 ? EBPF_SIZE_DW : EBPF_SIZE_W, ops[rng() % 7], 10, src, slot);
                break;
            }
            default: /* helper call; r1-r5 are scratch afterwards (native code
                      * clobbers them, the interpreter keeps them): reset them,
                      * as a verifier would demand */
                if (body_end - n < 6) {
                    code[n++] = EBPF_MOV64_IMM(dst, 7);
                    break;
                }
                code[n++] = EBPF_CALL_HELPER(rng() % 2 ? H_SUM : H_IDENTITY);
                for (unsigned r = 1; r <= 5; r++)
                    code[n++] = EBPF_MOV64_IMM(r, (int32_t)rng());
                break;
            }
        }
        cr_assert_eq(n, body_end);
        (void)body_start;
        /* Fold r1..r9 and the stack into r0. */
        for (unsigned r = 1; r < 10; r++)
            code[n++] = EBPF_ALU64_REG(EBPF_ALU_XOR, 0, r);
        for (int k = 1; k <= SLOTS; k++) {
            code[n++] = EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, (int16_t)(-8 * k));
            code[n++] = EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1);
        }
        code[n++] = EBPF_EXIT();
        ebpfvm_prog *prog = load_and_jit(vm, code, n);
        struct ebpfvm_run_result res;
        cr_assert_eq(run_compare(prog, NULL, 0, &res), 0, "iteration %d", iter);
        ebpfvm_prog_destroy(prog);
    }
    ebpfvm_vm_destroy(vm);
}

Test(jit_random, differential_against_the_interpreter)
{
    random_differential();
}

/* ------------------------------------------------- memory and atomics */

Test(jit_mem, loads_stores_every_size_and_base_register)
{
    /* Each base register (r0..r9, and r10 for the stack) with positive,
     * negative and large offsets. */
    for (unsigned base = 0; base < 10; base++) {
        unsigned val = base == 2 ? 3 : 2;
        uint8_t mem[1024];
        for (size_t i = 0; i < sizeof mem; i++)
            mem[i] = (uint8_t)(i * 37 + 11);
        const struct ebpf_insn code[] = {
            EBPF_MOV64_REG(base, 1),
            EBPF_ALU64_IMM(EBPF_ALU_ADD, base, 512),
            EBPF_LDX_MEM(EBPF_SIZE_DW, val, base, -500),
            EBPF_STX_MEM(EBPF_SIZE_DW, base, val, 300),
            EBPF_LDXS_MEM(EBPF_SIZE_B, val, base, -1),
            EBPF_STX_MEM(EBPF_SIZE_DW, base, val, 0),
            EBPF_LDXS_MEM(EBPF_SIZE_H, val, base, -3),
            EBPF_STX_MEM(EBPF_SIZE_DW, base, val, 8),
            EBPF_LDXS_MEM(EBPF_SIZE_W, val, base, -200),
            EBPF_STX_MEM(EBPF_SIZE_DW, base, val, 16),
            EBPF_LDX_MEM(EBPF_SIZE_B, val, base, -129),
            EBPF_STX_MEM(EBPF_SIZE_B, base, val, 24),
            EBPF_LDX_MEM(EBPF_SIZE_H, val, base, 127),
            EBPF_STX_MEM(EBPF_SIZE_H, base, val, 26),
            EBPF_LDX_MEM(EBPF_SIZE_W, val, base, 128),
            EBPF_STX_MEM(EBPF_SIZE_W, base, val, 28),
            EBPF_ST_MEM(EBPF_SIZE_B, base, 32, -2),
            EBPF_ST_MEM(EBPF_SIZE_H, base, 34, -3),
            EBPF_ST_MEM(EBPF_SIZE_W, base, 36, 0x12345678),
            EBPF_ST_MEM(EBPF_SIZE_DW, base, 40, -5),
            /* The stack: r10-relative stores and loads. */
            EBPF_STX_MEM(EBPF_SIZE_DW, 10, val, -8),
            EBPF_ST_MEM(EBPF_SIZE_B, 10, -512, 0x5a),
            EBPF_LDX_MEM(EBPF_SIZE_B, 0, 10, -512),
            EBPF_LDX_MEM(EBPF_SIZE_DW, val, 10, -8),
            EBPF_ALU64_REG(EBPF_ALU_ADD, 0, val),
            EBPF_EXIT(),
        };
        jit_r0(code, EBPF_NWORDS(code), mem, sizeof mem);
    }
}

Test(jit_mem, stack_starts_zeroed_like_the_interpreter)
{
    cr_assert_eq(JIT_R0(EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -512), EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, -8),
                        EBPF_ALU64_REG(EBPF_ALU_OR, 0, 1), EBPF_EXIT()),
                 0);
}

Test(jit_atomic, every_atomic_form_every_register_pair)
{
    static const int ops[] = {EBPF_ATOMIC_ADD,
                              EBPF_ATOMIC_OR,
                              EBPF_ATOMIC_AND,
                              EBPF_ATOMIC_XOR,
                              EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH,
                              EBPF_ATOMIC_OR | EBPF_ATOMIC_FETCH,
                              EBPF_ATOMIC_AND | EBPF_ATOMIC_FETCH,
                              EBPF_ATOMIC_XOR | EBPF_ATOMIC_FETCH,
                              EBPF_ATOMIC_XCHG,
                              EBPF_ATOMIC_CMPXCHG};
    ebpfvm_vm *vm = jit_vm();
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        for (int dw = 0; dw < 2; dw++) {
            for (unsigned base = 0; base < 10; base++) {
                for (unsigned src = 0; src < 10; src++) {
                    if (src == base)
                        continue;
                    unsigned p = 2; /* not r0 (loaded below) nor r1 */
                    while (p == base || p == src)
                        p++;
                    struct ebpf_insn code[40];
                    size_t n = 0;
                    code[n++] = EBPF_MOV64_REG(p, 1);
                    for (unsigned r = 0; r < 10; r++)
                        if (r != p)
                            code[n++] = EBPF_MOV64_IMM(r, (int32_t)(0x1000 + r));
                    code[n++] = EBPF_LDX_MEM(EBPF_SIZE_DW, src, p, 0);
                    code[n++] = EBPF_LDX_MEM(EBPF_SIZE_DW, 0, p, 8); /* cmpxchg's expected value */
                    code[n++] = EBPF_MOV64_REG(base, p);
                    code[n++] = EBPF_ATOMIC_OP(dw ? EBPF_SIZE_DW : EBPF_SIZE_W, ops[k], base, src, 16);
                    for (unsigned r = 0; r < 10; r++)
                        if (r != base && r != p) /* those hold the (different) buffer addresses */
                            code[n++] = EBPF_STX_MEM(EBPF_SIZE_DW, p, r, (int16_t)(24 + 8 * r));
                    code[n++] = EBPF_MOV64_IMM(0, 0);
                    code[n++] = EBPF_EXIT();
                    ebpfvm_prog *prog = load_and_jit(vm, code, n);
                    for (int v = 0; v < 3; v++) {
                        uint64_t mem[13] = {0xf0f0f0f0ff00ff00ull + (uint64_t)v, v == 0 ? 0x123456789ull : 0x77,
                                            v == 2 ? 0xfffffffffffff0f0ull : 0x123456789ull};
                        if (v == 1)
                            mem[1] = mem[2] = 0x77; /* cmpxchg succeeds */
                        uint64_t a[13], b[13];
                        memcpy(a, mem, sizeof mem);
                        memcpy(b, mem, sizeof mem);
                        struct ebpfvm_run_result rj, ri;
                        cr_assert_eq(run_jit(prog, a, sizeof a, NULL, &rj), 0);
                        cr_assert_eq(run_interp(prog, b, sizeof b, NULL, &ri), 0);
                        cr_assert(memcmp(a, b, sizeof a) == 0, "atomic 0x%x %s base r%u src r%u v%d differs",
                                  ops[k], dw ? "64" : "32", base, src, v);
                    }
                    ebpfvm_prog_destroy(prog);
                }
            }
        }
    }
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------------ jumps */

/* A jump over `filler` instructions, forward and backward, around the
 * 128-byte reach of rel8: every length must agree with the interpreter. */
Test(jit_jmp, long_jumps_cross_the_short_jump_limit)
{
    for (unsigned filler = 0; filler < 90; filler += 1) {
        struct ebpf_insn code[200];
        size_t n = 0;
        code[n++] = EBPF_MOV64_IMM(0, 0);
        code[n++] = EBPF_MOV64_IMM(2, 3);
        /* forward: skip the filler unless r1 (ctx size... here 0) */
        code[n++] = EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, (int16_t)filler);
        for (unsigned i = 0; i < filler; i++)
            code[n++] = EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 100000); /* 7 bytes each */
        /* backward loop: three times around the filler */
        size_t loop = n;
        for (unsigned i = 0; i < filler; i++)
            code[n++] = EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1000);
        code[n++] = EBPF_ALU64_IMM(EBPF_ALU_SUB, 2, 1);
        code[n] = EBPF_JMP_IMM(EBPF_JMP_JNE, 2, 0, (int16_t)((int64_t)loop - (int64_t)n - 1));
        n++;
        code[n++] = EBPF_GOTOL(1);
        code[n++] = EBPF_MOV64_IMM(0, -1);
        code[n++] = EBPF_EXIT();
        uint64_t r0 = jit_r0(code, n, NULL, 0);
        cr_assert_eq(r0, 3u * 1000u * filler, "filler %u: r0 %" PRIu64, filler, r0);
    }
}

Test(jit_size, program_larger_than_a_page)
{
    enum { N = 3000 };
    struct ebpf_insn *code = calloc(3 * N + 4, sizeof *code);
    cr_assert(code);
    size_t n = 0;
    code[n++] = EBPF_MOV64_IMM(0, 0);
    /* A jump from the start to the end crosses the whole program. */
    code[n++] = EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 0); /* patched below */
    for (unsigned i = 0; i < N; i++) {
        struct ebpf_insn lddw[2] = {EBPF_LD_IMM64(3, 0x100000000ull * i + i)};
        code[n++] = lddw[0];
        code[n++] = lddw[1];
        code[n++] = EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 3);
    }
    code[1].off = (int16_t)(n - 2); /* never taken: r0 is 0 */
    code[n++] = EBPF_EXIT();
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = load_and_jit(vm, code, n);
    size_t size = 0;
    cr_assert_not_null(ebpfvm_prog_jit_code(prog, &size));
    cr_assert_gt(size, 4096);
    struct ebpfvm_run_result res;
    cr_assert_eq(run_compare(prog, NULL, 0, &res), 0);
    uint64_t want = 0;
    for (uint64_t i = 0; i < N; i++)
        want += 0x100000000ull * i + i;
    cr_assert_eq(res.r0, want);
    ebpfvm_vm_destroy(vm);
    free(code);
}

/* ------------------------------------------------------------- calls */

/*
 * A chain of `frames` functions (main included): each writes its depth to
 * its own stack, sets r6-r9, calls the next, then checks that its stack and
 * r6-r9 survived; the innermost returns 1. r0 = the sum of the depths' ok
 * flags. Layout per function f (f = 0 .. frames-1), 14 words each.
 */
static size_t build_call_chain(struct ebpf_insn *code, unsigned frames)
{
    size_t n = 0;
    for (unsigned f = 0; f < frames; f++) {
        int32_t tag = (int32_t)(0x100 * (f + 1));
        code[n++] = EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, tag);
        code[n++] = EBPF_ST_MEM(EBPF_SIZE_DW, 10, -512, tag + 1);
        code[n++] = EBPF_MOV64_IMM(6, tag + 6);
        code[n++] = EBPF_MOV64_IMM(9, tag + 9);
        if (f + 1 < frames)
            code[n++] = EBPF_CALL_LOCAL(9); /* the next function starts 10 words on */
        else
            code[n++] = EBPF_MOV64_IMM(0, 0);
        code[n++] = EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1);
        code[n++] = EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, -8);
        code[n++] = EBPF_JMP_IMM(EBPF_JMP_JNE, 1, tag, 4);
        code[n++] = EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, -512);
        code[n++] = EBPF_JMP_IMM(EBPF_JMP_JNE, 1, tag + 1, 2);
        code[n++] = EBPF_JMP_IMM(EBPF_JMP_JNE, 6, tag + 6, 1);
        code[n++] = EBPF_JMP_IMM(EBPF_JMP_JEQ, 9, tag + 9, 1);
        code[n++] = EBPF_MOV64_IMM(0, -1000);
        code[n++] = EBPF_EXIT();
    }
    return n;
}

Test(jit_call, eight_frames_deep)
{
    struct ebpf_insn code[14 * 8];
    size_t n = build_call_chain(code, 8);
    cr_assert_eq(jit_r0(code, n, NULL, 0), 8);
}

Test(jit_call, nine_frames_fault_like_the_interpreter)
{
    struct ebpf_insn code[14 * 9];
    size_t n = build_call_chain(code, 9);
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = load_and_jit(vm, code, n);
    struct ebpfvm_run_result res;
    cr_assert_eq(run_compare(prog, NULL, 0, &res), EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 102: call depth exceeds 8 frames");
    cr_assert_eq(res.fault_pc, 102);
    /* The run unwound cleanly: the next run works. */
    cr_assert_eq(run_compare(prog, NULL, 0, &res), EBPFVM_ERR_FAULT);
    ebpfvm_vm_destroy(vm);
}

Test(jit_call, bpf_to_bpf_call_passes_r1_to_r5_and_keeps_r6_to_r9)
{
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(1, 1), EBPF_MOV64_IMM(2, 2), EBPF_MOV64_IMM(3, 3), EBPF_MOV64_IMM(4, 4),
                        EBPF_MOV64_IMM(5, 5), EBPF_MOV64_IMM(6, 60), EBPF_MOV64_IMM(7, 70), EBPF_MOV64_IMM(8, 80),
                        EBPF_MOV64_IMM(9, 90), EBPF_CALL_LOCAL(5), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 6),
                        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 7), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 8),
                        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 9), EBPF_EXIT(),
                        /* callee */
                        EBPF_MOV64_REG(0, 1), EBPF_ALU64_IMM(EBPF_ALU_MUL, 2, 10), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 2),
                        EBPF_ALU64_IMM(EBPF_ALU_MUL, 3, 100), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 3),
                        EBPF_ALU64_IMM(EBPF_ALU_MUL, 4, 1000), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 4),
                        EBPF_ALU64_IMM(EBPF_ALU_MUL, 5, 10000), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 5),
                        EBPF_MOV64_IMM(6, 0), EBPF_MOV64_IMM(7, 0), EBPF_MOV64_IMM(8, 0), EBPF_MOV64_IMM(9, 0),
                        EBPF_EXIT()),
                 54321u + 300u);
}

Test(jit_helper, arguments_in_place_r6_to_r9_preserved)
{
    /* The helper sees r1..r5 in order; r6-r9 survive; r0 is the result. */
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(6, 6), EBPF_MOV64_IMM(7, 7), EBPF_MOV64_IMM(8, 8), EBPF_MOV64_IMM(9, 9),
                        EBPF_MOV64_IMM(1, 1), EBPF_MOV64_IMM(2, 2), EBPF_MOV64_IMM(3, 3), EBPF_MOV64_IMM(4, 4),
                        EBPF_MOV64_IMM(5, 5), EBPF_CALL_HELPER(H_SUM), EBPF_MOV64_REG(1, 6),
                        EBPF_ALU64_IMM(EBPF_ALU_MUL, 1, 100000), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1),
                        EBPF_ALU64_IMM(EBPF_ALU_MUL, 7, 1000000), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 7),
                        EBPF_ALU64_IMM(EBPF_ALU_MUL, 8, 10000000), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 8),
                        EBPF_ALU64_IMM(EBPF_ALU_MUL, 9, 100000000), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 9),
                        EBPF_EXIT()),
                 987654321u);
}

Test(jit_helper, many_calls_in_a_loop_with_live_registers)
{
    /* 1000 helper calls with the loop state in r6-r9 and a stack slot. */
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(6, 1000), EBPF_MOV64_IMM(7, 0), EBPF_ST_MEM(EBPF_SIZE_DW, 10, -16, 0),
                        /* loop: */ EBPF_MOV64_REG(1, 6), EBPF_CALL_HELPER(H_IDENTITY),
                        EBPF_ALU64_REG(EBPF_ALU_ADD, 7, 0), EBPF_LDX_MEM(EBPF_SIZE_DW, 2, 10, -16),
                        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, 1), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 2, -16),
                        EBPF_ALU64_IMM(EBPF_ALU_SUB, 6, 1), EBPF_JMP_IMM(EBPF_JMP_JNE, 6, 0, -8),
                        EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -16), EBPF_ALU64_IMM(EBPF_ALU_MUL, 0, 1000000),
                        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 7), EBPF_EXIT()),
                 1000u * 1000000u + 500500u);
}

#if defined(__GNUC__)
/* SysV: rsp + 8 is 16-byte aligned at a function's entry, so its frame
 * pointer (after push rbp) is 16-byte aligned. */
static uint64_t helper_aligned(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return ((uintptr_t)__builtin_frame_address(0) & 15) == 0 ? 1 : 1000;
}

Test(jit_helper, helpers_run_on_an_aligned_stack)
{
    ebpfvm_vm *vm = jit_vm();
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 20, "aligned", helper_aligned, NULL), 0);
    /* From the main program and from a bpf-to-bpf callee. */
    ebpfvm_prog *prog = load_and_jit(vm,
                                     PROG(EBPF_CALL_HELPER(20), EBPF_MOV64_REG(6, 0), EBPF_CALL_LOCAL(2),
                                          EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 6), EBPF_EXIT(), EBPF_CALL_HELPER(20),
                                          EBPF_EXIT()),
                                     7);
    struct ebpfvm_run_result res;
    cr_assert_eq(run_compare(prog, NULL, 0, &res), 0);
    cr_assert_eq(res.r0, 2);
    ebpfvm_vm_destroy(vm);
}
#endif

Test(jit_call, falling_into_a_function_continues_in_the_same_frame)
{
    /* Unverified code may run into a call target from above: the prologue is
     * skipped, as the interpreter simply continues. */
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(0, 0), EBPF_CALL_LOCAL(1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 10),
                        EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1), EBPF_EXIT()),
                 12);
}

Test(jit_helper, env_reaches_the_helper)
{
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = load_and_jit(vm, PROG(EBPF_CALL_HELPER(H_USER), EBPF_EXIT()), 2);
    int user;
    struct ebpfvm_run_result res;
    cr_assert_eq(run_jit(prog, NULL, 0, &user, &res), 0);
    cr_assert_eq(res.r0, (uint64_t)(uintptr_t)&user);
    ebpfvm_vm_destroy(vm);
}

static void expect_fault(const struct ebpf_insn *code, size_t n, const char *message)
{
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = load_and_jit(vm, code, n);
    struct ebpfvm_run_result res;
    cr_assert_eq(run_compare(prog, NULL, 0, &res), EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, message);
    ebpfvm_vm_destroy(vm);
}

Test(jit_helper, helper_fault_stops_the_run)
{
    expect_fault(PROG(EBPF_MOV64_IMM(0, 1), EBPF_CALL_HELPER(H_FAULT), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()), 4,
                 "insn 1: boom");
    expect_fault(PROG(EBPF_CALL_HELPER(H_SILENT), EBPF_EXIT()), 2, "insn 0: helper 9 (silent) faulted");
    /* From inside a bpf-to-bpf call: the fault unwinds every frame. */
    expect_fault(PROG(EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_CALL_HELPER(H_FAULT),
                      EBPF_EXIT()),
                 6, "insn 4: boom");
}

Test(jit_helper, callx_known_and_unknown_ids)
{
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(1, 42), EBPF_MOV64_IMM(8, H_IDENTITY), EBPF_CALLX(8), EBPF_EXIT()), 42);
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(1, 2), EBPF_MOV64_IMM(0, H_SUM), EBPF_CALLX(0), EBPF_EXIT()), 2);
    expect_fault(PROG(EBPF_MOV64_IMM(3, 4), EBPF_CALLX(3), EBPF_EXIT()), 3, "insn 1: callx r3: unknown helper 4");
    expect_fault(PROG(EBPF_MOV64_IMM(3, 0), EBPF_CALLX(3), EBPF_EXIT()), 3, "insn 1: callx r3: unknown helper 0");
    expect_fault(PROG(EBPF_MOV64_IMM(6, -1), EBPF_CALLX(6), EBPF_EXIT()), 3,
                 "insn 1: callx r6: unknown helper 18446744073709551615");
    expect_fault(PROG(EBPF_MOV64_IMM(6, 1024), EBPF_CALLX(6), EBPF_EXIT()), 3,
                 "insn 1: callx r6: unknown helper 1024");
    expect_fault(PROG(EBPF_MOV64_IMM(6, H_FAULT), EBPF_CALLX(6), EBPF_EXIT()), 3, "insn 1: boom");
    expect_fault(PROG(EBPF_MOV64_IMM(6, H_SILENT), EBPF_CALLX(6), EBPF_EXIT()), 3,
                 "insn 1: helper 9 (silent) faulted");
}

Test(jit_helper, callx_in_a_vm_without_helpers)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    ebpfvm_prog *prog = load_and_jit(vm, PROG(EBPF_MOV64_IMM(2, 5), EBPF_CALLX(2), EBPF_EXIT()), 3);
    struct ebpfvm_run_result res;
    cr_assert_eq(run_compare(prog, NULL, 0, &res), EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 1: callx r2: unknown helper 5");
    ebpfvm_vm_destroy(vm);
}

/* ----------------------------------------------------- W^X, lifetime */

/* The permissions of the mapping holding addr in /proc/self/maps, or "". */
static void mapping_perms(const void *addr, char perms[5])
{
    perms[0] = '\0';
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[512];
    uintptr_t a = (uintptr_t)addr;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char p[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
            memcpy(perms, p, 5);
            break;
        }
    }
    fclose(f);
}

Test(jit_wx, code_is_read_execute_never_writable_and_unmapped_on_destroy)
{
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = load_and_jit(vm, PROG(EBPF_MOV64_IMM(0, 1), EBPF_EXIT()), 2);
    size_t size = 0;
    const void *code = ebpfvm_prog_jit_code(prog, &size);
    cr_assert_not_null(code);
    cr_assert_gt(size, 0);
    char perms[5];
    mapping_perms(code, perms);
    cr_assert_str_eq(perms, "r-xp");
    mapping_perms((const uint8_t *)code + size - 1, perms);
    cr_assert_str_eq(perms, "r-xp");
    /* Compiling again is a no-op: same code. */
    cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED), 0);
    cr_assert_eq(ebpfvm_prog_jit_code(prog, NULL), code);
    ebpfvm_prog_destroy(prog);
    mapping_perms(code, perms);
    cr_assert_str_neq(perms, "r-xp", "the code pages are still mapped after destroy");
    ebpfvm_vm_destroy(vm);
}

Test(jit_wx, no_mapping_is_writable_and_executable)
{
    ebpfvm_vm *vm = jit_vm();
    for (int i = 0; i < 4; i++)
        load_and_jit(vm, PROG(EBPF_MOV64_IMM(0, i), EBPF_EXIT()), 2);
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char p[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3)
            cr_assert(!(p[1] == 'w' && p[2] == 'x'), "writable and executable mapping: %s", line);
    }
    fclose(f);
    ebpfvm_vm_destroy(vm);
}

/* ---------------------------------------------------------- fallback */

Test(jit_mem, legacy_packet_loads)
{
    uint8_t pkt[6] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
    static const uint8_t sizes[] = {EBPF_SIZE_B, EBPF_SIZE_H, EBPF_SIZE_W};
    for (int k = 0; k < 3; k++) {
        for (int32_t off = -2; off < 8; off++) {
            /* In bounds: the big-endian value; out of bounds: the program
             * ends with r0 = 0. r6 and r1 survive the load. */
            uint64_t r0 = jit_r0(PROG(EBPF_MOV64_IMM(6, 7), EBPF_LD_ABS(sizes[k], off), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 6),
                                      EBPF_ALU64_REG(EBPF_ALU_XOR, 1, 1), EBPF_EXIT()),
                                 5, pkt, sizeof pkt);
            unsigned size = k == 0 ? 1 : k == 1 ? 2 : 4;
            uint64_t want = 0;
            if (off >= 0 && (size_t)off + size <= sizeof pkt) {
                for (unsigned b = 0; b < size; b++)
                    want = (want << 8) | pkt[off + (int32_t)b];
                want += 7;
            }
            cr_assert_eq(r0, want, "ldabs size %u off %d: 0x%" PRIx64, size, off, r0);
            /* Indirect: src + imm, with the offset split between them. */
            r0 = jit_r0(PROG(EBPF_MOV64_IMM(3, off - 1), EBPF_LD_IND(sizes[k], 3, 1), EBPF_EXIT()), 3, pkt,
                        sizeof pkt);
            cr_assert_eq(r0, want ? want - 7 : 0, "ldind size %u off %d", size, off);
        }
    }
    /* An empty context block: every packet load ends the program. */
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(0, 5), EBPF_LD_ABS(EBPF_SIZE_B, 0), EBPF_MOV64_IMM(0, 9), EBPF_EXIT()), 0);
    /* From inside a bpf-to-bpf call, only the subprogram ends (returning 0
     * to its caller, like the kernel's generated code): the caller goes on. */
    cr_assert_eq(jit_r0(PROG(EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 9), EBPF_EXIT(), EBPF_LD_ABS(EBPF_SIZE_W, 4),
                             EBPF_EXIT()),
                        5, pkt, sizeof pkt),
                 9);
}

Test(jit_fallback, unverified_programs_need_the_flag)
{
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, PROG(EBPF_MOV64_IMM(0, 1), EBPF_EXIT()), 2, NULL, &prog), 0);
    last_log[0] = '\0';
    cr_assert_eq(ebpfvm_prog_jit(prog, 0), EBPFVM_ERR_PERM);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm),
                     "jit: the program is not verified (pass EBPFVM_JIT_ALLOW_UNVERIFIED to compile it anyway)");
    cr_assert(strstr(last_log, "falling back to the interpreter") != NULL);
    cr_assert_not(ebpfvm_prog_is_jitted(prog));
    cr_assert_eq(ebpfvm_prog_jit(prog, 0x80), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "jit: unknown flags 0x80");
    cr_assert_eq(ebpfvm_prog_jit(NULL, 0), EBPFVM_ERR_INVAL);
    cr_assert_not(ebpfvm_prog_is_jitted(NULL));
    size_t size = 99;
    cr_assert_null(ebpfvm_prog_jit_code(NULL, &size));
    cr_assert_eq(size, 0);
    /* A compiled program without native code cannot take the JIT path. */
    struct ebpfvm_run_result res;
    cr_assert_eq(run_jit(prog, NULL, 0, NULL, &res), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(res.message, "run: the program has no native code");
    /* A verified program needs no flag (set by hand: no verifier yet). */
    prog->verified = true;
    cr_assert_eq(ebpfvm_prog_jit(prog, 0), 0);
    cr_assert(ebpfvm_prog_is_jitted(prog));
    size_t code_size = 0;
    ebpfvm_prog_jit_code(prog, &code_size);
    char want[128];
    snprintf(want, sizeof want, "jit: prog: 2 instructions compiled to %zu bytes", code_size);
    cr_assert_str_eq(last_log, want);
    cr_assert_eq(run_jit(prog, NULL, 0, NULL, &res), 0);
    cr_assert_eq(res.r0, 1);
    ebpfvm_vm_destroy(vm);
}

Test(jit_fallback, function_address_loads_stay_in_the_interpreter)
{
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = NULL;
    int err = ebpfvm_prog_load(vm, PROG(EBPF_LD_FUNC(2, 1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(), EBPF_EXIT()), 4,
                               NULL, &prog);
    if (err != 0) /* the loader may reject pseudo-func loads outright */
        cr_skip_test("load rejected: %s", ebpfvm_vm_errmsg(vm));
    last_log[0] = '\0';
    cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "jit: insn 0: lddw of a function address is not supported by the JIT");
    cr_assert_str_eq(last_log, "jit: prog: falling back to the interpreter: insn 0: lddw of a function address is "
                               "not supported by the JIT");
    cr_assert_not(ebpfvm_prog_is_jitted(prog));
    /* It still runs, in the interpreter. */
    struct ebpfvm_run_result res;
    cr_assert_eq(run_interp(prog, NULL, 0, NULL, &res), 0);
    cr_assert_eq(res.r0, 0);
    ebpfvm_vm_destroy(vm);
}

/* An allocator that fails once `fail_after` more allocations succeeded. */
static int fail_after = -1;

static void *failing_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    (void)ud, (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return realloc(ptr, new_size);
}

Test(jit_fallback, out_of_memory_at_each_allocation)
{
    static const char *const messages[] = {
        "jit: out of memory for 7 labels",           /* the label arrays (2 * 3 words + 1 special) */
        "jit: out of memory for 7 labels",
        "jit: out of memory for 7 labels",
        "jit: out of memory for 4096 bytes of code", /* the code buffer */
        "jit: out of memory for jump fixups",
    };
    for (int k = 0; k < 5; k++) {
        ebpfvm_vm *vm = NULL;
        struct ebpfvm_vm_opts opts = {.sz = sizeof opts, .alloc = failing_alloc};
        fail_after = -1;
        cr_assert_eq(ebpfvm_vm_create(&opts, &vm), 0);
        ebpfvm_prog *prog = NULL;
        cr_assert_eq(ebpfvm_prog_load(vm, PROG(EBPF_MOV64_IMM(0, 1), EBPF_JA(0), EBPF_EXIT()), 3, NULL, &prog), 0);
        fail_after = k;
        cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED), EBPFVM_ERR_NOMEM, "allocation %d", k);
        cr_assert_str_eq(ebpfvm_vm_errmsg(vm), messages[k]);
        cr_assert_not(ebpfvm_prog_is_jitted(prog));
        fail_after = -1;
        /* Nothing leaked into a half-built state: a retry succeeds. */
        cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED), 0);
        struct ebpfvm_run_result res;
        cr_assert_eq(run_jit(prog, NULL, 0, NULL, &res), 0);
        cr_assert_eq(res.r0, 1);
        ebpfvm_vm_destroy(vm);
    }
}

#if !defined(__SANITIZE_ADDRESS__) /* ASan's shadow memory does not live under RLIMIT_AS */
/* The current address-space size, from /proc/self/statm (pages). */
static size_t address_space_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    unsigned long pages = 0;
    cr_assert_eq(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

Test(jit_fallback, mmap_failure_falls_back)
{
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, PROG(EBPF_MOV64_IMM(0, 1), EBPF_EXIT()), 2, NULL, &prog), 0);
    /* Leave free heap for the compiler's buffers, then forbid new mappings. */
    void *warm = malloc(100 * 1024);
    cr_assert_not_null(warm);
    free(warm);
    struct rlimit limit = {.rlim_cur = address_space_bytes(), .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_AS, &limit), 0);
    last_log[0] = '\0';
    int err = ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED);
    limit.rlim_cur = RLIM_INFINITY;
    cr_assert_eq(setrlimit(RLIMIT_AS, &limit), 0);
    cr_assert_eq(err, EBPFVM_ERR_NOMEM);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "jit: mmap of 8192 bytes failed");
    cr_assert_str_eq(last_log, "jit: prog: falling back to the interpreter: mmap of 8192 bytes failed");
    cr_assert_not(ebpfvm_prog_is_jitted(prog));
    ebpfvm_vm_destroy(vm);
}
#endif

/*
 * Only the stack bytes a program can reach are zeroed: r10 used as a plain
 * base reaches its deepest offset; a copy of r10 reaches the whole frame.
 * A first program fills the native stack with garbage (a helper's frame
 * and a deep BPF frame) so that a missing zeroing shows.
 */
static uint64_t helper_dirty_stack(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                   ebpfvm_env *env)
{
    (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    volatile uint8_t junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(0xa5 ^ i ^ r1);
    return junk[r1 % sizeof junk];
}

Test(jit_mem, stack_zeroing_covers_every_reachable_byte)
{
    ebpfvm_vm *vm = jit_vm();
    cr_assert_eq(ebpfvm_vm_register_helper(vm, 10, "dirty", helper_dirty_stack, NULL), 0);
    static const struct {
        const char *what;
        struct ebpf_insn code[6];
        size_t n;
    } readers[] = {
        {"direct -8", {EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_EXIT()}, 2},
        {"direct -72 (past the unrolled stores)", {EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -72), EBPF_EXIT()}, 2},
        {"direct -512", {EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -512), EBPF_EXIT()}, 2},
        {"byte at -61", {EBPF_LDX_MEM(EBPF_SIZE_B, 0, 10, -61), EBPF_EXIT()}, 2},
        {"copy of r10", {EBPF_MOV64_REG(1, 10), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, -504), EBPF_EXIT()}, 3},
        {"r10 - 8 as a base, offset beyond",
         {EBPF_ST_MEM(EBPF_SIZE_B, 10, -1, 0), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -8),
          EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 2, -256), EBPF_EXIT()},
         5},
    };
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        ebpfvm_prog *reader = load_and_jit(vm, readers[i].code, readers[i].n);
        for (int round = 0; round < 3; round++) {
            /* Dirty the native stack: a BPF frame filled with a pattern
             * (where the reader's frame will be) and a helper's frame. */
            struct ebpf_insn fill[64 + 3];
            size_t nf = 0;
            for (int16_t at = -8; at >= -512; at -= 8)
                fill[nf++] = EBPF_ST_MEM(EBPF_SIZE_DW, 10, at, 0x5a5a5a5a + round);
            fill[nf++] = EBPF_MOV64_IMM(1, round);
            fill[nf++] = EBPF_CALL_HELPER(10);
            fill[nf++] = EBPF_EXIT();
            ebpfvm_prog *dirty = load_and_jit(vm, fill, nf);
            struct ebpfvm_run_result res;
            cr_assert_eq(run_jit(dirty, NULL, 0, NULL, &res), 0);
            cr_assert_eq(run_jit(reader, NULL, 0, NULL, &res), 0);
            cr_assert_eq(res.r0, 0, "%s: read 0x%" PRIx64 " from the stack", readers[i].what, res.r0);
            ebpfvm_prog_destroy(dirty);
        }
        ebpfvm_prog_destroy(reader);
    }
    ebpfvm_vm_destroy(vm);
}

/* ---------------------------------------------- program-type rewrites */

/* An XDP program's xdp_md reads are rewritten at load time into 64-bit
 * loads of struct ebpfvm_xdp_buff: native code must use the rewritten
 * access (a u32 load would read half a pointer). */
Test(jit_mem, xdp_context_loads_use_the_rewritten_access)
{
    ebpfvm_vm *vm = jit_vm();
    const struct ebpf_insn code[] = {
        EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 4), /* r2 = ctx->data_end */
        EBPF_LDX_MEM(EBPF_SIZE_W, 3, 1, 0), /* r3 = ctx->data */
        EBPF_MOV64_REG(0, 2),
        EBPF_ALU64_REG(EBPF_ALU_SUB, 0, 3),
        EBPF_LDX_MEM(EBPF_SIZE_B, 4, 3, 13),  /* the EtherType's low byte */
        EBPF_ALU64_IMM(EBPF_ALU_LSH, 4, 16),
        EBPF_ALU64_REG(EBPF_ALU_OR, 0, 4),
        EBPF_EXIT(),
    };
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_XDP};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, code, EBPF_NWORDS(code), &lo, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED), 0, "%s", ebpfvm_vm_errmsg(vm));
    static uint8_t frame[EBPFVM_XDP_FRAME_SIZE];
    uint8_t pkt[60] = {0};
    pkt[12] = 0x08;
    pkt[13] = 0x06;
    struct ebpfvm_xdp_buff buff;
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, sizeof pkt), 0);
    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = EBPFVM_EXEC_JIT};
    struct ebpfvm_run_result res;
    cr_assert_eq(ebpfvm_prog_run(prog, &buff, sizeof buff, &opts, &res), 0, "%s", res.message);
    cr_assert_eq(res.r0, (0x06u << 16) | 60u);
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------- constant blinding */

Test(jit_blind, every_immediate_form_blinded)
{
    extra_jit_flags = EBPFVM_JIT_BLIND;
    every_immediate_and_unary_form();
}

Test(jit_blind, every_conditional_form_blinded)
{
    extra_jit_flags = EBPFVM_JIT_BLIND;
    every_conditional_form_against_arith();
}

Test(jit_blind, differential_against_the_interpreter_blinded)
{
    extra_jit_flags = EBPFVM_JIT_BLIND;
    random_differential();
}

Test(jit_blind, legacy_packet_loads_blinded)
{
    extra_jit_flags = EBPFVM_JIT_BLIND;
    uint8_t pkt[8] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
    cr_assert_eq(jit_r0(PROG(EBPF_LD_ABS(EBPF_SIZE_W, 2), EBPF_EXIT()), 2, pkt, sizeof pkt), 0x56789abcu);
    cr_assert_eq(jit_r0(PROG(EBPF_MOV64_IMM(3, 5), EBPF_LD_IND(EBPF_SIZE_H, 3, -4), EBPF_EXIT()), 3, pkt, sizeof pkt),
                 0x3456u);
    cr_assert_eq(jit_r0(PROG(EBPF_MOV64_IMM(0, 5), EBPF_LD_ABS(EBPF_SIZE_B, 8), EBPF_EXIT()), 3, pkt, sizeof pkt), 0);
}

static bool code_contains(const ebpfvm_prog *prog, uint32_t value)
{
    size_t size = 0;
    const uint8_t *code = ebpfvm_prog_jit_code(prog, &size);
    cr_assert_not_null(code);
    for (size_t i = 0; i + 4 <= size; i++)
        if (memcmp(code + i, &value, 4) == 0)
            return true;
    return false;
}

/* Each instruction kind that carries a 4-byte immediate: the constant is in
 * the code without blinding and nowhere in it with blinding; both agree
 * with the interpreter. */
Test(jit_blind, no_immediate_of_the_program_in_the_code)
{
    enum { K = 0x12345678 };
    static const struct {
        const char *what;
        struct ebpf_insn code[5];
        size_t n;
    } cases[] = {
        {"mov64", {EBPF_MOV64_IMM(0, K), EBPF_EXIT()}, 2},
        {"mov32", {EBPF_MOV32_IMM(0, K), EBPF_EXIT()}, 2},
        {"add64", {EBPF_MOV64_IMM(0, 3), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, K), EBPF_EXIT()}, 3},
        {"xor32", {EBPF_MOV64_IMM(0, -3), EBPF_ALU32_IMM(EBPF_ALU_XOR, 0, K), EBPF_EXIT()}, 3},
        {"and64", {EBPF_MOV64_IMM(0, -3), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, K), EBPF_EXIT()}, 3},
        {"mul64", {EBPF_MOV64_IMM(0, 3), EBPF_ALU64_IMM(EBPF_ALU_MUL, 0, K), EBPF_EXIT()}, 3},
        {"div64", {EBPF_MOV64_IMM(0, -3), EBPF_ALU64_IMM(EBPF_ALU_DIV, 0, K), EBPF_EXIT()}, 3},
        {"smod32", {EBPF_MOV64_IMM(0, -3), EBPF_SALU32_IMM(EBPF_ALU_MOD, 0, K), EBPF_EXIT()}, 3},
        {"jeq64", {EBPF_MOV64_IMM(0, K), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, K, 1), EBPF_MOV64_IMM(0, 1), EBPF_EXIT()}, 4},
        {"jset32", {EBPF_MOV64_IMM(0, 8), EBPF_JMP32_IMM(EBPF_JMP_JSET, 0, K, 1), EBPF_MOV64_IMM(0, 1), EBPF_EXIT()},
         4},
        {"stw", {EBPF_ST_MEM(EBPF_SIZE_W, 10, -8, K), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_EXIT()}, 3},
        {"stdw", {EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, K), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_EXIT()}, 3},
        {"lddw", {EBPF_LD_IMM64(0, K), EBPF_EXIT()}, 3},
        {"lddw high", {EBPF_LD_IMM64(0, (uint64_t)K << 32 | 0x9abcdef0u), EBPF_EXIT()}, 3},
        {"ldabs", {EBPF_LD_ABS(EBPF_SIZE_B, K), EBPF_EXIT()}, 2},
        {"ldind", {EBPF_MOV64_IMM(2, 0), EBPF_LD_IND(EBPF_SIZE_B, 2, K), EBPF_EXIT()}, 3},
    };
    ebpfvm_vm *vm = jit_vm();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t r0[2];
        for (int blind = 0; blind < 2; blind++) {
            extra_jit_flags = blind ? EBPFVM_JIT_BLIND : 0;
            ebpfvm_prog *prog = load_and_jit(vm, cases[i].code, cases[i].n);
            if (blind)
                cr_assert_not(code_contains(prog, K), "%s: 0x%x in the blinded code", cases[i].what, K);
            else
                cr_assert(code_contains(prog, K), "%s: 0x%x not in the plain code", cases[i].what, K);
            uint8_t pkt[16] = {0};
            struct ebpfvm_run_result res;
            cr_assert_eq(run_compare(prog, pkt, sizeof pkt, &res), 0, "%s: %s", cases[i].what, res.message);
            r0[blind] = res.r0;
            ebpfvm_prog_destroy(prog);
        }
        cr_assert_eq(r0[0], r0[1], "%s", cases[i].what);
    }
    ebpfvm_vm_destroy(vm);
}

/* Keys are fresh per compilation: two compilations of one program differ,
 * and blinding costs code. */
Test(jit_blind, keys_differ_between_compilations)
{
    const struct ebpf_insn code[] = {EBPF_MOV64_IMM(0, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 2), EBPF_EXIT()};
    ebpfvm_vm *vm = jit_vm();
    extra_jit_flags = EBPFVM_JIT_BLIND;
    ebpfvm_prog *a = load_and_jit(vm, code, 3);
    ebpfvm_prog *b = load_and_jit(vm, code, 3);
    extra_jit_flags = 0;
    ebpfvm_prog *plain = load_and_jit(vm, code, 3);
    size_t sa = 0, sb = 0, sp = 0;
    const void *ca = ebpfvm_prog_jit_code(a, &sa), *cb = ebpfvm_prog_jit_code(b, &sb);
    ebpfvm_prog_jit_code(plain, &sp);
    cr_assert_eq(sa, sb);
    cr_assert_gt(sa, sp);
    cr_assert_neq(memcmp(ca, cb, sa), 0, "two blinded compilations produced the same bytes");
    ebpfvm_vm_destroy(vm);
}

static int no_random_bytes(void *buf, size_t len)
{
    (void)buf, (void)len;
    return -1;
}

/* With blinding the keys are one more allocation, after the label arrays. */
Test(jit_blind, out_of_memory_at_each_allocation_blinded)
{
    static const char *const messages[] = {
        "jit: out of memory for 7 labels",
        "jit: out of memory for 7 labels",
        "jit: out of memory for 7 labels",
        "jit: out of memory for 3 blinding keys",
        "jit: out of memory for 4096 bytes of code",
        "jit: out of memory for jump fixups",
    };
    for (int k = 0; k < 6; k++) {
        ebpfvm_vm *vm = NULL;
        struct ebpfvm_vm_opts opts = {.sz = sizeof opts, .alloc = failing_alloc};
        fail_after = -1;
        cr_assert_eq(ebpfvm_vm_create(&opts, &vm), 0);
        ebpfvm_prog *prog = NULL;
        cr_assert_eq(ebpfvm_prog_load(vm, PROG(EBPF_MOV64_IMM(0, 1), EBPF_JA(0), EBPF_EXIT()), 3, NULL, &prog), 0);
        fail_after = k;
        cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED | EBPFVM_JIT_BLIND), EBPFVM_ERR_NOMEM,
                     "allocation %d", k);
        cr_assert_str_eq(ebpfvm_vm_errmsg(vm), messages[k]);
        cr_assert_not(ebpfvm_prog_is_jitted(prog));
        fail_after = -1;
        cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED | EBPFVM_JIT_BLIND), 0);
        struct ebpfvm_run_result res;
        cr_assert_eq(run_jit(prog, NULL, 0, NULL, &res), 0);
        cr_assert_eq(res.r0, 1);
        ebpfvm_vm_destroy(vm);
    }
}

Test(jit_blind, no_random_bytes_falls_back)
{
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, PROG(EBPF_MOV64_IMM(0, 1), EBPF_EXIT()), 2, NULL, &prog), 0);
    ebpfvm__jit_random = no_random_bytes;
    last_log[0] = '\0';
    cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED | EBPFVM_JIT_BLIND), EBPFVM_ERR_IO);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "jit: constant blinding: no random bytes from getrandom or /dev/urandom");
    cr_assert_str_eq(last_log, "jit: prog: falling back to the interpreter: constant blinding: no random bytes from "
                               "getrandom or /dev/urandom");
    cr_assert_not(ebpfvm_prog_is_jitted(prog));
    /* Without blinding no randomness is needed. */
    cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED), 0);
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------ instruction offsets */

/* Where the jump ending at `end` lands (rel8 or rel32 jmp/jcc), trying
 * each encoding that fits the bytes; true if one of them reaches want. */
static bool jump_lands_on(const uint8_t *code, size_t end, size_t want)
{
    if (end >= 2 && ((code[end - 2] & 0xf0) == 0x70 || code[end - 2] == 0xeb) &&
        (int64_t)end + (int8_t)code[end - 1] == (int64_t)want)
        return true;
    if (end >= 6) {
        int32_t d;
        memcpy(&d, code + end - 4, 4);
        bool jcc32 = code[end - 6] == 0x0f && (code[end - 5] & 0xf0) == 0x80;
        bool jmp32 = code[end - 5] == 0xe9;
        if ((jcc32 || jmp32) && (int64_t)end + d == (int64_t)want)
            return true;
    }
    return false;
}

static void check_offsets(const ebpfvm_prog *prog, const struct ebpf_insn *code, size_t n)
{
    const uint32_t *off = NULL;
    size_t count = 0, size = 0;
    const uint8_t *native = ebpfvm_prog_jit_code(prog, &size);
    cr_assert_eq(ebpfvm_prog_jit_offsets(prog, &off, &count), 0);
    cr_assert_eq(count, n + 1);
    cr_assert_eq(off[n], size);
    cr_assert_gt(off[0], 0);
    for (size_t pc = 0; pc < n; pc++)
        cr_assert_leq(off[pc], off[pc + 1], "offsets decrease at %zu", pc);
    for (size_t pc = 0; pc < n; pc++) {
        uint8_t cls = EBPF_CLASS(code[pc].opcode), op = EBPF_OP(code[pc].opcode);
        if ((cls != EBPF_CLASS_JMP && cls != EBPF_CLASS_JMP32) || op == EBPF_JMP_CALL || op == EBPF_JMP_EXIT)
            continue;
        int64_t rel = cls == EBPF_CLASS_JMP32 && op == EBPF_JMP_JA ? code[pc].imm : code[pc].off;
        size_t target = (size_t)((int64_t)pc + 1 + rel);
        cr_assert(jump_lands_on(native, off[pc + 1], off[target]), "jump at %zu does not land on offsets[%zu] = %u",
                  pc, target, off[target]);
    }
}

Test(jit_offsets, one_per_instruction_and_jumps_land_on_them)
{
    ebpfvm_vm *vm = jit_vm();
    /* The prologue is the same for every program: offsets[0] is its size. */
    const struct ebpf_insn tiny[] = {EBPF_EXIT()};
    ebpfvm_prog *p1 = load_and_jit(vm, tiny, 1);
    check_offsets(p1, tiny, 1);
    const uint32_t *off1 = NULL;
    size_t n1 = 0;
    cr_assert_eq(ebpfvm_prog_jit_offsets(p1, &off1, &n1), 0);

    struct ebpf_insn code[300];
    size_t n = 0;
    code[n++] = EBPF_MOV64_IMM(0, 0);
    code[n++] = EBPF_MOV64_IMM(2, 3);
    struct ebpf_insn ld[2] = {EBPF_LD_IMM64(4, 0x1122334455667788ull)};
    code[n++] = ld[0];
    code[n++] = ld[1];
    code[n++] = EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 1, 100); /* forward, long */
    code[n++] = EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 1, 1);   /* forward, short */
    code[n++] = EBPF_JA(0);
    size_t loop = n;
    for (int i = 0; i < 100; i++)
        code[n++] = EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 100000);
    code[n++] = EBPF_ALU64_IMM(EBPF_ALU_SUB, 2, 1);
    code[n] = EBPF_JMP32_IMM(EBPF_JMP_JNE, 2, 0, (int16_t)((int64_t)loop - (int64_t)n - 1)); /* backward, long */
    n++;
    code[n++] = EBPF_JMP_REG(EBPF_JMP_JGT, 2, 0, -2);  /* backward, short */
    code[n++] = EBPF_GOTOL(1);
    code[n++] = EBPF_MOV64_IMM(0, -1);
    code[n++] = EBPF_EXIT();
    ebpfvm_prog *p2 = load_and_jit(vm, code, n);
    check_offsets(p2, code, n);
    const uint32_t *off2 = NULL;
    size_t n2 = 0;
    cr_assert_eq(ebpfvm_prog_jit_offsets(p2, &off2, &n2), 0);
    cr_assert_eq(off1[0], off2[0]);
    /* The second word of the LD_IMM64 is empty. */
    cr_assert_eq(off2[3], off2[4]);
    cr_assert_lt(off2[2], off2[3]);
    struct ebpfvm_run_result res;
    cr_assert_eq(run_compare(p2, NULL, 0, &res), 0);
    cr_assert_eq(res.r0, 300u * 100000u);
    ebpfvm_vm_destroy(vm);
}

Test(jit_offsets, blinded_code_too)
{
    extra_jit_flags = EBPFVM_JIT_BLIND;
    ebpfvm_vm *vm = jit_vm();
    const struct ebpf_insn code[] = {EBPF_MOV64_IMM(0, 5), EBPF_JMP_IMM(EBPF_JMP_JGT, 0, 9, 1),
                                     EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, -1), EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, -2),
                                     EBPF_EXIT()};
    ebpfvm_prog *prog = load_and_jit(vm, code, 5);
    check_offsets(prog, code, 5);
    ebpfvm_vm_destroy(vm);
}

Test(jit_offsets, errors)
{
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, PROG(EBPF_MOV64_IMM(0, 1), EBPF_EXIT()), 2, NULL, &prog), 0);
    const uint32_t *off = (const uint32_t *)&off;
    size_t count = 7;
    cr_assert_eq(ebpfvm_prog_jit_offsets(prog, &off, &count), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "jit: the program has no native code");
    cr_assert_null(off);
    cr_assert_eq(count, 0);
    cr_assert_eq(ebpfvm_prog_jit_offsets(NULL, &off, &count), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_prog_jit_offsets(prog, NULL, &count), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_prog_jit_offsets(prog, &off, NULL), EBPFVM_ERR_INVAL);
    ebpfvm_vm_destroy(vm);
}

/* ---------------------------------------------------- a huge program */

/*
 * 100,000 instructions: a forward gotol over the first 500, conditional
 * jumps every 1000 instructions, and a backward gotol across the whole body
 * taken once (r9 counts the rounds). Native code and interpreter agree.
 */
Test(jit_size, hundred_thousand_instructions)
{
    enum { N = 100000 };
    struct ebpf_insn *code = calloc(N, sizeof *code);
    cr_assert(code);
    size_t n = 0;
    code[n++] = EBPF_MOV64_IMM(0, 1);
    code[n++] = EBPF_MOV64_IMM(9, 2);
    size_t loop = n;
    code[n++] = EBPF_GOTOL(500);
    while (n < N - 6) {
        size_t i = n;
        if (i % 1000 == 0)
            code[n++] = EBPF_JMP_IMM(EBPF_JMP_JSET, 0, 4, 300); /* taken for some values of r0 */
        else if (i % 3 == 0)
            code[n++] = EBPF_ALU64_IMM(EBPF_ALU_MUL, 0, 0x9e37);
        else if (i % 3 == 1)
            code[n++] = EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, (int32_t)i);
        else
            code[n++] = EBPF_ALU32_IMM(EBPF_ALU_XOR, 0, (int32_t)(i * 7));
    }
    code[n++] = EBPF_ALU64_IMM(EBPF_ALU_SUB, 9, 1);
    code[n++] = EBPF_JMP_IMM(EBPF_JMP_JEQ, 9, 0, 1);
    code[n] = EBPF_GOTOL((int32_t)((int64_t)loop - (int64_t)n - 1));
    n++;
    code[n++] = EBPF_EXIT();
    cr_assert_leq(n, N);
    ebpfvm_vm *vm = jit_vm();
    ebpfvm_prog *prog = load_and_jit(vm, code, n);
    check_offsets(prog, code, n);
    struct ebpfvm_run_result res;
    cr_assert_eq(run_compare(prog, NULL, 0, &res), 0);
    ebpfvm_vm_destroy(vm);
    free(code);
}

/* ------------------------------------------------------------- may_goto */

#define MAY_GOTO_COUNT_LOOP(reg) EBPF_MAY_GOTO(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, reg, 1), EBPF_JA(-3)

Test(jit, may_goto_counts_the_frame_budget_like_the_interpreter)
{
    cr_assert_eq(JIT_R0(EBPF_MOV64_IMM(0, 0), MAY_GOTO_COUNT_LOOP(0), EBPF_EXIT()), EBPF_MAY_GOTO_BUDGET);
}

Test(jit, may_goto_budget_is_per_call_and_below_the_stack)
{
    /* main fills its whole 512-byte stack, spends its budget, calls a
     * subprogram (fresh budget) twice, and finds its stack intact: the
     * budget slot lies outside the program's stack. */
    uint64_t r0 = JIT_R0(EBPF_ST_MEM(EBPF_SIZE_DW, 10, -512, 7), EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 9), /* 0-1 */
                         EBPF_MOV64_IMM(6, 0), MAY_GOTO_COUNT_LOOP(6),                                    /* 2-5 */
                         EBPF_CALL_LOCAL(12),                                                             /* 6: -> 19 */
                         EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 0),                                              /* 7 */
                         EBPF_CALL_LOCAL(10),                                                             /* 8: -> 19 */
                         EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 0),                                              /* 9 */
                         MAY_GOTO_COUNT_LOOP(6),                                                          /* 10-12 */
                         EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, -512), EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 1),     /* 13-14 */
                         EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, -8), EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 1),       /* 15-16 */
                         EBPF_MOV64_REG(0, 6),                                                            /* 17 */
                         EBPF_EXIT(),                                                                     /* 18 */
                         EBPF_MOV64_IMM(0, 0), MAY_GOTO_COUNT_LOOP(0), EBPF_EXIT()); /* 19-23 */
    cr_assert_eq(r0, 3ull * EBPF_MAY_GOTO_BUDGET + 16);
}

/* ------------------------------------------------- kfuncs and callbacks */

Test(jit, iter_num_kfuncs_are_called_like_the_interpreter)
{
    /* new(0, 10); sum the elements; destroy: 45, through native calls of
     * ebpfvm's kfuncs (the stack slot at fp-8 is the iterator). */
    cr_assert_eq(JIT_R0(EBPF_MOV64_REG(1, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -8), EBPF_MOV64_IMM(2, 0),
                        EBPF_MOV64_IMM(3, 10), EBPF_CALL_KFUNC(EBPFVM_KFUNC_ITER_NUM_NEW), EBPF_MOV64_IMM(6, 0),
                        EBPF_MOV64_REG(1, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -8),
                        EBPF_CALL_KFUNC(EBPFVM_KFUNC_ITER_NUM_NEXT), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 3),
                        EBPF_LDX_MEM(EBPF_SIZE_W, 2, 0, 0), EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 2), EBPF_JA(-7),
                        EBPF_MOV64_REG(1, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -8),
                        EBPF_CALL_KFUNC(EBPFVM_KFUNC_ITER_NUM_DESTROY), EBPF_MOV64_REG(0, 6), EBPF_EXIT()),
                 45);
}

#else /* not x86-64 */

Test(jit_fallback, no_backend_on_this_host)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    ebpfvm_prog *prog = NULL;
    const struct ebpf_insn code[] = {EBPF_MOV64_IMM(0, 1), EBPF_EXIT()};
    cr_assert_eq(ebpfvm_prog_load(vm, code, 2, NULL, &prog), 0);
    cr_assert_eq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "jit: no JIT backend for this host architecture");
    ebpfvm_vm_destroy(vm);
}

#endif
