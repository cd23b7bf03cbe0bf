/*
 * tests/test_skb.c - the socket filter program type: the __sk_buff context
 * rules (narrow loads, cb[] scratch, read-only and forbidden fields) in the
 * verifier and in the load-time pass, LD_ABS/LD_IND in the verifier and at
 * run time in every engine, bpf_skb_load_bytes, and the run-time context
 * check. The kernel's verdicts on the same rules are compared by the
 * selftest harness (tests/kselftest).
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/skb.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#include "insn.h"

#define SKB EBPFVM_PROG_TYPE_SOCKET_FILTER
#define OFF(field) ((int16_t)offsetof(struct ebpfvm_sk_buff_md, field))

static char vlog[1 << 16];

static ebpfvm_vm *new_vm(void)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    return vm;
}

/* Load as a socket filter and verify; returns the verifier's status and
 * leaves its message in msg. A load failure is reported as such. */
static int verify(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t n, ebpfvm_prog **progp, char *msg, size_t sz)
{
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = SKB, .name = "skb"};
    ebpfvm_prog *prog = NULL;
    int err = ebpfvm_prog_load(vm, insns, n, &lo, &prog);
    if (err) {
        snprintf(msg, sz, "load: %s", ebpfvm_vm_errmsg(vm));
        return err;
    }
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 2, .log_buf = vlog, .log_size = sizeof vlog};
    err = ebpfvm_prog_verify(prog, &vo);
    snprintf(msg, sz, "%s", err ? ebpfvm_vm_errmsg(vm) : "");
    if (progp)
        *progp = prog;
    return err;
}

#define ACCEPT(...)                                                                                              \
    do {                                                                                                         \
        const struct ebpf_insn p_[] = {__VA_ARGS__};                                                             \
        ebpfvm_vm *vm_ = new_vm();                                                                               \
        char m_[512];                                                                                            \
        cr_expect_eq(verify(vm_, p_, EBPF_NWORDS(p_), NULL, m_, sizeof m_), 0, "line %d: rejected: %s\n%s",     \
                     __LINE__, m_, vlog);                                                                        \
        ebpfvm_vm_destroy(vm_);                                                                                  \
    } while (0)

#define REJECT(text, ...)                                                                                        \
    do {                                                                                                         \
        const struct ebpf_insn p_[] = {__VA_ARGS__};                                                             \
        ebpfvm_vm *vm_ = new_vm();                                                                               \
        char m_[512];                                                                                            \
        cr_expect_neq(verify(vm_, p_, EBPF_NWORDS(p_), NULL, m_, sizeof m_), 0, "line %d: accepted", __LINE__); \
        cr_expect(strstr(m_, text) != NULL, "line %d: want '%s' in '%s'", __LINE__, text, m_);                  \
        ebpfvm_vm_destroy(vm_);                                                                                  \
    } while (0)

Test(skb_ctx, narrow_and_full_loads_of_u32_fields)
{
    ACCEPT(EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, OFF(len)), EBPF_EXIT());
    ACCEPT(EBPF_LDX_MEM(EBPF_SIZE_B, 0, 1, OFF(len) + 3), EBPF_EXIT());
    ACCEPT(EBPF_LDX_MEM(EBPF_SIZE_H, 0, 1, OFF(protocol) + 2), EBPF_EXIT());
    ACCEPT(EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, OFF(gso_size)), EBPF_EXIT());
    /* The loaded byte is bounded by its size. */
    ACCEPT(EBPF_LDX_MEM(EBPF_SIZE_B, 2, 1, OFF(mark)), EBPF_MOV64_REG(0, 2), EBPF_EXIT());
    cr_expect(strstr(vlog, "R2=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"), "%s", vlog);
}

Test(skb_ctx, cb_is_scratch_of_any_size)
{
    ACCEPT(EBPF_MOV64_IMM(2, 7), EBPF_STX_MEM(EBPF_SIZE_DW, 1, 2, OFF(cb)),
           EBPF_STX_MEM(EBPF_SIZE_B, 1, 2, OFF(cb) + 19), EBPF_ST_MEM(EBPF_SIZE_W, 1, OFF(cb) + 16, 3),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, OFF(cb) + 8), EBPF_LDX_MEM(EBPF_SIZE_H, 0, 1, OFF(cb) + 18),
           EBPF_EXIT());
    /* 8 bytes at cb[4] run past cb. */
    REJECT("invalid bpf_context access off=64 size=8", EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, OFF(cb) + 16), EBPF_EXIT());
    /* Misaligned. */
    REJECT("invalid bpf_context access off=50 size=4", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, OFF(cb) + 2), EBPF_EXIT());
}

Test(skb_ctx, refused_accesses)
{
    REJECT("invalid bpf_context access off=8 size=4", EBPF_MOV64_IMM(2, 1), EBPF_STX_MEM(EBPF_SIZE_W, 1, 2, OFF(mark)),
           EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    REJECT("invalid bpf_context access off=76 size=4", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, OFF(data)), EBPF_EXIT());
    REJECT("invalid bpf_context access off=88 size=4", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, OFF(family)), EBPF_EXIT());
    REJECT("invalid bpf_context access off=72 size=4", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, OFF(tc_classid)), EBPF_EXIT());
    REJECT("invalid bpf_context access off=0 size=8", EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, OFF(len)), EBPF_EXIT());
    REJECT("invalid bpf_context access off=1 size=2", EBPF_LDX_MEM(EBPF_SIZE_H, 0, 1, 1), EBPF_EXIT());
    REJECT("invalid bpf_context access off=192 size=4", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, 192), EBPF_EXIT());
    REJECT("invalid bpf_context access off=168 size=8", EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 1, OFF(sk)), EBPF_EXIT());
}

Test(skb_ld_abs, verifier_rules)
{
    ACCEPT(EBPF_MOV64_REG(6, 1), EBPF_LD_ABS(EBPF_SIZE_H, 12), EBPF_MOV64_IMM(2, 3),
           EBPF_LD_IND(EBPF_SIZE_B, 2, 20), EBPF_EXIT());
    REJECT("at the time of BPF_LD_ABS|IND R6 != pointer to skb", EBPF_MOV64_IMM(6, 0),
           EBPF_LD_ABS(EBPF_SIZE_W, 0), EBPF_EXIT());
    REJECT("R6 !read_ok", EBPF_LD_ABS(EBPF_SIZE_W, 0), EBPF_EXIT());
    REJECT("R2 !read_ok", EBPF_MOV64_REG(6, 1), EBPF_LD_IND(EBPF_SIZE_W, 2, 0), EBPF_EXIT());
    /* r1-r5 are clobbered. */
    REJECT("R1 !read_ok", EBPF_MOV64_REG(6, 1), EBPF_LD_ABS(EBPF_SIZE_B, 0), EBPF_MOV64_REG(0, 1), EBPF_EXIT());
    REJECT("dereference of modified ctx ptr R6 off=4 disallowed", EBPF_MOV64_REG(6, 1),
           EBPF_ALU64_IMM(EBPF_ALU_ADD, 6, 4), EBPF_LD_ABS(EBPF_SIZE_B, 0), EBPF_EXIT());
}

/* In a subprogram an out-of-bounds load returns 0 to the caller (the
 * kernel's hidden `r0 = 0; exit`): both paths are explored. */
Test(skb_ld_abs, subprogram_both_paths)
{
    /* 0: call 3; 1: r0 += 100; 2: exit; 3: r6 = r1; 4: r0 = ld_abs; 5: exit */
    ACCEPT(EBPF_CALL_LOCAL(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 100), EBPF_EXIT(), EBPF_MOV64_REG(6, 1),
           EBPF_LD_ABS(EBPF_SIZE_B, 0), EBPF_EXIT());
    /* The hidden exit: from the load to after the call, r0 = 0. */
    cr_expect(strstr(vlog, "from 4 to 1: R0=0"), "%s", vlog);
    ACCEPT(EBPF_CALL_LOCAL(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 100), EBPF_EXIT(), EBPF_MOV64_REG(6, 1),
           EBPF_MOV64_IMM(7, 3), EBPF_LD_IND(EBPF_SIZE_H, 7, 0), EBPF_EXIT());
    /* The subprogram returns 5 after the load; the caller dereferences r0
     * unless it is 5: only the hidden exit (r0 = 0) reaches that. */
    REJECT("R0 invalid mem access 'scalar'", EBPF_CALL_LOCAL(4), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 5, 2),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0), EBPF_EXIT(), EBPF_EXIT(), EBPF_MOV64_REG(6, 1),
           EBPF_LD_ABS(EBPF_SIZE_B, 0), EBPF_MOV64_IMM(0, 5), EBPF_EXIT());
    /* The other way round: the caller is wrong unless r0 is 0, which only
     * the hidden exit guarantees; the load's own path (r0 = 5) fails. */
    REJECT("R0 invalid mem access 'scalar'", EBPF_CALL_LOCAL(4), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 2),
           EBPF_LDX_MEM(EBPF_SIZE_DW, 0, 0, 0), EBPF_EXIT(), EBPF_EXIT(), EBPF_MOV64_REG(6, 1),
           EBPF_LD_ABS(EBPF_SIZE_B, 0), EBPF_MOV64_IMM(0, 5), EBPF_EXIT());
    /* r1-r5 are clobbered on both paths: after the load in the callee ... */
    REJECT("R1 !read_ok", EBPF_CALL_LOCAL(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 100), EBPF_EXIT(),
           EBPF_MOV64_REG(6, 1), EBPF_LD_ABS(EBPF_SIZE_B, 0), EBPF_MOV64_REG(0, 1), EBPF_EXIT());
    /* ... and in the caller after either exit. */
    REJECT("R2 !read_ok", EBPF_MOV64_IMM(2, 1), EBPF_CALL_LOCAL(2), EBPF_MOV64_REG(0, 2), EBPF_EXIT(),
           EBPF_MOV64_REG(6, 1), EBPF_LD_ABS(EBPF_SIZE_B, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT());
    /* The rules of the load still hold in the subprogram: r6 is the
     * callee's, not inherited from the caller. */
    REJECT("R6 !read_ok", EBPF_MOV64_REG(6, 1), EBPF_CALL_LOCAL(1), EBPF_EXIT(), EBPF_LD_ABS(EBPF_SIZE_B, 0),
           EBPF_EXIT());
}

Test(skb_ld_abs, refused_for_memory_programs_by_the_verifier)
{
    const struct ebpf_insn p[] = {EBPF_MOV64_REG(6, 1), EBPF_LD_ABS(EBPF_SIZE_B, 0), EBPF_EXIT()};
    ebpfvm_vm *vm = new_vm();
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_MEMORY};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, p, EBPF_NWORDS(p), &lo, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .mem_size = 16};
    cr_assert_neq(ebpfvm_prog_verify(prog, &vo), 0);
    cr_expect(strstr(ebpfvm_vm_errmsg(vm), "BPF_LD_[ABS|IND] instructions not allowed for this program type"), "%s",
              ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
}

/* A frame: Ethernet (IPv4) then bytes 14.. = 14, 15, ... */
static void make_frame(uint8_t *frame, size_t n)
{
    for (size_t i = 0; i < n; i++)
        frame[i] = (uint8_t)i;
    frame[12] = 0x08;
    frame[13] = 0x00;
}

struct run_out {
    int status;
    uint64_t r0;
    char message[256];
};

static const enum ebpfvm_exec_mode modes[] = {EBPFVM_EXEC_CHECKED, EBPFVM_EXEC_FAST, EBPFVM_EXEC_JIT};

/* Verify, JIT, and run in all three engines on the same frame; the
 * engines must agree; returns the checked run. */
static struct run_out run_all(const struct ebpf_insn *insns, size_t n, uint8_t *frame, uint32_t len)
{
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    char msg[512];
    cr_assert_eq(verify(vm, insns, n, &prog, msg, sizeof msg), 0, "rejected: %s\n%s", msg, vlog);
    cr_assert_eq(ebpfvm_prog_jit(prog, 0), 0, "jit: %s", ebpfvm_vm_errmsg(vm));
    struct run_out first = {0};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        struct ebpfvm_sk_buff skb;
        ebpfvm_sk_buff_init(&skb, frame, len);
        struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = modes[m]};
        struct ebpfvm_run_result res;
        struct run_out out = {0};
        out.status = ebpfvm_prog_run(prog, &skb, sizeof skb, &ro, &res);
        out.r0 = res.r0;
        snprintf(out.message, sizeof out.message, "%s", res.message);
        if (m == 0) {
            first = out;
        } else {
            cr_expect_eq(out.status, first.status, "mode %d status %d vs %d", (int)modes[m], out.status,
                         first.status);
            cr_expect_eq(out.r0, first.r0, "mode %d r0 %llu vs %llu", (int)modes[m], (unsigned long long)out.r0,
                         (unsigned long long)first.r0);
        }
    }
    ebpfvm_vm_destroy(vm);
    return first;
}

Test(skb_run, ld_abs_reads_the_packet_big_endian)
{
    uint8_t frame[64];
    make_frame(frame, sizeof frame);
    const struct ebpf_insn p[] = {EBPF_MOV64_REG(6, 1), EBPF_LD_ABS(EBPF_SIZE_H, 12), EBPF_EXIT()};
    struct run_out o = run_all(p, EBPF_NWORDS(p), frame, sizeof frame);
    cr_assert_eq(o.status, 0, "%s", o.message);
    cr_expect_eq(o.r0, 0x0800);

    const struct ebpf_insn q[] = {EBPF_MOV64_REG(6, 1), EBPF_MOV64_IMM(7, 20), EBPF_LD_IND(EBPF_SIZE_W, 7, 10),
                                  EBPF_EXIT()};
    o = run_all(q, EBPF_NWORDS(q), frame, sizeof frame);
    cr_expect_eq(o.r0, 0x1e1f2021u); /* bytes 30..33 */
}

Test(skb_run, ld_abs_past_the_end_returns_zero)
{
    uint8_t frame[64];
    make_frame(frame, sizeof frame);
    /* r0 = 5 would be returned if the load did not end the program. */
    const struct ebpf_insn p[] = {EBPF_MOV64_REG(6, 1), EBPF_LD_ABS(EBPF_SIZE_W, 61), EBPF_MOV64_IMM(0, 5),
                                  EBPF_EXIT()};
    struct run_out o = run_all(p, EBPF_NWORDS(p), frame, sizeof frame);
    cr_assert_eq(o.status, 0, "%s", o.message);
    cr_expect_eq(o.r0, 0);
    /* The last 4 bytes are in range. */
    const struct ebpf_insn q[] = {EBPF_MOV64_REG(6, 1), EBPF_LD_ABS(EBPF_SIZE_W, 60), EBPF_EXIT()};
    o = run_all(q, EBPF_NWORDS(q), frame, sizeof frame);
    cr_expect_eq(o.r0, 0x3c3d3e3fu);
}

/*
 * A subprogram's out-of-bounds load returns 0 to its caller, which goes on
 * with its r7 and its stack (r10) restored:
 *   r7 = 1000; *(fp - 8) = 77; call sub; r0 += r7 + *(fp - 8) + 100; exit
 *   sub: r6 = r1; r7 = 3; *(fp - 8) = 55; r0 = ld_abs w [off]; exit
 */
#define SUBPROG_LOAD(off)                                                                                          \
    {                                                                                                              \
        EBPF_MOV64_IMM(7, 1000), EBPF_MOV64_IMM(2, 77), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 2, -8),                   \
            EBPF_CALL_LOCAL(5), EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 7), EBPF_LDX_MEM(EBPF_SIZE_DW, 2, 10, -8),         \
            EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 100), EBPF_EXIT(),                  \
            EBPF_MOV64_REG(6, 1), EBPF_MOV64_IMM(7, 3), EBPF_MOV64_IMM(3, 55),                                    \
            EBPF_STX_MEM(EBPF_SIZE_DW, 10, 3, -8), EBPF_LD_ABS(EBPF_SIZE_W, off), EBPF_EXIT()                     \
    }

Test(skb_run, ld_abs_in_a_subprogram_returns_zero_to_the_caller)
{
    uint8_t frame[64];
    make_frame(frame, sizeof frame);
    const struct ebpf_insn out[] = SUBPROG_LOAD(61);
    struct run_out o = run_all(out, EBPF_NWORDS(out), frame, sizeof frame);
    cr_assert_eq(o.status, 0, "%s", o.message);
    cr_expect_eq(o.r0, 1177u);
    const struct ebpf_insn in[] = SUBPROG_LOAD(60);
    o = run_all(in, EBPF_NWORDS(in), frame, sizeof frame);
    cr_assert_eq(o.status, 0, "%s", o.message);
    cr_expect_eq(o.r0, 0x3c3d3e3fu + 1177u);
}
#undef SUBPROG_LOAD

Test(skb_run, ld_ind_two_calls_deep_returns_to_the_middle_frame)
{
    uint8_t frame[64];
    make_frame(frame, sizeof frame);
    /* main: call a; r0 += 100; exit
     * a:    call b; r0 += 10; exit
     * b:    r6 = r1; r7 = 30; r0 = ld_ind b [r7 + imm]; exit */
#define TWO_DEEP(imm)                                                                                              \
    {                                                                                                              \
        EBPF_CALL_LOCAL(2), EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 100), EBPF_EXIT(), EBPF_CALL_LOCAL(2),                 \
            EBPF_ALU64_IMM(EBPF_ALU_ADD, 0, 10), EBPF_EXIT(), EBPF_MOV64_REG(6, 1), EBPF_MOV64_IMM(7, 30),        \
            EBPF_LD_IND(EBPF_SIZE_B, 7, imm), EBPF_EXIT()                                                         \
    }
    const struct ebpf_insn out[] = TWO_DEEP(34);
    struct run_out o = run_all(out, EBPF_NWORDS(out), frame, sizeof frame);
    cr_assert_eq(o.status, 0, "%s", o.message);
    cr_expect_eq(o.r0, 110u);
    const struct ebpf_insn in[] = TWO_DEEP(33);
    o = run_all(in, EBPF_NWORDS(in), frame, sizeof frame);
    cr_assert_eq(o.status, 0, "%s", o.message);
    cr_expect_eq(o.r0, 63u + 110u);

    /* The counting fast loop (a budget) does the same. */
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    char msg[512];
    cr_assert_eq(verify(vm, out, EBPF_NWORDS(out), &prog, msg, sizeof msg), 0, "%s", msg);
    struct ebpfvm_sk_buff skb;
    ebpfvm_sk_buff_init(&skb, frame, sizeof frame);
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_FAST, .insn_budget = 100};
    struct ebpfvm_run_result res;
    cr_assert_eq(ebpfvm_prog_run(prog, &skb, sizeof skb, &ro, &res), 0, "%s", res.message);
    cr_expect_eq(res.r0, 110u);
    ebpfvm_vm_destroy(vm);
#undef TWO_DEEP
}

Test(skb_run, context_fields_and_cb)
{
    uint8_t frame[60];
    make_frame(frame, sizeof frame);
    /* cb[1] = len; return cb[1] + protocol (0x0008 little-endian read of be16 0x0800). */
    const struct ebpf_insn p[] = {EBPF_LDX_MEM(EBPF_SIZE_W, 2, 1, OFF(len)),
                                  EBPF_STX_MEM(EBPF_SIZE_W, 1, 2, OFF(cb) + 4),
                                  EBPF_LDX_MEM(EBPF_SIZE_W, 0, 1, OFF(cb) + 4),
                                  EBPF_LDX_MEM(EBPF_SIZE_H, 3, 1, OFF(protocol)),
                                  EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 3),
                                  EBPF_EXIT()};
    struct run_out o = run_all(p, EBPF_NWORDS(p), frame, sizeof frame);
    cr_assert_eq(o.status, 0, "%s", o.message);
    uint16_t proto;
    memcpy(&proto, frame + 12, 2);
    cr_expect_eq(o.r0, 60u + proto);
}

Test(skb_run, skb_load_bytes)
{
    uint8_t frame[40];
    make_frame(frame, sizeof frame);
    /* r0 = skb_load_bytes(ctx, r7, fp-8, 4) ? : *(u32 *)(fp-8) */
#define LOAD_AT(off)                                                                                                \
    {                                                                                                              \
        EBPF_MOV64_IMM(2, off), EBPF_MOV64_REG(3, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -8), EBPF_MOV64_IMM(4, 4),  \
            EBPF_CALL_HELPER(EBPF_HELPER_skb_load_bytes), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 1), EBPF_EXIT(),       \
            EBPF_LDX_MEM(EBPF_SIZE_W, 0, 10, -8), EBPF_EXIT()                                                     \
    }
    const struct ebpf_insn ok[] = LOAD_AT(36);
    struct run_out o = run_all(ok, EBPF_NWORDS(ok), frame, sizeof frame);
    cr_assert_eq(o.status, 0, "%s", o.message);
    uint32_t want;
    memcpy(&want, frame + 36, 4);
    cr_expect_eq(o.r0, want);
    const struct ebpf_insn bad[] = LOAD_AT(37);
    o = run_all(bad, EBPF_NWORDS(bad), frame, sizeof frame);
    cr_expect_eq((int64_t)o.r0, -14, "want -EFAULT, got %lld", (long long)o.r0);
#undef LOAD_AT
}

Test(skb_run, xdp_programs_may_not_call_skb_load_bytes)
{
    const struct ebpf_insn p[] = {EBPF_MOV64_IMM(2, 0), EBPF_MOV64_REG(3, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -8),
                                  EBPF_MOV64_IMM(4, 4), EBPF_CALL_HELPER(EBPF_HELPER_skb_load_bytes), EBPF_EXIT()};
    ebpfvm_vm *vm = new_vm();
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_XDP};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, p, EBPF_NWORDS(p), &lo, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_verify_opts vo = {.sz = sizeof vo};
    cr_assert_neq(ebpfvm_prog_verify(prog, &vo), 0);
    cr_expect(strstr(ebpfvm_vm_errmsg(vm), "skb_load_bytes#26"), "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
}

Test(skb_run, wrong_context_is_refused)
{
    const struct ebpf_insn p[] = {EBPF_MOV64_IMM(0, 0), EBPF_EXIT()};
    ebpfvm_vm *vm = new_vm();
    ebpfvm_prog *prog = NULL;
    char msg[256];
    cr_assert_eq(verify(vm, p, EBPF_NWORDS(p), &prog, msg, sizeof msg), 0, "%s", msg);
    struct ebpfvm_sk_buff skb;
    ebpfvm_sk_buff_init(&skb, NULL, 0);
    struct ebpfvm_run_result res;
    cr_expect_neq(ebpfvm_prog_run(prog, &skb, sizeof skb.md, NULL, &res), 0);
    cr_expect(strstr(res.message, "a socket filter needs ctx = a struct ebpfvm_sk_buff"), "%s", res.message);
    skb.md.len = 10;
    cr_expect_neq(ebpfvm_prog_run(prog, &skb, sizeof skb, NULL, &res), 0);
    cr_expect(strstr(res.message, "md.len bytes but data is 0"), "%s", res.message);
    ebpfvm_vm_destroy(vm);
}

Test(skb_load, unverified_programs_get_the_same_context_rules)
{
    /* The load-time pass (for programs run unverified, in checked mode). */
    const struct ebpf_insn p[] = {EBPF_MOV64_IMM(2, 1), EBPF_STX_MEM(EBPF_SIZE_W, 1, 2, OFF(mark)),
                                  EBPF_MOV64_IMM(0, 0), EBPF_EXIT()};
    ebpfvm_vm *vm = new_vm();
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = SKB};
    ebpfvm_prog *prog = NULL;
    cr_assert_neq(ebpfvm_prog_load(vm, p, EBPF_NWORDS(p), &lo, &prog), 0);
    cr_expect(strstr(ebpfvm_vm_errmsg(vm), "insn 1: invalid bpf_context access off=8 size=4"), "%s",
              ebpfvm_vm_errmsg(vm));
    const struct ebpf_insn q[] = {EBPF_ST_MEM(EBPF_SIZE_B, 1, OFF(cb) + 3, 9), EBPF_LDX_MEM(EBPF_SIZE_B, 0, 1, OFF(cb) + 3),
                                  EBPF_EXIT()};
    cr_assert_eq(ebpfvm_prog_load(vm, q, EBPF_NWORDS(q), &lo, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    uint8_t frame[20] = {0};
    struct ebpfvm_sk_buff skb;
    ebpfvm_sk_buff_init(&skb, frame, sizeof frame);
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED};
    struct ebpfvm_run_result res;
    cr_assert_eq(ebpfvm_prog_run(prog, &skb, sizeof skb, &ro, &res), 0, "%s", res.message);
    cr_expect_eq(res.r0, 9);
    cr_expect_eq(skb.md.cb[0], 9u << 24);
    ebpfvm_vm_destroy(vm);
}

/* An unverified program cannot retarget LD_ABS: in checked mode the
 * packet's address in struct ebpfvm_sk_buff is read-only. */
Test(skb_load, checked_mode_protects_the_packet_address)
{
    const struct ebpf_insn p[] = {EBPF_MOV64_IMM(2, 192), EBPF_ALU64_REG(EBPF_ALU_ADD, 1, 2), EBPF_MOV64_IMM(3, 0),
                                  EBPF_STX_MEM(EBPF_SIZE_DW, 1, 3, 0), EBPF_MOV64_IMM(0, 0), EBPF_EXIT()};
    ebpfvm_vm *vm = new_vm();
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = SKB};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, p, EBPF_NWORDS(p), &lo, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    uint8_t frame[20] = {0};
    struct ebpfvm_sk_buff skb;
    ebpfvm_sk_buff_init(&skb, frame, sizeof frame);
    struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED};
    struct ebpfvm_run_result res;
    cr_assert_eq(ebpfvm_prog_run(prog, &skb, sizeof skb, &ro, &res), EBPFVM_ERR_FAULT);
    cr_expect(strstr(res.message, "insn 3: invalid write of 8 bytes"), "%s", res.message);
    cr_expect_eq(skb.data, (uint64_t)(uintptr_t)frame);
    ebpfvm_vm_destroy(vm);
}
