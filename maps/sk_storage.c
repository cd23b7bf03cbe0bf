/*
 * maps/sk_storage.c - BPF_MAP_TYPE_SK_STORAGE (24): socket-local storage,
 * one value per socket, reached in the kernel through bpf_sk_storage_get
 * and bpf_sk_storage_delete with a socket pointer.
 *
 * ebpfvm's program types never hold a socket, so such a map exists only to
 * be declared: an object that defines one opens and its other programs
 * load. The verifier refuses the map to every helper, and the public
 * element operations refuse it (maps/map.c), so no op beyond the
 * definition check is ever reached and there is no storage to allocate.
 *
 * Definition rules, the kernel's (bpf_local_storage_map_alloc_check):
 * map_flags must include BPF_F_NO_PREALLOC and may add BPF_F_CLONE, nothing
 * else; max_entries 0 (the storage grows with the sockets); key_size 4 (a
 * socket fd); value_size 1..SK_STORAGE_MAX_VALUE. The kernel also demands
 * BTF for the key and value, which struct ebpfvm_map_def does not carry.
 */
#include "maps/map.h"

/* BPF_F_CLONE: a clone of the socket gets a copy of its storage. */
#define SK_F_CLONE 0x200u

/*
 * The kernel's BPF_LOCAL_STORAGE_MAX_VALUE_SIZE on x86-64:
 * min(KMALLOC_MAX_SIZE - MAX_BPF_STACK - sizeof(struct
 * bpf_local_storage_elem), U16_MAX - sizeof(struct bpf_local_storage_elem))
 * = min(4194304 - 512 - 128, 65535 - 128) = 65407. The element is 128
 * bytes: its 56 bytes of list nodes, owner pointer and rcu head, then the
 * data (an 8-byte map pointer before the value) on the next 64-byte cache
 * line, the struct padded to its 64-byte alignment.
 */
#define SK_STORAGE_ELEM_SIZE 128u
#define SK_STORAGE_MAX_VALUE (65535u - SK_STORAGE_ELEM_SIZE)
_Static_assert(SK_STORAGE_MAX_VALUE == 65407, "the value_size message says 65407");

static int sk_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    if (def->map_flags & ~(EBPFVM_F_NO_PREALLOC | SK_F_CLONE))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "map_flags", def->map_flags, "unknown flag");
    if (!(def->map_flags & EBPFVM_F_NO_PREALLOC))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "map_flags", def->map_flags,
                                     "must include BPF_F_NO_PREALLOC");
    if (def->max_entries != 0)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "max_entries", def->max_entries,
                                     "must be 0 (one value per socket)");
    if (def->key_size != 4)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "key_size", def->key_size,
                                     "must be 4 (a socket fd)");
    if (def->value_size == 0)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", 0, NULL);
    if (def->value_size > SK_STORAGE_MAX_VALUE)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "value_size", def->value_size,
                                     "at most 65407 bytes");
    return 0;
}

/* No sockets, so no storage: the map is its definition. */
static int sk_alloc(struct ebpfvm_map *map)
{
    map->impl = NULL;
    return 0;
}

static void sk_free(struct ebpfvm_map *map)
{
    (void)map;
}

const struct ebpfvm_map_ops ebpfvm__sk_storage_ops = {
    .check_def = sk_check_def,
    .alloc = sk_alloc,
    .free = sk_free,
};
