/*
 * tests/test_validate.c - the load-time checks of vm/validate.c: every
 * rejection with its status and message, and the decoding of accepted
 * programs (forms, targets, LD_IMM64 values).
 */
#include <string.h>

#include <criterion/criterion.h>

#include "interp_run.h"
#include "vm/internal.h"

#define X_EXIT EBPF_EXIT()

/* Expect loading the inline program to fail with status and message. */
#define REJECT(status, message, ...)                                                                   \
    do {                                                                                               \
        char msg_[512];                                                                                \
        int err_ = interp_load_error(INTERP_PROG(__VA_ARGS__), INTERP_PROG_LEN(__VA_ARGS__), msg_,      \
                                     sizeof msg_);                                                     \
        cr_assert_eq(err_, (status), "status %d, message: %s", err_, msg_);                            \
        cr_assert_str_eq(msg_, (message));                                                             \
    } while (0)

#define BADPROG(message, ...) REJECT(EBPFVM_ERR_BADPROG, message, __VA_ARGS__)

Test(validate, unknown_opcode)
{
    BADPROG("insn 0: unknown opcode 0xff", EBPF_RAW(0xff, 0, 0, 0, 0), X_EXIT);
    BADPROG("insn 3: unknown opcode 0x8f", EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(0, 0),
            EBPF_RAW(0x8f, 0, 0, 0, 0), X_EXIT);
    /* 0x00 is only valid as the second word of an ld_imm64 */
    BADPROG("insn 0: unknown opcode 0x00", EBPF_RAW(0, 0, 0, 0, 0), X_EXIT);
}

Test(validate, invalid_discriminator_values)
{
    BADPROG("insn 0: invalid off 5 for opcode 0x07", EBPF_RAW(0x07, 0, 0, 5, 1), X_EXIT);
    BADPROG("insn 0: invalid off 2 for opcode 0xbf", EBPF_RAW(0xbf, 0, 1, 2, 0), X_EXIT);
    BADPROG("insn 0: invalid imm 8 for opcode 0xd4", EBPF_LE(0, 8), X_EXIT);
    BADPROG("insn 0: invalid imm 2 for opcode 0xdb", EBPF_ATOMIC_OP(EBPF_SIZE_DW, 2, 1, 2, 0), X_EXIT);
    /* no 32-bit movsx from 32 bits */
    BADPROG("insn 0: invalid off 32 for opcode 0xbc", EBPF_MOVSX32(0, 1, 32), X_EXIT);
}

Test(validate, reserved_fields_must_be_zero)
{
    BADPROG("insn 0: add uses reserved fields (src_reg must be 0)", EBPF_RAW(0x07, 0, 1, 0, 1), X_EXIT);
    BADPROG("insn 0: add32 uses reserved fields (imm must be 0)", EBPF_RAW(0x0c, 0, 1, 0, 3), X_EXIT);
    BADPROG("insn 0: neg uses reserved fields (off must be 0)", EBPF_RAW(0x87, 0, 0, 1, 0), X_EXIT);
    BADPROG("insn 0: neg32 uses reserved fields (imm must be 0)", EBPF_RAW(0x84, 0, 0, 0, 1), X_EXIT);
    BADPROG("insn 0: be16 uses reserved fields (src_reg must be 0)", EBPF_RAW(0xdc, 0, 1, 0, 16), X_EXIT);
    BADPROG("insn 0: lddw uses reserved fields (off must be 0)", EBPF_RAW(0x18, 0, 0, 1, 0), EBPF_RAW(0, 0, 0, 0, 0),
            X_EXIT);
    BADPROG("insn 0: ldabsw uses reserved fields (dst_reg must be 0)", EBPF_RAW(0x20, 1, 0, 0, 0), X_EXIT);
    BADPROG("insn 0: ldindb uses reserved fields (off must be 0)", EBPF_RAW(0x50, 0, 1, 2, 0), X_EXIT);
    BADPROG("insn 0: ldxw uses reserved fields (imm must be 0)", EBPF_RAW(0x61, 0, 1, 0, 1), X_EXIT);
    BADPROG("insn 0: stw uses reserved fields (src_reg must be 0)", EBPF_RAW(0x62, 10, 1, -4, 1), X_EXIT);
    BADPROG("insn 0: stxdw uses reserved fields (imm must be 0)", EBPF_RAW(0x7b, 10, 1, -8, 1), X_EXIT);
    BADPROG("insn 0: ja uses reserved fields (imm must be 0)", EBPF_RAW(0x05, 0, 0, 0, 1), X_EXIT);
    BADPROG("insn 0: ja uses reserved fields (dst_reg must be 0)", EBPF_RAW(0x05, 1, 0, 0, 0), X_EXIT);
    BADPROG("insn 0: ja32 uses reserved fields (off must be 0)", EBPF_RAW(0x06, 0, 0, 1, 0), X_EXIT);
    BADPROG("insn 0: jeq uses reserved fields (src_reg must be 0)", EBPF_RAW(0x15, 0, 1, 0, 0), X_EXIT);
    BADPROG("insn 0: jeq uses reserved fields (imm must be 0)", EBPF_RAW(0x1d, 0, 1, 0, 1), X_EXIT);
    BADPROG("insn 0: call uses reserved fields (dst_reg must be 0)", EBPF_RAW(0x85, 1, 0, 0, 5), X_EXIT);
    BADPROG("insn 0: call uses reserved fields (off must be 0)", EBPF_RAW(0x85, 0, 0, 1, 5), X_EXIT);
    BADPROG("insn 0: callx uses reserved fields (imm must be 0)", EBPF_RAW(0x8d, 1, 0, 0, 1), X_EXIT);
    BADPROG("insn 0: callx uses reserved fields (src_reg must be 0)", EBPF_RAW(0x8d, 1, 2, 0, 0), X_EXIT);
    BADPROG("insn 1: exit uses reserved fields (dst_reg must be 0)", EBPF_MOV64_IMM(0, 0),
            EBPF_RAW(0x95, 1, 0, 0, 0));
    BADPROG("insn 1: exit uses reserved fields (imm must be 0)", EBPF_MOV64_IMM(0, 0), EBPF_RAW(0x95, 0, 0, 0, 1));
}

Test(validate, invalid_registers)
{
    BADPROG("insn 2: invalid register r12", EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(1, 0), EBPF_MOV64_IMM(12, 0),
            X_EXIT);
    BADPROG("insn 0: invalid register r11", EBPF_MOV64_REG(0, 11), X_EXIT);
    BADPROG("insn 0: invalid register r15", EBPF_LDX_MEM(EBPF_SIZE_W, 0, 15, 0), X_EXIT);
    BADPROG("insn 0: invalid register r11", EBPF_ST_MEM(EBPF_SIZE_W, 11, 0, 0), X_EXIT);
    BADPROG("insn 0: invalid register r13", EBPF_JMP_REG(EBPF_JMP_JEQ, 13, 0, 0), X_EXIT);
    BADPROG("insn 0: invalid register r11", EBPF_CALLX(11), X_EXIT);
    BADPROG("insn 0: invalid register r11", EBPF_LD_IND(EBPF_SIZE_B, 11, 0), X_EXIT);
}

/* Writes to r10 load (the verifier decides: only dead ones are allowed);
 * the load records the first, and an unverified program that has one
 * does not run, in any mode, nor get native code. */
static void expect_fp_write(int32_t want_pc, const struct ebpf_insn *insns, size_t n)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, insns, n, NULL, &prog), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_expect_eq(prog->fp_write_pc, want_pc);
    if (want_pc >= 0) {
        static const enum ebpfvm_exec_mode modes[] = {EBPFVM_EXEC_CHECKED, EBPFVM_EXEC_FAST, EBPFVM_EXEC_JIT};
        for (size_t m = 0; m < 3; m++) {
            struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = modes[m], .flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST};
            struct ebpfvm_run_result res;
            cr_expect_eq(ebpfvm_prog_run(prog, NULL, 0, &ro, &res), EBPFVM_ERR_INVAL);
            cr_expect(strstr(res.message, "the program writes the frame pointer r10"), "%s", res.message);
            cr_expect_eq(res.fault_pc, want_pc);
        }
        cr_expect_neq(ebpfvm_prog_jit(prog, EBPFVM_JIT_ALLOW_UNVERIFIED), 0);
    }
    ebpfvm_vm_destroy(vm);
}

#define FP_WRITE(pc, ...)                                                                               \
    do {                                                                                               \
        struct ebpf_insn p_[] = {__VA_ARGS__};                                                          \
        expect_fp_write(pc, p_, EBPF_NWORDS(p_));                                                       \
    } while (0)

Test(validate, frame_pointer_writes)
{
    FP_WRITE(0, EBPF_MOV64_IMM(10, 0), X_EXIT);
    FP_WRITE(0, EBPF_ALU64_IMM(EBPF_ALU_ADD, 10, 8), X_EXIT);
    FP_WRITE(0, EBPF_ALU32_REG(EBPF_ALU_MOV, 10, 1), X_EXIT);
    FP_WRITE(0, EBPF_NEG64(10), X_EXIT);
    FP_WRITE(0, EBPF_BE(10, 16), X_EXIT);
    FP_WRITE(0, EBPF_LDX_MEM(EBPF_SIZE_DW, 10, 1, 0), X_EXIT);
    FP_WRITE(0, EBPF_LD_IMM64(10, 1), X_EXIT);
    FP_WRITE(1, EBPF_MOV64_IMM(0, 0), EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH, 1, 10, 0),
             X_EXIT);
    FP_WRITE(0, EBPF_ATOMIC_OP(EBPF_SIZE_W, EBPF_ATOMIC_XCHG, 1, 10, 0), X_EXIT);
    /* reading r10, storing through it, and non-fetching atomics with src r10 do not write it */
    FP_WRITE(-1, EBPF_MOV64_REG(1, 10), EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 1), EBPF_STX_MEM(EBPF_SIZE_DW, 10, 1, -16),
             EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_ADD, 1, 10, 0),
             EBPF_ATOMIC_OP(EBPF_SIZE_DW, EBPF_ATOMIC_CMPXCHG, 1, 10, 0), X_EXIT);
}

Test(validate, jump_targets)
{
    BADPROG("insn 4: jump out of range to 17", EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(0, 0),
            EBPF_MOV64_IMM(0, 0), EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 12), X_EXIT);
    BADPROG("insn 0: jump out of range to -1", EBPF_JA(-2), X_EXIT);
    BADPROG("insn 0: jump out of range to 2", EBPF_JA(1), X_EXIT);
    BADPROG("insn 1: jump out of range to 100001", EBPF_MOV64_IMM(0, 0), EBPF_GOTOL(99999), X_EXIT);
    BADPROG("insn 0: jump out of range to 3", EBPF_JMP32_REG(EBPF_JMP_JSGT, 0, 1, 2), X_EXIT);
    BADPROG("insn 0: jump into the middle of ld_imm64 at 2", EBPF_JA(1), EBPF_LD_IMM64(0, 1), X_EXIT);
    BADPROG("insn 3: jump into the middle of ld_imm64 at 1", EBPF_LD_IMM64(0, 1), EBPF_MOV64_IMM(0, 0),
            EBPF_GOTOL(-3), X_EXIT);
}

Test(validate, ld_imm64_pairs)
{
    BADPROG("insn 1: incomplete ld_imm64 (it is the last word)", EBPF_MOV64_IMM(0, 0),
            EBPF_RAW(0x18, 0, 0, 0, 1));
    BADPROG("insn 0: incomplete ld_imm64 (its second word has a non-zero opcode, register or offset)",
            EBPF_RAW(0x18, 0, 0, 0, 1), EBPF_MOV64_IMM(0, 0), X_EXIT);
    BADPROG("insn 0: incomplete ld_imm64 (its second word has a non-zero opcode, register or offset)",
            EBPF_RAW(0x18, 0, 0, 0, 1), EBPF_RAW(0, 1, 0, 0, 0), X_EXIT);
    BADPROG("insn 0: incomplete ld_imm64 (its second word has a non-zero opcode, register or offset)",
            EBPF_RAW(0x18, 0, 0, 0, 1), EBPF_RAW(0, 0, 0, 3, 0), X_EXIT);
}

Test(validate, ld_imm64_pseudo_sources)
{
    REJECT(EBPFVM_ERR_UNSUPP, "insn 0: ld_imm64 of a BTF id (src_reg 3) is not supported",
           EBPF_LD_IMM64_RAW(0, EBPF_PSEUDO_BTF_ID, 1, 0), X_EXIT);
    BADPROG("insn 0: ld_imm64 with unknown src_reg 7", EBPF_LD_IMM64_RAW(0, 7, 1, 0), X_EXIT);
    BADPROG("insn 0: ld_imm64 refers to map 0, which does not exist", EBPF_LD_MAP_FD(1, 0), X_EXIT);
    BADPROG("insn 0: ld_imm64 refers to map 3, which does not exist", EBPF_LD_MAP_VALUE(1, 3, 0), X_EXIT);
    BADPROG("insn 0: ld_imm64 refers to map -1, which does not exist",
            EBPF_LD_IMM64_RAW(1, EBPF_PSEUDO_MAP_IDX, -1, 0), X_EXIT);
    BADPROG("insn 0: ld_imm64 refers to map 0, which does not exist",
            EBPF_LD_IMM64_RAW(1, EBPF_PSEUDO_MAP_IDX_VALUE, 0, 0), X_EXIT);
    BADPROG("insn 0: ld_imm64 function reference out of range to 7", EBPF_LD_FUNC(1, 6), X_EXIT);
    BADPROG("insn 0: ld_imm64 function reference into the middle of ld_imm64 at 3", EBPF_LD_FUNC(1, 2),
            EBPF_LD_IMM64(0, 1), X_EXIT);
}

Test(validate, fall_through_off_the_end)
{
    BADPROG("insn 1: last instruction is not exit or jump (fall-through off the end)", EBPF_MOV64_IMM(0, 0),
            EBPF_MOV64_IMM(0, 1));
    BADPROG("insn 1: last instruction is not exit or jump (fall-through off the end)", EBPF_MOV64_IMM(0, 0),
            EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, -2));
    BADPROG("insn 0: last instruction is not exit or jump (fall-through off the end)", EBPF_LD_IMM64(0, 1));
    BADPROG("insn 0: last instruction is not exit or jump (fall-through off the end)", EBPF_CALL_HELPER(5));
    /* ending in a jump is fine */
    char msg[256];
    struct ebpf_insn ok[] = {EBPF_MOV64_IMM(0, 0), EBPF_EXIT(), EBPF_JA(-3)};
    cr_assert_eq(interp_load_error(ok, EBPF_NWORDS(ok), msg, sizeof msg), 0, "%s", msg);
}

Test(validate, calls)
{
    BADPROG("insn 5: unknown helper 99", EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(0, 0),
            EBPF_MOV64_IMM(0, 0), EBPF_MOV64_IMM(0, 0), EBPF_CALL_HELPER(99), X_EXIT);
    BADPROG("insn 0: unknown helper 0", EBPF_CALL_HELPER(0), X_EXIT);
    BADPROG("insn 0: unknown helper -5", EBPF_CALL_HELPER(-5), X_EXIT);
    BADPROG("insn 0: unknown helper 1024", EBPF_CALL_HELPER(1024), X_EXIT);
    REJECT(EBPFVM_ERR_UNSUPP, "insn 0: kfunc call (src_reg 2, id 7) is not one of ebpfvm's kfuncs",
           EBPF_RAW(0x85, 0, EBPF_PSEUDO_CALL_KFUNC, 0, 7), X_EXIT);
    BADPROG("insn 0: call with invalid src_reg 3", EBPF_RAW(0x85, 0, 3, 0, 7), X_EXIT);
    BADPROG("insn 1: local call out of range to 10", EBPF_MOV64_IMM(0, 0), EBPF_CALL_LOCAL(8), X_EXIT);
    BADPROG("insn 0: local call out of range to -1", EBPF_CALL_LOCAL(-2), X_EXIT);
    BADPROG("insn 0: local call into the middle of ld_imm64 at 2", EBPF_CALL_LOCAL(1), EBPF_LD_IMM64(0, 1),
            X_EXIT);
}

Test(validate, no_helper_table_at_all)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    ebpfvm_prog *prog = NULL;
    const struct ebpf_insn insns[] = {EBPF_CALL_HELPER(5), X_EXIT};
    cr_assert_eq(ebpfvm_prog_load(vm, insns, 2, NULL, &prog), EBPFVM_ERR_BADPROG);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "insn 0: unknown helper 5");
    ebpfvm_vm_destroy(vm);
}

Test(validate, legacy_packet_loads_not_in_xdp)
{
    ebpfvm_vm *vm = interp_test_vm();
    ebpfvm_prog *prog = NULL;
    const struct ebpf_insn insns[] = {EBPF_LD_ABS(EBPF_SIZE_W, 0), X_EXIT};
    struct ebpfvm_load_opts opts = {.sz = sizeof opts, .prog_type = EBPFVM_PROG_TYPE_XDP};
    cr_assert_eq(ebpfvm_prog_load(vm, insns, 2, &opts, &prog), EBPFVM_ERR_BADPROG);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "insn 0: legacy packet load ldabsw is not allowed in XDP programs");
    opts.prog_type = EBPFVM_PROG_TYPE_MEMORY;
    cr_assert_eq(ebpfvm_prog_load(vm, insns, 2, &opts, &prog), 0);
    ebpfvm_vm_destroy(vm);
}

/* Every form of the table, with valid fields, loads and decodes to itself. */
Test(validate, every_form_loads_and_decodes)
{
    ebpfvm_vm *vm = interp_test_vm();
    for (int form = 0; form < EBPF_OP_COUNT_; form++) {
        const struct ebpfvm_form_info *f = &ebpfvm__forms[form];
        struct ebpf_insn insns[3] = {EBPF_RAW(f->opcode, 0, 0, 0, 0), EBPF_EXIT(), EBPF_EXIT()};
        struct ebpf_insn *w = &insns[0];
        switch (f->format) {
        case EBPF_FMT_ALU_IMM: w->dst_reg = 1, w->imm = 3; break;
        case EBPF_FMT_ALU_REG: w->dst_reg = 1, w->src_reg = 2; break;
        case EBPF_FMT_ALU_UNARY: case EBPF_FMT_ENDIAN: case EBPF_FMT_CALLX: w->dst_reg = 1; break;
        case EBPF_FMT_LD_IMM64: w->dst_reg = 1, w->imm = 3; insns[1] = EBPF_RAW(0, 0, 0, 0, 4); break;
        case EBPF_FMT_LD_ABS: w->imm = 3; break;
        case EBPF_FMT_LD_IND: w->src_reg = 2, w->imm = 3; break;
        case EBPF_FMT_LDX: case EBPF_FMT_STX: case EBPF_FMT_ATOMIC: w->dst_reg = 1, w->src_reg = 2, w->off = -4; break;
        case EBPF_FMT_ST: w->dst_reg = 1, w->off = -4, w->imm = 5; break;
        case EBPF_FMT_JA: case EBPF_FMT_JA32: break; /* offset 0: the next word */
        case EBPF_FMT_JMP_IMM: w->dst_reg = 1, w->imm = -9; break;
        case EBPF_FMT_JMP_REG: w->dst_reg = 1, w->src_reg = 2; break;
        case EBPF_FMT_CALL: w->imm = INTERP_TEST_HELPER_ID; break;
        default: break;
        }
        if (f->disc == EBPF_DISC_OFF)
            w->off = (int16_t)f->disc_value;
        else if (f->disc == EBPF_DISC_IMM)
            w->imm = f->disc_value;
        ebpfvm_prog *prog = NULL;
        int err = ebpfvm_prog_load(vm, insns, 3, NULL, &prog);
        cr_assert_eq(err, 0, "%s: %s", f->mnemonic, ebpfvm_vm_errmsg(vm));
        const struct ebpfvm_dinsn *d = &prog->code[0];
        cr_assert_eq(d->form, form, "%s decoded as form %d", f->mnemonic, d->form);
        cr_assert_eq(d->dst, w->dst_reg);
        switch (f->format) {
        case EBPF_FMT_LD_IMM64:
            cr_assert_eq(d->u.uimm, 0x400000003ull);
            cr_assert_eq(prog->code[1].form, EBPF_OP_COUNT_);
            break;
        case EBPF_FMT_LDX: case EBPF_FMT_ST: case EBPF_FMT_STX: case EBPF_FMT_ATOMIC:
            cr_assert_eq(d->off, -4);
            cr_assert_eq(d->size, ebpfvm__size_bytes(f->opcode));
            break;
        case EBPF_FMT_JA: case EBPF_FMT_JA32: case EBPF_FMT_JMP_REG:
            cr_assert_eq(d->u.target, 1);
            break;
        case EBPF_FMT_JMP_IMM:
            cr_assert_eq(d->u.target, 1);
            cr_assert_eq(d->off, -9); /* the comparison immediate */
            break;
        case EBPF_FMT_ALU_IMM:
            cr_assert_eq(d->u.imm, 3);
            break;
        default:
            break;
        }
        ebpfvm_prog_destroy(prog);
    }
    ebpfvm_vm_destroy(vm);
}

Test(validate, decoded_immediates_are_sign_extended)
{
    ebpfvm_vm *vm = interp_test_vm();
    const struct ebpf_insn insns[] = {EBPF_MOV64_IMM(0, -2), EBPF_LD_IMM64(1, 0xfffffffe00000001ull),
                                      EBPF_GOTOL(-4), EBPF_EXIT()};
    ebpfvm_prog *prog = interp_load(vm, insns, EBPF_NWORDS(insns));
    cr_assert_eq(prog->code[0].u.imm, -2);
    cr_assert_eq(prog->code[1].u.uimm, 0xfffffffe00000001ull);
    cr_assert_eq(prog->code[3].u.target, 0);
    ebpfvm_vm_destroy(vm);
}
