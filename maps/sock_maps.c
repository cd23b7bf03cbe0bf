/*
 * maps/sock_maps.c - the socket maps: BPF_MAP_TYPE_SOCKMAP (15) and
 * BPF_MAP_TYPE_SOCKHASH (18), sockets by index or by key for the kernel's
 * sk_msg/sk_skb redirects, and BPF_MAP_TYPE_REUSEPORT_SOCKARRAY (20), the
 * sockets bpf_sk_select_reuseport picks from.
 *
 * ebpfvm's program types never hold a socket, so these maps exist only to
 * be declared: an object that defines one (the kernel selftests'
 * verifier_sock.c defines all three) opens and its other programs load.
 * The verifier refuses the maps to every helper, and the public element
 * operations refuse them (maps/map.c), so no op beyond the definition
 * check is ever reached and there is no storage to allocate.
 *
 * Definition rules, the kernel's (net/core/sock_map.c sock_map_alloc and
 * sock_hash_alloc, kernel/bpf/reuseport_array.c reuseport_array_alloc_check
 * then array_map_alloc_check); all are EINVAL there unless noted:
 *   - value_size 4 or 8 (a socket fd, or a socket cookie) for all three;
 *   - max_entries > 0; sockmap at most INT_MAX; sockhash at most 2^27 (its
 *     bucket array, roundup_pow_of_two(max_entries) 16-byte buckets, must
 *     stay under U32_MAX bytes);
 *   - key_size 4 (an index) for sockmap and the reuseport array; any
 *     non-zero key_size for sockhash, at most MAX_BPF_STACK (512; E2BIG);
 *   - map_flags: sockmap and sockhash take SOCK_CREATE_FLAG_MASK, that is
 *     BPF_F_NUMA_NODE, BPF_F_RDONLY and BPF_F_WRONLY; the reuseport array
 *     takes ARRAY_CREATE_FLAG_MASK less the flags array_map_alloc_check
 *     keeps for other array types (BPF_F_MMAPABLE and BPF_F_INNER_MAP for
 *     plain arrays, BPF_F_PRESERVE_ELEMS for perf event arrays), that is
 *     BPF_F_NUMA_NODE and the four access flags (BPF_F_RDONLY, _WRONLY,
 *     _RDONLY_PROG, _WRONLY_PROG). Contradictory access flags are refused
 *     for all three (the syscall's bpf_get_file_flag,
 *     bpf_map_flags_access_ok), by ebpfvm__map_check_common.
 */
#include "maps/map.h"

/* The kernel's MAX_BPF_STACK: the largest sockhash key. */
#define SOCK_HASH_MAX_KEY 512u

/* sock_hash_alloc: buckets_num = roundup_pow_of_two(max_entries) must not
 * exceed U32_MAX / sizeof(struct bpf_shtab_bucket) (16 bytes on x86-64:
 * an hlist_head and a spinlock, padded), i.e. 2^28 - 1, so max_entries is
 * at most 2^27. */
#define SOCK_HASH_MAX_ENTRIES (1u << 27)
_Static_assert(SOCK_HASH_MAX_ENTRIES == 134217728, "the max_entries message says 134217728");

/* SOCK_CREATE_FLAG_MASK (sockmap, sockhash). */
#define SOCK_FLAGS (EBPFVM_F_NUMA_NODE | EBPFVM_F_RDONLY | EBPFVM_F_WRONLY)
/* What array_map_alloc_check lets a reuseport array keep. */
#define REUSEPORT_FLAGS (EBPFVM_F_NUMA_NODE | EBPFVM_F_ACCESS_MASK)

static int check_value_size(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    if (def->value_size != 4 && def->value_size != 8)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "value_size", def->value_size,
                                     "must be 4 or 8 (a socket fd or cookie)");
    return 0;
}

static int check_index_key(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    if (def->key_size != 4)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "key_size", def->key_size, "must be 4");
    return 0;
}

static int sockmap_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    int err = ebpfvm__map_check_common(vm, who, def, SOCK_FLAGS);
    if (!err && def->max_entries > (uint32_t)INT32_MAX)
        err = ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "max_entries", def->max_entries,
                                    "at most 2147483647");
    if (!err)
        err = check_index_key(vm, who, def);
    if (!err)
        err = check_value_size(vm, who, def);
    return err;
}

static int sockhash_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    int err = ebpfvm__map_check_common(vm, who, def, SOCK_FLAGS);
    if (!err && def->key_size == 0)
        err = ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "key_size", 0, NULL);
    if (!err)
        err = check_value_size(vm, who, def);
    if (!err && def->key_size > SOCK_HASH_MAX_KEY)
        err = ebpfvm__map_def_error(vm, EBPFVM_ERR_RANGE, who, def, "key_size", def->key_size,
                                    "at most 512 bytes");
    if (!err && def->max_entries > SOCK_HASH_MAX_ENTRIES)
        err = ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "max_entries", def->max_entries,
                                    "at most 134217728");
    return err;
}

static int reuseport_check_def(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def)
{
    int err = check_value_size(vm, who, def);
    if (!err)
        err = ebpfvm__map_check_common(vm, who, def, REUSEPORT_FLAGS);
    if (!err)
        err = check_index_key(vm, who, def);
    return err;
}

/* No sockets, so no storage: the map is its definition. */
static int sock_alloc(struct ebpfvm_map *map)
{
    map->impl = NULL;
    return 0;
}

static void sock_free(struct ebpfvm_map *map)
{
    (void)map;
}

const struct ebpfvm_map_ops ebpfvm__sockmap_ops = {
    .check_def = sockmap_check_def,
    .alloc = sock_alloc,
    .free = sock_free,
};

const struct ebpfvm_map_ops ebpfvm__sockhash_ops = {
    .check_def = sockhash_check_def,
    .alloc = sock_alloc,
    .free = sock_free,
};

const struct ebpfvm_map_ops ebpfvm__reuseport_sockarray_ops = {
    .check_def = reuseport_check_def,
    .alloc = sock_alloc,
    .free = sock_free,
};
