/*
 * vm/interp.c - the interpreter: ebpfvm_prog_run() and the run environment
 * that helpers see (ebpfvm_env_*).
 *
 * Owns the execution of a decoded program (vm/validate.c produced it) in two
 * modes with identical results on every program that does not fault:
 *
 *   FAST     no per-instruction checks at all. The loop (vm/interp_loop.h)
 *            keeps the register file and the instruction pointer in locals
 *            and dispatches with computed goto where the compiler has it
 *            (plain switch otherwise). A second fast loop counts
 *            instructions, for callers that set a budget.
 *   CHECKED  every load, store and atomic is checked against the run's
 *            regions (the active frames' stacks, the context block, regions
 *            helpers added); atomics must be naturally aligned; instructions
 *            are counted against the budget. A violation ends the run with
 *            EBPFVM_ERR_FAULT and a message naming the instruction, the
 *            access, the register and the reason - never a crash.
 *
 * Both modes check what only the run can know and what protects the host
 * even for verified programs: the call depth limit, callx helper IDs and
 * helper faults. Division, shifts etc. need no checks: vm/arith.h defines
 * them for every input.
 *
 * Memory layout of a run: one block of EBPF_MAX_CALL_DEPTH * 512 bytes on
 * the C stack; frame 0 is at the top (r10 = the block's end) and each call
 * moves r10 down 512 bytes. A frame's stack is zeroed the first time a run
 * reaches that depth (frame 0: only the bytes the program can reach, see
 * stack_reach), so no run ever reads the host's stale bytes.
 *
 * Fixed cost per run (docs/performance.md): the env's scalar fields only
 * (regions and the fault message are written when used), the caller's
 * options used in place, and a JIT run of a program with native code goes
 * straight to the native entry; the tail-call driver with the interpreter's
 * stacks runs only for the interpreter or after a tail call.
 *
 * A run is a chain (ebpfvm__run_chain): bpf_tail_call stops the current
 * program like a fault with env->tail_target set, and the driver starts the
 * target with the same ctx, a fresh stack and the rest of the budget - in
 * native code when the mode is EBPFVM_EXEC_JIT and the target has some.
 * The program type (vm/progtype.c) checks the ctx and, in checked mode,
 * declares the memory it gives access to (XDP: the buff read-only, the
 * packet [data_meta, data_end) writable, kept current by the adjust
 * helpers).
 *
 * Thread safety: a run touches only its own locals and the immutable
 * program, so any number of runs may execute one program concurrently.
 */
#include <stdio.h>
#include <string.h>

#include "vm/arith.h"
#include "vm/progtype.h"

enum { INTERP_STACK_BYTES = EBPF_STACK_SIZE * EBPF_MAX_CALL_DEPTH };

/* ------------------------------------------------------- dispatch macros */

/*
 * Lua-style dispatch: vmdispatch_begin / vmcase(ID) / vmbreak / vmdispatch_end.
 * With GNU C, computed goto through a table generated from EBPF_INSN_FORMS
 * (one indirect jump per instruction, predicted per handler); otherwise a
 * standard switch in a loop. vmbreak dispatches the instruction `insn` now
 * points at, after the budget count of the variant (INTERP_COUNT).
 * Define EBPFVM_INTERP_NO_GOTO to build the switch form with GNU compilers.
 */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(EBPFVM_INTERP_NO_GOTO)
#define EBPFVM_INTERP_GOTO 1
#define vmdispatch_begin vmbreak;
#define vmdispatch_end
#define vmcase(id) op_##id:
#define vmbreak                                                                                          \
    do {                                                                                                 \
        INTERP_COUNT();                                                                                  \
        goto *dispatch_table[insn->form];                                                                \
    } while (0)
/* flatten: inline vm/arith.h into every handler, where the constant form
 * folds ebpf_alu_eval()'s switch down to one operation. */
#define EBPFVM_INTERP_LOOP_ATTRS __attribute__((flatten))
#define EBPFVM_COLD __attribute__((noinline, cold))
#define EBPFVM_NOINLINE __attribute__((noinline))
#else
#define EBPFVM_INTERP_GOTO 0
#define vmdispatch_begin                                                                                 \
    for (;;) {                                                                                           \
        INTERP_COUNT();                                                                                  \
        switch ((enum ebpf_insn_form)insn->form) {
#define vmdispatch_end                                                                                   \
    }                                                                                                    \
    }
#define vmcase(id) case EBPF_OP_##id:
#define vmbreak continue
#define EBPFVM_INTERP_LOOP_ATTRS
#define EBPFVM_COLD
#define EBPFVM_NOINLINE
#endif

/* ------------------------------------------------------------ run state */

/* The state of one run that the loop variants share. */
struct interp_run {
    const struct ebpfvm_prog *prog;
    struct ebpfvm_env *env;
    struct ebpfvm_run_result *result;
    uint64_t ctx;       /* r1 at entry, and the legacy packet */
    uint64_t ctx_size;  /* r2 at entry */
    uint64_t pkt;       /* the legacy packet (LD_ABS/LD_IND): address */
    uint64_t pkt_len;   /* and length */
    uint64_t stack_top; /* r10 of frame 0 */
    uint64_t budget;    /* budgeted variants: instructions allowed */
    uint64_t executed;  /* budgeted variants: instructions executed */
    unsigned deepest;   /* deepest frame used so far (its stack is zeroed) */
    const struct interp_call *call; /* a callback's run, or NULL */
};

/* A run of one function for a helper's callback (interp_call_func): it
 * starts at pc in frame `depth` with r1-r5 = args and r10 = fp, and its
 * EXIT from that frame returns to the helper. */
struct interp_call {
    uint32_t pc;
    unsigned depth;
    uint64_t args[5];
    uint64_t fp;
};

/* What the caller of a bpf-to-bpf call gets back at EXIT. */
struct interp_frame {
    uint64_t callee_saved[5]; /* r6..r9 and r10 */
    const struct ebpfvm_dinsn *ret;
};

enum interp_access { INTERP_READ, INTERP_WRITE, INTERP_ATOMIC };

/* ---------------------------------------------------- regions and faults */

/* Whether [addr, addr + size) lies inside [start, end), without overflow. */
static inline bool span_inside(uintptr_t start, uintptr_t end, uint64_t addr, uint64_t size)
{
    return addr >= start && addr <= end && size <= end - addr;
}

/* 0: allowed; 1: outside every region; 2: inside a read-only one (writes). */
static int region_lookup(const struct ebpfvm_env *env, uint64_t addr, uint64_t size, bool write)
{
    if (span_inside(env->stack_lo, env->stack_hi, addr, size))
        return 0;
    for (unsigned i = 0; i < env->nregions; i++) {
        const struct ebpfvm_region *r = &env->regions[i];
        if (span_inside(r->start, r->end, addr, size))
            return write && !r->writable ? 2 : 0;
    }
    return 1;
}

static inline bool interp_access_ok(const struct ebpfvm_env *env, uint64_t addr, uint64_t size,
                                    enum interp_access kind)
{
    if (kind == INTERP_ATOMIC && (addr & (size - 1)) != 0)
        return false;
    return region_lookup(env, addr, size, kind != INTERP_READ) == 0;
}

bool ebpfvm__env_check_access(const struct ebpfvm_env *env, uintptr_t ptr, size_t size, bool write)
{
    if (!env || !env->checked || size == 0)
        return true;
    return region_lookup(env, ptr, size, write) == 0;
}

/* Record a fault ("insn N: ...") in the run's result and return status. */
static EBPFVM_COLD EBPFVM_PRINTF(5, 6) int interp_fault(struct interp_run *run, int status, uint32_t pc,
                                                        uint64_t addr, const char *fmt, ...)
{
    struct ebpfvm_run_result *result = run->result;
    result->fault_pc = (int32_t)pc;
    result->fault_addr = addr;
    int n = snprintf(result->message, sizeof result->message, "insn %u: ", pc);
    if (n < 0 || (size_t)n >= sizeof result->message)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(result->message + n, sizeof result->message - (size_t)n, fmt, ap);
    va_end(ap);
    return status;
}

/* A failed access check: say what, where, through which register, and why. */
static EBPFVM_COLD int interp_mem_fault(struct interp_run *run, uint32_t pc, uint64_t addr, uint64_t size,
                                        enum interp_access kind, unsigned base, int32_t off)
{
    char sign = off < 0 ? '-' : '+';
    long long magnitude = off < 0 ? -(long long)off : (long long)off;
    if (kind == INTERP_ATOMIC && (addr & (size - 1)) != 0)
        return interp_fault(run, EBPFVM_ERR_FAULT, pc, addr,
                            "misaligned atomic access of %u bytes at 0x%llx (r%u %c %lld)", (unsigned)size,
                            (unsigned long long)addr, base, sign, magnitude);
    int why = region_lookup(run->env, addr, size, kind != INTERP_READ);
    const char *what = kind == INTERP_READ ? "read" : kind == INTERP_WRITE ? "write" : "atomic access";
    return interp_fault(run, EBPFVM_ERR_FAULT, pc, addr, "invalid %s of %u bytes at 0x%llx (r%u %c %lld): %s",
                        what, (unsigned)size, (unsigned long long)addr, base, sign, magnitude,
                        why == 2 ? "read-only memory" : "outside the program's memory");
}

static EBPFVM_COLD int interp_helper_fault(struct interp_run *run, uint32_t pc, uint32_t helper_id)
{
    const struct ebpfvm_env *env = run->env;
    if (env->nested_status)
        return env->nested_status; /* a callback's fault, already reported */
    if (env->fault_msg[0])
        return interp_fault(run, EBPFVM_ERR_FAULT, pc, 0, "%s", env->fault_msg);
    return interp_fault(run, EBPFVM_ERR_FAULT, pc, 0, "helper %u (%s) faulted", helper_id,
                        run->prog->vm->helpers[helper_id].name);
}

/* Checked mode: the value of a direct map-value LD_IMM64 (src 2/6) becomes
 * an accessible region (the whole value), so the program may use it. */
static EBPFVM_COLD void interp_add_map_value_region(struct interp_run *run, uint32_t pc)
{
    const struct ebpf_insn *lo = &run->prog->insns[pc], *hi = &run->prog->insns[pc + 1];
    struct ebpfvm_map_info info;
    if (ebpfvm_map_get_info(run->prog->vm, lo->imm, &info) != 0)
        return;
    uint64_t base = run->prog->code[pc].u.uimm - (uint32_t)hi->imm;
    ebpfvm_env_add_region(run->env, (void *)(uintptr_t)base, info.value_size, 1);
}

/* ------------------------------------------------- memory and atomics */

static inline uint64_t interp_load(uint64_t addr, unsigned size)
{
    const void *p = (const void *)(uintptr_t)addr;
    switch (size) {
    case 1: {
        uint8_t v;
        memcpy(&v, p, 1);
        return v;
    }
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}

static inline void interp_store(uint64_t addr, unsigned size, uint64_t value)
{
    void *p = (void *)(uintptr_t)addr;
    switch (size) {
    case 1: {
        uint8_t v = (uint8_t)value;
        memcpy(p, &v, 1);
        break;
    }
    case 2: {
        uint16_t v = (uint16_t)value;
        memcpy(p, &v, 2);
        break;
    }
    case 4: {
        uint32_t v = (uint32_t)value;
        memcpy(p, &v, 4);
        break;
    }
    default:
        memcpy(p, &value, 8);
        break;
    }
}

/*
 * One atomic operation (op = the instruction's imm) of `size` 4 or 8 on the
 * naturally aligned address addr, with operand reg[src]. FETCH forms and
 * XCHG load the old value into src (zero-extended for 32 bits); CMPXCHG
 * compares with r0, stores src on equality, and always loads the old value
 * into r0. All sequentially consistent.
 */
#if defined(__GNUC__) || defined(__clang__)
#define INTERP_ATOMIC_RMW(T, p, op, v, old)                                                              \
    switch ((op) & ~EBPF_ATOMIC_FETCH) {                                                                 \
    case EBPF_ATOMIC_ADD: old = __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); break;                       \
    case EBPF_ATOMIC_OR: old = __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); break;                         \
    case EBPF_ATOMIC_AND: old = __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); break;                       \
    case EBPF_ATOMIC_XOR: old = __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); break;                       \
    case EBPF_ATOMIC_XCHG & ~EBPF_ATOMIC_FETCH: old = __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); break; \
    default: { /* CMPXCHG */                                                                             \
        T expected_ = (T)reg[0];                                                                         \
        __atomic_compare_exchange_n(p, &expected_, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);        \
        old = expected_;                                                                                 \
        break;                                                                                           \
    }                                                                                                    \
    }
#else
/* Without GNU builtins: the same results, but not atomic across threads. */
#define INTERP_ATOMIC_RMW(T, p, op, v, old)                                                              \
    old = *(p);                                                                                          \
    switch ((op) & ~EBPF_ATOMIC_FETCH) {                                                                 \
    case EBPF_ATOMIC_ADD: *(p) = (T)(old + v); break;                                                    \
    case EBPF_ATOMIC_OR: *(p) = old | v; break;                                                          \
    case EBPF_ATOMIC_AND: *(p) = old & v; break;                                                         \
    case EBPF_ATOMIC_XOR: *(p) = old ^ v; break;                                                         \
    case EBPF_ATOMIC_XCHG & ~EBPF_ATOMIC_FETCH: *(p) = v; break;                                         \
    default: if (old == (T)reg[0]) *(p) = v; break;                                                      \
    }
#endif

static inline void interp_atomic(uint64_t *reg, unsigned src, uint64_t addr, unsigned size, int op)
{
    uint64_t old;
    if (size == 4) {
        uint32_t *p = (uint32_t *)(uintptr_t)addr;
        uint32_t v = (uint32_t)reg[src], old32;
        INTERP_ATOMIC_RMW(uint32_t, p, op, v, old32)
        old = old32;
    } else {
        uint64_t *p = (uint64_t *)(uintptr_t)addr;
        uint64_t v = reg[src];
        INTERP_ATOMIC_RMW(uint64_t, p, op, v, old)
    }
    if (op == EBPF_ATOMIC_CMPXCHG)
        reg[0] = old;
    else if (op & EBPF_ATOMIC_FETCH)
        reg[src] = old;
}

/* ------------------------------------------------------- other helpers */

/* ALU semantics, defined once in vm/arith.h; `form` is a constant at every
 * call site, so the switch folds away. */
static inline uint64_t interp_alu(enum ebpf_insn_form form, uint64_t dst, uint64_t src)
{
    bool ok;
    return ebpf_alu_eval(form, dst, src, &ok);
}

/* Legacy LD_ABS/LD_IND: r0 = the big-endian value of `size` bytes at `off`
 * of the run's packet (the program type's: the context block for the memory
 * type). Returns false when out of bounds. */
static bool interp_packet_load(const struct interp_run *run, uint64_t off, unsigned size, uint64_t *r0)
{
    if (run->pkt_len < size || off > run->pkt_len - size)
        return false;
    const uint8_t *p = (const uint8_t *)(uintptr_t)run->pkt + off;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v = (v << 8) | p[i];
    *r0 = v;
    return true;
}

/* ---------------------------------------------------------- the loops */

/* Fast, no instruction count: the hot path for verified programs. */
#define INTERP_NAME interp_run_fast
#define INTERP_CHECKED 0
#define INTERP_BUDGET 0
#include "vm/interp_loop.h"

/* Fast with an instruction budget. */
#define INTERP_NAME interp_run_fast_budget
#define INTERP_CHECKED 0
#define INTERP_BUDGET 1
#include "vm/interp_loop.h"

/* Checked: memory checks and a budget. */
#define INTERP_NAME interp_run_checked
#define INTERP_CHECKED 1
#define INTERP_BUDGET 1
#include "vm/interp_loop.h"

/* --------------------------------------------------------- public API */

static int run_error(struct ebpfvm_run_result *result, int status, const char *message)
{
    snprintf(result->message, sizeof result->message, "%s", message);
    return status;
}

void ebpfvm__env_init(struct ebpfvm_env *env, const struct ebpfvm_prog *prog, void *ctx,
                      const struct ebpfvm_run_opts *opts, bool checked)
{
    env->prog = prog;
    env->user = opts->user;
    env->checked = checked;
    env->nregions = 0;
    env->faulted = false;
    env->pc = 0;
    env->cpu = opts->cpu;
    env->fault_msg[0] = '\0';
    env->stack_lo = 0;
    env->stack_hi = 0;
    env->ctx = ctx;
    env->pkt_region = -1;
    env->tail_target = NULL;
    env->tail_calls = 0;
    env->call_fn = NULL;
    env->call_run = NULL;
    env->depth = 0;
    env->fp = 0;
    env->nested_status = 0;
    env->ktime_ns = opts->ktime_ns;
    env->prandom_state = opts->prandom_seed;
    env->prandom_seeded = opts->prandom_seed != 0;
}

/* Whether the program at the head of a chain runs checked in this mode. */
static bool mode_checked(const struct ebpfvm_prog *prog, enum ebpfvm_exec_mode mode)
{
    switch (mode) {
    case EBPFVM_EXEC_CHECKED: return true;
    case EBPFVM_EXEC_FAST: return false;
    case EBPFVM_EXEC_JIT: return !prog->jit_code && !prog->verified;
    default: return !prog->verified;
    }
}

/* (Re)declare the run's memory when a program of the chain runs checked:
 * the stack is tracked separately; the context through its type. */
static void env_set_checked(struct ebpfvm_env *env, bool checked, void *ctx, size_t ctx_size)
{
    bool was = env->checked;
    env->checked = checked;
    if (checked && (!was || env->nregions == 0)) {
        env->nregions = 0;
        ebpfvm__prog_type_add_regions(env, ctx, ctx_size);
    }
}

static int interp_call_func(struct ebpfvm_env *env, uint64_t pc, const uint64_t args[5], uint64_t *r0);

/* Run one program of the chain in the loop the env's mode selects. */
static int interp_run_one(struct interp_run *run)
{
    run->env->call_fn = interp_call_func;
    run->env->call_run = run;
    if (run->env->checked)
        return interp_run_checked(run);
    if (run->budget != 0)
        return interp_run_fast_budget(run);
    return interp_run_fast(run);
}

/* Whether pc is the entry of a function the program refers to (the
 * target of a pseudo-func ld_imm64): what a callback argument must be. */
static bool is_func_entry(const struct ebpfvm_prog *prog, uint64_t pc)
{
    for (size_t i = 0; i < prog->count; i++) {
        const struct ebpfvm_dinsn *d = &prog->code[i];
        if (d->form == EBPF_OP_LDDW && d->src == EBPF_PSEUDO_FUNC && d->u.uimm == pc)
            return true;
    }
    return false;
}

/*
 * env->call_fn of interpreted runs: the callback of a helper (bpf_loop)
 * runs as a bpf-to-bpf call from the frame that called the helper - the
 * next frame down, its own 512 bytes of stack (zeroed on first use like
 * any frame), its own may_goto budget - in the same loop variant, sharing
 * the run's instruction budget and regions. Its EXIT from that frame
 * comes back here with r0. A fault inside ends the whole run with the
 * fault's own message and instruction.
 */
static int interp_call_func(struct ebpfvm_env *env, uint64_t pc, const uint64_t args[5], uint64_t *r0)
{
    struct interp_run *outer = env->call_run;
    uint32_t at = env->pc, depth = env->depth;
    uint64_t fp = env->fp;
    int status;
    if (pc >= outer->prog->count || (env->checked && !is_func_entry(outer->prog, pc))) {
        status = interp_fault(outer, EBPFVM_ERR_FAULT, at, 0, "callback 0x%llx is not a function of the program",
                              (unsigned long long)pc);
    } else if (depth + 1 >= EBPF_MAX_CALL_DEPTH) {
        status = interp_fault(outer, EBPFVM_ERR_FAULT, at, 0, "call depth exceeds %d frames", EBPF_MAX_CALL_DEPTH);
    } else {
        struct interp_call call = {(uint32_t)pc, depth + 1, {args[0], args[1], args[2], args[3], args[4]},
                                   fp - EBPF_STACK_SIZE};
        struct interp_run nested = *outer;
        nested.call = &call;
        status = interp_run_one(&nested);
        outer->executed = nested.executed;
        outer->deepest = nested.deepest;
        env->call_run = outer;
        if (status == EBPFVM_OK && env->tail_target)
            status = EBPFVM_ERR_FAULT; /* cannot happen: tail_call faults below frame 0 */
        *r0 = outer->result->r0;
    }
    /* Back in the helper's frame. */
    env->pc = at;
    env->depth = depth;
    env->fp = fp;
    env->stack_lo = (uintptr_t)(fp - EBPF_STACK_SIZE);
    if (status != EBPFVM_OK) {
        env->faulted = true;
        env->nested_status = status;
        return -1;
    }
    return 0;
}

/* One program of the chain in native code: r0 or the fault, as the
 * interpreter reports them. */
static int jit_run_one(struct interp_run *run)
{
    struct ebpfvm_env *env = run->env;
    uint64_t r0 = 0;
    env->call_fn = NULL; /* native code has no callbacks (pseudo-func programs stay interpreted) */
    int status = ebpfvm__jit_run(run->prog, env, (void *)(uintptr_t)run->ctx, (size_t)run->ctx_size, &r0);
    if (status == EBPFVM_OK)
        run->result->r0 = r0;
    else if (status == EBPFVM_ERR_FAULT)
        interp_fault(run, status, env->pc, 0, "%s", env->fault_msg);
    return status;
}

/*
 * How many bytes below r10 of frame 0 the program can reach, rounded up to
 * 8: when r10 only ever appears as the base register of loads, stores and
 * atomics at constant offsets inside the frame, the deepest of them; when
 * it appears in any other role (copied, passed to a helper or a callee,
 * compared, an access outside the frame) the whole EBPF_STACK_SIZE. The
 * interpreter zeroes only these bytes of frame 0 when a program starts:
 * no instruction can observe the others (deeper frames are zeroed whole on
 * first use). Most small programs need none, and the 512-byte memset was
 * half the fixed cost of a fast run. Computed once per program (code is
 * immutable after load) and cached in prog->interp_reach_cache.
 */
static unsigned stack_reach_scan(const struct ebpfvm_prog *prog)
{
    unsigned reach = 0;
    for (size_t pc = 0; pc < prog->count; pc++) {
        const struct ebpfvm_dinsn *d = &prog->code[pc];
        if (d->form >= EBPF_OP_COUNT_)
            continue; /* the second word of an LD_IMM64 */
        uint8_t fmt = ebpfvm__forms[d->form].format;
        bool mem = fmt == EBPF_FMT_LDX || fmt == EBPF_FMT_ST || fmt == EBPF_FMT_STX || fmt == EBPF_FMT_ATOMIC;
        unsigned base = fmt == EBPF_FMT_LDX ? d->src : d->dst;
        unsigned other = fmt == EBPF_FMT_LDX ? d->dst : d->src;
        if (!mem) {
            if (d->dst == EBPF_REG_FP || d->src == EBPF_REG_FP)
                return EBPF_STACK_SIZE;
            continue;
        }
        if (other == EBPF_REG_FP && fmt != EBPF_FMT_ST)
            return EBPF_STACK_SIZE; /* r10 stored to memory, or loaded into */
        if (base != EBPF_REG_FP)
            continue;
        int64_t lo = d->off, hi = (int64_t)d->off + (int64_t)ebpfvm__size_bytes(ebpfvm__forms[d->form].opcode);
        if (lo < -EBPF_STACK_SIZE || hi > 0)
            return EBPF_STACK_SIZE;
        unsigned need = (unsigned)((-lo + 7) / 8 * 8);
        if (need > reach)
            reach = need;
    }
    return reach;
}

static unsigned stack_reach(const struct ebpfvm_prog *prog)
{
#if defined(__GNUC__) || defined(__clang__)
    /* A cache the const program carries: every run computes the same
     * value, so racing first runs store the same thing (relaxed atomics,
     * no data race). */
    uint32_t *cache = (uint32_t *)&prog->interp_reach_cache;
    uint32_t v = __atomic_load_n(cache, __ATOMIC_RELAXED);
    if (EBPFVM_LIKELY(v != 0))
        return v - 1;
    unsigned reach = stack_reach_scan(prog);
    __atomic_store_n(cache, reach + 1, __ATOMIC_RELAXED);
    return reach;
#else
    return stack_reach_scan(prog);
#endif
}

/* Between two programs of a chain: the tail call's target becomes the
 * env's program and the stop that bpf_tail_call recorded is cleared. */
static void chain_next(struct ebpfvm_env *env, struct ebpfvm_run_result *result)
{
    env->prog = env->tail_target;
    env->tail_target = NULL;
    env->faulted = false;
    env->fault_msg[0] = '\0';
    result->fault_pc = -1;
    result->fault_addr = 0;
    result->message[0] = '\0';
}

/* A native head program that failed: report it as jit_run_one does. */
static EBPFVM_COLD int native_fault(struct ebpfvm_run_result *result, int status, const struct ebpfvm_env *env)
{
    if (status == EBPFVM_ERR_FAULT) {
        struct interp_run run = {.prog = env->prog, .result = result};
        interp_fault(&run, status, env->pc, 0, "%s", env->fault_msg);
    }
    result->insns_executed = 0;
    return status;
}

/*
 * The tail-call driver, from `first` (the head of the chain, or the target
 * of a tail call the native fast path below already made) to the end of the
 * chain. env is initialised (ebpfvm__env_init); `executed` instructions were
 * already counted against the budget. A successful bpf_tail_call stops the
 * current program (env->faulted with env->tail_target set) and its target
 * starts here with the same ctx, fresh registers and a fresh stack; in JIT
 * mode in native code when the target has it. Kept out of line: its frame
 * holds the interpreter's stacks (EBPF_MAX_CALL_DEPTH * 512 bytes), which a
 * native run of a single program never needs.
 */
static EBPFVM_NOINLINE int run_chain_loop(const struct ebpfvm_prog *first, struct ebpfvm_env *env, void *ctx,
                                           size_t ctx_size, const struct ebpfvm_run_opts *o,
                                           struct ebpfvm_run_result *result, bool head)
{
    /* The stacks of all frames; each program of the chain starts with frame
     * 0 (the top 512 bytes) zeroed, deeper ones are zeroed by the loop on
     * first use. */
    _Alignas(16) uint8_t stack[INTERP_STACK_BYTES];
    bool use_jit = o->mode == EBPFVM_EXEC_JIT;

    struct interp_run run = {
        .prog = first,
        .env = env,
        .result = result,
        .ctx = (uint64_t)(uintptr_t)ctx,
        .ctx_size = ctx_size,
        .budget = o->insn_budget,
        .executed = 0,
    };
    ebpfvm__prog_type_packet(first->prog_type, ctx, ctx_size, &run.pkt, &run.pkt_len);
    /* The chain's budget follows the head program's mode (env->prog is the
     * head when head is true; the native fast path only runs unchecked
     * heads). */
    uint64_t budget = o->insn_budget;
    if (budget == 0 && head && mode_checked(first, o->mode))
        budget = EBPFVM_DEFAULT_BUDGET;

    uint64_t executed = 0;
    int status;
    for (;;) {
        if (EBPFVM_UNLIKELY(run.prog->fp_write_pc >= 0 && !run.prog->verified)) {
            status = interp_fault(&run, EBPFVM_ERR_FAULT, (uint32_t)run.prog->fp_write_pc, 0,
                                  "tail call target writes the frame pointer r10 and is not verified");
            break;
        }
        bool native = use_jit && run.prog->jit_code;
        env_set_checked(env, mode_checked(run.prog, o->mode), ctx, ctx_size);
        /* Native code zeroes the bytes of its frame it can reach itself
         * (jit/x86_64.c prologue); the interpreter zeroes those of frame 0
         * (stack_reach). */
        if (!native) {
            unsigned reach = stack_reach(run.prog);
            memset(stack + INTERP_STACK_BYTES - reach, 0, reach);
        }
        env->stack_hi = (uintptr_t)(stack + INTERP_STACK_BYTES);
        env->stack_lo = env->stack_hi - EBPF_STACK_SIZE;
        run.stack_top = (uint64_t)env->stack_hi;
        run.executed = 0;
        run.deepest = 0;
        if (env->checked && budget == 0)
            budget = EBPFVM_DEFAULT_BUDGET; /* a checked program later in a chain */
        run.budget = budget - (executed < budget ? executed : budget);
        if (budget != 0 && run.budget == 0) {
            status = interp_fault(&run, EBPFVM_ERR_BUDGET, 0, 0, "instruction budget of %llu exhausted",
                                  (unsigned long long)budget);
            break;
        }
        status = native ? jit_run_one(&run) : interp_run_one(&run);
        executed += run.executed;
        if (status == EBPFVM_ERR_BUDGET && run.budget != budget) /* name the chain's budget, not the rest */
            status = interp_fault(&run, EBPFVM_ERR_BUDGET, (uint32_t)result->fault_pc, 0,
                                  "instruction budget of %llu exhausted", (unsigned long long)budget);
        if (status != EBPFVM_ERR_FAULT || !env->tail_target)
            break;
        run.prog = env->tail_target;
        chain_next(env, result);
    }
    result->insns_executed = executed;
    return status;
}

int ebpfvm__run_chain(const struct ebpfvm_prog *prog, void *ctx, size_t ctx_size, const struct ebpfvm_run_opts *o,
                      struct ebpfvm_run_result *result)
{
    const char *ctx_problem = ebpfvm__prog_type_check_ctx(prog, ctx, ctx_size);
    if (EBPFVM_UNLIKELY(ctx_problem != NULL))
        return run_error(result, EBPFVM_ERR_INVAL, ctx_problem);
    if (EBPFVM_UNLIKELY(prog->fp_write_pc >= 0 && !prog->verified)) {
        result->fault_pc = prog->fp_write_pc;
        return run_error(result, EBPFVM_ERR_INVAL,
                         "run: the program writes the frame pointer r10 (it cannot run unless the verifier proves "
                         "that code dead)");
    }

    struct ebpfvm_env env;
    ebpfvm__env_init(&env, prog, ctx, o, false);

    /* The fast path of a JIT run: a head program with native code runs
     * unchecked (mode_checked), needs no interpreter stack (native code
     * zeroes its own frame), no regions and no instruction count (native
     * code counts none; a budget only matters to interpreted programs later
     * in the chain). Only a tail call or a fault leaves this path. */
    if (o->mode == EBPFVM_EXEC_JIT && prog->jit_code) {
        uint64_t r0 = 0;
        int status = ebpfvm__jit_run(prog, &env, ctx, ctx_size, &r0);
        if (EBPFVM_LIKELY(status == EBPFVM_OK)) {
            result->r0 = r0;
            result->insns_executed = 0;
            return EBPFVM_OK;
        }
        if (status == EBPFVM_ERR_FAULT && env.tail_target) {
            const struct ebpfvm_prog *next = env.tail_target;
            chain_next(&env, result);
            return run_chain_loop(next, &env, ctx, ctx_size, o, result, false);
        }
        return native_fault(result, status, &env);
    }
    return run_chain_loop(prog, &env, ctx, ctx_size, o, result, true);
}

int ebpfvm_prog_run(const ebpfvm_prog *prog, void *ctx, size_t ctx_size, const struct ebpfvm_run_opts *opts,
                    struct ebpfvm_run_result *result)
{
    if (!result)
        return EBPFVM_ERR_INVAL;
    result->r0 = 0;
    result->insns_executed = 0;
    result->fault_pc = -1;
    result->fault_addr = 0;
    result->message[0] = '\0';
    if (!prog)
        return run_error(result, EBPFVM_ERR_INVAL, "run: prog is NULL");
    if (opts && opts->sz < sizeof(size_t))
        return run_error(result, EBPFVM_ERR_INVAL, "run: opts->sz is too small");
    if (!ctx && ctx_size != 0)
        return run_error(result, EBPFVM_ERR_INVAL, "run: ctx is NULL but ctx_size is not 0");
    /* The verifier proved r1's accesses for verified_mem_size bytes only. */
    if (EBPFVM_UNLIKELY(prog->verified && ctx_size < prog->verified_mem_size))
        return run_error(result, EBPFVM_ERR_INVAL,
                         "run: ctx_size is smaller than the mem_size the program was verified for");

    /* The options: the caller's struct itself when it is at least ours
     * (the usual case: no copy), else a copy of the prefix it has with the
     * rest zero (older callers; opts NULL: all defaults). */
    struct ebpfvm_run_opts copy;
    const struct ebpfvm_run_opts *o = opts;
    if (EBPFVM_UNLIKELY(!opts || opts->sz < sizeof copy)) {
        copy = (struct ebpfvm_run_opts){0};
        if (opts)
            memcpy(&copy, opts, opts->sz);
        o = &copy;
    }
    if (EBPFVM_UNLIKELY(o->cpu >= prog->vm->ncpus))
        return run_error(result, EBPFVM_ERR_INVAL, "run: cpu index is not below the vm's cpu count");

    switch (o->mode) {
    case EBPFVM_EXEC_AUTO:
    case EBPFVM_EXEC_CHECKED:
    case EBPFVM_EXEC_JIT: /* native code when the program has it (jit/), otherwise as AUTO */
        break;
    case EBPFVM_EXEC_FAST:
        if (!prog->verified && !(o->flags & EBPFVM_RUN_ALLOW_UNVERIFIED_FAST))
            return run_error(result, EBPFVM_ERR_PERM,
                             "run: fast mode needs a verified program (verify it, run it in checked mode, or "
                             "set EBPFVM_RUN_ALLOW_UNVERIFIED_FAST)");
        break;
    default: return run_error(result, EBPFVM_ERR_INVAL, "run: unknown execution mode");
    }
    return ebpfvm__run_chain(prog, ctx, ctx_size, o, result);
}

void *ebpfvm_env_user(const ebpfvm_env *env)
{
    return env ? env->user : NULL;
}

void *ebpfvm_env_ctx(const ebpfvm_env *env)
{
    return env ? env->ctx : NULL;
}

int ebpfvm_env_add_region(ebpfvm_env *env, void *ptr, size_t size, int writable)
{
    if (!env)
        return EBPFVM_ERR_INVAL;
    if (!env->checked || size == 0)
        return EBPFVM_OK;
    uintptr_t start = (uintptr_t)ptr;
    if (size > UINTPTR_MAX - start)
        return EBPFVM_ERR_INVAL;
    /* Re-adding a region (say, in a loop) must not fill the table. */
    for (unsigned i = 0; i < env->nregions; i++) {
        struct ebpfvm_region *r = &env->regions[i];
        if (r->start == start && r->end == start + size) {
            r->writable = r->writable || writable;
            return EBPFVM_OK;
        }
    }
    if (env->nregions >= EBPFVM_MAX_REGIONS)
        return EBPFVM_ERR_RANGE;
    env->regions[env->nregions++] = (struct ebpfvm_region){start, start + size, writable != 0};
    return EBPFVM_OK;
}

void ebpfvm_env_fault(ebpfvm_env *env, const char *message)
{
    if (!env)
        return;
    snprintf(env->fault_msg, sizeof env->fault_msg, "%s", message ? message : "");
    env->faulted = true;
}
