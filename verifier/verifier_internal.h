/*
 * verifier/verifier_internal.h - the verifier's abstract state and the
 * internal interfaces between its files. Never installed.
 *
 * Owns: the register types (the kernel's vocabulary: scalar, ctx, fp,
 * pkt, pkt_end, pkt_meta, map_ptr, map_value, map_value_or_null, mem,
 * mem_or_null; a map-in-map lookup is map_value_or_null of the outer map
 * and map_ptr of its template once checked, as in the kernel), struct vreg (one register's abstract value), struct vstate
 * (registers + stack of the running frame, plus its callers' frames),
 * struct venv (one verification run) and the naming rule of the kernel's verifier:
 *   - check_*  may reject: it logs the reason and returns -1 (the run's
 *              error status is set once, in venv->err);
 *   - mark_*   changes state and cannot fail;
 *   - the scalar "sync" is a fixed chain of named deductions (reg_bounds.c).
 *
 * Invariants:
 *   - a SCALAR register's bounds are always synced (reg_bounds.c), and
 *     describe a non-empty set;
 *   - pointer registers keep the same bound fields for their variable
 *     offset (zero for a constant offset) and a fixed part in `off`;
 *   - stack byte k of the frame is fp - 512 + k; the spill slot k / 8 holds
 *     the register stored at its first byte: a pointer by an 8-byte store,
 *     a scalar by a 1-, 2-, 4- or 8-byte one (cut to that size; only those
 *     bytes are STACK_SPILL).
 */
#ifndef EBPFVM_VERIFIER_INTERNAL_H
#define EBPFVM_VERIFIER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ebpfvm/verifier.h"
#include "maps/map.h"
#include "verifier/tnum.h"
#include "vm/internal.h"
#include "vm/progtype.h"

enum vtype {
    NOT_INIT = 0,
    SCALAR_VALUE,
    PTR_TO_CTX,
    PTR_TO_STACK,
    PTR_TO_PACKET,
    PTR_TO_PACKET_END,
    PTR_TO_PACKET_META,
    CONST_PTR_TO_MAP,
    PTR_TO_MAP_VALUE,
    PTR_TO_MAP_VALUE_OR_NULL,
    PTR_TO_MEM,
    PTR_TO_MEM_OR_NULL,
    PTR_TO_FUNC /* a function of the program (ld_imm64 pseudo func); off: its entry */
};

/* The numeric part of a register: a scalar's value, or a pointer's
 * variable offset. All fields describe the same set of 64-bit values. */
struct bounds {
    struct tnum var_off;
    int64_t smin, smax;
    uint64_t umin, umax;
    int32_t s32_min, s32_max;
    uint32_t u32_min, u32_max;
};

struct vreg {
    struct bounds b;
    struct ebpfvm_map *map; /* CONST_PTR_TO_MAP, PTR_TO_MAP_VALUE(_OR_NULL) */
    int32_t off;            /* pointers: the fixed offset; linked scalars
                             * (add_const): the constant added */
    uint32_t id;            /* scalars: copies share it; pkt: same base;
                             * *_OR_NULL: the lookup's result */
    uint32_t ref_obj_id;    /* ring buffer memory: the reference to release */
    uint32_t range;         /* pkt/pkt_meta: bytes proven in bounds from base */
    uint32_t mem_size;      /* PTR_TO_MEM(_OR_NULL): bytes */
    uint8_t type;           /* enum vtype */
    uint8_t frameno;        /* PTR_TO_STACK: the frame whose stack it points to */
    uint8_t rdonly;         /* PTR_TO_MEM(_OR_NULL): no writes (bpf_iter_num_next's int) */
    uint8_t add_const;      /* scalars: 0, or ADD_CONST_64 (this is the value
                             * of id + off) or ADD_CONST_32 (its 32-bit sum,
                             * zero-extended): the kernel's BPF_ADD_CONST
                             * links (check_alu.c) */
};

enum { ADD_CONST_64 = 1, ADD_CONST_32 = 2 };

enum { STACK_INVALID = 0, STACK_MISC, STACK_SPILL, STACK_ITER };

/* An open-coded iterator (bpf_iter_num) on the stack: its 8 bytes are
 * STACK_ITER and its slot's spills[] entry holds ref_obj_id (the reference
 * bpf_iter_num_new acquired), off = ITER_ACTIVE or ITER_DRAINED (next()
 * returned NULL on this path) and range = the depth (next() calls that
 * returned an element on this path). */
enum { ITER_ACTIVE = 1, ITER_DRAINED = 2 };

/* venv->prune_point[pc]: 0 no pruning there; PRUNE_POINT compare and keep
 * checkpoints by the usual heuristic; PRUNE_FORCE (may_goto) keep one at
 * every visit. */
enum { PRUNE_NONE = 0, PRUNE_POINT = 1, PRUNE_FORCE = 2, PRUNE_CALLBACK = 3, PRUNE_ITER_NEXT = 4 };

/* How states_equal compares (the kernel's enum exact_level):
 *   NOT_EXACT     inclusion, with dead and loose scalars skipped (pruning
 *                 against a completed checkpoint);
 *   RANGE_WITHIN  inclusion of every register and slot, uninitialised
 *                 ones and slot kinds matched exactly (pruning against a
 *                 checkpoint still in progress: a may_goto loop head);
 *   EXACT         identical (infinite loop detection). */
enum vexact { NOT_EXACT = 0, RANGE_WITHIN, EXACT };

enum { MAX_REFS = 16, NSLOTS = EBPF_STACK_SIZE / 8 };

/* A caller's frame, saved while a bpf-to-bpf callee (or a helper's
 * callback) runs. */
struct vframe {
    struct vreg regs[EBPF_NREGS];
    uint8_t stack[EBPF_STACK_SIZE];
    struct vreg spills[NSLOTS];
    uint32_t callsite;       /* the call instruction that left this frame */
    uint32_t callback_depth; /* as in struct vstate */
    uint8_t in_callback;     /* as in struct vstate */
};

/*
 * The state of one path. The running frame's registers and stack are
 * inline; the frames of its callers (curframe of them, outermost first)
 * live in `callers`, owned by the state (deep-copied with it, see
 * ebpfvm__state_copy).
 */
struct vstate {
    struct vreg regs[EBPF_NREGS];
    uint8_t stack[EBPF_STACK_SIZE]; /* byte k: fp - 512 + k */
    struct vreg spills[NSLOTS];     /* slot k: bytes 8k .. 8k + 7 */
    uint32_t refs[MAX_REFS];        /* acquired, not yet released references */
    uint32_t ref_insn[MAX_REFS];    /* the instruction that acquired each */
    uint32_t nrefs;
    uint16_t written;               /* registers written since the last checkpoint */
    uint32_t curframe;              /* 0: the main program */
    uint32_t may_goto_depth;        /* may_goto fall-throughs taken on this path */
    /* Callbacks (bpf_loop): the running frame's callback iterations queued
     * from its current call (the kernel's callback_depth), whether the
     * running frame is a callback (its exit goes back to the call), and
     * the callback visits on this path (callback_unroll_depth). */
    uint32_t callback_depth;
    uint8_t in_callback;
    uint32_t callback_unroll_depth;
    struct vframe *callers;         /* curframe saved frames, or NULL */
    /* Exploration bookkeeping (not part of the abstract state). */
    struct vstate *parent;          /* the checkpoint this state descends from */
    /* Checkpoints: the conditional jumps a scalar's value decided on the
     * paths explored below so far (the kernel marks those operands
     * precise); decided_all: more than fit. Used by widening only. */
    uint32_t decided[6];
    uint8_t ndecided;
    bool decided_all;
    uint32_t branches;              /* paths still being explored below a checkpoint */
    uint32_t insn;                  /* checkpoints: where they were taken */
};

struct vstate_list {
    struct vstate_list *next;
    uint32_t hit_cnt;  /* times it pruned a path */
    uint32_t miss_cnt; /* times it was compared and did not */
    struct vstate st;
};

struct vpending {
    struct vstate *st;
    uint32_t insn;
    uint32_t prev_insn;
    size_t log_pos; /* level 1: log length when the branch was pushed */
};

/* The log of one run: an internal growable text, copied out at the end. */
struct vlog {
    char *buf;
    size_t len, cap;
    uint32_t level;
    bool overflow;
};

/* What an instruction that accesses memory was seen to access. */
enum { ACCESS_NONE = 0, ACCESS_CTX, ACCESS_OTHER };

struct venv {
    struct ebpfvm_vm *vm;
    struct ebpfvm_prog *prog;
    const struct ebpfvm_prog_type_desc *desc;
    const struct ebpf_insn *insns;
    const struct ebpfvm_dinsn *code;
    uint32_t count;
    uint32_t mem_size; /* MEMORY programs: bytes r1 points to */
    bool strict;       /* EBPFVM_VERIFY_STRICT: no pointer leaks, no uninitialised stack reads, no var-off stack */
    struct vstate *cur;
    struct vpending *pending;
    uint32_t npending, cap_pending;
    struct vstate_list **explored; /* per insn */
    struct vstate_list *retired;   /* evicted checkpoints, kept until the end (children may point to them) */
    const struct vstate *just_kept; /* the checkpoint is_state_visited kept at this instruction, or NULL */
    uint32_t *nexplored;           /* per insn */
    uint8_t *prune_point;          /* per insn */
    uint8_t *access;               /* per insn: ACCESS_* */
    const struct ebpfvm_ctx_field **ctx_field; /* per insn: the ctx field accessed */
    uint32_t id_gen;
    uint64_t insn_processed;
    uint64_t last_checkpoint_insn; /* insn_processed when the last checkpoint was kept */
    uint32_t states_kept; /* checkpoints ever kept (the log's total_states) */
    uint32_t total_states, peak_states, cur_states, max_states_per_insn;
    uint32_t prev_insn;
    /* precision.c: per insn, what pruning must compare, and the facts
     * seen while exploring that the analysis depends on. */
    uint16_t *live_regs;
    uint16_t *need_regs;
    uint64_t *need_slots;
    uint8_t *ptr_alu;        /* an add/sub seen with a pointer operand */
    uint8_t *stack_indirect; /* a load/store seen through a stack pointer other than r10 */
    bool need_dirty;         /* the facts changed since need_* was computed */
    /* Widening's need set (ebpfvm__widen_need): the analysis with only the
     * jumps in widen_jumps as jump sinks; the last set computed is cached. */
    uint16_t *widen_regs, *widen_live;
    uint64_t *widen_slots;
    const uint32_t *widen_jumps;
    unsigned nwiden_jumps;
    uint32_t widen_cache[6];
    unsigned nwiden_cache;
    bool widen_valid;
    /* cfg.c: the subprograms (the main program, then every bpf-to-bpf
     * call target), by start; subprogram i is [start[i], start[i + 1]).
     * verifier.c: the deepest stack byte (a multiple of 8 bytes) any
     * explored access reached in a frame of each. */
    uint32_t *subprog_start;
    uint32_t *subprog_depth;
    uint32_t nsubprogs;
    struct vlog log;
    size_t path_log_start; /* level 1: where the current path's text starts */
    int err;               /* the run's status once a check failed */
    char reason[400];      /* the rejection reason (the vm's message) */
};

/* --------------------------------------------------------- reg_bounds.c */

EBPFVM_INTERNAL void ebpfvm__bounds_unknown(struct bounds *b);
EBPFVM_INTERNAL void ebpfvm__bounds_const(struct bounds *b, uint64_t value);
/* The chain of deductions that makes every field agree; false when the
 * bounds describe no value (the path is infeasible). */
EBPFVM_INTERNAL bool ebpfvm__bounds_sync(struct bounds *b);
EBPFVM_INTERNAL bool ebpfvm__bounds_is_const(const struct bounds *b);
/* dst = dst op src for an ALU form (64- or 32-bit semantics by form). */
EBPFVM_INTERNAL void ebpfvm__bounds_alu(struct bounds *dst, const struct bounds *src, enum ebpf_insn_form form);
/* Whether the condition (EBPF_JMP_* op, 64 or 32 bits) on a, b is always
 * true (1), always false (0) or unknown (-1). */
EBPFVM_INTERNAL int ebpfvm__bounds_branch_taken(const struct bounds *a, const struct bounds *b, unsigned op,
                                                bool is32);
/* Refine a and b assuming the condition holds (taken) or not; false when
 * that is impossible. */
EBPFVM_INTERNAL bool ebpfvm__bounds_refine(struct bounds *a, struct bounds *b, unsigned op, bool is32, bool taken);
/* Whether every value of cur is a value of old. */
EBPFVM_INTERNAL bool ebpfvm__bounds_within(const struct bounds *old, const struct bounds *cur);
/* A scalar of `size` bytes loaded from memory, zero- or sign-extended. */
EBPFVM_INTERNAL void ebpfvm__bounds_load(struct bounds *b, unsigned size, bool sign_extend);
/* Truncate to the low `size` bytes (zero-extended). */
EBPFVM_INTERNAL void ebpfvm__bounds_truncate(struct bounds *b, unsigned size);

/* ---------------------------------------------------------------- log.c */

EBPFVM_INTERNAL void ebpfvm__vlog(struct venv *env, const char *fmt, ...) EBPFVM_PRINTF(2, 3);
/* Log a rejection (always, at any level > 0) and record it as the reason. */
EBPFVM_INTERNAL int ebpfvm__verr(struct venv *env, const char *fmt, ...) EBPFVM_PRINTF(2, 3);
EBPFVM_INTERNAL void ebpfvm__vlog_reg(struct venv *env, const struct vreg *reg);
EBPFVM_INTERNAL void ebpfvm__vlog_state(struct venv *env, const struct vstate *st);
EBPFVM_INTERNAL void ebpfvm__vlog_insn(struct venv *env, uint32_t pc);
/* Append "; R0=... R2=..." (the registers in mask, as they are now) to the
 * instruction line that ends at line_end (its newline). */
EBPFVM_INTERNAL void ebpfvm__vlog_insn_state(struct venv *env, size_t line_end, uint32_t mask);
EBPFVM_INTERNAL const char *ebpfvm__vtype_name(uint8_t type);
/* The type as the kernel names it for this register ("ringbuf_mem"). */
EBPFVM_INTERNAL const char *ebpfvm__reg_type_name(const struct vreg *reg);
EBPFVM_INTERNAL void ebpfvm__vlog_free(struct venv *env);

/* -------------------------------------------------------------- state.c */

EBPFVM_INTERNAL void ebpfvm__mark_reg_unknown(struct vreg *reg);
EBPFVM_INTERNAL void ebpfvm__mark_reg_const(struct vreg *reg, uint64_t value);
EBPFVM_INTERNAL void ebpfvm__mark_reg_not_init(struct vreg *reg);
/* A scalar no longer linked to others: no id, no constant offset. */
EBPFVM_INTERNAL void ebpfvm__clear_scalar_id(struct vreg *reg);
/* Before rX = rY (or a spill of rY): rY gets an id to share, a fresh one
 * when it was itself rZ + const (links do not chain). */
EBPFVM_INTERNAL void ebpfvm__assign_scalar_id_before_mov(struct venv *env, struct vreg *src);
EBPFVM_INTERNAL void ebpfvm__mark_reg_ptr(struct vreg *reg, enum vtype type);
/* A *_or_null register proven not NULL: map_value_or_null becomes
 * map_value, or map_ptr to the template when its map is a map-in-map (the
 * kernel's representation: the lookup result is map_value_or_null of the
 * outer map until the check); mem_or_null becomes mem. */
EBPFVM_INTERNAL void ebpfvm__mark_ptr_not_null(struct vreg *reg);
EBPFVM_INTERNAL bool ebpfvm__reg_is_ptr(const struct vreg *reg);
EBPFVM_INTERNAL bool ebpfvm__reg_is_pkt(const struct vreg *reg);
/* Whether a state already proven safe (old) covers cur; exact: every
 * register and slot identical (infinite-loop detection). The scalars of
 * frame 0 in loose_regs (bit r) and loose_slots (spill slot k, bit k) are
 * compared by type only, its registers in dead_regs not at all
 * (precision.c); 0, 0, 0 compares everything. */
EBPFVM_INTERNAL bool ebpfvm__states_equal(const struct vstate *old, const struct vstate *cur, enum vexact exact,
                                          bool strict, uint16_t dead_regs, uint16_t loose_regs, uint64_t loose_slots);
/* dst := a deep copy of src (callers included); dst's own callers are
 * freed first. Returns EBPFVM_ERR_NOMEM (dst unchanged) or 0. */
EBPFVM_INTERNAL int ebpfvm__state_copy(struct venv *env, struct vstate *dst, const struct vstate *src);
/* Free what st owns (its callers' frames). */
EBPFVM_INTERNAL void ebpfvm__state_free(struct venv *env, struct vstate *st);
/* Apply fn to every register and spilled register of st, in every frame. */
typedef void (*ebpfvm_reg_visit_fn)(struct vreg *reg, void *ud);
EBPFVM_INTERNAL void ebpfvm__state_for_each_reg(struct vstate *st, ebpfvm_reg_visit_fn fn, void *ud);

/* ---------------------------------------------------------- precision.c */

/* Recompute need_regs / need_slots from the program and the facts seen. */
EBPFVM_INTERNAL void ebpfvm__precision_compute(struct venv *env);
/* What widening keeps exact at pc, for a state whose earlier visit is
 * prev: everything need_* counts, except conditional jumps none of prev's
 * paths decided (the kernel's: an operand becomes precise only where its
 * value decided a branch). False when out of memory (widen nothing). */
EBPFVM_INTERNAL bool ebpfvm__widen_need(struct venv *env, const struct vstate *prev, uint32_t pc, uint16_t *regs,
                                        uint64_t *slots);
/* A conditional jump at pc was decided by a scalar's value on the current
 * path: record it in every checkpoint above. */
EBPFVM_INTERNAL void ebpfvm__note_decided(struct venv *env, uint32_t pc);
/* Record the facts the analysis needs about insn pc in the current state
 * (call before checking it). */
EBPFVM_INTERNAL void ebpfvm__precision_note(struct venv *env, uint32_t pc);

/* ---------------------------------------------------------------- cfg.c */

/* Structure checks before exploration: every instruction reachable, jumps
 * inside the program, no fall-through off the end; marks prune points. */
EBPFVM_INTERNAL int ebpfvm__check_cfg(struct venv *env);
/* The subprogram (index into env->subprog_start) that holds insn pc. */
EBPFVM_INTERNAL uint32_t ebpfvm__subprog_of(const struct venv *env, uint32_t pc);

/* ------------------------------------------------------ check_*.c files */

EBPFVM_INTERNAL int ebpfvm__check_alu(struct venv *env, uint32_t pc);
EBPFVM_INTERNAL int ebpfvm__check_ld_imm64(struct venv *env, uint32_t pc);
EBPFVM_INTERNAL int ebpfvm__check_ldx(struct venv *env, uint32_t pc);
EBPFVM_INTERNAL int ebpfvm__check_store(struct venv *env, uint32_t pc);
EBPFVM_INTERNAL int ebpfvm__check_atomic(struct venv *env, uint32_t pc);
EBPFVM_INTERNAL int ebpfvm__check_ld_abs(struct venv *env, uint32_t pc);
/* Conditional jump at pc: may push the other branch; *next is where the
 * current path continues. */
EBPFVM_INTERNAL int ebpfvm__check_cond_jmp(struct venv *env, uint32_t pc, uint32_t *next);
EBPFVM_INTERNAL int ebpfvm__check_helper_call(struct venv *env, uint32_t pc);
/* A call of one of ebpfvm's kfuncs (the bpf_iter_num iterator). */
EBPFVM_INTERNAL int ebpfvm__check_kfunc_call(struct venv *env, uint32_t pc);
/* The iterator R1 points to in st (a constant stack offset whose slot is
 * an iterator), as its slot's spills[] entry, or NULL. */
EBPFVM_INTERNAL struct vreg *ebpfvm__iter_of_r1(struct vstate *st);
EBPFVM_INTERNAL int ebpfvm__check_exit(struct venv *env, uint32_t pc);
/* bpf-to-bpf call at pc: enter the callee's frame; *next = its entry. */
EBPFVM_INTERNAL int ebpfvm__check_local_call(struct venv *env, uint32_t pc, uint32_t *next);
/* exit from a callee: back to the caller's frame; *next = after the call,
 * or the call itself when the callee was a helper's callback. */
EBPFVM_INTERNAL int ebpfvm__check_return(struct venv *env, uint32_t pc, uint32_t *next);
/* verifier.c: widen st's scalars that changed since prev (a state at the
 * same instruction earlier on the path) and do not matter at pc. */
EBPFVM_INTERNAL void ebpfvm__widen_imprecise_scalars(struct venv *env, const struct vstate *prev, struct vstate *st,
                                                     uint32_t pc);
/* verifier.c: the checkpoint at pc this path passed last, still in
 * progress, with the same call stack as st (other than `skip`), or NULL. */
EBPFVM_INTERNAL const struct vstate *ebpfvm__find_prev_entry(const struct venv *env, const struct vstate *st,
                                                             uint32_t pc, const struct vstate *skip);
/* Whether helper id calls a function argument back (bpf_loop). */
static inline bool ebpfvm__helper_calls_back(int32_t id)
{
    return id == EBPF_HELPER_loop;
}
/* A register read: "R%d !read_ok" when it was never written. */
EBPFVM_INTERNAL int ebpfvm__check_reg_read(struct venv *env, unsigned regno);
/* Memory access of size bytes at reg + off (check_mem.c), used by helper
 * argument checks too. write: a store; for reads of the stack the bytes
 * must be initialised. */
EBPFVM_INTERNAL int ebpfvm__check_mem_region(struct venv *env, unsigned regno, int32_t off, uint64_t size,
                                             bool write, bool helper);

/* verifier.c: push the state `st` (copied) to be explored from insn. */
EBPFVM_INTERNAL int ebpfvm__push_branch(struct venv *env, const struct vstate *st, uint32_t insn, uint32_t prev);
EBPFVM_INTERNAL uint32_t ebpfvm__new_id(struct venv *env);

static inline enum ebpf_insn_format ebpfvm__vformat(const struct venv *env, uint32_t pc)
{
    return (enum ebpf_insn_format)ebpfvm__forms[env->code[pc].form].format;
}

#endif /* EBPFVM_VERIFIER_INTERNAL_H */
