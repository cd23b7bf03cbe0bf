/*
 * bench/bench_interp.c - how fast the interpreter runs, in nanoseconds per
 * executed eBPF instruction, next to the same computation written in C.
 *
 * Owns the benchmark programs and their native twins. Each program is an
 * array of instruction words loaded unverified and run in FAST mode (with
 * EBPFVM_RUN_ALLOW_UNVERIFIED_FAST: the programs below are safe by
 * construction, and there is no verifier yet). The number of executed
 * instructions comes from one CHECKED run of the same program and input
 * (result.insns_executed), so "ns per insn" is the fast run's time divided
 * by a counted, not estimated, instruction count.
 *
 * Invariants checked on every run before anything is timed: the checked
 * run, the fast run and the native function return the same r0; otherwise
 * the benchmark exits 1. Timing: each measurement runs batches of calls
 * (about 200 microseconds each) for at least --min-ms milliseconds and
 * keeps the fastest (least disturbed) batch.
 *
 * Usage: bench_interp [--quick] [--min-ms N]
 *   --quick   one call of each, no timing (a smoke test: results must agree)
 * Prints a Markdown table; bench/run.sh builds Release and runs it.
 */
#define _POSIX_C_SOURCE 200809L

#include <ebpfvm/ebpfvm.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef EBPFVM_BENCH_BUILD_TYPE
#define EBPFVM_BENCH_BUILD_TYPE "unknown"
#endif

/* Keep the native twins from being inlined, cloned or folded into the
 * timing loop: each call must do the whole computation. */
#if defined(__GNUC__) && !defined(__clang__)
#define BENCH_NOINLINE __attribute__((noinline, noipa))
#else
#define BENCH_NOINLINE __attribute__((noinline))
#endif

/* ----------------------------------------------------- instruction words */

/* {opcode, dst_reg, src_reg, off, imm}; jump offsets are relative to the
 * next instruction (target = pc + 1 + off). */
#define INSN(op, dst, src, off, imm) {(op), (dst), (src), (off), (imm)}
#define ALU64_IMM(OP, dst, imm) INSN(EBPF_CLASS_ALU64 | EBPF_SRC_K | EBPF_ALU_##OP, dst, 0, 0, imm)
#define ALU64_REG(OP, dst, src) INSN(EBPF_CLASS_ALU64 | EBPF_SRC_X | EBPF_ALU_##OP, dst, src, 0, 0)
#define LDX(SIZE, dst, src, off) INSN(EBPF_CLASS_LDX | EBPF_MODE_MEM | EBPF_SIZE_##SIZE, dst, src, off, 0)
#define JMP_IMM(OP, dst, imm, off) INSN(EBPF_CLASS_JMP | EBPF_SRC_K | EBPF_JMP_##OP, dst, 0, off, imm)
#define JMP_REG(OP, dst, src, off) INSN(EBPF_CLASS_JMP | EBPF_SRC_X | EBPF_JMP_##OP, dst, src, off, 0)
#define JA(off) INSN(EBPF_CLASS_JMP | EBPF_JMP_JA, 0, 0, off, 0)
#define EXIT() INSN(EBPF_CLASS_JMP | EBPF_JMP_EXIT, 0, 0, 0, 0)

/* The ALU and branch programs read their input from a 16-byte block. */
struct loop_input {
    uint64_t seed;
    uint64_t count;
};

/*
 * alu_hash: `count` rounds of xorshift64 plus a multiply and an add
 * (13 instructions per round, 11 of them ALU).
 */
static const struct ebpf_insn alu_hash_prog[] = {
    LDX(DW, 0, 1, 0),                /* 0: r0 = seed */
    LDX(DW, 3, 1, 8),                /* 1: r3 = count */
    ALU64_REG(MOV, 5, 0),            /* 2: loop: r5 = r0 */
    ALU64_IMM(LSH, 5, 13),           /* 3 */
    ALU64_REG(XOR, 0, 5),            /* 4: r0 ^= r0 << 13 */
    ALU64_REG(MOV, 5, 0),            /* 5 */
    ALU64_IMM(RSH, 5, 7),            /* 6 */
    ALU64_REG(XOR, 0, 5),            /* 7: r0 ^= r0 >> 7 */
    ALU64_REG(MOV, 5, 0),            /* 8 */
    ALU64_IMM(LSH, 5, 17),           /* 9 */
    ALU64_REG(XOR, 0, 5),            /* 10: r0 ^= r0 << 17 */
    ALU64_IMM(MUL, 0, 0x2545f491),   /* 11 */
    ALU64_REG(ADD, 0, 3),            /* 12: r0 += count */
    ALU64_IMM(SUB, 3, 1),            /* 13 */
    JMP_IMM(JNE, 3, 0, -13),         /* 14: if r3 != 0 goto loop */
    EXIT(),                          /* 15 */
};

static BENCH_NOINLINE uint64_t alu_hash_native(const uint8_t *ctx, size_t size)
{
    struct loop_input in;
    (void)size;
    memcpy(&in, ctx, sizeof in);
    uint64_t x = in.seed, n = in.count;
    do {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x *= 0x2545f491u;
        x += n;
        n--;
    } while (n != 0);
    return x;
}

/*
 * collatz: the total number of Collatz steps of every start value in
 * 1..count: a data-dependent branch on every step.
 */
static const struct ebpf_insn collatz_prog[] = {
    LDX(DW, 3, 1, 8),                /* 0: r3 = count */
    ALU64_IMM(MOV, 0, 0),            /* 1: r0 = 0 (total steps) */
    ALU64_REG(MOV, 4, 3),            /* 2: outer: r4 = r3 */
    JMP_IMM(JEQ, 4, 1, 7),           /* 3: inner: if r4 == 1 goto done (11) */
    JMP_IMM(JSET, 4, 1, 2),          /* 4: if r4 & 1 goto odd (7) */
    ALU64_IMM(RSH, 4, 1),            /* 5: r4 >>= 1 */
    JA(2),                           /* 6: goto count (9) */
    ALU64_IMM(MUL, 4, 3),            /* 7: odd: r4 = 3 * r4 + 1 */
    ALU64_IMM(ADD, 4, 1),            /* 8 */
    ALU64_IMM(ADD, 0, 1),            /* 9: count: r0++ */
    JA(-8),                          /* 10: goto inner (3) */
    ALU64_IMM(SUB, 3, 1),            /* 11: done: r3-- */
    JMP_IMM(JNE, 3, 0, -11),         /* 12: if r3 != 0 goto outer (2) */
    EXIT(),                          /* 13 */
};

static BENCH_NOINLINE uint64_t collatz_native(const uint8_t *ctx, size_t size)
{
    struct loop_input in;
    (void)size;
    memcpy(&in, ctx, sizeof in);
    uint64_t total = 0, n = in.count;
    do {
        uint64_t x = n;
        while (x != 1) {
            if (x & 1)
                x = 3 * x + 1;
            else
                x >>= 1;
            total++;
        }
        n--;
    } while (n != 0);
    return total;
}

/*
 * checksum: the Internet checksum (RFC 1071, host byte order) of the whole
 * block, 16 bits at a time: one load per 4 loop instructions.
 * Precondition: the block's size is even and at least 2.
 */
static const struct ebpf_insn checksum_prog[] = {
    ALU64_IMM(MOV, 0, 0),            /* 0: r0 = 0 (sum) */
    ALU64_REG(MOV, 3, 1),            /* 1: r3 = cursor */
    ALU64_REG(MOV, 4, 1),            /* 2 */
    ALU64_REG(ADD, 4, 2),            /* 3: r4 = end */
    LDX(H, 5, 3, 0),                 /* 4: loop: r5 = *(u16 *)r3 */
    ALU64_REG(ADD, 0, 5),            /* 5 */
    ALU64_IMM(ADD, 3, 2),            /* 6 */
    JMP_REG(JLT, 3, 4, -4),          /* 7: if r3 < r4 goto loop */
    ALU64_REG(MOV, 5, 0),            /* 8: fold the carries, twice */
    ALU64_IMM(RSH, 5, 16),           /* 9 */
    ALU64_IMM(AND, 0, 0xffff),       /* 10 */
    ALU64_REG(ADD, 0, 5),            /* 11 */
    ALU64_REG(MOV, 5, 0),            /* 12 */
    ALU64_IMM(RSH, 5, 16),           /* 13 */
    ALU64_IMM(AND, 0, 0xffff),       /* 14 */
    ALU64_REG(ADD, 0, 5),            /* 15 */
    ALU64_IMM(XOR, 0, 0xffff),       /* 16: ones' complement */
    EXIT(),                          /* 17 */
};

static BENCH_NOINLINE uint64_t checksum_native(const uint8_t *ctx, size_t size)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < size; i += 2) {
        uint16_t word;
        memcpy(&word, ctx + i, sizeof word);
        sum += word;
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return sum ^ 0xffff;
}

/* ------------------------------------------------------------- the cases */

struct bench_case {
    const char *name;
    const char *what;
    const struct ebpf_insn *insns;
    size_t count;
    uint64_t (*native)(const uint8_t *ctx, size_t size);
    uint8_t *ctx;
    size_t ctx_size;
};

static struct loop_input alu_input = {.seed = 0x9e3779b97f4a7c15u, .count = 1000};
static struct loop_input collatz_input = {.seed = 0, .count = 300};
static uint8_t packet[1500];

#define NCASES 3
static struct bench_case cases[NCASES] = {
    {"alu_hash", "1000 rounds of xorshift64 * const", alu_hash_prog,
     sizeof alu_hash_prog / sizeof alu_hash_prog[0], alu_hash_native, (uint8_t *)&alu_input, sizeof alu_input},
    {"collatz", "Collatz steps of 1..300", collatz_prog, sizeof collatz_prog / sizeof collatz_prog[0],
     collatz_native, (uint8_t *)&collatz_input, sizeof collatz_input},
    {"checksum_1500", "RFC 1071 sum over 1500 bytes", checksum_prog, sizeof checksum_prog / sizeof checksum_prog[0],
     checksum_native, packet, sizeof packet},
};

/* ---------------------------------------------------------------- timing */

static volatile uint64_t sink;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct timed {
    const struct bench_case *c;
    const ebpfvm_prog *prog; /* NULL: time the native twin */
    const struct ebpfvm_run_opts *opts;
};

/* Run the measured call `iters` times; returns the elapsed nanoseconds. */
static uint64_t run_batch(const struct timed *t, uint64_t iters)
{
    /* Read through volatile so no call can be hoisted out of the loop. */
    uint8_t *volatile ctx = t->c->ctx;
    struct ebpfvm_run_result result;
    uint64_t acc = 0;
    uint64_t start = now_ns();
    if (t->prog) {
        for (uint64_t i = 0; i < iters; i++) {
            ebpfvm_prog_run(t->prog, ctx, t->c->ctx_size, t->opts, &result);
            acc += result.r0;
        }
    } else {
        for (uint64_t i = 0; i < iters; i++)
            acc += t->c->native(ctx, t->c->ctx_size);
    }
    uint64_t elapsed = now_ns() - start;
    sink = acc;
    return elapsed;
}

/*
 * Nanoseconds per call: the fastest batch seen in min_ns. A batch is as
 * many calls as take about 200 microseconds (at least one); on a shared
 * machine such a short batch is rarely preempted or slowed by another
 * process, so the fastest one is the interpreter's own cost, as in
 * bench_xdp (batches of long repetitions, the method before, included
 * every preemption of a 100 ms window and varied by 30% with the load).
 */
static double time_per_call(const struct timed *t, uint64_t min_ns)
{
    uint64_t iters = 1;
    while (run_batch(t, iters) < 200000u && iters < (UINT64_C(1) << 40))
        iters *= 2;
    double best = 0;
    uint64_t start = now_ns();
    for (int rep = 0; rep < 5 || now_ns() - start < min_ns; rep++) {
        double per = (double)run_batch(t, iters) / (double)iters;
        if (rep == 0 || per < best)
            best = per;
    }
    return best;
}

static void print_cpu_model(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    if (f) {
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *colon = strchr(line, ':');
                printf("cpu: %s", colon ? colon + 2 : line);
                break;
            }
        }
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    int quick = 0;
    uint64_t min_ms = 100;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--min-ms") == 0 && i + 1 < argc) {
            min_ms = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--quick] [--min-ms N]\n", argv[0]);
            return 2;
        }
    }

    uint32_t rnd = 12345;
    for (size_t i = 0; i < sizeof packet; i++) {
        rnd = rnd * 1103515245u + 12345u;
        packet[i] = (uint8_t)(rnd >> 16);
    }

    ebpfvm_vm *vm = NULL;
    int err = ebpfvm_vm_create(NULL, &vm);
    if (err) {
        fprintf(stderr, "bench: vm_create: %s\n", ebpfvm_strerror(err));
        return 1;
    }
    const struct ebpfvm_run_opts fast = {.sz = sizeof fast, .mode = EBPFVM_EXEC_FAST,
                                         .flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST};
    const struct ebpfvm_run_opts checked = {.sz = sizeof checked, .mode = EBPFVM_EXEC_CHECKED};

    if (!quick) {
        printf("ebpfvm %d.%d.%d interpreter, FAST mode (unverified programs, runtime checks off)\n",
               EBPFVM_VERSION_MAJOR, EBPFVM_VERSION_MINOR, EBPFVM_VERSION_PATCH);
        print_cpu_model();
        printf("compiler: %s; library build type: %s; bench -O2\n", __VERSION__, EBPFVM_BENCH_BUILD_TYPE);
        printf("\n| program | insns executed | interp ns/run | native ns/run | ns/insn | interp/native |\n");
        printf("|---|---:|---:|---:|---:|---:|\n");
    }

    int status = 0;
    double worst = 0;
    for (int i = 0; i < NCASES; i++) {
        const struct bench_case *c = &cases[i];
        ebpfvm_prog *prog = NULL;
        struct ebpfvm_load_opts lopts = {.sz = sizeof lopts, .name = c->name};
        err = ebpfvm_prog_load(vm, c->insns, c->count, &lopts, &prog);
        if (err) {
            fprintf(stderr, "bench: %s: load: %s: %s\n", c->name, ebpfvm_strerror(err), ebpfvm_vm_errmsg(vm));
            status = 1;
            continue;
        }
        struct ebpfvm_run_result counted, result;
        int err_checked = ebpfvm_prog_run(prog, c->ctx, c->ctx_size, &checked, &counted);
        int err_fast = ebpfvm_prog_run(prog, c->ctx, c->ctx_size, &fast, &result);
        uint64_t expect = c->native(c->ctx, c->ctx_size);
        if (err_checked || err_fast || counted.r0 != expect || result.r0 != expect) {
            fprintf(stderr,
                    "bench: %s: results disagree: checked %s r0=%" PRIu64 " (%s), fast %s r0=%" PRIu64
                    ", native %" PRIu64 "\n",
                    c->name, ebpfvm_strerror(err_checked), counted.r0, counted.message, ebpfvm_strerror(err_fast),
                    result.r0, expect);
            status = 1;
            continue;
        }
        if (quick) {
            printf("%s: r0 = %" PRIu64 ", %" PRIu64 " insns: ok\n", c->name, expect, counted.insns_executed);
            continue;
        }
        struct timed interp = {c, prog, &fast};
        struct timed native = {c, NULL, NULL};
        double interp_ns = time_per_call(&interp, min_ms * 1000000u);
        double native_ns = time_per_call(&native, min_ms * 1000000u);
        double per_insn = interp_ns / (double)counted.insns_executed;
        if (per_insn > worst)
            worst = per_insn;
        printf("| %s (%s) | %" PRIu64 " | %.0f | %.0f | %.2f | %.1fx |\n", c->name, c->what,
               counted.insns_executed, interp_ns, native_ns, per_insn, interp_ns / native_ns);
    }
    if (!quick && status == 0)
        printf("\ntarget <= 1.00 ns per executed instruction: %s (worst %.2f ns)\n", worst <= 1.0 ? "met" : "NOT met",
               worst);
    ebpfvm_vm_destroy(vm);
    return status;
}
