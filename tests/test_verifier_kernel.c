/*
 * tests/test_verifier_kernel.c - the verifier against the Linux kernel's:
 * the same bytecode, as an XDP program, through ebpfvm_prog_load +
 * ebpfvm_prog_verify and through BPF_PROG_LOAD (the bpf() syscall, maps
 * created with the same definitions). Verdicts must agree, and for a
 * rejection ebpfvm's message must contain the kernel's reason (its last
 * log line before the summary).
 *
 * Only programs on which the two policies agree are listed: ebpfvm is
 * stricter than the kernel for root in places (uninitialised stack reads,
 * pointers stored in maps) on purpose; docs/verifier.md lists those.
 * Skips, saying why, when bpf() is not available (not root, no kernel
 * support, seccomp).
 */
#define _GNU_SOURCE /* syscall() */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "insn.h"

enum { MAP_ARRAY = 0, MAP_HASH = 1, MAP_RINGBUF = 2, NMAPS = 3 };

static const struct ebpfvm_map_def map_defs[NMAPS] = {
    {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "arr", -1},
    {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_HASH, 4, 16, 8, 0, "hash", -1},
    {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_RINGBUF, 0, 0, 4096, 0, "rb", -1},
};

static long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int kernel_map_fds[NMAPS];
static char klog[1 << 20];

static bool kernel_available(char *why, size_t size)
{
    for (int i = 0; i < NMAPS; i++) {
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.map_type = (uint32_t)map_defs[i].type;
        a.key_size = map_defs[i].key_size;
        a.value_size = map_defs[i].value_size;
        a.max_entries = map_defs[i].max_entries;
        long fd = sys_bpf(BPF_MAP_CREATE, &a);
        if (fd < 0) {
            snprintf(why, size, "bpf(BPF_MAP_CREATE) failed: %s", strerror(errno));
            return false;
        }
        kernel_map_fds[i] = (int)fd;
    }
    return true;
}

/* Load into the kernel: 1 accepted, 0 rejected (reason in *reason). */
static int kernel_verdict(const struct ebpf_insn *insns, size_t n, char *reason, size_t size)
{
    struct ebpf_insn copy[256];
    cr_assert_leq(n, 256);
    memcpy(copy, insns, n * sizeof *insns);
    for (size_t i = 0; i + 1 < n; i++)
        if (copy[i].opcode == (EBPF_CLASS_LD | EBPF_SIZE_DW | EBPF_MODE_IMM) && copy[i].src_reg == EBPF_PSEUDO_MAP_FD) {
            copy[i].imm = kernel_map_fds[copy[i].imm];
            i++;
        }
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_XDP;
    a.insns = (uint64_t)(uintptr_t)copy;
    a.insn_cnt = (uint32_t)n;
    a.license = (uint64_t)(uintptr_t)"GPL";
    a.log_buf = (uint64_t)(uintptr_t)klog;
    a.log_size = sizeof klog;
    a.log_level = 1;
    klog[0] = '\0';
    long fd = sys_bpf(BPF_PROG_LOAD, &a);
    if (fd >= 0) {
        close((int)fd);
        return 1;
    }
    /* The reason: the last line that is not the summary or a state dump
     * ("cur state:", "old state:" after "infinite loop detected"). */
    reason[0] = '\0';
    char *start = NULL, *end = NULL;
    for (char *line = klog; *line;) {
        char *nl = strchr(line, '\n');
        char *stop = nl ? nl : line + strlen(line);
        if (stop > line && strncmp(line, "processed ", 10) != 0 && strncmp(line, "cur state:", 10) != 0 &&
            strncmp(line, "old state:", 10) != 0 && strncmp(line, "verification time", 17) != 0 &&
            strncmp(line, "stack depth", 11) != 0) {
            start = line;
            end = stop;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    if (!start)
        return 0;
    size_t len = (size_t)(end - start) < size - 1 ? (size_t)(end - start) : size - 1;
    memcpy(reason, start, len);
    reason[len] = '\0';
    return 0;
}

static int ebpfvm_verdict(const struct ebpf_insn *insns, size_t n, char *msg, size_t size)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0);
    for (int i = 0; i < NMAPS; i++) {
        int fd;
        cr_assert_eq(ebpfvm_map_create(vm, &map_defs[i], &fd), 0);
    }
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_XDP};
    ebpfvm_prog *prog = NULL;
    int err = ebpfvm_prog_load(vm, insns, n, &lo, &prog);
    if (!err)
        err = ebpfvm_prog_verify(prog, NULL);
    snprintf(msg, size, "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
    return err == 0;
}

struct kcase {
    const char *name;
    struct ebpf_insn insns[40]; /* zero-padded after the final exit */
};

#define KCASE(nm, ...) {nm, {__VA_ARGS__}}

/* The program's length: up to its last non-zero word (an exit). */
static size_t kcase_len(const struct kcase *c)
{
    size_t n = 40;
    while (n > 0 && c->insns[n - 1].opcode == 0 && c->insns[n - 1].imm == 0 && c->insns[n - 1].off == 0)
        n--;
    return n;
}

#define LOOKUP_ARRAY                                                                                          \
    EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4),              \
        EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_CALL_HELPER(1)
#define XDP_PROLOGUE EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 0), EBPF_LDX_MEM(EBPF_SIZE_W, 3, 1, 4)

/* r1 = an unknown u32 from the context, then the four words given, then
 * r0 = map value + r1 and a byte load from it (the jump out of the four
 * words to `return 1` is +5 from the third, +4 from the fourth). */
#define LINKED_INDEX(...)                                                                                     \
    EBPF_MOV64_REG(6, 1), LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 9), EBPF_LDX_MEM(EBPF_SIZE_W, 1, 6, 16), \
        __VA_ARGS__, EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0), EBPF_MOV64_IMM(0, 2), \
        EBPF_EXIT(), EBPF_MOV64_IMM(0, 1), EBPF_EXIT()

static const struct kcase cases[] = {
    KCASE("trivial", EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    /* Linked scalars: r1 = r3 + c bounded through r3 (64- and 32-bit adds,
     * subtraction), and the ways a link is not made. */
    KCASE("linked_add64", LINKED_INDEX(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 2),
                                       EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 5), EBPF_MOV64_IMM(2, 0))),
    KCASE("linked_add64_too_far", LINKED_INDEX(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 2),
                                               EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 6, 5), EBPF_MOV64_IMM(2, 0))),
    KCASE("linked_add32", LINKED_INDEX(EBPF_MOV64_REG(3, 1), EBPF_ALU32_IMM(EBPF_ALU_ADD, 1, 2),
                                       EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 5), EBPF_MOV64_IMM(2, 0))),
    KCASE("linked_sub", LINKED_INDEX(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_SUB, 3, 3),
                                     EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 4, 5), EBPF_MOV64_IMM(2, 0))),
    KCASE("linked_two_adds", LINKED_INDEX(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 1),
                                          EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 1), EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 4))),
    KCASE("linked_add32_wide", LINKED_INDEX(EBPF_ALU64_IMM(EBPF_ALU_LSH, 1, 4), EBPF_MOV64_REG(3, 1),
                                            EBPF_ALU32_IMM(EBPF_ALU_ADD, 1, 2), EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 4))),
    /* may_goto loops (0xe5): an unknown counter converges, an unchecked
     * constant one is widened, a checked one runs into the bound, a jump
     * to itself is an infinite loop. */
    KCASE("may_goto_unknown_counter", EBPF_CALL_HELPER(7), EBPF_MOV64_REG(6, 0), EBPF_MAY_GOTO(2),
          EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 1), EBPF_JA(-3), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("may_goto_widened_counter", EBPF_MOV64_IMM(6, 0), EBPF_MAY_GOTO(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 1),
          EBPF_JA(-3), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("may_goto_index_overflow", LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 7), EBPF_MOV64_IMM(6, 0),
          EBPF_MAY_GOTO(5), EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 1), EBPF_MOV64_REG(7, 0),
          EBPF_ALU64_REG(EBPF_ALU_ADD, 7, 6), EBPF_LDX_MEM(EBPF_SIZE_B, 1, 7, 0), EBPF_JA(-6), EBPF_MOV64_IMM(0, 2),
          EBPF_EXIT()),
    KCASE("may_goto_self", EBPF_MOV64_IMM(0, 0), EBPF_MAY_GOTO(-1), EBPF_EXIT()),
    /* Widening: an accumulator tested only after the loop converges; a
     * counter that decides a branch stays exact (the write behind r6 > 5
     * is never reached). */
    KCASE("may_goto_accumulator", EBPF_MOV64_IMM(6, 0), EBPF_MAY_GOTO(3), EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 16),
          EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 2), EBPF_JA(-4), EBPF_ALU64_IMM(EBPF_ALU_AND, 6, 1),
          EBPF_JMP_IMM(EBPF_JMP_JEQ, 6, 0, 2), EBPF_MOV64_IMM(0, 1), EBPF_EXIT(), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("may_goto_counter_exact", EBPF_MOV64_IMM(6, 0), EBPF_MAY_GOTO(6), EBPF_JMP_IMM(EBPF_JMP_JEQ, 6, 3, 1),
          EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 1), EBPF_JMP_IMM(EBPF_JMP_JLE, 6, 5, 2), EBPF_MOV64_REG(1, 10),
          EBPF_ST_MEM(EBPF_SIZE_DW, 1, -600, 0), EBPF_JA(-7), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    /* (bpf_loop is compared on tests/xdp/loop_callback.c, test_xdp_kernel:
     * the kernel wants BTF func_info for a callback, which raw bytecode
     * lacks - "missing btf func_info"; ebpfvm does not ask for it.) */
    KCASE("eth_proto", XDP_PROLOGUE, EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14),
          EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 4), EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 12),
          EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 8, 2), EBPF_MOV64_IMM(0, 1), EBPF_EXIT(), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("pkt_end_first", XDP_PROLOGUE, EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14),
          EBPF_JMP_REG(EBPF_JMP_JLT, 3, 4, 2), EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 12), EBPF_MOV64_IMM(0, 2),
          EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("pkt_out_of_range", XDP_PROLOGUE, EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14),
          EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 2), EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 13), EBPF_MOV64_IMM(0, 2),
          EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("pkt_wrong_branch", XDP_PROLOGUE, EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14),
          EBPF_JMP_REG(EBPF_JMP_JLE, 4, 3, 2), EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 12), EBPF_MOV64_IMM(0, 2),
          EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("pkt_var_offset", XDP_PROLOGUE, EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 1),
          EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 8), EBPF_LDX_MEM(EBPF_SIZE_B, 5, 2, 0), EBPF_ALU64_IMM(EBPF_ALU_AND, 5, 0x3f),
          EBPF_MOV64_REG(6, 2), EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 5), EBPF_MOV64_REG(7, 6),
          EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, 4), EBPF_JMP_REG(EBPF_JMP_JGT, 7, 3, 1), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 6, 0),
          EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("pkt_var_unchecked", XDP_PROLOGUE, EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 8),
          EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 5), EBPF_LDX_MEM(EBPF_SIZE_B, 5, 2, 0), EBPF_ALU64_IMM(EBPF_ALU_AND, 5, 3),
          EBPF_MOV64_REG(6, 2), EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 5), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 6, 0),
          EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("map_null_checked", LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0),
          EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    /* (A lookup in an array with a constant key in range is never NULL for
     * the kernel; a hash lookup may be.) */
    KCASE("map_no_null_check", EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_MOV64_REG(2, 10),
          EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_LD_MAP_FD(1, MAP_HASH), EBPF_CALL_HELPER(1),
          EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("map_value_past_end", LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1),
          EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 8), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("map_index_masked", EBPF_MOV64_REG(6, 1), LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5),
          EBPF_LDX_MEM(EBPF_SIZE_W, 1, 6, 16), EBPF_ALU64_IMM(EBPF_ALU_AND, 1, 7), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1),
          EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("map_index_too_wide", EBPF_MOV64_REG(6, 1), LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5),
          EBPF_LDX_MEM(EBPF_SIZE_W, 1, 6, 16), EBPF_ALU64_IMM(EBPF_ALU_AND, 1, 15), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1),
          EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("map_index_jmp32", EBPF_MOV64_REG(6, 1), LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 6),
          EBPF_LDX_MEM(EBPF_SIZE_W, 1, 6, 16), EBPF_JMP32_IMM(EBPF_JMP_JGT, 1, 7, 4), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1),
          EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0), EBPF_MOV64_IMM(0, 2), EBPF_EXIT(), EBPF_MOV64_IMM(0, 1), EBPF_EXIT()),
    KCASE("bounded_loop", EBPF_MOV64_IMM(1, 0), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 1), EBPF_JMP_IMM(EBPF_JMP_JLT, 1, 10, -2),
          EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("infinite_loop", EBPF_MOV64_IMM(0, 0), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, -1), EBPF_EXIT()),
    KCASE("uninit_reg", EBPF_MOV64_REG(0, 2), EBPF_EXIT()),
    KCASE("scalar_deref", EBPF_MOV64_IMM(2, 0), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 2, 0), EBPF_EXIT()),
    KCASE("ptr_and", EBPF_ALU64_IMM(EBPF_ALU_AND, 1, 3), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("ptr_alu32", EBPF_ALU32_IMM(EBPF_ALU_ADD, 1, 3), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("pkt_end_arith", XDP_PROLOGUE, EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, 3), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("stack_oob", EBPF_ST_MEM(EBPF_SIZE_DW, 10, -520, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("stack_misaligned", EBPF_ST_MEM(EBPF_SIZE_DW, 10, -7, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("spill_size", EBPF_STX_MEM(EBPF_SIZE_W, 10, 1, -8), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("fill_size", EBPF_STX_MEM(EBPF_SIZE_DW, 10, 1, -8), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 10, -8),
          EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("ctx_bad_off", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, 2), EBPF_EXIT()),
    KCASE("ctx_modified", EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 4), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, 0), EBPF_EXIT()),
    KCASE("unreachable", EBPF_MOV64_IMM(0, 0), EBPF_EXIT(), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()),
    KCASE("div_by_zero", EBPF_MOV64_IMM(0, 0), EBPF_ALU64_IMM(EBPF_ALU_DIV, 0, 0), EBPF_EXIT()),
    KCASE("ringbuf", EBPF_LD_MAP_FD(1, MAP_RINGBUF), EBPF_MOV64_IMM(2, 8), EBPF_MOV64_IMM(3, 0), EBPF_CALL_HELPER(131),
          EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5), EBPF_ST_MEM(EBPF_SIZE_DW, 0, 0, 7), EBPF_MOV64_REG(1, 0),
          EBPF_MOV64_IMM(2, 0), EBPF_CALL_HELPER(132), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("ringbuf_leak", EBPF_LD_MAP_FD(1, MAP_RINGBUF), EBPF_MOV64_IMM(2, 8), EBPF_MOV64_IMM(3, 0),
          EBPF_CALL_HELPER(131), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1), EBPF_ST_MEM(EBPF_SIZE_DW, 0, 0, 7),
          EBPF_MOV64_IMM(0, 2), EBPF_EXIT()),
    KCASE("local_call", EBPF_MOV64_IMM(6, 5), EBPF_CALL_LOCAL(3), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 6),
          EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3), EBPF_EXIT(), EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 0),
          EBPF_LDX_MEM(EBPF_SIZE_W, 3, 1, 4), EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14),
          EBPF_MOV64_IMM(0, 1), EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 1), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 2, 13), EBPF_EXIT()),
    KCASE("callee_reads_callers_reg", EBPF_MOV64_IMM(6, 1), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_MOV64_REG(0, 6),
          EBPF_EXIT()),
    KCASE("return_stack_pointer", EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(), EBPF_MOV64_REG(0, 10),
          EBPF_EXIT()),
    KCASE("helper_arg_not_map", EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_MOV64_REG(2, 10),
          EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_MOV64_REG(1, 10), EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0),
          EBPF_EXIT()),
};

Test(verifier_kernel, same_verdicts_as_linux)
{
    char why[256];
    if (geteuid() != 0 || !kernel_available(why, sizeof why)) {
        cr_skip_test("the kernel verifier is not available: %s",
                     geteuid() != 0 ? "not running as root" : why);
    }
    int compared = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct kcase *c = &cases[i];
        char kreason[512], msg[512];
        size_t n = kcase_len(c);
        int k = kernel_verdict(c->insns, n, kreason, sizeof kreason);
        int e = ebpfvm_verdict(c->insns, n, msg, sizeof msg);
        cr_expect_eq(e, k, "%s: kernel %s (%s), ebpfvm %s (%s)", c->name, k ? "accepts" : "rejects", kreason,
                     e ? "accepts" : "rejects", msg);
        if (!k && !e)
            cr_expect(strstr(msg, kreason), "%s: ebpfvm's reason '%s' lacks the kernel's '%s'", c->name, msg,
                      kreason);
        compared++;
    }
    cr_expect_eq(compared, (int)(sizeof cases / sizeof cases[0]));
    for (int i = 0; i < NMAPS; i++)
        close(kernel_map_fds[i]);
}
