/*
 * vm/interp_loop.h - the interpreter's dispatch loop, as a template.
 *
 * Included only by vm/interp.c, once per loop variant, with these defined:
 *   INTERP_NAME     the function's name
 *   INTERP_CHECKED  1: check every load, store and atomic against the run's
 *                   regions (fault instead of touching foreign memory)
 *   INTERP_BUDGET   1: count instructions and stop at run->budget
 * vm/interp.c provides struct interp_run, the vmdispatch_begin / vmcase /
 * vmbreak macros (computed goto or switch) and the static helpers used
 * below (interp_alu, interp_load, interp_store, interp_atomic, the fault
 * reporters).
 *
 * Every handler is generated from EBPF_INSN_FORMS: one HANDLE_<format> macro
 * per operand format, instantiated for each form with the form's opcode byte
 * and discriminator as compile-time constants. The arithmetic comes from
 * vm/arith.h (ebpf_alu_eval / ebpf_jmp_eval); with the form constant, and
 * the loop built with `flatten`, each handler folds to the one operation.
 *
 * Invariants relied on (established by vm/validate.c at load): registers are
 * <= 10, nothing writes r10, jump targets are valid non-tail instructions,
 * every path ends in EXIT or a jump, and helper IDs of CALL are registered.
 */

#if !defined(INTERP_NAME) || !defined(INTERP_CHECKED) || !defined(INTERP_BUDGET)
#error "vm/interp_loop.h is a template included by vm/interp.c"
#endif

/* ---- per-variant pieces ---- */

#if INTERP_BUDGET
#define INTERP_COUNT()                                                                                   \
    do {                                                                                                 \
        if (EBPFVM_UNLIKELY(left-- == 0))                                                                \
            goto budget_exhausted;                                                                       \
    } while (0)
#define INTERP_SAVE_COUNT() (run->executed = run->budget - left)
/* A helper's callbacks (interp_call_func) count against the same budget. */
#define INTERP_LOAD_COUNT() (left = run->budget - run->executed)
#else
#define INTERP_COUNT() ((void)0)
#define INTERP_SAVE_COUNT() ((void)0)
#define INTERP_LOAD_COUNT() ((void)0)
#endif

/* Check an access of `size` bytes at addr, made through register `base`
 * plus `offset` (for the message); kind is an enum interp_access. */
#if INTERP_CHECKED
#define INTERP_MEM_CHECK(addr, size, kind, base, offset)                                                 \
    do {                                                                                                 \
        if (EBPFVM_UNLIKELY(!interp_access_ok(env, (addr), (size), (kind)))) {                           \
            INTERP_SAVE_COUNT();                                                                         \
            return interp_mem_fault(run, INTERP_PC, (addr), (size), (kind), (base), (offset));            \
        }                                                                                                \
    } while (0)
#else
#define INTERP_MEM_CHECK(addr, size, kind, base, offset) ((void)0)
#endif

/* ---- shared pieces ---- */

#define INTERP_PC ((uint32_t)(insn - prog_code))
/* Note: these blocks must not be wrapped in do { } while (0): in switch mode
 * vmbreak is `continue`, which has to reach the dispatch loop. */
#define INTERP_NEXT                                                                                      \
    {                                                                                                    \
        insn++;                                                                                          \
        vmbreak;                                                                                         \
    }
#define INTERP_JUMP(target)                                                                              \
    {                                                                                                    \
        insn = prog_code + (target);                                                                     \
        vmbreak;                                                                                         \
    }
#define INTERP_MEM_OFF ((uint64_t)(int64_t)insn->off)

/* ALU forms: dst = op(dst, operand), through vm/arith.h. */
#define HANDLE_EBPF_FMT_ALU_IMM(id, opc, dval)                                                           \
    reg[insn->dst] = interp_alu(EBPF_OP_##id, reg[insn->dst], (uint64_t)insn->u.imm);                    \
    INTERP_NEXT;
#define HANDLE_EBPF_FMT_ALU_REG(id, opc, dval)                                                           \
    reg[insn->dst] = interp_alu(EBPF_OP_##id, reg[insn->dst], reg[insn->src]);                           \
    INTERP_NEXT;
#define HANDLE_EBPF_FMT_ALU_UNARY(id, opc, dval)                                                         \
    reg[insn->dst] = interp_alu(EBPF_OP_##id, reg[insn->dst], 0);                                        \
    INTERP_NEXT;
#define HANDLE_EBPF_FMT_ENDIAN(id, opc, dval) HANDLE_EBPF_FMT_ALU_UNARY(id, opc, dval)

/* dst = the decoded 64-bit value; the second word is skipped. A direct map
 * value address becomes an accessible region in checked mode. */
#define HANDLE_EBPF_FMT_LD_IMM64(id, opc, dval)                                                          \
    reg[insn->dst] = insn->u.uimm;                                                                       \
    if (INTERP_CHECKED && (insn->src == EBPF_PSEUDO_MAP_VALUE || insn->src == EBPF_PSEUDO_MAP_IDX_VALUE)) \
        interp_add_map_value_region(run, INTERP_PC);                                                     \
    insn += 2;                                                                                           \
    vmbreak;

/* Legacy packet loads: r0 = big-endian load from the context block. Out of
 * bounds is the kernel's hidden `r0 = 0; exit` (net/core/filter.c,
 * bpf_gen_ld_abs): it ends the program with r0 = 0 in the main program and
 * returns 0 to the caller in a subprogram (INTERP_RETURN). */
#define HANDLE_EBPF_FMT_LD_ABS(id, opc, dval)                                                            \
    if (EBPFVM_UNLIKELY(!interp_packet_load(run, (uint64_t)insn->u.imm, ebpfvm__size_bytes(opc), &reg[0]))) { \
        reg[0] = 0;                                                                                      \
        INTERP_RETURN                                                                                    \
    }                                                                                                    \
    INTERP_NEXT;
#define HANDLE_EBPF_FMT_LD_IND(id, opc, dval)                                                            \
    if (EBPFVM_UNLIKELY(!interp_packet_load(run, reg[insn->src] + (uint64_t)insn->u.imm,                 \
                                            ebpfvm__size_bytes(opc), &reg[0]))) {                        \
        reg[0] = 0;                                                                                      \
        INTERP_RETURN                                                                                    \
    }                                                                                                    \
    INTERP_NEXT;

/* dst = *(size *)(src + off), sign-extended for the MEMSX mode. */
#define HANDLE_EBPF_FMT_LDX(id, opc, dval)                                                               \
    {                                                                                                    \
        uint64_t addr_ = reg[insn->src] + INTERP_MEM_OFF;                                                \
        INTERP_MEM_CHECK(addr_, ebpfvm__size_bytes(opc), INTERP_READ, insn->src, insn->off);             \
        uint64_t value_ = interp_load(addr_, ebpfvm__size_bytes(opc));                                   \
        if (EBPF_MODE(opc) == EBPF_MODE_MEMSX)                                                           \
            value_ = ebpf_sext(value_, 8 * ebpfvm__size_bytes(opc));                                     \
        reg[insn->dst] = value_;                                                                         \
    }                                                                                                    \
    INTERP_NEXT;

/* *(size *)(dst + off) = imm or src (truncated to the size). */
#define HANDLE_EBPF_FMT_ST(id, opc, dval)                                                                \
    {                                                                                                    \
        uint64_t addr_ = reg[insn->dst] + INTERP_MEM_OFF;                                                \
        INTERP_MEM_CHECK(addr_, ebpfvm__size_bytes(opc), INTERP_WRITE, insn->dst, insn->off);            \
        interp_store(addr_, ebpfvm__size_bytes(opc), (uint64_t)insn->u.imm);                             \
    }                                                                                                    \
    INTERP_NEXT;
#define HANDLE_EBPF_FMT_STX(id, opc, dval)                                                               \
    {                                                                                                    \
        uint64_t addr_ = reg[insn->dst] + INTERP_MEM_OFF;                                                \
        INTERP_MEM_CHECK(addr_, ebpfvm__size_bytes(opc), INTERP_WRITE, insn->dst, insn->off);            \
        interp_store(addr_, ebpfvm__size_bytes(opc), reg[insn->src]);                                    \
    }                                                                                                    \
    INTERP_NEXT;

/* Atomic read-modify-write on a naturally aligned address (dval = the op). */
#define HANDLE_EBPF_FMT_ATOMIC(id, opc, dval)                                                            \
    {                                                                                                    \
        uint64_t addr_ = reg[insn->dst] + INTERP_MEM_OFF;                                                \
        INTERP_MEM_CHECK(addr_, ebpfvm__size_bytes(opc), INTERP_ATOMIC, insn->dst, insn->off);           \
        interp_atomic(reg, insn->src, addr_, ebpfvm__size_bytes(opc), (dval));                           \
    }                                                                                                    \
    INTERP_NEXT;

#define HANDLE_EBPF_FMT_JA(id, opc, dval) INTERP_JUMP(insn->u.target);
#define HANDLE_EBPF_FMT_JA32(id, opc, dval) INTERP_JUMP(insn->u.target);

/* may_goto: fall through while the frame's loop budget lasts, then jump
 * (every time after that, until the frame returns). */
#define HANDLE_EBPF_FMT_MAY_GOTO(id, opc, dval)                                                          \
    if (EBPFVM_UNLIKELY(loops[depth] == 0))                                                              \
        INTERP_JUMP(insn->u.target);                                                                     \
    loops[depth]--;                                                                                      \
    INTERP_NEXT;

/* Conditional jumps; the immediate operand is decoded into `off`. */
#define HANDLE_EBPF_FMT_JMP_IMM(id, opc, dval)                                                           \
    if (ebpf_jmp_eval((opc), reg[insn->dst], (uint64_t)(int64_t)insn->off))                              \
        INTERP_JUMP(insn->u.target);                                                                     \
    INTERP_NEXT;
#define HANDLE_EBPF_FMT_JMP_REG(id, opc, dval)                                                           \
    if (ebpf_jmp_eval((opc), reg[insn->dst], reg[insn->src]))                                            \
        INTERP_JUMP(insn->u.target);                                                                     \
    INTERP_NEXT;

/* Helper calls: r0 = fn(r1..r5, env); a helper fault stops the run. */
#define INTERP_CALL_FN(fn, helper_id)                                                                    \
    {                                                                                                    \
        env->pc = INTERP_PC;                                                                             \
        env->depth = depth;                                                                              \
        env->fp = reg[EBPF_REG_FP];                                                                      \
        INTERP_SAVE_COUNT();                                                                             \
        reg[0] = (fn)(reg[1], reg[2], reg[3], reg[4], reg[5], env);                                      \
        INTERP_LOAD_COUNT();                                                                             \
        if (EBPFVM_UNLIKELY(env->faulted)) {                                                             \
            INTERP_SAVE_COUNT();                                                                         \
            return interp_helper_fault(run, INTERP_PC, (uint32_t)(helper_id));                           \
        }                                                                                                \
        INTERP_NEXT                                                                                      \
    }
/* (A kfunc faults only with a message: helper_id 0 is never named.) */
#define INTERP_CALL_HELPER(helper_id) INTERP_CALL_FN(helpers[(helper_id)].fn, helper_id)

/* CALL: a helper (src 0) or a bpf-to-bpf call (src 1) into a new frame with
 * its own 512-byte stack; r6-r9 and r10 are saved for the EXIT. */
#define HANDLE_EBPF_FMT_CALL(id, opc, dval)                                                              \
    if (insn->src == EBPF_PSEUDO_CALL_HELPER)                                                            \
        INTERP_CALL_HELPER(insn->u.imm);                                                                 \
    if (insn->src == EBPF_PSEUDO_CALL_KFUNC)                                                             \
        INTERP_CALL_FN(ebpfvm__kfuncs[insn->u.imm].fn, 0);                                               \
    if (EBPFVM_UNLIKELY(depth + 1 >= EBPF_MAX_CALL_DEPTH)) {                                             \
        INTERP_SAVE_COUNT();                                                                             \
        return interp_fault(run, EBPFVM_ERR_FAULT, INTERP_PC, 0, "call depth exceeds %d frames",         \
                            EBPF_MAX_CALL_DEPTH);                                                        \
    }                                                                                                    \
    {                                                                                                    \
        struct interp_frame *frame_ = &frames[depth++];                                                  \
        memcpy(frame_->callee_saved, &reg[6], sizeof frame_->callee_saved);                              \
        frame_->ret = insn + 1;                                                                          \
        loops[depth] = EBPF_MAY_GOTO_BUDGET;                                                             \
        reg[EBPF_REG_FP] -= EBPF_STACK_SIZE;                                                             \
        if (depth > run->deepest) { /* first use of this frame in the run */                            \
            memset((void *)(uintptr_t)(reg[EBPF_REG_FP] - EBPF_STACK_SIZE), 0, EBPF_STACK_SIZE);         \
            run->deepest = depth;                                                                        \
        }                                                                                                \
        env->stack_lo = (uintptr_t)(reg[EBPF_REG_FP] - EBPF_STACK_SIZE);                                 \
    }                                                                                                    \
    INTERP_JUMP(insn->u.target);

/* callx: the helper whose ID is in dst (checked in both modes: the value is
 * only known at run time). */
#define HANDLE_EBPF_FMT_CALLX(id, opc, dval)                                                             \
    {                                                                                                    \
        uint64_t helper_id_ = reg[insn->dst];                                                            \
        if (EBPFVM_UNLIKELY(helper_id_ == 0 || helper_id_ > EBPFVM_MAX_HELPER_ID || !helpers ||          \
                            !helpers[helper_id_].fn)) {                                                  \
            INTERP_SAVE_COUNT();                                                                         \
            return interp_fault(run, EBPFVM_ERR_FAULT, INTERP_PC, 0, "callx r%u: unknown helper %llu",    \
                                insn->dst, (unsigned long long)helper_id_);                              \
        }                                                                                                \
        INTERP_CALL_HELPER(helper_id_);                                                                  \
    }

/* Return r0 from the current frame to its caller (r6-r9 and r10 restored),
 * or end the program with r0 in frame 0: EXIT, and an out-of-bounds legacy
 * packet load. */
#define INTERP_RETURN                                                                                    \
    if (depth == base_depth) {                                                                           \
        INTERP_SAVE_COUNT();                                                                             \
        run->result->r0 = reg[0];                                                                        \
        return EBPFVM_OK;                                                                                \
    }                                                                                                    \
    {                                                                                                    \
        const struct interp_frame *frame_ = &frames[--depth];                                            \
        memcpy(&reg[6], frame_->callee_saved, sizeof frame_->callee_saved);                              \
        env->stack_lo = (uintptr_t)(reg[EBPF_REG_FP] - EBPF_STACK_SIZE);                                 \
        insn = frame_->ret;                                                                              \
    }                                                                                                    \
    vmbreak;

/* EXIT: return from the current frame, or end the program. */
#define HANDLE_EBPF_FMT_EXIT(id, opc, dval) INTERP_RETURN

#define INTERP_CASE(id, opc, disc, dval, mn, fmt, grp, ver)                                              \
    vmcase(id) {                                                                                         \
        HANDLE_##fmt(id, opc, dval)                                                                      \
    }

#if EBPFVM_INTERP_GOTO
#define INTERP_LABEL(id, opc, disc, dval, mn, fmt, grp, ver) [EBPF_OP_##id] = &&op_##id,
#endif

static EBPFVM_INTERP_LOOP_ATTRS int INTERP_NAME(struct interp_run *run)
{
#if EBPFVM_INTERP_GOTO
    /* The dispatch table, indexed by the decoded form (enum ebpf_insn_form). */
    static const void *const dispatch_table[EBPF_OP_COUNT_ + 1] = {
        EBPF_INSN_FORMS(INTERP_LABEL)[EBPF_OP_COUNT_] = &&op_COUNT_,
    };
#endif
    const struct ebpfvm_dinsn *const prog_code = run->prog->code;
    const struct ebpfvm_dinsn *insn = prog_code;
    const struct ebpfvm_helper *const helpers = run->prog->vm->helpers;
    struct ebpfvm_env *const env = run->env;
    const struct interp_call *const call = run->call;
    struct interp_frame frames[EBPF_MAX_CALL_DEPTH];
    unsigned depth = 0;      /* index of the current frame */
    unsigned base_depth = 0; /* the frame whose EXIT ends this loop */
    uint32_t loops[EBPF_MAX_CALL_DEPTH]; /* each frame's may_goto budget left */
    uint64_t reg[EBPF_NREGS] = {0};
#if INTERP_BUDGET
    uint64_t left = run->budget - run->executed;
#endif

    if (EBPFVM_LIKELY(!call)) {
        reg[1] = run->ctx;
        reg[2] = run->ctx_size;
        reg[EBPF_REG_FP] = run->stack_top;
    } else {
        /* A callback: a call into a new frame from the helper's. */
        insn = prog_code + call->pc;
        depth = base_depth = call->depth;
        memcpy(&reg[1], call->args, sizeof call->args);
        reg[EBPF_REG_FP] = call->fp;
        if (depth > run->deepest) {
            memset((void *)(uintptr_t)(call->fp - EBPF_STACK_SIZE), 0, EBPF_STACK_SIZE);
            run->deepest = depth;
        }
        env->stack_lo = (uintptr_t)(call->fp - EBPF_STACK_SIZE);
    }
    loops[depth] = EBPF_MAY_GOTO_BUDGET;

    vmdispatch_begin
    EBPF_INSN_FORMS(INTERP_CASE)
    vmcase(COUNT_) {
        /* Unreachable: validation keeps control out of LD_IMM64 tails. */
        INTERP_SAVE_COUNT();
        return interp_fault(run, EBPFVM_ERR_FAULT, INTERP_PC, 0, "internal error: executed an ld_imm64 tail");
    }
    vmdispatch_end

#if INTERP_BUDGET
budget_exhausted:
    run->executed = run->budget;
    return interp_fault(run, EBPFVM_ERR_BUDGET, INTERP_PC, 0, "instruction budget of %llu exhausted",
                        (unsigned long long)run->budget);
#endif
}

#undef INTERP_COUNT
#undef INTERP_SAVE_COUNT
#undef INTERP_LOAD_COUNT
#undef INTERP_MEM_CHECK
#undef INTERP_PC
#undef INTERP_NEXT
#undef INTERP_JUMP
#undef INTERP_MEM_OFF
#undef HANDLE_EBPF_FMT_ALU_IMM
#undef HANDLE_EBPF_FMT_ALU_REG
#undef HANDLE_EBPF_FMT_ALU_UNARY
#undef HANDLE_EBPF_FMT_ENDIAN
#undef HANDLE_EBPF_FMT_LD_IMM64
#undef HANDLE_EBPF_FMT_LD_ABS
#undef HANDLE_EBPF_FMT_LD_IND
#undef HANDLE_EBPF_FMT_LDX
#undef HANDLE_EBPF_FMT_ST
#undef HANDLE_EBPF_FMT_STX
#undef HANDLE_EBPF_FMT_ATOMIC
#undef HANDLE_EBPF_FMT_JA
#undef HANDLE_EBPF_FMT_MAY_GOTO
#undef HANDLE_EBPF_FMT_JA32
#undef HANDLE_EBPF_FMT_JMP_IMM
#undef HANDLE_EBPF_FMT_JMP_REG
#undef INTERP_CALL_HELPER
#undef INTERP_CALL_FN
#undef HANDLE_EBPF_FMT_CALL
#undef HANDLE_EBPF_FMT_CALLX
#undef HANDLE_EBPF_FMT_EXIT
#undef INTERP_RETURN
#undef INTERP_CASE
#undef INTERP_LABEL
#undef INTERP_NAME
#undef INTERP_CHECKED
#undef INTERP_BUDGET
