/*
 * vm/arith.h - eBPF arithmetic, defined once.
 *
 * Owns the value semantics of every ALU, ALU64, JMP and JMP32 operation
 * (RFC 9669 section 4): unsigned wrap-around, masked shift counts, division
 * and modulo by zero, INT_MIN / -1, sign extension, byte swaps, and the
 * 32-bit subregister rule (operate on the low 32 bits, zero-extend the
 * result). The interpreter calls the primitives below from its dispatch
 * loop; the verifier's constant folding and the JIT tests call the generic
 * ebpf_alu_eval() / ebpf_jmp_eval(). Nothing else in the project computes
 * an eBPF result.
 *
 * Invariant: no function here has undefined behaviour in C for any input.
 * Signed results are computed on unsigned types and converted back, and
 * every conversion from unsigned to signed goes through ebpf_as_s64/s32,
 * which is defined for all values.
 */
#ifndef EBPFVM_VM_ARITH_H
#define EBPFVM_VM_ARITH_H

#include <stdbool.h>
#include <stdint.h>

#include "ebpfvm/isa.h"

/* Two's-complement reinterpretation without implementation-defined casts. */
static inline int64_t ebpf_as_s64(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

static inline int32_t ebpf_as_s32(uint32_t v)
{
    return v <= (uint32_t)INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

/* Sign-extend the low `bits` bits of v to 64 bits (bits in 1..64). */
static inline uint64_t ebpf_sext(uint64_t v, unsigned bits)
{
    if (bits >= 64)
        return v;
    uint64_t sign = (uint64_t)1 << (bits - 1);
    uint64_t low = v & ((sign << 1) - 1);
    return (low ^ sign) - sign;
}

/* An instruction's imm as a 64-bit operand (sign-extended, RFC 9669 4.1). */
static inline uint64_t ebpf_imm64(int32_t imm)
{
    return (uint64_t)(int64_t)imm;
}

/* ---- division and modulo: the zero and INT_MIN / -1 cases live here ---- */

/* dst / 0 = 0 */
static inline uint64_t ebpf_div64(uint64_t a, uint64_t b) { return b ? a / b : 0; }
static inline uint32_t ebpf_div32(uint32_t a, uint32_t b) { return b ? a / b : 0; }

/* dst % 0 = dst */
static inline uint64_t ebpf_mod64(uint64_t a, uint64_t b) { return b ? a % b : a; }
static inline uint32_t ebpf_mod32(uint32_t a, uint32_t b) { return b ? a % b : a; }

/* Signed division truncates toward zero; x / 0 = 0; INT_MIN / -1 = INT_MIN. */
static inline uint64_t ebpf_sdiv64(uint64_t a, uint64_t b)
{
    if (b == 0)
        return 0;
    if (b == UINT64_MAX) /* / -1 is negation, which wraps for INT64_MIN */
        return 0 - a;
    return (uint64_t)(ebpf_as_s64(a) / ebpf_as_s64(b));
}

static inline uint32_t ebpf_sdiv32(uint32_t a, uint32_t b)
{
    if (b == 0)
        return 0;
    if (b == UINT32_MAX)
        return 0u - a;
    return (uint32_t)(ebpf_as_s32(a) / ebpf_as_s32(b));
}

/* Signed modulo takes the dividend's sign; x % 0 = x; INT_MIN % -1 = 0. */
static inline uint64_t ebpf_smod64(uint64_t a, uint64_t b)
{
    if (b == 0)
        return a;
    if (b == UINT64_MAX)
        return 0;
    return (uint64_t)(ebpf_as_s64(a) % ebpf_as_s64(b));
}

static inline uint32_t ebpf_smod32(uint32_t a, uint32_t b)
{
    if (b == 0)
        return a;
    if (b == UINT32_MAX)
        return 0;
    return (uint32_t)(ebpf_as_s32(a) % ebpf_as_s32(b));
}

/* ---- shifts: the count is masked to the operand width ---- */

static inline uint64_t ebpf_lsh64(uint64_t a, uint64_t n) { return a << (n & 63); }
static inline uint32_t ebpf_lsh32(uint32_t a, uint64_t n) { return a << (n & 31); }
static inline uint64_t ebpf_rsh64(uint64_t a, uint64_t n) { return a >> (n & 63); }
static inline uint32_t ebpf_rsh32(uint32_t a, uint64_t n) { return a >> (n & 31); }

static inline uint64_t ebpf_arsh64(uint64_t a, uint64_t n)
{
    unsigned s = (unsigned)(n & 63);
    uint64_t fill = (a >> 63) ? ~(UINT64_MAX >> s) : 0;
    return (a >> s) | fill;
}

static inline uint32_t ebpf_arsh32(uint32_t a, uint64_t n)
{
    unsigned s = (unsigned)(n & 31);
    uint32_t fill = (a >> 31) ? ~(UINT32_MAX >> s) : 0;
    return (a >> s) | fill;
}

/* ---- byte order ---- */

static inline uint64_t ebpf_bswap16(uint64_t v)
{
    return ((v & 0xffu) << 8) | ((v >> 8) & 0xffu);
}

static inline uint64_t ebpf_bswap32(uint64_t v)
{
    return ((v & 0xffu) << 24) | ((v & 0xff00u) << 8) | ((v >> 8) & 0xff00u) | ((v >> 24) & 0xffu);
}

static inline uint64_t ebpf_bswap64(uint64_t v)
{
    return (ebpf_bswap32(v) << 32) | ebpf_bswap32(v >> 32);
}

/* Is the host little-endian? (Determined once, without UB.) */
static inline bool ebpf_host_is_le(void)
{
    const uint16_t probe = 1;
    return *(const uint8_t *)&probe == 1;
}

/* le16/32/64: convert host to little-endian, truncating to the width. */
static inline uint64_t ebpf_to_le(uint64_t v, unsigned width)
{
    if (!ebpf_host_is_le())
        return width == 16 ? ebpf_bswap16(v) : width == 32 ? ebpf_bswap32(v) : ebpf_bswap64(v);
    return width == 16 ? (v & 0xffffu) : width == 32 ? (v & 0xffffffffu) : v;
}

/* be16/32/64: convert host to big-endian, truncating to the width. */
static inline uint64_t ebpf_to_be(uint64_t v, unsigned width)
{
    if (!ebpf_host_is_le())
        return width == 16 ? (v & 0xffffu) : width == 32 ? (v & 0xffffffffu) : v;
    return width == 16 ? ebpf_bswap16(v) : width == 32 ? ebpf_bswap32(v) : ebpf_bswap64(v);
}

/* bswap16/32/64 (ALU64 END): unconditional swap, zero-extended. */
static inline uint64_t ebpf_bswap(uint64_t v, unsigned width)
{
    return width == 16 ? ebpf_bswap16(v) : width == 32 ? ebpf_bswap32(v) : ebpf_bswap64(v);
}

/* ---- generic evaluation, for the verifier, the JIT tests and tools ---- */

/*
 * The result of an ALU or ALU64 instruction form (including neg, mov,
 * movsx and the byte-order forms) applied to dst and src, where src is the
 * second operand already selected: the source register's value for *_REG
 * forms, ebpf_imm64(imm) for *_IMM forms. Sets *ok to false (and returns 0)
 * when `form` is not an ALU form.
 */
static inline uint64_t ebpf_alu_eval(enum ebpf_insn_form form, uint64_t dst, uint64_t src, bool *ok)
{
    uint32_t d32 = (uint32_t)dst, s32 = (uint32_t)src;
    *ok = true;
    switch (form) {
    case EBPF_OP_ADD64_IMM: case EBPF_OP_ADD64_REG: return dst + src;
    case EBPF_OP_ADD32_IMM: case EBPF_OP_ADD32_REG: return (uint32_t)(d32 + s32);
    case EBPF_OP_SUB64_IMM: case EBPF_OP_SUB64_REG: return dst - src;
    case EBPF_OP_SUB32_IMM: case EBPF_OP_SUB32_REG: return (uint32_t)(d32 - s32);
    case EBPF_OP_MUL64_IMM: case EBPF_OP_MUL64_REG: return dst * src;
    case EBPF_OP_MUL32_IMM: case EBPF_OP_MUL32_REG: return (uint32_t)((uint64_t)d32 * s32);
    case EBPF_OP_DIV64_IMM: case EBPF_OP_DIV64_REG: return ebpf_div64(dst, src);
    case EBPF_OP_DIV32_IMM: case EBPF_OP_DIV32_REG: return ebpf_div32(d32, s32);
    case EBPF_OP_SDIV64_IMM: case EBPF_OP_SDIV64_REG: return ebpf_sdiv64(dst, src);
    case EBPF_OP_SDIV32_IMM: case EBPF_OP_SDIV32_REG: return ebpf_sdiv32(d32, s32);
    case EBPF_OP_OR64_IMM: case EBPF_OP_OR64_REG: return dst | src;
    case EBPF_OP_OR32_IMM: case EBPF_OP_OR32_REG: return d32 | s32;
    case EBPF_OP_AND64_IMM: case EBPF_OP_AND64_REG: return dst & src;
    case EBPF_OP_AND32_IMM: case EBPF_OP_AND32_REG: return d32 & s32;
    case EBPF_OP_LSH64_IMM: case EBPF_OP_LSH64_REG: return ebpf_lsh64(dst, src);
    case EBPF_OP_LSH32_IMM: case EBPF_OP_LSH32_REG: return ebpf_lsh32(d32, src);
    case EBPF_OP_RSH64_IMM: case EBPF_OP_RSH64_REG: return ebpf_rsh64(dst, src);
    case EBPF_OP_RSH32_IMM: case EBPF_OP_RSH32_REG: return ebpf_rsh32(d32, src);
    case EBPF_OP_NEG64: return 0 - dst;
    case EBPF_OP_NEG32: return (uint32_t)(0u - d32);
    case EBPF_OP_MOD64_IMM: case EBPF_OP_MOD64_REG: return ebpf_mod64(dst, src);
    case EBPF_OP_MOD32_IMM: case EBPF_OP_MOD32_REG: return ebpf_mod32(d32, s32);
    case EBPF_OP_SMOD64_IMM: case EBPF_OP_SMOD64_REG: return ebpf_smod64(dst, src);
    case EBPF_OP_SMOD32_IMM: case EBPF_OP_SMOD32_REG: return ebpf_smod32(d32, s32);
    case EBPF_OP_XOR64_IMM: case EBPF_OP_XOR64_REG: return dst ^ src;
    case EBPF_OP_XOR32_IMM: case EBPF_OP_XOR32_REG: return d32 ^ s32;
    case EBPF_OP_MOV64_IMM: case EBPF_OP_MOV64_REG: return src;
    case EBPF_OP_MOV32_IMM: case EBPF_OP_MOV32_REG: return s32;
    case EBPF_OP_MOVSX8_64: return ebpf_sext(src, 8);
    case EBPF_OP_MOVSX16_64: return ebpf_sext(src, 16);
    case EBPF_OP_MOVSX32_64: return ebpf_sext(src, 32);
    case EBPF_OP_MOVSX8_32: return (uint32_t)ebpf_sext(src, 8);
    case EBPF_OP_MOVSX16_32: return (uint32_t)ebpf_sext(src, 16);
    case EBPF_OP_ARSH64_IMM: case EBPF_OP_ARSH64_REG: return ebpf_arsh64(dst, src);
    case EBPF_OP_ARSH32_IMM: case EBPF_OP_ARSH32_REG: return ebpf_arsh32(d32, src);
    case EBPF_OP_LE16: return ebpf_to_le(dst, 16);
    case EBPF_OP_LE32: return ebpf_to_le(dst, 32);
    case EBPF_OP_LE64: return ebpf_to_le(dst, 64);
    case EBPF_OP_BE16: return ebpf_to_be(dst, 16);
    case EBPF_OP_BE32: return ebpf_to_be(dst, 32);
    case EBPF_OP_BE64: return ebpf_to_be(dst, 64);
    case EBPF_OP_BSWAP16: return ebpf_bswap(dst, 16);
    case EBPF_OP_BSWAP32: return ebpf_bswap(dst, 32);
    case EBPF_OP_BSWAP64: return ebpf_bswap(dst, 64);
    default:
        *ok = false;
        return 0;
    }
}

/* Conditions of the conditional jumps, on 64-bit operands. */
static inline bool ebpf_cond64(unsigned jmp_op, uint64_t a, uint64_t b)
{
    switch (jmp_op) {
    case EBPF_JMP_JEQ: return a == b;
    case EBPF_JMP_JNE: return a != b;
    case EBPF_JMP_JGT: return a > b;
    case EBPF_JMP_JGE: return a >= b;
    case EBPF_JMP_JLT: return a < b;
    case EBPF_JMP_JLE: return a <= b;
    case EBPF_JMP_JSET: return (a & b) != 0;
    case EBPF_JMP_JSGT: return ebpf_as_s64(a) > ebpf_as_s64(b);
    case EBPF_JMP_JSGE: return ebpf_as_s64(a) >= ebpf_as_s64(b);
    case EBPF_JMP_JSLT: return ebpf_as_s64(a) < ebpf_as_s64(b);
    case EBPF_JMP_JSLE: return ebpf_as_s64(a) <= ebpf_as_s64(b);
    default: return false;
    }
}

/* JMP32 conditions compare the low 32 bits (signed ones as int32). */
static inline bool ebpf_cond32(unsigned jmp_op, uint64_t a, uint64_t b)
{
    uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;
    switch (jmp_op) {
    case EBPF_JMP_JSGT: return ebpf_as_s32(a32) > ebpf_as_s32(b32);
    case EBPF_JMP_JSGE: return ebpf_as_s32(a32) >= ebpf_as_s32(b32);
    case EBPF_JMP_JSLT: return ebpf_as_s32(a32) < ebpf_as_s32(b32);
    case EBPF_JMP_JSLE: return ebpf_as_s32(a32) <= ebpf_as_s32(b32);
    default: return ebpf_cond64(jmp_op, a32, b32);
    }
}

/*
 * Whether the conditional jump `opcode` (a JMP or JMP32 opcode byte, not JA,
 * CALL or EXIT) is taken for dst and the selected second operand src
 * (register value, or ebpf_imm64(imm) for immediates).
 */
static inline bool ebpf_jmp_eval(uint8_t opcode, uint64_t dst, uint64_t src)
{
    if (EBPF_CLASS(opcode) == EBPF_CLASS_JMP32)
        return ebpf_cond32(EBPF_OP(opcode), dst, src);
    return ebpf_cond64(EBPF_OP(opcode), dst, src);
}

#endif /* EBPFVM_VM_ARITH_H */
