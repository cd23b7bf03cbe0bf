/*
 * tests/test_verifier_spill.c - scalar spills and fills of every size
 * (verifier/check_mem.c), as the kernel's check_stack_write_fixed_off /
 * check_stack_read_fixed_off do for a privileged loader:
 *   - a scalar stored with 1, 2, 4 or 8 bytes at a slot's first byte keeps
 *     its state, and a load of at most that many bytes from there gets it
 *     back (truncated to the load);
 *   - the spill shares the stored register's id when the value fits the
 *     store, the fill keeps it when the value fits the load: a branch on
 *     one bounds the other; a narrowing store or load breaks the link;
 *   - any other store into the slot (another offset, an atomic) breaks
 *     the spill; loads from another offset or wider than the spill give an
 *     unknown scalar; pointers are spilled and filled whole only;
 *   - pruning and precision stay sound (accepted programs run in checked
 *     mode without a fault).
 * Programs are MEMORY ones: r1 points to 64 bytes; r3 as an offset into
 * them must be proven below 64.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>

#include "insn.h"

#define MEM EBPFVM_PROG_TYPE_MEMORY
#define MEM_SIZE 64

static char vlog[1 << 20];
static uint32_t verify_flags;

static const char *log_tail(void)
{
    size_t n = strlen(vlog);
    return n > 3000 ? vlog + n - 3000 : vlog;
}

static ebpfvm_prog *load(ebpfvm_vm **vmp, const struct ebpf_insn *insns, size_t n, int *status)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = MEM, .name = "t"};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, insns, n, &lo, &prog), 0, "load failed: %s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 2, .log_buf = vlog, .log_size = sizeof vlog,
                                    .mem_size = MEM_SIZE, .flags = verify_flags};
    vlog[0] = '\0';
    *status = ebpfvm_prog_verify(prog, &vo);
    *vmp = vm;
    return prog;
}

static void expect_accept(const struct ebpf_insn *insns, size_t n)
{
    ebpfvm_vm *vm;
    int status;
    ebpfvm_prog *prog = load(&vm, insns, n, &status);
    cr_assert_eq(status, 0, "rejected: %s\nlog:\n%s", ebpfvm_vm_errmsg(vm), log_tail());
    for (unsigned i = 0; i < 8; i++) {
        unsigned char buf[MEM_SIZE];
        for (size_t k = 0; k < sizeof buf; k++)
            buf[k] = (unsigned char)(k * 37 + i * 101 + (i & 1 ? 0x80 : 0));
        struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED, .insn_budget = 1000000};
        struct ebpfvm_run_result res;
        int err = ebpfvm_prog_run(prog, buf, sizeof buf, &ro, &res);
        cr_assert_eq(err, 0, "accepted program faulted in checked mode (input %u): %s", i, res.message);
    }
    ebpfvm_vm_destroy(vm);
}

static void expect_reject(const struct ebpf_insn *insns, size_t n, const char *text)
{
    ebpfvm_vm *vm;
    int status;
    ebpfvm_prog *prog = load(&vm, insns, n, &status);
    cr_assert_eq(status, EBPFVM_ERR_VERIFY, "status %d (%s)\nlog:\n%s", status, ebpfvm_vm_errmsg(vm), log_tail());
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), text), "message '%s' lacks '%s'\nlog:\n%s", ebpfvm_vm_errmsg(vm), text,
              log_tail());
    cr_assert(!ebpfvm_prog_is_verified(prog));
    ebpfvm_vm_destroy(vm);
}

#define ACCEPT(...)                                                                                            \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_accept(p_, EBPF_NWORDS(p_));                                                                    \
    } while (0)
#define REJECT(text, ...)                                                                                      \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_reject(p_, EBPF_NWORDS(p_), text);                                                              \
    } while (0)

#define B EBPF_SIZE_B
#define H EBPF_SIZE_H
#define W EBPF_SIZE_W
#define DW EBPF_SIZE_DW

/* r6 = the memory, r2 = an unknown 64-bit number read from it. */
#define PRE EBPF_MOV64_REG(6, 1), EBPF_LDX_MEM(DW, 2, 6, 0)
/* Read the memory at r6 + r3 and return. */
#define USE_R3 EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 3), EBPF_LDX_MEM(B, 0, 6, 0), EBPF_EXIT()
#define UNBOUNDED "R6 unbounded memory access"
#define MAXOUT "R6 max value is outside of the allowed memory range"
#define UNKNOWN64 "math between mem pointer and register with unbounded min value is not allowed"

/* ------------------------------------------------ state kept */

Test(verifier_spill, narrow_spill_keeps_bounds)
{
    static const uint8_t sizes[] = {B, H, W, DW};
    for (unsigned i = 0; i < 4; i++) {
        ACCEPT(PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(sizes[i], 10, 2, -16),
               EBPF_LDX_MEM(sizes[i], 3, 10, -16), USE_R3);
        /* Narrower fills of it too. */
        ACCEPT(PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(sizes[i], 10, 2, -16),
               EBPF_LDX_MEM(B, 3, 10, -16), USE_R3);
    }
    /* A constant stored by ST. */
    ACCEPT(PRE, EBPF_ST_MEM(H, 10, -8, 40), EBPF_LDX_MEM(B, 3, 10, -8), USE_R3);
    ACCEPT(PRE, EBPF_ST_MEM(W, 10, -8, -1), EBPF_LDX_MEM(H, 3, 10, -8), EBPF_ALU64_IMM(EBPF_ALU_RSH, 3, 10),
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 3, 63, 1), EBPF_LDX_MEM(DW, 0, 9, 0), USE_R3);
}

/* A fill is truncated to its size (the kernel's fill_32bit_after_spill_64bit). */
Test(verifier_spill, fill_truncates)
{
    ACCEPT(PRE, EBPF_ALU64_IMM(EBPF_ALU_LSH, 2, 32), EBPF_ALU64_IMM(EBPF_ALU_OR, 2, 7),
           EBPF_STX_MEM(DW, 10, 2, -8), EBPF_LDX_MEM(W, 3, 10, -8), EBPF_JMP_IMM(EBPF_JMP_JEQ, 3, 7, 1),
           EBPF_LDX_MEM(DW, 0, 9, 0), USE_R3);
}

/* Spill and source share an id when the value fits the store. */
Test(verifier_spill, spill_links_source)
{
    static const uint8_t sizes[] = {B, H, W, DW};
    for (unsigned i = 0; i < 4; i++)
        ACCEPT(PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 0x7f), EBPF_STX_MEM(sizes[i], 10, 2, -8),
               EBPF_JMP_IMM(EBPF_JMP_JGT, 2, 63, 4), EBPF_LDX_MEM(sizes[i], 3, 10, -8), USE_R3,
               EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* And the other way: a branch on the fill bounds the source. */
    ACCEPT(PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 0xffff), EBPF_STX_MEM(W, 10, 2, -8),
           EBPF_LDX_MEM(W, 4, 10, -8), EBPF_JMP_IMM(EBPF_JMP_JGT, 4, 63, 4), EBPF_MOV64_REG(3, 2), USE_R3,
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* A 64-bit spill of a 32-bit value, filled with 32 bits, stays linked. */
    ACCEPT(PRE, EBPF_MOV32_REG(2, 2), EBPF_STX_MEM(DW, 10, 2, -8), EBPF_LDX_MEM(W, 4, 10, -8),
           EBPF_JMP_IMM(EBPF_JMP_JGT, 4, 63, 4), EBPF_MOV64_REG(3, 2), USE_R3, EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* A value wider than the store or the load is another number there: no
 * link (the kernel's spill_32bit_of_64bit_fail, fill_32bit_after_spill_64bit_clear_id). */
Test(verifier_spill, narrowing_breaks_link)
{
    /* Narrowing spill: bounding the source says nothing of the spill. */
    REJECT(UNBOUNDED, PRE, EBPF_STX_MEM(W, 10, 2, -8), EBPF_JMP_IMM(EBPF_JMP_JGT, 2, 63, 5),
           EBPF_LDX_MEM(W, 3, 10, -8), EBPF_ALU64_IMM(EBPF_ALU_RSH, 3, 1), USE_R3, EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT());
    /* Narrowing fill: bounding the fill says nothing of the source. */
    REJECT(UNKNOWN64, PRE, EBPF_STX_MEM(DW, 10, 2, -8), EBPF_LDX_MEM(W, 4, 10, -8),
           EBPF_JMP_IMM(EBPF_JMP_JGT, 4, 63, 4), EBPF_MOV64_REG(3, 2), USE_R3, EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(MAXOUT, PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 0x1ff), EBPF_STX_MEM(H, 10, 2, -8),
           EBPF_LDX_MEM(B, 4, 10, -8), EBPF_JMP_IMM(EBPF_JMP_JGT, 4, 63, 4), EBPF_MOV64_REG(3, 2), USE_R3,
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* Sign-extending fills: exact for constants, linked only below the sign bit. */
Test(verifier_spill, sign_extending_fill)
{
    ACCEPT(PRE, EBPF_MOV64_IMM(2, 0x80), EBPF_STX_MEM(B, 10, 2, -8), EBPF_LDXS_MEM(B, 3, 10, -8),
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 3, -128, 1), EBPF_LDX_MEM(DW, 0, 9, 0), EBPF_MOV64_IMM(3, 0), USE_R3);
    ACCEPT(PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 0x7f), EBPF_STX_MEM(W, 10, 2, -8), EBPF_LDXS_MEM(B, 4, 10, -8),
           EBPF_JMP_IMM(EBPF_JMP_JGT, 4, 63, 4), EBPF_MOV64_REG(3, 2), USE_R3, EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* 0x80..0xff sign-extends to negative numbers: no link to the source
     * (linked, r2 in 192..255 would make r4 - 192 look like 0..63). */
    REJECT("R6 min value is negative", PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 0xff), EBPF_STX_MEM(B, 10, 2, -8),
           EBPF_LDXS_MEM(B, 4, 10, -8), EBPF_JMP_IMM(EBPF_JMP_JLT, 2, 192, 5), EBPF_MOV64_REG(3, 4),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -192), USE_R3, EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* Bytes of a spilled zero read as zero from any offset. */
Test(verifier_spill, spilled_zero_bytes)
{
    ACCEPT(PRE, EBPF_MOV64_IMM(2, 0), EBPF_STX_MEM(W, 10, 2, -8), EBPF_LDX_MEM(H, 3, 10, -6),
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 3, 0, 1), EBPF_LDX_MEM(DW, 0, 9, 0), USE_R3);
}

/* ------------------------------------------------ state lost */

/* Only a load at the spill's first byte, no wider than it, fills it. */
Test(verifier_spill, other_loads_give_unknown)
{
    /* Wider than the spill. */
    REJECT(UNKNOWN64, PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(W, 10, 2, -8),
           EBPF_LDX_MEM(DW, 3, 10, -8), USE_R3);
    /* Another offset of the slot (the kernel's _6_offset_to_skb_data). */
    REJECT(UNBOUNDED, PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(DW, 10, 2, -8),
           EBPF_LDX_MEM(W, 3, 10, -4), USE_R3);
    REJECT(MAXOUT, PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(W, 10, 2, -8),
           EBPF_LDX_MEM(H, 3, 10, -6), USE_R3);
    /* A store at another offset is data, not a spill. */
    REJECT(UNBOUNDED, PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(W, 10, 2, -4),
           EBPF_LDX_MEM(W, 3, 10, -4), USE_R3);
}

/* Any other write into the slot breaks the spill. */
Test(verifier_spill, writes_break_spill)
{
    /* The kernel's addr_offset_to_skb_data. */
    REJECT(UNBOUNDED, PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(W, 10, 2, -8),
           EBPF_STX_MEM(W, 10, 2, -4), EBPF_LDX_MEM(W, 3, 10, -8), USE_R3);
    REJECT(MAXOUT, PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(DW, 10, 2, -8),
           EBPF_ST_MEM(B, 10, -1, 0), EBPF_LDX_MEM(B, 3, 10, -8), USE_R3);
    /* An atomic changes the value. */
    REJECT(UNBOUNDED, PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(W, 10, 2, -8),
           EBPF_MOV64_IMM(4, 0x7fffffff), EBPF_ATOMIC_OP(W, EBPF_ATOMIC_ADD, 10, 4, -8), EBPF_LDX_MEM(W, 3, 10, -8),
           USE_R3);
    /* A narrower spill over a wider one keeps only its own bytes. */
    REJECT(UNBOUNDED, PRE, EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), EBPF_STX_MEM(DW, 10, 2, -8),
           EBPF_STX_MEM(H, 10, 2, -8), EBPF_LDX_MEM(W, 3, 10, -8), USE_R3);
    /* A narrow scalar store over a spilled pointer (the kernel's
     * check_corrupted_spill_fill_lsb): a scalar spill now. */
    ACCEPT(PRE, EBPF_STX_MEM(DW, 10, 6, -8), EBPF_ST_MEM(H, 10, -8, 5), EBPF_LDX_MEM(H, 3, 10, -8), USE_R3);
    ACCEPT(PRE, EBPF_STX_MEM(DW, 10, 6, -8), EBPF_ST_MEM(W, 10, -4, 5), EBPF_LDX_MEM(DW, 0, 10, -8),
           EBPF_EXIT());
}

/* ------------------------------------------------ rejections */

Test(verifier_spill, pointers_whole_only)
{
    REJECT("invalid size of register spill", PRE, EBPF_STX_MEM(W, 10, 6, -8), EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT());
    REJECT("invalid size of register fill", PRE, EBPF_STX_MEM(DW, 10, 6, -8), EBPF_LDX_MEM(W, 0, 10, -8),
           EBPF_EXIT());
    REJECT("invalid size of register fill", PRE, EBPF_STX_MEM(DW, 10, 6, -8), EBPF_LDX_MEM(W, 0, 10, -4),
           EBPF_EXIT());
    REJECT("invalid size of register fill", PRE, EBPF_STX_MEM(DW, 10, 6, -8), EBPF_LDX_MEM(B, 0, 10, -1),
           EBPF_EXIT());
}

/* EBPFVM_VERIFY_STRICT: the bytes of a slot a narrow spill leaves
 * uninitialised stay unreadable. */
Test(verifier_spill, strict_uninit_rest_of_slot)
{
    verify_flags = EBPFVM_VERIFY_STRICT;
    REJECT("invalid read from stack off -8+4 size 8", PRE, EBPF_MOV64_IMM(2, 1), EBPF_STX_MEM(W, 10, 2, -8),
           EBPF_LDX_MEM(DW, 0, 10, -8), EBPF_EXIT());
    REJECT("invalid read from stack off -2+0 size 2", PRE, EBPF_MOV64_IMM(2, 1), EBPF_STX_MEM(W, 10, 2, -8),
           EBPF_LDX_MEM(H, 0, 10, -6), EBPF_MOV64_IMM(0, 0), EBPF_LDX_MEM(H, 0, 10, -2), EBPF_EXIT());
    /* A byte a narrow spill overwrote stays initialised. */
    ACCEPT(PRE, EBPF_STX_MEM(DW, 10, 2, -8), EBPF_MOV64_IMM(2, 1), EBPF_STX_MEM(B, 10, 2, -8),
           EBPF_LDX_MEM(DW, 0, 10, -8), EBPF_EXIT());
}

/* Writes into r10 (now the verifier's to refuse, vm/validate.c). */
Test(verifier_spill, frame_pointer_read_only)
{
    REJECT("frame pointer is read only", PRE, EBPF_LDX_MEM(DW, 10, 6, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT("frame pointer is read only", PRE, EBPF_ST_MEM(DW, 10, -8, 0),
           EBPF_ATOMIC_OP(DW, EBPF_ATOMIC_XCHG, 10, 10, -8), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* ------------------------------------------------ pruning */

/*
 * Two paths join (insn JOIN_AT) with different spills in fp-8: r2 is
 * 0..63, r7 unknown, r5's low bit picks the path. The first path explored
 * is accepted; the second must not be pruned against its checkpoint.
 */
#define PAD EBPF_MOV64_IMM(0, 0)
#define JOIN(a, b, ...)                                                                                        \
    PRE, EBPF_MOV64_REG(7, 2), EBPF_MOV64_REG(5, 2), EBPF_ALU64_IMM(EBPF_ALU_AND, 5, 1),                       \
        EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 63), PAD, PAD, PAD, PAD, PAD, PAD, PAD, PAD,                           \
        EBPF_JMP_IMM(EBPF_JMP_JEQ, 5, 0, 10), a, PAD, PAD, PAD, PAD, PAD, PAD, PAD, PAD, EBPF_JA(1), b,        \
        EBPF_MOV64_IMM(5, 0), __VA_ARGS__
#define JOIN_AT 26

static void expect_pruned(void)
{
    char at[32];
    snprintf(at, sizeof at, "%d: safe", JOIN_AT);
    cr_assert(strstr(vlog, at), "no pruning at %d:\n%s", JOIN_AT, log_tail());
}

Test(verifier_spill, pruning)
{
    /* Sound pruning: a 4-byte spill of 0..63 covers an 8-byte one. */
    ACCEPT(JOIN(EBPF_STX_MEM(W, 10, 2, -8), EBPF_STX_MEM(DW, 10, 2, -8), EBPF_LDX_MEM(W, 3, 10, -8), USE_R3));
    expect_pruned();
    /* Bounds compared: 0..63 (4 bytes) does not cover r7 (8 bytes). */
    REJECT(UNBOUNDED, JOIN(EBPF_STX_MEM(W, 10, 2, -8), EBPF_STX_MEM(DW, 10, 7, -8), EBPF_LDX_MEM(W, 3, 10, -8),
                           USE_R3));
    /* An 8-byte spill does not cover a 4-byte one (its upper bytes). */
    REJECT(UNKNOWN64, JOIN(EBPF_STX_MEM(DW, 10, 2, -8), EBPF_STX_MEM(W, 10, 2, -8), EBPF_LDX_MEM(DW, 3, 10, -8),
                           USE_R3));
    /* 1 byte of 0..63 does not cover 2 bytes of 0..0xffff. */
    REJECT(MAXOUT, JOIN(EBPF_STX_MEM(B, 10, 2, -8), EBPF_STX_MEM(H, 10, 7, -8), EBPF_LDX_MEM(B, 3, 10, -8), USE_R3));
}
