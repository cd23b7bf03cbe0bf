/*
 * loader/btf.h - a minimal reader of BTF (the `.BTF` and `.BTF.ext` sections
 * of a BPF object), just what the ELF loader needs: types by id, struct
 * members, DATASEC entries, resolving modifiers and sizes, and whether
 * `.BTF.ext` carries CO-RE relocations.
 *
 * Invariants: ebpfvm__btf_parse() checks the header, that the type and
 * string areas lie inside the section, that every type record fits in the
 * type area and has a known kind, and that every name offset falls inside
 * the string area (which ends with NUL). After a successful parse, type ids
 * found inside records are still unchecked: every accessor validates the id
 * it is given (returns NULL / an error for 0 where a type is needed, or for
 * ids past the last type), and walks through modifiers with a depth limit,
 * so malformed or cyclic BTF is an error, never a crash.
 *
 * Errors are returned as EBPFVM_ERR_FORMAT with a reason written into a
 * caller-provided buffer; the ELF loader prefixes the object and section.
 */
#ifndef EBPFVM_LOADER_BTF_H
#define EBPFVM_LOADER_BTF_H

#include <stddef.h>
#include <stdint.h>

#include "vm/internal.h"

/* BTF kinds (the `kind` bits of btf_type.info). */
enum {
    EBPFVM_BTF_KIND_UNKN = 0,
    EBPFVM_BTF_KIND_INT = 1,
    EBPFVM_BTF_KIND_PTR = 2,
    EBPFVM_BTF_KIND_ARRAY = 3,
    EBPFVM_BTF_KIND_STRUCT = 4,
    EBPFVM_BTF_KIND_UNION = 5,
    EBPFVM_BTF_KIND_ENUM = 6,
    EBPFVM_BTF_KIND_FWD = 7,
    EBPFVM_BTF_KIND_TYPEDEF = 8,
    EBPFVM_BTF_KIND_VOLATILE = 9,
    EBPFVM_BTF_KIND_CONST = 10,
    EBPFVM_BTF_KIND_RESTRICT = 11,
    EBPFVM_BTF_KIND_FUNC = 12,
    EBPFVM_BTF_KIND_FUNC_PROTO = 13,
    EBPFVM_BTF_KIND_VAR = 14,
    EBPFVM_BTF_KIND_DATASEC = 15,
    EBPFVM_BTF_KIND_FLOAT = 16,
    EBPFVM_BTF_KIND_DECL_TAG = 17,
    EBPFVM_BTF_KIND_TYPE_TAG = 18,
    EBPFVM_BTF_KIND_ENUM64 = 19,
    EBPFVM_BTF_KIND_MAX_ = 19
};

/* A parsed type, as the accessors hand it out. */
struct ebpfvm_btf_type {
    uint32_t id;
    unsigned kind;
    unsigned vlen;        /* members, enumerators, params or DATASEC entries */
    unsigned kind_flag;   /* bit 31 of info (bitfield member offsets, ...) */
    const char *name;     /* "" when anonymous */
    uint32_t size_or_type; /* size (int, struct, union, enum, datasec, float)
                            * or the referenced type (ptr, typedef, modifiers,
                            * var, func) */
    const uint8_t *extra; /* the kind-specific data after the 12-byte header */
};

struct ebpfvm_btf {
    const uint8_t *types; /* type area */
    uint32_t types_len;
    const char *strs;     /* string area, strs[strs_len - 1] == '\0' */
    uint32_t strs_len;
    uint32_t ntypes;      /* ids 1..ntypes */
    uint32_t *offsets;    /* offsets[id] = offset of type id in types; vm-allocated */
};

/* Parse data[0..size) (borrowed: must outlive btf). On error writes a reason
 * into err and returns EBPFVM_ERR_FORMAT (or EBPFVM_ERR_NOMEM). */
EBPFVM_INTERNAL int ebpfvm__btf_parse(struct ebpfvm_vm *vm, const uint8_t *data, size_t size,
                                      struct ebpfvm_btf *btf, char *err, size_t errlen);
EBPFVM_INTERNAL void ebpfvm__btf_free(struct ebpfvm_vm *vm, struct ebpfvm_btf *btf);

/* Type id (1..ntypes) into *t. Returns 0, or -1 for a bad id. */
EBPFVM_INTERNAL int ebpfvm__btf_type(const struct ebpfvm_btf *btf, uint32_t id, struct ebpfvm_btf_type *t);

/* Member i of a struct/union: name, type id and bit offset. -1 if out of range. */
EBPFVM_INTERNAL int ebpfvm__btf_member(const struct ebpfvm_btf_type *t, const struct ebpfvm_btf *btf, unsigned i,
                                       const char **name, uint32_t *type, uint32_t *bit_offset);

/* Entry i of a DATASEC: VAR (or FUNC) type id, offset and size. -1 if out of range. */
EBPFVM_INTERNAL int ebpfvm__btf_datasec_entry(const struct ebpfvm_btf_type *t, unsigned i, uint32_t *type,
                                              uint32_t *offset, uint32_t *size);

/* Element type and count of an ARRAY. */
EBPFVM_INTERNAL void ebpfvm__btf_array(const struct ebpfvm_btf_type *t, uint32_t *elem_type, uint32_t *nelems);

/* Follow typedef/const/volatile/restrict/type_tag from id to the first other
 * type, into *t. Returns 0 or -1 (bad id, void, or a chain that is too long). */
EBPFVM_INTERNAL int ebpfvm__btf_skip_mods(const struct ebpfvm_btf *btf, uint32_t id, struct ebpfvm_btf_type *t);

/* The size in bytes of type id (pointers are 8). Returns 0, or -1 with a
 * reason in err for void, functions, forward declarations, bad ids, cycles
 * and sizes over 2^32 - 1. */
EBPFVM_INTERNAL int ebpfvm__btf_type_size(const struct ebpfvm_btf *btf, uint32_t id, uint32_t *size, char *err,
                                          size_t errlen);

/* The DATASEC named name, into *t. Returns 0 or -1 when absent. */
EBPFVM_INTERNAL int ebpfvm__btf_find_datasec(const struct ebpfvm_btf *btf, const char *name,
                                             struct ebpfvm_btf_type *t);

/* The name of the DATASEC (".kconfig", ".ksyms", ...) that declares a VAR or
 * FUNC called sym, or NULL. */
EBPFVM_INTERNAL const char *ebpfvm__btf_extern_section(const struct ebpfvm_btf *btf, const char *sym);

/* Whether the BTF prototype of function `name` returns an integer or enum
 * of at most 8 bytes (the kernel's "returns 'int'"): 1 yes, 0 no (void, a
 * pointer, a struct), -1 no such function. */
EBPFVM_INTERNAL int ebpfvm__btf_func_returns_int(const struct ebpfvm_btf *btf, const char *name);

/*
 * Check a `.BTF.ext` section: header and sub-section bounds. *core_relos
 * receives the number of CO-RE relocation records. Returns 0 or
 * EBPFVM_ERR_FORMAT with a reason in err.
 */
EBPFVM_INTERNAL int ebpfvm__btf_ext_core_relos(const uint8_t *data, size_t size, uint32_t *core_relos, char *err,
                                               size_t errlen);

#endif /* EBPFVM_LOADER_BTF_H */
