/*
 * vm/progtype.h - program types as data: what the context looks like to the
 * program, how each field access is rewritten for the runtime, which helpers
 * a type may call, what it may return, and which memory a checked run of it
 * may touch. Shared by vm/ (load-time context rewrite, checked mode),
 * verifier/ (context checks, return range) and jit/ (nothing type-specific
 * after the rewrite). Never installed.
 *
 * Invariant: after ebpfvm_prog_load() of a type with context fields, the
 * program's decoded code (prog->code) reads the runtime context only
 * (struct ebpfvm_xdp_buff for XDP); prog->insns keeps the original words.
 */
#ifndef EBPFVM_VM_PROGTYPE_H
#define EBPFVM_VM_PROGTYPE_H

#include "vm/internal.h"

/* What a context field holds (the verifier's register type after a load). */
enum ebpfvm_ctx_field_kind {
    EBPFVM_CTX_SCALAR = 0, /* an integer (ifindex, queue) */
    EBPFVM_CTX_PKT,        /* packet start (PTR_TO_PACKET) */
    EBPFVM_CTX_PKT_END,    /* packet end (PTR_TO_PACKET_END) */
    EBPFVM_CTX_PKT_META    /* metadata start (PTR_TO_PACKET_META) */
};

/* Which access sizes a context field takes. */
enum ebpfvm_ctx_access {
    EBPFVM_CTX_ACCESS_EXACT = 0, /* the field's full width only */
    EBPFVM_CTX_ACCESS_NARROW,    /* loads of 1, 2 or 4 bytes at natural alignment inside the field
                                  * (the kernel's narrow loads); stores of the full width */
    EBPFVM_CTX_ACCESS_ANY        /* loads and stores of 1, 2, 4 or 8 bytes at natural alignment
                                  * inside the field (__sk_buff's cb[]) */
};

struct ebpfvm_ctx_field {
    const char *name;     /* "data", "ingress_ifindex", ... */
    uint16_t off;         /* offset in the UAPI context (struct xdp_md) */
    uint8_t size;         /* the field's width, bytes */
    uint8_t kind;         /* enum ebpfvm_ctx_field_kind */
    bool writable;        /* stores allowed */
    bool devmap_only;     /* only for programs attached to a devmap (egress_ifindex) */
    uint16_t rt_off;      /* offset of the runtime field the access becomes */
    uint8_t rt_size;      /* width of the rewritten access (8 for pointers) */
    uint8_t access;       /* enum ebpfvm_ctx_access */
};

/* Whether the runtime context keeps the field where the UAPI has it (no
 * rewrite: a narrow access stays as written). */
static inline bool ebpfvm__ctx_field_identity(const struct ebpfvm_ctx_field *f)
{
    return f->rt_off == f->off && f->rt_size == f->size;
}

struct ebpfvm_prog_type_desc {
    enum ebpfvm_prog_type type;
    const char *name;                     /* "xdp", "memory" */
    uint32_t uapi_ctx_size;               /* sizeof the UAPI context; 0: none (memory) */
    size_t runtime_ctx_size;              /* ctx_size ebpfvm_prog_run() requires; 0: any */
    const struct ebpfvm_ctx_field *fields;/* NULL for memory */
    size_t nfields;
    int64_t ret_min, ret_max;             /* return range the verifier enforces */
    bool ret_checked;                     /* whether it enforces one at all */
    bool legacy_packet_loads;             /* LD_ABS/LD_IND allowed (the packet: see packet below) */
    /* Whether a program of this type may call helper `id`. */
    bool (*helper_allowed)(uint32_t id);
    /* Checked mode: declare the memory a run may touch, given the ctx
     * passed to ebpfvm_prog_run() (already size-checked). */
    void (*add_regions)(struct ebpfvm_env *env, void *ctx, size_t ctx_size);
    /* The bytes LD_ABS/LD_IND read, given the run's ctx (NULL: the ctx
     * block itself, the memory type's convention). */
    void (*packet)(void *ctx, size_t ctx_size, uint64_t *pkt, uint64_t *pkt_len);
};

/* The descriptor of a type, or NULL for an unknown type. */
EBPFVM_INTERNAL const struct ebpfvm_prog_type_desc *ebpfvm__prog_type(enum ebpfvm_prog_type type);

/* The field at UAPI offset off, or NULL. */
EBPFVM_INTERNAL const struct ebpfvm_ctx_field *ebpfvm__ctx_field_at(const struct ebpfvm_prog_type_desc *desc,
                                                                    int32_t off);

/*
 * The field a context access of `size` bytes at UAPI offset off may make
 * (a store when write), or NULL when the type's rules refuse it (the
 * caller reports "invalid bpf_context access off=%d size=%u"). Sets
 * rt_off and rt_size to the runtime access it becomes.
 */
EBPFVM_INTERNAL const struct ebpfvm_ctx_field *ebpfvm__ctx_access(const struct ebpfvm_prog_type_desc *desc,
                                                                  int32_t off, unsigned size, bool write,
                                                                  int32_t *rt_off, unsigned *rt_size);

/* The legacy packet of a run (LD_ABS/LD_IND): address and length. */
EBPFVM_INTERNAL void ebpfvm__prog_type_packet(enum ebpfvm_prog_type type, void *ctx, size_t ctx_size,
                                              uint64_t *pkt, uint64_t *pkt_len);

/*
 * vm/ctx_rewrite.c: the load-time pass that finds every access through the
 * context pointer (r1 at entry, its copies, spills and fills, constant
 * offsets added to it), checks it against the descriptor with the kernel's
 * messages ("insn 3: invalid bpf_context access off=16 size=4") and rewrites
 * the decoded instruction into the runtime access. Rejects what it cannot
 * prove to be (or not to be) a context access. The verifier takes this over
 * once it exists. Returns 0 or an error recorded on vm.
 */
EBPFVM_INTERNAL int ebpfvm__ctx_rewrite(struct ebpfvm_vm *vm, struct ebpfvm_prog *prog);

#endif /* EBPFVM_VM_PROGTYPE_H */
