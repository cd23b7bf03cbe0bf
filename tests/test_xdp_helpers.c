/*
 * tests/test_xdp_helpers.c - the standard helpers (vm/helpers_std.c,
 * vm/helpers_xdp.c) and their registration: success and error returns,
 * checked-mode faults, and the XDP frame limits as the kernel has them.
 *
 * Kernel values were measured on the running kernel (6.18) with
 * BPF_PROG_TEST_RUN on a 64-byte packet: a clang-built XDP program called
 * each helper with an argument read from an array map, wrote the helper's
 * return into another map, and the delta was stepped until the return
 * changed from 0 (e.g. adjust_head: -216 returns 0, -217 returns -EINVAL).
 * csum_diff and trace_printk results (lengths) were read the same way.
 */
#include "xdp_modes.h"

#define R(size) EBPF_SIZE_##size
#define NEG(e) ((uint64_t)(int64_t)-(e))

enum { EINVAL_ = 22, EACCES_ = 13, EFAULT_ = 14, EAFNOSUPPORT_ = 97, EEXIST_ = 17 };

/* The checked run of the last call (xt_r0 and the helpers below). */
#define res xt_last

/* r0 = helper(ctx, imm); exit. */
static uint64_t call_ctx_imm(ebpfvm_vm *vm, uint32_t helper, int32_t imm, size_t len)
{
    const struct ebpf_insn prog[] = {EBPF_MOV64_IMM(2, imm), EBPF_CALL_HELPER(helper), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[EBPFVM_XDP_MAX_PACKET];
    xt_packet(pkt, len);
    xt_run_all(p, pkt, len, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    ebpfvm_prog_destroy(p);
    return res.r0;
}

/* ----------------------------------------------------------- adjust_* */

Test(xdp_helpers, adjust_head_limits_match_the_kernel)
{
    ebpfvm_vm *vm = xt_vm();
    /* 256 bytes of headroom minus struct xdp_frame (40) */
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_head, -216, 64), 0);
    cr_assert_eq(res.out_len, 64 + 216);
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_head, -217, 64), NEG(EINVAL_));
    cr_assert_eq(res.out_len, 64, "unchanged on failure");
    /* at least ETH_HLEN bytes must remain */
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_head, 50, 64), 0);
    cr_assert_eq(res.out_len, 14);
    cr_assert_eq(res.out[0], 50, "the packet now starts at byte 50");
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_head, 51, 64), NEG(EINVAL_));
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, adjust_tail_limits_match_the_kernel)
{
    ebpfvm_vm *vm = xt_vm();
    /* up to 4096 - 256 - 320 = 3520 bytes of packet */
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_tail, 3456, 64), 0);
    cr_assert_eq(res.out_len, 3520);
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_tail, 3457, 64), NEG(EINVAL_));
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_tail, 1, 3520), NEG(EINVAL_));
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_tail, -50, 64), 0);
    cr_assert_eq(res.out_len, 14);
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_tail, -51, 64), NEG(EINVAL_));
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, adjust_tail_grow_zeroes_the_new_bytes)
{
    ebpfvm_vm *vm = xt_vm();
    /* Dirty the tailroom through a first run's frame: the helper must zero. */
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_REG(6, 1),
        EBPF_MOV64_IMM(2, 100),
        EBPF_CALL_HELPER(EBPF_HELPER_xdp_adjust_tail),
        EBPF_LDX_MEM(R(W), 2, 6, 0), /* data, reloaded after the call */
        EBPF_LDX_MEM(R(B), 0, 2, 150), /* a new byte: checked mode allows it now */
        EBPF_EXIT(),
    };
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    /* Pre-fill a frame's tail with garbage and run again by hand. */
    static uint8_t frame[EBPFVM_XDP_FRAME_SIZE];
    memset(frame, 0xee, sizeof frame);
    struct ebpfvm_xdp_buff buff;
    cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, sizeof pkt), EBPFVM_OK);
    struct ebpfvm_run_result rr;
    cr_assert_eq(ebpfvm_prog_run(p, &buff, sizeof buff, NULL, &rr), EBPFVM_OK, "%s", rr.message);
    cr_assert_eq(rr.r0, 0);
    cr_assert_eq(buff.data_end - buff.data, 164);
    for (int i = 64; i < 164; i++)
        cr_assert_eq(frame[256 + i], 0, "byte %d not zeroed", i);
    cr_assert_eq(frame[256 + 164], 0xee, "nothing beyond the new end is touched");
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, adjust_meta_limits_match_the_kernel)
{
    ebpfvm_vm *vm = xt_vm();
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_meta, -4, 64), 0);
    cr_assert_eq(res.meta_len, 4);
    cr_assert_eq(res.out_len, 68, "the output starts at data_meta, as BPF_PROG_TEST_RUN's");
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_meta, -3, 64), NEG(EACCES_), "not a multiple of 4");
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_meta, 4, 64), NEG(EINVAL_), "past data");
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_meta, -216, 64), 0);
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_adjust_meta, -220, 64), NEG(EINVAL_), "into struct xdp_frame");
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, metadata_moves_with_adjust_head)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_REG(6, 1),
        EBPF_MOV64_IMM(2, -8),
        EBPF_CALL_HELPER(EBPF_HELPER_xdp_adjust_meta),
        EBPF_MOV64_REG(7, 0),
        EBPF_LDX_MEM(R(W), 2, 6, 8),                /* data_meta */
        EBPF_ST_MEM(R(W), 2, 0, (int32_t)0xaabbccdd), /* *(u32 *)meta = 0xaabbccdd */
        EBPF_MOV64_REG(1, 6),
        EBPF_MOV64_IMM(2, -20),
        EBPF_CALL_HELPER(EBPF_HELPER_xdp_adjust_head),
        EBPF_ALU64_REG(EBPF_ALU_OR, 0, 7),
        EBPF_EXIT(),
    };
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_all(p, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    cr_assert_eq(res.r0, 0);
    /* the kernel returned 92 bytes starting dd cc bb aa */
    cr_assert_eq(res.out_len, 92);
    cr_assert_eq(res.meta_len, 8);
    const uint8_t head[4] = {0xdd, 0xcc, 0xbb, 0xaa};
    cr_assert(memcmp(res.out, head, 4) == 0);
    cr_assert_eq(res.out[28], 0, "the original packet follows the 20 new bytes");
    cr_assert_eq(res.out[28 + 63], 63);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, checked_mode_faults_after_a_shrinking_adjust_tail)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_REG(6, 1),
        EBPF_MOV64_IMM(2, -40),
        EBPF_CALL_HELPER(EBPF_HELPER_xdp_adjust_tail), /* 64 -> 24 bytes */
        EBPF_LDX_MEM(R(W), 2, 6, 0),
        EBPF_LDX_MEM(R(B), 0, 2, 23),                  /* the last byte: fine */
        EBPF_LDX_MEM(R(B), 0, 2, 30),                  /* beyond the new end */
        EBPF_EXIT(),
    };
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_eq(res.fault_pc, 5);
    cr_assert(strstr(res.message, "insn 5: invalid read of 1 bytes at 0x") == res.message, "%s", res.message);
    cr_assert(strstr(res.message, "(r2 + 30): outside the program's memory"), "%s", res.message);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, adjust_helpers_need_the_context_in_checked_mode)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_MOV64_REG(1, 10), EBPF_MOV64_IMM(2, 4),
                                     EBPF_CALL_HELPER(EBPF_HELPER_xdp_adjust_head), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 2: xdp_adjust_head: r1 0x") == res.message, "%s", res.message);
    cr_assert(strstr(res.message, " is not the context"), "%s", res.message);
    /* In a memory program there is no frame at all. */
    ebpfvm_prog *m = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, prog, EBPF_NWORDS(prog), NULL, &m), EBPFVM_OK);
    struct ebpfvm_run_result rr;
    cr_assert_eq(ebpfvm_prog_run(m, NULL, 0, NULL, &rr), EBPFVM_ERR_FAULT);
    cr_assert_str_eq(rr.message, "insn 2: xdp_adjust_head: only XDP programs may call it");
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------ buff_len, load/store */

Test(xdp_helpers, get_buff_len)
{
    ebpfvm_vm *vm = xt_vm();
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_get_buff_len, 0, 64), 64);
    cr_assert_eq(call_ctx_imm(vm, EBPF_HELPER_xdp_get_buff_len, 0, 3520), 3520);
    ebpfvm_vm_destroy(vm);
}

/* r0 = load_bytes(ctx, off, r10 - 16, 16) << 32 | store_bytes(ctx, off + 1, r10 - 16, 16) */
static void load_store(ebpfvm_vm *vm, int32_t off, uint64_t *load_ret, uint64_t *store_ret)
{
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_REG(6, 1),
        EBPF_MOV64_IMM(2, off),
        EBPF_MOV64_REG(3, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -16),
        EBPF_MOV64_IMM(4, 16),
        EBPF_CALL_HELPER(EBPF_HELPER_xdp_load_bytes),
        EBPF_MOV64_REG(7, 0),
        EBPF_MOV64_REG(1, 6),
        EBPF_MOV64_IMM(2, off + 1),
        EBPF_MOV64_REG(3, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -16),
        EBPF_MOV64_IMM(4, 16),
        EBPF_CALL_HELPER(EBPF_HELPER_xdp_store_bytes),
        EBPF_STX_MEM(R(DW), 10, 0, -24),
        EBPF_MOV64_REG(0, 7),
        EBPF_EXIT(),
    };
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_all(p, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    *load_ret = res.r0;
    /* the store's return: compare the packet instead */
    *store_ret = memcmp(res.out + off + 1, pkt + off, 16) == 0 ? 0 : 1;
    ebpfvm_prog_destroy(p);
}

Test(xdp_helpers, load_and_store_bytes)
{
    ebpfvm_vm *vm = xt_vm();
    uint64_t load, stored;
    load_store(vm, 40, &load, &stored);
    cr_assert_eq(load, 0);
    cr_assert_eq(stored, 0, "bytes 40..55 copied to 41..56");
    /* the kernel: offset + len > 64 is -EINVAL (offset 49 with 16 bytes) */
    load_store(vm, 49, &load, &stored);
    cr_assert_eq(load, NEG(EINVAL_));
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, load_bytes_offset_above_0xffff_is_efault)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_MOV64_IMM(2, 0x10000), EBPF_MOV64_REG(3, 10),
                                     EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -16), EBPF_MOV64_IMM(4, 16),
                                     EBPF_CALL_HELPER(EBPF_HELPER_xdp_load_bytes), EBPF_EXIT()};
    cr_assert_eq(xt_r0(vm, prog, EBPF_NWORDS(prog)), NEG(EFAULT_));
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, load_bytes_checks_its_buffer)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(3, 0x1000), EBPF_MOV64_IMM(4, 16),
                                     EBPF_CALL_HELPER(EBPF_HELPER_xdp_load_bytes), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 3: xdp_load_bytes: r3 0x1000 is not writable memory for 16 bytes");
    const struct ebpf_insn store[] = {EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(3, 0x1000), EBPF_MOV64_IMM(4, 16),
                                      EBPF_CALL_HELPER(EBPF_HELPER_xdp_store_bytes), EBPF_EXIT()};
    p = xt_load(vm, store, EBPF_NWORDS(store));
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_str_eq(res.message, "insn 3: xdp_store_bytes: r3 0x1000 is not readable memory for 16 bytes");
    ebpfvm_vm_destroy(vm);
}

/* -------------------------------------------------------------- redirect */

Test(xdp_helpers, redirect_to_an_ifindex)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_MOV64_IMM(1, 5), EBPF_MOV64_IMM(2, 0),
                                     EBPF_CALL_HELPER(EBPF_HELPER_redirect), EBPF_EXIT()};
    cr_assert_eq(xt_r0(vm, prog, EBPF_NWORDS(prog)), EBPF_XDP_REDIRECT);
    cr_assert_eq(res.buff.redirect_kind, EBPFVM_XDP_REDIRECT_IFINDEX);
    cr_assert_eq(res.buff.redirect_ifindex, 5);
    cr_assert_eq(res.buff.redirect_target, 5);
    /* any flag: XDP_ABORTED, nothing recorded (the kernel returned 0) */
    const struct ebpf_insn flags[] = {EBPF_MOV64_IMM(1, 5), EBPF_MOV64_IMM(2, 1),
                                      EBPF_CALL_HELPER(EBPF_HELPER_redirect), EBPF_EXIT()};
    cr_assert_eq(xt_r0(vm, flags, EBPF_NWORDS(flags)), EBPF_XDP_ABORTED);
    cr_assert_eq(res.buff.redirect_kind, EBPFVM_XDP_REDIRECT_NONE);
    ebpfvm_vm_destroy(vm);
}

static int make_map(ebpfvm_vm *vm, enum ebpfvm_map_type type, uint32_t value_size)
{
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = type, .key_size = 4, .value_size = value_size,
                                 .max_entries = 4};
    int fd = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    return fd;
}

static uint64_t redirect_map(ebpfvm_vm *vm, int fd, int32_t key, int32_t flags)
{
    const struct ebpf_insn prog[] = {EBPF_LD_MAP_FD(1, fd), EBPF_MOV64_IMM(2, key), EBPF_MOV64_IMM(3, flags),
                                     EBPF_CALL_HELPER(EBPF_HELPER_redirect_map), EBPF_EXIT()};
    return xt_r0(vm, prog, EBPF_NWORDS(prog));
}

Test(xdp_helpers, redirect_map_hits_and_misses)
{
    ebpfvm_vm *vm = xt_vm();
    int dev = make_map(vm, EBPFVM_MAP_DEVMAP, 4);
    uint32_t key = 1, ifindex = 7;
    cr_assert_eq(ebpfvm_map_update(vm, dev, &key, &ifindex, EBPFVM_ANY), EBPFVM_OK);
    cr_assert_eq(redirect_map(vm, dev, 1, 0), EBPF_XDP_REDIRECT);
    cr_assert_eq(res.buff.redirect_kind, EBPFVM_XDP_REDIRECT_MAP);
    cr_assert_eq(res.buff.redirect_map_fd, dev);
    cr_assert_eq(res.buff.redirect_ifindex, 1);
    cr_assert_eq(res.buff.redirect_target, 7);
    /* a miss returns the action in the low bits of flags */
    cr_assert_eq(redirect_map(vm, dev, 2, EBPF_XDP_PASS), EBPF_XDP_PASS);
    cr_assert_eq(res.buff.redirect_kind, EBPFVM_XDP_REDIRECT_NONE);
    cr_assert_eq(redirect_map(vm, dev, 9, EBPF_XDP_DROP), EBPF_XDP_DROP, "out of range is a miss");
    cr_assert_eq(redirect_map(vm, dev, 2, 0), EBPF_XDP_ABORTED);
    /* an unknown flag bit: XDP_ABORTED even on a hit */
    cr_assert_eq(redirect_map(vm, dev, 1, 1 << 5), EBPF_XDP_ABORTED);

    int hash = make_map(vm, EBPFVM_MAP_DEVMAP_HASH, 4);
    key = 3;
    ifindex = 9;
    cr_assert_eq(ebpfvm_map_update(vm, hash, &key, &ifindex, EBPFVM_ANY), EBPFVM_OK);
    cr_assert_eq(redirect_map(vm, hash, 3, 0), EBPF_XDP_REDIRECT);
    cr_assert_eq(res.buff.redirect_target, 9);

    int xsk = make_map(vm, EBPFVM_MAP_XSKMAP, 4);
    uint32_t sock = 11;
    key = 2;
    cr_assert_eq(ebpfvm_map_update(vm, xsk, &key, &sock, EBPFVM_ANY), EBPFVM_OK);
    cr_assert_eq(redirect_map(vm, xsk, 2, 0), EBPF_XDP_REDIRECT);
    cr_assert_eq(res.buff.redirect_target, 2, "the xskmap key");
    /* xskmap takes no BPF_F_BROADCAST */
    cr_assert_eq(redirect_map(vm, xsk, 2, 1 << 3), EBPF_XDP_ABORTED);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, redirect_map_on_another_map_type_faults)
{
    ebpfvm_vm *vm = xt_vm();
    int arr = make_map(vm, EBPFVM_MAP_ARRAY, 4);
    const struct ebpf_insn prog[] = {EBPF_LD_MAP_FD(1, arr), EBPF_MOV64_IMM(2, 0), EBPF_MOV64_IMM(3, 0),
                                     EBPF_CALL_HELPER(EBPF_HELPER_redirect_map), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_all(p, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 4: redirect_map: r1 is a array map, not a devmap, devmap_hash or xskmap");
    ebpfvm_vm_destroy(vm);
}

/* -------------------------------------------------------------- csum_diff */

/* csum_diff(from = r10-32 (8 bytes), to = r10-16 (12 bytes), seed) on the
 * words of the kernel measurement: a = {k, 2k}, b = {3k, 4k, 5k, 0x12345678}
 * with k = 0x01020304 as u32 values, seed 8k. */
static uint64_t csum_case(ebpfvm_vm *vm, uint32_t k, uint32_t from_size, uint32_t to_size, uint32_t seed)
{
    const struct ebpf_insn prog[] = {
        EBPF_ST_MEM(R(W), 10, -32, (int32_t)(k * 1)),
        EBPF_ST_MEM(R(W), 10, -28, (int32_t)(k * 2)),
        EBPF_ST_MEM(R(W), 10, -24, (int32_t)(k * 3)),
        EBPF_ST_MEM(R(W), 10, -20, (int32_t)(k * 4)),
        EBPF_ST_MEM(R(W), 10, -16, (int32_t)(k * 5)),
        EBPF_ST_MEM(R(W), 10, -12, (int32_t)(k * 6)),
        EBPF_ST_MEM(R(W), 10, -8, (int32_t)(k * 7)),
        EBPF_ST_MEM(R(W), 10, -4, 0x12345678),
        EBPF_MOV64_REG(1, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -32),
        EBPF_MOV64_IMM(2, (int32_t)from_size),
        EBPF_MOV64_REG(3, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -16),
        EBPF_MOV64_IMM(4, (int32_t)to_size),
        EBPF_LD_IMM64(5, seed),
        EBPF_CALL_HELPER(EBPF_HELPER_csum_diff),
        EBPF_EXIT(),
    };
    return xt_r0(vm, prog, EBPF_NWORDS(prog));
}

Test(xdp_helpers, csum_diff_matches_the_kernel)
{
    ebpfvm_vm *vm = xt_vm();
    /* The kernel's program used a = {k, 2k, 3k, 4k}, b = {5k, 6k, 7k,
     * 0x12345678}; from = a (8 bytes), to = b (12 bytes), seed 8k. */
    uint32_t k = 0x01020304;
    cr_assert_eq(csum_case(vm, k, 8, 12, 8 * k), 0x5c8a);
    cr_assert_eq(csum_case(vm, k, 0, 0, 0), 0);
    cr_assert_eq(csum_case(vm, k, 16, 0, 0xffffffff), 0xd7c3);
    cr_assert_eq(csum_case(vm, 0, 8, 12, 0), 0xffff, "all zero: ~0 folds to 0xffff");
    cr_assert_eq(csum_case(vm, 0, 0, 0, 0), 0);
    cr_assert_eq(csum_case(vm, 0, 16, 0, 0xffffffff), 0xffff);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, csum_diff_all_ones)
{
    /* Measured with every word and the seed 0xffffffff: 0xffff, 0, 0. */
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {
        EBPF_ST_MEM(R(DW), 10, -32, -1), EBPF_ST_MEM(R(DW), 10, -24, -1), EBPF_ST_MEM(R(DW), 10, -16, -1),
        EBPF_ST_MEM(R(DW), 10, -8, -1),  EBPF_MOV64_REG(1, 10),           EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -32),
        EBPF_MOV64_IMM(2, 16),           EBPF_MOV64_REG(3, 10),           EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -16),
        EBPF_MOV64_IMM(4, 0),            EBPF_LD_IMM64(5, 0xffffffffu),   EBPF_CALL_HELPER(EBPF_HELPER_csum_diff),
        EBPF_EXIT(),
    };
    cr_assert_eq(xt_r0(vm, prog, EBPF_NWORDS(prog)), 0);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, csum_diff_checks_its_buffers)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_MOV64_IMM(1, 64), EBPF_MOV64_IMM(2, 4), EBPF_MOV64_IMM(3, 0),
                                     EBPF_MOV64_IMM(4, 0), EBPF_MOV64_IMM(5, 0),
                                     EBPF_CALL_HELPER(EBPF_HELPER_csum_diff), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 5: csum_diff: r1 0x40 is not readable memory for 4 bytes");
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------ time and random */

Test(xdp_helpers, jiffies64_counts_250_hz_ticks_of_the_ktime_clock)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_CALL_HELPER(EBPF_HELPER_jiffies64), EBPF_EXIT()};
    xt_opts.ktime_ns = 4000000000ull + 3999999ull; /* 4 s and just under one tick */
    cr_assert_eq(xt_r0(vm, prog, EBPF_NWORDS(prog)), 1000);
    xt_opts.ktime_ns = 0;
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, ktime_follows_the_run_options)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_CALL_HELPER(EBPF_HELPER_ktime_get_ns), EBPF_EXIT()};
    xt_opts.ktime_ns = 1234567890123ull;
    cr_assert_eq(xt_r0(vm, prog, EBPF_NWORDS(prog)), 1234567890123ull);
    xt_opts.ktime_ns = 0;
    const struct ebpf_insn two[] = {EBPF_CALL_HELPER(EBPF_HELPER_ktime_get_ns), EBPF_MOV64_REG(6, 0),
                                    EBPF_CALL_HELPER(EBPF_HELPER_ktime_get_ns), EBPF_ALU64_REG(EBPF_ALU_SUB, 0, 6),
                                    EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, two, EBPF_NWORDS(two));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK);
    cr_assert_geq((int64_t)res.r0, 0, "CLOCK_MONOTONIC does not go back");
    ebpfvm_vm_destroy(vm);
}

/* r0 = three prandom values folded: (a ^ (b << 16) ^ (c << 32)) */
static const struct ebpf_insn three_random[] = {
    EBPF_CALL_HELPER(EBPF_HELPER_get_prandom_u32), EBPF_MOV64_REG(6, 0),
    EBPF_CALL_HELPER(EBPF_HELPER_get_prandom_u32), EBPF_ALU64_IMM(EBPF_ALU_LSH, 0, 16),
    EBPF_ALU64_REG(EBPF_ALU_XOR, 6, 0),            EBPF_CALL_HELPER(EBPF_HELPER_get_prandom_u32),
    EBPF_ALU64_IMM(EBPF_ALU_LSH, 0, 32),           EBPF_ALU64_REG(EBPF_ALU_XOR, 0, 6),
    EBPF_EXIT(),
};

Test(xdp_helpers, prandom_is_deterministic_with_a_seed)
{
    ebpfvm_vm *vm = xt_vm();
    xt_opts.prandom_seed = 42;
    uint64_t a = xt_r0(vm, three_random, EBPF_NWORDS(three_random)); /* all modes agree */
    uint64_t b = xt_r0(vm, three_random, EBPF_NWORDS(three_random));
    cr_assert_eq(a, b, "same seed, same sequence");
    xt_opts.prandom_seed = 43;
    uint64_t c = xt_r0(vm, three_random, EBPF_NWORDS(three_random));
    cr_assert_neq(a, c, "another seed, another sequence");
    xt_opts.prandom_seed = 0;
    /* Unseeded: successive values differ (a 2^-32 chance each of not). */
    const struct ebpf_insn pair[] = {EBPF_CALL_HELPER(EBPF_HELPER_get_prandom_u32), EBPF_MOV64_REG(6, 0),
                                     EBPF_CALL_HELPER(EBPF_HELPER_get_prandom_u32),
                                     EBPF_ALU64_REG(EBPF_ALU_XOR, 0, 6), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, pair, EBPF_NWORDS(pair));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_neq(res.r0, 0);
    cr_assert_leq(res.r0, 0xffffffffu, "32-bit values");
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, smp_processor_id_is_the_run_cpu)
{
    ebpfvm_vm *vm = xt_vm();
    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 4), EBPFVM_OK);
    const struct ebpf_insn prog[] = {EBPF_CALL_HELPER(EBPF_HELPER_get_smp_processor_id), EBPF_EXIT()};
    xt_opts.cpu = 3;
    cr_assert_eq(xt_r0(vm, prog, EBPF_NWORDS(prog)), 3);
    xt_opts.cpu = 0;
    ebpfvm_vm_destroy(vm);
}

/* ---------------------------------------------------------- trace_printk */

struct trace_capture {
    int count;
    char last[1100];
};

static void capture_trace(void *ud, const char *msg)
{
    struct trace_capture *c = ud;
    c->count++;
    snprintf(c->last, sizeof c->last, "%s", msg);
}

/* trace_printk(fmt, size, a, b, c) with fmt on the stack (size bytes,
 * NUL included unless the caller says otherwise). */
static uint64_t printk(ebpfvm_vm *vm, const char *fmt, size_t size, int32_t a, int32_t b, int32_t c)
{
    struct ebpf_insn prog[64];
    size_t n = 0;
    size_t padded = (size + 7) / 8 * 8;
    cr_assert_leq(padded, 256);
    char buf[256] = {0};
    memcpy(buf, fmt, size);
    for (size_t i = 0; i < padded; i += 4) {
        int32_t w;
        memcpy(&w, buf + i, 4);
        prog[n++] = EBPF_ST_MEM(R(W), 10, (int16_t)(-(int)padded + (int)i), w);
    }
    const struct ebpf_insn tail[] = {
        EBPF_MOV64_REG(1, 10),       EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -(int32_t)padded),
        EBPF_MOV64_IMM(2, (int32_t)size), EBPF_MOV64_IMM(3, a), EBPF_MOV64_IMM(4, b), EBPF_MOV64_IMM(5, c),
        EBPF_CALL_HELPER(EBPF_HELPER_trace_printk), EBPF_EXIT(),
    };
    memcpy(prog + n, tail, sizeof tail);
    n += EBPF_NWORDS(tail);
    return xt_r0(vm, prog, n);
}

Test(xdp_helpers, trace_printk_formats_like_the_kernel)
{
    struct trace_capture cap = {0};
    struct ebpfvm_helper_opts ho = {.sz = sizeof ho, .trace = capture_trace, .trace_ud = &cap};
    ebpfvm_vm *vm = xt_vm_opts(&ho);
    /* Lengths returned by the kernel for the same calls: 13, 14, 8. */
    cr_assert_eq(printk(vm, "%c%%%5d|%-4u|", 14, 'A', 42, 0x1234), 13);
    cr_assert_str_eq(cap.last, "A%   42|4660|");
    cr_assert_eq(printk(vm, "%08x|%+d|% d", 13, 0x1234, 5, 7), 14);
    cr_assert_str_eq(cap.last, "00001234|+5| 7");
    cr_assert_eq(printk(vm, "x %d %lx %s", 12, -5, 255, 0), 8, "a NULL %s prints nothing");
    cr_assert_str_eq(cap.last, "x -5 ff ");
    cr_assert_eq(printk(vm, "%X %i %llu\n", 12, 0xabc, -2, -1), 28);
    cr_assert_str_eq(cap.last, "ABC -2 18446744073709551615", "the trailing newline is not passed on");
    /* %p, %pK: 16 hex digits, as the kernel's 16 (hashed) digits */
    cr_assert_eq(printk(vm, "%p", 3, 0x1234, 0, 0), 16);
    cr_assert_str_eq(cap.last, "0000000000001234");
    cap.count = 0;
    cr_assert_eq(printk(vm, "%pK", 4, 0, 0, 0), 16);
    cr_assert_eq(cap.count, xt_last_jit ? 3 : 2, "a successful call traces once per run");
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, trace_printk_errors_like_the_kernel)
{
    struct trace_capture cap = {0};
    struct ebpfvm_helper_opts ho = {.sz = sizeof ho, .trace = capture_trace, .trace_ud = &cap};
    ebpfvm_vm *vm = xt_vm_opts(&ho);
    cr_assert_eq(printk(vm, "%q", 3, 1, 2, 3), NEG(EINVAL_), "unknown conversion");
    cr_assert_eq(printk(vm, "%d %d %d %d", 12, 1, 2, 3), NEG(EINVAL_), "four conversions");
    cr_assert_eq(printk(vm, "ab", 2, 0, 0, 0), NEG(EINVAL_), "not NUL-terminated within size");
    cr_assert_eq(printk(vm, "%pi4", 5, 0, 0, 0), NEG(EINVAL_), "unsupported %p extension");
    cr_assert_eq(printk(vm, "\x01", 2, 0, 0, 0), NEG(EINVAL_), "not printable");
    cr_assert_eq(cap.count, 0);
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, trace_printk_checks_the_format_pointer)
{
    ebpfvm_vm *vm = xt_vm();
    const struct ebpf_insn prog[] = {EBPF_MOV64_IMM(1, 0x1000), EBPF_MOV64_IMM(2, 8),
                                     EBPF_CALL_HELPER(EBPF_HELPER_trace_printk), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 2: trace_printk: r1 0x1000 is not readable memory for 8 bytes");
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------------ fib_lookup */

/* struct bpf_fib_lookup offsets */
enum { FIB_FAMILY = 0, FIB_TOT_LEN = 6, FIB_IFINDEX = 8, FIB_DST = 32, FIB_SMAC = 52, FIB_DMAC = 58 };

static uint64_t fib(ebpfvm_vm *vm, uint8_t family, const uint8_t dst[4], uint16_t tot_len, int32_t plen,
                    int32_t flags, uint8_t out[64])
{
    /* params at r10 - 64, filled by the program from constants */
    uint8_t p[64] = {0};
    p[FIB_FAMILY] = family;
    memcpy(p + FIB_TOT_LEN, &tot_len, 2);
    uint32_t in_if = 1;
    memcpy(p + FIB_IFINDEX, &in_if, 4);
    memcpy(p + FIB_DST, dst, 4);
    struct ebpf_insn prog[40];
    size_t n = 0;
    for (int i = 0; i < 64; i += 4) {
        int32_t w;
        memcpy(&w, p + i, 4);
        prog[n++] = EBPF_ST_MEM(R(W), 10, (int16_t)(-64 + i), w);
    }
    const struct ebpf_insn tail[] = {
        EBPF_MOV64_REG(6, 1),       EBPF_MOV64_REG(2, 10),      EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -64),
        EBPF_MOV64_IMM(3, plen),    EBPF_MOV64_IMM(4, flags),   EBPF_CALL_HELPER(EBPF_HELPER_fib_lookup),
        EBPF_MOV64_REG(7, 0),
        /* copy the params to the packet (64 bytes) so the test can read them */
        EBPF_MOV64_REG(1, 6),       EBPF_MOV64_IMM(2, 0),       EBPF_MOV64_REG(3, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, -64), EBPF_MOV64_IMM(4, 64),
        EBPF_CALL_HELPER(EBPF_HELPER_xdp_store_bytes),
        EBPF_MOV64_REG(0, 7),       EBPF_EXIT(),
    };
    memcpy(prog + n, tail, sizeof tail);
    n += EBPF_NWORDS(tail);
    uint64_t r0 = xt_r0(vm, prog, n);
    memcpy(out, res.out, 64);
    return r0;
}

Test(xdp_helpers, fib_lookup_longest_prefix)
{
    struct ebpfvm_fib_route routes[2] = {
        {.family = 2, .prefixlen = 8, .dst = {10}, .gateway = {10, 0, 0, 1}, .ifindex = 3, .mtu = 0,
         .smac = {2, 0, 0, 0, 0, 3}, .dmac = {2, 0, 0, 0, 0, 0x13}},
        {.family = 2, .prefixlen = 16, .dst = {10, 1}, .ifindex = 4, .mtu = 9000,
         .smac = {2, 0, 0, 0, 0, 4}, .dmac = {2, 0, 0, 0, 0, 0x14}},
    };
    struct ebpfvm_helper_opts ho = {.sz = sizeof ho, .routes = routes, .nroutes = 2};
    ebpfvm_vm *vm = xt_vm_opts(&ho);
    memset(routes, 0, sizeof routes); /* copied at registration */
    uint8_t out[64];
    uint32_t ifindex;

    const uint8_t direct[4] = {10, 1, 2, 3};
    cr_assert_eq(fib(vm, 2, direct, 100, 64, 0, out), 0, "BPF_FIB_LKUP_RET_SUCCESS");
    memcpy(&ifindex, out + FIB_IFINDEX, 4);
    cr_assert_eq(ifindex, 4, "the /16 wins over the /8");
    cr_assert_eq(out[FIB_SMAC + 5], 4);
    cr_assert_eq(out[FIB_DMAC + 5], 0x14);
    cr_assert(memcmp(out + FIB_DST, direct, 4) == 0, "directly connected: dst unchanged");

    const uint8_t via_gw[4] = {10, 2, 0, 1};
    cr_assert_eq(fib(vm, 2, via_gw, 100, 64, 0, out), 0);
    memcpy(&ifindex, out + FIB_IFINDEX, 4);
    cr_assert_eq(ifindex, 3);
    const uint8_t gw[4] = {10, 0, 0, 1};
    cr_assert(memcmp(out + FIB_DST, gw, 4) == 0, "the gateway replaces the destination, as in the kernel");

    const uint8_t nowhere[4] = {192, 168, 1, 1};
    cr_assert_eq(fib(vm, 2, nowhere, 100, 64, 0, out), 4, "BPF_FIB_LKUP_RET_NOT_FWDED");

    uint16_t mtu;
    cr_assert_eq(fib(vm, 2, via_gw, 2000, 64, 0, out), 8, "BPF_FIB_LKUP_RET_FRAG_NEEDED");
    memcpy(&mtu, out + FIB_TOT_LEN, 2);
    cr_assert_eq(mtu, 1500, "mtu_result: the default MTU");

    cr_assert_eq(fib(vm, 7, direct, 100, 64, 0, out), NEG(EAFNOSUPPORT_));
    cr_assert_eq(fib(vm, 2, direct, 100, 63, 0, out), NEG(EINVAL_), "plen < sizeof(struct bpf_fib_lookup)");
    cr_assert_eq(fib(vm, 2, direct, 100, 64, 1 << 6, out), NEG(EINVAL_), "unknown flag");
    cr_assert_eq(fib(vm, 2, direct, 100, 64, 1 | 4, out), 0, "DIRECT | SKIP_NEIGH accepted");
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, fib_lookup_without_routes_finds_nothing)
{
    ebpfvm_vm *vm = xt_vm();
    uint8_t out[64];
    const uint8_t dst[4] = {10, 1, 2, 3};
    cr_assert_eq(fib(vm, 2, dst, 100, 64, 0, out), 4);
    ebpfvm_vm_destroy(vm);
}

/* ---------------------------------------------------------- registration */

static uint64_t dummy_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, ebpfvm_env *env)
{
    (void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)env;
    return 0;
}

Test(xdp_helpers, registration_is_all_or_nothing)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), EBPFVM_OK);
    /* Take ID 28 (csum_diff) first: the std registration must fail and
     * leave nothing of its own behind. */
    cr_assert_eq(ebpfvm_vm_register_helper(vm, EBPF_HELPER_csum_diff, "mine", dummy_helper, NULL), EBPFVM_OK);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), EBPFVM_ERR_EXIST);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "register helper 28 (csum_diff): id already registered as mine");
    const struct ebpf_insn prog[] = {EBPF_CALL_HELPER(EBPF_HELPER_map_lookup_elem), EBPF_EXIT()};
    ebpfvm_prog *p = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, prog, 2, NULL, &p), EBPFVM_ERR_BADPROG, "map_lookup_elem was rolled back");
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "insn 0: unknown helper 1");
    const struct ebpf_insn prog2[] = {EBPF_CALL_HELPER(EBPF_HELPER_trace_printk), EBPF_EXIT()};
    cr_assert_eq(ebpfvm_prog_load(vm, prog2, 2, NULL, &p), EBPFVM_ERR_BADPROG, "trace_printk was rolled back");
    ebpfvm_vm_destroy(vm);

    /* The map helpers are part of the set: registering them first collides. */
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), EBPFVM_OK);
    cr_assert_eq(ebpfvm_vm_register_map_helpers(vm), EBPFVM_OK);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), EBPFVM_ERR_EXIST);
    ebpfvm_vm_destroy(vm);

    cr_assert_eq(ebpfvm_vm_register_std_helpers(NULL, NULL), EBPFVM_ERR_INVAL);
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), EBPFVM_OK);
    struct ebpfvm_helper_opts bad = {.sz = sizeof bad, .routes = NULL, .nroutes = 3};
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, &bad), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "register std helpers: 3 routes but routes is NULL");
    struct ebpfvm_helper_opts tiny = {.sz = 1};
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, &tiny), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "register std helpers: opts->sz is 1");
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, ringbuf_avail_argument_errors)
{
    ebpfvm_vm *vm = xt_vm();
    int arr = make_map(vm, EBPFVM_MAP_ARRAY, 4);
    struct ebpfvm_map_def ring = {.sz = sizeof ring, .type = EBPFVM_MAP_RINGBUF, .max_entries = 4096};
    int ring_fd = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &ring, &ring_fd), EBPFVM_OK);
    uint64_t bytes;
    cr_assert_eq(ebpfvm_ringbuf_avail(vm, ring_fd, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "ringbuf_avail: bytes is NULL");
    cr_assert_eq(ebpfvm_ringbuf_avail(vm, arr, &bytes), EBPFVM_ERR_INVAL, "as ebpfvm_ringbuf_consume");
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "ringbuf_avail: map 0 is a array, not a ringbuf");
    cr_assert_eq(ebpfvm_ringbuf_avail(vm, 42, &bytes), EBPFVM_ERR_NOENT);
    cr_assert_eq(ebpfvm_ringbuf_avail(vm, ring_fd, &bytes), EBPFVM_OK);
    cr_assert_eq(bytes, 0);
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------- perf_event_output */

struct perf_capture {
    int count;
    int map_fd;
    uint32_t cpu;
    size_t size;
    uint8_t data[64];
};

static void capture_perf(void *ud, int map_fd, uint32_t cpu, const void *data, size_t size)
{
    struct perf_capture *c = ud;
    c->count++;
    c->map_fd = map_fd;
    c->cpu = cpu;
    c->size = size;
    memcpy(c->data, data, size < sizeof c->data ? size : sizeof c->data);
}

/* perf_event_output(ctx, map, flags, r10 - 8 = 0x1122334455667788, 8) */
static uint64_t perf_out(ebpfvm_vm *vm, int fd, uint64_t flags)
{
    const struct ebpf_insn prog[] = {
        EBPF_LD_IMM64(2, 0x1122334455667788ull),
        EBPF_STX_MEM(R(DW), 10, 2, -8),
        EBPF_LD_MAP_FD(2, fd),
        EBPF_LD_IMM64(3, flags),
        EBPF_MOV64_REG(4, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, -8),
        EBPF_MOV64_IMM(5, 8),
        EBPF_CALL_HELPER(EBPF_HELPER_perf_event_output),
        EBPF_EXIT(),
    };
    return xt_r0(vm, prog, EBPF_NWORDS(prog));
}

#define PERF_CURRENT_CPU 0xffffffffull

Test(xdp_helpers, perf_event_output)
{
    struct perf_capture cap = {0};
    struct ebpfvm_helper_opts ho = {.sz = sizeof ho, .perf = capture_perf, .perf_ud = &cap};
    ebpfvm_vm *vm = xt_vm_opts(&ho);
    int fd = make_map(vm, EBPFVM_MAP_PERF_EVENT_ARRAY, 4);
    cr_assert_eq(perf_out(vm, fd, PERF_CURRENT_CPU), NEG(2), "-ENOENT: no perf event in slot 0");
    cr_assert_eq(cap.count, 0);
    uint32_t key = 0, event_fd = 5;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, &event_fd, EBPFVM_ANY), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, &event_fd, EBPFVM_NOEXIST), EBPFVM_ERR_INVAL,
                 "fd arrays take BPF_ANY only");

    cap.count = 0;
    cr_assert_eq(perf_out(vm, fd, PERF_CURRENT_CPU), 0);
    cr_assert_eq(cap.count, xt_last_jit ? 3 : 2, "one sample per run");
    cr_assert_eq(cap.map_fd, fd);
    cr_assert_eq(cap.cpu, 0);
    cr_assert_eq(cap.size, 8);
    uint64_t v;
    memcpy(&v, cap.data, 8);
    cr_assert_eq(v, 0x1122334455667788ull);

    /* BPF_F_CTXLEN_MASK: 4 packet bytes (0, 1, 2, 3) appended */
    cr_assert_eq(perf_out(vm, fd, (4ull << 32) | PERF_CURRENT_CPU), 0);
    cr_assert_eq(cap.size, 12);
    const uint8_t head[4] = {0, 1, 2, 3};
    cr_assert(memcmp(cap.data + 8, head, 4) == 0);

    cr_assert_eq(perf_out(vm, fd, 9), NEG(7), "-E2BIG: index >= max_entries");
    cr_assert_eq(perf_out(vm, fd, 1ull << 52), NEG(EINVAL_), "unknown flag");
    cr_assert_eq(perf_out(vm, fd, (100ull << 32) | PERF_CURRENT_CPU), NEG(EFAULT_), "ctx len > packet");
    ebpfvm_vm_destroy(vm);
}

Test(xdp_helpers, perf_event_output_needs_a_perf_event_array)
{
    ebpfvm_vm *vm = xt_vm();
    int arr = make_map(vm, EBPFVM_MAP_ARRAY, 4);
    const struct ebpf_insn prog[] = {
        EBPF_LD_MAP_FD(2, arr), EBPF_MOV64_IMM(3, 0), EBPF_MOV64_REG(4, 10), EBPF_ALU64_IMM(EBPF_ALU_ADD, 4, -8),
        EBPF_MOV64_IMM(5, 8),   EBPF_CALL_HELPER(EBPF_HELPER_perf_event_output), EBPF_EXIT(),
    };
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_all(p, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 6: perf_event_output: r2 is a array map, not a perf_event_array");
    /* the map type's own definition checks */
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_PERF_EVENT_ARRAY, .key_size = 4,
                                 .value_size = 8, .max_entries = 4};
    int fd;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), EBPFVM_ERR_INVAL);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "value_size 8 is invalid for perf_event_array: must be 4"), "%s",
              ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
}
