/*
 * tests/test_verifier_progs.c - the verifier on whole programs: every
 * rejection class with its message, tricky programs it must accept, and
 * soundness: every accepted program runs in the checked interpreter
 * (EBPFVM_EXEC_CHECKED) on several packets / buffers without a fault.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "insn.h"
#include "vm/internal.h"

#define XDP EBPFVM_PROG_TYPE_XDP
#define MEM EBPFVM_PROG_TYPE_MEMORY

/* Maps every test vm has. */
enum { MAP_ARRAY = 0, MAP_HASH = 1, MAP_RINGBUF = 2, MAP_WRONLY = 3, MAP_USER_RINGBUF = 4, MAP_RO_FROZEN = 5,
       MAP_RO_OPEN = 6 };

static char vlog[1 << 20];

/* ebpfvm_verify_opts.flags of every verification in the running test
 * (criterion runs each test in its own process). */
static uint32_t verify_flags;

/* The end of the log, for failure messages. */
static const char *log_tail(void)
{
    size_t n = strlen(vlog);
    return n > 3000 ? vlog + n - 3000 : vlog;
}

static ebpfvm_vm *new_vm(void)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_map_def defs[] = {
        {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "arr", -1},
        {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_HASH, 4, 16, 8, 0, "hash", -1},
        {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_RINGBUF, 0, 0, 4096, 0, "rb", -1},
        {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_ARRAY, 4, 8, 1, 0x100 /* BPF_F_WRONLY_PROG */, "wo", -1},
        {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_USER_RINGBUF, 0, 0, 4096, 0, "urb", -1},
        /* .rodata-like (BPF_F_RDONLY_PROG, one entry) holding 5: frozen, and not */
        {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_ARRAY, 4, 8, 1, 0x80, "ro_frozen", -1},
        {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_ARRAY, 4, 8, 1, 0x80, "ro_open", -1},
    };
    for (int i = 0; i < 7; i++) {
        int fd = -1;
        cr_assert_eq(ebpfvm_map_create(vm, &defs[i], &fd), 0, "%s", ebpfvm_vm_errmsg(vm));
        cr_assert_eq(fd, i);
    }
    uint32_t key = 0;
    uint64_t five = 5;
    for (int fd = MAP_RO_FROZEN; fd <= MAP_RO_OPEN; fd++)
        cr_assert_eq(ebpfvm_map_update(vm, fd, &key, &five, EBPFVM_ANY), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_map_freeze(vm, MAP_RO_FROZEN), 0);
    return vm;
}

struct outcome {
    int status;
    char msg[512];
};

/* Load and verify; the vm and program stay alive in *vmp / *progp. */
static struct outcome verify_in(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t n, enum ebpfvm_prog_type type,
                                uint32_t mem_size, uint32_t level, ebpfvm_prog **progp)
{
    struct outcome out = {0, ""};
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = type, .name = "t"};
    ebpfvm_prog *prog = NULL;
    int err = ebpfvm_prog_load(vm, insns, n, &lo, &prog);
    cr_assert_eq(err, 0, "load failed: %s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = level, .log_buf = vlog, .log_size = sizeof vlog,
                                    .mem_size = mem_size, .flags = verify_flags};
    vlog[0] = '\0';
    out.status = ebpfvm_prog_verify(prog, &vo);
    snprintf(out.msg, sizeof out.msg, "%s", ebpfvm_vm_errmsg(vm));
    *progp = prog;
    return out;
}

/*
 * Reject through the verifier's own context checks: the load-time rewrite
 * (vm/ctx_rewrite.c) already refuses these programs when they are loaded
 * as XDP, so load as MEMORY (no context fields) and then make the program
 * an XDP one before verifying.
 */
static void expect_reject_unrewritten(const struct ebpf_insn *insns, size_t n, const char *text)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    struct outcome o = verify_in(vm, insns, n, MEM, 0, 1, &prog);
    (void)o;
    prog->prog_type = EBPFVM_PROG_TYPE_XDP;
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 1, .log_buf = vlog, .log_size = sizeof vlog};
    int status = ebpfvm_prog_verify(prog, &vo);
    cr_assert_eq(status, EBPFVM_ERR_VERIFY, "status %d: %s\n%s", status, ebpfvm_vm_errmsg(vm), log_tail());
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), text), "message '%s' lacks '%s'", ebpfvm_vm_errmsg(vm), text);
    ebpfvm_vm_destroy(vm);
}

#define REJECT_CTX(text, ...)                                                                                  \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_reject_unrewritten(p_, EBPF_NWORDS(p_), text);                                                  \
    } while (0)

/* Run an accepted program in checked mode on a few inputs: no faults. */
static void run_checked(ebpfvm_prog *prog, enum ebpfvm_prog_type type, uint32_t mem_size)
{
    static const size_t lens[] = {14, 15, 34, 60, 64, 128, 1500};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED, .insn_budget = 10000000};
        struct ebpfvm_run_result res;
        int err;
        if (type == XDP) {
            static unsigned char frame[EBPFVM_XDP_FRAME_SIZE];
            unsigned char pkt[1500];
            for (size_t k = 0; k < sizeof pkt; k++)
                pkt[k] = (unsigned char)(k * 7 + i);
            struct ebpfvm_xdp_buff buff;
            cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, lens[i]), 0);
            err = ebpfvm_prog_run(prog, &buff, sizeof buff, &ro, &res);
            if (!err)
                cr_expect(res.r0 <= 4, "XDP verdict %llu out of range", (unsigned long long)res.r0);
        } else {
            unsigned char buf[4096];
            for (size_t k = 0; k < sizeof buf; k++)
                buf[k] = (unsigned char)(k * 13 + i);
            err = ebpfvm_prog_run(prog, buf, mem_size, &ro, &res);
        }
        cr_assert_eq(err, 0, "accepted program faulted in checked mode (input %zu): %s", i, res.message);
    }
}

static void expect_accept(const struct ebpf_insn *insns, size_t n, enum ebpfvm_prog_type type, uint32_t mem_size)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    struct outcome o = verify_in(vm, insns, n, type, mem_size, 2, &prog);
    cr_assert_eq(o.status, 0, "rejected: %s\nlog:\n%s", o.msg, log_tail());
    cr_assert(ebpfvm_prog_is_verified(prog));
    run_checked(prog, type, mem_size);
    ebpfvm_vm_destroy(vm);
}

static void expect_reject(const struct ebpf_insn *insns, size_t n, enum ebpfvm_prog_type type, uint32_t mem_size,
                          int status, const char *text)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    struct outcome o = verify_in(vm, insns, n, type, mem_size, 1, &prog);
    cr_assert_eq(o.status, status, "status %d (%s), want %d\nlog:\n%s", o.status, o.msg, status, log_tail());
    cr_assert(strstr(o.msg, text), "message '%s' lacks '%s'\nlog:\n%s", o.msg, text, log_tail());
    cr_assert(strstr(vlog, text), "log lacks '%s':\n%s", text, log_tail());
    cr_assert(!ebpfvm_prog_is_verified(prog));
    ebpfvm_vm_destroy(vm);
}

#define ACCEPT(type, mem, ...)                                                                                    \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_accept(p_, EBPF_NWORDS(p_), type, mem);                                                         \
    } while (0)
#define REJECT(type, mem, text, ...)                                                                              \
    do {                                                                                                       \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                                 \
        expect_reject(p_, EBPF_NWORDS(p_), type, mem, EBPFVM_ERR_VERIFY, text);                                \
    } while (0)

/* r2 = data, r3 = data_end (XDP prologue, 2 words). */
#define XDP_PROLOGUE EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 0), EBPF_LDX_MEM(EBPF_SIZE_W, 3, 1, 4)

/* --------------------------------------------------------- smoke */

Test(verifier_progs, trivial_accept)
{
    ACCEPT(XDP, 0, EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

Test(verifier_progs, uninit_register)
{
    REJECT(XDP, 0, "R2 !read_ok", EBPF_MOV64_REG(0, 2), EBPF_EXIT());
}

Test(verifier_progs, uninit_r0_at_exit)
{
    REJECT(XDP, 0, "R0 !read_ok", EBPF_EXIT());
}

/* ------------------------------------------------------ stack */

Test(verifier_progs, stack_uninit_read)
{
    /* Like Linux for root: an unknown scalar (ebpfvm zeroes the stack). */
    ACCEPT(XDP, 0, EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3), EBPF_EXIT());
    verify_flags = EBPFVM_VERIFY_STRICT;
    REJECT(XDP, 0, "invalid read from stack off -8+0 size 8", EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_EXIT());
}

/* Variable-offset stack accesses (Linux allows them for root): every byte
 * the offset may reach is checked and written bytes become unknown data. */
Test(verifier_progs, stack_variable_offset)
{
    /* r2 = (u8)ctx->rx_queue_index & 8; *(u64 *)(fp - 16 + r2) = 1; r0 = *(u64 *)(fp - 16 + r2) & 3 */
#define VAR_FP(reg) EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 16), EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 8), \
        EBPF_MOV64_REG(reg, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, reg, -16), EBPF_ALU64_REG(EBPF_ALU_ADD, reg, 2)
    ACCEPT(XDP, 0, VAR_FP(3), EBPF_ST_MEM(EBPF_SIZE_DW, 3, 0, 1), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 3, 0),
           EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3), EBPF_EXIT());
    /* fp-16+8+8 reaches fp+0. */
    REJECT(XDP, 0, "invalid variable-offset write to stack R3 var_off=(0x0; 0x8) off=-8 size=8", VAR_FP(3),
           EBPF_ST_MEM(EBPF_SIZE_DW, 3, 8, 1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* 8 bytes at fp-16+{0,8}+4 are misaligned. */
    REJECT(XDP, 0, "misaligned stack access var_off=(0x0; 0x8) off=-12 size=8", VAR_FP(3),
           EBPF_ST_MEM(EBPF_SIZE_DW, 3, 4, 1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* An unbounded offset is refused when it is added. */
    REJECT(XDP, 0, "value -2147483648 makes fp pointer be out of bounds", EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 16),
           EBPF_ALU64_IMM(EBPF_ALU_LSH, 2, 32), EBPF_ALU64_IMM(EBPF_ALU_ARSH, 2, 32), EBPF_MOV64_REG(3, 10), EBPF_ALU64_REG(EBPF_ALU_ADD, 3, 2),
           EBPF_LDX_MEM(EBPF_SIZE_B, 0, 3, -1), EBPF_EXIT());
    /* A pointer written at a variable offset is lost: the slot holds data. */
    REJECT(XDP, 0, "R0 invalid mem access 'scalar'", VAR_FP(3), EBPF_STX_MEM(EBPF_SIZE_DW, 3, 10, 0),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -16), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0), EBPF_EXIT());
    verify_flags = EBPFVM_VERIFY_STRICT;
    REJECT(XDP, 0, "R3 variable stack access prohibited, var_off=(0x0; 0x8)", VAR_FP(3),
           EBPF_ST_MEM(EBPF_SIZE_DW, 3, 0, 1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
#undef VAR_FP
}

Test(verifier_progs, stack_partially_init_read)
{
    verify_flags = EBPFVM_VERIFY_STRICT;
    REJECT(XDP, 0, "invalid read from stack off -8+4 size 8", EBPF_ST_MEM(EBPF_SIZE_W, 10, -8, 0),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_EXIT());
}

Test(verifier_progs, stack_write_out_of_bounds)
{
    REJECT(XDP, 0, "invalid write to stack R10 off=-520 size=8", EBPF_ST_MEM(EBPF_SIZE_DW, 10, -520, 0),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "invalid read from stack R10 off=0 size=4", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 10, 0), EBPF_EXIT());
}

Test(verifier_progs, stack_misaligned)
{
    REJECT(XDP, 0, "misaligned stack access off 0+0+-7 size 8", EBPF_ST_MEM(EBPF_SIZE_DW, 10, -7, 0),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

Test(verifier_progs, spill_fill_sizes)
{
    REJECT(XDP, 0, "invalid size of register spill", EBPF_STX_MEM(EBPF_SIZE_W, 10, 1, -8), EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT());
    REJECT(XDP, 0, "invalid size of register fill", EBPF_STX_MEM(EBPF_SIZE_DW, 10, 1, -8),
           EBPF_LDX_MEM(EBPF_SIZE_W, 0, 10, -8), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

Test(verifier_progs, spilled_scalar_keeps_bounds)
{
    /* r1 = 3, spilled and filled: still the constant 3, so the map value
     * access at 3 + 4 bytes is inside value_size 8. */
    ACCEPT(XDP, 0, EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4),
           EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_CALL_HELPER(1), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5),
           EBPF_MOV64_IMM(1, 3), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 1, -16), EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 10, -16),
           EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 0, 0), EBPF_MOV64_IMM(0, 2),
           EBPF_EXIT());
}

/* --------------------------------------------------------- ctx */

Test(verifier_progs, ctx_bad_field)
{
    REJECT_CTX("invalid bpf_context access off=2 size=4", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, 2), EBPF_EXIT());
    REJECT_CTX("invalid bpf_context access off=0 size=1", EBPF_LDX_MEM(EBPF_SIZE_B, 0, 1, 0), EBPF_EXIT());
    REJECT_CTX("invalid bpf_context access off=24 size=4", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, 24), EBPF_EXIT());
}

Test(verifier_progs, ctx_modified_pointer)
{
    REJECT_CTX("dereference of modified ctx ptr R1 off=4 disallowed", EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 4),
           EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, 0), EBPF_EXIT());
}

Test(verifier_progs, ctx_store)
{
    REJECT_CTX("invalid bpf_context access off=0 size=4", EBPF_ST_MEM(EBPF_SIZE_W, 1, 0, 3),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT_CTX("invalid bpf_context access off=0 size=4", EBPF_MOV64_IMM(2, 1),
           EBPF_STX_MEM(EBPF_SIZE_W, 1, 2, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

Test(verifier_progs, ctx_through_spill_and_rewrite)
{
    /* ctx spilled, filled, then read: the verified program reads the
     * runtime field (the rewrite) and returns rx_queue_index (0) + 2. */
    ACCEPT(XDP, 0, EBPF_STX_MEM(EBPF_SIZE_DW, 10, 1, -8), EBPF_MOV64_IMM(1, 0),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 6, 10, -8), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 6, 16), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 1),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 2), EBPF_EXIT());
}

Test(verifier_progs, same_insn_different_pointers)
{
    /* r3 is the ctx on one path and the stack on the other. */
    REJECT_CTX("same insn cannot be used with different pointers", EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 0),
           EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, 16), EBPF_MOV64_REG(3, 1), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 2),
           EBPF_MOV64_REG(3, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -8), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 3, 0),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

/* ------------------------------------------------------ packets */

/* r4 = data + 14 compared with data_end in every orientation; the access
 * r0 = *(u16 *)(r2 + 12) is placed on the branch where it is safe
 * (good = true) or on the other one. */
static void pkt_compare(unsigned op, bool end_first, bool good)
{
    /* Where the bytes are proven in bounds: the taken branch or not. */
    bool gt = op == EBPF_JMP_JGT || op == EBPF_JMP_JGE;
    bool safe_when_taken = end_first ? gt : !gt;
    bool access_on_taken = safe_when_taken == good;
    struct ebpf_insn p[16];
    size_t n = 0;
    p[n++] = EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 0);
    p[n++] = EBPF_LDX_MEM(EBPF_SIZE_W, 3, 1, 4);
    p[n++] = EBPF_MOV64_REG(4, 2);
    p[n++] = EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14);
    p[n++] = end_first ? EBPF_JMP_REG(op, 3, 4, 3) : EBPF_JMP_REG(op, 4, 3, 3);
    /* not taken: */
    p[n++] = access_on_taken ? EBPF_MOV64_IMM(0, 1) : EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 12);
    p[n++] = EBPF_MOV64_IMM(0, 1);
    p[n++] = EBPF_EXIT();
    /* taken: */
    p[n++] = access_on_taken ? EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 12) : EBPF_MOV64_IMM(0, 1);
    p[n++] = EBPF_MOV64_IMM(0, 2);
    p[n++] = EBPF_EXIT();
    if (good)
        expect_accept(p, n, XDP, 0);
    else
        expect_reject(p, n, XDP, 0, EBPFVM_ERR_VERIFY, "invalid access to packet, off=12 size=2, R2(id=0,off=12,r=0)");
}

Test(verifier_progs, packet_range_all_orientations)
{
    const unsigned ops[] = {EBPF_JMP_JGT, EBPF_JMP_JGE, EBPF_JMP_JLT, EBPF_JMP_JLE};
    for (int i = 0; i < 4; i++)
        for (int end_first = 0; end_first < 2; end_first++) {
            pkt_compare(ops[i], end_first, true);
            pkt_compare(ops[i], end_first, false);
        }
}

Test(verifier_progs, packet_outside_range)
{
    REJECT(XDP, 0, "invalid access to packet, off=14 size=2, R2(id=0,off=14,r=14)", XDP_PROLOGUE,
           EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14), EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 3),
           EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 12), EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 14), EBPF_MOV64_IMM(0, 2),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    /* The second line of the kernel's message is kept too. */
    REJECT(XDP, 0, "R2 offset is outside of the packet", XDP_PROLOGUE, EBPF_LDX_MEM(EBPF_SIZE_B, 0, 2, 0),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

Test(verifier_progs, packet_end_not_dereferenced)
{
    REJECT(XDP, 0, "R3 invalid mem access 'pkt_end'", XDP_PROLOGUE, EBPF_LDX_MEM(EBPF_SIZE_B, 0, 3, 0),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    REJECT(XDP, 0, "R3 pointer arithmetic on pkt_end prohibited", XDP_PROLOGUE, EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, 3),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

Test(verifier_progs, packet_variable_offset)
{
    /* off = data[0] & 0x3f; p = data + off; check p + 4 <= end; read u32. */
    ACCEPT(XDP, 0, XDP_PROLOGUE, EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 1),
           EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 8), EBPF_LDX_MEM(EBPF_SIZE_B, 5, 2, 0), EBPF_ALU64_IMM(EBPF_ALU_AND, 5, 0x3f),
           EBPF_MOV64_REG(6, 2), EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 5), EBPF_MOV64_REG(7, 6),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, 4), EBPF_JMP_REG(EBPF_JMP_JGT, 7, 3, 1), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 6, 0),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    /* The check of the old base does not cover the new one. */
    REJECT(XDP, 0, "invalid access to packet, off=0 size=4, R6(id=1,off=0,r=0)", XDP_PROLOGUE, EBPF_MOV64_REG(4, 2),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 8), EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 5), EBPF_LDX_MEM(EBPF_SIZE_B, 5, 2, 0),
           EBPF_ALU64_IMM(EBPF_ALU_AND, 5, 3), EBPF_MOV64_REG(6, 2), EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 5),
           EBPF_LDX_MEM(EBPF_SIZE_W, 0, 6, 0), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

Test(verifier_progs, packet_meta_range)
{
    /* data_meta + 4 <= data proves 4 metadata bytes. */
    ACCEPT(XDP, 0, EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 8), EBPF_LDX_MEM(EBPF_SIZE_W, 3, 1, 0), EBPF_MOV64_REG(4, 2),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 4), EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 1), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 2, 0),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    REJECT(XDP, 0, "invalid access to packet, off=0 size=8, R2(id=0,off=0,r=4)", EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 8),
           EBPF_LDX_MEM(EBPF_SIZE_W, 3, 1, 0), EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 4),
           EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 1), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 2, 0), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

Test(verifier_progs, packet_pointer_spilled)
{
    /* The checked pointer survives a spill/fill with its range. */
    ACCEPT(XDP, 0, XDP_PROLOGUE, EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14),
           EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 5), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 2, -16), EBPF_MOV64_IMM(2, 0),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 2, 10, -16), EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 12), EBPF_MOV64_IMM(0, 2),
           EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
}

Test(verifier_progs, packet_invalidated_by_helper)
{
    /* bpf_xdp_adjust_head moves the packet: the old pointer is a scalar. */
    REJECT(XDP, 0, "R6 invalid mem access 'scalar'", EBPF_MOV64_REG(7, 1), EBPF_LDX_MEM(EBPF_SIZE_W, 6, 1, 0),
           EBPF_LDX_MEM(EBPF_SIZE_W, 3, 1, 4), EBPF_MOV64_REG(4, 6), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14),
           EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 5), EBPF_MOV64_REG(1, 7), EBPF_MOV64_IMM(2, 0), EBPF_CALL_HELPER(44),
           EBPF_LDX_MEM(EBPF_SIZE_H, 0, 6, 12), EBPF_MOV64_IMM(0, 2), EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
}

/* --------------------------------------------------------- maps */

/* key = 0 at fp-4, r0 = lookup(MAP_ARRAY) (7 words). */
#define LOOKUP_ARRAY                                                                                          \
    EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4),              \
        EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_CALL_HELPER(1)

/* r7 = lookup (or NULL); r0 = lookup, NULL-checked; r7 == r0 proves r7 not
 * NULL on the equal side only (the kernel's ptr_or_null == ptr rule). */
Test(verifier_progs, equal_to_a_checked_pointer_is_not_null)
{
#define TWO_LOOKUPS LOOKUP_ARRAY, EBPF_MOV64_REG(7, 0), LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 2), \
        EBPF_MOV64_IMM(0, 0), EBPF_EXIT()
    ACCEPT(XDP, 0, TWO_LOOKUPS, EBPF_JMP_REG(EBPF_JMP_JEQ, 7, 0, 2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           EBPF_LDX_MEM(EBPF_SIZE_W, 0, 7, 0), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 1), EBPF_EXIT());
    ACCEPT(XDP, 0, TWO_LOOKUPS, EBPF_JMP_REG(EBPF_JMP_JNE, 0, 7, 3), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 7, 0),
           EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 1), EBPF_EXIT(), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "R7 invalid mem access 'map_value_or_null'", TWO_LOOKUPS, EBPF_JMP_REG(EBPF_JMP_JNE, 7, 0, 2),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT(), EBPF_LDX_MEM(EBPF_SIZE_W, 0, 7, 0), EBPF_EXIT());
#undef TWO_LOOKUPS
}

Test(verifier_progs, map_lookup_needs_null_check)
{
    REJECT(XDP, 0, "R0 invalid mem access 'map_value_or_null'", LOOKUP_ARRAY, EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    ACCEPT(XDP, 0, LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    /* JNE orientation, and the check done on a copy (same id). */
    ACCEPT(XDP, 0, LOOKUP_ARRAY, EBPF_MOV64_REG(6, 0), EBPF_JMP_IMM(EBPF_JMP_JNE, 6, 0, 2), EBPF_MOV64_IMM(0, 1),
           EBPF_EXIT(), EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 0, 0), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    REJECT(XDP, 0, "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first", LOOKUP_ARRAY,
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

Test(verifier_progs, map_value_bounds)
{
    REJECT(XDP, 0, "invalid access to map value, value_size=8 off=8 size=8", LOOKUP_ARRAY,
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 8), EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT());
    REJECT(XDP, 0, "invalid access to map value, value_size=8 off=-4 size=4", LOOKUP_ARRAY,
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1), EBPF_ST_MEM(EBPF_SIZE_W, 0, -4, 1), EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT());
}

/* r1 = rx_queue_index (unknown u32), then the given bounding words, then
 * r0 = map value + r1 and a one-byte read. The four bounding words are
 * insns 9..12; "out" is insn 17 (a jump from insn 9 + k uses 7 - k). */
#define MAP_INDEX_PROG(...)                                                                                   \
    EBPF_MOV64_REG(6, 1), LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 9), EBPF_LDX_MEM(EBPF_SIZE_W, 1, 6, 16), \
        __VA_ARGS__, EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0), EBPF_MOV64_IMM(0, 2), \
        EBPF_EXIT(), EBPF_MOV64_IMM(0, 1), EBPF_EXIT()

Test(verifier_progs, map_index_masked)
{
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_ALU64_IMM(EBPF_ALU_AND, 1, 7), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    REJECT(XDP, 0, "invalid access to map value, value_size=8 off=15 size=1",
           MAP_INDEX_PROG(EBPF_ALU64_IMM(EBPF_ALU_AND, 1, 15), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                          EBPF_MOV64_IMM(2, 0)));
    REJECT(XDP, 0, "R0 unbounded memory access, make sure to bounds check any such access",
           MAP_INDEX_PROG(EBPF_LDX_MEM(EBPF_SIZE_DW, 1, 0, 0), EBPF_ALU64_IMM(EBPF_ALU_RSH, 1, 1), EBPF_MOV64_IMM(2, 0),
                          EBPF_MOV64_IMM(2, 0)));
}

Test(verifier_progs, map_index_bounded_by_jumps)
{
    /* if r1 > 7 (64-bit) */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_JMP_IMM(EBPF_JMP_JGT, 1, 7, 7), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    /* 32-bit: if w1 >= 8 (the u32 load zero-extends, so 64 bits learn it) */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_JMP32_IMM(EBPF_JMP_JGE, 1, 8, 7), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    /* reg-reg, signed: r2 = 7; if r1 s> r2; if r1 s< 0 */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_MOV64_IMM(2, 7), EBPF_JMP_REG(EBPF_JMP_JSGT, 1, 2, 6),
                                  EBPF_JMP_IMM(EBPF_JMP_JSLT, 1, 0, 5), EBPF_MOV64_IMM(2, 0)));
    /* reg-reg with the constant on the left: if 8 <= r1 (r2 = 8; if r2 <= r1) */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_MOV64_IMM(2, 8), EBPF_JMP_REG(EBPF_JMP_JLE, 2, 1, 6), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    /* JSET: if r1 & ~7 goto out */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_JMP_IMM(EBPF_JMP_JSET, 1, -8, 7), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    /* Through a copy: r3 = r1; if r3 > 7 goto out; r1 is bounded too. */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_MOV64_REG(3, 1), EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 7, 6), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    /* Wrong direction: if r1 < 8 goto out leaves r1 >= 8. */
    REJECT(XDP, 0, "invalid access to map value, value_size=8 off=8 size=1",
           MAP_INDEX_PROG(EBPF_JMP_IMM(EBPF_JMP_JLT, 1, 8, 7), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                          EBPF_MOV64_IMM(2, 0)));
    /* A signed check alone leaves negative values. */
    REJECT(XDP, 0, "value -2147483648 makes map_value pointer be out of bounds",
           MAP_INDEX_PROG(EBPF_MOVSX64(1, 1, 32), EBPF_JMP_IMM(EBPF_JMP_JSGT, 1, 7, 6), EBPF_MOV64_IMM(2, 0),
                          EBPF_MOV64_IMM(2, 0)));
}

Test(verifier_progs, map_index_bounded_through_a_linked_sum)
{
    /* The kernel's linked scalars: r1 = r3 + 2 stays tied to r3, so
     * bounding r3 bounds r1 (as clang's loops test the old counter after
     * computing the new one). */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 2),
                                  EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 5), EBPF_MOV64_IMM(2, 0)));
    /* And the other way round: bounding the sum bounds the copy. */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, 2),
                                  EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 9, 5), EBPF_MOV64_IMM(2, 0)));
    REJECT(XDP, 0, "invalid access to map value, value_size=8 off=8 size=1",
           MAP_INDEX_PROG(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 2),
                          EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 6, 5), EBPF_MOV64_IMM(2, 0)));
    /* A second constant breaks the link (one offset per link). */
    REJECT(XDP, 0, "R0 unbounded memory access, make sure to bounds check any such access",
           MAP_INDEX_PROG(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 1),
                          EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 4)));
    /* A 32-bit add links too (r1 fits in 32 bits), and a subtraction
     * links with the negated constant: r3 = r1 - 3 <= 4 bounds r1 by 7. */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_MOV64_REG(3, 1), EBPF_ALU32_IMM(EBPF_ALU_ADD, 1, 2),
                                  EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 5), EBPF_MOV64_IMM(2, 0)));
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_SUB, 3, 3),
                                  EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 4, 5), EBPF_MOV64_IMM(2, 0)));
    REJECT(XDP, 0, "invalid access to map value, value_size=8 off=8 size=1",
           MAP_INDEX_PROG(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_SUB, 3, 3),
                          EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 5), EBPF_MOV64_IMM(2, 0)));
    /* A 32-bit add to a value that may not fit in 32 bits makes no link. */
    REJECT(XDP, 0, "R0 unbounded memory access, make sure to bounds check any such access",
           MAP_INDEX_PROG(EBPF_ALU64_IMM(EBPF_ALU_LSH, 1, 4), EBPF_MOV64_REG(3, 1),
                          EBPF_ALU32_IMM(EBPF_ALU_ADD, 1, 2), EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 4)));
    /* Unprivileged (strict) loading has no links. */
    verify_flags = EBPFVM_VERIFY_STRICT;
    REJECT(XDP, 0, "R0 unbounded memory access, make sure to bounds check any such access",
           MAP_INDEX_PROG(EBPF_MOV64_REG(3, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 2),
                          EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 5, 5), EBPF_MOV64_IMM(2, 0)));
}

Test(verifier_progs, map_index_32bit_alu)
{
    /* w1 &= 7 zero-extends: r1 in [0, 7]. */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_ALU32_IMM(EBPF_ALU_AND, 1, 7), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    /* r1 %= 8 (unsigned) and r1 /= 0x20000000 */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_ALU64_IMM(EBPF_ALU_MOD, 1, 8), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_ALU64_IMM(EBPF_ALU_DIV, 1, 0x20000000), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0)));
    /* r1 >>= 29 (u32 -> 0..7) and w1 = w1 << 29 >> 29 */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_ALU64_IMM(EBPF_ALU_RSH, 1, 29), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_ALU32_IMM(EBPF_ALU_LSH, 1, 29), EBPF_ALU32_IMM(EBPF_ALU_RSH, 1, 29),
                                  EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0)));
    /* w1 + 1 wraps: [1, 2^32 - 1] plus 0: not bounded by 8. */
    REJECT(XDP, 0, "R0 unbounded memory access",
           MAP_INDEX_PROG(EBPF_ALU32_IMM(EBPF_ALU_ADD, 1, 1), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(2, 0),
                          EBPF_MOV64_IMM(2, 0)));
}

Test(verifier_progs, jmp32_register_operands)
{
    /* w1 = rx_queue_index; w2 = 5; if w1 >= w2 goto out: r1 in [0, 4]. */
    ACCEPT(XDP, 0, MAP_INDEX_PROG(EBPF_MOV32_IMM(2, 5), EBPF_JMP32_REG(EBPF_JMP_JGE, 1, 2, 6), EBPF_MOV64_IMM(2, 0),
                                  EBPF_MOV64_IMM(2, 0)));
    /* if w2 s<= w1 (signed, swapped): r1 < 5 in 32-bit signed terms only:
     * the u32 value may be above 2^31, so not bounded. */
    REJECT(XDP, 0, "R0 unbounded memory access",
           MAP_INDEX_PROG(EBPF_MOV32_IMM(2, 5), EBPF_JMP32_REG(EBPF_JMP_JSLE, 2, 1, 6), EBPF_MOV64_IMM(2, 0),
                          EBPF_MOV64_IMM(2, 0)));
}

Test(verifier_progs, helper_args)
{
    ACCEPT(XDP, 0, EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_LD_MAP_FD(1, MAP_ARRAY),
           EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    verify_flags = EBPFVM_VERIFY_STRICT;
    REJECT(XDP, 0, "invalid indirect read from stack R2 off -4+0 size 4", EBPF_MOV64_REG(2, 10),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT());
    REJECT(XDP, 0, "R1 type=fp expected=map_ptr", EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_MOV64_REG(2, 10),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_MOV64_REG(1, 10), EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT());
    REJECT(XDP, 0, "R2 type=scalar expected=fp, pkt, pkt_meta, map_value, mem", EBPF_MOV64_IMM(2, 0),
           EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* csum_diff(NULL, 0, fp-8, 8, 0): from/to may be NULL with size 0
     * (ARG_PTR_TO_MEM | PTR_MAYBE_NULL), not with a size, not a non-zero
     * scalar, and not where the prototype says plain memory (map key). */
    ACCEPT(XDP, 0, EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 7), EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(2, 0),
           EBPF_MOV64_REG(3, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -8), EBPF_MOV64_IMM(4, 8), EBPF_MOV64_IMM(5, 0),
           EBPF_CALL_HELPER(28), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    ACCEPT(XDP, 0, EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(3, 0), EBPF_MOV64_IMM(4, 0),
           EBPF_MOV64_IMM(5, 0), EBPF_CALL_HELPER(28), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    REJECT(XDP, 0, "R1 type=scalar expected=fp, pkt, pkt_meta, map_value, mem", EBPF_MOV64_IMM(1, 0),
           EBPF_MOV64_IMM(2, 4), EBPF_MOV64_IMM(3, 0), EBPF_MOV64_IMM(4, 0), EBPF_MOV64_IMM(5, 0),
           EBPF_CALL_HELPER(28), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    REJECT(XDP, 0, "R3 type=scalar expected=fp, pkt, pkt_meta, map_value, mem", EBPF_MOV64_IMM(1, 0),
           EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(3, 8), EBPF_MOV64_IMM(4, 0), EBPF_MOV64_IMM(5, 0),
           EBPF_CALL_HELPER(28), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    /* r1-r5 are clobbered by a call. */
    REJECT(XDP, 0, "R3 !read_ok", EBPF_MOV64_IMM(3, 1), EBPF_CALL_HELPER(7), EBPF_MOV64_REG(0, 3), EBPF_EXIT());
    REJECT(XDP, 0, "cannot pass map_type 27 into func bpf_map_lookup_elem#1", EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0),
           EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_LD_MAP_FD(1, MAP_RINGBUF),
           EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* A user ring buffer goes only to bpf_user_ringbuf_drain, which
     * ebpfvm does not provide: every helper refuses it. */
    REJECT(XDP, 0, "cannot pass map_type 31 into func bpf_map_lookup_elem#1", EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0),
           EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_LD_MAP_FD(1, MAP_USER_RINGBUF),
           EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "cannot pass map_type 31 into func bpf_ringbuf_output#130", EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 0),
           EBPF_LD_MAP_FD(1, MAP_USER_RINGBUF), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -8),
           EBPF_MOV64_IMM(3, 8), EBPF_MOV64_IMM(4, 0), EBPF_CALL_HELPER(130), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

Test(verifier_progs, frozen_read_only_map_values_are_constants)
{
    /* r1 = the u32 at the value's start; r1 <<= 60 unless it is 5, then
     * a load at fp-8 - r1... only with r1 known to be 5 is the unsafe path
     * dead: the frozen map's value is a constant, the open one's is not. */
#define RO_PROG(fd)                                                                                           \
    EBPF_LD_MAP_VALUE(2, fd, 0), EBPF_LDX_MEM(EBPF_SIZE_W, 1, 2, 0), EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 5, 2),       \
        EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, 0), EBPF_EXIT(), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()
    ACCEPT(XDP, 0, RO_PROG(MAP_RO_FROZEN));
    REJECT(XDP, 0, "R1 invalid mem access 'scalar'", RO_PROG(MAP_RO_OPEN));
#undef RO_PROG
    /* The verifier's constant stays true: the frozen map refuses writes. */
    ebpfvm_vm *vm = new_vm();
    uint32_t key = 0;
    uint64_t v = 6;
    cr_assert_eq(ebpfvm_map_update(vm, MAP_RO_FROZEN, &key, &v, EBPFVM_ANY), EBPFVM_ERR_PERM);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'ro_frozen': update: the map is frozen");
    cr_assert_eq(ebpfvm_map_delete(vm, MAP_RO_FROZEN, &key), EBPFVM_ERR_PERM);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'ro_frozen': delete: the map is frozen");
    cr_assert_eq(ebpfvm_map_freeze(vm, 99), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "freeze: no map with fd 99");
    ebpfvm_vm_destroy(vm);
}

Test(verifier_progs, ringbuf_reference)
{
    /* reserve 8; if NULL exit; write; submit. */
    ACCEPT(XDP, 0, EBPF_LD_MAP_FD(1, MAP_RINGBUF), EBPF_MOV64_IMM(2, 8), EBPF_MOV64_IMM(3, 0), EBPF_CALL_HELPER(131),
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5), EBPF_ST_MEM(EBPF_SIZE_DW, 0, 0, 7), EBPF_MOV64_REG(1, 0),
           EBPF_MOV64_IMM(2, 0), EBPF_CALL_HELPER(132), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    REJECT(XDP, 0, "Unreleased reference id=", EBPF_LD_MAP_FD(1, MAP_RINGBUF), EBPF_MOV64_IMM(2, 8),
           EBPF_MOV64_IMM(3, 0), EBPF_CALL_HELPER(131), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1),
           EBPF_ST_MEM(EBPF_SIZE_DW, 0, 0, 7), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    REJECT(XDP, 0, "invalid access to memory, mem_size=8 off=8 size=1", EBPF_LD_MAP_FD(1, MAP_RINGBUF),
           EBPF_MOV64_IMM(2, 8), EBPF_MOV64_IMM(3, 0), EBPF_CALL_HELPER(131), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5),
           EBPF_ST_MEM(EBPF_SIZE_B, 0, 8, 7), EBPF_MOV64_REG(1, 0), EBPF_MOV64_IMM(2, 0), EBPF_CALL_HELPER(133),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

/* ------------------------------------------------------ pointers */

Test(verifier_progs, pointer_arithmetic)
{
    REJECT(XDP, 0, "R1 bitwise operator &= on pointer prohibited", EBPF_ALU64_IMM(EBPF_ALU_AND, 1, 3),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "R1 32-bit pointer arithmetic prohibited", EBPF_ALU32_IMM(EBPF_ALU_ADD, 1, 3),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "R1 pointer arithmetic with *= operator prohibited", EBPF_ALU64_IMM(EBPF_ALU_MUL, 1, 3),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "R2 tried to subtract pointer from scalar", EBPF_MOV64_IMM(2, 0), EBPF_ALU64_REG(EBPF_ALU_SUB, 2, 1),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* ebpfvm is a privileged loader (allow_ptr_leaks): a 32-bit copy,
     * neg or byte swap of a pointer is an unknown scalar, which cannot be
     * dereferenced. */
    ACCEPT(XDP, 0, EBPF_MOV32_REG(0, 1), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3), EBPF_EXIT());
    REJECT(XDP, 0, "R2 invalid mem access 'scalar'", EBPF_MOV32_REG(2, 1), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 2, 0),
           EBPF_EXIT());
    ACCEPT(XDP, 0, EBPF_MOV64_REG(0, 1), EBPF_NEG64(0), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3),
           EBPF_EXIT());
    REJECT(XDP, 0, "R0 invalid mem access 'scalar'", EBPF_MOV64_REG(0, 10), EBPF_NEG64(0),
           EBPF_NEG64(0), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, -8), EBPF_EXIT());
    /* The difference of pointers of different kinds is a scalar for root;
     * any other op on two pointers is rejected even for root. */
    ACCEPT(XDP, 0, EBPF_MOV64_REG(0, 10), EBPF_ALU64_REG(EBPF_ALU_SUB, 0, 1), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3),
           EBPF_EXIT());
    REJECT(XDP, 0, "R0 pointer += pointer prohibited", EBPF_MOV64_REG(0, 10), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "R0 pointer += pointer prohibited", EBPF_MOV64_REG(0, 10), EBPF_ALU32_REG(EBPF_ALU_ADD, 0, 1),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* A 32-bit subtraction with a pointer is a scalar; other 32-bit ops are
     * rejected even for root. */
    ACCEPT(XDP, 0, EBPF_MOV64_REG(0, 1), EBPF_ALU32_IMM(EBPF_ALU_SUB, 0, 1), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3),
           EBPF_EXIT());
    REJECT(XDP, 0, "R0 32-bit pointer arithmetic prohibited", EBPF_MOV64_REG(0, 1), EBPF_ALU32_IMM(EBPF_ALU_OR, 0, 1),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* data_end - data is the packet length, a scalar. */
    ACCEPT(XDP, 0, XDP_PROLOGUE, EBPF_ALU64_REG(EBPF_ALU_SUB, 3, 2), EBPF_MOV64_IMM(0, 2), EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 9, 1),
           EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
}

Test(verifier_progs, pointer_leaks)
{
    /* Accepted by default, as Linux accepts them from root. */
    ACCEPT(MEM, 8, EBPF_MOV64_REG(0, 1), EBPF_EXIT());
    ACCEPT(XDP, 0, EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 1, -16), EBPF_MOV64_REG(2, 10),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_MOV64_REG(3, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -16),
           EBPF_MOV64_IMM(4, 0), EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_CALL_HELPER(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    ACCEPT(XDP, 0, LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 2), EBPF_MOV64_REG(1, 10),
           EBPF_STX_MEM(EBPF_SIZE_DW, 0, 1, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    verify_flags = EBPFVM_VERIFY_STRICT;
    REJECT(XDP, 0, "R0 leaks addr as return value", EBPF_MOV64_REG(0, 1), EBPF_EXIT());
    /* map_update_elem(arr, &key, &value) with a spilled pointer in value. */
    REJECT(XDP, 0, "R3 leaks addr into helper function", EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0),
           EBPF_STX_MEM(EBPF_SIZE_DW, 10, 1, -16), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4),
           EBPF_MOV64_REG(3, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -16), EBPF_MOV64_IMM(4, 0),
           EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_CALL_HELPER(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "R1 leaks addr into map", LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 2), EBPF_MOV64_REG(1, 10),
           EBPF_STX_MEM(EBPF_SIZE_DW, 0, 1, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

Test(verifier_progs, scalar_deref)
{
    REJECT(XDP, 0, "R2 invalid mem access 'scalar'", EBPF_MOV64_IMM(2, 0), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 2, 0),
           EBPF_EXIT());
    REJECT(XDP, 0, "R1 invalid mem access 'map_ptr'", EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, 0),
           EBPF_EXIT());
}

/* ------------------------------------------------------- return */

Test(verifier_progs, return_value)
{
    /* Like the kernel, XDP programs may return any scalar (vm/progtype.c
     * does not ask for a range check); never a pointer. */
    ACCEPT(XDP, 0, EBPF_MOV64_IMM(0, 2), EBPF_LDX_MEM(EBPF_SIZE_W, 1, 1, 16), EBPF_JMP_IMM(EBPF_JMP_JNE, 1, 77, 1),
           EBPF_MOV64_IMM(0, 5), EBPF_EXIT());
    ACCEPT(MEM, 8, EBPF_MOV64_IMM(0, -7), EBPF_EXIT());
    ACCEPT(MEM, 8, EBPF_MOV64_REG(0, 10), EBPF_EXIT());
    verify_flags = EBPFVM_VERIFY_STRICT;
    REJECT(MEM, 8, "R0 leaks addr as return value", EBPF_MOV64_REG(0, 10), EBPF_EXIT());
}

/* ------------------------------------------------------- loops */

Test(verifier_progs, bounded_loop)
{
    /* r1 = 0; do r1 += 1 while (r1 < 10); return r1 & 3 */
    ACCEPT(XDP, 0, EBPF_MOV64_IMM(1, 0), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 1), EBPF_JMP_IMM(EBPF_JMP_JLT, 1, 10, -2),
           EBPF_MOV64_REG(0, 1), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3), EBPF_EXIT());
    /* Sum the 8 bytes of a map value in a loop over a variable index. */
    ACCEPT(XDP, 0, LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 9), EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(6, 0),
           EBPF_MOV64_REG(2, 0), EBPF_ALU64_REG(EBPF_ALU_ADD, 2, 1), EBPF_LDX_MEM(EBPF_SIZE_B, 3, 2, 0),
           EBPF_ALU64_REG(EBPF_ALU_ADD, 6, 3), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 1), EBPF_JMP_IMM(EBPF_JMP_JLT, 1, 8, -6),
           EBPF_MOV64_IMM(0, 2), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

Test(verifier_progs, infinite_loop)
{
    REJECT(XDP, 0, "infinite loop detected at insn 1", EBPF_MOV64_IMM(0, 0), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, -1),
           EBPF_EXIT());
}

Test(verifier_progs, too_many_insns)
{
    REJECT(XDP, 0, "BPF program is too large. Processed 1000001 insn", EBPF_MOV64_IMM(0, 0),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1), EBPF_JMP_IMM(EBPF_JMP_JNE, 0, -5, -2), EBPF_EXIT());
}

/* --------------------------------------------------------- cfg */

Test(verifier_progs, unreachable)
{
    struct ebpf_insn p[] = {EBPF_MOV64_IMM(0, 0), EBPF_EXIT(), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()};
    expect_reject(p, EBPF_NWORDS(p), XDP, 0, EBPFVM_ERR_BADPROG, "unreachable insn 2");
}

/* ----------------------------------------------------- ALU checks */

Test(verifier_progs, alu_immediate_checks)
{
    REJECT(XDP, 0, "div by zero", EBPF_MOV64_IMM(0, 0), EBPF_ALU64_IMM(EBPF_ALU_DIV, 0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "invalid shift 64", EBPF_MOV64_IMM(0, 0), EBPF_ALU64_IMM(EBPF_ALU_LSH, 0, 64), EBPF_EXIT());
    REJECT(XDP, 0, "invalid shift 32", EBPF_MOV64_IMM(0, 0), EBPF_ALU32_IMM(EBPF_ALU_ARSH, 0, 32), EBPF_EXIT());
}

/* ------------------------------------------------------ MEMORY */

Test(verifier_progs, memory_program)
{
    ACCEPT(MEM, 16, EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, 8), EBPF_ST_MEM(EBPF_SIZE_W, 1, 0, 5), EBPF_EXIT());
    REJECT(MEM, 16, "invalid access to memory, mem_size=16 off=12 size=8", EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, 12),
           EBPF_EXIT());
    REJECT(MEM, 0, "invalid access to memory, mem_size=0 off=0 size=1", EBPF_LDX_MEM(EBPF_SIZE_B, 0, 1, 0),
           EBPF_EXIT());
    /* Atomics on memory and the stack. */
    ACCEPT(MEM, 16, EBPF_MOV64_IMM(2, 1), EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH, 1, 2, 0),
           EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 0), EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_ADD, 10, 2, -8),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_EXIT());
    ACCEPT(MEM, 16, EBPF_MOV64_IMM(2, 1), EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_ADD, 10, 2, -8),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    verify_flags = EBPFVM_VERIFY_STRICT;
    REJECT(MEM, 16, "invalid read from stack off -8+0 size 8", EBPF_MOV64_IMM(2, 1),
           EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_ADD, 10, 2, -8), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* A MEMORY program verified for mem_size bytes refuses to run on fewer
 * (fast mode would read past the buffer), in every mode; re-verifying with a
 * smaller mem_size, or a failed verification, lifts the requirement. */
Test(verifier_progs, memory_program_runs_only_on_mem_size)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    struct ebpf_insn p[] = {EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, 8), EBPF_EXIT()};
    struct outcome o = verify_in(vm, p, EBPF_NWORDS(p), MEM, 16, 1, &prog);
    cr_assert_eq(o.status, 0, "%s", o.msg);
    uint64_t buf[2] = {1, 42};
    struct ebpfvm_run_result res;
    for (int mode = 0; mode < 2; mode++) {
        struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = mode ? EBPFVM_EXEC_CHECKED : EBPFVM_EXEC_AUTO};
        cr_assert_eq(ebpfvm_prog_run(prog, buf, 12, &ro, &res), EBPFVM_ERR_INVAL);
        cr_assert_str_eq(res.message, "run: ctx_size is smaller than the mem_size the program was verified for");
        cr_assert_eq(ebpfvm_prog_run(prog, NULL, 0, &ro, &res), EBPFVM_ERR_INVAL);
        cr_assert_eq(ebpfvm_prog_run(prog, buf, 16, &ro, &res), 0, "%s", res.message);
        cr_assert_eq(res.r0, 42u);
    }
    /* Verified for 8 bytes the program is rejected: no requirement left,
     * and checked mode reports the out-of-bounds read as a fault. */
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .mem_size = 8};
    cr_assert_eq(ebpfvm_prog_verify(prog, &vo), EBPFVM_ERR_VERIFY);
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED};
    cr_assert_eq(ebpfvm_prog_run(prog, buf, 12, &ro, &res), EBPFVM_ERR_FAULT, "%s", res.message);
    ebpfvm_vm_destroy(vm);
}

/* --------------------------------------------------- precision */

#define FILL8                                                                                                  \
    EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(1, 0), \
        EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(1, 0)

/* r6 = r6 * 2 + a random bit, 12 times: 4096 different constants. Then
 * the rest (r0 = the result). */
#define RANDOM_BITS_LOOP(...)                                                                                  \
    EBPF_MOV64_IMM(6, 0), EBPF_MOV64_IMM(7, 0), EBPF_CALL_HELPER(7), EBPF_ALU64_IMM(EBPF_ALU_LSH, 6, 1),          \
        EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 1), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1), EBPF_ALU64_IMM(EBPF_ALU_OR, 6, 1), \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 7, 1), EBPF_JMP_IMM(EBPF_JMP_JLT, 7, 12, -7), __VA_ARGS__

static uint64_t processed(const struct ebpf_insn *p, size_t n)
{
    ebpfvm_vm *vm = new_vm();
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = XDP, .name = "t"};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, p, n, &lo, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_verify_stats stats;
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .stats = &stats};
    cr_assert_eq(ebpfvm_prog_verify(prog, &vo), 0, "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
    return stats.insns_processed;
}

Test(verifier_progs, pruning_ignores_values_no_check_depends_on)
{
    /* r6 only becomes the return value (XDP's is not checked): the states
     * at the loop head differ only in r6, whose value decides nothing, so
     * they prune each other (precision.c): linear in the iterations. */
    struct ebpf_insn a[] = {RANDOM_BITS_LOOP(EBPF_MOV64_REG(0, 6), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3), EBPF_EXIT())};
    uint64_t loose = processed(a, EBPF_NWORDS(a));
    cr_expect_lt(loose, 1000u, "processed %llu", (unsigned long long)loose);
    /* Compared with a constant at the end, r6 decides a branch: every one
     * of its 4096 values is explored. */
    struct ebpf_insn b[] = {RANDOM_BITS_LOOP(EBPF_MOV64_IMM(0, 0), EBPF_JMP_IMM(EBPF_JMP_JNE, 6, 12345, 1),
                                             EBPF_MOV64_IMM(0, 1), EBPF_EXIT())};
    uint64_t exact = processed(b, EBPF_NWORDS(b));
    cr_expect_gt(exact, 20000u, "processed %llu", (unsigned long long)exact);
}

Test(verifier_progs, pruning_compares_values_a_check_depends_on)
{
    /* Two paths join with r6 = 0 (explored first, safe) and r6 = 100; r6
     * then indexes an 8-byte map value. The join has a checkpoint (8
     * instructions since the last one): r6 must be compared there. */
    REJECT(XDP, 0, "invalid access to map value, value_size=8 off=100 size=1", FILL8, EBPF_CALL_HELPER(7),
           EBPF_MOV64_IMM(6, 100), EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 5, 9), FILL8, EBPF_MOV64_IMM(6, 0), LOOKUP_ARRAY,
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 2), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 6), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0),
           EBPF_EXIT());
    /* The same through a spill: r6 is dead at the join, its spill slot is
     * what the index comes from. */
    REJECT(XDP, 0, "invalid access to map value, value_size=8 off=100 size=1", FILL8, EBPF_CALL_HELPER(7),
           EBPF_MOV64_IMM(6, 100), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 6, -16), EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 5, 10), FILL8,
           EBPF_MOV64_IMM(6, 0), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 6, -16), EBPF_MOV64_IMM(6, 0), LOOKUP_ARRAY,
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 3), EBPF_LDX_MEM(EBPF_SIZE_DW, 7, 10, -16),
           EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 7), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0), EBPF_EXIT());
    /* Both safe (r6 = 0 or 4): accepted, pruned or not. */
    ACCEPT(XDP, 0, FILL8, EBPF_CALL_HELPER(7), EBPF_MOV64_IMM(6, 4), EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 5, 9), FILL8,
           EBPF_MOV64_IMM(6, 0), LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 2), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 6),
           EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0), EBPF_EXIT());
}

/* --------------------------------------------------------- logs */

struct lines {
    int n;
    char last[256];
};

static void on_line(void *ud, const char *line)
{
    struct lines *l = ud;
    l->n++;
    snprintf(l->last, sizeof l->last, "%s", line);
}

Test(verifier_progs, log_levels_and_summary)
{
    struct ebpf_insn p[] = {XDP_PROLOGUE,
                            EBPF_MOV64_REG(4, 2),
                            EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14),
                            EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 2),
                            EBPF_LDX_MEM(EBPF_SIZE_H, 0, 2, 12),
                            EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 0xff),
                            EBPF_MOV64_IMM(0, 2),
                            EBPF_EXIT()};
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    struct outcome o = verify_in(vm, p, EBPF_NWORDS(p), XDP, 0, 2, &prog);
    cr_assert_eq(o.status, 0, "%s", o.msg);
    cr_expect(strstr(vlog, "0: R1=ctx() R10=fp0\n"), "%s", vlog);
    cr_expect(strstr(vlog, "; R1=ctx() R2=pkt(r=0)\n"), "%s", vlog);
    cr_expect(strstr(vlog, "R3=pkt_end() R4=pkt(off=14,r=14)"), "%s", vlog);
    cr_expect(strstr(vlog, "R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=0xffff,var_off=(0x0; 0xffff))"), "%s",
              vlog);
    cr_expect(strstr(vlog, "R0=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"), "%s", vlog);
    cr_expect(strstr(vlog, "from 4 to 7: "), "%s", vlog);
    /* One checkpoint: a path keeps a new one only 8 instructions after
     * the last it kept (verifier.c, like the kernel). */
    cr_expect(strstr(vlog, "processed 10 insns (limit 1000000) max_states_per_insn 1 total_states 1 peak_states 1 "
                           "mark_read 0\n"),
              "%s", vlog);

    /* Level 0: no log. Callback: one call per line, the summary last. */
    struct lines lines = {0, ""};
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 1, .log_fn = on_line, .log_ud = &lines};
    cr_assert_eq(ebpfvm_prog_verify(prog, &vo), 0);
    cr_expect_gt(lines.n, 3);
    cr_expect(strncmp(lines.last, "processed ", 10) == 0, "%s", lines.last);
    vo.log_level = 0;
    lines.n = 0;
    cr_assert_eq(ebpfvm_prog_verify(prog, &vo), 0);
    cr_expect_eq(lines.n, 0);
    ebpfvm_vm_destroy(vm);
}

Test(verifier_progs, level1_keeps_only_failing_path)
{
    verify_flags = EBPFVM_VERIFY_STRICT;
    /* Two paths: the first (taken at insn 1) is fine, the failing one is
     * the fall-through explored first... use the jump side to fail. */
    struct ebpf_insn p[] = {EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, 16), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 3),
                            EBPF_MOV64_IMM(0, 1), EBPF_MOV64_IMM(0, 1), EBPF_EXIT(),
                            EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_EXIT()};
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    struct outcome o = verify_in(vm, p, EBPF_NWORDS(p), XDP, 0, 1, &prog);
    cr_assert_eq(o.status, EBPFVM_ERR_VERIFY);
    cr_expect(strstr(o.msg, "verifier: insn 5: invalid read from stack off -8+0 size 8"), "%s", o.msg);
    cr_expect(!strstr(vlog, "2: (b7) r0 = 1"), "the safe path stayed in the log:\n%s", vlog);
    cr_expect(strstr(vlog, "from 1 to 5: "), "%s", vlog);
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------ the API */

Test(verifier_progs, api_errors_and_fast_mode)
{
    cr_expect_eq(ebpfvm_prog_verify(NULL, NULL), EBPFVM_ERR_INVAL);
    ebpfvm_vm *vm = new_vm();
    struct ebpf_insn p[] = {EBPF_MOV64_IMM(0, 2), EBPF_EXIT()};
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = XDP};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, p, 2, &lo, &prog), 0);
    struct ebpfvm_verify_opts bad = {.sz = 1};
    cr_expect_eq(ebpfvm_prog_verify(prog, &bad), EBPFVM_ERR_INVAL);
    struct ebpfvm_verify_opts nolog = {.sz = sizeof nolog, .log_size = 10};
    cr_expect_eq(ebpfvm_prog_verify(prog, &nolog), EBPFVM_ERR_INVAL);
    struct ebpfvm_verify_stats stats;
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .stats = &stats};
    cr_assert_eq(ebpfvm_prog_verify(prog, &vo), 0);
    cr_expect_eq(stats.insns_processed, 2);
    cr_assert(ebpfvm_prog_is_verified(prog));
    /* AUTO runs a verified program in fast mode, no flag needed. */
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_FAST};
    struct ebpfvm_run_result res;
    static unsigned char frame[EBPFVM_XDP_FRAME_SIZE];
    unsigned char pkt[64] = {0};
    struct ebpfvm_xdp_buff buff;
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, sizeof pkt), 0);
    cr_expect_eq(ebpfvm_prog_run(prog, &buff, sizeof buff, &ro, &res), 0, "%s", res.message);
    cr_expect_eq(res.r0, 2);
    ebpfvm_vm_destroy(vm);
}

Test(verifier_progs, unsupported_features)
{
    struct ebpf_insn q[] = {EBPF_MOV64_IMM(0, 2), EBPF_CALLX(0), EBPF_EXIT()};
    expect_reject(q, EBPF_NWORDS(q), MEM, 0, EBPFVM_ERR_UNSUPP, "callx is not supported");
}

/* ---------------------------------------------------- bpf-to-bpf calls */

Test(verifier_progs, local_calls)
{
    /* main: r1 = ctx; call f(ctx); return r0. f(ctx): parse 14 bytes and
     * return 1 or 2; the callee's own stack is separate. */
    ACCEPT(XDP, 0, EBPF_MOV64_IMM(6, 5), EBPF_CALL_LOCAL(3), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 6),
           EBPF_ALU64_IMM(EBPF_ALU_SUB, 0, 5), EBPF_EXIT(),
           /* f: */ EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 1), EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 0),
           EBPF_LDX_MEM(EBPF_SIZE_W, 3, 1, 4), EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 14),
           EBPF_MOV64_IMM(0, 1), EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 2), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 2, 13),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 1), EBPF_EXIT());
    /* r6 is the caller's: the callee cannot read it. */
    REJECT(XDP, 0, "R6 !read_ok", EBPF_MOV64_IMM(6, 1), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_MOV64_REG(0, 6),
           EBPF_EXIT());
    /* r1-r5 are clobbered by the return; r0 is the callee's. */
    REJECT(XDP, 0, "R2 !read_ok", EBPF_MOV64_IMM(2, 1), EBPF_CALL_LOCAL(2), EBPF_MOV64_REG(0, 2), EBPF_EXIT(),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "cannot return stack pointer to the caller", EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           EBPF_MOV64_REG(0, 10), EBPF_EXIT());
    /* A callee writes through a pointer to its caller's stack; the caller
     * reads the result. 32-bit data_end - data is a scalar. */
    ACCEPT(XDP, 0, EBPF_MOV64_REG(1, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -8), EBPF_CALL_LOCAL(3),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 10, -8), EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3), EBPF_EXIT(),
           /* f: */ EBPF_ST_MEM(EBPF_SIZE_DW, 1, 0, 2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    ACCEPT(XDP, 0, XDP_PROLOGUE, EBPF_MOV64_REG(0, 3), EBPF_ALU32_REG(EBPF_ALU_SUB, 0, 2),
           EBPF_ALU64_IMM(EBPF_ALU_AND, 0, 3), EBPF_EXIT());
    /* w0 = w3 of a packet pointer (clang, tail_grow.c): a 32-bit scalar. */
    ACCEPT(XDP, 0, XDP_PROLOGUE, EBPF_MOV32_REG(0, 3), EBPF_MOV64_IMM(4, 1), EBPF_ALU64_IMM(EBPF_ALU_LSH, 4, 32),
           EBPF_MOV64_IMM(5, 1), EBPF_JMP_REG(EBPF_JMP_JLT, 0, 4, 1), EBPF_MOV64_IMM(5, 2), EBPF_MOV64_REG(0, 5),
           EBPF_EXIT());
    REJECT(XDP, 0, "R3 32-bit pointer arithmetic prohibited", XDP_PROLOGUE, EBPF_ALU32_IMM(EBPF_ALU_ADD, 3, 1),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* The callee's stack pointer must not be left in the caller's stack. */
    REJECT(XDP, 0, "cannot spill pointers to stack into stack frame of the caller", EBPF_MOV64_REG(1, 10),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -8), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           EBPF_STX_MEM(EBPF_SIZE_DW, 1, 10, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* Unbounded recursion. */
    REJECT(XDP, 0, "the call stack of 9 frames is too deep", EBPF_CALL_LOCAL(-1), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* ------------------------------------------------ allocation failure */

#include "alloc_fail.h"

Test(verifier_progs, allocation_failures)
{
    struct alloc_fail af;
    alloc_fail_init(&af, 0);
    struct ebpfvm_vm_opts vopts = {.sz = sizeof vopts, .alloc = alloc_fail_alloc, .alloc_ud = &af};
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(&vopts, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0);
    struct ebpfvm_map_def def = {sizeof def, EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "arr", -1};
    int fd;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), 0);
    struct ebpf_insn p[] = {EBPF_MOV64_REG(6, 1), LOOKUP_ARRAY, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5),
                            EBPF_LDX_MEM(EBPF_SIZE_W, 1, 6, 16), EBPF_ALU64_IMM(EBPF_ALU_AND, 1, 7),
                            EBPF_JMP_IMM(EBPF_JMP_JGT, 1, 3, 1), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 1),
                            EBPF_MOV64_IMM(0, 2), EBPF_EXIT()};
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = XDP};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, p, EBPF_NWORDS(p), &lo, &prog), 0);
    int failures = 0;
    for (size_t k = 1; k < 200; k++) {
        af.fail_at = af.nallocs + k;
        size_t failed_before = af.nfailed;
        struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 2, .log_buf = vlog, .log_size = sizeof vlog};
        int status = ebpfvm_prog_verify(prog, &vo);
        if (af.nfailed == failed_before) {
            cr_assert_eq(status, 0, "%s", ebpfvm_vm_errmsg(vm));
            break; /* every allocation of a run has been failed once */
        }
        /* A failed log allocation only loses log text. */
        cr_assert(status == 0 || status == EBPFVM_ERR_NOMEM, "status %d: %s", status, ebpfvm_vm_errmsg(vm));
        cr_assert_eq(ebpfvm_prog_is_verified(prog), status == 0);
        failures++;
    }
    cr_expect_gt(failures, 5);
    af.fail_at = 0;
    ebpfvm_vm_destroy(vm);
    cr_expect_eq(af.live_blocks, 0, "leaked %zu blocks", af.live_blocks);
    cr_expect_eq(af.bad_frees, 0);
}

/* ------------------------------------------------------ pruning */

Test(verifier_progs, pruning_keeps_diamonds_linear)
{
    /* 24 diamonds in a row: 2^24 paths without pruning. At each diamond
     * both sides reach the next one with the same state, so the second
     * side is pruned there. */
    struct ebpf_insn p[6 * 24 + 2];
    size_t n = 0;
    for (int i = 0; i < 24; i++) {
        p[n++] = EBPF_LDX_MEM(EBPF_SIZE_W, 1, 6, 16);
        p[n++] = EBPF_MOV64_IMM(2, 1);
        p[n++] = EBPF_JMP_IMM(EBPF_JMP_JGT, 1, 10, 1);
        p[n++] = EBPF_MOV64_IMM(2, 1);
        p[n++] = EBPF_MOV64_IMM(3, 0);
        p[n++] = EBPF_MOV64_IMM(3, 0);
    }
    p[n++] = EBPF_MOV64_IMM(0, 2);
    p[n++] = EBPF_EXIT();
    struct ebpf_insn full[6 * 24 + 3];
    full[0] = EBPF_MOV64_REG(6, 1);
    memcpy(full + 1, p, n * sizeof p[0]);
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = XDP};
    cr_assert_eq(ebpfvm_prog_load(vm, full, n + 1, &lo, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_verify_stats stats;
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 2, .log_buf = vlog, .log_size = sizeof vlog,
                                    .stats = &stats};
    cr_assert_eq(ebpfvm_prog_verify(prog, &vo), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_expect_lt(stats.insns_processed, 1000, "processed %llu", (unsigned long long)stats.insns_processed);
    cr_expect_gt(stats.total_states, 10);
    cr_expect(strstr(vlog, ": safe\n"), "no pruning in the log");
    ebpfvm_vm_destroy(vm);
}

/* ----------------------------------- control flow the loader lets pass */

/* Load a valid program, then corrupt word `pc` the way a buggy loader
 * could, and verify: the verifier's own structure checks must catch it. */
static void expect_reject_patched(const struct ebpf_insn *insns, size_t n, size_t pc, struct ebpf_insn patched,
                                  int status, const char *text)
{
    ebpfvm_vm *vm = new_vm();
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = XDP};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, insns, n, &lo, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    prog->insns[pc] = patched;
    int form = ebpfvm__form_of(&patched);
    cr_assert_geq(form, 0);
    prog->code[pc].form = (uint8_t)form;
    prog->code[pc].dst = patched.dst_reg;
    prog->code[pc].src = patched.src_reg;
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 1, .log_buf = vlog, .log_size = sizeof vlog};
    int got = ebpfvm_prog_verify(prog, &vo);
    cr_expect_eq(got, status, "status %d: %s", got, ebpfvm_vm_errmsg(vm));
    cr_expect(strstr(ebpfvm_vm_errmsg(vm), text), "'%s' lacks '%s'", ebpfvm_vm_errmsg(vm), text);
    ebpfvm_vm_destroy(vm);
}

Test(verifier_progs, structure_checks)
{
    struct ebpf_insn p[] = {EBPF_MOV64_IMM(0, 0), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1), EBPF_EXIT(), EBPF_EXIT()};
    expect_reject_patched(p, 4, 1, EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 5), EBPFVM_ERR_BADPROG,
                          "jump out of range from insn 1 to 7");
    expect_reject_patched(p, 4, 3, EBPF_MOV64_IMM(0, 1), EBPFVM_ERR_BADPROG, "last insn is not an exit or jmp");
    expect_reject_patched(p, 4, 0, EBPF_MOV64_IMM(10, 0), EBPFVM_ERR_VERIFY, "frame pointer is read only");
}

/* ------------------------------------- rules learned from the kernel's selftests */

/* Packet ranges follow find_good_pkt_pointers: a strict comparison proves
 * one byte more; no range is learned at or past 0xffff. */
Test(verifier_progs, packet_range_strict_compare)
{
    /* r1 = data + 7; if data_end > r1: bytes [data, data + 8) are in. */
    ACCEPT(XDP, 0, XDP_PROLOGUE, EBPF_MOV64_REG(1, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 7),
           EBPF_JMP_REG(EBPF_JMP_JGT, 3, 1, 2), EBPF_MOV64_IMM(0, 1), EBPF_EXIT(), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, -7),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    /* if r1 >= data_end goto out: the fall-through is strict too. */
    ACCEPT(XDP, 0, XDP_PROLOGUE, EBPF_MOV64_REG(1, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 7),
           EBPF_JMP_REG(EBPF_JMP_JGE, 1, 3, 3), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, -7), EBPF_MOV64_IMM(0, 2), EBPF_EXIT(),
           EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
    /* Not strict (r1 <= data_end): 7 bytes only. */
    REJECT(XDP, 0, "invalid access to packet, off=0 size=8, R1(id=0,off=0,r=7)", XDP_PROLOGUE, EBPF_MOV64_REG(1, 2),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 7), EBPF_JMP_REG(EBPF_JMP_JGT, 1, 3, 3), EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, -7),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT(), EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
    /* data + 0x10000 <= data_end proves nothing (MAX_PACKET_OFF). */
    REJECT(XDP, 0, "invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)", XDP_PROLOGUE, EBPF_MOV64_REG(1, 2),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 0x10000), EBPF_JMP_REG(EBPF_JMP_JGT, 1, 3, 2),
           EBPF_LDX_MEM(EBPF_SIZE_B, 0, 2, 0), EBPF_EXIT(), EBPF_MOV64_IMM(0, 1), EBPF_EXIT());
}

/* A subprogram hands r0 back as it is (the caller may not read it
 * uninitialised), never a pointer into any stack. */
Test(verifier_progs, subprogram_return_value)
{
    ACCEPT(XDP, 0, EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 2), EBPF_EXIT(), EBPF_EXIT());
    REJECT(XDP, 0, "R0 !read_ok", EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_EXIT());
    /* The caller's own frame pointer, returned by the callee. */
    REJECT(XDP, 0, "cannot return stack pointer to the caller", EBPF_MOV64_REG(1, 10), EBPF_CALL_LOCAL(2),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT(), EBPF_MOV64_REG(0, 1), EBPF_EXIT());
}

/* No pointer into any stack may be stored into a caller's frame. */
Test(verifier_progs, stack_pointer_into_caller_frame)
{
    REJECT(XDP, 0, "cannot spill pointers to stack into stack frame of the caller", EBPF_MOV64_REG(1, 10),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -8), EBPF_CALL_LOCAL(2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(),
           EBPF_STX_MEM(EBPF_SIZE_DW, 1, 1, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

Test(verifier_progs, write_only_map_values)
{
#define LOOKUP_WO EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0), EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), \
        EBPF_LD_MAP_FD(1, MAP_WRONLY), EBPF_CALL_HELPER(1), EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 2), EBPF_MOV64_IMM(0, 0), \
        EBPF_EXIT()
    ACCEPT(XDP, 0, LOOKUP_WO, EBPF_ST_MEM(EBPF_SIZE_DW, 0, 0, 5), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "read from map forbidden, value_size=8 off=0 size=8", LOOKUP_WO, EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0),
           EBPF_EXIT());
#undef LOOKUP_WO
}

Test(verifier_progs, sign_extending_context_loads)
{
    /* A pointer field cannot be loaded sign-extended; a scalar one can. */
    REJECT_CTX("invalid bpf_context access off=0 size=4", EBPF_LDXS_MEM(EBPF_SIZE_W, 2, 1, 0), EBPF_MOV64_IMM(0, 0),
               EBPF_EXIT());
    ACCEPT(XDP, 0, EBPF_LDXS_MEM(EBPF_SIZE_W, 2, 1, 12), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* The load-time pass (for programs run unverified) refuses it too. */
    struct ebpf_insn p[] = {EBPF_LDXS_MEM(EBPF_SIZE_W, 2, 1, 4), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()};
    ebpfvm_vm *vm = new_vm();
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = XDP};
    ebpfvm_prog *prog = NULL;
    cr_assert_neq(ebpfvm_prog_load(vm, p, EBPF_NWORDS(p), &lo, &prog), 0);
    cr_expect(strstr(ebpfvm_vm_errmsg(vm), "insn 0: invalid bpf_context access off=4 size=4"), "%s",
              ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
}

/* The register an atomic fetches into gets what a load from there gives. */
Test(verifier_progs, atomic_fetch_result)
{
    /* fp-8 holds the constant 0: r1 = xchg(fp-8, r1) makes r1 0, so the
     * stack access through it is fine. */
    ACCEPT(XDP, 0, EBPF_MOV64_IMM(2, 0), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 2, -8), EBPF_MOV64_IMM(1, 5),
           EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_XCHG, 10, 1, -8), EBPF_MOV64_REG(3, 10),
           EBPF_ALU64_REG(EBPF_ALU_ADD, 3, 1), EBPF_ST_MEM(EBPF_SIZE_DW, 3, -16, 0), EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT());
    /* A spilled frame pointer comes back as one from cmpxchg. */
    ACCEPT(XDP, 0, EBPF_STX_MEM(EBPF_SIZE_DW, 10, 10, -8), EBPF_MOV64_REG(0, 10), EBPF_MOV64_IMM(1, 0),
           EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_CMPXCHG, 10, 1, -8), EBPF_ST_MEM(EBPF_SIZE_DW, 0, -16, 0),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* Pointer arithmetic the kernel allows or refuses on special pointers. */
Test(verifier_progs, map_pointer_and_frame_pointer_arithmetic)
{
    ACCEPT(XDP, 0, EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 0), EBPF_ST_MEM(EBPF_SIZE_W, 10, -4, 0),
           EBPF_MOV64_REG(2, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -4), EBPF_CALL_HELPER(1), EBPF_MOV64_IMM(0, 0),
           EBPF_EXIT());
    REJECT(XDP, 0, "R1 pointer arithmetic on map_ptr prohibited", EBPF_LD_MAP_FD(1, MAP_ARRAY),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 8), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT(XDP, 0, "R1 subtraction from stack pointer prohibited", EBPF_MOV64_REG(1, 10),
           EBPF_ALU64_IMM(EBPF_ALU_SUB, 1, 8), EBPF_ST_MEM(EBPF_SIZE_DW, 1, 0, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
}

/* A shift by a count not known to be below the width is unknown (the
 * kernel's rule) although the interpreter masks the count: 1 << 64 is 1
 * at run time, unknown here, so indexing a map value with it fails. */
Test(verifier_progs, oversized_shift_is_unknown)
{
    REJECT(XDP, 0, "math between map_value pointer and register with unbounded min value is not allowed", LOOKUP_ARRAY,
           EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 2), EBPF_MOV64_IMM(0, 0), EBPF_EXIT(), EBPF_MOV64_IMM(2, 1),
           EBPF_MOV64_IMM(3, 64),
           EBPF_ALU64_REG(EBPF_ALU_LSH, 2, 3), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 2), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 0, 0),
           EBPF_EXIT());
}

/* w3 = w2 with w2 < 2^32 links the two (like a 64-bit move): what a
 * branch learns about r3 holds for r2. The dead branch reads r9. */
Test(verifier_progs, thirty_two_bit_move_links_registers)
{
    ACCEPT(XDP, 0, EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 16), EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 255), EBPF_MOV32_REG(3, 2), EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 10, 2),
           EBPF_JMP_IMM(EBPF_JMP_JLE, 2, 10, 1), EBPF_MOV64_REG(0, 9), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    /* A value that may not fit in 32 bits is not linked. */
    REJECT(XDP, 0, "R9 !read_ok", EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 16), EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 255), EBPF_ALU64_IMM(EBPF_ALU_LSH, 2, 30),
           EBPF_MOV32_REG(3, 2), EBPF_JMP_IMM(EBPF_JMP_JGT, 3, 10, 2), EBPF_JMP_IMM(EBPF_JMP_JLE, 2, 10, 1),
           EBPF_MOV64_REG(0, 9), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

/* A sign extension of a range that stays on one side of the sign bit
 * keeps it exactly (the kernel's coerce_reg_to_size_sx): [128, 143] as s8
 * is [-128, -113]. */
Test(verifier_progs, sign_extension_keeps_exact_ranges)
{
#define RANGE_128_143 EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 16), EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 255), EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 15), \
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, 128)
    ACCEPT(XDP, 0, RANGE_128_143, EBPF_MOVSX64(3, 2, 8), EBPF_JMP_IMM(EBPF_JMP_JSLE, 3, -113, 1), EBPF_MOV64_REG(0, 9),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    ACCEPT(XDP, 0, RANGE_128_143, EBPF_MOVSX32(3, 2, 8), EBPF_JMP32_IMM(EBPF_JMP_JSLE, 3, -113, 1), EBPF_MOV64_REG(0, 9),
           EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    /* [120, 135] crosses 127: the result is the whole s8 range. */
    REJECT(XDP, 0, "R9 !read_ok", EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, 16), EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 255), EBPF_ALU64_IMM(EBPF_ALU_AND, 2, 15),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, 120), EBPF_MOVSX64(3, 2, 8), EBPF_JMP_IMM(EBPF_JMP_JSLE, 3, 0, 1),
           EBPF_MOV64_REG(0, 9), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
#undef RANGE_128_143
}

/* A write to r10 on a path the verifier never takes is no error (the
 * kernel checks explored paths only); the program then runs. */
Test(verifier_progs, frame_pointer_write_in_dead_code)
{
    ACCEPT(XDP, 0, EBPF_MOV64_IMM(0, 2), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 2, 1), EBPF_MOV64_IMM(10, 0), EBPF_EXIT());
    REJECT(XDP, 0, "frame pointer is read only", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, 16),
           EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 2, 1), EBPF_MOV64_IMM(10, 0), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    REJECT(XDP, 0, "frame pointer is read only", EBPF_STX_MEM(EBPF_SIZE_DW, 10, 1, -8),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 10, 10, -8), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    REJECT(XDP, 0, "frame pointer is read only", EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 0),
           EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH, 10, 10, -8), EBPF_MOV64_IMM(0, 2),
           EBPF_EXIT());
}

/* Only helpers with packet access (EBPFVM_HELPER_PKT_ACCESS: the map
 * element helpers, csum_diff) take packet pointers as memory, as in Linux. */
Test(verifier_progs, helper_packet_access)
{
    /* map_update_elem(arr, key = data, value = data + 4, 0) with 12 bytes proven. */
    ACCEPT(XDP, 0, XDP_PROLOGUE, EBPF_MOV64_REG(4, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 12),
           EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 8), EBPF_MOV64_REG(8, 2), EBPF_MOV64_REG(3, 2),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, 4), EBPF_LD_MAP_FD(1, MAP_ARRAY), EBPF_MOV64_REG(2, 8), EBPF_MOV64_IMM(4, 0),
           EBPF_CALL_HELPER(2), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
    /* ringbuf_output(rb, data, 8, 0): no packet access. */
    REJECT(XDP, 0, "helper access to the packet is not allowed", XDP_PROLOGUE, EBPF_MOV64_REG(4, 2),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 12), EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 5), EBPF_LD_MAP_FD(1, MAP_RINGBUF),
           EBPF_MOV64_IMM(3, 8), EBPF_MOV64_IMM(4, 0), EBPF_CALL_HELPER(130), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}
