/*
 * maps/ringbuf.c - BPF_MAP_TYPE_RINGBUF: a multi-producer, single-consumer
 * ring of variable-size records, with the kernel's record format.
 *
 * BPF_MAP_TYPE_USER_RINGBUF (user space produces, programs drain) shares
 * the definition rules and the storage; it has no producer API and no
 * drain helper yet, and the ringbuf consumer API refuses it.
 *
 * Record layout (kernel's): an 8-byte header { u32 len; u32 pg_off; } then
 * the sample, the whole record rounded up to 8 bytes. len holds the sample
 * size plus BUSY (bit 31: reserved, not yet submitted) and DISCARD (bit 30:
 * skip it). pg_off is the header's offset from the start of the data area
 * in 4096-byte pages (the kernel's counts from its ring structure).
 *
 * Owns: the data area (max_entries bytes: a power of two and a multiple of
 * 4096), producer_pos and consumer_pos (free-running byte counters; a
 * position's offset is pos & mask).
 *
 * Invariants:
 *   - producer_pos - consumer_pos <= max_entries;
 *   - reservation is serialised by prod_lock; submit/discard are lock-free
 *     (one atomic store of len, release); consumption is serialised by
 *     cons_lock and stops at the first BUSY record, so records are seen in
 *     reservation order;
 *   - the kernel maps the data area twice so a record may wrap around the
 *     end; this ring cannot, so a record that would wrap is placed at offset
 *     0 behind a DISCARD padding record that fills the tail. A reservation
 *     may therefore fail slightly earlier than in the kernel.
 *   - a program that reserves and never submits or discards (the kernel's
 *     verifier forbids it) blocks the consumer at that record.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "maps/map.h"

#define RB_BUSY_BIT (1u << 31)
#define RB_DISCARD_BIT (1u << 30)
#define RB_HDR_SIZE 8u
#define RB_PAGE 4096u

struct rb_impl {
    uint8_t *data;
    uint64_t mask;
    _Atomic uint64_t producer_pos;
    _Atomic uint64_t consumer_pos;
    pthread_mutex_t prod_lock;
    pthread_mutex_t cons_lock;
    bool locks_ready;
};

/* The header's len word, accessed atomically. */
static _Atomic uint32_t *hdr_len(uint8_t *hdr)
{
    return (_Atomic uint32_t *)(void *)hdr;
}

static int rb_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    int err = ebpfvm__map_check_common(vm, who, def, EBPFVM_F_NUMA_NODE);
    if (err)
        return err;
    if (def->key_size != 0)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "key_size", def->key_size, "must be 0");
    if (def->value_size != 0)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", def->value_size, "must be 0");
    if ((def->max_entries & (def->max_entries - 1)) != 0 || def->max_entries % RB_PAGE != 0)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "max_entries", def->max_entries,
                                     "must be a power of 2 and a multiple of 4096");
    return 0;
}

static void rb_free(struct ebpfvm_map *map)
{
    struct rb_impl *rb = map->impl;
    if (!rb)
        return;
    if (rb->locks_ready) {
        pthread_mutex_destroy(&rb->prod_lock);
        pthread_mutex_destroy(&rb->cons_lock);
    }
    ebpfvm__free(map->vm, rb->data);
    ebpfvm__free(map->vm, rb);
    map->impl = NULL;
}

static int rb_alloc(struct ebpfvm_map *map)
{
    struct rb_impl *rb = ebpfvm__calloc(map->vm, 1, sizeof *rb);
    if (!rb)
        return EBPFVM_ERR_NOMEM;
    map->impl = rb;
    atomic_init(&rb->producer_pos, 0);
    atomic_init(&rb->consumer_pos, 0);
    rb->mask = (uint64_t)map->max_entries - 1;
    rb->data = ebpfvm__calloc(map->vm, 1, map->max_entries);
    if (!rb->data)
        goto fail;
    if (pthread_mutex_init(&rb->prod_lock, NULL) != 0)
        goto fail;
    if (pthread_mutex_init(&rb->cons_lock, NULL) != 0) {
        pthread_mutex_destroy(&rb->prod_lock);
        goto fail;
    }
    rb->locks_ready = true;
    return 0;
fail:
    rb_free(map);
    return EBPFVM_ERR_NOMEM;
}

static void write_header(struct rb_impl *rb, uint64_t pos, uint32_t len)
{
    uint8_t *hdr = rb->data + (pos & rb->mask);
    uint32_t pg_off = (uint32_t)((pos & rb->mask) / RB_PAGE);
    memcpy(hdr + 4, &pg_off, 4);
    atomic_store_explicit(hdr_len(hdr), len, memory_order_release);
}

void *ebpfvm__ringbuf_reserve(struct ebpfvm_map *map, uint64_t size)
{
    struct rb_impl *rb = map->impl;
    uint64_t ring = rb->mask + 1;
    if (size >= RB_DISCARD_BIT || size + RB_HDR_SIZE > ring)
        return NULL;
    uint64_t len = (size + RB_HDR_SIZE + 7) & ~(uint64_t)7;
    pthread_mutex_lock(&rb->prod_lock);
    uint64_t cons = atomic_load_explicit(&rb->consumer_pos, memory_order_acquire);
    uint64_t prod = atomic_load_explicit(&rb->producer_pos, memory_order_relaxed);
    uint64_t off = prod & rb->mask;
    uint64_t pad = off + len > ring ? ring - off : 0;
    if (prod + pad + len - cons > ring) {
        pthread_mutex_unlock(&rb->prod_lock);
        return NULL;
    }
    if (pad)
        write_header(rb, prod, (uint32_t)(pad - RB_HDR_SIZE) | RB_DISCARD_BIT);
    uint64_t pos = prod + pad;
    write_header(rb, pos, (uint32_t)size | RB_BUSY_BIT);
    atomic_store_explicit(&rb->producer_pos, pos + len, memory_order_release);
    pthread_mutex_unlock(&rb->prod_lock);
    return rb->data + (pos & rb->mask) + RB_HDR_SIZE;
}

int ebpfvm__ringbuf_commit(struct ebpfvm_vm *vm, uint64_t sample, bool discard)
{
    for (uint32_t i = 0; i < vm->nmaps; i++) {
        struct ebpfvm_map *map = vm->maps[i];
        if (!map || map->type != EBPFVM_MAP_RINGBUF)
            continue;
        struct rb_impl *rb = map->impl;
        uint64_t start = (uint64_t)(uintptr_t)rb->data;
        if (sample < start + RB_HDR_SIZE || sample - start > rb->mask || (sample - start) % 8 != 0)
            continue;
        uint8_t *hdr = rb->data + (sample - start) - RB_HDR_SIZE;
        uint32_t len = atomic_load_explicit(hdr_len(hdr), memory_order_acquire);
        if (!(len & RB_BUSY_BIT))
            return EBPFVM_ERR_INVAL;
        len &= ~RB_BUSY_BIT;
        if (discard)
            len |= RB_DISCARD_BIT;
        atomic_store_explicit(hdr_len(hdr), len, memory_order_release);
        return 0;
    }
    return EBPFVM_ERR_INVAL;
}

int ebpfvm_ringbuf_consume(ebpfvm_vm *vm, int fd, ebpfvm_ringbuf_fn fn, void *ud, size_t *count)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    if (count)
        *count = 0;
    if (fd < 0 || (uint32_t)fd >= vm->nmaps || !vm->maps[fd])
        return ebpfvm__error(vm, EBPFVM_ERR_NOENT, "ringbuf_consume: no map with fd %d", fd);
    struct ebpfvm_map *map = vm->maps[fd];
    if (map->type != EBPFVM_MAP_RINGBUF)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "ringbuf_consume: map %d is a %s, not a ringbuf", fd,
                             map->type_name);
    if (!fn)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "ringbuf_consume: callback is NULL");
    struct rb_impl *rb = map->impl;
    size_t delivered = 0;
    pthread_mutex_lock(&rb->cons_lock);
    uint64_t cons = atomic_load_explicit(&rb->consumer_pos, memory_order_relaxed);
    for (;;) {
        uint64_t prod = atomic_load_explicit(&rb->producer_pos, memory_order_acquire);
        if (cons >= prod)
            break;
        uint8_t *hdr = rb->data + (cons & rb->mask);
        uint32_t len = atomic_load_explicit(hdr_len(hdr), memory_order_acquire);
        if (len & RB_BUSY_BIT)
            break;
        uint32_t size = len & ~(RB_BUSY_BIT | RB_DISCARD_BIT);
        uint64_t total = ((uint64_t)size + RB_HDR_SIZE + 7) & ~(uint64_t)7;
        /* Records never wrap and never pass the producer: a header that says
         * otherwise was overwritten (an unverified program): stop there. */
        if (total > prod - cons || (cons & rb->mask) + total > rb->mask + 1)
            break;
        cons += total;
        int stop = 0;
        if (!(len & RB_DISCARD_BIT)) {
            delivered++;
            stop = fn(ud, hdr + RB_HDR_SIZE, size);
        }
        atomic_store_explicit(&rb->consumer_pos, cons, memory_order_release);
        if (stop)
            break;
    }
    pthread_mutex_unlock(&rb->cons_lock);
    if (count)
        *count = delivered;
    return EBPFVM_OK;
}

int ebpfvm_ringbuf_avail(const ebpfvm_vm *vm, int fd, uint64_t *bytes)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_vm *mvm = (struct ebpfvm_vm *)vm; /* the message is the only thing written */
    if (!bytes)
        return ebpfvm__error(mvm, EBPFVM_ERR_INVAL, "ringbuf_avail: bytes is NULL");
    if (fd < 0 || (uint32_t)fd >= vm->nmaps || !vm->maps[fd])
        return ebpfvm__error(mvm, EBPFVM_ERR_NOENT, "ringbuf_avail: no ringbuf with fd %d", fd);
    if (vm->maps[fd]->type != EBPFVM_MAP_RINGBUF)
        return ebpfvm__error(mvm, EBPFVM_ERR_INVAL, "ringbuf_avail: map %d is a %s, not a ringbuf", fd,
                             vm->maps[fd]->type_name);
    struct rb_impl *rb = vm->maps[fd]->impl;
    *bytes = atomic_load_explicit(&rb->producer_pos, memory_order_acquire) -
             atomic_load_explicit(&rb->consumer_pos, memory_order_acquire);
    return EBPFVM_OK;
}

const struct ebpfvm_map_ops ebpfvm__ringbuf_ops = {
    .check_def = rb_check_def,
    .alloc = rb_alloc,
    .free = rb_free,
};

/* Same rules and storage as a ringbuf; nothing reaches it yet. */
const struct ebpfvm_map_ops ebpfvm__user_ringbuf_ops = {
    .check_def = rb_check_def,
    .alloc = rb_alloc,
    .free = rb_free,
};
