/*
 * vm/internal.h - the library's internal objects, shared by vm/, maps/,
 * verifier/ and jit/. Never installed.
 *
 * Owns: struct ebpfvm_vm (allocator, log, helper registry, map table),
 * struct ebpfvm_prog (the program object: original words + decoded form),
 * the decoded instruction format the interpreter runs, the run environment
 * helpers see, and the internal naming rule: internal functions that cross
 * files are `ebpfvm__module_verb` and hidden (the library is built with
 * -fvisibility=hidden; only EBPFVM_API symbols are exported).
 *
 * Invariants of a loaded program (established by ebpfvm_prog_load):
 *   - every decoded instruction's `form` is a valid enum ebpf_insn_form;
 *   - jump targets (`target`) and local call targets are valid instruction
 *     indices that are not the second word of an LD_IMM64;
 *   - the second word of an LD_IMM64 is decoded as form EBPF_OP_COUNT_ (never
 *     executed);
 *   - every path ends in EXIT or a jump (no fall-through off the end).
 */
#ifndef EBPFVM_VM_INTERNAL_H
#define EBPFVM_VM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpfvm/ebpfvm.h"

#define EBPFVM_INTERNAL __attribute__((visibility("hidden")))

#if defined(__GNUC__) || defined(__clang__)
#define EBPFVM_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define EBPFVM_LIKELY(x) __builtin_expect(!!(x), 1)
#define EBPFVM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define EBPFVM_PRINTF(fmt, args)
#define EBPFVM_LIKELY(x) (x)
#define EBPFVM_UNLIKELY(x) (x)
#endif

struct ebpfvm_map; /* maps/map.h */

/* ------------------------------------------------------------- helpers */

struct ebpfvm_helper {
    ebpfvm_helper_fn fn; /* NULL: not registered */
    char *name;
    struct ebpfvm_helper_proto proto;
};

/* One entry of a registration table (vm/helpers_std.c, vm/helpers_xdp.c,
 * maps/helpers.c); ebpfvm_vm_register_std_helpers walks them all. */
struct ebpfvm__helper_def {
    uint32_t id;
    const char *name;
    ebpfvm_helper_fn fn;
    struct ebpfvm_helper_proto proto;
};
/* vm/helpers_std.c: register every entry of a table; all or nothing (on
 * failure the entries this call registered are removed again). */
EBPFVM_INTERNAL int ebpfvm__register_helper_table(struct ebpfvm_vm *vm, const struct ebpfvm__helper_def *defs,
                                                  size_t n);
EBPFVM_INTERNAL extern const struct ebpfvm__helper_def ebpfvm__map_helpers[];
EBPFVM_INTERNAL extern const size_t ebpfvm__map_nhelpers;
EBPFVM_INTERNAL extern const struct ebpfvm__helper_def ebpfvm__xdp_helpers[];
EBPFVM_INTERNAL extern const size_t ebpfvm__xdp_nhelpers;
EBPFVM_INTERNAL extern const struct ebpfvm__helper_def ebpfvm__skb_helpers[];
EBPFVM_INTERNAL extern const size_t ebpfvm__skb_nhelpers;

/* ------------------------------------------------------------------ vm */

struct ebpfvm_prog;

struct ebpfvm_vm {
    ebpfvm_alloc_fn alloc;
    void *alloc_ud;
    ebpfvm_log_fn log;
    void *log_ud;
    char errmsg[512];
    struct ebpfvm_helper *helpers; /* EBPFVM_MAX_HELPER_ID + 1 entries, lazily allocated */
    struct ebpfvm_map *maps[EBPFVM_MAX_MAPS];
    uint32_t nmaps;
    uint32_t ncpus;             /* per-CPU map slots / workers, >= 1 */
    struct ebpfvm_prog *progs;  /* every live program, to free with the vm */
    /* vm/helpers_std.c: the options of ebpfvm_vm_register_std_helpers
     * (callbacks, the route table), or NULL. */
    struct ebpfvm__std_state *std_state;
};

/* ---------------------------------------------------------- the program */

/*
 * One decoded instruction: what the interpreter executes. Decoding happens
 * once at load: the form is looked up in EBPF_INSN_FORMS, jump offsets become
 * absolute targets, LD_IMM64 pseudo references become their 64-bit values.
 */
struct ebpfvm_dinsn {
    uint8_t form; /* enum ebpf_insn_form; EBPF_OP_COUNT_ for an LD_IMM64 tail */
    uint8_t dst;
    uint8_t src;
    uint8_t size; /* memory access width in bytes for loads/stores/atomics */
    int32_t off;  /* memory offset (loads/stores/atomics); for JMP_IMM and
                   * JMP32_IMM forms the comparison immediate (u.target holds
                   * the target) */
    union {
        int64_t imm;     /* immediate, sign-extended; LD_IMM64: the full value */
        uint64_t uimm;
        uint32_t target; /* jumps and local calls: absolute instruction index */
    } u;
};

struct ebpfvm_prog {
    struct ebpfvm_vm *vm;
    struct ebpf_insn *insns;    /* the original words, as loaded */
    struct ebpfvm_dinsn *code;  /* decoded, same indices as insns */
    size_t count;
    enum ebpfvm_prog_type prog_type;
    bool verified;
    uint32_t *nonint_funcs;     /* loader/: start pcs of subprograms whose BTF prototype
                                 * returns no integer (LD_ABS/LD_IND refused there) */
    uint32_t n_nonint_funcs;
    int32_t fp_write_pc;        /* vm/validate.c: the first instruction that writes r10, or -1.
                                 * Only the verifier may accept such a program (the write is
                                 * then dead code): unverified runs and the JIT refuse it */
    uint32_t verified_mem_size; /* verifier/: MEMORY programs, the mem_size they were
                                 * verified for (ebpfvm_prog_run refuses a smaller ctx) */
    char *name;
    void *jit_code;  /* jit/: native code, read+execute only, or NULL */
    size_t jit_size; /* jit/: bytes of code (the mapping is rounded up to pages) */
    uint32_t main_end; /* end of the main function: the first bpf-to-bpf
                        * call or function-reference target, else count */
    /* vm/interp.c's cache (0: not computed yet): 1 + how many bytes below
     * r10 of frame 0 the program can reach, the bytes the interpreter
     * zeroes at the start of a run. Written with relaxed atomics by the
     * first run (always the same value), zero from ebpfvm__calloc. */
    uint32_t interp_reach_cache;
    struct ebpfvm_prog *next; /* in vm->progs */
    struct ebpfvm_prog *prev;
};

/* loader/: record that the subprogram starting at pc returns no integer
 * (BTF); the verifier then refuses LD_ABS/LD_IND in it, as Linux does. */
EBPFVM_INTERNAL int ebpfvm__prog_mark_nonint_func(struct ebpfvm_prog *prog, uint32_t pc);

/* ---------------------------------------------------------- the run env */

#define EBPFVM_MAX_REGIONS 64

struct ebpfvm_region {
    uintptr_t start;
    uintptr_t end; /* exclusive */
    bool writable;
};

/*
 * The state of one run, as helpers and the checked interpreter see it. Lives
 * on the caller's stack for the duration of ebpfvm_prog_run().
 */
struct ebpfvm_env {
    const struct ebpfvm_prog *prog;
    void *user;
    bool checked;
    unsigned nregions;
    bool faulted;
    uint32_t pc;  /* index of the instruction being executed (calls) */
    uint32_t cpu; /* worker index (per-CPU maps, get_smp_processor_id) */
    /* Checked mode: the stack memory of the active frames, [stack_lo,
     * stack_hi), kept current across bpf-to-bpf calls (vm/interp.c). */
    uintptr_t stack_lo;
    uintptr_t stack_hi;
    /* The ctx of ebpfvm_prog_run() (ebpfvm_env_ctx), the same for every
     * program of a tail-call chain. */
    void *ctx;
    /* Checked mode, XDP: the index in regions[] of the packet region
     * [data_meta, data_end), which the adjust helpers keep current. */
    int pkt_region;
    /* Tail calls (vm/helpers_std.c records, the run driver starts it):
     * tail_target is the program to run next when the run stopped with
     * `faulted` set by bpf_tail_call; tail_calls counts the calls made. */
    const struct ebpfvm_prog *tail_target;
    uint32_t tail_calls;
    /* Callbacks (bpf_loop): the interpreter sets call_fn, which runs the
     * program's function at `pc` in a new frame below the one that called
     * the helper (depth and fp: that frame, recorded at every helper
     * call), r1-r5 = args; 0 and *r0, or -1 with faulted set (the nested
     * run's status in nested_status, its message already in the result).
     * NULL in native code. */
    int (*call_fn)(struct ebpfvm_env *env, uint64_t pc, const uint64_t args[5], uint64_t *r0);
    void *call_run;
    uint32_t depth;
    uint64_t fp;
    int nested_status;
    /* bpf_ktime_get_ns: this value when non-zero (run opts). */
    uint64_t ktime_ns;
    /* bpf_get_prandom_u32: seeded state when prandom_seeded. */
    uint64_t prandom_state;
    bool prandom_seeded;
    /* Written only on a fault (fault_msg[0] = 0 at the start of a run) or
     * in checked mode (regions[0, nregions)): last, so that starting a run
     * touches the scalar fields above, a cache line or two, and none of
     * these (ebpfvm__env_init does not initialise them). */
    char fault_msg[200];
    struct ebpfvm_region regions[EBPFVM_MAX_REGIONS];
};

/* The kernel's MAX_TAIL_CALL_CNT. */
#define EBPFVM_MAX_TAIL_CALLS 33

/* vm/interp.c: fill env for one run of prog (regions empty, stack unset).
 * Shared by the interpreter and jit/jit.c's run. */
EBPFVM_INTERNAL void ebpfvm__env_init(struct ebpfvm_env *env, const struct ebpfvm_prog *prog, void *ctx,
                                      const struct ebpfvm_run_opts *opts, bool checked);

/* vm/interp.c: a whole run after ebpfvm_prog_run's argument checks (o
 * filled in and validated): the program type's ctx check, the env, and the
 * tail-call chain, each program in native code when o->mode is
 * EBPFVM_EXEC_JIT and it has some, else in the interpreter (checked or fast
 * as the mode says). Fills *result. */
EBPFVM_INTERNAL int ebpfvm__run_chain(const struct ebpfvm_prog *prog, void *ctx, size_t ctx_size,
                                      const struct ebpfvm_run_opts *o, struct ebpfvm_run_result *result);

/* vm/progtype.c: check ctx/ctx_size against what prog's type requires
 * (XDP: a struct ebpfvm_xdp_buff). Returns NULL when fine, else a static
 * message for the run's result. */
EBPFVM_INTERNAL const char *ebpfvm__prog_type_check_ctx(const struct ebpfvm_prog *prog, const void *ctx,
                                                        size_t ctx_size);
/* vm/progtype.c: checked mode, declare the memory the ctx gives access to
 * (the type's add_regions, or the whole block for MEMORY). */
EBPFVM_INTERNAL void ebpfvm__prog_type_add_regions(struct ebpfvm_env *env, void *ctx, size_t ctx_size);
/* vm/helpers_xdp.c: checked mode, XDP: make the packet region match the
 * buff after an adjust helper moved data/data_meta/data_end. */
EBPFVM_INTERNAL void ebpfvm__xdp_update_packet_region(struct ebpfvm_env *env);

/* ------------------------------------------------- allocation and errors */

/* Allocate / free through the vm's hook. Blocks carry their size, so free
 * needs none. ebpfvm__calloc zero-fills. All return NULL on failure. */
EBPFVM_INTERNAL void *ebpfvm__alloc(struct ebpfvm_vm *vm, size_t size);
EBPFVM_INTERNAL void *ebpfvm__calloc(struct ebpfvm_vm *vm, size_t n, size_t size);
EBPFVM_INTERNAL void ebpfvm__free(struct ebpfvm_vm *vm, void *ptr);
EBPFVM_INTERNAL char *ebpfvm__strdup(struct ebpfvm_vm *vm, const char *s);

/* Record a formatted message on the vm and return `status`. */
EBPFVM_INTERNAL int ebpfvm__error(struct ebpfvm_vm *vm, int status, const char *fmt, ...) EBPFVM_PRINTF(3, 4);
/* Clear the vm's message (calls that succeed leave it as it was). */
EBPFVM_INTERNAL void ebpfvm__clear_error(struct ebpfvm_vm *vm);
/* Send one formatted line to the vm's log sink, if any. */
EBPFVM_INTERNAL void ebpfvm__log(struct ebpfvm_vm *vm, const char *fmt, ...) EBPFVM_PRINTF(2, 3);

/* ------------------------------------------------- opcode table queries */

struct ebpfvm_form_info {
    uint8_t opcode;
    uint8_t disc;     /* enum ebpf_insn_disc */
    int32_t disc_value;
    const char *mnemonic;
    uint8_t format;   /* enum ebpf_insn_format */
    uint8_t group;    /* enum ebpf_insn_group */
    uint8_t version;
};

/* The table, indexed by enum ebpf_insn_form (EBPF_OP_COUNT_ entries). */
EBPFVM_INTERNAL extern const struct ebpfvm_form_info ebpfvm__forms[EBPF_OP_COUNT_];

/* vm/kfuncs.c: the built-in kfuncs by id (called like helpers) and the
 * id of a name (0: none). */
struct ebpfvm__kfunc {
    const char *name;
    ebpfvm_helper_fn fn;
};
EBPFVM_INTERNAL extern const struct ebpfvm__kfunc ebpfvm__kfuncs[EBPFVM_KFUNC_COUNT_];
EBPFVM_INTERNAL int ebpfvm__kfunc_by_name(const char *name);

/* The form of an instruction word, or -1 if it is not a valid form. */
EBPFVM_INTERNAL int ebpfvm__form_of(const struct ebpf_insn *insn);

/* Access width in bytes of an EBPF_SIZE_* value. */
static inline unsigned ebpfvm__size_bytes(uint8_t opcode)
{
    switch (EBPF_SIZE(opcode)) {
    case EBPF_SIZE_B: return 1;
    case EBPF_SIZE_H: return 2;
    case EBPF_SIZE_W: return 4;
    default: return 8;
    }
}

/* ------------------------------------------------------------ internals */

/* vm/interp.c: in checked mode, whether [ptr, ptr + size) lies inside one of
 * the run's regions (writable ones when `write`); always true in fast mode.
 * Helpers call it before touching memory the program handed them. */
EBPFVM_INTERNAL bool ebpfvm__env_check_access(const struct ebpfvm_env *env, uintptr_t ptr, size_t size, bool write);

/* vm/validate.c: load-time checks and decoding (called by ebpfvm_prog_load). */
EBPFVM_INTERNAL int ebpfvm__validate_and_decode(struct ebpfvm_vm *vm, struct ebpfvm_prog *prog);

/* jit/jit.c: run the native code of prog (prog->jit_code non-NULL) with
 * r1 = ctx and r2 = ctx_size, the run's env set up by ebpfvm_prog_run. On
 * success *r0 is the result. On a fault it sets env->faulted, env->pc and
 * env->fault_msg (the reason, without "insn N:") and returns
 * EBPFVM_ERR_FAULT. EBPFVM_ERR_INVAL when prog has no native code. */
EBPFVM_INTERNAL int ebpfvm__jit_run(const struct ebpfvm_prog *prog, struct ebpfvm_env *env, void *ctx,
                                    size_t ctx_size, uint64_t *r0);
/* jit/jit.c: a whole EBPFVM_EXEC_JIT run for ebpfvm_prog_run (opts already
 * validated and filled in): sets up the env as the interpreter does and
 * fills *result exactly as an interpreter run would (r0, fault_pc, message
 * "insn N: reason"). Precondition: prog->jit_code is not NULL. */
EBPFVM_INTERNAL int ebpfvm__jit_prog_run(const struct ebpfvm_prog *prog, void *ctx, size_t ctx_size,
                                         const struct ebpfvm_run_opts *opts, struct ebpfvm_run_result *result);
/* jit/jit.c: unmap prog's native code (no-op without); program.c calls it. */
EBPFVM_INTERNAL void ebpfvm__jit_free(struct ebpfvm_prog *prog);

/* maps/: free a map; resolve a map-value reference (src 2/6 LD_IMM64) to
 * the address of byte `off` of its value, for maps that allow direct value
 * access (array maps with one or more entries). */
EBPFVM_INTERNAL void ebpfvm__map_destroy(struct ebpfvm_vm *vm, struct ebpfvm_map *map);
EBPFVM_INTERNAL int ebpfvm__map_direct_value(struct ebpfvm_map *map, uint32_t off, uint64_t *addr);
/* maps/array.c: drop every reference to prog from vm's prog arrays
 * (ebpfvm_prog_destroy calls it). */
EBPFVM_INTERNAL void ebpfvm__maps_forget_prog(struct ebpfvm_vm *vm, const struct ebpfvm_prog *prog);

#endif /* EBPFVM_VM_INTERNAL_H */
