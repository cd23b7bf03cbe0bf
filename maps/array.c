/*
 * maps/array.c - index-keyed maps: ARRAY, PERCPU_ARRAY, and the slot arrays
 * PROG_ARRAY (programs for tail calls), DEVMAP (struct bpf_devmap_val
 * prefix: ifindex, optional program fd) and XSKMAP (AF_XDP socket index).
 *
 * Owns the storage layout: element i (CPU c for per-CPU maps) lives at
 * values + (i * ncpus + c) * value_stride, zero-filled at creation, never
 * moved: lookups are lock-free and updates are memcpy, like the kernel
 * (a concurrent reader may see a half-written value, as there). Slot arrays
 * also keep a `present` byte per index; PROG_ARRAY slots hold program
 * pointers (atomic), written only through ebpfvm_prog_array_set.
 *
 * Kernel semantics kept: key is a u32 index; update of an index >= max_entries
 * is E2BIG (EBPFVM_ERR_RANGE), BPF_NOEXIST always fails with EEXIST on
 * arrays and devmaps, delete on arrays is EINVAL, get_next_key walks index
 * order (NULL or out-of-range key -> 0, last index -> ENOENT). Direct value
 * access (LD_IMM64 src 2/6) needs a one-element ARRAY, as in the kernel.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "maps/map.h"

struct array_impl {
    uint8_t *values;
    _Atomic uint8_t *present;         /* slot arrays: whether index i is set */
    _Atomic(uintptr_t) *progs;        /* PROG_ARRAY: the program at index i */
    pthread_mutex_t lock;             /* slot arrays: serialises updates */
};

static uint32_t key_index(const void *key)
{
    uint32_t index;
    memcpy(&index, key, sizeof index);
    return index;
}

static uint8_t *elem(const struct ebpfvm_map *map, uint32_t index, uint32_t cpu)
{
    const struct array_impl *a = map->impl;
    uint32_t slots = ebpfvm__map_is_percpu(map) ? map->ncpus : 1;
    return a->values + ((size_t)index * slots + cpu) * map->value_stride;
}

/* ---------------------------------------------------------- checks */

static int check_index_key(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    if (def->key_size != 4)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "key_size", def->key_size, "must be 4");
    return 0;
}

static int array_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    bool percpu = def->type == EBPFVM_MAP_PERCPU_ARRAY;
    uint32_t allowed = EBPFVM_F_NUMA_NODE | EBPFVM_F_ACCESS_MASK | EBPFVM_F_INNER_MAP;
    if (!percpu)
        allowed |= EBPFVM_F_MMAPABLE;
    int err = ebpfvm__map_check_common(vm, who, def, allowed);
    if (err)
        return err;
    if ((err = check_index_key(vm, who, def)) != 0)
        return err;
    if (def->value_size == 0)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", 0, NULL);
    if (percpu && ebpfvm__round8(def->value_size) > EBPFVM_MAP_PCPU_MAX)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "value_size", def->value_size,
                                     "per-CPU values are limited to 32768 bytes");
    if (!percpu && def->value_size > EBPFVM_MAP_KMALLOC_MAX)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "value_size", def->value_size,
                                     "values are limited to 4194304 bytes");
    uint64_t slots = percpu ? vm->ncpus : 1;
    if ((uint64_t)def->max_entries * slots * ebpfvm__round8(def->value_size) >= (uint64_t)UINT32_MAX * 16)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "max_entries", def->max_entries,
                                     "the array would be too large");
    return 0;
}

static int slot_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    uint32_t allowed = EBPFVM_F_NUMA_NODE | EBPFVM_F_RDONLY | EBPFVM_F_WRONLY;
    if (def->type == EBPFVM_MAP_PROG_ARRAY)
        allowed = EBPFVM_F_NUMA_NODE | EBPFVM_F_ACCESS_MASK;
    int err = ebpfvm__map_check_common(vm, who, def, allowed);
    if (err)
        return err;
    if ((err = check_index_key(vm, who, def)) != 0)
        return err;
    if (def->type == EBPFVM_MAP_DEVMAP) {
        if (def->value_size != 4 && def->value_size != 8)
            return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", def->value_size,
                                         "must be 4 (ifindex) or 8 (struct bpf_devmap_val)");
    } else if (def->value_size != 4) {
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", def->value_size, "must be 4");
    }
    if (def->max_entries > (1u << 24))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "max_entries", def->max_entries,
                                     "at most 16777216 slots");
    return 0;
}

/* ---------------------------------------------------- alloc / free */

static void array_free(struct ebpfvm_map *map)
{
    struct array_impl *a = map->impl;
    if (!a)
        return;
    if (a->present)
        pthread_mutex_destroy(&a->lock);
    ebpfvm__free(map->vm, a->values);
    ebpfvm__free(map->vm, (void *)a->present);
    ebpfvm__free(map->vm, (void *)a->progs);
    ebpfvm__free(map->vm, a);
    map->impl = NULL;
}

static int array_alloc(struct ebpfvm_map *map)
{
    struct array_impl *a = ebpfvm__calloc(map->vm, 1, sizeof *a);
    if (!a)
        return EBPFVM_ERR_NOMEM;
    map->impl = a;
    uint32_t slots = ebpfvm__map_is_percpu(map) ? map->ncpus : 1;
    if (map->type == EBPFVM_MAP_PROG_ARRAY) {
        a->progs = ebpfvm__calloc(map->vm, map->max_entries, sizeof *a->progs);
        if (!a->progs)
            goto fail;
    } else {
        a->values = ebpfvm__calloc(map->vm, (size_t)map->max_entries * slots, map->value_stride);
        if (!a->values)
            goto fail;
    }
    bool slotted = map->type == EBPFVM_MAP_PROG_ARRAY || map->type == EBPFVM_MAP_DEVMAP ||
                   map->type == EBPFVM_MAP_XSKMAP;
    if (slotted) {
        a->present = ebpfvm__calloc(map->vm, map->max_entries, sizeof *a->present);
        if (!a->present)
            goto fail;
        for (uint32_t i = 0; i < map->max_entries; i++)
            atomic_init(&a->present[i], 0);
        if (map->type == EBPFVM_MAP_PROG_ARRAY)
            for (uint32_t i = 0; i < map->max_entries; i++)
                atomic_init(&a->progs[i], 0);
        if (pthread_mutex_init(&a->lock, NULL) != 0) {
            ebpfvm__free(map->vm, (void *)a->present);
            a->present = NULL;
            goto fail;
        }
    }
    return 0;
fail:
    array_free(map);
    return EBPFVM_ERR_NOMEM;
}

/* ------------------------------------------------------ plain arrays */

static void *array_lookup(struct ebpfvm_map *map, const void *key, uint32_t cpu)
{
    uint32_t index = key_index(key);
    if (index >= map->max_entries || cpu >= map->ncpus)
        return NULL;
    return elem(map, index, ebpfvm__map_is_percpu(map) ? cpu : 0);
}

static int array_lookup_copy(struct ebpfvm_map *map, const void *key, void *value)
{
    uint32_t index = key_index(key);
    if (index >= map->max_entries)
        return EBPFVM_ERR_NOENT;
    if (!ebpfvm__map_is_percpu(map)) {
        memcpy(value, elem(map, index, 0), map->value_size);
        return 0;
    }
    for (uint32_t cpu = 0; cpu < map->ncpus; cpu++)
        memcpy((uint8_t *)value + (size_t)cpu * map->value_stride, elem(map, index, cpu), map->value_stride);
    return 0;
}

static int array_update(struct ebpfvm_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
    uint32_t index = key_index(key);
    if (index >= map->max_entries)
        return EBPFVM_ERR_RANGE;
    if (flags == EBPFVM_NOEXIST)
        return EBPFVM_ERR_EXIST;
    if (!ebpfvm__map_is_percpu(map)) {
        memcpy(elem(map, index, 0), value, map->value_size);
    } else if (cpu >= 0) {
        if ((uint32_t)cpu >= map->ncpus)
            return EBPFVM_ERR_INVAL;
        memcpy(elem(map, index, (uint32_t)cpu), value, map->value_size);
    } else {
        for (uint32_t c = 0; c < map->ncpus; c++)
            memcpy(elem(map, index, c), (const uint8_t *)value + (size_t)c * map->value_stride, map->value_stride);
    }
    return 0;
}

static int array_delete(struct ebpfvm_map *map, const void *key)
{
    (void)map;
    (void)key;
    return EBPFVM_ERR_INVAL;
}

int ebpfvm__array_get_next_key(struct ebpfvm_map *map, const void *key, void *next_key)
{
    uint32_t next = 0;
    if (key) {
        uint32_t index = key_index(key);
        if (index < map->max_entries) {
            if (index == map->max_entries - 1)
                return EBPFVM_ERR_NOENT;
            next = index + 1;
        }
    }
    memcpy(next_key, &next, sizeof next);
    return 0;
}

static int array_direct_value(struct ebpfvm_map *map, uint32_t off, uint64_t *addr)
{
    if (map->max_entries != 1)
        return EBPFVM_ERR_UNSUPP;
    if (off >= map->value_size)
        return EBPFVM_ERR_INVAL;
    *addr = (uint64_t)(uintptr_t)(elem(map, 0, 0) + off);
    return 0;
}

const struct ebpfvm_map_ops ebpfvm__array_ops = {
    .check_def = array_check_def,
    .alloc = array_alloc,
    .free = array_free,
    .lookup = array_lookup,
    .lookup_copy = array_lookup_copy,
    .update = array_update,
    .delete_elem = array_delete,
    .get_next_key = ebpfvm__array_get_next_key,
    .direct_value = array_direct_value,
};

const struct ebpfvm_map_ops ebpfvm__percpu_array_ops = {
    .check_def = array_check_def,
    .alloc = array_alloc,
    .free = array_free,
    .lookup = array_lookup,
    .lookup_copy = array_lookup_copy,
    .update = array_update,
    .delete_elem = array_delete,
    .get_next_key = ebpfvm__array_get_next_key,
};

/* ------------------------------------------------------- slot arrays */

static void *slot_lookup(struct ebpfvm_map *map, const void *key, uint32_t cpu)
{
    (void)cpu;
    struct array_impl *a = map->impl;
    uint32_t index = key_index(key);
    if (index >= map->max_entries || !atomic_load_explicit(&a->present[index], memory_order_acquire))
        return NULL;
    return elem(map, index, 0);
}

static int slot_lookup_copy(struct ebpfvm_map *map, const void *key, void *value)
{
    struct array_impl *a = map->impl;
    uint32_t index = key_index(key);
    if (index >= map->max_entries)
        return EBPFVM_ERR_NOENT;
    pthread_mutex_lock(&a->lock);
    bool present = atomic_load(&a->present[index]) != 0;
    if (present)
        memcpy(value, elem(map, index, 0), map->value_size);
    pthread_mutex_unlock(&a->lock);
    return present ? 0 : EBPFVM_ERR_NOENT;
}

/* DEVMAP and XSKMAP updates (PROG_ARRAY goes through ebpfvm_prog_array_set). */
static int slot_update(struct ebpfvm_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
    (void)cpu;
    struct array_impl *a = map->impl;
    uint32_t index = key_index(key);
    if (index >= map->max_entries)
        return EBPFVM_ERR_RANGE;
    uint32_t ifindex;
    memcpy(&ifindex, value, 4);
    bool clear = false;
    if (map->type == EBPFVM_MAP_DEVMAP) {
        /* Every devmap slot "exists" (possibly NULL), as in the kernel. */
        if (flags == EBPFVM_NOEXIST)
            return EBPFVM_ERR_EXIST;
        int32_t prog_fd = -1;
        if (map->value_size == 8)
            memcpy(&prog_fd, (const uint8_t *)value + 4, 4);
        if (prog_fd > 0)
            return ifindex == 0 ? EBPFVM_ERR_INVAL : EBPFVM_ERR_UNSUPP;
        clear = ifindex == 0; /* ifindex 0 empties the slot */
    }
    pthread_mutex_lock(&a->lock);
    bool present = atomic_load(&a->present[index]) != 0;
    int err = 0;
    if (map->type == EBPFVM_MAP_XSKMAP && present && flags == EBPFVM_NOEXIST)
        err = EBPFVM_ERR_EXIST;
    else if (map->type == EBPFVM_MAP_XSKMAP && !present && flags == EBPFVM_EXIST)
        err = EBPFVM_ERR_NOENT;
    else if (clear)
        atomic_store_explicit(&a->present[index], 0, memory_order_release);
    else {
        memcpy(elem(map, index, 0), value, map->value_size);
        atomic_store_explicit(&a->present[index], 1, memory_order_release);
    }
    pthread_mutex_unlock(&a->lock);
    return err;
}

static int slot_delete(struct ebpfvm_map *map, const void *key)
{
    struct array_impl *a = map->impl;
    uint32_t index = key_index(key);
    if (map->type == EBPFVM_MAP_PROG_ARRAY) {
        /* fd_array semantics: out of range is E2BIG, an empty slot ENOENT. */
        if (index >= map->max_entries)
            return EBPFVM_ERR_RANGE;
        pthread_mutex_lock(&a->lock);
        bool present = atomic_exchange(&a->present[index], 0) != 0;
        atomic_store(&a->progs[index], 0);
        pthread_mutex_unlock(&a->lock);
        return present ? 0 : EBPFVM_ERR_NOENT;
    }
    /* devmap/xskmap: out of range is EINVAL, deleting an empty slot is 0. */
    if (index >= map->max_entries)
        return EBPFVM_ERR_INVAL;
    atomic_store_explicit(&a->present[index], 0, memory_order_release);
    return 0;
}

static int prog_array_lookup_copy(struct ebpfvm_map *map, const void *key, void *value)
{
    (void)map;
    (void)key;
    (void)value;
    return EBPFVM_ERR_UNSUPP;
}

static int prog_array_update(struct ebpfvm_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
    (void)map;
    (void)key;
    (void)value;
    (void)flags;
    (void)cpu;
    return EBPFVM_ERR_UNSUPP;
}

int ebpfvm__prog_array_set(struct ebpfvm_map *map, uint32_t index, const struct ebpfvm_prog *prog)
{
    struct array_impl *a = map->impl;
    if (map->type != EBPFVM_MAP_PROG_ARRAY || index >= map->max_entries)
        return EBPFVM_ERR_INVAL;
    pthread_mutex_lock(&a->lock);
    atomic_store_explicit(&a->progs[index], (uintptr_t)prog, memory_order_release);
    atomic_store_explicit(&a->present[index], prog != NULL, memory_order_release);
    pthread_mutex_unlock(&a->lock);
    return 0;
}

const struct ebpfvm_prog *ebpfvm__prog_array_get(const struct ebpfvm_map *map, uint32_t index)
{
    if (!map || map->type != EBPFVM_MAP_PROG_ARRAY || index >= map->max_entries)
        return NULL;
    const struct array_impl *a = map->impl;
    return (const struct ebpfvm_prog *)atomic_load_explicit(&a->progs[index], memory_order_acquire);
}

void ebpfvm__maps_forget_prog(struct ebpfvm_vm *vm, const struct ebpfvm_prog *prog)
{
    for (uint32_t i = 0; i < vm->nmaps; i++) {
        struct ebpfvm_map *map = vm->maps[i];
        if (!map || map->type != EBPFVM_MAP_PROG_ARRAY)
            continue;
        for (uint32_t index = 0; index < map->max_entries; index++)
            if (ebpfvm__prog_array_get(map, index) == prog)
                ebpfvm__prog_array_set(map, index, NULL);
    }
}

const struct ebpfvm_map_ops ebpfvm__prog_array_ops = {
    .check_def = slot_check_def,
    .alloc = array_alloc,
    .free = array_free,
    .lookup = NULL, /* programs reach a prog array only through tail calls */
    .lookup_copy = prog_array_lookup_copy,
    .update = prog_array_update,
    .delete_elem = slot_delete,
    .get_next_key = ebpfvm__array_get_next_key,
};

const struct ebpfvm_map_ops ebpfvm__devmap_ops = {
    .check_def = slot_check_def,
    .alloc = array_alloc,
    .free = array_free,
    .lookup = slot_lookup,
    .lookup_copy = slot_lookup_copy,
    .update = slot_update,
    .delete_elem = slot_delete,
    .get_next_key = ebpfvm__array_get_next_key,
};

const struct ebpfvm_map_ops ebpfvm__xskmap_ops = {
    .check_def = slot_check_def,
    .alloc = array_alloc,
    .free = array_free,
    .lookup = slot_lookup,
    .lookup_copy = slot_lookup_copy,
    .update = slot_update,
    .delete_elem = slot_delete,
    .get_next_key = ebpfvm__array_get_next_key,
};

/* ----------------------------------------------------- array_of_maps */

/*
 * Element i holds (inner map fd + 1) as a u32 in its 8-byte slot, 0 for
 * an empty slot, read and written atomically: a program's lookup sees an
 * empty slot or a whole fd, and decodes it through the vm's map table
 * (ebpfvm__map_inner_from_fd, which never yields a bogus map). The public
 * API (maps/map.c) checked the fd against the template before update.
 */
static int array_of_maps_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    /* The kernel's fd_array_map_alloc_check: no *_PROG flags, no
     * BPF_F_MMAPABLE / BPF_F_INNER_MAP (plain arrays only). */
    int err = ebpfvm__map_check_common(vm, who, def, EBPFVM_F_NUMA_NODE | EBPFVM_F_RDONLY | EBPFVM_F_WRONLY);
    if (err)
        return err;
    if ((err = check_index_key(vm, who, def)) != 0)
        return err;
    if (def->value_size != 4)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", def->value_size,
                                     "must be 4 (an inner map fd)");
    if ((uint64_t)def->max_entries * 8 >= (uint64_t)UINT32_MAX * 16)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "max_entries", def->max_entries,
                                     "the array would be too large");
    return 0;
}

static uint32_t *aom_slot(const struct ebpfvm_map *map, uint32_t index)
{
    return (uint32_t *)(void *)elem(map, index, 0);
}

static void *array_of_maps_lookup(struct ebpfvm_map *map, const void *key, uint32_t cpu)
{
    (void)cpu;
    uint32_t index = key_index(key);
    if (index >= map->max_entries)
        return NULL;
    uint32_t v = __atomic_load_n(aom_slot(map, index), __ATOMIC_ACQUIRE);
    return v ? ebpfvm__map_inner_from_fd(map, v - 1) : NULL;
}

static int array_of_maps_lookup_copy(struct ebpfvm_map *map, const void *key, void *value)
{
    uint32_t index = key_index(key);
    if (index >= map->max_entries)
        return EBPFVM_ERR_NOENT;
    uint32_t v = __atomic_load_n(aom_slot(map, index), __ATOMIC_ACQUIRE);
    if (!v)
        return EBPFVM_ERR_NOENT;
    v--;
    memcpy(value, &v, sizeof v);
    return 0;
}

static int array_of_maps_update(struct ebpfvm_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
    (void)cpu;
    uint32_t index = key_index(key), fd;
    if (flags != EBPFVM_ANY)
        return EBPFVM_ERR_INVAL;
    if (index >= map->max_entries)
        return EBPFVM_ERR_RANGE;
    memcpy(&fd, value, sizeof fd);
    __atomic_store_n(aom_slot(map, index), fd + 1, __ATOMIC_RELEASE);
    return 0;
}

static int array_of_maps_delete(struct ebpfvm_map *map, const void *key)
{
    uint32_t index = key_index(key);
    if (index >= map->max_entries)
        return EBPFVM_ERR_RANGE;
    return __atomic_exchange_n(aom_slot(map, index), 0, __ATOMIC_ACQ_REL) ? 0 : EBPFVM_ERR_NOENT;
}

const struct ebpfvm_map_ops ebpfvm__array_of_maps_ops = {
    .check_def = array_of_maps_check_def,
    .alloc = array_alloc,
    .free = array_free,
    .lookup = array_of_maps_lookup,
    .lookup_copy = array_of_maps_lookup_copy,
    .update = array_of_maps_update,
    .delete_elem = array_of_maps_delete,
    .get_next_key = ebpfvm__array_get_next_key,
};
