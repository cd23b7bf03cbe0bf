/*
 * maps/hash.c - hash-keyed maps: HASH, PERCPU_HASH, LRU_HASH,
 * LRU_PERCPU_HASH and DEVMAP_HASH, one implementation.
 *
 * Owns: the element layout (header | key rounded to 8 | value slot(s), each
 * slot value_size rounded to 8), the buckets (a power of two >= max_entries,
 * chains newest first), the free list, and the LRU list.
 *
 * Invariants:
 *   - one rwlock per map: lookups take it shared, everything that changes
 *     the table takes it exclusive;
 *   - elements are never returned to the allocator before the map is
 *     destroyed: a deleted or evicted element goes on the free list and is
 *     reused, so a value pointer a program holds stays valid memory (it may
 *     show another key's value afterwards, as with the kernel's
 *     preallocated maps). Without BPF_F_NO_PREALLOC all max_entries elements
 *     are allocated at creation (one block); with it they are allocated on
 *     demand, up to max_entries;
 *   - count <= max_entries; an insert into a full map fails with E2BIG
 *     (EBPFVM_ERR_RANGE), except LRU maps, which evict;
 *   - iteration order (get_next_key) is bucket order, then chain order:
 *     deterministic for a given history (the hash has a fixed seed, as with
 *     BPF_F_ZERO_SEED). An absent key restarts from the first key, like the
 *     kernel;
 *   - LRU: every live element is on a list, newest first. A program's
 *     lookup sets the element's `ref` bit (the public API's lookup does not,
 *     like the kernel's syscall path); eviction walks from the oldest end,
 *     gives referenced elements a second chance (clears the bit, moves them
 *     to the front) and evicts the first unreferenced one. One list for the
 *     map: BPF_F_NO_COMMON_LRU is accepted and behaves as a common LRU.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_rwlock_t */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "maps/map.h"

struct hash_elem {
    struct hash_elem *next; /* bucket chain, or the free list */
    struct hash_elem *lru_prev;
    struct hash_elem *lru_next;
    uint32_t hash;
    _Atomic uint8_t ref; /* LRU: used since it was last considered */
};

#define ELEM_HEADER ((sizeof(struct hash_elem) + 7) & ~(size_t)7)

struct hash_impl {
    pthread_rwlock_t lock;
    struct hash_elem **buckets;
    uint32_t nbuckets; /* power of two */
    uint32_t count;    /* live elements */
    uint32_t allocated; /* elements allocated on demand (NO_PREALLOC) */
    struct hash_elem *free_list;
    uint8_t *block; /* preallocated elements, or NULL */
    struct hash_elem *lru_head; /* newest */
    struct hash_elem *lru_tail; /* oldest */
    size_t elem_size;
    size_t value_off;
    bool lru;
    bool percpu;
    bool prealloc;
    bool lock_ready;
};

static uint8_t *elem_key(struct hash_elem *e)
{
    return (uint8_t *)e + ELEM_HEADER;
}

static uint8_t *elem_value(const struct hash_impl *h, struct hash_elem *e, uint32_t cpu, uint32_t stride)
{
    return (uint8_t *)e + h->value_off + (size_t)cpu * stride;
}

/* FNV-1a with a final avalanche: fixed seed, so iteration is reproducible. */
static uint32_t hash_key(const void *key, uint32_t size)
{
    const uint8_t *p = key;
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* ---------------------------------------------------------- checks */

static int hash_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    bool lru = def->type == EBPFVM_MAP_LRU_HASH || def->type == EBPFVM_MAP_LRU_PERCPU_HASH;
    bool percpu = def->type == EBPFVM_MAP_PERCPU_HASH || def->type == EBPFVM_MAP_LRU_PERCPU_HASH;
    uint32_t allowed = EBPFVM_F_NO_PREALLOC | EBPFVM_F_NO_COMMON_LRU | EBPFVM_F_NUMA_NODE | EBPFVM_F_ACCESS_MASK |
                       EBPFVM_F_ZERO_SEED | EBPFVM_F_INNER_MAP;
    int err = ebpfvm__map_check_common(vm, who, def, allowed);
    if (err)
        return err;
    if (!lru && (def->map_flags & EBPFVM_F_NO_COMMON_LRU))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "map_flags", def->map_flags,
                                     "BPF_F_NO_COMMON_LRU needs an LRU map");
    if (lru && (def->map_flags & EBPFVM_F_NO_PREALLOC))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_UNSUPP, who, def, "map_flags", def->map_flags,
                                     "LRU maps are always preallocated (BPF_F_NO_PREALLOC)");
    if (def->key_size == 0)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "key_size", 0, NULL);
    if (def->value_size == 0)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", 0, NULL);
    if ((uint64_t)def->key_size + def->value_size >= EBPFVM_MAP_KMALLOC_MAX - ELEM_HEADER)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "value_size", def->value_size,
                                     "key_size + value_size must stay below 4194304 bytes");
    if (percpu && ebpfvm__round8(def->value_size) > EBPFVM_MAP_PCPU_MAX)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "value_size", def->value_size,
                                     "per-CPU values are limited to 32768 bytes");
    if (def->max_entries > (1u << 28))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "max_entries", def->max_entries,
                                     "at most 268435456 entries");
    return 0;
}

static int devmap_hash_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    int err = ebpfvm__map_check_common(vm, who, def, EBPFVM_F_NUMA_NODE | EBPFVM_F_RDONLY | EBPFVM_F_WRONLY);
    if (err)
        return err;
    if (def->key_size != 4)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "key_size", def->key_size, "must be 4");
    if (def->value_size != 4 && def->value_size != 8)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", def->value_size,
                                     "must be 4 (ifindex) or 8 (struct bpf_devmap_val)");
    if (def->max_entries > (1u << 28))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "max_entries", def->max_entries,
                                     "at most 268435456 entries");
    return 0;
}

/* ---------------------------------------------------- alloc / free */

static void hash_free(struct ebpfvm_map *map)
{
    struct hash_impl *h = map->impl;
    if (!h)
        return;
    if (!h->prealloc && h->buckets) {
        for (uint32_t b = 0; b < h->nbuckets; b++) {
            struct hash_elem *e = h->buckets[b];
            while (e) {
                struct hash_elem *next = e->next;
                ebpfvm__free(map->vm, e);
                e = next;
            }
        }
        struct hash_elem *e = h->free_list;
        while (e) {
            struct hash_elem *next = e->next;
            ebpfvm__free(map->vm, e);
            e = next;
        }
    }
    if (h->lock_ready)
        pthread_rwlock_destroy(&h->lock);
    ebpfvm__free(map->vm, h->block);
    ebpfvm__free(map->vm, h->buckets);
    ebpfvm__free(map->vm, h);
    map->impl = NULL;
}

static int hash_alloc(struct ebpfvm_map *map)
{
    struct hash_impl *h = ebpfvm__calloc(map->vm, 1, sizeof *h);
    if (!h)
        return EBPFVM_ERR_NOMEM;
    map->impl = h;
    h->lru = map->type == EBPFVM_MAP_LRU_HASH || map->type == EBPFVM_MAP_LRU_PERCPU_HASH;
    h->percpu = ebpfvm__map_is_percpu(map);
    h->prealloc = !(map->map_flags & EBPFVM_F_NO_PREALLOC);
    h->value_off = ELEM_HEADER + ebpfvm__round8(map->key_size);
    h->elem_size = h->value_off + (size_t)map->value_stride * (h->percpu ? map->ncpus : 1);
    h->nbuckets = 1;
    while (h->nbuckets < map->max_entries)
        h->nbuckets <<= 1;
    h->buckets = ebpfvm__calloc(map->vm, h->nbuckets, sizeof *h->buckets);
    if (!h->buckets)
        goto fail;
    if (h->prealloc) {
        h->block = ebpfvm__calloc(map->vm, map->max_entries, h->elem_size);
        if (!h->block)
            goto fail;
        /* Free list in index order, element 0 first. */
        for (uint32_t i = map->max_entries; i-- > 0;) {
            struct hash_elem *e = (struct hash_elem *)(h->block + (size_t)i * h->elem_size);
            atomic_init(&e->ref, 0);
            e->next = h->free_list;
            h->free_list = e;
        }
    }
    if (pthread_rwlock_init(&h->lock, NULL) != 0)
        goto fail;
    h->lock_ready = true;
    return 0;
fail:
    hash_free(map);
    return EBPFVM_ERR_NOMEM;
}

/* ------------------------------------------------------- the table */

static struct hash_elem *find(struct ebpfvm_map *map, const void *key, uint32_t hash)
{
    struct hash_impl *h = map->impl;
    for (struct hash_elem *e = h->buckets[hash & (h->nbuckets - 1)]; e; e = e->next)
        if (e->hash == hash && !memcmp(elem_key(e), key, map->key_size))
            return e;
    return NULL;
}

static void lru_unlink(struct hash_impl *h, struct hash_elem *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        h->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        h->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct hash_impl *h, struct hash_elem *e)
{
    e->lru_prev = NULL;
    e->lru_next = h->lru_head;
    if (h->lru_head)
        h->lru_head->lru_prev = e;
    else
        h->lru_tail = e;
    h->lru_head = e;
}

/* Take e out of its bucket and the LRU list, onto the free list. */
static void remove_elem(struct hash_impl *h, struct hash_elem *e)
{
    struct hash_elem **link = &h->buckets[e->hash & (h->nbuckets - 1)];
    while (*link != e)
        link = &(*link)->next;
    *link = e->next;
    if (h->lru)
        lru_unlink(h, e);
    e->next = h->free_list;
    h->free_list = e;
    h->count--;
}

/* LRU: evict one element (second chance for referenced ones). */
static void lru_evict(struct hash_impl *h)
{
    for (uint64_t tries = 0; h->lru_tail && tries <= 2ull * h->count; tries++) {
        struct hash_elem *e = h->lru_tail;
        if (atomic_exchange_explicit(&e->ref, 0, memory_order_relaxed)) {
            lru_unlink(h, e);
            lru_push_front(h, e);
            continue;
        }
        remove_elem(h, e);
        return;
    }
    if (h->lru_tail) /* every element kept being referenced: take the oldest */
        remove_elem(h, h->lru_tail);
}

static void *hash_lookup(struct ebpfvm_map *map, const void *key, uint32_t cpu)
{
    struct hash_impl *h = map->impl;
    if (h->percpu && cpu >= map->ncpus)
        return NULL;
    uint32_t hash = hash_key(key, map->key_size);
    pthread_rwlock_rdlock(&h->lock);
    struct hash_elem *e = find(map, key, hash);
    void *value = NULL;
    if (e) {
        if (h->lru)
            atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
        value = elem_value(h, e, h->percpu ? cpu : 0, map->value_stride);
    }
    pthread_rwlock_unlock(&h->lock);
    return value;
}

static int hash_lookup_copy(struct ebpfvm_map *map, const void *key, void *value)
{
    struct hash_impl *h = map->impl;
    uint32_t hash = hash_key(key, map->key_size);
    pthread_rwlock_rdlock(&h->lock);
    struct hash_elem *e = find(map, key, hash);
    if (e) {
        if (h->percpu)
            memcpy(value, elem_value(h, e, 0, map->value_stride), (size_t)map->ncpus * map->value_stride);
        else
            memcpy(value, elem_value(h, e, 0, map->value_stride), map->value_size);
    }
    pthread_rwlock_unlock(&h->lock);
    return e ? 0 : EBPFVM_ERR_NOENT;
}

/* Write value into e: one CPU's slot, or every slot (cpu < 0). A new
 * per-CPU element written from a program gets zeros in the other slots. */
static void store_value(struct ebpfvm_map *map, struct hash_elem *e, const void *value, int cpu, bool fresh)
{
    struct hash_impl *h = map->impl;
    uint32_t stride = map->value_stride;
    if (!h->percpu) {
        memcpy(elem_value(h, e, 0, stride), value, map->value_size);
        return;
    }
    if (cpu < 0) {
        memcpy(elem_value(h, e, 0, stride), value, (size_t)map->ncpus * stride);
        return;
    }
    if (fresh)
        memset(elem_value(h, e, 0, stride), 0, (size_t)map->ncpus * stride);
    memcpy(elem_value(h, e, (uint32_t)cpu, stride), value, map->value_size);
}

static int hash_update(struct ebpfvm_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
    struct hash_impl *h = map->impl;
    if (h->percpu && cpu >= 0 && (uint32_t)cpu >= map->ncpus)
        return EBPFVM_ERR_INVAL;
    if (map->type == EBPFVM_MAP_DEVMAP_HASH) {
        uint32_t ifindex;
        int32_t prog_fd = -1;
        memcpy(&ifindex, value, 4);
        if (map->value_size == 8)
            memcpy(&prog_fd, (const uint8_t *)value + 4, 4);
        if (ifindex == 0)
            return EBPFVM_ERR_INVAL;
        if (prog_fd > 0)
            return EBPFVM_ERR_UNSUPP;
    }
    uint32_t hash = hash_key(key, map->key_size);
    int err = 0;
    pthread_rwlock_wrlock(&h->lock);
    struct hash_elem *e = find(map, key, hash);
    if (e) {
        if (flags == EBPFVM_NOEXIST) {
            err = EBPFVM_ERR_EXIST;
            goto out;
        }
        store_value(map, e, value, cpu, false);
        if (h->lru) {
            lru_unlink(h, e);
            lru_push_front(h, e);
        }
        goto out;
    }
    if (flags == EBPFVM_EXIST) {
        err = EBPFVM_ERR_NOENT;
        goto out;
    }
    if (h->count >= map->max_entries) {
        if (!h->lru) {
            err = EBPFVM_ERR_RANGE;
            goto out;
        }
        lru_evict(h);
    }
    e = h->free_list;
    if (e) {
        h->free_list = e->next;
    } else {
        e = ebpfvm__alloc(map->vm, h->elem_size);
        if (!e) {
            err = EBPFVM_ERR_NOMEM;
            goto out;
        }
        h->allocated++;
    }
    memset(e, 0, h->elem_size);
    atomic_init(&e->ref, 0);
    e->hash = hash;
    memcpy(elem_key(e), key, map->key_size);
    store_value(map, e, value, cpu, true);
    struct hash_elem **bucket = &h->buckets[hash & (h->nbuckets - 1)];
    e->next = *bucket;
    *bucket = e;
    if (h->lru)
        lru_push_front(h, e);
    h->count++;
out:
    pthread_rwlock_unlock(&h->lock);
    return err;
}

static int hash_delete(struct ebpfvm_map *map, const void *key)
{
    struct hash_impl *h = map->impl;
    uint32_t hash = hash_key(key, map->key_size);
    pthread_rwlock_wrlock(&h->lock);
    struct hash_elem *e = find(map, key, hash);
    if (e)
        remove_elem(h, e);
    pthread_rwlock_unlock(&h->lock);
    return e ? 0 : EBPFVM_ERR_NOENT;
}

static int hash_get_next_key(struct ebpfvm_map *map, const void *key, void *next_key)
{
    struct hash_impl *h = map->impl;
    pthread_rwlock_rdlock(&h->lock);
    struct hash_elem *next = NULL;
    uint32_t bucket = 0;
    if (key) {
        uint32_t hash = hash_key(key, map->key_size);
        struct hash_elem *e = find(map, key, hash);
        if (e) {
            next = e->next;
            bucket = (hash & (h->nbuckets - 1)) + 1;
        }
    }
    while (!next && bucket < h->nbuckets)
        next = h->buckets[bucket++];
    if (next)
        memcpy(next_key, elem_key(next), map->key_size);
    pthread_rwlock_unlock(&h->lock);
    return next ? 0 : EBPFVM_ERR_NOENT;
}

const struct ebpfvm_map_ops ebpfvm__hash_ops = {
    .check_def = hash_check_def,
    .alloc = hash_alloc,
    .free = hash_free,
    .lookup = hash_lookup,
    .lookup_copy = hash_lookup_copy,
    .update = hash_update,
    .delete_elem = hash_delete,
    .get_next_key = hash_get_next_key,
};

const struct ebpfvm_map_ops ebpfvm__devmap_hash_ops = {
    .check_def = devmap_hash_check_def,
    .alloc = hash_alloc,
    .free = hash_free,
    .lookup = hash_lookup,
    .lookup_copy = hash_lookup_copy,
    .update = hash_update,
    .delete_elem = hash_delete,
    .get_next_key = hash_get_next_key,
};

/* ------------------------------------------------------ hash_of_maps */

/* A hash whose values are inner map fds (checked against the template by
 * maps/map.c before update); a program's lookup decodes the fd through the
 * vm's map table. */
static int hash_of_maps_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    /* The kernel's fd_htab_map_alloc_check: HTAB_CREATE_FLAG_MASK (no
     * BPF_F_INNER_MAP), value_size 4. */
    int err = ebpfvm__map_check_common(vm, who, def,
                                       EBPFVM_F_NO_PREALLOC | EBPFVM_F_NUMA_NODE | EBPFVM_F_ACCESS_MASK |
                                           EBPFVM_F_ZERO_SEED);
    if (err)
        return err;
    if (def->value_size != 4)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", def->value_size,
                                     "must be 4 (an inner map fd)");
    return hash_check_def(vm, who, def);
}

static void *hash_of_maps_lookup(struct ebpfvm_map *map, const void *key, uint32_t cpu)
{
    (void)cpu;
    struct hash_impl *h = map->impl;
    uint32_t hash = hash_key(key, map->key_size);
    uint32_t fd = 0;
    pthread_rwlock_rdlock(&h->lock);
    struct hash_elem *e = find(map, key, hash);
    if (e)
        memcpy(&fd, elem_value(h, e, 0, map->value_stride), sizeof fd);
    pthread_rwlock_unlock(&h->lock);
    return e ? ebpfvm__map_inner_from_fd(map, fd) : NULL;
}

const struct ebpfvm_map_ops ebpfvm__hash_of_maps_ops = {
    .check_def = hash_of_maps_check_def,
    .alloc = hash_alloc,
    .free = hash_free,
    .lookup = hash_of_maps_lookup,
    .lookup_copy = hash_lookup_copy,
    .update = hash_update,
    .delete_elem = hash_delete,
    .get_next_key = hash_get_next_key,
};
