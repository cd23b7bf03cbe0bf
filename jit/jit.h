/*
 * jit/jit.h - the interface between the backend-neutral JIT driver
 * (jit/jit.c) and the code generators (jit/x86_64.c). Internal; never
 * installed.
 *
 * Owns: the compilation context struct ebpfvm_jit (the growing code buffer,
 * the sticky error, label offsets of this pass and of the previous one, the
 * jump/call fixups, the constant-blinding keys), the per-run block native code reaches through a
 * register (struct ebpfvm_jit_run), and the fault kinds native code reports.
 *
 * Invariants:
 *   - After the first failure (ebpfvm__jit_fail) j->err is non-zero and every
 *     further emit is a no-op; the driver checks the error once per pass.
 *   - Displacements of jumps and calls to labels are never written by a
 *     backend: it records them with ebpfvm__jit_fixup() and the driver
 *     patches all of them in one place, once the layout has converged.
 *   - Labels: [0, count) start of instruction pc; [count, 2 count) the
 *     function entry (prologue) of a bpf-to-bpf call target pc; then the
 *     EBPFVM_JIT_LABEL_* specials. Unbound labels hold EBPFVM_JIT_UNBOUND.
 */
#ifndef EBPFVM_JIT_JIT_H
#define EBPFVM_JIT_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/internal.h"

/* The block a run's native code reaches through a callee-saved register. */
struct ebpfvm_jit_run {
    struct ebpfvm_env *env; /* offset 0: passed to helpers as their 6th argument */
    uint64_t entry_sp;      /* native stack pointer after the entry prologue; the fault exit restores it */
    uint32_t depth;         /* bpf-to-bpf frames active besides the main program */
    uint32_t fault_kind;    /* enum ebpfvm_jit_fault */
    uint32_t fault_pc;      /* instruction index of the fault */
    uint32_t zeroed;        /* frames whose stack this run has zeroed (first use, like the interpreter) */
    uint64_t fault_value;   /* the helper id of a failed callx or of a helper that faulted */
    uint64_t pkt;           /* the legacy packet loads (LD_ABS/LD_IND) read this block */
    uint64_t pkt_len;       /* of this many bytes (vm/progtype.c: ebpfvm__prog_type_packet) */
};

/* Faults detected by native code itself (helper faults set env->faulted). */
enum ebpfvm_jit_fault {
    EBPFVM_JIT_FAULT_NONE = 0,
    EBPFVM_JIT_FAULT_CALL_DEPTH, /* a bpf-to-bpf call beyond EBPF_MAX_CALL_DEPTH frames */
    EBPFVM_JIT_FAULT_CALLX,      /* callx to an id with no registered helper */
    EBPFVM_JIT_FAULT_HELPER      /* a helper called ebpfvm_env_fault() (env->faulted is set) */
};

/* Special labels, numbered after the 2 * count instruction labels. */
enum {
    EBPFVM_JIT_LABEL_FAULT_EXIT = 0, /* unwind to the entry frame and return */
    EBPFVM_JIT_NSPECIAL
};

#define EBPFVM_JIT_UNBOUND UINT32_MAX

struct ebpfvm_jit_fixup {
    uint32_t at;    /* offset of the displacement field in the code */
    uint32_t label; /* what it points at */
    uint8_t width;  /* 1 or 4 bytes, signed, relative to the end of the field */
};

struct ebpfvm_jit {
    struct ebpfvm_vm *vm;
    const struct ebpfvm_prog *prog;
    uint8_t *buf; /* this pass's code; grows through the vm's allocator */
    size_t len;
    size_t cap;
    uint32_t *off;      /* label offsets of this pass */
    uint32_t *prev_off; /* label offsets of the previous pass; NULL on the first */
    size_t nlabels;
    bool *is_entry; /* count entries: pc is pc 0 or a bpf-to-bpf call target */
    struct ebpfvm_jit_fixup *fixups;
    size_t nfixups;
    size_t capfixups;
    uint32_t pc; /* the instruction being emitted */
    bool may_goto;  /* the program has may_goto: frames carry its budget slot */
    bool blind;     /* EBPFVM_JIT_BLIND: immediates emitted as (imm ^ key) ^ key */
    uint32_t *keys; /* blinding: count random non-zero keys, drawn once per
                     * compilation (every pass emits the same code sizes) */
    int err;     /* sticky: 0 or the status of the first failure */
    char errmsg[200];
};

/* Label numbers. */
static inline uint32_t ebpfvm__jit_label_insn(const struct ebpfvm_jit *j, uint32_t pc)
{
    (void)j;
    return pc;
}
static inline uint32_t ebpfvm__jit_label_entry(const struct ebpfvm_jit *j, uint32_t pc)
{
    return (uint32_t)j->prog->count + pc;
}
static inline uint32_t ebpfvm__jit_label_special(const struct ebpfvm_jit *j, unsigned which)
{
    return (uint32_t)(2 * j->prog->count) + which;
}

/* Record the first failure (formatted message); later calls are ignored. */
EBPFVM_INTERNAL void ebpfvm__jit_fail(struct ebpfvm_jit *j, int status, const char *fmt, ...) EBPFVM_PRINTF(3, 4);

/* Append n bytes of code (no-op after a failure). */
EBPFVM_INTERNAL void ebpfvm__jit_emit(struct ebpfvm_jit *j, const void *bytes, size_t n);

/* Bind `label` to the current code offset. */
EBPFVM_INTERNAL void ebpfvm__jit_bind(struct ebpfvm_jit *j, uint32_t label);

/*
 * Whether a jump to `label` whose displacement field ends `field_end` bytes
 * from now reaches it with a signed 8-bit displacement. Exact for labels
 * already bound in this pass; estimated from the previous pass otherwise
 * (false on the first pass). The estimate only shrinks from pass to pass, so
 * the layout converges; the fixup patch re-checks the real distance.
 */
EBPFVM_INTERNAL bool ebpfvm__jit_reaches_short(const struct ebpfvm_jit *j, uint32_t label, size_t field_end);

/* Emit a `width`-byte displacement field to `label` (patched later). */
EBPFVM_INTERNAL void ebpfvm__jit_fixup(struct ebpfvm_jit *j, uint32_t label, uint8_t width);

/*
 * Jumps inside one instruction's expansion: emit a rel8 placeholder and
 * return its position; bind it to the current offset later (forward only).
 */
EBPFVM_INTERNAL size_t ebpfvm__jit_local_rel8(struct ebpfvm_jit *j);
EBPFVM_INTERNAL void ebpfvm__jit_local_bind(struct ebpfvm_jit *j, size_t at);

/*
 * Fill buf with len random bytes from the OS (getrandom, else
 * /dev/urandom); 0 or -1. Tests may replace it to make it fail.
 */
EBPFVM_INTERNAL extern int (*ebpfvm__jit_random)(void *buf, size_t len);

/* The x86-64 backend: emit the whole program once (one pass). */
EBPFVM_INTERNAL void ebpfvm__jit_x86_64_emit(struct ebpfvm_jit *j);

#endif /* EBPFVM_JIT_JIT_H */
