/*
 * verifier/check_alu.c - ALU and ALU64 instructions, LD_IMM64, and the
 * register-read check every instruction class uses.
 *
 * Scalars go through the bounds domain (reg_bounds.c). Pointers allow only
 * what keeps them meaningful, like the kernel: 64-bit add/sub of a scalar
 * (a constant moves the fixed offset, a bounded variable one becomes part
 * of the variable offset; a packet pointer then gets a new id and range 0
 * until it is compared with data_end again). ebpfvm models a privileged
 * (CAP_BPF) loader, the kernel's allow_ptr_leaks: the difference of two
 * pointers, a 32-bit subtraction with a pointer, a 32-bit or
 * sign-extending mov of a pointer, and neg/byte swap of a pointer give an
 * unknown scalar (sound: a scalar is never dereferenced). Everything else
 * on a pointer is rejected with the kernel's message, as it is for root. A 64-bit register copy
 * of a scalar shares an id with its source so that a bound learnt on one
 * applies to both.
 */
#include <string.h>

#include "verifier/verifier_internal.h"
#include "vm/arith.h"

#define MAX_VAR_OFF (1ll << 29)

int ebpfvm__check_reg_read(struct venv *env, unsigned regno)
{
    if (regno >= EBPF_NREGS)
        return ebpfvm__verr(env, "R%u is invalid", regno);
    if (env->cur->regs[regno].type == NOT_INIT)
        return ebpfvm__verr(env, "R%u !read_ok", regno);
    return 0;
}

static const char *op_text(unsigned op)
{
    switch (op) {
    case EBPF_ALU_ADD: return "+=";
    case EBPF_ALU_SUB: return "-=";
    case EBPF_ALU_MUL: return "*=";
    case EBPF_ALU_DIV: return "/=";
    case EBPF_ALU_OR: return "|=";
    case EBPF_ALU_AND: return "&=";
    case EBPF_ALU_LSH: return "<<=";
    case EBPF_ALU_RSH: return ">>=";
    case EBPF_ALU_NEG: return "neg";
    case EBPF_ALU_MOD: return "%=";
    case EBPF_ALU_XOR: return "^=";
    case EBPF_ALU_MOV: return "=";
    case EBPF_ALU_ARSH: return "s>>=";
    case EBPF_ALU_END: return "endian";
    default: return "?";
    }
}

static void mark_written(struct venv *env, unsigned regno)
{
    env->cur->written |= (uint16_t)(1u << regno);
}

/* dst (a pointer) op= src (a scalar): the kernel's adjust_ptr_min_max_vals. */
static int adjust_ptr(struct venv *env, unsigned dstno, struct vreg *dst, const struct vreg *src, unsigned op)
{
    const char *tname = ebpfvm__vtype_name(dst->type);
    switch (dst->type) {
    case CONST_PTR_TO_MAP:
        /* The kernel lets a known 0 be added (the map pointer stays). */
        if (op == EBPF_ALU_ADD && ebpfvm__bounds_is_const(&src->b) && src->b.var_off.value == 0)
            return 0;
        return ebpfvm__verr(env, "R%u pointer arithmetic on %s prohibited", dstno, tname);
    case PTR_TO_PACKET_END:
    case PTR_TO_FUNC:
        return ebpfvm__verr(env, "R%u pointer arithmetic on %s prohibited", dstno, tname);
    case PTR_TO_MAP_VALUE_OR_NULL:
    case PTR_TO_MEM_OR_NULL:
        return ebpfvm__verr(env, "R%u pointer arithmetic on %s prohibited, null-check it first", dstno, tname);
    default:
        break;
    }
    if (op == EBPF_ALU_AND || op == EBPF_ALU_OR || op == EBPF_ALU_XOR)
        return ebpfvm__verr(env, "R%u bitwise operator %s on pointer prohibited", dstno, op_text(op));
    if (op != EBPF_ALU_ADD && op != EBPF_ALU_SUB)
        return ebpfvm__verr(env, "R%u pointer arithmetic with %s operator prohibited", dstno, op_text(op));
    /* The kernel refuses any subtraction from a stack pointer (some JITs
     * could not handle it); compilers add negative offsets instead. */
    if (op == EBPF_ALU_SUB && dst->type == PTR_TO_STACK)
        return ebpfvm__verr(env, "R%u subtraction from stack pointer prohibited", dstno);

    if (ebpfvm__bounds_is_const(&src->b)) {
        int64_t v = ebpf_as_s64(src->b.var_off.value);
        if (v >= MAX_VAR_OFF || v <= -MAX_VAR_OFF)
            return ebpfvm__verr(env, "math between %s pointer and %lld is not allowed", tname, (long long)v);
        int64_t off = (int64_t)dst->off + (op == EBPF_ALU_ADD ? v : -v);
        if (off >= MAX_VAR_OFF || off <= -MAX_VAR_OFF)
            return ebpfvm__verr(env, "%s pointer offset %lld is not allowed", tname, (long long)off);
        dst->off = (int32_t)off;
        return 0;
    }
    if (src->b.smin == INT64_MIN)
        return ebpfvm__verr(env, "math between %s pointer and register with unbounded min value is not allowed",
                            tname);
    if (src->b.smin <= -MAX_VAR_OFF || src->b.smin >= MAX_VAR_OFF)
        return ebpfvm__verr(env, "value %lld makes %s pointer be out of bounds", (long long)src->b.smin, tname);
    /* The upper bound is checked where the pointer is used: map values and
     * memory need umax + off + size inside the object, packets a
     * comparison with data_end (with smin >= 0 no address wraps). */
    ebpfvm__bounds_alu(&dst->b, &src->b, op == EBPF_ALU_ADD ? EBPF_OP_ADD64_REG : EBPF_OP_SUB64_REG);
    if (dst->b.smin == INT64_MIN)
        return ebpfvm__verr(env, "math between %s pointer and register with unbounded min value is not allowed",
                            tname);
    if (dst->b.smin <= -MAX_VAR_OFF || dst->b.smin >= MAX_VAR_OFF)
        return ebpfvm__verr(env, "value %lld makes %s pointer be out of bounds", (long long)dst->b.smin, tname);
    if (ebpfvm__reg_is_pkt(dst)) {
        /* A new base: the proven range belonged to the old one. */
        dst->id = ebpfvm__new_id(env);
        dst->range = 0;
    }
    return 0;
}

static int check_mov(struct venv *env, uint32_t pc)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    bool is64 = EBPF_CLASS(insn->opcode) == EBPF_CLASS_ALU64;
    struct vstate *st = env->cur;
    struct vreg *dst = &st->regs[insn->dst_reg];
    if (EBPF_SRC(insn->opcode) == EBPF_SRC_K) {
        ebpfvm__mark_reg_const(dst, is64 ? (uint64_t)(int64_t)insn->imm : (uint32_t)insn->imm);
        mark_written(env, insn->dst_reg);
        return 0;
    }
    if (ebpfvm__check_reg_read(env, insn->src_reg))
        return -1;
    struct vreg *src = &st->regs[insn->src_reg];
    if (insn->off == 0 && is64) {
        ebpfvm__assign_scalar_id_before_mov(env, src);
        *dst = *src;
        mark_written(env, insn->dst_reg);
        return 0;
    }
    if (src->type != SCALAR_VALUE) {
        /* Privileged loader (allow_ptr_leaks): a partial or sign-extended
         * copy of a pointer is a number nobody can dereference. */
        ebpfvm__mark_reg_unknown(dst);
        if (!is64)
            ebpfvm__bounds_truncate(&dst->b, 4);
        mark_written(env, insn->dst_reg);
        return 0;
    }
    /* A copy that cannot change the value (a 32-bit move of a value that
     * fits in 32 bits, a sign extension of one below the sign bit) links
     * the two registers like a 64-bit move, as the kernel does. */
    bool unchanged = insn->off ? src->b.umax < ((uint64_t)1 << (insn->off - 1)) : src->b.umax <= UINT32_MAX;
    if (unchanged) {
        ebpfvm__assign_scalar_id_before_mov(env, src);
        *dst = *src;
        mark_written(env, insn->dst_reg);
        return 0;
    }
    struct bounds b = src->b;
    if (insn->off) {
        unsigned bits = (unsigned)insn->off;
        uint64_t half = (uint64_t)1 << (bits - 1);
        /* The kernel's coerce_reg_to_size_sx: when smin and smax agree
         * above the low `bits` bits and their extensions have one sign,
         * the result is exactly the range between the extensions. */
        int64_t lo = ebpf_as_s64(ebpf_sext((uint64_t)b.smin, bits));
        int64_t hi = ebpf_as_s64(ebpf_sext((uint64_t)b.smax, bits));
        if (lo > hi) {
            int64_t t = lo;
            lo = hi;
            hi = t;
        }
        if (ebpfvm__bounds_is_const(&b)) {
            ebpfvm__bounds_const(&b, ebpf_sext(b.var_off.value, bits));
        } else if (((uint64_t)b.smin >> bits) == ((uint64_t)b.smax >> bits) && (lo >= 0) == (hi >= 0)) {
            ebpfvm__bounds_unknown(&b);
            b.smin = lo;
            b.smax = hi;
            b.umin = (uint64_t)lo;
            b.umax = (uint64_t)hi;
            b.var_off = ebpfvm__tnum_range((uint64_t)lo, (uint64_t)hi);
            ebpfvm__bounds_sync(&b);
        } else {
            ebpfvm__bounds_unknown(&b);
            b.smin = -(int64_t)half;
            b.smax = (int64_t)half - 1;
            ebpfvm__bounds_sync(&b);
        }
    }
    if (!is64)
        ebpfvm__bounds_truncate(&b, 4);
    ebpfvm__mark_reg_unknown(dst);
    dst->b = b;
    mark_written(env, insn->dst_reg);
    return 0;
}

/*
 * The kernel's linked scalars (BPF_ADD_CONST64 / BPF_ADD_CONST32), for
 * privileged loaders: after `r1 = r2; r1 += 4` r1 stays linked to r2 as
 * r2 + 4 (ADD_CONST_64), after `w1 += 4` as the zero-extended 32-bit sum
 * (ADD_CONST_32, only when r1 fitted in 32 bits), so that what a branch
 * then learns about either bounds the other (check_jmp.c; clang's loops
 * test the old counter after computing the new one). A subtraction links
 * with the negated constant. One constant per link, in s32 range; any
 * other operation on dst breaks its link.
 */
static void link_add_const(struct venv *env, struct vreg *dst, const struct vreg *src, unsigned op, bool is64,
                           bool same_reg, uint64_t dst_umax_before)
{
    bool is_const = is64 ? ebpfvm__bounds_is_const(&src->b) : src->b.u32_min == src->b.u32_max;
    if (env->strict || (op != EBPF_ALU_ADD && op != EBPF_ALU_SUB) || !dst->id || !is_const || same_reg ||
        dst->add_const) {
        ebpfvm__clear_scalar_id(dst);
        return;
    }
    uint64_t val = is64 ? src->b.var_off.value : src->b.u32_min;
    if ((is64 && ((int64_t)val < INT32_MIN || (int64_t)val > INT32_MAX)) ||
        (!is64 && dst_umax_before > UINT32_MAX)) {
        ebpfvm__clear_scalar_id(dst);
        return;
    }
    int32_t off = (int32_t)(uint32_t)val;
    if (op == EBPF_ALU_SUB) {
        if (off == INT32_MIN) {
            ebpfvm__clear_scalar_id(dst);
            return;
        }
        off = -off;
    }
    dst->add_const = is64 ? ADD_CONST_64 : ADD_CONST_32;
    dst->off = off;
}

int ebpfvm__check_alu(struct venv *env, uint32_t pc)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    const struct ebpfvm_dinsn *d = &env->code[pc];
    enum ebpf_insn_format fmt = ebpfvm__vformat(env, pc);
    unsigned op = EBPF_OP(insn->opcode);
    bool is64 = EBPF_CLASS(insn->opcode) == EBPF_CLASS_ALU64;
    struct vstate *st = env->cur;
    unsigned dstno = insn->dst_reg;

    if (dstno == EBPF_REG_FP)
        return ebpfvm__verr(env, "frame pointer is read only");
    if (op == EBPF_ALU_MOV)
        return check_mov(env, pc);
    if (ebpfvm__check_reg_read(env, dstno))
        return -1;
    struct vreg *dst = &st->regs[dstno];

    if (fmt == EBPF_FMT_ALU_UNARY || fmt == EBPF_FMT_ENDIAN) {
        if (dst->type != SCALAR_VALUE) {
            /* Privileged loader: neg or a byte swap of a pointer is an
             * unknown scalar (the kernel's check_reg_arg(DST_OP)). */
            ebpfvm__mark_reg_unknown(dst);
            mark_written(env, dstno);
            return 0;
        }
        ebpfvm__bounds_alu(&dst->b, &dst->b, (enum ebpf_insn_form)d->form);
        ebpfvm__clear_scalar_id(dst);
        mark_written(env, dstno);
        return 0;
    }

    struct vreg src;
    if (fmt == EBPF_FMT_ALU_REG) {
        if (ebpfvm__check_reg_read(env, insn->src_reg))
            return -1;
        src = st->regs[insn->src_reg];
    } else {
        ebpfvm__mark_reg_const(&src, (uint64_t)(int64_t)insn->imm);
        if ((op == EBPF_ALU_DIV || op == EBPF_ALU_MOD) && insn->imm == 0)
            return ebpfvm__verr(env, "div by zero");
        if ((op == EBPF_ALU_LSH || op == EBPF_ALU_RSH || op == EBPF_ALU_ARSH) &&
            (insn->imm < 0 || insn->imm >= (is64 ? 64 : 32)))
            return ebpfvm__verr(env, "invalid shift %d", insn->imm);
    }

    bool dst_ptr = ebpfvm__reg_is_ptr(dst), src_ptr = ebpfvm__reg_is_ptr(&src);
    if (dst_ptr || src_ptr) {
        /* Privileged loader (the kernel's allow_ptr_leaks): the
         * difference of two pointers of any kinds, and any 32-bit
         * subtraction involving a pointer, is an unknown scalar (clang
         * computes data_end - data on the u32 fields). Every other op
         * combining two pointers, or 32-bit, is rejected even for root. */
        if (op == EBPF_ALU_SUB && ((dst_ptr && src_ptr) || !is64)) {
            ebpfvm__mark_reg_unknown(dst);
            if (!is64)
                ebpfvm__bounds_truncate(&dst->b, 4);
            mark_written(env, dstno);
            return 0;
        }
        if (dst_ptr && src_ptr)
            return ebpfvm__verr(env, "R%u pointer %s pointer prohibited", dstno, op_text(op));
        if (!is64)
            return ebpfvm__verr(env, "R%u 32-bit pointer arithmetic prohibited", dstno);
        if (src_ptr) {
            if (op == EBPF_ALU_SUB)
                return ebpfvm__verr(env, "R%u tried to subtract pointer from scalar", dstno);
            if (op != EBPF_ALU_ADD)
                return ebpfvm__verr(env, "R%u pointer arithmetic with %s operator prohibited", dstno, op_text(op));
            /* scalar += pointer: the pointer plus the scalar. */
            struct vreg scalar = *dst;
            *dst = src;
            if (adjust_ptr(env, dstno, dst, &scalar, EBPF_ALU_ADD))
                return -1;
            mark_written(env, dstno);
            return 0;
        }
        if (adjust_ptr(env, dstno, dst, &src, op))
            return -1;
        mark_written(env, dstno);
        return 0;
    }

    uint64_t dst_umax = dst->b.umax;
    ebpfvm__bounds_alu(&dst->b, &src.b, (enum ebpf_insn_form)d->form);
    link_add_const(env, dst, &src, op, is64, fmt == EBPF_FMT_ALU_REG && insn->src_reg == dstno, dst_umax);
    mark_written(env, dstno);
    return 0;
}

int ebpfvm__check_ld_imm64(struct venv *env, uint32_t pc)
{
    const struct ebpf_insn *insn = &env->insns[pc];
    struct vreg *dst = &env->cur->regs[insn->dst_reg];
    if (insn->dst_reg == EBPF_REG_FP)
        return ebpfvm__verr(env, "frame pointer is read only");
    switch (insn->src_reg) {
    case EBPF_PSEUDO_NONE:
        ebpfvm__mark_reg_const(dst, env->code[pc].u.uimm);
        break;
    case EBPF_PSEUDO_MAP_FD:
    case EBPF_PSEUDO_MAP_IDX:
    case EBPF_PSEUDO_MAP_VALUE:
    case EBPF_PSEUDO_MAP_IDX_VALUE: {
        if (insn->imm < 0 || (uint32_t)insn->imm >= env->vm->nmaps || !env->vm->maps[insn->imm])
            return ebpfvm__verr(env, "fd %d is not pointing to valid bpf_map", insn->imm);
        struct ebpfvm_map *map = env->vm->maps[insn->imm];
        bool value = insn->src_reg == EBPF_PSEUDO_MAP_VALUE || insn->src_reg == EBPF_PSEUDO_MAP_IDX_VALUE;
        ebpfvm__mark_reg_ptr(dst, value ? PTR_TO_MAP_VALUE : CONST_PTR_TO_MAP);
        dst->map = map;
        if (value) {
            uint32_t off = (uint32_t)env->insns[pc + 1].imm;
            if (off >= map->value_size)
                return ebpfvm__verr(env, "invalid access to map value pointer, value_size=%u off=%u",
                                    map->value_size, off);
            dst->off = (int32_t)off;
        }
        break;
    }
    case EBPF_PSEUDO_FUNC:
        /* A function of the program, for a helper's callback argument. */
        ebpfvm__mark_reg_ptr(dst, PTR_TO_FUNC);
        dst->off = (int32_t)env->code[pc].u.uimm;
        break;
    default:
        env->err = EBPFVM_ERR_UNSUPP;
        return ebpfvm__verr(env, "ld_imm64 with src_reg %u is not supported by the verifier", insn->src_reg);
    }
    mark_written(env, insn->dst_reg);
    return 0;
}
