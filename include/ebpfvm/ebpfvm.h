/*
 * ebpfvm/ebpfvm.h - the public API of the ebpfvm library.
 *
 * If it is not declared here or in isa.h, it is not API.
 *
 * Objects:
 *   ebpfvm_vm    an environment: allocator, log sink, helper registry, map
 *                table. Not thread-safe to configure; once configured, any
 *                number of programs loaded into it may run concurrently.
 *   ebpfvm_prog  a loaded, validated program. Immutable after loading, so one
 *                program can run on many threads at once; every run has its
 *                own registers and stack.
 *   ebpfvm_map   a map, owned by the vm that created it (see maps below).
 *
 * Conventions:
 *   - Every function that can fail returns 0 or a negative enum ebpfvm_status
 *     value; results come back through out-parameters.
 *   - Destroy functions accept NULL.
 *   - On failure the vm records a message naming what failed (the instruction
 *     index, the register, the reason); ebpfvm_vm_errmsg() returns it.
 *   - Option structs begin with `size_t sz` (set it to sizeof the struct) so the
 *     ABI can grow; unknown trailing fields of a larger struct must be zero.
 */
#ifndef EBPFVM_EBPFVM_H
#define EBPFVM_EBPFVM_H

#include <stddef.h>
#include <stdint.h>

#include "ebpfvm/isa.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EBPFVM_STATIC_DEFINE)
#define EBPFVM_API
#elif defined(_WIN32)
#define EBPFVM_API __declspec(dllimport)
#else
#define EBPFVM_API __attribute__((visibility("default")))
#endif

#define EBPFVM_VERSION_MAJOR 0
#define EBPFVM_VERSION_MINOR 1
#define EBPFVM_VERSION_PATCH 0

/* Compile-time limits; override with -D when building the library. */
#ifndef EBPFVM_MAX_INSNS
#define EBPFVM_MAX_INSNS 1000000 /* instructions per program, like the kernel */
#endif
#ifndef EBPFVM_MAX_HELPER_ID
#define EBPFVM_MAX_HELPER_ID 1023 /* helper IDs 1..EBPFVM_MAX_HELPER_ID */
#endif
#ifndef EBPFVM_MAX_MAPS
#define EBPFVM_MAX_MAPS 256 /* maps per vm */
#endif

/* ------------------------------------------------------------------ status */

enum ebpfvm_status {
    EBPFVM_OK = 0,
    EBPFVM_ERR_INVAL = -1,    /* a bad argument (NULL handle, bad size, ...) */
    EBPFVM_ERR_NOMEM = -2,    /* the allocator returned NULL */
    EBPFVM_ERR_BADPROG = -3,  /* the program failed a load-time check */
    EBPFVM_ERR_FAULT = -4,    /* a runtime fault (checked mode, helper error) */
    EBPFVM_ERR_BUDGET = -5,   /* the instruction budget ran out */
    EBPFVM_ERR_NOENT = -6,    /* no such helper, map, key or section */
    EBPFVM_ERR_EXIST = -7,    /* already exists (helper ID, map key) */
    EBPFVM_ERR_RANGE = -8,    /* a limit was exceeded (size, count, depth) */
    EBPFVM_ERR_UNSUPP = -9,   /* recognised but not supported */
    EBPFVM_ERR_VERIFY = -10,  /* the verifier rejected the program */
    EBPFVM_ERR_IO = -11,      /* reading or writing a file failed */
    EBPFVM_ERR_FORMAT = -12,  /* malformed input (ELF, pcap, assembly text) */
    EBPFVM_ERR_PERM = -13     /* not allowed in this mode (e.g. unverified fast run) */
};

/* A static string describing a status code; never NULL. */
EBPFVM_API const char *ebpfvm_strerror(int status);

/* ------------------------------------------------------------------ the vm */

typedef struct ebpfvm_vm ebpfvm_vm;
typedef struct ebpfvm_prog ebpfvm_prog;
typedef struct ebpfvm_env ebpfvm_env; /* one run, as seen by a helper */

/*
 * The allocator hook, in Lua's style: allocate when ptr is NULL, free when
 * new_size is 0 (return value ignored), otherwise reallocate. old_size is the
 * size of the block at ptr (0 when ptr is NULL). Returns NULL on failure.
 * Every byte the library allocates goes through it.
 */
typedef void *(*ebpfvm_alloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);

/* The log sink: receives one complete line (no trailing newline). */
typedef void (*ebpfvm_log_fn)(void *ud, const char *line);

struct ebpfvm_vm_opts {
    size_t sz;             /* sizeof(struct ebpfvm_vm_opts) */
    ebpfvm_alloc_fn alloc; /* NULL: the C library's realloc/free */
    void *alloc_ud;
    ebpfvm_log_fn log; /* NULL: no log */
    void *log_ud;
};

/*
 * Create a vm. opts may be NULL (defaults). On success *out owns a vm that the
 * caller frees with ebpfvm_vm_destroy(). Errors: EBPFVM_ERR_INVAL (out NULL,
 * bad opts->sz), EBPFVM_ERR_NOMEM.
 */
EBPFVM_API int ebpfvm_vm_create(const struct ebpfvm_vm_opts *opts, ebpfvm_vm **out);

/* Destroy a vm and every program and map it still owns. NULL is a no-op. */
EBPFVM_API void ebpfvm_vm_destroy(ebpfvm_vm *vm);

/*
 * The message of the last failed call on this vm (load errors, map errors,
 * helper registration), or "" if none. Borrowed: valid until the next call
 * on the vm. NULL vm returns "".
 */
EBPFVM_API const char *ebpfvm_vm_errmsg(const ebpfvm_vm *vm);

/* ----------------------------------------------------------------- helpers */

/*
 * Argument and return kinds of a helper prototype. They follow the kernel's
 * bpf_func_proto vocabulary so that the verifier can check calls against them.
 */
enum ebpfvm_arg_kind {
    EBPFVM_ARG_NONE = 0,        /* argument not used */
    EBPFVM_ARG_ANYTHING,        /* any initialised scalar or pointer */
    EBPFVM_ARG_SCALAR,          /* an initialised scalar */
    EBPFVM_ARG_CONST_MAP_PTR,   /* a map reference (ld_imm64 pseudo map) */
    EBPFVM_ARG_PTR_TO_MAP_KEY,  /* readable memory of the map's key size */
    EBPFVM_ARG_PTR_TO_MAP_VALUE,/* readable memory of the map's value size */
    EBPFVM_ARG_PTR_TO_CTX,      /* the program's context */
    EBPFVM_ARG_PTR_TO_MEM,      /* readable memory, size in the next argument */
    EBPFVM_ARG_PTR_TO_UNINIT_MEM, /* writable memory, size in the next argument */
    EBPFVM_ARG_CONST_SIZE,      /* size of the previous memory argument (> 0) */
    EBPFVM_ARG_CONST_SIZE_OR_ZERO, /* size of the previous memory argument (>= 0) */
    EBPFVM_ARG_PTR_TO_ALLOC_MEM, /* memory returned by ringbuf_reserve */
    EBPFVM_ARG_PTR_TO_FUNC,     /* a subprogram address (ld_imm64 pseudo func) */
    EBPFVM_ARG_PTR_TO_STACK,    /* a pointer into the stack */
    EBPFVM_ARG_PTR_TO_MEM_OR_NULL, /* as EBPFVM_ARG_PTR_TO_MEM, or NULL (the
                                   * scalar 0) when the size is 0 (the
                                   * kernel's ARG_PTR_TO_MEM | PTR_MAYBE_NULL) */
    EBPFVM_ARG_PTR_TO_LONG,     /* 8 bytes of writable memory, aligned to 8, that
                                 * the helper fills (may be uninitialised before
                                 * the call, initialised after): stack, map value,
                                 * packet or mem; no size argument (the kernel's
                                 * former ARG_PTR_TO_LONG, now ARG_PTR_TO_FIXED_SIZE_MEM
                                 * | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED of 8 bytes) */
    EBPFVM_ARG_PTR_TO_STACK_OR_NULL /* a pointer into the stack, or NULL (the
                                     * scalar 0): bpf_loop's callback context */
};

enum ebpfvm_ret_kind {
    EBPFVM_RET_INTEGER = 0,          /* a scalar */
    EBPFVM_RET_VOID,                 /* nothing useful in r0 */
    EBPFVM_RET_MAP_VALUE_OR_NULL,    /* pointer to a map value, or NULL */
    EBPFVM_RET_ALLOC_MEM_OR_NULL     /* ring buffer memory of the constant size in arg 2, or NULL */
};

struct ebpfvm_helper_proto {
    enum ebpfvm_ret_kind ret;
    enum ebpfvm_arg_kind args[5];
    uint32_t flags; /* EBPFVM_HELPER_* */
};

/* The helper may move or resize the packet (packet pointers become invalid). */
#define EBPFVM_HELPER_CHANGES_PACKET 0x1u
/* Its memory arguments may point into the packet (the kernel's pkt_access:
 * the map element helpers and csum_diff). Without it the verifier refuses
 * a packet pointer there, as Linux does: "helper access to the packet is
 * not allowed". */
#define EBPFVM_HELPER_PKT_ACCESS 0x2u

/*
 * A helper receives r1..r5 and the run's environment, and returns r0.
 * To report a fault (the run stops with EBPFVM_ERR_FAULT), call
 * ebpfvm_env_fault() and return anything.
 */
typedef uint64_t (*ebpfvm_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                     ebpfvm_env *env);

/*
 * Register fn as helper `id` (1..EBPFVM_MAX_HELPER_ID) with a name (copied;
 * used by the disassembler and messages) and a prototype (copied; NULL means
 * five ARG_ANYTHING arguments returning an integer). Programs loaded after
 * the call can use it. Errors: EBPFVM_ERR_INVAL (NULL vm/fn/name, id out of
 * range), EBPFVM_ERR_EXIST (id already registered), EBPFVM_ERR_NOMEM.
 */
EBPFVM_API int ebpfvm_vm_register_helper(ebpfvm_vm *vm, uint32_t id, const char *name, ebpfvm_helper_fn fn,
                                         const struct ebpfvm_helper_proto *proto);

/* The user data given to ebpfvm_prog_run() through its options, or NULL. */
EBPFVM_API void *ebpfvm_env_user(const ebpfvm_env *env);

/* The run's context pointer (ctx of ebpfvm_prog_run(): for XDP programs the
 * struct ebpfvm_xdp_buff), or NULL. */
EBPFVM_API void *ebpfvm_env_ctx(const ebpfvm_env *env);

/*
 * Declare that [ptr, ptr + size) may be accessed by the program for the rest
 * of this run (for example memory a helper returns). Only checked mode looks
 * at regions; in fast mode this is a cheap no-op. Returns 0 or
 * EBPFVM_ERR_RANGE when the run's region table is full.
 */
EBPFVM_API int ebpfvm_env_add_region(ebpfvm_env *env, void *ptr, size_t size, int writable);

/*
 * Stop the run with a runtime fault. The message is copied; the run reports
 * it with the index of the call instruction.
 */
EBPFVM_API void ebpfvm_env_fault(ebpfvm_env *env, const char *message);

/* -------------------------------------------------------------- programs */

/* How a program's context is laid out and what r1/r2 hold at entry. */
enum ebpfvm_prog_type {
    /* r1 = pointer to a caller-given memory block, r2 = its length (the
     * conformance suite's convention and the simplest embedding). */
    EBPFVM_PROG_TYPE_MEMORY = 0,
    EBPFVM_PROG_TYPE_XDP = 1, /* r1 = struct xdp_md (see the XDP runtime) */
    /* r1 = struct __sk_buff (Linux's BPF_PROG_TYPE_SOCKET_FILTER): the
     * packet is reached through LD_ABS/LD_IND and bpf_skb_load_bytes. */
    EBPFVM_PROG_TYPE_SOCKET_FILTER = 2
};

struct ebpfvm_load_opts {
    size_t sz;                       /* sizeof(struct ebpfvm_load_opts) */
    enum ebpfvm_prog_type prog_type; /* default EBPFVM_PROG_TYPE_MEMORY */
    const char *name;                /* copied; used in messages; may be NULL */
};

/*
 * Load `count` instruction words (copied) into the vm after the load-time
 * checks that need no verifier: every word a known instruction form with its
 * unused fields zero, registers in range, jump and call targets inside the
 * program and not into the second word of an LD_IMM64, no fall-through off
 * the end, at most EBPFVM_MAX_INSNS words, helper calls to registered IDs,
 * pseudo LD_IMM64 references that resolve. An instruction that writes r10
 * does not fail the load (like the kernel, the verifier refuses it only on
 * a path it explores), but a program that has one runs, and is compiled by
 * the JIT, only once verified (ebpfvm_prog_run: EBPFVM_ERR_INVAL, "run: the
 * program writes the frame pointer r10 ...").
 *
 * On success *out is a program owned by the vm (freed with the vm or with
 * ebpfvm_prog_destroy()). Errors: EBPFVM_ERR_INVAL, EBPFVM_ERR_NOMEM,
 * EBPFVM_ERR_BADPROG (message: "insn N: reason"), EBPFVM_ERR_RANGE (too many
 * instructions), EBPFVM_ERR_UNSUPP (e.g. kfunc calls, BTF-id loads).
 */
EBPFVM_API int ebpfvm_prog_load(ebpfvm_vm *vm, const struct ebpf_insn *insns, size_t count,
                                const struct ebpfvm_load_opts *opts, ebpfvm_prog **out);

/* Free a program. NULL is a no-op. */
EBPFVM_API void ebpfvm_prog_destroy(ebpfvm_prog *prog);

/* The program's instruction words (borrowed, valid while prog lives). */
EBPFVM_API const struct ebpf_insn *ebpfvm_prog_insns(const ebpfvm_prog *prog, size_t *count);

/* Whether a verifier has proven this program safe (enables fast mode). */
EBPFVM_API int ebpfvm_prog_is_verified(const ebpfvm_prog *prog);

enum ebpfvm_exec_mode {
    /* Fast for verified programs, checked otherwise. */
    EBPFVM_EXEC_AUTO = 0,
    /* Every memory access checked against the run's regions; an instruction
     * budget; faults reported with the instruction index, never a crash. */
    EBPFVM_EXEC_CHECKED = 1,
    /* No runtime checks: only for verified programs, unless the caller sets
     * EBPFVM_RUN_ALLOW_UNVERIFIED_FAST and takes responsibility. */
    EBPFVM_EXEC_FAST = 2,
    /* Native code from ebpfvm_prog_jit(). Like FAST, there are no runtime
     * memory checks and no instruction budget (insn_budget is ignored); the
     * program's r0, memory effects and faults (helper faults, callx to an
     * unknown id, call depth) are those of the interpreter. A program without
     * native code (never compiled, or compilation fell back) runs as in
     * EBPFVM_EXEC_AUTO. */
    EBPFVM_EXEC_JIT = 3
};

#define EBPFVM_RUN_ALLOW_UNVERIFIED_FAST 0x1u

struct ebpfvm_run_opts {
    size_t sz;                 /* sizeof(struct ebpfvm_run_opts) */
    enum ebpfvm_exec_mode mode;
    uint64_t insn_budget;      /* max instructions executed; 0: unlimited in fast
                                * mode, EBPFVM_DEFAULT_BUDGET in checked mode */
    void *user;                /* returned by ebpfvm_env_user() to helpers */
    uint32_t flags;            /* EBPFVM_RUN_* */
    uint32_t cpu;              /* worker index: per-CPU map slot and the value of
                                * bpf_get_smp_processor_id (< the vm's ncpus) */
    uint64_t ktime_ns;         /* bpf_ktime_get_ns returns this when non-zero
                                * (e.g. a pcap timestamp); 0: CLOCK_MONOTONIC */
    uint64_t prandom_seed;     /* non-zero: bpf_get_prandom_u32 is a fixed
                                * sequence from this seed for the run; 0: random */
};

#define EBPFVM_DEFAULT_BUDGET 100000000ull

/* The outcome of one run. */
struct ebpfvm_run_result {
    uint64_t r0;             /* the return value (valid when the run returned 0) */
    uint64_t insns_executed; /* counted in checked mode and with a budget */
    int32_t fault_pc;        /* instruction index of a fault, or -1 */
    uint64_t fault_addr;     /* the faulting address, when the fault is a memory access */
    char message[256];       /* the fault's message, "" on success */
};

/*
 * Run prog once. For EBPFVM_PROG_TYPE_MEMORY, r1 = ctx and r2 = ctx_size
 * (ctx may be NULL with size 0); the program may read and write
 * [ctx, ctx + ctx_size). opts may be NULL (AUTO mode, default budget).
 * result is required and always filled.
 *
 * Errors: EBPFVM_ERR_INVAL (NULL prog/result, bad opts->sz),
 * EBPFVM_ERR_PERM (fast mode on an unverified program without the flag),
 * EBPFVM_ERR_FAULT (runtime fault: result->message says
 * "insn N: reason", fault_pc and fault_addr are set), EBPFVM_ERR_BUDGET.
 * Thread-safe: many threads may run the same program at once.
 */
EBPFVM_API int ebpfvm_prog_run(const ebpfvm_prog *prog, void *ctx, size_t ctx_size,
                               const struct ebpfvm_run_opts *opts, struct ebpfvm_run_result *result);

/* ------------------------------------------------------------------- JIT */

/* Compile an unverified program anyway: the caller takes responsibility, as
 * with EBPFVM_RUN_ALLOW_UNVERIFIED_FAST (native code has no memory checks). */
#define EBPFVM_JIT_ALLOW_UNVERIFIED 0x1u
/* Constant blinding: no immediate of the program appears in the native
 * code. Each immediate of an ALU, JMP, ST, LD_IMM64 (and legacy LD_ABS /
 * LD_IND) instruction is emitted as (imm ^ key) and xor'ed with the key at
 * run time, with a fresh random key per instruction (getrandom, else
 * /dev/urandom), so that a program cannot plant chosen bytes in executable
 * memory. Costs one or two instructions per immediate. Off by default. */
#define EBPFVM_JIT_BLIND 0x2u

/*
 * Compile prog to native code (x86-64 hosts), used by EBPFVM_EXEC_JIT runs.
 * The code lives in memory that is mapped writable, filled, then made
 * read+execute and never writable again; it is freed with the program.
 * Compiling a compiled program is a no-op returning 0. Not thread-safe with
 * runs of the same program: compile before sharing it.
 *
 * When the program cannot be compiled it keeps running in the interpreter:
 * the reason is logged ("jit: ...: falling back to the interpreter") and
 * kept as the vm's message. Errors: EBPFVM_ERR_INVAL (NULL prog, unknown
 * flags), EBPFVM_ERR_PERM (not verified and no EBPFVM_JIT_ALLOW_UNVERIFIED),
 * EBPFVM_ERR_IO (EBPFVM_JIT_BLIND and the OS gave no random bytes),
 * EBPFVM_ERR_UNSUPP (host is not x86-64; an instruction the JIT does not
 * compile, e.g. an LD_IMM64 of a function address: "insn N: ..."), EBPFVM_ERR_RANGE
 * (code size did not converge), EBPFVM_ERR_NOMEM (allocation, mmap or
 * mprotect failed).
 */
EBPFVM_API int ebpfvm_prog_jit(ebpfvm_prog *prog, uint32_t flags);

/* Whether prog has native code. NULL returns 0. */
EBPFVM_API int ebpfvm_prog_is_jitted(const ebpfvm_prog *prog);

/* The native code (borrowed, read+execute, valid while prog lives) and its
 * size in bytes, or NULL (size 0) when prog has none. size may be NULL. */
EBPFVM_API const void *ebpfvm_prog_jit_code(const ebpfvm_prog *prog, size_t *size);

/*
 * Where each instruction's native code starts: *offsets (borrowed,
 * read-only, valid while prog lives) gets *count = instruction count + 1
 * byte offsets into ebpfvm_prog_jit_code(): (*offsets)[i] is where the code
 * of instruction i starts (the address its jumps land on), and the last
 * entry is the code size. Offsets never decrease; the code of instruction i
 * is [offsets[i], offsets[i + 1]). Before offsets[0] lie the entry stub and
 * the main function's prologue; the prologue of a bpf-to-bpf function at pc
 * lies at the end of the range of pc - 1. The second word of an LD_IMM64 has
 * an empty range. Errors: EBPFVM_ERR_INVAL (a NULL argument; outputs are
 * cleared), EBPFVM_ERR_NOENT (prog has no native code).
 */
EBPFVM_API int ebpfvm_prog_jit_offsets(const ebpfvm_prog *prog, const uint32_t **offsets, size_t *count);

/* ------------------------------------------------------------------ maps */

/* Map types, with Linux's enum bpf_map_type values. */
enum ebpfvm_map_type {
    EBPFVM_MAP_HASH = 1,
    EBPFVM_MAP_ARRAY = 2,
    EBPFVM_MAP_PROG_ARRAY = 3,
    EBPFVM_MAP_PERF_EVENT_ARRAY = 4,
    EBPFVM_MAP_PERCPU_HASH = 5,
    EBPFVM_MAP_PERCPU_ARRAY = 6,
    EBPFVM_MAP_LRU_HASH = 9,
    EBPFVM_MAP_LRU_PERCPU_HASH = 10,
    EBPFVM_MAP_LPM_TRIE = 11,
    EBPFVM_MAP_ARRAY_OF_MAPS = 12,
    EBPFVM_MAP_HASH_OF_MAPS = 13,
    EBPFVM_MAP_DEVMAP = 14,
    /* Socket maps (sockets by index, by key, and a reuseport group's
     * sockets); ebpfvm's program types never hold a socket, so programs
     * can declare them but no helper takes them. */
    EBPFVM_MAP_SOCKMAP = 15,
    EBPFVM_MAP_XSKMAP = 17,
    EBPFVM_MAP_SOCKHASH = 18,
    EBPFVM_MAP_REUSEPORT_SOCKARRAY = 20,
    /* Socket-local storage; ebpfvm's program types never hold a socket,
     * so programs can declare it but no helper takes it. */
    EBPFVM_MAP_SK_STORAGE = 24,
    EBPFVM_MAP_DEVMAP_HASH = 25,
    EBPFVM_MAP_RINGBUF = 27,
    /* A ring buffer user space produces into and programs drain; ebpfvm
     * has no drain helper yet, so programs can only declare it. */
    EBPFVM_MAP_USER_RINGBUF = 31
};

/* Update flags, as Linux's BPF_ANY / BPF_NOEXIST / BPF_EXIST. */
#define EBPFVM_ANY 0
#define EBPFVM_NOEXIST 1
#define EBPFVM_EXIST 2

struct ebpfvm_map_def {
    size_t sz;                 /* sizeof(struct ebpfvm_map_def) */
    enum ebpfvm_map_type type;
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t map_flags;        /* Linux's BPF_F_* map flags */
    const char *name;          /* copied; may be NULL */
    /* Map-in-map types only (ignored by the others): the fd of a map whose
     * type, key_size, value_size, map_flags (and, for an array without
     * BPF_F_INNER_MAP, max_entries) every inner map must share - the
     * kernel's inner_map_fd. The template is copied at creation (it may be
     * used for anything afterwards). fd 0 is a valid map: "no template" is
     * -1, or a def whose sz ends before this field (older callers), both an
     * error (EBPFVM_ERR_INVAL) for a map-in-map type. */
    int inner_map_fd;
};

/*
 * Create a map in the vm's map table. *fd receives its index (0, 1, ...),
 * which LD_IMM64 with src_reg EBPF_PSEUDO_MAP_FD/IDX refers to. The vm owns
 * the map. Errors: EBPFVM_ERR_INVAL (sizes the type does not allow, with a
 * message naming the field), EBPFVM_ERR_UNSUPP (unknown type),
 * EBPFVM_ERR_RANGE (map table full), EBPFVM_ERR_NOMEM.
 */
EBPFVM_API int ebpfvm_map_create(ebpfvm_vm *vm, const struct ebpfvm_map_def *def, int *fd);

/*
 * Copy the value for key into value (value_size bytes; for per-CPU maps
 * value_size rounded up to 8, times the vm's CPU count, like the kernel's
 * syscall interface). Errors: EBPFVM_ERR_INVAL, EBPFVM_ERR_NOENT.
 */
EBPFVM_API int ebpfvm_map_lookup(ebpfvm_vm *vm, int fd, const void *key, void *value);

/* Insert or replace (flags: EBPFVM_ANY/NOEXIST/EXIST). Errors as the kernel:
 * EBPFVM_ERR_EXIST (NOEXIST and present), EBPFVM_ERR_NOENT (EXIST and absent),
 * EBPFVM_ERR_RANGE (full; out-of-range array index), EBPFVM_ERR_INVAL. */
EBPFVM_API int ebpfvm_map_update(ebpfvm_vm *vm, int fd, const void *key, const void *value, uint64_t flags);

/* Delete key. Errors: EBPFVM_ERR_NOENT, EBPFVM_ERR_INVAL (arrays). */
EBPFVM_API int ebpfvm_map_delete(ebpfvm_vm *vm, int fd, const void *key);

/* Iterate: key NULL (or absent) gives the first key. Errors:
 * EBPFVM_ERR_NOENT after the last key. */
EBPFVM_API int ebpfvm_map_get_next_key(ebpfvm_vm *vm, int fd, const void *key, void *next_key);

/* Facts about a map. name is borrowed from the map. */
struct ebpfvm_map_info {
    enum ebpfvm_map_type type;
    uint32_t key_size, value_size, max_entries, map_flags;
    const char *name;
};
EBPFVM_API int ebpfvm_map_get_info(const ebpfvm_vm *vm, int fd, struct ebpfvm_map_info *info);

/*
 * Freeze a map (the kernel's BPF_MAP_FREEZE): from now on ebpfvm_map_update
 * and ebpfvm_map_delete refuse it (EBPFVM_ERR_PERM). A frozen map that
 * programs may not write (BPF_F_RDONLY_PROG) never changes again, so the
 * verifier reads its contents as known constants, as the kernel does for
 * a frozen .rodata (the ELF loader freezes an object's .rodata maps when
 * its first program is loaded, as libbpf does at load time). Cannot be
 * undone.
 */
EBPFVM_API int ebpfvm_map_freeze(ebpfvm_vm *vm, int fd);

/* Number of map slots per per-CPU map and of workers (default 1). Set before
 * creating per-CPU maps. Errors: EBPFVM_ERR_INVAL (0 or > EBPFVM_MAX_CPUS;
 * a per-CPU map already exists with another count). */
#ifndef EBPFVM_MAX_CPUS
#define EBPFVM_MAX_CPUS 256
#endif
EBPFVM_API int ebpfvm_vm_set_ncpus(ebpfvm_vm *vm, uint32_t ncpus);

/*
 * Map semantics follow Linux's (Documentation/bpf/map_*.rst):
 *   - array, percpu_array: key u32 index; every element exists (zeroed);
 *     update NOEXIST -> EBPFVM_ERR_EXIST, index >= max_entries ->
 *     EBPFVM_ERR_RANGE (lookup: NOENT); delete -> EBPFVM_ERR_INVAL. Direct
 *     value access (LD_IMM64 src 2/6) needs an array with max_entries 1.
 *   - hash, percpu_hash, lru_hash, lru_percpu_hash: insert into a full map
 *     -> EBPFVM_ERR_RANGE (E2BIG), except LRU maps, which evict the least
 *     recently used element (lookups by programs count as use). Preallocated
 *     unless BPF_F_NO_PREALLOC (LRU maps always are).
 *   - lpm_trie: key { u32 prefixlen; u8 data[key_size - 4]; } (data in
 *     network order), BPF_F_NO_PREALLOC required, prefixlen <=
 *     8 * (key_size - 4) (else EBPFVM_ERR_INVAL); lookup finds the longest
 *     stored prefix of the key; full -> EBPFVM_ERR_RANGE (ENOSPC).
 *   - prog_array: slots hold programs, set with ebpfvm_prog_array_set();
 *     ebpfvm_map_update/lookup return EBPFVM_ERR_UNSUPP; delete empties a slot.
 *   - devmap (value: u32 ifindex, optionally + s32 program fd, which must be
 *     <= 0: devmap programs are not supported), devmap_hash, xskmap (value:
 *     u32 socket index): redirect targets, stored and looked up.
 *   - ringbuf: key_size = value_size = 0, max_entries a power of 2 and a
 *     multiple of 4096; programs write records with the ringbuf helpers and
 *     the embedder reads them with ebpfvm_ringbuf_consume(). The element
 *     calls return EBPFVM_ERR_UNSUPP.
 *   - array_of_maps (key u32 index), hash_of_maps: value_size 4, a map fd.
 *     Created with def.inner_map_fd (the template). ebpfvm_map_update
 *     stores the inner map whose fd the value holds: it must match the
 *     template (same type, key_size, value_size, map_flags; for a plain
 *     array also max_entries unless the template has BPF_F_INNER_MAP),
 *     else EBPFVM_ERR_INVAL; array_of_maps takes EBPFVM_ANY only.
 *     ebpfvm_map_lookup gives the inner map's fd (NOENT for an empty
 *     slot); delete empties a slot (array index out of range: RANGE).
 *     Programs may only look up: bpf_map_lookup_elem returns the inner map
 *     itself (usable as a map argument of the map helpers) or NULL.
 *   - map_flags BPF_F_RDONLY / BPF_F_WRONLY make this API's writes / reads
 *     fail with EBPFVM_ERR_PERM; BPF_F_RDONLY_PROG makes programs' writes
 *     fault in checked mode.
 * All map calls are thread-safe with each other and with running programs
 * (ebpfvm_map_create is not: create maps before running programs).
 */

/*
 * Store prog (borrowed: it must outlive its use; NULL empties the slot) at
 * index of the prog_array map fd, for tail calls. Destroying a program
 * removes it from every prog array. Errors: EBPFVM_ERR_INVAL (not a
 * prog_array, program of another vm), EBPFVM_ERR_RANGE (index >=
 * max_entries), EBPFVM_ERR_NOENT (no map fd).
 */
EBPFVM_API int ebpfvm_prog_array_set(ebpfvm_vm *vm, int fd, uint32_t index, const ebpfvm_prog *prog);

/*
 * Read the submitted records of the ringbuf map fd, oldest first: fn gets
 * each sample (borrowed, valid during the call) and returns 0 to go on or
 * non-zero to stop after this record. Discarded records are skipped; the
 * first record still reserved stops the read. *count (may be NULL) receives
 * the number of records delivered. One consumer at a time per ring (calls
 * are serialised); producers may run concurrently. Errors: EBPFVM_ERR_NOENT
 * (no map fd), EBPFVM_ERR_INVAL (not a ringbuf, fn NULL).
 */
typedef int (*ebpfvm_ringbuf_fn)(void *ud, const void *data, size_t size);
EBPFVM_API int ebpfvm_ringbuf_consume(ebpfvm_vm *vm, int fd, ebpfvm_ringbuf_fn fn, void *ud, size_t *count);

/* Bytes reserved but not yet consumed in the ringbuf map fd (headers and
 * padding included). Errors: EBPFVM_ERR_INVAL (NULL vm or bytes, the map
 * is not a ringbuf - as ebpfvm_ringbuf_consume), EBPFVM_ERR_NOENT (no map
 * fd). */
EBPFVM_API int ebpfvm_ringbuf_avail(const ebpfvm_vm *vm, int fd, uint64_t *bytes);

/*
 * Register the map helpers under their Linux IDs and names, with the
 * kernel's prototypes: map_lookup_elem (1), map_update_elem (2),
 * map_delete_elem (3), ringbuf_output (130), ringbuf_reserve (131),
 * ringbuf_submit (132), ringbuf_discard (133). Failures a program can
 * handle return negative Linux errno values (-EEXIST, -ENOENT, -E2BIG,
 * -EAGAIN, ...). All or nothing, like ebpfvm_vm_register_std_helpers
 * (ebpfvm/xdp.h), which includes these. Errors: those of
 * ebpfvm_vm_register_helper (e.g. EBPFVM_ERR_EXIST when an ID is already
 * taken).
 */
EBPFVM_API int ebpfvm_vm_register_map_helpers(ebpfvm_vm *vm);

/* --------------------------------------------------------- disassembler */

enum ebpfvm_disasm_syntax {
    EBPFVM_SYNTAX_LLVM = 0, /* llvm-objdump / verifier log: r0 = *(u32 *)(r1 + 4) */
    EBPFVM_SYNTAX_ASM = 1   /* the conformance suite's mnemonics: ldxw %r0, [%r1+4] */
};

/*
 * Write the text of instruction `pc` of insns[0..count) into buf (always NUL
 * terminated when size > 0), without a trailing newline. An LD_IMM64 reads
 * two words. Returns the number of words the instruction uses (1 or 2), or
 * a negative status: EBPFVM_ERR_INVAL (bad arguments), EBPFVM_ERR_BADPROG
 * (unknown instruction: buf holds "invalid opcode 0x..").
 * helper_name may be NULL; when it returns a name for an ID, LLVM syntax
 * prints "call name" instead of "call N".
 */
typedef const char *(*ebpfvm_helper_name_fn)(void *ud, int32_t helper_id);
EBPFVM_API int ebpfvm_disasm_insn(const struct ebpf_insn *insns, size_t count, size_t pc,
                                  enum ebpfvm_disasm_syntax syntax, ebpfvm_helper_name_fn helper_name,
                                  void *helper_name_ud, char *buf, size_t size);

/* ------------------------------------------------------------ assembler */

/*
 * Assemble the conformance suite's mnemonic syntax (one instruction per
 * line, `#` comments, `label:` lines, jump targets as labels or +N/-N).
 * On success *out is an array of *count words allocated through vm's
 * allocator; free it with ebpfvm_free(vm, *out). Errors: EBPFVM_ERR_INVAL,
 * EBPFVM_ERR_NOMEM, EBPFVM_ERR_FORMAT (message: "line N: reason").
 */
EBPFVM_API int ebpfvm_assemble(ebpfvm_vm *vm, const char *text, struct ebpf_insn **out, size_t *count);

/* Free memory the library returned to the caller. NULL is a no-op. */
EBPFVM_API void ebpfvm_free(ebpfvm_vm *vm, void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* EBPFVM_EBPFVM_H */
