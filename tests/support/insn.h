/*
 * tests/support/insn.h - instruction builder macros for tests.
 *
 * Each macro expands to one or more `struct ebpf_insn` initialisers (comma
 * separated), so a program is written as an array literal:
 *
 *     struct ebpf_insn prog[] = {
 *         EBPF_MOV64_IMM(0, 42),
 *         EBPF_EXIT(),
 *     };
 *
 * EBPF_LD_IMM64 and the other LD_IMM64 builders expand to TWO words. The
 * opcode constants come from ebpfvm/isa.h; nothing here defines semantics.
 * Registers are plain numbers 0..10 (out-of-range values are allowed so
 * that tests can build invalid programs; the bitfields keep four bits).
 */
#ifndef EBPFVM_TESTS_SUPPORT_INSN_H
#define EBPFVM_TESTS_SUPPORT_INSN_H

#include <stdint.h>

#include "ebpfvm/isa.h"

/* One raw word: any field combination, for invalid encodings. */
#define EBPF_RAW(op, dst, src, offset, immediate)                                                      \
    ((struct ebpf_insn){.opcode = (uint8_t)(op),                                                        \
                        .dst_reg = (uint8_t)(dst) & 0xf,                                                \
                        .src_reg = (uint8_t)(src) & 0xf,                                                \
                        .off = (int16_t)(offset),                                                       \
                        .imm = (int32_t)(immediate)})

/* ---- ALU / ALU64: op is an EBPF_ALU_* constant ---- */
#define EBPF_ALU64_IMM(op, dst, imm) EBPF_RAW(EBPF_CLASS_ALU64 | EBPF_SRC_K | (op), dst, 0, 0, imm)
#define EBPF_ALU64_REG(op, dst, src) EBPF_RAW(EBPF_CLASS_ALU64 | EBPF_SRC_X | (op), dst, src, 0, 0)
#define EBPF_ALU32_IMM(op, dst, imm) EBPF_RAW(EBPF_CLASS_ALU | EBPF_SRC_K | (op), dst, 0, 0, imm)
#define EBPF_ALU32_REG(op, dst, src) EBPF_RAW(EBPF_CLASS_ALU | EBPF_SRC_X | (op), dst, src, 0, 0)

/* Signed division / modulo (off = 1). op is EBPF_ALU_DIV or EBPF_ALU_MOD. */
#define EBPF_SALU64_IMM(op, dst, imm) EBPF_RAW(EBPF_CLASS_ALU64 | EBPF_SRC_K | (op), dst, 0, 1, imm)
#define EBPF_SALU64_REG(op, dst, src) EBPF_RAW(EBPF_CLASS_ALU64 | EBPF_SRC_X | (op), dst, src, 1, 0)
#define EBPF_SALU32_IMM(op, dst, imm) EBPF_RAW(EBPF_CLASS_ALU | EBPF_SRC_K | (op), dst, 0, 1, imm)
#define EBPF_SALU32_REG(op, dst, src) EBPF_RAW(EBPF_CLASS_ALU | EBPF_SRC_X | (op), dst, src, 1, 0)

#define EBPF_MOV64_IMM(dst, imm) EBPF_ALU64_IMM(EBPF_ALU_MOV, dst, imm)
#define EBPF_MOV64_REG(dst, src) EBPF_ALU64_REG(EBPF_ALU_MOV, dst, src)
#define EBPF_MOV32_IMM(dst, imm) EBPF_ALU32_IMM(EBPF_ALU_MOV, dst, imm)
#define EBPF_MOV32_REG(dst, src) EBPF_ALU32_REG(EBPF_ALU_MOV, dst, src)
/* movsx: bits is 8, 16 or 32 (64-bit) / 8 or 16 (32-bit). */
#define EBPF_MOVSX64(dst, src, bits) EBPF_RAW(EBPF_CLASS_ALU64 | EBPF_SRC_X | EBPF_ALU_MOV, dst, src, bits, 0)
#define EBPF_MOVSX32(dst, src, bits) EBPF_RAW(EBPF_CLASS_ALU | EBPF_SRC_X | EBPF_ALU_MOV, dst, src, bits, 0)
#define EBPF_NEG64(dst) EBPF_RAW(EBPF_CLASS_ALU64 | EBPF_ALU_NEG, dst, 0, 0, 0)
#define EBPF_NEG32(dst) EBPF_RAW(EBPF_CLASS_ALU | EBPF_ALU_NEG, dst, 0, 0, 0)

/* Byte order: width is 16, 32 or 64. */
#define EBPF_LE(dst, width) EBPF_RAW(EBPF_CLASS_ALU | EBPF_ALU_END, dst, 0, 0, width)
#define EBPF_BE(dst, width) EBPF_RAW(EBPF_CLASS_ALU | EBPF_SRC_X | EBPF_ALU_END, dst, 0, 0, width)
#define EBPF_BSWAP(dst, width) EBPF_RAW(EBPF_CLASS_ALU64 | EBPF_ALU_END, dst, 0, 0, width)

/* ---- 64-bit immediate loads (two words each) ---- */
#define EBPF_LD_IMM64_RAW(dst, src, lo, hi)                                                            \
    EBPF_RAW(EBPF_CLASS_LD | EBPF_SIZE_DW | EBPF_MODE_IMM, dst, src, 0, lo), EBPF_RAW(0, 0, 0, 0, hi)
#define EBPF_LD_IMM64(dst, v)                                                                          \
    EBPF_LD_IMM64_RAW(dst, 0, (uint32_t)(uint64_t)(v), (uint32_t)((uint64_t)(v) >> 32))
#define EBPF_LD_MAP_FD(dst, fd) EBPF_LD_IMM64_RAW(dst, EBPF_PSEUDO_MAP_FD, fd, 0)
#define EBPF_LD_MAP_VALUE(dst, fd, off) EBPF_LD_IMM64_RAW(dst, EBPF_PSEUDO_MAP_VALUE, fd, off)
/* rel: target = this insn + 1 + rel */
#define EBPF_LD_FUNC(dst, rel) EBPF_LD_IMM64_RAW(dst, EBPF_PSEUDO_FUNC, rel, 0)

/* Legacy packet loads; size is EBPF_SIZE_B/H/W. */
#define EBPF_LD_ABS(size, imm) EBPF_RAW(EBPF_CLASS_LD | EBPF_MODE_ABS | (size), 0, 0, 0, imm)
#define EBPF_LD_IND(size, src, imm) EBPF_RAW(EBPF_CLASS_LD | EBPF_MODE_IND | (size), 0, src, 0, imm)

/* ---- memory; size is EBPF_SIZE_B/H/W/DW ---- */
#define EBPF_LDX_MEM(size, dst, src, off) EBPF_RAW(EBPF_CLASS_LDX | EBPF_MODE_MEM | (size), dst, src, off, 0)
#define EBPF_LDXS_MEM(size, dst, src, off) EBPF_RAW(EBPF_CLASS_LDX | EBPF_MODE_MEMSX | (size), dst, src, off, 0)
#define EBPF_ST_MEM(size, dst, off, imm) EBPF_RAW(EBPF_CLASS_ST | EBPF_MODE_MEM | (size), dst, 0, off, imm)
#define EBPF_STX_MEM(size, dst, src, off) EBPF_RAW(EBPF_CLASS_STX | EBPF_MODE_MEM | (size), dst, src, off, 0)
/* op is an EBPF_ATOMIC_* value (possibly | EBPF_ATOMIC_FETCH); size W or DW. */
#define EBPF_ATOMIC_OP(size, op, dst, src, off)                                                        \
    EBPF_RAW(EBPF_CLASS_STX | EBPF_MODE_ATOMIC | (size), dst, src, off, op)

/* ---- jumps; op is an EBPF_JMP_* constant, off is relative ---- */
#define EBPF_JMP_IMM(op, dst, imm, off) EBPF_RAW(EBPF_CLASS_JMP | EBPF_SRC_K | (op), dst, 0, off, imm)
#define EBPF_JMP_REG(op, dst, src, off) EBPF_RAW(EBPF_CLASS_JMP | EBPF_SRC_X | (op), dst, src, off, 0)
#define EBPF_JMP32_IMM(op, dst, imm, off) EBPF_RAW(EBPF_CLASS_JMP32 | EBPF_SRC_K | (op), dst, 0, off, imm)
#define EBPF_JMP32_REG(op, dst, src, off) EBPF_RAW(EBPF_CLASS_JMP32 | EBPF_SRC_X | (op), dst, src, off, 0)
#define EBPF_JA(off) EBPF_RAW(EBPF_CLASS_JMP | EBPF_JMP_JA, 0, 0, off, 0)
#define EBPF_GOTOL(imm) EBPF_RAW(EBPF_CLASS_JMP32 | EBPF_JMP_JA, 0, 0, 0, imm)
/* may_goto (the kernel's BPF_JMP | BPF_JCOND, src BPF_MAY_GOTO = 0). */
#define EBPF_MAY_GOTO(off) EBPF_RAW(0xe5, 0, 0, off, 0)

/* ---- calls ---- */
#define EBPF_CALL_HELPER(id) EBPF_RAW(EBPF_CLASS_JMP | EBPF_JMP_CALL, 0, EBPF_PSEUDO_CALL_HELPER, 0, id)
/* rel: target = this insn + 1 + rel */
#define EBPF_CALL_LOCAL(rel) EBPF_RAW(EBPF_CLASS_JMP | EBPF_JMP_CALL, 0, EBPF_PSEUDO_CALL_LOCAL, 0, rel)
/* one of ebpfvm's kfuncs (EBPFVM_KFUNC_*) */
#define EBPF_CALL_KFUNC(id) EBPF_RAW(EBPF_CLASS_JMP | EBPF_JMP_CALL, 0, EBPF_PSEUDO_CALL_KFUNC, 0, id)
#define EBPF_CALLX(reg) EBPF_RAW(EBPF_CLASS_JMP | EBPF_SRC_X | EBPF_JMP_CALL, reg, 0, 0, 0)
#define EBPF_EXIT() EBPF_RAW(EBPF_CLASS_JMP | EBPF_JMP_EXIT, 0, 0, 0, 0)

/* Number of words in an array literal. */
#define EBPF_NWORDS(a) (sizeof(a) / sizeof((a)[0]))


#endif /* EBPFVM_TESTS_SUPPORT_INSN_H */
