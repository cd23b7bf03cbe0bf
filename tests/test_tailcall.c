/*
 * tests/test_tailcall.c - bpf_tail_call (helper 12) and the run driver's
 * tail-call chain (ebpfvm__run_chain in vm/interp.c): success replaces the
 * program (same ctx, fresh stack), failures continue after the call, the
 * kernel's limit of 33 tail calls per run (MAX_TAIL_CALL_CNT; the kernel's
 * selftest tailcall_3 counts 33 runs of a self-tail-calling program after
 * the entry program), mixed native / interpreted chains in JIT mode, and the
 * faults for what ebpfvm does not support.
 */
#include "xdp_modes.h"

#define R(size) EBPF_SIZE_##size

static int prog_array(ebpfvm_vm *vm)
{
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_PROG_ARRAY, .key_size = 4, .value_size = 4,
                                 .max_entries = 4};
    int fd = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), EBPFVM_OK, "%s", ebpfvm_vm_errmsg(vm));
    return fd;
}

/* Entry: *(u64 *)(r10 - 8) = 77; tail_call(ctx, map, index); return 99. */
static ebpfvm_prog *load_entry(ebpfvm_vm *vm, int map_fd, int32_t index)
{
    const struct ebpf_insn prog[] = {
        EBPF_ST_MEM(R(DW), 10, -8, 77),
        EBPF_LD_MAP_FD(2, map_fd),
        EBPF_MOV64_IMM(3, index),
        EBPF_CALL_HELPER(EBPF_HELPER_tail_call),
        EBPF_MOV64_IMM(0, 99),
        EBPF_EXIT(),
    };
    return xt_load(vm, prog, EBPF_NWORDS(prog));
}

/* Target: r0 = 1000 * stack[r10 - 8] + (data_end - data). */
static ebpfvm_prog *load_target(ebpfvm_vm *vm)
{
    const struct ebpf_insn prog[] = {
        EBPF_LDX_MEM(R(W), 2, 1, 0),
        EBPF_LDX_MEM(R(W), 0, 1, 4),
        EBPF_ALU64_REG(EBPF_ALU_SUB, 0, 2),
        EBPF_LDX_MEM(R(DW), 3, 10, -8),
        EBPF_ALU64_IMM(EBPF_ALU_MUL, 3, 1000),
        EBPF_ALU64_REG(EBPF_ALU_ADD, 0, 3),
        EBPF_EXIT(),
    };
    return xt_load(vm, prog, EBPF_NWORDS(prog));
}

static struct xt_result res;

Test(tailcall, success_runs_the_target_with_the_same_ctx_and_a_fresh_stack)
{
    ebpfvm_vm *vm = xt_vm();
    int fd = prog_array(vm);
    ebpfvm_prog *entry = load_entry(vm, fd, 1);
    ebpfvm_prog *target = load_target(vm);
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 1, target), EBPFVM_OK);
    cr_assert_eq(ebpfvm_prog_jit(target, EBPFVM_JIT_ALLOW_UNVERIFIED), EBPFVM_OK);
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_all(entry, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    cr_assert_eq(res.r0, 64, "the target's result: packet length, stack slot zero");
    ebpfvm_vm_destroy(vm);
}

Test(tailcall, failures_continue_after_the_call)
{
    ebpfvm_vm *vm = xt_vm();
    int fd = prog_array(vm);
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    ebpfvm_prog *empty_slot = load_entry(vm, fd, 2);
    xt_run_all(empty_slot, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    cr_assert_eq(res.r0, 99, "empty slot");
    ebpfvm_prog *out_of_range = load_entry(vm, fd, 4);
    xt_run_all(out_of_range, pkt, sizeof pkt, &res);
    cr_assert_eq(res.r0, 99, "index >= max_entries");
    ebpfvm_prog *negative = load_entry(vm, fd, -1);
    xt_run_all(negative, pkt, sizeof pkt, &res);
    cr_assert_eq(res.r0, 99, "index 0xffffffff");
    /* the slot emptied again after a program was there */
    ebpfvm_prog *target = load_target(vm);
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 2, target), EBPFVM_OK);
    ebpfvm_prog_destroy(target);
    xt_run_all(empty_slot, pkt, sizeof pkt, &res);
    cr_assert_eq(res.r0, 99, "a destroyed program leaves its slots");
    ebpfvm_vm_destroy(vm);
}

/* Increment packet byte 0, tail-call slot 0 (itself), return 7 when that
 * fails. */
static ebpfvm_prog *load_counter(ebpfvm_vm *vm, int map_fd)
{
    const struct ebpf_insn prog[] = {
        EBPF_LDX_MEM(R(W), 2, 1, 0),
        EBPF_LDX_MEM(R(B), 3, 2, 0),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 3, 1),
        EBPF_STX_MEM(R(B), 2, 3, 0),
        EBPF_LD_MAP_FD(2, map_fd),
        EBPF_MOV64_IMM(3, 0),
        EBPF_CALL_HELPER(EBPF_HELPER_tail_call),
        EBPF_MOV64_IMM(0, 7),
        EBPF_EXIT(),
    };
    return xt_load(vm, prog, EBPF_NWORDS(prog));
}

Test(tailcall, at_most_33_tail_calls_per_run)
{
    ebpfvm_vm *vm = xt_vm();
    int fd = prog_array(vm);
    ebpfvm_prog *counter = load_counter(vm, fd);
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 0, counter), EBPFVM_OK);
    uint8_t pkt[64] = {0};
    bool jit = xt_run_all(counter, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    cr_assert_eq(res.r0, 7, "the 34th run's tail call fails and it returns");
    cr_assert_eq(res.out[0], 34, "the first run and 33 tail calls");
    cr_assert(jit, "the counter compiles: the JIT chain was compared too");
    /* Each run starts counting again. */
    xt_run_mode(counter, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.out[0], 34);
    ebpfvm_vm_destroy(vm);
}

Test(tailcall, the_budget_covers_the_whole_chain)
{
    ebpfvm_vm *vm = xt_vm();
    int fd = prog_array(vm);
    ebpfvm_prog *counter = load_counter(vm, fd);
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 0, counter), EBPFVM_OK);
    uint8_t pkt[64] = {0};
    xt_opts.insn_budget = 50; /* 10 instructions per run of the counter (ld_imm64 counts once) */
    xt_run_mode(counter, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    xt_opts.insn_budget = 0;
    cr_assert_eq(res.status, EBPFVM_ERR_BUDGET, "%s", res.message);
    cr_assert(strstr(res.message, "instruction budget of 50 exhausted"), "%s", res.message);
    cr_assert_lt(res.out[0], 34);
    ebpfvm_vm_destroy(vm);
}

Test(tailcall, jit_chain_reaches_an_interpreted_target)
{
    ebpfvm_vm *vm = xt_vm();
    int fd = prog_array(vm);
    ebpfvm_prog *entry = load_entry(vm, fd, 0);
    ebpfvm_prog *target = load_target(vm);
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 0, target), EBPFVM_OK);
    if (ebpfvm_prog_jit(entry, EBPFVM_JIT_ALLOW_UNVERIFIED) != EBPFVM_OK)
        cr_skip_test("no JIT on this host");
    cr_assert(!ebpfvm_prog_is_jitted(target));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_mode(entry, EBPFVM_EXEC_JIT, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    cr_assert_eq(res.r0, 64);
    ebpfvm_vm_destroy(vm);
}

Test(tailcall, from_a_subprogram_faults)
{
    ebpfvm_vm *vm = xt_vm();
    int fd = prog_array(vm);
    ebpfvm_prog *target = load_target(vm);
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 0, target), EBPFVM_OK);
    const struct ebpf_insn prog[] = {
        EBPF_CALL_LOCAL(1),
        EBPF_EXIT(),
        EBPF_LD_MAP_FD(2, fd), /* 2: the subprogram */
        EBPF_MOV64_IMM(3, 0),
        EBPF_CALL_HELPER(EBPF_HELPER_tail_call),
        EBPF_MOV64_IMM(0, 99),
        EBPF_EXIT(),
    };
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_all(p, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message,
                     "insn 5: tail_call: called from a bpf-to-bpf subprogram (insn 5), which ebpfvm does not support");
    ebpfvm_vm_destroy(vm);
}

Test(tailcall, bad_arguments_fault)
{
    ebpfvm_vm *vm = xt_vm();
    int fd = prog_array(vm);
    /* a program of another type in the slot */
    const struct ebpf_insn ret1[] = {EBPF_MOV64_IMM(0, 1), EBPF_EXIT()};
    ebpfvm_prog *memory = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, ret1, 2, NULL, &memory), EBPFVM_OK);
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 0, memory), EBPFVM_OK);
    ebpfvm_prog *entry = load_entry(vm, fd, 0);
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_all(entry, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 4: tail_call: the program at index 0 has another program type");

    /* not a prog array */
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_ARRAY, .key_size = 4, .value_size = 4,
                                 .max_entries = 1};
    int arr = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &arr), EBPFVM_OK);
    entry = load_entry(vm, arr, 0);
    xt_run_all(entry, pkt, sizeof pkt, &res);
    cr_assert_str_eq(res.message, "insn 4: tail_call: r2 is a array map, not a prog_array");

    /* checked mode: r2 is not a map at all */
    const struct ebpf_insn bogus[] = {EBPF_MOV64_IMM(2, 0x1234), EBPF_MOV64_IMM(3, 0),
                                      EBPF_CALL_HELPER(EBPF_HELPER_tail_call), EBPF_EXIT()};
    ebpfvm_prog *p = xt_load(vm, bogus, EBPF_NWORDS(bogus));
    xt_run_mode(p, EBPFVM_EXEC_CHECKED, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 2: tail_call: r2 0x1234 is not a map of this vm");
    ebpfvm_vm_destroy(vm);
}

Test(tailcall, packet_changes_carry_over_to_the_target)
{
    ebpfvm_vm *vm = xt_vm();
    int fd = prog_array(vm);
    ebpfvm_prog *target = load_target(vm);
    cr_assert_eq(ebpfvm_prog_array_set(vm, fd, 0, target), EBPFVM_OK);
    const struct ebpf_insn prog[] = {
        EBPF_MOV64_REG(6, 1),
        EBPF_MOV64_IMM(2, -20),
        EBPF_CALL_HELPER(EBPF_HELPER_xdp_adjust_tail), /* 64 -> 44 bytes */
        EBPF_MOV64_REG(1, 6),
        EBPF_LD_MAP_FD(2, fd),
        EBPF_MOV64_IMM(3, 0),
        EBPF_CALL_HELPER(EBPF_HELPER_tail_call),
        EBPF_MOV64_IMM(0, 99),
        EBPF_EXIT(),
    };
    ebpfvm_prog *p = xt_load(vm, prog, EBPF_NWORDS(prog));
    uint8_t pkt[64];
    xt_packet(pkt, sizeof pkt);
    xt_run_all(p, pkt, sizeof pkt, &res);
    cr_assert_eq(res.status, EBPFVM_OK, "%s", res.message);
    cr_assert_eq(res.r0, 44);
    cr_assert_eq(res.out_len, 44);
    ebpfvm_vm_destroy(vm);
}
