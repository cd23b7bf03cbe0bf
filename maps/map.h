/*
 * maps/map.h - the map object and the one ops table every map type fills.
 *
 * Owns: struct ebpfvm_map (the definition as created plus the type's private
 * state), struct ebpfvm_map_ops (one const instance per type, in the type's
 * file), and the internal entry points the map helpers and the rest of the
 * library use. Never installed.
 *
 * Invariants:
 *   - a map is created only after its type's check_def accepted the
 *     definition; key_size/value_size/max_entries never change afterwards;
 *   - every value pointer a map hands out (ops->lookup, direct_value) stays
 *     valid memory until the map is destroyed: deleted elements are recycled
 *     through a free list, never returned to the allocator early, so a
 *     program still holding the pointer reads stale data at worst (as with
 *     the kernel's preallocated maps), never freed memory;
 *   - ops never write the vm's error message (they run concurrently from
 *     programs); the public API in map.c turns their status into messages;
 *   - per-CPU values: each CPU's slot is value_size rounded up to 8 bytes
 *     (value_stride); the public API reads and writes ncpus slots at once.
 */
#ifndef EBPFVM_MAPS_MAP_H
#define EBPFVM_MAPS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/internal.h"

/* Linux's BPF_F_* map flags that ebpfvm knows. */
#define EBPFVM_F_NO_PREALLOC 0x1u
#define EBPFVM_F_NO_COMMON_LRU 0x2u
#define EBPFVM_F_NUMA_NODE 0x4u
#define EBPFVM_F_RDONLY 0x8u
#define EBPFVM_F_WRONLY 0x10u
#define EBPFVM_F_ZERO_SEED 0x40u
#define EBPFVM_F_RDONLY_PROG 0x80u
#define EBPFVM_F_WRONLY_PROG 0x100u
#define EBPFVM_F_MMAPABLE 0x400u
#define EBPFVM_F_INNER_MAP 0x1000u
#define EBPFVM_F_ACCESS_MASK (EBPFVM_F_RDONLY | EBPFVM_F_WRONLY | EBPFVM_F_RDONLY_PROG | EBPFVM_F_WRONLY_PROG)

/* BPF_F_LOCK, an update flag ebpfvm does not support (no bpf_spin_lock). */
#define EBPFVM_F_LOCK 4u

/* The kernel's KMALLOC_MAX_SIZE (x86-64) and PCPU_MIN_UNIT_SIZE, the size
 * limits its map types check against. */
#define EBPFVM_MAP_KMALLOC_MAX (1u << 22)
#define EBPFVM_MAP_PCPU_MAX (32u << 10)

/* In update(): the value holds every CPU's slot (the public API). */
#define EBPFVM_MAP_ALL_CPUS (-1)

struct ebpfvm_map;

struct ebpfvm_map_ops {
    /* Validate a definition (sizes, max_entries, flags) and return 0, or a
     * status with the vm's message set: "map 'x': value_size 0 is invalid
     * for array". `who` is "map 'name'" or "map N". */
    int (*check_def)(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def);
    /* Allocate map->impl; only EBPFVM_ERR_NOMEM (nothing leaked). */
    int (*alloc)(struct ebpfvm_map *map);
    /* Free map->impl (NULL-safe). */
    void (*free)(struct ebpfvm_map *map);
    /* The program's view: a pointer to the value (per-CPU maps: CPU cpu's
     * slot), or NULL. May mark the element used (LRU). NULL op: the type
     * has no program lookup. */
    void *(*lookup)(struct ebpfvm_map *map, const void *key, uint32_t cpu);
    /* The public API's lookup: copy the value (all CPUs for per-CPU maps). */
    int (*lookup_copy)(struct ebpfvm_map *map, const void *key, void *value);
    /* Insert or replace. cpu >= 0: from a program, value is one slot;
     * EBPFVM_MAP_ALL_CPUS: from the API, value holds every CPU's slot.
     * flags are already checked to be ANY/NOEXIST/EXIST. */
    int (*update)(struct ebpfvm_map *map, const void *key, const void *value, uint64_t flags, int cpu);
    int (*delete_elem)(struct ebpfvm_map *map, const void *key);
    /* key NULL (or absent, for hash-like maps) gives the first key. */
    int (*get_next_key)(struct ebpfvm_map *map, const void *key, void *next_key);
    /* Address of byte off of element 0's value (NULL op: not allowed). */
    int (*direct_value)(struct ebpfvm_map *map, uint32_t off, uint64_t *addr);
};

struct ebpfvm_map {
    enum ebpfvm_map_type type;
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t map_flags;
    uint32_t ncpus;        /* per-CPU slots (the vm's ncpus at creation) */
    uint32_t value_stride; /* value_size rounded up to 8 */
    int fd;                /* index in vm->maps */
    char *name;            /* owned copy, or NULL */
    struct ebpfvm_vm *vm;
    const struct ebpfvm_map_ops *ops;
    const char *type_name; /* "array", "hash", ... */
    void *impl;            /* the type's state */
    /* Map-in-map: the template of the inner maps, a copy of the inner
     * definition (owned, not in vm->maps: no name, fd -1, no storage; the
     * verifier types a null-checked lookup result as a map_ptr to it, like
     * the kernel's inner_map_meta). NULL for the other types. */
    struct ebpfvm_map *inner_meta;
    bool frozen; /* ebpfvm_map_freeze: user space can no longer write it */
};

/* The ops of each type (one per file). */
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__array_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__percpu_array_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__prog_array_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__devmap_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__xskmap_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__hash_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__devmap_hash_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__lpm_trie_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__ringbuf_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__user_ringbuf_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__perf_event_array_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__sk_storage_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__sockmap_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__sockhash_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__reuseport_sockarray_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__array_of_maps_ops;
EBPFVM_INTERNAL extern const struct ebpfvm_map_ops ebpfvm__hash_of_maps_ops;

static inline uint32_t ebpfvm__round8(uint32_t n)
{
    return (uint32_t)(((uint64_t)n + 7) & ~(uint64_t)7);
}

/* Whether the map keeps one value per CPU. */
static inline bool ebpfvm__map_is_percpu(const struct ebpfvm_map *map)
{
    return map->type == EBPFVM_MAP_PERCPU_ARRAY || map->type == EBPFVM_MAP_PERCPU_HASH ||
           map->type == EBPFVM_MAP_LRU_PERCPU_HASH;
}

/* Whether the map holds maps (array_of_maps, hash_of_maps). */
static inline bool ebpfvm__map_is_map_in_map(const struct ebpfvm_map *map)
{
    return map->type == EBPFVM_MAP_ARRAY_OF_MAPS || map->type == EBPFVM_MAP_HASH_OF_MAPS;
}

/* Bytes of a value as the public API sees it (ncpus slots for per-CPU). */
static inline size_t ebpfvm__map_api_value_size(const struct ebpfvm_map *map)
{
    return ebpfvm__map_is_percpu(map) ? (size_t)map->ncpus * map->value_stride : map->value_size;
}

/* maps/map.c: "array", "hash", ... for a type ebpfvm knows, else "unknown". */
EBPFVM_INTERNAL const char *ebpfvm__map_type_name(enum ebpfvm_map_type type);

/* maps/map.c: a definition error, "<who>: <field> <value> is invalid for
 * <type>" (+ ": <why>" when why is not NULL); map_flags print in hex.
 * Returns status. */
EBPFVM_INTERNAL int ebpfvm__map_def_error(struct ebpfvm_vm *vm, int status, const char *who,
                                          const struct ebpfvm_map_def *def, const char *field, uint32_t value,
                                          const char *why);

/* maps/map.c: the definition checks every type shares: map_flags within
 * `allowed` (RDONLY and WRONLY together are invalid), max_entries > 0.
 * Returns 0 or a status with the message set. */
EBPFVM_INTERNAL int ebpfvm__map_check_common(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def,
                                             uint32_t allowed);

/* maps/map.c: create a map-in-map whose template is the definition inner
 * (checked by its type's check_def; not created as a map), as
 * ebpfvm_map_create otherwise - the loader's path for `__array(values,
 * struct {...})`. ebpfvm_map_create with inner_map_fd comes here too. */
EBPFVM_INTERNAL int ebpfvm__map_create_in_map(struct ebpfvm_vm *vm, const struct ebpfvm_map_def *def,
                                              const struct ebpfvm_map_def *inner, int *fd);

/* maps/map.c: the inner map a map-in-map stores as the value v (what its
 * update op was given: the inner map's fd), or NULL (never a bogus one). */
EBPFVM_INTERNAL struct ebpfvm_map *ebpfvm__map_inner_from_fd(struct ebpfvm_map *outer, uint32_t v);

/* maps/map.c: the map behind a pointer a program passed, or NULL if it is
 * not one of vm's maps (never dereferences a bogus pointer). */
EBPFVM_INTERNAL struct ebpfvm_map *ebpfvm__map_from_ptr(struct ebpfvm_vm *vm, uint64_t ptr);

/* maps/array.c: the program stored at index of a PROG_ARRAY map, or NULL
 * (empty slot, out of range, or not a prog array). For the tail-call
 * helper; the tail-call limit (33) is the caller's. */
EBPFVM_INTERNAL const struct ebpfvm_prog *ebpfvm__prog_array_get(const struct ebpfvm_map *map, uint32_t index);

/* maps/array.c: get_next_key of the maps keyed by a u32 index below
 * max_entries (array kinds, perf_event_array): 0 after NULL or an index out
 * of range, index + 1 after index, NOENT after the last. */
EBPFVM_INTERNAL int ebpfvm__array_get_next_key(struct ebpfvm_map *map, const void *key, void *next_key);

/* maps/array.c: store prog (NULL clears) at index of a prog array. */
EBPFVM_INTERNAL int ebpfvm__prog_array_set(struct ebpfvm_map *map, uint32_t index, const struct ebpfvm_prog *prog);

/* maps/ringbuf.c: the program side of a ring buffer. reserve returns the
 * sample's address (8-byte aligned, after its header) or NULL; submit and
 * discard take a sample address and return 0, or EBPFVM_ERR_INVAL when it
 * is not a reserved sample of a ring buffer of vm (nothing touched). */
EBPFVM_INTERNAL void *ebpfvm__ringbuf_reserve(struct ebpfvm_map *map, uint64_t size);
EBPFVM_INTERNAL int ebpfvm__ringbuf_commit(struct ebpfvm_vm *vm, uint64_t sample, bool discard);

#endif /* EBPFVM_MAPS_MAP_H */
