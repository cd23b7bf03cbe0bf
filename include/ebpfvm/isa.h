/*
 * ebpfvm/isa.h - the eBPF instruction set (RFC 9669) as data.
 *
 * This header owns every fact about instruction encodings: the instruction
 * word, the class/size/mode/op field constants, Linux's helper IDs and XDP
 * actions, and EBPF_INSN_FORMS, the one table of every valid instruction
 * form. The interpreter's dispatch table, the load-time validator, the
 * assembler, the disassembler and the JIT coverage tests are all generated
 * from that table; nothing else in the project lists opcodes.
 *
 * Layout assumption: like Linux's struct bpf_insn, the register nibbles are
 * bitfields with dst_reg in the low four bits, which is the encoding on the
 * little-endian hosts ebpfvm supports (x86-64, arm64).
 */
#ifndef EBPFVM_ISA_H
#define EBPFVM_ISA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One 64-bit instruction word. LD_IMM64 occupies two consecutive words. */
struct ebpf_insn {
    uint8_t opcode;
    uint8_t dst_reg : 4;
    uint8_t src_reg : 4;
    int16_t off;
    int32_t imm;
};

enum {
    EBPF_NREGS = 11,        /* r0..r10 */
    EBPF_REG_FP = 10,       /* read-only frame pointer */
    EBPF_STACK_SIZE = 512,  /* bytes of stack per frame */
    EBPF_MAX_CALL_DEPTH = 8, /* frames, including the main program */
    /* may_goto: the times each frame's may_goto instructions fall through
     * before they jump (the kernel's BPF_MAX_LOOPS, a per-call counter). */
    EBPF_MAY_GOTO_BUDGET = 8 * 1024 * 1024
};

/* Instruction classes (low three bits of the opcode). */
#define EBPF_CLASS(op) ((op) & 0x07u)
#define EBPF_CLASS_LD 0x00u
#define EBPF_CLASS_LDX 0x01u
#define EBPF_CLASS_ST 0x02u
#define EBPF_CLASS_STX 0x03u
#define EBPF_CLASS_ALU 0x04u
#define EBPF_CLASS_JMP 0x05u
#define EBPF_CLASS_JMP32 0x06u
#define EBPF_CLASS_ALU64 0x07u

/* ALU/JMP: source bit and operation (high four bits). */
#define EBPF_SRC(op) ((op) & 0x08u)
#define EBPF_SRC_K 0x00u /* immediate */
#define EBPF_SRC_X 0x08u /* register */
#define EBPF_OP(op) ((op) & 0xf0u)

#define EBPF_ALU_ADD 0x00u
#define EBPF_ALU_SUB 0x10u
#define EBPF_ALU_MUL 0x20u
#define EBPF_ALU_DIV 0x30u
#define EBPF_ALU_OR 0x40u
#define EBPF_ALU_AND 0x50u
#define EBPF_ALU_LSH 0x60u
#define EBPF_ALU_RSH 0x70u
#define EBPF_ALU_NEG 0x80u
#define EBPF_ALU_MOD 0x90u
#define EBPF_ALU_XOR 0xa0u
#define EBPF_ALU_MOV 0xb0u
#define EBPF_ALU_ARSH 0xc0u
#define EBPF_ALU_END 0xd0u

#define EBPF_JMP_JA 0x00u
#define EBPF_JMP_JEQ 0x10u
#define EBPF_JMP_JGT 0x20u
#define EBPF_JMP_JGE 0x30u
#define EBPF_JMP_JSET 0x40u
#define EBPF_JMP_JNE 0x50u
#define EBPF_JMP_JSGT 0x60u
#define EBPF_JMP_JSGE 0x70u
#define EBPF_JMP_CALL 0x80u
#define EBPF_JMP_EXIT 0x90u
#define EBPF_JMP_JLT 0xa0u
#define EBPF_JMP_JLE 0xb0u
#define EBPF_JMP_JSLT 0xc0u
#define EBPF_JMP_JSLE 0xd0u

/* Load/store: size (bits 3-4) and mode (bits 5-7). */
#define EBPF_SIZE(op) ((op) & 0x18u)
#define EBPF_SIZE_W 0x00u
#define EBPF_SIZE_H 0x08u
#define EBPF_SIZE_B 0x10u
#define EBPF_SIZE_DW 0x18u
#define EBPF_MODE(op) ((op) & 0xe0u)
#define EBPF_MODE_IMM 0x00u
#define EBPF_MODE_ABS 0x20u
#define EBPF_MODE_IND 0x40u
#define EBPF_MODE_MEM 0x60u
#define EBPF_MODE_MEMSX 0x80u
#define EBPF_MODE_ATOMIC 0xc0u

/* Atomic operations (imm of an ATOMIC instruction). */
#define EBPF_ATOMIC_FETCH 0x01
#define EBPF_ATOMIC_ADD 0x00
#define EBPF_ATOMIC_OR 0x40
#define EBPF_ATOMIC_AND 0x50
#define EBPF_ATOMIC_XOR 0xa0
#define EBPF_ATOMIC_XCHG (0xe0 | EBPF_ATOMIC_FETCH)
#define EBPF_ATOMIC_CMPXCHG (0xf0 | EBPF_ATOMIC_FETCH)

/* src_reg values of LD_IMM64 (Linux's BPF_PSEUDO_*). */
#define EBPF_PSEUDO_NONE 0
#define EBPF_PSEUDO_MAP_FD 1        /* imm = map fd: a map pointer */
#define EBPF_PSEUDO_MAP_VALUE 2     /* imm = map fd, next imm = offset into value 0 */
#define EBPF_PSEUDO_BTF_ID 3        /* kernel variable by BTF id: not supported */
#define EBPF_PSEUDO_FUNC 4          /* imm = pc-relative subprogram: its address */
#define EBPF_PSEUDO_MAP_IDX 5       /* like MAP_FD, imm indexes the map table */
#define EBPF_PSEUDO_MAP_IDX_VALUE 6 /* like MAP_VALUE, imm indexes the map table */

/* src_reg values of CALL. */
#define EBPF_PSEUDO_CALL_HELPER 0
#define EBPF_PSEUDO_CALL_LOCAL 1 /* bpf-to-bpf call, imm = pc-relative target */
#define EBPF_PSEUDO_CALL_KFUNC 2 /* kernel function: imm = an EBPFVM_KFUNC_* id */

/* ebpfvm's built-in kfuncs (vm/kfuncs.c): `call` with src_reg 2 and one of
 * these ids in imm (the kernel's imm is a BTF id; ebpfvm's loader maps
 * calls to extern functions of these names to the ids). */
enum ebpfvm_kfunc_id {
    EBPFVM_KFUNC_ITER_NUM_NEW = 1,     /* int bpf_iter_num_new(struct bpf_iter_num *, int start, int end) */
    EBPFVM_KFUNC_ITER_NUM_NEXT = 2,    /* int *bpf_iter_num_next(struct bpf_iter_num *) */
    EBPFVM_KFUNC_ITER_NUM_DESTROY = 3, /* void bpf_iter_num_destroy(struct bpf_iter_num *) */
    EBPFVM_KFUNC_COUNT_
};

/* XDP verdicts (enum xdp_action). */
enum ebpf_xdp_action {
    EBPF_XDP_ABORTED = 0,
    EBPF_XDP_DROP = 1,
    EBPF_XDP_PASS = 2,
    EBPF_XDP_TX = 3,
    EBPF_XDP_REDIRECT = 4
};

/* Linux helper IDs that ebpfvm knows by name (enum bpf_func_id). */
#define EBPF_HELPER_IDS(X)                 \
    X(map_lookup_elem, 1)                  \
    X(map_update_elem, 2)                  \
    X(map_delete_elem, 3)                  \
    X(probe_read, 4)                       \
    X(ktime_get_ns, 5)                     \
    X(trace_printk, 6)                     \
    X(get_prandom_u32, 7)                  \
    X(get_smp_processor_id, 8)             \
    X(tail_call, 12)                       \
    X(redirect, 23)                        \
    X(perf_event_output, 25)               \
    X(skb_load_bytes, 26)                  \
    X(csum_diff, 28)                       \
    X(xdp_adjust_head, 44)                 \
    X(redirect_map, 51)                    \
    X(xdp_adjust_meta, 54)                 \
    X(xdp_adjust_tail, 65)                 \
    X(fib_lookup, 69)                      \
    X(map_push_elem, 87)                   \
    X(map_pop_elem, 88)                    \
    X(map_peek_elem, 89)                   \
    X(strtol, 105)                         \
    X(strtoul, 106)                        \
    X(jiffies64, 118)                      \
    X(loop, 181)                           \
    X(ringbuf_output, 130)                 \
    X(ringbuf_reserve, 131)                \
    X(ringbuf_submit, 132)                 \
    X(ringbuf_discard, 133)                \
    X(xdp_get_buff_len, 188)               \
    X(xdp_load_bytes, 189)                 \
    X(xdp_store_bytes, 190)

enum ebpf_helper_id {
#define EBPF_X_HELPER_ENUM(name, id) EBPF_HELPER_##name = (id),
    EBPF_HELPER_IDS(EBPF_X_HELPER_ENUM)
#undef EBPF_X_HELPER_ENUM
    EBPF_HELPER_unspec = 0
};

/*
 * Operand formats of the instruction forms. A format says which fields an
 * instruction uses; every field it does not name must be zero.
 */
enum ebpf_insn_format {
    EBPF_FMT_ALU_IMM,   /* dst op= imm                        (off: discriminator) */
    EBPF_FMT_ALU_REG,   /* dst op= src                        (off: discriminator) */
    EBPF_FMT_ALU_UNARY, /* dst = op dst (neg)                                     */
    EBPF_FMT_ENDIAN,    /* dst = byte-order op (imm = 16/32/64 discriminator)     */
    EBPF_FMT_LD_IMM64,  /* dst = imm64 (two words, src = pseudo kind)             */
    EBPF_FMT_LD_ABS,    /* r0 = packet[imm] (legacy)                              */
    EBPF_FMT_LD_IND,    /* r0 = packet[src + imm] (legacy)                        */
    EBPF_FMT_LDX,       /* dst = *(size *)(src + off)                             */
    EBPF_FMT_ST,        /* *(size *)(dst + off) = imm                             */
    EBPF_FMT_STX,       /* *(size *)(dst + off) = src                             */
    EBPF_FMT_ATOMIC,    /* atomic op on *(size *)(dst + off) with src (imm: op)   */
    EBPF_FMT_JA,        /* pc += off                                              */
    EBPF_FMT_JA32,      /* pc += imm (gotol)                                      */
    EBPF_FMT_MAY_GOTO,  /* pc += off once the frame's loop budget is spent        */
    EBPF_FMT_JMP_IMM,   /* if dst cond imm: pc += off                             */
    EBPF_FMT_JMP_REG,   /* if dst cond src: pc += off                             */
    EBPF_FMT_CALL,      /* helper (src 0, imm = id) or local (src 1, imm = rel)   */
    EBPF_FMT_CALLX,     /* call the helper whose id is in dst                     */
    EBPF_FMT_EXIT       /* return r0                                              */
};

/* What part of the instruction, besides the opcode byte, selects a form. */
enum ebpf_insn_disc {
    EBPF_DISC_NONE, /* the opcode alone */
    EBPF_DISC_OFF,  /* off must equal the value */
    EBPF_DISC_IMM,  /* imm must equal the value */
    EBPF_DISC_SRC   /* src_reg must equal the value */
};

/* Conformance-suite instruction groups. */
enum ebpf_insn_group {
    EBPF_GROUP_BASE32,
    EBPF_GROUP_BASE64,
    EBPF_GROUP_ATOMIC32,
    EBPF_GROUP_ATOMIC64,
    EBPF_GROUP_DIVMUL32,
    EBPF_GROUP_DIVMUL64,
    EBPF_GROUP_PACKET,
    EBPF_GROUP_CALLX
};

/*
 * EBPF_INSN_FORMS(X): every valid instruction form, one row each.
 *
 *   X(ID, opcode, disc, disc_value, "mnemonic", format, group, isa_version)
 *
 * ID names the form (EBPF_OP_##ID in enum ebpf_insn_form). The mnemonic is the
 * conformance suite's assembly name; atomics are written "lock <mnemonic>".
 * isa_version is the RFC 9669 conformance level that introduced the form.
 */
#define EBPF_X_ALU_PAIR(X, NAME, OPBITS, MN, GROUP64, GROUP32)                                           \
    X(NAME##64_IMM, 0x07u | (OPBITS), EBPF_DISC_OFF, 0, MN, EBPF_FMT_ALU_IMM, GROUP64, 1)                 \
    X(NAME##64_REG, 0x0fu | (OPBITS), EBPF_DISC_OFF, 0, MN, EBPF_FMT_ALU_REG, GROUP64, 1)                 \
    X(NAME##32_IMM, 0x04u | (OPBITS), EBPF_DISC_OFF, 0, MN "32", EBPF_FMT_ALU_IMM, GROUP32, 1)            \
    X(NAME##32_REG, 0x0cu | (OPBITS), EBPF_DISC_OFF, 0, MN "32", EBPF_FMT_ALU_REG, GROUP32, 1)

#define EBPF_X_SIGNED_PAIR(X, NAME, OPBITS, MN)                                                          \
    X(NAME##64_IMM, 0x07u | (OPBITS), EBPF_DISC_OFF, 1, MN, EBPF_FMT_ALU_IMM, EBPF_GROUP_DIVMUL64, 4)     \
    X(NAME##64_REG, 0x0fu | (OPBITS), EBPF_DISC_OFF, 1, MN, EBPF_FMT_ALU_REG, EBPF_GROUP_DIVMUL64, 4)     \
    X(NAME##32_IMM, 0x04u | (OPBITS), EBPF_DISC_OFF, 1, MN "32", EBPF_FMT_ALU_IMM, EBPF_GROUP_DIVMUL32, 4)\
    X(NAME##32_REG, 0x0cu | (OPBITS), EBPF_DISC_OFF, 1, MN "32", EBPF_FMT_ALU_REG, EBPF_GROUP_DIVMUL32, 4)

#define EBPF_X_JMP_PAIR(X, NAME, OPBITS, MN, VER)                                                        \
    X(NAME##_IMM, 0x05u | (OPBITS), EBPF_DISC_NONE, 0, MN, EBPF_FMT_JMP_IMM, EBPF_GROUP_BASE64, VER)       \
    X(NAME##_REG, 0x0du | (OPBITS), EBPF_DISC_NONE, 0, MN, EBPF_FMT_JMP_REG, EBPF_GROUP_BASE64, VER)       \
    X(NAME##32_IMM, 0x06u | (OPBITS), EBPF_DISC_NONE, 0, MN "32", EBPF_FMT_JMP_IMM, EBPF_GROUP_BASE32, 3) \
    X(NAME##32_REG, 0x0eu | (OPBITS), EBPF_DISC_NONE, 0, MN "32", EBPF_FMT_JMP_REG, EBPF_GROUP_BASE32, 3)

#define EBPF_X_MEM_SIZES(X, NAME, BASE, MN, FMT, VER)                                                    \
    X(NAME##B, (BASE) | EBPF_SIZE_B, EBPF_DISC_NONE, 0, MN "b", FMT, EBPF_GROUP_BASE32, VER)              \
    X(NAME##H, (BASE) | EBPF_SIZE_H, EBPF_DISC_NONE, 0, MN "h", FMT, EBPF_GROUP_BASE32, VER)              \
    X(NAME##W, (BASE) | EBPF_SIZE_W, EBPF_DISC_NONE, 0, MN "w", FMT, EBPF_GROUP_BASE32, VER)              \
    X(NAME##DW, (BASE) | EBPF_SIZE_DW, EBPF_DISC_NONE, 0, MN "dw", FMT, EBPF_GROUP_BASE64, VER)

#define EBPF_X_ATOMIC_OPS(X, SUFFIX, SIZE, MN_SUFFIX, GROUP)                                             \
    X(ATOMIC_ADD##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_ADD, "add" MN_SUFFIX,                \
      EBPF_FMT_ATOMIC, GROUP, 1)                                                                        \
    X(ATOMIC_OR##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_OR, "or" MN_SUFFIX,                   \
      EBPF_FMT_ATOMIC, GROUP, 3)                                                                        \
    X(ATOMIC_AND##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_AND, "and" MN_SUFFIX,                \
      EBPF_FMT_ATOMIC, GROUP, 3)                                                                        \
    X(ATOMIC_XOR##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_XOR, "xor" MN_SUFFIX,                \
      EBPF_FMT_ATOMIC, GROUP, 3)                                                                        \
    X(ATOMIC_FETCH_ADD##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_ADD | EBPF_ATOMIC_FETCH,       \
      "fetch add" MN_SUFFIX, EBPF_FMT_ATOMIC, GROUP, 3)                                                 \
    X(ATOMIC_FETCH_OR##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_OR | EBPF_ATOMIC_FETCH,         \
      "fetch or" MN_SUFFIX, EBPF_FMT_ATOMIC, GROUP, 3)                                                  \
    X(ATOMIC_FETCH_AND##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_AND | EBPF_ATOMIC_FETCH,       \
      "fetch and" MN_SUFFIX, EBPF_FMT_ATOMIC, GROUP, 3)                                                 \
    X(ATOMIC_FETCH_XOR##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_XOR | EBPF_ATOMIC_FETCH,       \
      "fetch xor" MN_SUFFIX, EBPF_FMT_ATOMIC, GROUP, 3)                                                 \
    X(ATOMIC_XCHG##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_XCHG, "xchg" MN_SUFFIX,             \
      EBPF_FMT_ATOMIC, GROUP, 3)                                                                        \
    X(ATOMIC_CMPXCHG##SUFFIX, 0xc3u | (SIZE), EBPF_DISC_IMM, EBPF_ATOMIC_CMPXCHG, "cmpxchg" MN_SUFFIX,    \
      EBPF_FMT_ATOMIC, GROUP, 3)

#define EBPF_INSN_FORMS(X)                                                                               \
    /* ALU and ALU64 */                                                                                  \
    EBPF_X_ALU_PAIR(X, ADD, EBPF_ALU_ADD, "add", EBPF_GROUP_BASE64, EBPF_GROUP_BASE32)                   \
    EBPF_X_ALU_PAIR(X, SUB, EBPF_ALU_SUB, "sub", EBPF_GROUP_BASE64, EBPF_GROUP_BASE32)                   \
    EBPF_X_ALU_PAIR(X, MUL, EBPF_ALU_MUL, "mul", EBPF_GROUP_DIVMUL64, EBPF_GROUP_DIVMUL32)               \
    EBPF_X_ALU_PAIR(X, DIV, EBPF_ALU_DIV, "div", EBPF_GROUP_DIVMUL64, EBPF_GROUP_DIVMUL32)               \
    EBPF_X_SIGNED_PAIR(X, SDIV, EBPF_ALU_DIV, "sdiv")                                                    \
    EBPF_X_ALU_PAIR(X, OR, EBPF_ALU_OR, "or", EBPF_GROUP_BASE64, EBPF_GROUP_BASE32)                      \
    EBPF_X_ALU_PAIR(X, AND, EBPF_ALU_AND, "and", EBPF_GROUP_BASE64, EBPF_GROUP_BASE32)                   \
    EBPF_X_ALU_PAIR(X, LSH, EBPF_ALU_LSH, "lsh", EBPF_GROUP_BASE64, EBPF_GROUP_BASE32)                   \
    EBPF_X_ALU_PAIR(X, RSH, EBPF_ALU_RSH, "rsh", EBPF_GROUP_BASE64, EBPF_GROUP_BASE32)                   \
    X(NEG64, 0x87u, EBPF_DISC_NONE, 0, "neg", EBPF_FMT_ALU_UNARY, EBPF_GROUP_BASE64, 1)                  \
    X(NEG32, 0x84u, EBPF_DISC_NONE, 0, "neg32", EBPF_FMT_ALU_UNARY, EBPF_GROUP_BASE32, 1)                \
    EBPF_X_ALU_PAIR(X, MOD, EBPF_ALU_MOD, "mod", EBPF_GROUP_DIVMUL64, EBPF_GROUP_DIVMUL32)               \
    EBPF_X_SIGNED_PAIR(X, SMOD, EBPF_ALU_MOD, "smod")                                                    \
    EBPF_X_ALU_PAIR(X, XOR, EBPF_ALU_XOR, "xor", EBPF_GROUP_BASE64, EBPF_GROUP_BASE32)                   \
    EBPF_X_ALU_PAIR(X, MOV, EBPF_ALU_MOV, "mov", EBPF_GROUP_BASE64, EBPF_GROUP_BASE32)                   \
    X(MOVSX8_64, 0xbfu, EBPF_DISC_OFF, 8, "movsx864", EBPF_FMT_ALU_REG, EBPF_GROUP_BASE64, 4)            \
    X(MOVSX16_64, 0xbfu, EBPF_DISC_OFF, 16, "movsx1664", EBPF_FMT_ALU_REG, EBPF_GROUP_BASE64, 4)         \
    X(MOVSX32_64, 0xbfu, EBPF_DISC_OFF, 32, "movsx3264", EBPF_FMT_ALU_REG, EBPF_GROUP_BASE64, 4)         \
    X(MOVSX8_32, 0xbcu, EBPF_DISC_OFF, 8, "movsx832", EBPF_FMT_ALU_REG, EBPF_GROUP_BASE32, 4)            \
    X(MOVSX16_32, 0xbcu, EBPF_DISC_OFF, 16, "movsx1632", EBPF_FMT_ALU_REG, EBPF_GROUP_BASE32, 4)         \
    EBPF_X_ALU_PAIR(X, ARSH, EBPF_ALU_ARSH, "arsh", EBPF_GROUP_BASE64, EBPF_GROUP_BASE32)                \
    X(LE16, 0xd4u, EBPF_DISC_IMM, 16, "le16", EBPF_FMT_ENDIAN, EBPF_GROUP_BASE32, 1)                     \
    X(LE32, 0xd4u, EBPF_DISC_IMM, 32, "le32", EBPF_FMT_ENDIAN, EBPF_GROUP_BASE32, 1)                     \
    X(LE64, 0xd4u, EBPF_DISC_IMM, 64, "le64", EBPF_FMT_ENDIAN, EBPF_GROUP_BASE64, 1)                     \
    X(BE16, 0xdcu, EBPF_DISC_IMM, 16, "be16", EBPF_FMT_ENDIAN, EBPF_GROUP_BASE32, 1)                     \
    X(BE32, 0xdcu, EBPF_DISC_IMM, 32, "be32", EBPF_FMT_ENDIAN, EBPF_GROUP_BASE32, 1)                     \
    X(BE64, 0xdcu, EBPF_DISC_IMM, 64, "be64", EBPF_FMT_ENDIAN, EBPF_GROUP_BASE64, 1)                     \
    X(BSWAP16, 0xd7u, EBPF_DISC_IMM, 16, "bswap16", EBPF_FMT_ENDIAN, EBPF_GROUP_BASE32, 4)               \
    X(BSWAP32, 0xd7u, EBPF_DISC_IMM, 32, "bswap32", EBPF_FMT_ENDIAN, EBPF_GROUP_BASE32, 4)               \
    X(BSWAP64, 0xd7u, EBPF_DISC_IMM, 64, "bswap64", EBPF_FMT_ENDIAN, EBPF_GROUP_BASE64, 4)               \
    /* LD: 64-bit immediate and the legacy packet loads */                                               \
    X(LDDW, 0x18u, EBPF_DISC_NONE, 0, "lddw", EBPF_FMT_LD_IMM64, EBPF_GROUP_BASE64, 1)                   \
    X(LDABSB, 0x30u, EBPF_DISC_NONE, 0, "ldabsb", EBPF_FMT_LD_ABS, EBPF_GROUP_PACKET, 1)                 \
    X(LDABSH, 0x28u, EBPF_DISC_NONE, 0, "ldabsh", EBPF_FMT_LD_ABS, EBPF_GROUP_PACKET, 1)                 \
    X(LDABSW, 0x20u, EBPF_DISC_NONE, 0, "ldabsw", EBPF_FMT_LD_ABS, EBPF_GROUP_PACKET, 1)                 \
    X(LDINDB, 0x50u, EBPF_DISC_NONE, 0, "ldindb", EBPF_FMT_LD_IND, EBPF_GROUP_PACKET, 1)                 \
    X(LDINDH, 0x48u, EBPF_DISC_NONE, 0, "ldindh", EBPF_FMT_LD_IND, EBPF_GROUP_PACKET, 1)                 \
    X(LDINDW, 0x40u, EBPF_DISC_NONE, 0, "ldindw", EBPF_FMT_LD_IND, EBPF_GROUP_PACKET, 1)                 \
    /* LDX, LDX sign-extending, ST, STX */                                                               \
    EBPF_X_MEM_SIZES(X, LDX, 0x61u, "ldx", EBPF_FMT_LDX, 1)                                              \
    X(LDXSB, 0x81u | EBPF_SIZE_B, EBPF_DISC_NONE, 0, "ldxsb", EBPF_FMT_LDX, EBPF_GROUP_BASE32, 4)        \
    X(LDXSH, 0x81u | EBPF_SIZE_H, EBPF_DISC_NONE, 0, "ldxsh", EBPF_FMT_LDX, EBPF_GROUP_BASE32, 4)        \
    X(LDXSW, 0x81u | EBPF_SIZE_W, EBPF_DISC_NONE, 0, "ldxsw", EBPF_FMT_LDX, EBPF_GROUP_BASE64, 4)        \
    EBPF_X_MEM_SIZES(X, ST, 0x62u, "st", EBPF_FMT_ST, 1)                                                 \
    EBPF_X_MEM_SIZES(X, STX, 0x63u, "stx", EBPF_FMT_STX, 1)                                              \
    /* Atomics (STX | ATOMIC) */                                                                         \
    EBPF_X_ATOMIC_OPS(X, 32, EBPF_SIZE_W, "32", EBPF_GROUP_ATOMIC32)                                     \
    EBPF_X_ATOMIC_OPS(X, 64, EBPF_SIZE_DW, "", EBPF_GROUP_ATOMIC64)                                      \
    /* JMP and JMP32 */                                                                                  \
    X(JA, 0x05u, EBPF_DISC_NONE, 0, "ja", EBPF_FMT_JA, EBPF_GROUP_BASE64, 1)                             \
    X(JA32, 0x06u, EBPF_DISC_NONE, 0, "ja32", EBPF_FMT_JA32, EBPF_GROUP_BASE32, 4)                       \
    X(MAY_GOTO, 0xe5u, EBPF_DISC_SRC, 0, "may_goto", EBPF_FMT_MAY_GOTO, EBPF_GROUP_BASE64, 4)            \
    EBPF_X_JMP_PAIR(X, JEQ, EBPF_JMP_JEQ, "jeq", 1)                                                      \
    EBPF_X_JMP_PAIR(X, JGT, EBPF_JMP_JGT, "jgt", 1)                                                      \
    EBPF_X_JMP_PAIR(X, JGE, EBPF_JMP_JGE, "jge", 1)                                                      \
    EBPF_X_JMP_PAIR(X, JSET, EBPF_JMP_JSET, "jset", 1)                                                   \
    EBPF_X_JMP_PAIR(X, JNE, EBPF_JMP_JNE, "jne", 1)                                                      \
    EBPF_X_JMP_PAIR(X, JSGT, EBPF_JMP_JSGT, "jsgt", 1)                                                   \
    EBPF_X_JMP_PAIR(X, JSGE, EBPF_JMP_JSGE, "jsge", 1)                                                   \
    EBPF_X_JMP_PAIR(X, JLT, EBPF_JMP_JLT, "jlt", 2)                                                      \
    EBPF_X_JMP_PAIR(X, JLE, EBPF_JMP_JLE, "jle", 2)                                                      \
    EBPF_X_JMP_PAIR(X, JSLT, EBPF_JMP_JSLT, "jslt", 2)                                                   \
    EBPF_X_JMP_PAIR(X, JSLE, EBPF_JMP_JSLE, "jsle", 2)                                                   \
    X(CALL, 0x85u, EBPF_DISC_NONE, 0, "call", EBPF_FMT_CALL, EBPF_GROUP_BASE32, 1)                       \
    X(CALLX, 0x8du, EBPF_DISC_NONE, 0, "callx", EBPF_FMT_CALLX, EBPF_GROUP_CALLX, 4)                     \
    X(EXIT, 0x95u, EBPF_DISC_NONE, 0, "exit", EBPF_FMT_EXIT, EBPF_GROUP_BASE32, 1)

/* One enumerator per instruction form, in table order. */
enum ebpf_insn_form {
#define EBPF_X_FORM_ENUM(id, code, disc, dval, mn, fmt, grp, ver) EBPF_OP_##id,
    EBPF_INSN_FORMS(EBPF_X_FORM_ENUM)
#undef EBPF_X_FORM_ENUM
    EBPF_OP_COUNT_
};

#ifdef __cplusplus
}
#endif

#endif /* EBPFVM_ISA_H */
