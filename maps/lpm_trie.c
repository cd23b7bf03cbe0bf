/*
 * maps/lpm_trie.c - BPF_MAP_TYPE_LPM_TRIE: longest-prefix match.
 *
 * Keys are the kernel's struct bpf_lpm_trie_key { u32 prefixlen; u8 data[]; }
 * (prefixlen in host order, data in network order, most significant bit
 * first); key_size = 4 + data size (1..256 bytes), so prefixlen is at most
 * 8 * (key_size - 4).
 *
 * Owns: a binary path-compressed trie, the kernel's shape. Each node has a
 * prefix (prefixlen bits of data) and two children chosen by the bit just
 * after the prefix. Real nodes hold values; intermediate nodes only join two
 * subtrees and always have two children. n_entries counts real nodes
 * (<= max_entries; a new prefix in a full trie is ENOSPC, EBPFVM_ERR_RANGE).
 *
 * Invariants:
 *   - one rwlock per map: lookups shared, changes exclusive;
 *   - nodes are allocated on demand (the kernel requires BPF_F_NO_PREALLOC)
 *     and a removed node goes on a free list until the map is destroyed, so
 *     a value pointer a program holds stays valid memory;
 *   - get_next_key walks in post-order (longer prefixes before their
 *     covering prefix, 0-bit side first), like the kernel; a NULL or absent
 *     key gives the first key of that order.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_rwlock_t */
#include <pthread.h>
#include <string.h>

#include "maps/map.h"

#define LPM_DATA_MAX 256u
#define LPM_VALUE_MAX (EBPFVM_MAP_KMALLOC_MAX - LPM_DATA_MAX - 64u)

struct lpm_node {
    struct lpm_node *child[2];
    struct lpm_node *next_free;
    uint32_t prefixlen;
    bool intermediate;
};

#define NODE_HEADER ((sizeof(struct lpm_node) + 7) & ~(size_t)7)

struct lpm_impl {
    pthread_rwlock_t lock;
    bool lock_ready;
    struct lpm_node *root;
    struct lpm_node *free_list;
    uint32_t n_entries;
    uint32_t data_size;
    uint32_t max_prefixlen;
    size_t value_off;
    size_t node_size;
};

static uint8_t *node_data(struct lpm_node *n)
{
    return (uint8_t *)n + NODE_HEADER;
}

static uint8_t *node_value(const struct lpm_impl *t, struct lpm_node *n)
{
    return (uint8_t *)n + t->value_off;
}

static uint32_t key_prefixlen(const void *key)
{
    uint32_t prefixlen;
    memcpy(&prefixlen, key, 4);
    return prefixlen;
}

static const uint8_t *key_data(const void *key)
{
    return (const uint8_t *)key + 4;
}

static unsigned extract_bit(const uint8_t *data, uint32_t index)
{
    return (data[index / 8] >> (7 - index % 8)) & 1;
}

/* Leading bits of node's prefix that data (valid for prefixlen bits)
 * matches, at most min(node->prefixlen, prefixlen). */
static uint32_t prefix_match(const struct lpm_impl *t, struct lpm_node *n, const uint8_t *data, uint32_t prefixlen)
{
    uint32_t limit = n->prefixlen < prefixlen ? n->prefixlen : prefixlen;
    const uint8_t *nd = node_data(n);
    uint32_t matched = 0;
    for (uint32_t i = 0; i < t->data_size && matched < limit; i++) {
        uint8_t diff = nd[i] ^ data[i];
        if (diff) {
            while (!(diff & 0x80)) {
                diff = (uint8_t)(diff << 1);
                matched++;
            }
            break;
        }
        matched += 8;
    }
    return matched < limit ? matched : limit;
}

/* ---------------------------------------------------------- checks */

static int lpm_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    int err = ebpfvm__map_check_common(vm, who, def,
                                       EBPFVM_F_NO_PREALLOC | EBPFVM_F_NUMA_NODE | EBPFVM_F_ACCESS_MASK);
    if (err)
        return err;
    if (!(def->map_flags & EBPFVM_F_NO_PREALLOC))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "map_flags", def->map_flags,
                                     "BPF_F_NO_PREALLOC is required");
    if (def->key_size < 5 || def->key_size > 4 + LPM_DATA_MAX)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "key_size", def->key_size,
                                     "must be 4 (prefixlen) + 1..256 data bytes");
    if (def->value_size == 0 || def->value_size > LPM_VALUE_MAX)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", def->value_size, NULL);
    return 0;
}

/* ---------------------------------------------------- alloc / free */

static void lpm_free(struct ebpfvm_map *map)
{
    struct lpm_impl *t = map->impl;
    if (!t)
        return;
    /* Free the trie iteratively, threading pending nodes through next_free. */
    struct lpm_node *pending = t->root;
    if (pending)
        pending->next_free = NULL;
    while (pending) {
        struct lpm_node *n = pending;
        pending = n->next_free;
        for (int i = 0; i < 2; i++) {
            if (n->child[i]) {
                n->child[i]->next_free = pending;
                pending = n->child[i];
            }
        }
        ebpfvm__free(map->vm, n);
    }
    while (t->free_list) {
        struct lpm_node *n = t->free_list;
        t->free_list = n->next_free;
        ebpfvm__free(map->vm, n);
    }
    if (t->lock_ready)
        pthread_rwlock_destroy(&t->lock);
    ebpfvm__free(map->vm, t);
    map->impl = NULL;
}

static int lpm_alloc(struct ebpfvm_map *map)
{
    struct lpm_impl *t = ebpfvm__calloc(map->vm, 1, sizeof *t);
    if (!t)
        return EBPFVM_ERR_NOMEM;
    map->impl = t;
    t->data_size = map->key_size - 4;
    t->max_prefixlen = t->data_size * 8;
    t->value_off = NODE_HEADER + ebpfvm__round8(t->data_size);
    t->node_size = t->value_off + map->value_stride;
    if (pthread_rwlock_init(&t->lock, NULL) != 0) {
        lpm_free(map);
        return EBPFVM_ERR_NOMEM;
    }
    t->lock_ready = true;
    return 0;
}

static struct lpm_node *node_new(struct ebpfvm_map *map)
{
    struct lpm_impl *t = map->impl;
    struct lpm_node *n = t->free_list;
    if (n)
        t->free_list = n->next_free;
    else if (!(n = ebpfvm__alloc(map->vm, t->node_size)))
        return NULL;
    memset(n, 0, t->node_size);
    return n;
}

static void node_release(struct lpm_impl *t, struct lpm_node *n)
{
    n->child[0] = n->child[1] = NULL;
    n->next_free = t->free_list;
    t->free_list = n;
}

/* -------------------------------------------------------- operations */

static struct lpm_node *lpm_find_longest(struct lpm_impl *t, const void *key)
{
    uint32_t prefixlen = key_prefixlen(key);
    if (prefixlen > t->max_prefixlen)
        prefixlen = t->max_prefixlen;
    const uint8_t *data = key_data(key);
    struct lpm_node *found = NULL;
    for (struct lpm_node *n = t->root; n;) {
        uint32_t matched = prefix_match(t, n, data, prefixlen);
        if (matched == t->max_prefixlen) {
            found = n;
            break;
        }
        if (matched < n->prefixlen)
            break;
        if (!n->intermediate)
            found = n;
        n = n->child[extract_bit(data, n->prefixlen)];
    }
    return found;
}

static void *lpm_lookup(struct ebpfvm_map *map, const void *key, uint32_t cpu)
{
    (void)cpu;
    struct lpm_impl *t = map->impl;
    pthread_rwlock_rdlock(&t->lock);
    struct lpm_node *n = lpm_find_longest(t, key);
    pthread_rwlock_unlock(&t->lock);
    return n ? node_value(t, n) : NULL;
}

static int lpm_lookup_copy(struct ebpfvm_map *map, const void *key, void *value)
{
    struct lpm_impl *t = map->impl;
    pthread_rwlock_rdlock(&t->lock);
    struct lpm_node *n = lpm_find_longest(t, key);
    if (n)
        memcpy(value, node_value(t, n), map->value_size);
    pthread_rwlock_unlock(&t->lock);
    return n ? 0 : EBPFVM_ERR_NOENT;
}

static int lpm_update(struct ebpfvm_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
    (void)cpu;
    struct lpm_impl *t = map->impl;
    uint32_t prefixlen = key_prefixlen(key);
    const uint8_t *data = key_data(key);
    if (prefixlen > t->max_prefixlen)
        return EBPFVM_ERR_INVAL;
    int err = 0;
    pthread_rwlock_wrlock(&t->lock);
    struct lpm_node **slot = &t->root, *n;
    uint32_t matched = 0;
    while ((n = *slot)) {
        matched = prefix_match(t, n, data, prefixlen);
        if (n->prefixlen != matched || n->prefixlen == prefixlen)
            break;
        slot = &n->child[extract_bit(data, n->prefixlen)];
    }
    if (n && n->prefixlen == prefixlen && matched == prefixlen) {
        /* The exact prefix has a node: replace its value, or make a join
         * node real. */
        if (!n->intermediate) {
            if (flags == EBPFVM_NOEXIST)
                err = EBPFVM_ERR_EXIST;
            else
                memcpy(node_value(t, n), value, map->value_size);
            goto out;
        }
        if (flags == EBPFVM_EXIST) {
            err = EBPFVM_ERR_NOENT;
            goto out;
        }
        if (t->n_entries >= map->max_entries) {
            err = EBPFVM_ERR_RANGE;
            goto out;
        }
        memcpy(node_data(n), data, t->data_size);
        memcpy(node_value(t, n), value, map->value_size);
        n->intermediate = false;
        t->n_entries++;
        goto out;
    }
    if (flags == EBPFVM_EXIST) {
        err = EBPFVM_ERR_NOENT;
        goto out;
    }
    if (t->n_entries >= map->max_entries) {
        err = EBPFVM_ERR_RANGE;
        goto out;
    }
    struct lpm_node *fresh = node_new(map);
    if (!fresh) {
        err = EBPFVM_ERR_NOMEM;
        goto out;
    }
    fresh->prefixlen = prefixlen;
    memcpy(node_data(fresh), data, t->data_size);
    memcpy(node_value(t, fresh), value, map->value_size);
    if (!n) {
        *slot = fresh;
    } else if (matched == prefixlen) {
        /* The new prefix covers n. */
        fresh->child[extract_bit(node_data(n), matched)] = n;
        *slot = fresh;
    } else {
        /* They diverge after `matched` bits: join them. */
        struct lpm_node *join = node_new(map);
        if (!join) {
            node_release(t, fresh);
            err = EBPFVM_ERR_NOMEM;
            goto out;
        }
        join->prefixlen = matched;
        join->intermediate = true;
        memcpy(node_data(join), node_data(n), t->data_size);
        join->child[extract_bit(node_data(n), matched)] = n;
        join->child[extract_bit(data, matched)] = fresh;
        *slot = join;
    }
    t->n_entries++;
out:
    pthread_rwlock_unlock(&t->lock);
    return err;
}

static int lpm_delete(struct ebpfvm_map *map, const void *key)
{
    struct lpm_impl *t = map->impl;
    uint32_t prefixlen = key_prefixlen(key);
    const uint8_t *data = key_data(key);
    if (prefixlen > t->max_prefixlen)
        return EBPFVM_ERR_INVAL;
    pthread_rwlock_wrlock(&t->lock);
    struct lpm_node **trim = &t->root, **parent_slot = &t->root, *parent = NULL, *n;
    uint32_t matched = 0;
    while ((n = *trim)) {
        matched = prefix_match(t, n, data, prefixlen);
        if (n->prefixlen != matched || n->prefixlen == prefixlen)
            break;
        parent = n;
        parent_slot = trim;
        trim = &n->child[extract_bit(data, n->prefixlen)];
    }
    if (!n || n->prefixlen != prefixlen || matched != prefixlen || n->intermediate) {
        pthread_rwlock_unlock(&t->lock);
        return EBPFVM_ERR_NOENT;
    }
    t->n_entries--;
    if (n->child[0] && n->child[1]) {
        n->intermediate = true; /* still joins its two subtrees */
    } else if (parent && parent->intermediate && !n->child[0] && !n->child[1]) {
        /* The join node above loses its reason to exist. */
        *parent_slot = parent->child[parent->child[0] == n ? 1 : 0];
        node_release(t, n);
        node_release(t, parent);
    } else {
        *trim = n->child[0] ? n->child[0] : n->child[1];
        node_release(t, n);
    }
    pthread_rwlock_unlock(&t->lock);
    return 0;
}

/* The first real node in post-order under root (0-side first). */
static struct lpm_node *leftmost(struct lpm_node *root)
{
    struct lpm_node *found = NULL;
    for (struct lpm_node *n = root; n;) {
        if (n->intermediate) {
            n = n->child[0];
        } else {
            found = n;
            n = n->child[0] ? n->child[0] : n->child[1];
        }
    }
    return found;
}

static int lpm_get_next_key(struct ebpfvm_map *map, const void *key, void *next_key)
{
    struct lpm_impl *t = map->impl;
    struct lpm_node **stack = ebpfvm__calloc(map->vm, (size_t)t->max_prefixlen + 1, sizeof *stack);
    if (!stack)
        return EBPFVM_ERR_NOMEM;
    pthread_rwlock_rdlock(&t->lock);
    struct lpm_node *next = NULL;
    bool located = false;
    if (key && t->root && key_prefixlen(key) <= t->max_prefixlen) {
        uint32_t prefixlen = key_prefixlen(key);
        const uint8_t *data = key_data(key);
        size_t depth = 0;
        struct lpm_node *n = t->root;
        uint32_t matched = 0;
        while (n) {
            stack[depth++] = n;
            matched = prefix_match(t, n, data, prefixlen);
            if (n->prefixlen != matched || n->prefixlen == prefixlen)
                break;
            n = n->child[extract_bit(data, n->prefixlen)];
        }
        if (n && n->prefixlen == prefixlen && matched == prefixlen && !n->intermediate) {
            located = true;
            /* Walk up: the 1-side sibling subtree, else the parent. */
            for (size_t i = depth - 1; i-- > 0;) {
                struct lpm_node *parent = stack[i];
                if (parent->child[0] == n && parent->child[1]) {
                    next = leftmost(parent->child[1]);
                    break;
                }
                if (!parent->intermediate) {
                    next = parent;
                    break;
                }
                n = parent;
            }
        }
    }
    if (!located)
        next = leftmost(t->root);
    if (next) {
        memcpy(next_key, &next->prefixlen, 4);
        memcpy((uint8_t *)next_key + 4, node_data(next), t->data_size);
    }
    pthread_rwlock_unlock(&t->lock);
    ebpfvm__free(map->vm, stack);
    return next ? 0 : EBPFVM_ERR_NOENT;
}

const struct ebpfvm_map_ops ebpfvm__lpm_trie_ops = {
    .check_def = lpm_check_def,
    .alloc = lpm_alloc,
    .free = lpm_free,
    .lookup = lpm_lookup,
    .lookup_copy = lpm_lookup_copy,
    .update = lpm_update,
    .delete_elem = lpm_delete,
    .get_next_key = lpm_get_next_key,
};
