/*
 * maps/perf_event.c - BPF_MAP_TYPE_PERF_EVENT_ARRAY (4): the slots
 * bpf_perf_event_output writes to.
 *
 * ebpfvm has no perf events: a slot is "open" when the embedder stored a
 * value in it (any u32, in the kernel the perf event's fd) and the samples a
 * program writes to an open slot go to the perf callback of
 * ebpfvm_vm_register_std_helpers (vm/helpers_std.c). Writing to a slot
 * nobody opened is -ENOENT for the program, as in the kernel.
 *
 * Kernel semantics kept (fd-array maps): key_size and value_size 4;
 * update flags other than BPF_ANY are EINVAL; an index >= max_entries is
 * E2BIG on update and delete; deleting an empty slot is ENOENT; programs
 * cannot look elements up (the map helpers refuse: ops->lookup is NULL).
 * Invariant: slot i's value is valid when present[i] is set; updates are
 * serialised by the lock, reads are lock-free (acquire on present).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "maps/map.h"

struct perf_impl {
    _Atomic uint8_t *present;
    _Atomic uint32_t *values;
    pthread_mutex_t lock;
};

static uint32_t key_index(const void *key)
{
    uint32_t index;
    memcpy(&index, key, sizeof index);
    return index;
}

static int perf_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    if (def->key_size != 4)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "key_size", def->key_size, "must be 4");
    if (def->value_size != 4)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", def->value_size,
                                     "must be 4 (a perf event fd)");
    return ebpfvm__map_check_common(vm, who, def, EBPFVM_F_NUMA_NODE | EBPFVM_F_RDONLY | EBPFVM_F_WRONLY);
}

static void perf_free(struct ebpfvm_map *map)
{
    struct perf_impl *p = map->impl;
    if (!p)
        return;
    if (p->present)
        pthread_mutex_destroy(&p->lock);
    ebpfvm__free(map->vm, (void *)p->present);
    ebpfvm__free(map->vm, (void *)p->values);
    ebpfvm__free(map->vm, p);
    map->impl = NULL;
}

static int perf_alloc(struct ebpfvm_map *map)
{
    struct perf_impl *p = ebpfvm__calloc(map->vm, 1, sizeof *p);
    if (!p)
        return EBPFVM_ERR_NOMEM;
    map->impl = p;
    p->values = ebpfvm__calloc(map->vm, map->max_entries, sizeof *p->values);
    if (!p->values)
        goto fail;
    for (uint32_t i = 0; i < map->max_entries; i++)
        atomic_init(&p->values[i], 0);
    p->present = ebpfvm__calloc(map->vm, map->max_entries, sizeof *p->present);
    if (!p->present)
        goto fail;
    for (uint32_t i = 0; i < map->max_entries; i++)
        atomic_init(&p->present[i], 0);
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        ebpfvm__free(map->vm, (void *)p->present);
        p->present = NULL;
        goto fail;
    }
    return 0;
fail:
    perf_free(map);
    return EBPFVM_ERR_NOMEM;
}

static int perf_lookup_copy(struct ebpfvm_map *map, const void *key, void *value)
{
    struct perf_impl *p = map->impl;
    uint32_t index = key_index(key);
    if (index >= map->max_entries || !atomic_load_explicit(&p->present[index], memory_order_acquire))
        return EBPFVM_ERR_NOENT;
    uint32_t v = atomic_load_explicit(&p->values[index], memory_order_relaxed);
    memcpy(value, &v, 4);
    return 0;
}

static int perf_update(struct ebpfvm_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
    (void)cpu;
    struct perf_impl *p = map->impl;
    uint32_t index = key_index(key);
    if (flags != EBPFVM_ANY)
        return EBPFVM_ERR_INVAL;
    if (index >= map->max_entries)
        return EBPFVM_ERR_RANGE;
    uint32_t v;
    memcpy(&v, value, 4);
    pthread_mutex_lock(&p->lock);
    atomic_store_explicit(&p->values[index], v, memory_order_relaxed);
    atomic_store_explicit(&p->present[index], 1, memory_order_release);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

static int perf_delete(struct ebpfvm_map *map, const void *key)
{
    struct perf_impl *p = map->impl;
    uint32_t index = key_index(key);
    if (index >= map->max_entries)
        return EBPFVM_ERR_RANGE;
    pthread_mutex_lock(&p->lock);
    bool was = atomic_exchange(&p->present[index], 0) != 0;
    pthread_mutex_unlock(&p->lock);
    return was ? 0 : EBPFVM_ERR_NOENT;
}

const struct ebpfvm_map_ops ebpfvm__perf_event_array_ops = {
    .check_def = perf_check_def,
    .alloc = perf_alloc,
    .free = perf_free,
    .lookup = NULL, /* programs reach it only through bpf_perf_event_output */
    .lookup_copy = perf_lookup_copy,
    .update = perf_update,
    .delete_elem = perf_delete,
    .get_next_key = ebpfvm__array_get_next_key,
};
