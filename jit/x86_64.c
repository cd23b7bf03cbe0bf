/*
 * jit/x86_64.c - the x86-64 code generator: one pass over the decoded
 * program, emitting through typed encoders (one emit_* function per
 * encoding, each commented with the instruction it emits).
 *
 * Owns the register map, the native frame layout and the translation of
 * every instruction form the interpreter runs, except pseudo-func LD_IMM64
 * (a subprogram's address), which makes the program fall back to the
 * interpreter.
 *
 * Register map (BPF -> x86-64, SysV ABI):
 *   r0  rax  return value of helpers and of the program
 *   r1  rdi  \
 *   r2  rsi   |
 *   r3  rdx   | helper arguments 1-5: a helper call moves nothing
 *   r4  rcx   |
 *   r5  r8   /
 *   r6  rbx  \
 *   r7  r13   | callee-saved in SysV: they survive helper calls
 *   r8  r14   |
 *   r9  r15  /
 *   r10 rbp  frame pointer: top of the current frame's 512-byte stack
 *   -   r9   6th helper argument: the run's struct ebpfvm_env *
 *   -   r10, r11  scratch within one instruction's expansion
 *   -   r12  struct ebpfvm_jit_run * of the run (callee-saved)
 *
 * Layout: offset 0 is the entry (C ABI: ctx, ctx_size, run), which saves the
 * C callee-saved registers, zeroes r0 and r3-r9 like the interpreter, and
 * calls the main program's function; then the fault exit, which restores the
 * entry stack pointer from run->entry_sp and returns 0. Each BPF function (pc
 * 0 and every bpf-to-bpf call target) starts with a prologue that saves
 * r6-r9 and r10 and reserves 512 bytes of stack below the new r10; EXIT
 * undoes it. The first frame at each depth in a run has its stack zeroed,
 * as in the interpreter - only the bytes some instruction can reach
 * (stack_reach): none when the program never touches the stack, the whole
 * frame when r10 escapes into another register. Inside BPF code rsp is
 * 16-byte aligned, as helper calls need. An out-of-bounds legacy packet
 * load returns 0 from the current function through its epilogue (the
 * kernel's hidden `r0 = 0; exit`): the main function's return ends the run
 * with r0 = 0, a subprogram's returns to its caller.
 *
 * One difference from the interpreter, invisible to verified programs: a
 * helper call leaves r1-r5 with whatever the helper left in rdi, rsi, rdx,
 * rcx and r8 (eBPF says they are clobbered; the interpreter keeps them).
 *
 * Loads are emitted from the decoded instruction (prog->code), not the
 * original word: the load-time context pass rewrites context field reads
 * there (an xdp_md u32 read becomes a u64 load of the runtime context).
 *
 * Constant blinding (j->blind, EBPFVM_JIT_BLIND): every immediate of an
 * ALU, JMP, ST, LD_IMM64, LD_ABS or LD_IND instruction goes through
 * emit_imm / emit_imm64, which emit (imm ^ key) and an xor with the key of
 * that instruction; encoders that take an immediate operand are then used
 * only for constants of the JIT's own (frame offsets, sizes, pc numbers)
 * and for a helper call's id and address, which the loader has checked
 * against the registered helpers (the kernel does not blind those either).
 * Memory offsets (the 16-bit off field) are not immediates and stay.
 *
 * Invariants: emission is deterministic given the previous pass's layout;
 * jumps to labels only go through emit_jmp_label / emit_jcc_label /
 * emit_call_label (fixups patched by the driver); every 32-bit ALU result is
 * zero-extended to 64 bits, as vm/arith.h defines.
 */
#include <stddef.h>
#include <string.h>

#include "jit/jit.h"
#include "vm/arith.h"

enum x86_reg {
    RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
    R8, R9, R10, R11, R12, R13, R14, R15
};

/* BPF register -> x86-64 register (see the map above). */
static const uint8_t reg_map[EBPF_NREGS] = {
    RAX,                    /* r0 */
    RDI, RSI, RDX, RCX, R8, /* r1-r5 */
    RBX, R13, R14, R15,     /* r6-r9 */
    RBP,                    /* r10 */
};

#define REG_HELPER_ENV R9 /* 6th argument register */
#define REG_TMP R10
#define REG_TMP2 R11
#define REG_RUN R12

/* Condition codes (the low nibble of jcc). */
enum x86_cc {
    CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7,
    CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe, CC_G = 0xf
};

/* Opcodes of the "op r/m, r" ALU forms and the /digit of "op r/m, imm". */
enum x86_alu {
    ALU_ADD = 0x01, ALU_OR = 0x09, ALU_AND = 0x21, ALU_SUB = 0x29, ALU_XOR = 0x31, ALU_CMP = 0x39,
    ALU_TEST = 0x85, ALU_MOV = 0x89
};
static uint8_t alu_digit(enum x86_alu op)
{
    switch (op) {
    case ALU_ADD: return 0;
    case ALU_OR: return 1;
    case ALU_AND: return 4;
    case ALU_SUB: return 5;
    case ALU_XOR: return 6;
    default: return 7; /* cmp */
    }
}

/* /digit of the shift group (C1 / D3). */
enum x86_shift { SHIFT_ROR = 1, SHIFT_SHL = 4, SHIFT_SHR = 5, SHIFT_SAR = 7 };

/* ---------------------------------------------------------- raw bytes */

static void emit1(struct ebpfvm_jit *j, uint8_t b)
{
    ebpfvm__jit_emit(j, &b, 1);
}

static void emit2(struct ebpfvm_jit *j, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    ebpfvm__jit_emit(j, b, 2);
}

static void emit4(struct ebpfvm_jit *j, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ebpfvm__jit_emit(j, b, 4);
}

static void emit8(struct ebpfvm_jit *j, uint64_t v)
{
    emit4(j, (uint32_t)v);
    emit4(j, (uint32_t)(v >> 32));
}

static bool fits_s8(int64_t v)
{
    return v >= INT8_MIN && v <= INT8_MAX;
}

/* REX prefix: W (64-bit operand), R (reg field), B (r/m or opcode reg).
 * `force` emits it even when empty, to reach spl/bpl/sil/dil as bytes. */
static void emit_rex(struct ebpfvm_jit *j, bool w, unsigned reg, unsigned rm, bool force)
{
    uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1));
    if (rex != 0x40 || force)
        emit1(j, rex);
}

/* ModRM for a register operand: mod 11. */
static void emit_modrm_reg(struct ebpfvm_jit *j, unsigned reg, unsigned rm)
{
    emit1(j, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* ModRM (+SIB) for [base + disp]: mod 00 (no displacement) for disp 0
 * except with rbp/r13 (whose mod 00 means rip-relative / disp32), else mod
 * 01/10; rsp and r12 need a SIB byte. */
static void emit_modrm_mem(struct ebpfvm_jit *j, unsigned reg, unsigned base, int32_t disp)
{
    bool short_disp = fits_s8(disp);
    bool no_disp = disp == 0 && (base & 7) != RBP;
    emit1(j, (uint8_t)((no_disp ? 0x00 : short_disp ? 0x40 : 0x80) | (reg & 7) << 3 | (base & 7)));
    if ((base & 7) == RSP)
        emit1(j, 0x24); /* SIB: no index, base */
    if (no_disp)
        return;
    if (short_disp)
        emit1(j, (uint8_t)(disp & 0xff));
    else
        emit4(j, (uint32_t)disp);
}

static bool is_byte_reg_needing_rex(unsigned reg)
{
    return reg >= RSP && reg <= RDI;
}

/* ----------------------------------------------------- typed encoders */

/* add/sub/or/and/xor/cmp/test/mov dst, src  (64-bit when w, else 32-bit) */
static void emit_alu_rr(struct ebpfvm_jit *j, enum x86_alu op, bool w, unsigned dst, unsigned src)
{
    emit_rex(j, w, src, dst, false);
    emit1(j, (uint8_t)op);
    emit_modrm_reg(j, src, dst);
}

/* add/sub/or/and/xor/cmp dst, imm32 (sign-extended imm8 form when it fits) */
static void emit_alu_ri(struct ebpfvm_jit *j, enum x86_alu op, bool w, unsigned dst, int32_t imm)
{
    emit_rex(j, w, 0, dst, false);
    if (fits_s8(imm)) {
        emit1(j, 0x83);
        emit_modrm_reg(j, alu_digit(op), dst);
        emit1(j, (uint8_t)(imm & 0xff));
    } else {
        emit1(j, 0x81);
        emit_modrm_reg(j, alu_digit(op), dst);
        emit4(j, (uint32_t)imm);
    }
}

/* add/sub/cmp dword/qword [base + off], imm8 */
static void emit_alu_mi8(struct ebpfvm_jit *j, enum x86_alu op, bool w, unsigned base, int32_t off, int8_t imm)
{
    emit_rex(j, w, 0, base, false);
    emit1(j, 0x83);
    emit_modrm_mem(j, alu_digit(op), base, off);
    emit1(j, (uint8_t)imm);
}

/* add/sub/or/and/xor/cmp [base + off], src */
static void emit_alu_mr(struct ebpfvm_jit *j, enum x86_alu op, bool w, unsigned base, int32_t off, unsigned src)
{
    emit_rex(j, w, src, base, false);
    emit1(j, (uint8_t)op);
    emit_modrm_mem(j, src, base, off);
}

/* cmp byte [base + off], imm8 */
static void emit_cmp_m8_i8(struct ebpfvm_jit *j, unsigned base, int32_t off, uint8_t imm)
{
    emit_rex(j, false, 0, base, false);
    emit1(j, 0x80);
    emit_modrm_mem(j, 7, base, off);
    emit1(j, imm);
}

/* test dst, imm32 (64-bit: imm sign-extended) */
static void emit_test_ri(struct ebpfvm_jit *j, bool w, unsigned dst, int32_t imm)
{
    emit_rex(j, w, 0, dst, false);
    emit1(j, 0xf7);
    emit_modrm_reg(j, 0, dst);
    emit4(j, (uint32_t)imm);
}

/* mov dst32, imm32 (zero-extends) */
static void emit_mov_ri32(struct ebpfvm_jit *j, unsigned dst, uint32_t imm)
{
    emit_rex(j, false, 0, dst, false);
    emit1(j, (uint8_t)(0xb8 + (dst & 7)));
    emit4(j, imm);
}

/* mov dst, imm32 (sign-extended to 64 bits) */
static void emit_mov_ri_sx(struct ebpfvm_jit *j, unsigned dst, int32_t imm)
{
    emit_rex(j, true, 0, dst, false);
    emit1(j, 0xc7);
    emit_modrm_reg(j, 0, dst);
    emit4(j, (uint32_t)imm);
}

/* movabs dst, imm64 */
static void emit_movabs(struct ebpfvm_jit *j, unsigned dst, uint64_t imm)
{
    emit_rex(j, true, 0, dst, false);
    emit1(j, (uint8_t)(0xb8 + (dst & 7)));
    emit8(j, imm);
}

/* dst = imm64 with the shortest of the three encodings above */
static void emit_load_imm64(struct ebpfvm_jit *j, unsigned dst, uint64_t imm)
{
    if (imm <= UINT32_MAX)
        emit_mov_ri32(j, dst, (uint32_t)imm);
    else if (imm >= (uint64_t)INT32_MIN) /* -2^31 .. -1 as uint64_t */
        emit_mov_ri_sx(j, dst, ebpf_as_s32((uint32_t)imm));
    else
        emit_movabs(j, dst, imm);
}

/* ------------------------------------------------- constant blinding */

/*
 * Constant blinding (EBPFVM_JIT_BLIND): no immediate of the program appears
 * in the code. Each is emitted as (imm ^ key) and xor'ed with the key of its
 * instruction at run time, so that a program cannot place chosen bytes in
 * executable memory (JIT spraying). Keys are drawn once per compilation and
 * never 0, so emitted sizes are the same in every pass.
 */

/* reg = imm sign-extended to 64 bits (w) or zero-extended imm32 (!w),
 * blinded when the compilation blinds. */
static void emit_imm(struct ebpfvm_jit *j, bool w, unsigned reg, int32_t imm)
{
    if (!j->blind) {
        if (imm == 0)
            emit_alu_rr(j, ALU_XOR, false, reg, reg);     /* xor reg32, reg32 (zero-extends) */
        else if (w && imm < 0)
            emit_mov_ri_sx(j, reg, imm);                  /* mov reg, imm (sign-extended) */
        else
            emit_mov_ri32(j, reg, (uint32_t)imm);         /* mov reg32, imm (zero-extends: for imm >= 0
                                                           * also the sign extension) */
        return;
    }
    uint32_t key = j->keys[j->pc];
    int32_t blinded = ebpf_as_s32((uint32_t)imm ^ key);
    if (w)
        emit_mov_ri_sx(j, reg, blinded);                  /* mov reg, imm ^ key */
    else
        emit_mov_ri32(j, reg, (uint32_t)blinded);         /* mov reg32, imm ^ key */
    /* sign extension commutes with xor: sx(a) ^ sx(b) == sx(a ^ b) */
    emit_alu_ri(j, ALU_XOR, w, reg, ebpf_as_s32(key));    /* xor reg, key */
}

/* dst = imm64 (LD_IMM64), blinded with the keys of both of its words. */
static void emit_imm64(struct ebpfvm_jit *j, unsigned dst, uint64_t imm)
{
    if (!j->blind) {
        emit_load_imm64(j, dst, imm);                     /* mov dst, imm64 */
        return;
    }
    uint64_t key = (uint64_t)j->keys[j->pc] | (uint64_t)j->keys[j->pc + 1] << 32;
    emit_movabs(j, dst, imm ^ key);                       /* movabs dst, imm ^ key */
    emit_movabs(j, REG_TMP, key);                         /* movabs r10, key */
    emit_alu_rr(j, ALU_XOR, true, dst, REG_TMP);          /* xor dst, r10 */
}

/* imul dst, src */
static void emit_imul_rr(struct ebpfvm_jit *j, bool w, unsigned dst, unsigned src)
{
    emit_rex(j, w, dst, src, false);
    emit1(j, 0x0f);
    emit1(j, 0xaf);
    emit_modrm_reg(j, dst, src);
}

/* imul dst, src, imm32 */
static void emit_imul_rri(struct ebpfvm_jit *j, bool w, unsigned dst, unsigned src, int32_t imm)
{
    emit_rex(j, w, dst, src, false);
    emit1(j, 0x69);
    emit_modrm_reg(j, dst, src);
    emit4(j, (uint32_t)imm);
}

/* neg reg */
static void emit_neg(struct ebpfvm_jit *j, bool w, unsigned reg)
{
    emit_rex(j, w, 0, reg, false);
    emit1(j, 0xf7);
    emit_modrm_reg(j, 3, reg);
}

/* div reg / idiv reg  (rdx:rax / reg) */
static void emit_div(struct ebpfvm_jit *j, bool w, bool is_signed, unsigned reg)
{
    emit_rex(j, w, 0, reg, false);
    emit1(j, 0xf7);
    emit_modrm_reg(j, is_signed ? 7 : 6, reg);
}

/* cqo (w) / cdq: sign-extend rax into rdx */
static void emit_cqo(struct ebpfvm_jit *j, bool w)
{
    if (w)
        emit1(j, 0x48);
    emit1(j, 0x99);
}

/* shl/shr/sar/ror dst, imm8 */
static void emit_shift_ri(struct ebpfvm_jit *j, enum x86_shift op, bool w, unsigned dst, uint8_t n)
{
    emit_rex(j, w, 0, dst, false);
    emit1(j, 0xc1);
    emit_modrm_reg(j, op, dst);
    emit1(j, n);
}

/* shl/shr/sar dst, cl */
static void emit_shift_cl(struct ebpfvm_jit *j, enum x86_shift op, bool w, unsigned dst)
{
    emit_rex(j, w, 0, dst, false);
    emit1(j, 0xd3);
    emit_modrm_reg(j, op, dst);
}

/* ror dst16, 8 */
static void emit_ror16_8(struct ebpfvm_jit *j, unsigned dst)
{
    emit1(j, 0x66);
    emit_rex(j, false, 0, dst, false);
    emit1(j, 0xc1);
    emit_modrm_reg(j, SHIFT_ROR, dst);
    emit1(j, 8);
}

/* movzx dst32, src16 */
static void emit_movzx16_rr(struct ebpfvm_jit *j, unsigned dst, unsigned src)
{
    emit_rex(j, false, dst, src, false);
    emit1(j, 0x0f);
    emit1(j, 0xb7);
    emit_modrm_reg(j, dst, src);
}

/* movsx dst(32|64), src8 / movsx dst(32|64), src16 / movsxd dst, src32 */
static void emit_movsx_rr(struct ebpfvm_jit *j, bool w, unsigned bits, unsigned dst, unsigned src)
{
    emit_rex(j, w, dst, src, bits == 8 && is_byte_reg_needing_rex(src));
    if (bits == 32) {
        emit1(j, 0x63);
    } else {
        emit1(j, 0x0f);
        emit1(j, bits == 8 ? 0xbe : 0xbf);
    }
    emit_modrm_reg(j, dst, src);
}

/* bswap reg (32 or 64) */
static void emit_bswap(struct ebpfvm_jit *j, bool w, unsigned reg)
{
    emit_rex(j, w, 0, reg, false);
    emit1(j, 0x0f);
    emit1(j, (uint8_t)(0xc8 + (reg & 7)));
}

/* Loads: movzx dst32, byte/word [base+off]; mov dst32/dst, [base+off];
 * with sx: movsx dst, byte/word [base+off]; movsxd dst, dword [base+off] */
static void emit_load(struct ebpfvm_jit *j, unsigned size, bool sx, unsigned dst, unsigned base, int32_t off)
{
    switch (size) {
    case 1:
    case 2:
        emit_rex(j, sx, dst, base, false);
        emit1(j, 0x0f);
        emit1(j, (uint8_t)((sx ? 0xbe : 0xb6) + (size == 2 ? 1 : 0)));
        break;
    case 4:
        emit_rex(j, sx, dst, base, false);
        emit1(j, sx ? 0x63 : 0x8b);
        break;
    default:
        emit_rex(j, true, dst, base, false);
        emit1(j, 0x8b);
        break;
    }
    emit_modrm_mem(j, dst, base, off);
}

/* mov byte/word/dword/qword [base+off], src */
static void emit_store_reg(struct ebpfvm_jit *j, unsigned size, unsigned base, int32_t off, unsigned src)
{
    if (size == 2)
        emit1(j, 0x66);
    emit_rex(j, size == 8, src, base, size == 1 && is_byte_reg_needing_rex(src));
    emit1(j, size == 1 ? 0x88 : 0x89);
    emit_modrm_mem(j, src, base, off);
}

/* mov byte/word/dword/qword [base+off], imm (qword: imm32 sign-extended) */
static void emit_store_imm(struct ebpfvm_jit *j, unsigned size, unsigned base, int32_t off, int32_t imm)
{
    if (size == 2)
        emit1(j, 0x66);
    emit_rex(j, size == 8, 0, base, false);
    emit1(j, size == 1 ? 0xc6 : 0xc7);
    emit_modrm_mem(j, 0, base, off);
    if (size == 1)
        emit1(j, (uint8_t)(imm & 0xff));
    else if (size == 2)
        emit2(j, (uint16_t)(imm & 0xffff));
    else
        emit4(j, (uint32_t)imm);
}

/* lea dst, [base+off] */
static void emit_lea(struct ebpfvm_jit *j, unsigned dst, unsigned base, int32_t off)
{
    emit_rex(j, true, dst, base, false);
    emit1(j, 0x8d);
    emit_modrm_mem(j, dst, base, off);
}

/* lock add/or/and/xor [base+off], src */
static void emit_lock_alu_mr(struct ebpfvm_jit *j, enum x86_alu op, bool w, unsigned base, int32_t off, unsigned src)
{
    emit1(j, 0xf0);
    emit_rex(j, w, src, base, false);
    emit1(j, (uint8_t)op);
    emit_modrm_mem(j, src, base, off);
}

/* lock xadd [base+off], src */
static void emit_lock_xadd(struct ebpfvm_jit *j, bool w, unsigned base, int32_t off, unsigned src)
{
    emit1(j, 0xf0);
    emit_rex(j, w, src, base, false);
    emit1(j, 0x0f);
    emit1(j, 0xc1);
    emit_modrm_mem(j, src, base, off);
}

/* xchg [base+off], src  (implicitly locked) */
static void emit_xchg_mr(struct ebpfvm_jit *j, bool w, unsigned base, int32_t off, unsigned src)
{
    emit_rex(j, w, src, base, false);
    emit1(j, 0x87);
    emit_modrm_mem(j, src, base, off);
}

/* lock cmpxchg [base+off], src  (compares with rax/eax) */
static void emit_lock_cmpxchg(struct ebpfvm_jit *j, bool w, unsigned base, int32_t off, unsigned src)
{
    emit1(j, 0xf0);
    emit_rex(j, w, src, base, false);
    emit1(j, 0x0f);
    emit1(j, 0xb1);
    emit_modrm_mem(j, src, base, off);
}

/* xorps xmm0, xmm0 */
static void emit_xorps_xmm0(struct ebpfvm_jit *j)
{
    emit1(j, 0x0f);
    emit1(j, 0x57);
    emit1(j, 0xc0);
}

/* movups [base + off], xmm0 */
static void emit_movups_store_xmm0(struct ebpfvm_jit *j, unsigned base, int32_t off)
{
    emit_rex(j, false, 0, base, false);
    emit1(j, 0x0f);
    emit1(j, 0x11);
    emit_modrm_mem(j, 0, base, off);
}

/* push reg */
static void emit_push(struct ebpfvm_jit *j, unsigned reg)
{
    emit_rex(j, false, 0, reg, false);
    emit1(j, (uint8_t)(0x50 + (reg & 7)));
}

/* pop reg */
static void emit_pop(struct ebpfvm_jit *j, unsigned reg)
{
    emit_rex(j, false, 0, reg, false);
    emit1(j, (uint8_t)(0x58 + (reg & 7)));
}

/* ret */
static void emit_ret(struct ebpfvm_jit *j)
{
    emit1(j, 0xc3);
}

/* call reg */
static void emit_call_reg(struct ebpfvm_jit *j, unsigned reg)
{
    emit_rex(j, false, 0, reg, false);
    emit1(j, 0xff);
    emit_modrm_reg(j, 2, reg);
}

/* call rel32 -> label */
static void emit_call_label(struct ebpfvm_jit *j, uint32_t label)
{
    emit1(j, 0xe8);
    ebpfvm__jit_fixup(j, label, 4);
}

/* jmp rel8 / jmp rel32 -> label */
static void emit_jmp_label(struct ebpfvm_jit *j, uint32_t label)
{
    if (ebpfvm__jit_reaches_short(j, label, 2)) {
        emit1(j, 0xeb);
        ebpfvm__jit_fixup(j, label, 1);
    } else {
        emit1(j, 0xe9);
        ebpfvm__jit_fixup(j, label, 4);
    }
}

/* jcc rel8 / jcc rel32 -> label */
static void emit_jcc_label(struct ebpfvm_jit *j, enum x86_cc cc, uint32_t label)
{
    if (ebpfvm__jit_reaches_short(j, label, 2)) {
        emit1(j, (uint8_t)(0x70 + cc));
        ebpfvm__jit_fixup(j, label, 1);
    } else {
        emit1(j, 0x0f);
        emit1(j, (uint8_t)(0x80 + cc));
        ebpfvm__jit_fixup(j, label, 4);
    }
}

/* jcc rel8 forward inside one expansion; returns the field to bind */
static size_t emit_jcc_local(struct ebpfvm_jit *j, enum x86_cc cc)
{
    emit1(j, (uint8_t)(0x70 + cc));
    return ebpfvm__jit_local_rel8(j);
}

/* jmp rel8 forward inside one expansion; returns the field to bind */
static size_t emit_jmp_local(struct ebpfvm_jit *j)
{
    emit1(j, 0xeb);
    return ebpfvm__jit_local_rel8(j);
}

/* jcc rel8 backward to `target` (an offset inside this expansion) */
static void emit_jcc_back(struct ebpfvm_jit *j, enum x86_cc cc, size_t target)
{
    int64_t disp = (int64_t)target - (int64_t)(j->len + 2);
    if (!fits_s8(disp)) {
        ebpfvm__jit_fail(j, EBPFVM_ERR_RANGE, "insn %u: internal loop of %lld bytes", j->pc, (long long)disp);
        return;
    }
    emit1(j, (uint8_t)(0x70 + cc));
    emit1(j, (uint8_t)(disp & 0xff));
}

/* ------------------------------------------------ frames and the entry */

#define RUN_OFF(field) ((int32_t)offsetof(struct ebpfvm_jit_run, field))
#define ENV_OFF(field) ((int32_t)offsetof(struct ebpfvm_env, field))

/* The C-ABI entry: uint64_t entry(void *ctx, uint64_t ctx_size, run *). */
static void emit_entry(struct ebpfvm_jit *j)
{
    static const uint8_t saved[] = {RBP, RBX, R12, R13, R14, R15};
    for (size_t i = 0; i < sizeof saved; i++)
        emit_push(j, saved[i]);                      /* push rbp/rbx/r12-r15 */
    emit_alu_rr(j, ALU_MOV, true, REG_RUN, RDX);     /* mov r12, rdx */
    emit_alu_ri(j, ALU_SUB, true, RSP, 8);           /* sub rsp, 8: 16-byte alignment */
    emit_store_reg(j, 8, REG_RUN, RUN_OFF(entry_sp), RSP); /* mov [r12 + entry_sp], rsp */
    /* r1 = ctx (rdi) and r2 = ctx_size (rsi) already; the others start at 0. */
    static const uint8_t zeroed[] = {0, 3, 4, 5, 6, 7, 8, 9};
    for (size_t i = 0; i < sizeof zeroed; i++) {
        unsigned r = reg_map[zeroed[i]];
        emit_alu_rr(j, ALU_XOR, false, r, r);        /* xor r32, r32 */
    }
    emit_call_label(j, ebpfvm__jit_label_entry(j, 0)); /* call main */
    size_t epilogue = j->len;
    emit_alu_ri(j, ALU_ADD, true, RSP, 8);           /* add rsp, 8 */
    for (size_t i = sizeof saved; i-- > 0;)
        emit_pop(j, saved[i]);                       /* pop r15-r12/rbx/rbp */
    emit_ret(j);                                     /* ret */

    ebpfvm__jit_bind(j, ebpfvm__jit_label_special(j, EBPFVM_JIT_LABEL_FAULT_EXIT));
    emit_load(j, 8, false, RSP, REG_RUN, RUN_OFF(entry_sp)); /* mov rsp, [r12 + entry_sp] */
    emit_alu_rr(j, ALU_XOR, false, RAX, RAX);        /* xor eax, eax */
    int64_t disp = (int64_t)epilogue - (int64_t)(j->len + 2);
    emit1(j, 0xeb);                                  /* jmp epilogue (rel8) */
    emit1(j, (uint8_t)(disp & 0xff));
}

/*
 * How many bytes below r10 a program can reach: when r10 is used only as
 * the base of loads, stores and atomics with constant offsets inside the
 * frame, the deepest of them (rounded to 8); otherwise (r10 copied, passed,
 * compared or an access outside the frame) the whole EBPF_STACK_SIZE.
 * Bytes no instruction can reach need no zeroing: no run can observe them.
 */
static unsigned stack_reach(const struct ebpfvm_prog *prog)
{
    unsigned reach = 0;
    for (size_t pc = 0; pc < prog->count; pc++) {
        const struct ebpfvm_dinsn *d = &prog->code[pc];
        const struct ebpf_insn *in = &prog->insns[pc];
        if (d->form >= EBPF_OP_COUNT_)
            continue; /* the second word of an LD_IMM64 */
        uint8_t fmt = ebpfvm__forms[d->form].format;
        bool base_use = (fmt == EBPF_FMT_LDX && in->src_reg == EBPF_REG_FP) ||
                        ((fmt == EBPF_FMT_ST || fmt == EBPF_FMT_STX || fmt == EBPF_FMT_ATOMIC) &&
                         in->dst_reg == EBPF_REG_FP);
        bool other_use = (fmt == EBPF_FMT_LDX ? in->dst_reg == EBPF_REG_FP
                          : base_use        ? in->src_reg == EBPF_REG_FP
                                            : in->dst_reg == EBPF_REG_FP || in->src_reg == EBPF_REG_FP);
        if (other_use)
            return EBPF_STACK_SIZE;
        if (!base_use)
            continue;
        int64_t lo = in->off, hi = (int64_t)in->off + (int64_t)ebpfvm__size_bytes(in->opcode);
        if (lo < -EBPF_STACK_SIZE || hi > 0)
            return EBPF_STACK_SIZE;
        unsigned need = (unsigned)((-lo + 7) / 8 * 8);
        if (need > reach)
            reach = need;
    }
    return reach;
}

/* Programs with may_goto keep each frame's loop budget in a slot below its
 * 512 bytes of stack (the kernel's extra stack slot), out of the program's
 * reach; the frame grows by 16 bytes to keep rsp aligned. */
#define MAY_GOTO_SLOT (-(int32_t)EBPF_STACK_SIZE - 8)

static bool has_may_goto(const struct ebpfvm_prog *prog)
{
    for (size_t pc = 0; pc < prog->count; pc++)
        if (prog->code[pc].form == EBPF_OP_MAY_GOTO)
            return true;
    return false;
}

/* A BPF function's prologue: save r6-r9 and r10, new frame of 512 bytes. */
static void emit_function_prologue(struct ebpfvm_jit *j)
{
    emit_push(j, RBX);                               /* push rbx (r6) */
    emit_push(j, R13);                               /* push r13 (r7) */
    emit_push(j, R14);                               /* push r14 (r8) */
    emit_push(j, R15);                               /* push r15 (r9) */
    emit_push(j, RBP);                               /* push rbp (r10) */
    emit_alu_rr(j, ALU_MOV, true, RBP, RSP);         /* mov rbp, rsp */
    if (j->may_goto) {
        emit_alu_ri(j, ALU_SUB, true, RSP, EBPF_STACK_SIZE + 16); /* sub rsp, 528 */
        emit_store_imm(j, 8, RBP, MAY_GOTO_SLOT, EBPF_MAY_GOTO_BUDGET); /* mov qword [rbp - 520], budget */
    } else {
        emit_alu_ri(j, ALU_SUB, true, RSP, EBPF_STACK_SIZE); /* sub rsp, 512 */
    }
    /* The first frame at each depth in a run starts zeroed, as in the
     * interpreter: no run reads the host's stale stack bytes. Only the
     * bytes the program can reach are zeroed (stack_reach). */
    unsigned bytes = stack_reach(j->prog);
    if (bytes == 0)
        return;
    emit_load(j, 4, false, REG_TMP2, REG_RUN, RUN_OFF(depth));     /* mov r11d, [r12 + depth] */
    emit_alu_mr(j, ALU_CMP, false, REG_RUN, RUN_OFF(zeroed), REG_TMP2); /* cmp [r12 + zeroed], r11d */
    size_t done = emit_jcc_local(j, CC_A);                         /* ja .done */
    emit_alu_ri(j, ALU_ADD, false, REG_TMP2, 1);                   /* add r11d, 1 */
    emit_store_reg(j, 4, REG_RUN, RUN_OFF(zeroed), REG_TMP2);      /* mov [r12 + zeroed], r11d */
    if (bytes <= 64) {
        emit_alu_rr(j, ALU_XOR, false, REG_TMP2, REG_TMP2);        /* xor r11d, r11d */
        for (unsigned at = 8; at <= bytes; at += 8)
            emit_store_reg(j, 8, RBP, -(int32_t)at, REG_TMP2);     /* mov [rbp - at], r11 */
    } else {
        /* 64 bytes per round with four 16-byte stores (SSE2 is part of
         * x86-64; xmm0 is caller-saved and used nowhere else). */
        unsigned rounded = (bytes + 63) / 64 * 64;
        emit_xorps_xmm0(j);                                        /* xorps xmm0, xmm0 */
        emit_lea(j, REG_TMP, RBP, -(int32_t)rounded);              /* lea r10, [rbp - rounded] */
        size_t again = j->len;                                     /* .again: */
        for (int32_t at = 0; at < 64; at += 16)
            emit_movups_store_xmm0(j, REG_TMP, at);                /* movups [r10 + at], xmm0 */
        emit_alu_ri(j, ALU_ADD, true, REG_TMP, 64);                /* add r10, 64 */
        emit_alu_rr(j, ALU_CMP, true, REG_TMP, RBP);               /* cmp r10, rbp */
        emit_jcc_back(j, CC_B, again);                             /* jb .again */
    }
    ebpfvm__jit_local_bind(j, done);                               /* .done: */
}

/* EXIT: undo the prologue, return r0 in rax. */
static void emit_function_epilogue(struct ebpfvm_jit *j)
{
    emit_alu_rr(j, ALU_MOV, true, RSP, RBP);         /* mov rsp, rbp */
    emit_pop(j, RBP);                                /* pop rbp */
    emit_pop(j, R15);                                /* pop r15 */
    emit_pop(j, R14);                                /* pop r14 */
    emit_pop(j, R13);                                /* pop r13 */
    emit_pop(j, RBX);                                /* pop rbx */
    emit_ret(j);                                     /* ret */
}

/* Record a fault and unwind to the entry frame (run->fault_value is set
 * by the caller where the fault kind needs it). */
static void emit_fault(struct ebpfvm_jit *j, enum ebpfvm_jit_fault kind)
{
    emit_store_imm(j, 4, REG_RUN, RUN_OFF(fault_kind), (int32_t)kind); /* mov dword [r12 + fault_kind], kind */
    emit_store_imm(j, 4, REG_RUN, RUN_OFF(fault_pc), (int32_t)j->pc);  /* mov dword [r12 + fault_pc], pc */
    emit_jmp_label(j, ebpfvm__jit_label_special(j, EBPFVM_JIT_LABEL_FAULT_EXIT));
}

/* Call the helper whose address is in REG_TMP with r1-r5 in place, then
 * leave through the fault exit if it called ebpfvm_env_fault(). The helper
 * id is `id`, or (id < 0, callx) already in run->fault_value. */
static void emit_helper_call_tail(struct ebpfvm_jit *j, int32_t id)
{
    emit_load(j, 8, false, REG_TMP2, REG_RUN, 0);                 /* mov r11, [r12] (env) */
    emit_store_imm(j, 4, REG_TMP2, ENV_OFF(pc), (int32_t)j->pc);  /* mov dword [r11 + pc], pc */
    emit_alu_rr(j, ALU_MOV, true, REG_HELPER_ENV, REG_TMP2);      /* mov r9, r11 */
    emit_call_reg(j, REG_TMP);                                    /* call r10 */
    emit_load(j, 8, false, REG_TMP2, REG_RUN, 0);                 /* mov r11, [r12] */
    emit_cmp_m8_i8(j, REG_TMP2, ENV_OFF(faulted), 0);             /* cmp byte [r11 + faulted], 0 */
    size_t ok = emit_jcc_local(j, CC_E);                          /* je .ok */
    if (id >= 0)
        emit_store_imm(j, 8, REG_RUN, RUN_OFF(fault_value), id); /* mov qword [r12 + fault_value], id */
    emit_fault(j, EBPFVM_JIT_FAULT_HELPER);
    ebpfvm__jit_local_bind(j, ok);                                /* .ok: */
}

/* ------------------------------------------------------- instructions */

static bool is_alu64(uint8_t opcode)
{
    return EBPF_CLASS(opcode) == EBPF_CLASS_ALU64;
}

/*
 * div/mod/sdiv/smod dst by the divisor already in r11, with vm/arith.h's
 * results: x / 0 = 0, x % 0 = x, INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0.
 */
static void emit_divmod(struct ebpfvm_jit *j, bool w, bool is_signed, bool is_mod, unsigned dst)
{
    emit_alu_rr(j, ALU_TEST, w, REG_TMP2, REG_TMP2);  /* test r11, r11 */
    size_t to_zero = emit_jcc_local(j, CC_E);         /* je .by_zero */
    size_t to_neg1 = 0;
    if (is_signed) {
        emit_alu_ri(j, ALU_CMP, w, REG_TMP2, -1);     /* cmp r11, -1 */
        to_neg1 = emit_jcc_local(j, CC_E);            /* je .by_minus_one */
    }
    emit_push(j, RAX);                                /* push rax */
    emit_push(j, RDX);                                /* push rdx */
    if (dst != RAX)
        emit_alu_rr(j, ALU_MOV, w, RAX, dst);         /* mov rax, dst */
    if (is_signed)
        emit_cqo(j, w);                               /* cqo / cdq */
    else
        emit_alu_rr(j, ALU_XOR, false, RDX, RDX);     /* xor edx, edx */
    emit_div(j, w, is_signed, REG_TMP2);              /* div r11 / idiv r11 */
    emit_alu_rr(j, ALU_MOV, true, REG_TMP2, is_mod ? RDX : RAX); /* mov r11, rdx / rax */
    emit_pop(j, RDX);                                 /* pop rdx */
    emit_pop(j, RAX);                                 /* pop rax */
    emit_alu_rr(j, ALU_MOV, true, dst, REG_TMP2);     /* mov dst, r11 */
    size_t to_done = emit_jmp_local(j);               /* jmp .done */

    ebpfvm__jit_local_bind(j, to_zero);               /* .by_zero: */
    if (!is_mod)
        emit_alu_rr(j, ALU_XOR, false, dst, dst);     /* xor dst32, dst32 */
    else if (!w)
        emit_alu_rr(j, ALU_MOV, false, dst, dst);     /* mov dst32, dst32 */
    if (is_signed) {
        size_t to_done2 = emit_jmp_local(j);          /* jmp .done */
        ebpfvm__jit_local_bind(j, to_neg1);           /* .by_minus_one: */
        if (is_mod)
            emit_alu_rr(j, ALU_XOR, false, dst, dst); /* xor dst32, dst32 */
        else
            emit_neg(j, w, dst);                      /* neg dst */
        ebpfvm__jit_local_bind(j, to_done2);
    }
    ebpfvm__jit_local_bind(j, to_done);               /* .done: */
}

/* div/mod by a constant: the special cases are decided here. */
static void emit_divmod_imm(struct ebpfvm_jit *j, bool w, bool is_signed, bool is_mod, unsigned dst, int32_t imm)
{
    if (imm == 0) {
        if (!is_mod)
            emit_alu_rr(j, ALU_XOR, false, dst, dst); /* xor dst32, dst32 */
        else if (!w)
            emit_alu_rr(j, ALU_MOV, false, dst, dst); /* mov dst32, dst32 */
        return;
    }
    if (is_signed && imm == -1) {
        if (is_mod)
            emit_alu_rr(j, ALU_XOR, false, dst, dst); /* xor dst32, dst32 */
        else
            emit_neg(j, w, dst);                      /* neg dst */
        return;
    }
    emit_imm(j, w, REG_TMP2, imm);                    /* mov r11, imm (blinded or not) */
    emit_divmod(j, w, is_signed, is_mod, dst);
}

/* Shift dst by a register count (x86 takes it in cl, which is r4). The
 * hardware masks the count to 5 or 6 bits, exactly eBPF's rule. */
static void emit_shift_reg(struct ebpfvm_jit *j, enum x86_shift op, bool w, unsigned dst, unsigned src)
{
    if (src == RCX) {
        emit_shift_cl(j, op, w, dst);                 /* shl dst, cl */
    } else {
        emit_alu_rr(j, ALU_MOV, true, REG_TMP, src);  /* mov r10, src */
        emit_alu_rr(j, ALU_MOV, true, REG_TMP2, RCX); /* mov r11, rcx (save r4) */
        emit_alu_rr(j, ALU_MOV, false, RCX, REG_TMP); /* mov ecx, r10d */
        if (dst == RCX) {
            emit_shift_cl(j, op, w, REG_TMP2);        /* shl r11, cl */
            emit_alu_rr(j, ALU_MOV, true, RCX, REG_TMP2); /* mov rcx, r11 */
            return;
        }
        emit_shift_cl(j, op, w, dst);                 /* shl dst, cl */
        emit_alu_rr(j, ALU_MOV, true, RCX, REG_TMP2); /* mov rcx, r11 (restore r4) */
    }
    if (!w)
        emit_alu_rr(j, ALU_MOV, false, dst, dst);     /* mov dst32, dst32: a count of 0 leaves dst */
}

static enum x86_alu alu_of(unsigned bpf_op)
{
    switch (bpf_op) {
    case EBPF_ALU_ADD: return ALU_ADD;
    case EBPF_ALU_SUB: return ALU_SUB;
    case EBPF_ALU_OR: return ALU_OR;
    case EBPF_ALU_AND: return ALU_AND;
    default: return ALU_XOR;
    }
}

static enum x86_shift shift_of(unsigned bpf_op)
{
    switch (bpf_op) {
    case EBPF_ALU_LSH: return SHIFT_SHL;
    case EBPF_ALU_RSH: return SHIFT_SHR;
    default: return SHIFT_SAR;
    }
}

static void emit_alu(struct ebpfvm_jit *j, enum ebpf_insn_form form, const struct ebpf_insn *in)
{
    const struct ebpfvm_form_info *info = &ebpfvm__forms[form];
    bool w = is_alu64(in->opcode);
    bool reg_src = info->format == EBPF_FMT_ALU_REG;
    unsigned dst = reg_map[in->dst_reg];
    unsigned src = reg_map[in->src_reg];
    int32_t imm = in->imm;
    unsigned op = EBPF_OP(in->opcode);

    switch (form) {
    case EBPF_OP_MOVSX8_64: emit_movsx_rr(j, true, 8, dst, src); return;   /* movsx dst, src8 */
    case EBPF_OP_MOVSX16_64: emit_movsx_rr(j, true, 16, dst, src); return; /* movsx dst, src16 */
    case EBPF_OP_MOVSX32_64: emit_movsx_rr(j, true, 32, dst, src); return; /* movsxd dst, src32 */
    case EBPF_OP_MOVSX8_32: emit_movsx_rr(j, false, 8, dst, src); return;  /* movsx dst32, src8 */
    case EBPF_OP_MOVSX16_32: emit_movsx_rr(j, false, 16, dst, src); return;/* movsx dst32, src16 */
    case EBPF_OP_LE16: emit_movzx16_rr(j, dst, dst); return;               /* movzx dst32, dst16 */
    case EBPF_OP_LE32: emit_alu_rr(j, ALU_MOV, false, dst, dst); return;   /* mov dst32, dst32 */
    case EBPF_OP_LE64: return;                                              /* host order already */
    case EBPF_OP_BE16:
    case EBPF_OP_BSWAP16:
        emit_ror16_8(j, dst);                                               /* ror dst16, 8 */
        emit_movzx16_rr(j, dst, dst);                                       /* movzx dst32, dst16 */
        return;
    case EBPF_OP_BE32:
    case EBPF_OP_BSWAP32: emit_bswap(j, false, dst); return;               /* bswap dst32 */
    case EBPF_OP_BE64:
    case EBPF_OP_BSWAP64: emit_bswap(j, true, dst); return;                /* bswap dst */
    default: break;
    }

    bool is_signed = in->off == 1; /* sdiv / smod */
    switch (op) {
    case EBPF_ALU_ADD:
    case EBPF_ALU_SUB:
    case EBPF_ALU_OR:
    case EBPF_ALU_AND:
    case EBPF_ALU_XOR:
        if (reg_src) {
            emit_alu_rr(j, alu_of(op), w, dst, src);  /* add dst, src */
        } else if (j->blind) {
            emit_imm(j, w, REG_TMP, imm);             /* r10 = imm (blinded) */
            emit_alu_rr(j, alu_of(op), w, dst, REG_TMP); /* add dst, r10 */
        } else {
            emit_alu_ri(j, alu_of(op), w, dst, imm);  /* add dst, imm */
        }
        return;
    case EBPF_ALU_MOV:
        if (reg_src)
            emit_alu_rr(j, ALU_MOV, w, dst, src);     /* mov dst, src */
        else
            emit_imm(j, w, dst, imm);                 /* mov dst, imm (64: sign-extended) */
        return;
    case EBPF_ALU_MUL:
        if (reg_src) {
            emit_imul_rr(j, w, dst, src);             /* imul dst, src */
        } else if (j->blind) {
            emit_imm(j, w, REG_TMP, imm);             /* r10 = imm (blinded) */
            emit_imul_rr(j, w, dst, REG_TMP);         /* imul dst, r10 */
        } else {
            emit_imul_rri(j, w, dst, dst, imm);       /* imul dst, dst, imm */
        }
        return;
    case EBPF_ALU_DIV:
    case EBPF_ALU_MOD:
        if (reg_src) {
            emit_alu_rr(j, ALU_MOV, w, REG_TMP2, src); /* mov r11, src */
            emit_divmod(j, w, is_signed, op == EBPF_ALU_MOD, dst);
        } else {
            emit_divmod_imm(j, w, is_signed, op == EBPF_ALU_MOD, dst, imm);
        }
        return;
    case EBPF_ALU_LSH:
    case EBPF_ALU_RSH:
    case EBPF_ALU_ARSH:
        if (reg_src) {
            emit_shift_reg(j, shift_of(op), w, dst, src);
        } else {
            uint8_t n = (uint8_t)((uint32_t)imm & (w ? 63u : 31u));
            if (j->blind) {
                emit_imm(j, false, REG_TMP, n);            /* r10d = n (blinded) */
                emit_shift_reg(j, shift_of(op), w, dst, REG_TMP); /* shl dst, r10b */
            } else if (n)
                emit_shift_ri(j, shift_of(op), w, dst, n); /* shl dst, n */
            else if (!w)
                emit_alu_rr(j, ALU_MOV, false, dst, dst);   /* mov dst32, dst32 */
        }
        return;
    case EBPF_ALU_NEG:
        emit_neg(j, w, dst);                          /* neg dst */
        return;
    default:
        ebpfvm__jit_fail(j, EBPFVM_ERR_UNSUPP, "insn %u: %s is not supported by the JIT", j->pc, info->mnemonic);
        return;
    }
}

/* BPF_FETCH or/and/xor: a lock cmpxchg loop; src receives the old value. */
static void emit_atomic_fetch_loop(struct ebpfvm_jit *j, enum x86_alu op, bool w, unsigned base, int32_t off,
                                   unsigned src)
{
    emit_push(j, RAX);                                /* push rax */
    emit_push(j, RCX);                                /* push rcx */
    emit_lea(j, REG_TMP, base, off);                  /* lea r10, [base + off] */
    emit_alu_rr(j, ALU_MOV, true, REG_TMP2, src);     /* mov r11, src */
    emit_load(j, w ? 8 : 4, false, RAX, REG_TMP, 0);  /* mov rax, [r10] */
    size_t again = j->len;                            /* .again: */
    emit_alu_rr(j, ALU_MOV, true, RCX, RAX);          /* mov rcx, rax */
    emit_alu_rr(j, op, w, RCX, REG_TMP2);             /* or rcx, r11 */
    emit_lock_cmpxchg(j, w, REG_TMP, 0, RCX);         /* lock cmpxchg [r10], rcx */
    emit_jcc_back(j, CC_NE, again);                   /* jne .again */
    emit_alu_rr(j, ALU_MOV, true, REG_TMP2, RAX);     /* mov r11, rax (old value) */
    emit_pop(j, RCX);                                 /* pop rcx */
    emit_pop(j, RAX);                                 /* pop rax */
    emit_alu_rr(j, ALU_MOV, true, src, REG_TMP2);     /* mov src, r11 */
}

static void emit_atomic(struct ebpfvm_jit *j, const struct ebpf_insn *in)
{
    bool w = EBPF_SIZE(in->opcode) == EBPF_SIZE_DW;
    unsigned base = reg_map[in->dst_reg];
    unsigned src = reg_map[in->src_reg];
    int32_t off = in->off;
    switch (in->imm) {
    case EBPF_ATOMIC_ADD: emit_lock_alu_mr(j, ALU_ADD, w, base, off, src); return; /* lock add [m], src */
    case EBPF_ATOMIC_OR: emit_lock_alu_mr(j, ALU_OR, w, base, off, src); return;   /* lock or [m], src */
    case EBPF_ATOMIC_AND: emit_lock_alu_mr(j, ALU_AND, w, base, off, src); return; /* lock and [m], src */
    case EBPF_ATOMIC_XOR: emit_lock_alu_mr(j, ALU_XOR, w, base, off, src); return; /* lock xor [m], src */
    case EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH:
        emit_lock_xadd(j, w, base, off, src);                                     /* lock xadd [m], src */
        return;
    case EBPF_ATOMIC_OR | EBPF_ATOMIC_FETCH: emit_atomic_fetch_loop(j, ALU_OR, w, base, off, src); return;
    case EBPF_ATOMIC_AND | EBPF_ATOMIC_FETCH: emit_atomic_fetch_loop(j, ALU_AND, w, base, off, src); return;
    case EBPF_ATOMIC_XOR | EBPF_ATOMIC_FETCH: emit_atomic_fetch_loop(j, ALU_XOR, w, base, off, src); return;
    case EBPF_ATOMIC_XCHG:
        emit_xchg_mr(j, w, base, off, src);                                       /* xchg [m], src */
        return;
    case EBPF_ATOMIC_CMPXCHG:
        emit_lock_cmpxchg(j, w, base, off, src);                                  /* lock cmpxchg [m], src */
        if (!w)
            emit_alu_rr(j, ALU_MOV, false, RAX, RAX); /* mov eax, eax: r0 = zero-extended old value */
        return;
    default:
        ebpfvm__jit_fail(j, EBPFVM_ERR_UNSUPP, "insn %u: atomic operation 0x%x is not supported by the JIT", j->pc,
                         (unsigned)in->imm);
        return;
    }
}

static enum x86_cc cc_of(unsigned bpf_op)
{
    switch (bpf_op) {
    case EBPF_JMP_JEQ: return CC_E;
    case EBPF_JMP_JGT: return CC_A;
    case EBPF_JMP_JGE: return CC_AE;
    case EBPF_JMP_JLT: return CC_B;
    case EBPF_JMP_JLE: return CC_BE;
    case EBPF_JMP_JSGT: return CC_G;
    case EBPF_JMP_JSGE: return CC_GE;
    case EBPF_JMP_JSLT: return CC_L;
    case EBPF_JMP_JSLE: return CC_LE;
    default: return CC_NE; /* jne, jset */
    }
}

static void emit_cond_jump(struct ebpfvm_jit *j, const struct ebpf_insn *in, bool reg_src, uint32_t target)
{
    bool w = EBPF_CLASS(in->opcode) == EBPF_CLASS_JMP;
    unsigned op = EBPF_OP(in->opcode);
    unsigned dst = reg_map[in->dst_reg];
    enum x86_alu cmp = op == EBPF_JMP_JSET ? ALU_TEST : ALU_CMP;
    if (reg_src) {
        emit_alu_rr(j, cmp, w, dst, reg_map[in->src_reg]); /* cmp/test dst, src */
    } else if (j->blind) {
        emit_imm(j, w, REG_TMP, in->imm);                   /* r10 = imm (blinded) */
        emit_alu_rr(j, cmp, w, dst, REG_TMP);               /* cmp/test dst, r10 */
    } else if (cmp == ALU_TEST) {
        emit_test_ri(j, w, dst, in->imm);                   /* test dst, imm */
    } else if (in->imm == 0) {
        emit_alu_rr(j, ALU_TEST, w, dst, dst);              /* test dst, dst: the flags of cmp dst, 0 */
    } else {
        emit_alu_ri(j, ALU_CMP, w, dst, in->imm);           /* cmp dst, imm */
    }
    emit_jcc_label(j, cc_of(op), ebpfvm__jit_label_insn(j, target));
}

/* bpf-to-bpf call: depth check, then call the target's prologue. */
static void emit_local_call(struct ebpfvm_jit *j, uint32_t target)
{
    emit_alu_mi8(j, ALU_CMP, false, REG_RUN, RUN_OFF(depth), EBPF_MAX_CALL_DEPTH - 1); /* cmp dword [r12+depth], 7 */
    size_t ok = emit_jcc_local(j, CC_B);                                                /* jb .ok */
    emit_fault(j, EBPFVM_JIT_FAULT_CALL_DEPTH);
    ebpfvm__jit_local_bind(j, ok);                                                      /* .ok: */
    emit_alu_mi8(j, ALU_ADD, false, REG_RUN, RUN_OFF(depth), 1);  /* add dword [r12+depth], 1 */
    emit_call_label(j, ebpfvm__jit_label_entry(j, target));       /* call target */
    emit_alu_mi8(j, ALU_SUB, false, REG_RUN, RUN_OFF(depth), 1);  /* sub dword [r12+depth], 1 */
}

/* callx: look the helper up in vm->helpers at run time. */
static void emit_callx(struct ebpfvm_jit *j, unsigned id_reg)
{
    const struct ebpfvm_vm *vm = j->prog->vm;
    emit_alu_rr(j, ALU_MOV, true, REG_TMP2, id_reg);                    /* mov r11, id */
    emit_store_reg(j, 8, REG_RUN, RUN_OFF(fault_value), REG_TMP2);       /* mov [r12 + fault_value], r11 */
    emit_alu_ri(j, ALU_CMP, true, REG_TMP2, EBPFVM_MAX_HELPER_ID);       /* cmp r11, MAX_HELPER_ID */
    size_t bad1 = emit_jcc_local(j, CC_A);                               /* ja .bad */
    emit_movabs(j, REG_TMP, (uint64_t)(uintptr_t)&vm->helpers);          /* mov r10, &vm->helpers */
    emit_load(j, 8, false, REG_TMP, REG_TMP, 0);                         /* mov r10, [r10] */
    emit_alu_rr(j, ALU_TEST, true, REG_TMP, REG_TMP);                    /* test r10, r10 */
    size_t bad2 = emit_jcc_local(j, CC_E);                               /* je .bad */
    emit_imul_rri(j, true, REG_TMP2, REG_TMP2, (int32_t)sizeof(struct ebpfvm_helper)); /* imul r11, r11, size */
    emit_alu_rr(j, ALU_ADD, true, REG_TMP, REG_TMP2);                    /* add r10, r11 */
    emit_load(j, 8, false, REG_TMP, REG_TMP, (int32_t)offsetof(struct ebpfvm_helper, fn)); /* mov r10, [r10 + fn] */
    emit_alu_rr(j, ALU_TEST, true, REG_TMP, REG_TMP);                    /* test r10, r10 */
    size_t bad3 = emit_jcc_local(j, CC_E);                               /* je .bad */
    emit_helper_call_tail(j, -1);
    size_t to_done = emit_jmp_local(j);                                  /* jmp .done */
    ebpfvm__jit_local_bind(j, bad1);                                     /* .bad: */
    ebpfvm__jit_local_bind(j, bad2);
    ebpfvm__jit_local_bind(j, bad3);
    emit_fault(j, EBPFVM_JIT_FAULT_CALLX);
    ebpfvm__jit_local_bind(j, to_done);                                  /* .done: */
}

/*
 * Legacy LD_ABS / LD_IND: r0 = the big-endian value of `size` bytes at
 * offset imm (+ src) of the run's packet (the context block for the memory
 * type, vm/progtype.c). Out of bounds is the kernel's hidden `r0 = 0; exit`
 * (net/core/filter.c, bpf_gen_ld_abs), emitted after the load: the
 * function's epilogue with rax = 0 - the end of the run with r0 = 0 in the
 * main program, a return of 0 to the caller (r6-r9 and r10 restored) in a
 * subprogram, as in the interpreter. r1-r5 are left alone.
 */
static void emit_packet_load(struct ebpfvm_jit *j, const struct ebpf_insn *in, bool indirect)
{
    unsigned size = ebpfvm__size_bytes(in->opcode);
    if (indirect) {
        emit_imm(j, true, REG_TMP2, in->imm);                           /* mov r11, imm (blinded or not) */
        emit_alu_rr(j, ALU_ADD, true, REG_TMP2, reg_map[in->src_reg]);  /* add r11, src */
    } else {
        emit_imm(j, true, REG_TMP2, in->imm);                           /* mov r11, imm (blinded or not) */
    }
    emit_load(j, 8, false, REG_TMP, REG_RUN, RUN_OFF(pkt_len));         /* mov r10, [r12 + pkt_len] */
    emit_alu_ri(j, ALU_CMP, true, REG_TMP, (int32_t)size);              /* cmp r10, size */
    size_t short_pkt = emit_jcc_local(j, CC_B);                         /* jb .out */
    emit_alu_ri(j, ALU_SUB, true, REG_TMP, (int32_t)size);              /* sub r10, size */
    emit_alu_rr(j, ALU_CMP, true, REG_TMP2, REG_TMP);                   /* cmp r11, r10 */
    size_t past_end = emit_jcc_local(j, CC_A);                          /* ja .out */
    emit_load(j, 8, false, REG_TMP, REG_RUN, RUN_OFF(pkt));             /* mov r10, [r12 + pkt] */
    emit_alu_rr(j, ALU_ADD, true, REG_TMP2, REG_TMP);                   /* add r11, r10 */
    emit_load(j, size, false, RAX, REG_TMP2, 0);                        /* movzx/mov eax, [r11] */
    if (size == 2) {
        emit_ror16_8(j, RAX);                                           /* ror ax, 8 */
        emit_movzx16_rr(j, RAX, RAX);                                   /* movzx eax, ax */
    } else if (size == 4) {
        emit_bswap(j, false, RAX);                                      /* bswap eax */
    }
    size_t done = emit_jmp_local(j);                                    /* jmp .done */
    ebpfvm__jit_local_bind(j, short_pkt);                               /* .out: */
    ebpfvm__jit_local_bind(j, past_end);
    emit_alu_rr(j, ALU_XOR, false, RAX, RAX);                           /* xor eax, eax */
    emit_function_epilogue(j);                                          /* return 0 from this function */
    ebpfvm__jit_local_bind(j, done);                                    /* .done: */
}

/* Whether execution can fall from instruction pc into pc + 1. */
static bool falls_through(const struct ebpfvm_prog *prog, size_t pc)
{
    uint8_t form = prog->code[pc].form;
    return form != EBPF_OP_EXIT && form != EBPF_OP_JA && form != EBPF_OP_JA32;
}

static void emit_insn(struct ebpfvm_jit *j, uint32_t pc)
{
    const struct ebpfvm_prog *prog = j->prog;
    const struct ebpfvm_dinsn *d = &prog->code[pc];
    const struct ebpf_insn *in = &prog->insns[pc];
    if (d->form >= EBPF_OP_COUNT_)
        return; /* the second word of an LD_IMM64 */
    enum ebpf_insn_form form = (enum ebpf_insn_form)d->form;
    const struct ebpfvm_form_info *info = &ebpfvm__forms[form];

    switch (info->format) {
    case EBPF_FMT_ALU_IMM:
    case EBPF_FMT_ALU_REG:
    case EBPF_FMT_ALU_UNARY:
    case EBPF_FMT_ENDIAN:
        emit_alu(j, form, in);
        return;
    case EBPF_FMT_LD_IMM64:
        if (in->src_reg == EBPF_PSEUDO_FUNC) {
            ebpfvm__jit_fail(j, EBPFVM_ERR_UNSUPP, "insn %u: lddw of a function address is not supported by the JIT",
                             pc);
            return;
        }
        emit_imm64(j, reg_map[in->dst_reg], d->u.uimm);       /* mov dst, imm64 */
        return;
    case EBPF_FMT_LDX:
        /* From the decoded instruction: the load-time context pass may have
         * rewritten its form, size and offset (a u32 xdp_md field read
         * becomes a u64 load of the runtime context). */
        emit_load(j, d->size, EBPF_MODE(info->opcode) == EBPF_MODE_MEMSX, reg_map[in->dst_reg],
                  reg_map[in->src_reg], d->off);               /* mov dst, [src + off] */
        return;
    case EBPF_FMT_ST: {
        unsigned size = ebpfvm__size_bytes(in->opcode);
        if (j->blind) {
            emit_imm(j, size == 8, REG_TMP, in->imm);                                /* r10 = imm (blinded) */
            emit_store_reg(j, size, reg_map[in->dst_reg], in->off, REG_TMP);         /* mov [dst + off], r10 */
        } else {
            emit_store_imm(j, size, reg_map[in->dst_reg], in->off, in->imm);         /* mov [dst + off], imm */
        }
        return;
    }
    case EBPF_FMT_STX:
        emit_store_reg(j, ebpfvm__size_bytes(in->opcode), reg_map[in->dst_reg], in->off, reg_map[in->src_reg]); /* mov [dst + off], src */
        return;
    case EBPF_FMT_ATOMIC:
        emit_atomic(j, in);
        return;
    case EBPF_FMT_JA:
    case EBPF_FMT_JA32:
        emit_jmp_label(j, ebpfvm__jit_label_insn(j, d->u.target)); /* jmp target */
        return;
    case EBPF_FMT_MAY_GOTO:
        emit_alu_mi8(j, ALU_CMP, true, RBP, MAY_GOTO_SLOT, 0);      /* cmp qword [rbp - 520], 0 */
        emit_jcc_label(j, CC_E, ebpfvm__jit_label_insn(j, d->u.target)); /* je target: budget spent */
        emit_alu_mi8(j, ALU_SUB, true, RBP, MAY_GOTO_SLOT, 1);      /* sub qword [rbp - 520], 1 */
        return;
    case EBPF_FMT_JMP_IMM:
    case EBPF_FMT_JMP_REG:
        emit_cond_jump(j, in, info->format == EBPF_FMT_JMP_REG, d->u.target);
        return;
    case EBPF_FMT_CALL:
        if (in->src_reg == EBPF_PSEUDO_CALL_LOCAL) {
            emit_local_call(j, d->u.target);
        } else if (in->src_reg == EBPF_PSEUDO_CALL_KFUNC) {
            ebpfvm_helper_fn fn = ebpfvm__kfuncs[d->u.imm].fn; /* an id validation accepted */
            uint64_t addr;
            memcpy(&addr, &fn, sizeof addr);
            emit_movabs(j, REG_TMP, addr);            /* mov r10, kfunc */
            emit_helper_call_tail(j, 0);              /* call r10 (faults carry their message) */
        } else if (in->src_reg == EBPF_PSEUDO_CALL_HELPER && in->imm > 0 && in->imm <= EBPFVM_MAX_HELPER_ID &&
                   prog->vm->helpers && prog->vm->helpers[in->imm].fn) {
            ebpfvm_helper_fn fn = prog->vm->helpers[in->imm].fn;
            uint64_t addr;
            memcpy(&addr, &fn, sizeof addr);          /* function pointer as an address */
            emit_movabs(j, REG_TMP, addr);            /* mov r10, helper */
            emit_helper_call_tail(j, in->imm);        /* call r10 */
        } else {
            ebpfvm__jit_fail(j, EBPFVM_ERR_UNSUPP, "insn %u: call of helper %d, which is not registered", pc, in->imm);
        }
        return;
    case EBPF_FMT_CALLX:
        emit_callx(j, reg_map[in->dst_reg]);
        return;
    case EBPF_FMT_EXIT:
        emit_function_epilogue(j);
        return;
    case EBPF_FMT_LD_ABS:
    case EBPF_FMT_LD_IND:
        emit_packet_load(j, in, info->format == EBPF_FMT_LD_IND);
        return;
    default:
        ebpfvm__jit_fail(j, EBPFVM_ERR_UNSUPP, "insn %u: %s is not supported by the JIT", pc, info->mnemonic);
        return;
    }
}

void ebpfvm__jit_x86_64_emit(struct ebpfvm_jit *j)
{
    const struct ebpfvm_prog *prog = j->prog;
    _Static_assert(sizeof(ebpfvm_helper_fn) == sizeof(uint64_t), "helper addresses are 64-bit");
    _Static_assert(sizeof(struct ebpfvm_helper) <= INT32_MAX, "helper table stride fits imul imm32");
    j->may_goto = has_may_goto(prog);
    emit_entry(j);
    for (uint32_t pc = 0; pc < prog->count && !j->err; pc++) {
        j->pc = pc;
        if (j->is_entry[pc]) {
            /* Falling into a function from the code above (possible only in
             * unverified programs) skips its prologue, like the interpreter. */
            size_t skip = 0;
            bool guard = pc > 0 && falls_through(prog, pc - 1);
            if (guard)
                skip = emit_jmp_local(j);             /* jmp .body */
            ebpfvm__jit_bind(j, ebpfvm__jit_label_entry(j, pc));
            emit_function_prologue(j);
            if (guard)
                ebpfvm__jit_local_bind(j, skip);      /* .body: */
        }
        ebpfvm__jit_bind(j, ebpfvm__jit_label_insn(j, pc));
        emit_insn(j, pc);
    }
}
