/*
 * tests/test_xdp_ctx.c - the XDP program type: ebpfvm_xdp_buff_init, the
 * load-time context rewrite (vm/ctx_rewrite.c) with the kernel's accept /
 * reject decisions and messages, and running XDP programs through
 * ebpfvm_prog_run in the checked and fast interpreters and the JIT.
 *
 * Kernel messages were taken from the running kernel (6.18) by loading the
 * same instructions with BPF_PROG_LOAD (BPF_PROG_TYPE_XDP) and reading the
 * verifier log's last line.
 */
#include <stdlib.h>

#include "xdp_modes.h"

#if defined(EBPFVM_HAVE_XDP_RUNTIME)
#include <ebpfvm/loader.h>
#endif

#define R(size) EBPF_SIZE_##size

/* ------------------------------------------------------------ buff_init */

Test(xdp_ctx, buff_init_layout)
{
    static uint8_t frame[EBPFVM_XDP_FRAME_SIZE];
    uint8_t pkt[60];
    xt_packet(pkt, sizeof pkt);
    struct ebpfvm_xdp_buff buff;
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, sizeof pkt), EBPFVM_OK);
    cr_assert_eq(buff.data_hard_start, (uint64_t)(uintptr_t)frame);
    cr_assert_eq(buff.data - buff.data_hard_start, 256);
    cr_assert_eq(buff.data_meta, buff.data, "no metadata");
    cr_assert_eq(buff.data_end - buff.data, 60);
    cr_assert_eq(buff.frame_sz, 4096);
    cr_assert_eq(buff.ingress_ifindex, 1, "loopback, as BPF_PROG_TEST_RUN");
    cr_assert_eq(buff.rx_queue_index, 0);
    cr_assert_eq(buff.redirect_kind, EBPFVM_XDP_REDIRECT_NONE);
    cr_assert(memcmp(frame + 256, pkt, sizeof pkt) == 0);
    cr_assert_eq(EBPFVM_XDP_MAX_PACKET, 3520);
}

Test(xdp_ctx, buff_init_errors)
{
    static uint8_t frame[EBPFVM_XDP_FRAME_SIZE];
    static uint8_t pkt[EBPFVM_XDP_FRAME_SIZE];
    struct ebpfvm_xdp_buff buff;
    cr_assert_eq(ebpfvm_xdp_buff_init(NULL, frame, sizeof frame, pkt, 64), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, NULL, sizeof frame, pkt, 64), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, NULL, 64), EBPFVM_ERR_INVAL);
    /* BPF_PROG_TEST_RUN refuses packets shorter than ETH_HLEN with EINVAL,
     * and takes up to 4096 - 256 - 320 = 3520 bytes in one frame. */
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, 13), EBPFVM_ERR_RANGE);
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, 14), EBPFVM_OK);
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, 3520), EBPFVM_OK);
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, 3521), EBPFVM_ERR_RANGE);
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, 500, pkt, 14), EBPFVM_ERR_RANGE, "no room for head+tailroom");
}

/* ------------------------------------------------------- reading fields */

Test(xdp_ctx, reads_every_field)
{
    ebpfvm_vm *vm = xt_vm();
    /* data_end - data */
    cr_assert_eq(xt_r0(vm, XT_PROG(EBPF_LDX_MEM(R(W), 2, 1, 0), EBPF_LDX_MEM(R(W), 0, 1, 4),
                                   EBPF_ALU64_REG(EBPF_ALU_SUB, 0, 2), EBPF_EXIT()),
                       4),
                 64);
    /* data - data_meta (no metadata) */
    cr_assert_eq(xt_r0(vm, XT_PROG(EBPF_LDX_MEM(R(W), 0, 1, 0), EBPF_LDX_MEM(R(W), 2, 1, 8),
                                   EBPF_ALU64_REG(EBPF_ALU_SUB, 0, 2), EBPF_EXIT()),
                       4),
                 0);
    cr_assert_eq(xt_r0(vm, XT_PROG(EBPF_LDX_MEM(R(W), 0, 1, 12), EBPF_EXIT()), 2), 1, "ingress_ifindex");
    cr_assert_eq(xt_r0(vm, XT_PROG(EBPF_LDX_MEM(R(W), 0, 1, 16), EBPF_EXIT()), 2), 0, "rx_queue_index");
    /* A sign-extending load of a scalar field is allowed by the kernel too. */
    cr_assert_eq(xt_r0(vm, XT_PROG(EBPF_LDXS_MEM(R(W), 0, 1, 12), EBPF_EXIT()), 2), 1);
    ebpfvm_vm_destroy(vm);
}

/* Bounds-checked packet read: byte 12 of the packet (0, 1, 2, ...). */
static const struct ebpf_insn read_byte12[] = {
    EBPF_LDX_MEM(R(W), 2, 1, 0),            /* r2 = data */
    EBPF_LDX_MEM(R(W), 3, 1, 4),            /* r3 = data_end */
    EBPF_MOV64_REG(4, 2),                   /* r4 = r2 */
    EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, 13),    /* r4 += 13 */
    EBPF_MOV64_IMM(0, 1),                   /* r0 = XDP_DROP */
    EBPF_JMP_REG(EBPF_JMP_JGT, 4, 3, 1),    /* if r4 > r3 goto exit */
    EBPF_LDX_MEM(R(B), 0, 2, 12),           /* r0 = *(u8 *)(r2 + 12) */
    EBPF_EXIT(),
};

Test(xdp_ctx, packet_read_with_bounds_check)
{
    ebpfvm_vm *vm = xt_vm();
    cr_assert_eq(xt_r0(vm, read_byte12, EBPF_NWORDS(read_byte12)), 12);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_ctx, ctx_tracked_through_mov_spill_fill_and_call)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_REG(6, 1),                       /* r6 = ctx */
        EBPF_STX_MEM(R(DW), 10, 6, -16),            /* *(u64 *)(r10 - 16) = r6 */
        EBPF_MOV64_IMM(1, 0),                       /* r1 = 0 (not the ctx any more) */
        EBPF_CALL_HELPER(EBPF_HELPER_ktime_get_ns), /* clobbers r1..r5 */
        EBPF_LDX_MEM(R(DW), 7, 10, -16),            /* r7 = ctx (fill) */
        EBPF_MOV64_REG(1, 7),
        EBPF_CALL_LOCAL(3),                         /* r0 = sub(ctx) */
        EBPF_LDX_MEM(R(W), 2, 7, 12),               /* r2 = ingress_ifindex */
        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 2),
        EBPF_EXIT(),
        /* sub: return data_end - data through a copy of its r1 */
        EBPF_MOV64_REG(3, 1),
        EBPF_LDX_MEM(R(W), 0, 3, 4),
        EBPF_LDX_MEM(R(W), 4, 1, 0),
        EBPF_ALU64_REG(EBPF_ALU_SUB, 0, 4),
        EBPF_EXIT(),
    };
    cr_assert_eq(xt_r0(vm, prog, EBPF_NWORDS(prog)), 64 + 1);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_ctx, the_original_words_are_kept)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_LDX_MEM(R(W), 0, 1, 4), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, prog, 2);
    size_t count = 0;
    const struct ebpf_insn *insns = ebpfvm_prog_insns(p, &count);
    cr_assert_eq(count, 2);
    cr_assert(memcmp(insns, prog, sizeof prog) == 0, "prog->insns is what was loaded");
    ebpfvm_vm_destroy(vm);
}

Test(xdp_ctx, memory_programs_are_not_rewritten)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_LDX_MEM(R(DW), 0, 1, 0), EBPF_EXIT()};
    ebpfvm_prog *p = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, prog, 2, NULL, &p), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    uint64_t mem = 0x1122334455667788ull;
    struct ebpfvm_run_result rr;
    cr_assert_eq(ebpfvm_prog_run(p, &mem, sizeof mem, NULL, &rr), EBPFVM_OK, "%s", rr.message);
    cr_assert_eq(rr.r0, mem);
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------------ rejections */

static void assert_rejected(const struct ebpf_insn *insns, size_t count, const char *message)
{
    ebpfvm_vm *vm = xt_vm();
    cr_assert_eq(xt_load_fail(vm, insns, count), EBPFVM_ERR_BADPROG);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), message);
    ebpfvm_vm_destroy(vm);
}

#define REJECTS(message, ...) assert_rejected(XT_PROG(__VA_ARGS__), XT_LEN(__VA_ARGS__), message)

Test(xdp_ctx, rejects_bad_field_accesses_like_the_kernel)
{
    REJECTS("insn 0: invalid bpf_context access off=0 size=8", EBPF_LDX_MEM(R(DW), 0, 1, 0), EBPF_EXIT());
    REJECTS("insn 0: invalid bpf_context access off=12 size=2", EBPF_LDX_MEM(R(H), 0, 1, 12), EBPF_EXIT());
    REJECTS("insn 0: invalid bpf_context access off=2 size=4", EBPF_LDX_MEM(R(W), 0, 1, 2), EBPF_EXIT());
    REJECTS("insn 0: invalid bpf_context access off=24 size=4", EBPF_LDX_MEM(R(W), 0, 1, 24), EBPF_EXIT());
    REJECTS("insn 0: invalid bpf_context access off=-4 size=4", EBPF_LDX_MEM(R(W), 0, 1, -4), EBPF_EXIT());
    /* egress_ifindex: devmap programs only (ebpfvm has none). */
    REJECTS("insn 0: invalid bpf_context access off=20 size=4", EBPF_LDX_MEM(R(W), 0, 1, 20), EBPF_EXIT());
}

Test(xdp_ctx, rejects_stores_to_the_context)
{
    REJECTS("insn 1: invalid bpf_context access off=0 size=4", EBPF_MOV64_IMM(0, 2),
            EBPF_STX_MEM(R(W), 1, 0, 0), EBPF_EXIT());
    /* 6.18 reports BPF_ST like a failed field access too. */
    REJECTS("insn 0: invalid bpf_context access off=16 size=4", EBPF_ST_MEM(R(W), 1, 16, 1), EBPF_MOV64_IMM(0, 2),
            EBPF_EXIT());
    REJECTS("insn 1: BPF_ATOMIC stores into R1 ctx is not allowed", EBPF_MOV64_IMM(2, 1),
            EBPF_ATOMIC_OP(R(W), EBPF_ATOMIC_ADD, 1, 2, 0), EBPF_MOV64_IMM(0, 2), EBPF_EXIT());
}

Test(xdp_ctx, rejects_modified_context_pointers)
{
    REJECTS("insn 1: dereference of modified ctx ptr R1 off=4 disallowed", EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 4),
            EBPF_LDX_MEM(R(W), 0, 1, 0), EBPF_EXIT());
    /* add then sub back to 0 is the context again */
    const struct ebpf_insn ok[] = {EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, 8), EBPF_ALU64_IMM(EBPF_ALU_SUB, 1, 8),
                                   EBPF_LDX_MEM(R(W), 0, 1, 12), EBPF_EXIT()};
    ebpfvm_vm *vm = xt_vm();
    cr_assert_eq(xt_r0(vm, ok, EBPF_NWORDS(ok)), 1);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_ctx, rejects_a_register_that_may_or_may_not_be_the_context)
{
    /* r2 is the ctx on one path and the stack on the other. */
    REJECTS("insn 4: r2 is the context on some paths but not on others (or at different offsets): cannot "
            "rewrite this access",
            EBPF_MOV64_REG(2, 1),                           /* 0 */
            EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 0, 2),            /* 1 */
            EBPF_MOV64_REG(2, 10),                          /* 2 */
            EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -8),            /* 3 */
            EBPF_LDX_MEM(R(W), 0, 2, 0),                    /* 4 */
            EBPF_EXIT());
    /* a spill slot that holds the ctx on one path only */
    REJECTS("insn 5: r3 is the context on some paths but not on others (or at different offsets): cannot "
            "rewrite this access",
            EBPF_ST_MEM(R(DW), 10, -8, 0),                  /* 0 */
            EBPF_JMP_IMM(EBPF_JMP_JEQ, 1, 0, 1),            /* 1 */
            EBPF_STX_MEM(R(DW), 10, 1, -8),                 /* 2 */
            EBPF_LDX_MEM(R(DW), 3, 10, -8),                 /* 3 */
            EBPF_MOV64_IMM(0, 0),                           /* 4 */
            EBPF_LDX_MEM(R(W), 0, 3, 0),                    /* 5 */
            EBPF_EXIT());
}

Test(xdp_ctx, a_loop_keeps_the_fixed_point)
{
    /* r6 = ctx in a loop that reads ingress_ifindex three times. */
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_REG(6, 1),
        EBPF_MOV64_IMM(0, 0),
        EBPF_MOV64_IMM(7, 3),
        EBPF_LDX_MEM(R(W), 2, 6, 12), /* loop: */
        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 2),
        EBPF_ALU64_IMM(EBPF_ALU_SUB, 7, 1),
        EBPF_JMP_IMM(EBPF_JMP_JNE, 7, 0, -4),
        EBPF_EXIT(),
    };
    ebpfvm_vm *vm = xt_vm();
    cr_assert_eq(xt_r0(vm, prog, EBPF_NWORDS(prog)), 3);
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------------ run errors */

Test(xdp_ctx, run_needs_an_xdp_buff)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_MOV64_IMM(0, 2), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, prog, 2);
    uint8_t mem[64] = {0};
    struct ebpfvm_run_result rr;
    cr_assert_eq(ebpfvm_prog_run(p, mem, sizeof mem, NULL, &rr), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(rr.message, "run: an XDP program needs ctx = a struct ebpfvm_xdp_buff and ctx_size = "
                                 "sizeof(struct ebpfvm_xdp_buff) (see ebpfvm_xdp_buff_init)");
    cr_assert_eq(ebpfvm_prog_run(p, NULL, 0, NULL, &rr), EBPFVM_ERR_INVAL);
    struct ebpfvm_xdp_buff bad;
    memset(&bad, 0, sizeof bad);
    cr_assert_eq(ebpfvm_prog_run(p, &bad, sizeof bad, NULL, &rr), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(rr.message, "run: the struct ebpfvm_xdp_buff is not consistent (data_hard_start <= data_meta "
                                 "<= data <= data_end <= data_hard_start + frame_sz); set it up with "
                                 "ebpfvm_xdp_buff_init");
    ebpfvm_vm_destroy(vm);
}

Test(xdp_ctx, checked_mode_faults_outside_the_packet)
{
    /* No bounds check: byte 100 of a 64-byte packet. */
    const struct ebpf_insn prog[] = {EBPF_LDX_MEM(R(W), 2, 1, 0), EBPF_LDX_MEM(R(B), 0, 2, 100), EBPF_EXIT()};
    ebpfvm_vm *vm = xt_vm();
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    static struct xt_result res;
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_eq(res.fault_pc, 1);
    cr_assert(strstr(res.message, "insn 1: invalid read of 1 bytes at 0x") == res.message, "%s", res.message);
    cr_assert(strstr(res.message, "(r2 + 100): outside the program's memory"), "%s", res.message);
    /* The buff itself is read-only for the program. */
    const struct ebpf_insn write_buff[] = {EBPF_MOV64_REG(2, 1), EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, 0),
                                           EBPF_LDX_MEM(R(W), 3, 1, 0), EBPF_ALU64_IMM(EBPF_ALU_SUB, 3, 256),
                                           EBPF_ST_MEM(R(B), 3, 0, 1), EBPF_MOV64_IMM(0, 2), EBPF_EXIT()};
    p = xt_load(vm, write_buff, EBPF_NWORDS(write_buff));
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT, "the headroom is not the program's");
    cr_assert(strstr(res.message, "insn 4: invalid write of 1 bytes"), "%s", res.message);
    ebpfvm_vm_destroy(vm);
}

/* -------------------------------------------------- a clang-built object */

#if defined(EBPFVM_HAVE_XDP_RUNTIME)
#define OBJ_PATH EBPFVM_BINARY_DIR "/tests/bpf/xdp_ctx.o"

static ebpfvm_prog *load_from_object(ebpfvm_vm *vm, const char *name)
{
    FILE *f = fopen(OBJ_PATH, "rb");
    if (!f)
        cr_skip_test("%s was not built (no clang?)", OBJ_PATH);
    fclose(f);
    ebpfvm_object *obj = NULL;
    cr_assert_eq(ebpfvm_object_open(vm, OBJ_PATH, NULL, &obj), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    size_t index;
    cr_assert_eq(ebpfvm_object_find_program(obj, NULL, name, &index), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_object_load_program(obj, index, &prog), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_object_close(obj);
    return prog;
}

/* An Ethernet + IPv4 header with the given ttl. */
static size_t ipv4_packet(uint8_t *pkt, uint8_t ttl)
{
    memset(pkt, 0, 64);
    pkt[12] = 0x08; /* ETH_P_IP */
    pkt[13] = 0x00;
    pkt[14] = 0x45;
    pkt[14 + 8] = ttl;
    pkt[14 + 9] = 17; /* UDP */
    return 64;
}

Test(xdp_ctx, clang_object_parses_and_rewrites_the_packet)
{
    ebpfvm_vm *vm = xt_vm();
    ebpfvm_prog *prog = load_from_object(vm, "xdp_ttl");
    static struct xt_result res;
    uint8_t pkt[64];
    size_t len = ipv4_packet(pkt, 5);
    xt_run_all(prog, pkt, len, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    cr_assert_eq(res.r0, EBPF_XDP_PASS);
    cr_assert_eq(res.out[14 + 8], 4, "ttl decremented in the packet");
    len = ipv4_packet(pkt, 1);
    xt_run_all(prog, pkt, len, &res);
    cr_assert_eq(res.r0, EBPF_XDP_DROP, "ttl 1 is dropped");
    pkt[12] = 0x86; /* not IPv4 */
    pkt[13] = 0xdd;
    xt_run_all(prog, pkt, len, &res);
    cr_assert_eq(res.r0, EBPF_XDP_PASS);
    cr_assert_eq(res.out[14 + 8], 1, "not touched");
    ebpfvm_vm_destroy(vm);
}

Test(xdp_ctx, clang_object_with_a_subprogram_taking_the_context)
{
    ebpfvm_vm *vm = xt_vm();
    ebpfvm_prog *prog = load_from_object(vm, "xdp_fields");
    static struct xt_result res;
    uint8_t pkt[100];
    xt_packet(pkt, sizeof pkt);
    xt_run_all(prog, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    /* len 100 + ingress 1 * 1000 + queue 0 * 10000 */
    cr_assert_eq(res.r0, 1100);
    ebpfvm_vm_destroy(vm);
}
#endif
