/*
 * tests/xdp_modes.h - shared by tests/test_xdp_ctx.c, test_xdp_helpers.c
 * and test_tailcall.c (header-only: tests/support belongs to the interpreter
 * tests). Runs an XDP program on a packet in every execution mode and
 * asserts that the modes agree.
 *
 * xt_run_all() runs the program in the checked interpreter, in the fast
 * interpreter (EBPFVM_RUN_ALLOW_UNVERIFIED_FAST) and, when the JIT compiles
 * it (EBPFVM_JIT_ALLOW_UNVERIFIED), natively; each run gets a fresh frame
 * built by ebpfvm_xdp_buff_init. It asserts the same status, r0, message and
 * output bytes (data_meta..data_end, what BPF_PROG_TEST_RUN returns) and
 * returns the checked run.
 */
#ifndef EBPFVM_TESTS_XDP_MODES_H
#define EBPFVM_TESTS_XDP_MODES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/xdp.h>

#include "insn.h"

struct xt_result {
    int status;
    uint64_t r0;
    int32_t fault_pc;
    char message[256];
    struct ebpfvm_xdp_buff buff; /* after the run (pointers into frame) */
    uint8_t frame[EBPFVM_XDP_FRAME_SIZE];
    size_t out_len;               /* data_end - data_meta */
    size_t meta_len;              /* data - data_meta */
    uint8_t out[EBPFVM_XDP_FRAME_SIZE]; /* the bytes from data_meta to data_end */
};

/* The checked run of the last xt_r0() and whether the JIT ran too. */
static struct xt_result xt_last;
static bool xt_last_jit;

/* Options every run of a test gets (ktime, seed, cpu, budget). */
static struct ebpfvm_run_opts xt_opts = {.sz = sizeof(struct ebpfvm_run_opts)};

static inline ebpfvm_vm *xt_vm_opts(const struct ebpfvm_helper_opts *hopts)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), EBPFVM_OK);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, hopts), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    return vm;
}

static inline ebpfvm_vm *xt_vm(void)
{
    return xt_vm_opts(NULL);
}

static inline ebpfvm_prog *xt_load(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count)
{
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_XDP, .name = "t"};
    ebpfvm_prog *prog = NULL;
    int rc = ebpfvm_prog_load(vm, insns, count, &lo, &prog);
    cr_assert_eq(rc, EBPFVM_OK, "load: %d %s", rc, ebpfvm_vm_errmsg(vm));
    return prog;
}

/* Load expecting failure; returns the status (message in the vm). */
static inline int xt_load_fail(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count)
{
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_XDP, .name = "t"};
    ebpfvm_prog *prog = NULL;
    int rc = ebpfvm_prog_load(vm, insns, count, &lo, &prog);
    cr_assert_neq(rc, EBPFVM_OK, "expected the load to fail");
    cr_assert_null(prog);
    return rc;
}

/* A packet of len bytes 0, 1, 2, ... */
static inline void xt_packet(uint8_t *pkt, size_t len)
{
    for (size_t i = 0; i < len; i++)
        pkt[i] = (uint8_t)i;
}

static inline void xt_run_mode(const ebpfvm_prog *prog, enum ebpfvm_exec_mode mode, const uint8_t *pkt, size_t len,
                               struct xt_result *res)
{
    memset(res, 0, sizeof *res);
    cr_assert_eq(ebpfvm_xdp_buff_init(&res->buff, res->frame, sizeof res->frame, pkt, len), EBPFVM_OK);
    struct ebpfvm_run_opts o = xt_opts;
    o.mode = mode;
    o.flags |= EBPFVM_RUN_ALLOW_UNVERIFIED_FAST;
    struct ebpfvm_run_result rr;
    res->status = ebpfvm_prog_run(prog, &res->buff, sizeof res->buff, &o, &rr);
    res->r0 = rr.r0;
    res->fault_pc = rr.fault_pc;
    snprintf(res->message, sizeof res->message, "%s", rr.message);
    res->out_len = (size_t)(res->buff.data_end - res->buff.data_meta);
    res->meta_len = (size_t)(res->buff.data - res->buff.data_meta);
    memcpy(res->out, (const void *)(uintptr_t)res->buff.data_meta, res->out_len);
}

static inline const char *xt_mode_name(enum ebpfvm_exec_mode mode)
{
    return mode == EBPFVM_EXEC_CHECKED ? "checked" : mode == EBPFVM_EXEC_FAST ? "fast" : "jit";
}

static inline void xt_assert_same(const struct xt_result *a, const struct xt_result *b, enum ebpfvm_exec_mode mode)
{
    const char *m = xt_mode_name(mode);
    cr_assert_eq(b->status, a->status, "%s: status %d, checked %d (%s / %s)", m, b->status, a->status, b->message,
                 a->message);
    cr_assert_eq(b->r0, a->r0, "%s: r0 %llu, checked %llu", m, (unsigned long long)b->r0,
                 (unsigned long long)a->r0);
    cr_assert_str_eq(b->message, a->message, "%s: message differs", m);
    cr_assert_eq(b->out_len, a->out_len, "%s: output length %zu, checked %zu", m, b->out_len, a->out_len);
    cr_assert_eq(b->meta_len, a->meta_len, "%s: metadata length differs", m);
    cr_assert(memcmp(b->out, a->out, a->out_len) == 0, "%s: output bytes differ", m);
    cr_assert_eq(b->buff.redirect_kind, a->buff.redirect_kind, "%s: redirect kind differs", m);
    cr_assert_eq(b->buff.redirect_target, a->buff.redirect_target, "%s: redirect target differs", m);
}

/* Checked, fast and (when it compiles) JIT; asserts agreement. *res gets the
 * checked run. Whether the JIT ran is returned. */
static inline bool xt_run_all(ebpfvm_prog *prog, const uint8_t *pkt, size_t len, struct xt_result *res)
{
    static struct xt_result other; /* large: not on the stack */
    xt_run_mode(prog, EBPFVM_EXEC_CHECKED, pkt, len, res);
    xt_run_mode(prog, EBPFVM_EXEC_FAST, pkt, len, &other);
    xt_assert_same(res, &other, EBPFVM_EXEC_FAST);
    if (ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED) != EBPFVM_OK || !ebpfvm_prog_is_jitted(prog))
        return false;
    xt_run_mode(prog, EBPFVM_EXEC_JIT, pkt, len, &other);
    xt_assert_same(res, &other, EBPFVM_EXEC_JIT);
    return true;
}

/* Load and run on a default 64-byte packet in every mode; returns r0
 * (asserting success). The checked run stays in xt_last. */
static inline uint64_t xt_r0(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count)
{
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    ebpfvm_prog *prog = xt_load(vm, insns, count);
    xt_last_jit = xt_run_all(prog, pkt, sizeof pkt, &xt_last);
    cr_assert_eq(xt_last.status, EBPFVM_OK, "run: %s", xt_last.message);
    return xt_last.r0;
}

#define XT_PROG(...) ((const struct ebpf_insn[]){__VA_ARGS__})
#define XT_LEN(...) (sizeof(XT_PROG(__VA_ARGS__)) / sizeof(struct ebpf_insn))

#endif /* EBPFVM_TESTS_XDP_MODES_H */
