/*
 * tests/test_maps.c - map creation checks and the element semantics of the
 * array, hash, per-CPU, LRU, prog array, devmap and xskmap types through
 * the public API; the creation rules and refused element operations of
 * sk_storage and the socket maps; allocation failure; concurrency; the map helpers from
 * programs (LD_IMM64 src 1/2, checked and fast mode).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <ebpfvm/ebpfvm.h>

#include "insn.h"

static ebpfvm_vm *new_vm(void)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    return vm;
}

static int create(ebpfvm_vm *vm, enum ebpfvm_map_type type, uint32_t key_size, uint32_t value_size,
                  uint32_t max_entries, uint32_t flags, const char *name)
{
    struct ebpfvm_map_def def = {.sz = sizeof def,
                                 .type = type,
                                 .key_size = key_size,
                                 .value_size = value_size,
                                 .max_entries = max_entries,
                                 .map_flags = flags,
                                 .name = name};
    int fd = -1;
    int err = ebpfvm_map_create(vm, &def, &fd);
    return err ? err : fd;
}

static int must_create(ebpfvm_vm *vm, enum ebpfvm_map_type type, uint32_t key_size, uint32_t value_size,
                       uint32_t max_entries, uint32_t flags, const char *name)
{
    int fd = create(vm, type, key_size, value_size, max_entries, flags, name);
    cr_assert_geq(fd, 0, "create failed (%d): %s", fd, ebpfvm_vm_errmsg(vm));
    return fd;
}

/* Create must fail with status and a message containing text. */
static void create_fails(enum ebpfvm_map_type type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                         uint32_t flags, int status, const char *text)
{
    ebpfvm_vm *vm = new_vm();
    int err = create(vm, type, key_size, value_size, max_entries, flags, "counters");
    cr_expect_eq(err, status, "status %d, want %d (%s)", err, status, ebpfvm_vm_errmsg(vm));
    cr_expect(strstr(ebpfvm_vm_errmsg(vm), text), "message '%s' lacks '%s'", ebpfvm_vm_errmsg(vm), text);
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------------------ creation */

Test(maps_create, definition_errors_name_the_field)
{
    create_fails(EBPFVM_MAP_ARRAY, 4, 0, 4, 0, EBPFVM_ERR_INVAL, "map 'counters': value_size 0 is invalid for array");
    create_fails(EBPFVM_MAP_ARRAY, 8, 4, 4, 0, EBPFVM_ERR_INVAL, "map 'counters': key_size 8 is invalid for array: must be 4");
    create_fails(EBPFVM_MAP_ARRAY, 4, 4, 0, 0, EBPFVM_ERR_INVAL, "map 'counters': max_entries 0 is invalid for array");
    create_fails(EBPFVM_MAP_ARRAY, 4, 4, 4, 0x1, EBPFVM_ERR_INVAL, "map_flags 0x1 is invalid for array: unknown flag");
    create_fails(EBPFVM_MAP_ARRAY, 4, 5u << 20, 1, 0, EBPFVM_ERR_RANGE, "value_size 5242880 is invalid for array");
    create_fails(EBPFVM_MAP_PERCPU_ARRAY, 4, 40000, 1, 0, EBPFVM_ERR_RANGE,
                 "value_size 40000 is invalid for percpu_array: per-CPU values are limited to 32768 bytes");
    create_fails(EBPFVM_MAP_HASH, 0, 4, 4, 0, EBPFVM_ERR_INVAL, "key_size 0 is invalid for hash");
    create_fails(EBPFVM_MAP_HASH, 4, 0, 4, 0, EBPFVM_ERR_INVAL, "value_size 0 is invalid for hash");
    create_fails(EBPFVM_MAP_HASH, 4, 4, 0, 0, EBPFVM_ERR_INVAL, "max_entries 0 is invalid for hash");
    create_fails(EBPFVM_MAP_HASH, 4, 4, 4, 0x2, EBPFVM_ERR_INVAL, "BPF_F_NO_COMMON_LRU needs an LRU map");
    create_fails(EBPFVM_MAP_HASH, 4, 4, 4, 0x18, EBPFVM_ERR_INVAL, "BPF_F_RDONLY and BPF_F_WRONLY together");
    create_fails(EBPFVM_MAP_HASH, 4, 4, 4, 0x180, EBPFVM_ERR_INVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
    create_fails(EBPFVM_MAP_HASH, 4, 4u << 20, 4, 0, EBPFVM_ERR_RANGE, "key_size + value_size must stay below");
    create_fails(EBPFVM_MAP_HASH, 4, 4, (1u << 28) + 1, 0, EBPFVM_ERR_RANGE, "at most 268435456 entries");
    create_fails(EBPFVM_MAP_LRU_HASH, 4, 4, 4, 0x1, EBPFVM_ERR_UNSUPP, "LRU maps are always preallocated");
    create_fails(EBPFVM_MAP_PROG_ARRAY, 4, 8, 4, 0, EBPFVM_ERR_INVAL, "value_size 8 is invalid for prog_array: must be 4");
    create_fails(EBPFVM_MAP_DEVMAP, 4, 6, 4, 0, EBPFVM_ERR_INVAL, "must be 4 (ifindex) or 8");
    create_fails(EBPFVM_MAP_DEVMAP_HASH, 2, 4, 4, 0, EBPFVM_ERR_INVAL, "key_size 2 is invalid for devmap_hash");
    create_fails(EBPFVM_MAP_XSKMAP, 4, 8, 4, 0, EBPFVM_ERR_INVAL, "value_size 8 is invalid for xskmap");
    create_fails((enum ebpfvm_map_type)7 /* STACK_TRACE */, 4, 4, 4, 0, EBPFVM_ERR_UNSUPP, "map type 7 is not supported");
}

Test(maps_create, unnamed_maps_are_named_by_fd_and_bad_args)
{
    ebpfvm_vm *vm = new_vm();
    must_create(vm, EBPFVM_MAP_ARRAY, 4, 4, 1, 0, NULL);
    cr_assert_eq(create(vm, EBPFVM_MAP_ARRAY, 4, 0, 1, 0, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 1: value_size 0 is invalid for array");
    int fd;
    cr_assert_eq(ebpfvm_map_create(vm, NULL, &fd), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map create: def is NULL");
    struct ebpfvm_map_def def = {.sz = 4, .type = EBPFVM_MAP_ARRAY};
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), EBPFVM_ERR_INVAL);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "def->sz 4 is too small"));
    cr_assert_eq(ebpfvm_map_create(NULL, &def, &fd), EBPFVM_ERR_INVAL);
    ebpfvm_vm_destroy(vm);
}

Test(maps_create, table_full_and_info)
{
    ebpfvm_vm *vm = new_vm();
    for (int i = 0; i < EBPFVM_MAX_MAPS; i++)
        cr_assert_eq(must_create(vm, EBPFVM_MAP_ARRAY, 4, 4, 1, 0, "m"), i);
    cr_assert_eq(create(vm, EBPFVM_MAP_ARRAY, 4, 4, 1, 0, "extra"), EBPFVM_ERR_RANGE);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'extra': the vm's map table is full (256 maps)");
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(vm, 3, &info), 0);
    cr_assert_eq(info.type, EBPFVM_MAP_ARRAY);
    cr_assert_eq(info.key_size, 4);
    cr_assert_eq(info.max_entries, 1);
    cr_assert_str_eq(info.name, "m");
    cr_assert_eq(ebpfvm_map_get_info(vm, EBPFVM_MAX_MAPS, &info), EBPFVM_ERR_NOENT);
    cr_assert_eq(ebpfvm_map_get_info(vm, 0, NULL), EBPFVM_ERR_INVAL);
    ebpfvm_vm_destroy(vm);
}

/* --------------------------------------------------------------- array */

Test(maps_array, lookup_update_semantics)
{
    ebpfvm_vm *vm = new_vm();
    int fd = must_create(vm, EBPFVM_MAP_ARRAY, 4, 12, 4, 0, "counters");
    uint32_t key = 2;
    uint8_t value[12], zero[12] = {0};
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, value), 0);
    cr_assert_arr_eq(value, zero, 12, "elements start zeroed");
    uint8_t v1[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, v1, EBPFVM_ANY), 0);
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, v1, EBPFVM_EXIST), 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, value), 0);
    cr_assert_arr_eq(value, v1, 12);

    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, v1, EBPFVM_NOEXIST), EBPFVM_ERR_EXIST);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'counters': update with BPF_NOEXIST: array elements always exist");
    key = 4;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, v1, EBPFVM_ANY), EBPFVM_ERR_RANGE);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'counters': update: index 4 out of range (max_entries 4)");
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, value), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'counters': lookup: index 4 out of range (max_entries 4)");
    key = 1;
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &key), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'counters': delete: elements of array maps cannot be deleted");
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, v1, 3), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm),
                     "map 'counters': update: invalid flags 0x3 (BPF_ANY, BPF_NOEXIST or BPF_EXIST)");
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, v1, 4), EBPFVM_ERR_INVAL);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "BPF_F_LOCK is not supported"));
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, NULL, value), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'counters': lookup: key is NULL");
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'counters': lookup: value is NULL");
    cr_assert_eq(ebpfvm_map_lookup(vm, 7, &key, value), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "lookup: no map with fd 7");
    ebpfvm_vm_destroy(vm);
}

Test(maps_array, get_next_key_in_index_order)
{
    ebpfvm_vm *vm = new_vm();
    int fd = must_create(vm, EBPFVM_MAP_ARRAY, 4, 4, 3, 0, "a");
    uint32_t key, next;
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, NULL, &next), 0);
    cr_assert_eq(next, 0);
    key = 0;
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, &key, &next), 0);
    cr_assert_eq(next, 1);
    key = 1;
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, &key, &next), 0);
    cr_assert_eq(next, 2);
    key = 2;
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, &key, &next), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'a': get_next_key: no more keys");
    key = 99; /* out of range restarts, like the kernel */
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, &key, &next), 0);
    cr_assert_eq(next, 0);
    ebpfvm_vm_destroy(vm);
}

Test(maps_array, rdonly_and_wronly_flags)
{
    ebpfvm_vm *vm = new_vm();
    int ro = must_create(vm, EBPFVM_MAP_ARRAY, 4, 4, 1, 0x8, "ro");
    int wo = must_create(vm, EBPFVM_MAP_ARRAY, 4, 4, 1, 0x10, "wo");
    uint32_t key = 0, value = 5;
    cr_assert_eq(ebpfvm_map_update(vm, ro, &key, &value, 0), EBPFVM_ERR_PERM);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'ro': update: the map is read-only (BPF_F_RDONLY)");
    cr_assert_eq(ebpfvm_map_lookup(vm, ro, &key, &value), 0);
    cr_assert_eq(ebpfvm_map_update(vm, wo, &key, &value, 0), 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, wo, &key, &value), EBPFVM_ERR_PERM);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'wo': lookup: the map is write-only (BPF_F_WRONLY)");
    ebpfvm_vm_destroy(vm);
}

Test(maps_array, percpu_values_are_rounded_to_8_per_cpu)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 3), 0);
    int fd = must_create(vm, EBPFVM_MAP_PERCPU_ARRAY, 4, 4, 2, 0, "pc");
    uint32_t key = 1;
    uint8_t in[24], out[24];
    for (int i = 0; i < 24; i++)
        in[i] = (uint8_t)(i + 1);
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, in, 0), 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, out), 0);
    cr_assert_arr_eq(out, in, 24);
    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 4), EBPFVM_ERR_INVAL);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "set_ncpus: per-CPU map 'pc' already has 3 CPU slots"),
              "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 0), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "set_ncpus: 0 is out of range 1..256");
    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 3), 0);
    ebpfvm_vm_destroy(vm);
}

/* ---------------------------------------------------------------- hash */

Test(maps_hash, update_flags_and_errors)
{
    ebpfvm_vm *vm = new_vm();
    int fd = must_create(vm, EBPFVM_MAP_HASH, 8, 4, 2, 0, "flows");
    uint64_t k1 = 11, k2 = 22, k3 = 33;
    uint32_t v = 1, out = 0;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k1, &out), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'flows': lookup: key not found");
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k1, &v, EBPFVM_EXIST), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'flows': update with BPF_EXIST: key does not exist");
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k1, &v, EBPFVM_NOEXIST), 0);
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k1, &v, EBPFVM_NOEXIST), EBPFVM_ERR_EXIST);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'flows': update with BPF_NOEXIST: key already exists");
    v = 2;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k1, &v, EBPFVM_EXIST), 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k1, &out), 0);
    cr_assert_eq(out, 2);
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k2, &v, EBPFVM_ANY), 0);
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k3, &v, EBPFVM_ANY), EBPFVM_ERR_RANGE);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'flows': update: map is full (max_entries 2)");
    /* replacing an existing key in a full map works */
    v = 7;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k2, &v, EBPFVM_ANY), 0);
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &k1), 0);
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &k1), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'flows': delete: key not found");
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k3, &v, EBPFVM_ANY), 0, "a deleted slot is reusable");
    ebpfvm_vm_destroy(vm);
}

/* Walk all keys; returns how many, asserting each is distinct and present. */
static int walk_keys(ebpfvm_vm *vm, int fd, uint32_t *seen, int max)
{
    uint32_t key, next;
    int n = 0;
    int err = ebpfvm_map_get_next_key(vm, fd, NULL, &next);
    while (err == 0) {
        cr_assert_lt(n, max, "iteration does not terminate");
        for (int i = 0; i < n; i++)
            cr_assert_neq(seen[i], next, "key %u seen twice", next);
        seen[n++] = next;
        key = next;
        err = ebpfvm_map_get_next_key(vm, fd, &key, &next);
    }
    cr_assert_eq(err, EBPFVM_ERR_NOENT);
    return n;
}

Test(maps_hash, get_next_key_visits_every_key_once)
{
    ebpfvm_vm *vm = new_vm();
    int fd = must_create(vm, EBPFVM_MAP_HASH, 4, 4, 100, 0x1, "h"); /* BPF_F_NO_PREALLOC */
    for (uint32_t k = 0; k < 50; k++)
        cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &k, 0), 0);
    uint32_t seen[100];
    cr_assert_eq(walk_keys(vm, fd, seen, 100), 50);
    /* absent key -> first key, like the kernel */
    uint32_t absent = 1000, first, next;
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, NULL, &first), 0);
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, &absent, &next), 0);
    cr_assert_eq(next, first);
    for (uint32_t k = 0; k < 50; k += 2)
        cr_assert_eq(ebpfvm_map_delete(vm, fd, &k), 0);
    cr_assert_eq(walk_keys(vm, fd, seen, 100), 25);
    for (int i = 0; i < 25; i++)
        cr_assert_eq(seen[i] % 2, 1);
    ebpfvm_vm_destroy(vm);
}

Test(maps_hash, percpu_hash_all_cpus)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 2), 0);
    int fd = must_create(vm, EBPFVM_MAP_PERCPU_HASH, 4, 12, 4, 0, "pch");
    uint32_t key = 9;
    uint8_t in[32], out[32];
    for (int i = 0; i < 32; i++)
        in[i] = (uint8_t)(100 + i);
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, in, 0), 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, out), 0);
    cr_assert_arr_eq(out, in, 32, "2 CPUs x round_up(12, 8) bytes");
    ebpfvm_vm_destroy(vm);
}

Test(maps_hash, lru_evicts_least_recently_used)
{
    ebpfvm_vm *vm = new_vm();
    int fd = must_create(vm, EBPFVM_MAP_LRU_HASH, 4, 4, 3, 0, "lru");
    for (uint32_t k = 1; k <= 3; k++)
        cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &k, 0), 0);
    /* touching 1 (update moves it to the front) makes 2 the oldest */
    uint32_t k = 1, v = 10;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, EBPFVM_EXIST), 0);
    k = 4;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &k, EBPFVM_NOEXIST), 0, "a full LRU map evicts: %s",
                 ebpfvm_vm_errmsg(vm));
    uint32_t out;
    k = 2;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k, &out), EBPFVM_ERR_NOENT, "2 was evicted");
    for (k = 1; k <= 4; k++)
        if (k != 2)
            cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k, &out), 0, "key %u kept", k);
    k = 1;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k, &out), 0);
    cr_assert_eq(out, 10);
    ebpfvm_vm_destroy(vm);
}

Test(maps_hash, lru_percpu)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq(ebpfvm_vm_set_ncpus(vm, 2), 0);
    int fd = must_create(vm, EBPFVM_MAP_LRU_PERCPU_HASH, 4, 8, 2, 0, "lp");
    uint64_t in[2] = {5, 6}, out[2];
    for (uint32_t k = 0; k < 5; k++)
        cr_assert_eq(ebpfvm_map_update(vm, fd, &k, in, 0), 0);
    uint32_t seen[8];
    cr_assert_eq(walk_keys(vm, fd, seen, 8), 2);
    uint32_t k = 4;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k, out), 0);
    cr_assert_eq(out[1], 6);
    ebpfvm_vm_destroy(vm);
}

/* ------------------------------------------------ slot arrays and others */

Test(maps_slots, devmap_semantics)
{
    ebpfvm_vm *vm = new_vm();
    int fd = must_create(vm, EBPFVM_MAP_DEVMAP, 4, 8, 4, 0, "tx_ports");
    uint32_t key = 1, out[2];
    int32_t val[2] = {7, -1};
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, out), EBPFVM_ERR_NOENT, "empty slot");
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, val, EBPFVM_NOEXIST), EBPFVM_ERR_EXIST);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'tx_ports': update with BPF_NOEXIST: devmap elements always exist");
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, val, EBPFVM_ANY), 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, out), 0);
    cr_assert_eq(out[0], 7);
    val[1] = 3; /* a devmap program */
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, val, EBPFVM_ANY), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'tx_ports': update is not supported on devmap maps");
    val[0] = 0; /* ifindex 0 empties the slot */
    val[1] = -1;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, val, EBPFVM_ANY), 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, out), EBPFVM_ERR_NOENT);
    key = 9;
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &key), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'tx_ports': delete: index 9 out of range (max_entries 4)");
    key = 2;
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &key), 0, "deleting an empty devmap slot is fine");
    ebpfvm_vm_destroy(vm);
}

Test(maps_slots, devmap_hash_and_xskmap)
{
    ebpfvm_vm *vm = new_vm();
    int dh = must_create(vm, EBPFVM_MAP_DEVMAP_HASH, 4, 4, 2, 0, "dh");
    uint32_t key = 100, ifindex = 0, out;
    cr_assert_eq(ebpfvm_map_update(vm, dh, &key, &ifindex, 0), EBPFVM_ERR_INVAL);
    cr_assert(strstr(ebpfvm_vm_errmsg(vm), "map 'dh': update: invalid devmap value"), "%s", ebpfvm_vm_errmsg(vm));
    ifindex = 3;
    cr_assert_eq(ebpfvm_map_update(vm, dh, &key, &ifindex, 0), 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, dh, &key, &out), 0);
    cr_assert_eq(out, 3);

    int xsk = must_create(vm, EBPFVM_MAP_XSKMAP, 4, 4, 4, 0, "xsks");
    key = 0;
    uint32_t queue = 12;
    cr_assert_eq(ebpfvm_map_update(vm, xsk, &key, &queue, EBPFVM_EXIST), EBPFVM_ERR_NOENT);
    cr_assert_eq(ebpfvm_map_update(vm, xsk, &key, &queue, EBPFVM_NOEXIST), 0);
    cr_assert_eq(ebpfvm_map_update(vm, xsk, &key, &queue, EBPFVM_NOEXIST), EBPFVM_ERR_EXIST);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'xsks': update with BPF_NOEXIST: key already exists");
    cr_assert_eq(ebpfvm_map_lookup(vm, xsk, &key, &out), 0);
    cr_assert_eq(out, 12);
    cr_assert_eq(ebpfvm_map_delete(vm, xsk, &key), 0);
    cr_assert_eq(ebpfvm_map_lookup(vm, xsk, &key, &out), EBPFVM_ERR_NOENT);
    key = 4;
    cr_assert_eq(ebpfvm_map_update(vm, xsk, &key, &queue, 0), EBPFVM_ERR_RANGE);
    ebpfvm_vm_destroy(vm);
}

/* ---------------------------------------------------------- sk_storage */

/* BPF_F_NO_PREALLOC and BPF_F_CLONE, Linux's map flags. */
#define SK_NO_PREALLOC 0x1u
#define SK_CLONE 0x200u

/* Create must fail with status and exactly the message text. */
static void sk_storage_fails(uint32_t key_size, uint32_t value_size, uint32_t max_entries, uint32_t flags,
                             int status, const char *text)
{
    ebpfvm_vm *vm = new_vm();
    int err = create(vm, EBPFVM_MAP_SK_STORAGE, key_size, value_size, max_entries, flags, "sks");
    cr_expect_eq(err, status, "status %d, want %d (%s)", err, status, ebpfvm_vm_errmsg(vm));
    cr_expect_str_eq(ebpfvm_vm_errmsg(vm), text);
    ebpfvm_vm_destroy(vm);
}

Test(maps_sk_storage, creation_rules)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq((int)EBPFVM_MAP_SK_STORAGE, 24);
    int fd = must_create(vm, EBPFVM_MAP_SK_STORAGE, 4, 16, 0, SK_NO_PREALLOC, "sks");
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(vm, fd, &info), 0);
    cr_assert_eq(info.type, EBPFVM_MAP_SK_STORAGE);
    cr_assert_eq(info.key_size, 4);
    cr_assert_eq(info.value_size, 16);
    cr_assert_eq(info.max_entries, 0);
    cr_assert_eq(info.map_flags, SK_NO_PREALLOC);
    /* BPF_F_CLONE may join; the largest value the kernel allows (x86-64). */
    must_create(vm, EBPFVM_MAP_SK_STORAGE, 4, 65407, 0, SK_NO_PREALLOC | SK_CLONE, "clone");
    ebpfvm_vm_destroy(vm);

    sk_storage_fails(4, 16, 0, 0, EBPFVM_ERR_INVAL,
                     "map 'sks': map_flags 0x0 is invalid for sk_storage: must include BPF_F_NO_PREALLOC");
    sk_storage_fails(4, 16, 0, SK_CLONE, EBPFVM_ERR_INVAL,
                     "map 'sks': map_flags 0x200 is invalid for sk_storage: must include BPF_F_NO_PREALLOC");
    sk_storage_fails(4, 16, 0, SK_NO_PREALLOC | 0x8 /* BPF_F_RDONLY */, EBPFVM_ERR_INVAL,
                     "map 'sks': map_flags 0x9 is invalid for sk_storage: unknown flag");
    sk_storage_fails(4, 16, 1, SK_NO_PREALLOC, EBPFVM_ERR_INVAL,
                     "map 'sks': max_entries 1 is invalid for sk_storage: must be 0 (one value per socket)");
    sk_storage_fails(8, 16, 0, SK_NO_PREALLOC, EBPFVM_ERR_INVAL,
                     "map 'sks': key_size 8 is invalid for sk_storage: must be 4 (a socket fd)");
    sk_storage_fails(0, 16, 0, SK_NO_PREALLOC, EBPFVM_ERR_INVAL,
                     "map 'sks': key_size 0 is invalid for sk_storage: must be 4 (a socket fd)");
    sk_storage_fails(4, 0, 0, SK_NO_PREALLOC, EBPFVM_ERR_INVAL, "map 'sks': value_size 0 is invalid for sk_storage");
    sk_storage_fails(4, 65408, 0, SK_NO_PREALLOC, EBPFVM_ERR_RANGE,
                     "map 'sks': value_size 65408 is invalid for sk_storage: at most 65407 bytes");
}

Test(maps_sk_storage, element_operations_are_refused)
{
    ebpfvm_vm *vm = new_vm();
    int fd = must_create(vm, EBPFVM_MAP_SK_STORAGE, 4, 8, 0, SK_NO_PREALLOC, "sks");
    uint32_t key = 0, next = 0;
    uint64_t value = 0;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &key, &value), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'sks': lookup is not supported on sk_storage maps");
    cr_assert_eq(ebpfvm_map_update(vm, fd, &key, &value, EBPFVM_ANY), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'sks': update is not supported on sk_storage maps");
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &key), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'sks': delete is not supported on sk_storage maps");
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, NULL, &next), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'sks': get_next_key is not supported on sk_storage maps");
    /* refused before the arguments are looked at */
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, NULL, NULL), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'sks': lookup is not supported on sk_storage maps");
    ebpfvm_vm_destroy(vm);
}

/* ----------------------------------------------------------- socket maps */

/* Create must fail with status and exactly the message text. */
static void sock_map_fails(enum ebpfvm_map_type type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                           uint32_t flags, int status, const char *text)
{
    ebpfvm_vm *vm = new_vm();
    int err = create(vm, type, key_size, value_size, max_entries, flags, "socks");
    cr_expect_eq(err, status, "status %d, want %d (%s)", err, status, ebpfvm_vm_errmsg(vm));
    cr_expect_str_eq(ebpfvm_vm_errmsg(vm), text);
    ebpfvm_vm_destroy(vm);
}

static void assert_info(ebpfvm_vm *vm, int fd, enum ebpfvm_map_type type, uint32_t key_size, uint32_t value_size,
                        uint32_t max_entries, uint32_t flags)
{
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(vm, fd, &info), 0);
    cr_assert_eq(info.type, type);
    cr_assert_eq(info.key_size, key_size);
    cr_assert_eq(info.value_size, value_size);
    cr_assert_eq(info.max_entries, max_entries);
    cr_assert_eq(info.map_flags, flags);
}

/* Linux's BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_RDONLY_PROG,
 * BPF_F_WRONLY_PROG, BPF_F_MMAPABLE, BPF_F_INNER_MAP. */
#define SOCK_NUMA 0x4u
#define SOCK_RDONLY 0x8u
#define SOCK_WRONLY 0x10u
#define SOCK_RDONLY_PROG 0x80u
#define SOCK_WRONLY_PROG 0x100u
#define SOCK_MMAPABLE 0x400u
#define SOCK_INNER_MAP 0x1000u

Test(maps_socket, sockmap_creation_rules)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq((int)EBPFVM_MAP_SOCKMAP, 15);
    assert_info(vm, must_create(vm, EBPFVM_MAP_SOCKMAP, 4, 4, 16, 0, "socks"), EBPFVM_MAP_SOCKMAP, 4, 4, 16, 0);
    /* an 8-byte value (a cookie), SOCK_CREATE_FLAG_MASK's flags, INT_MAX entries (no storage) */
    must_create(vm, EBPFVM_MAP_SOCKMAP, 4, 8, 1, SOCK_NUMA | SOCK_RDONLY, "cookies");
    must_create(vm, EBPFVM_MAP_SOCKMAP, 4, 4, 2147483647u, SOCK_WRONLY, "big");
    ebpfvm_vm_destroy(vm);

    sock_map_fails(EBPFVM_MAP_SOCKMAP, 4, 4, 1, SOCK_RDONLY_PROG, EBPFVM_ERR_INVAL,
                   "map 'socks': map_flags 0x80 is invalid for sockmap: unknown flag");
    sock_map_fails(EBPFVM_MAP_SOCKMAP, 4, 4, 1, 0x1 /* BPF_F_NO_PREALLOC */, EBPFVM_ERR_INVAL,
                   "map 'socks': map_flags 0x1 is invalid for sockmap: unknown flag");
    sock_map_fails(EBPFVM_MAP_SOCKMAP, 4, 4, 1, SOCK_RDONLY | SOCK_WRONLY, EBPFVM_ERR_INVAL,
                   "map 'socks': map_flags 0x18 is invalid for sockmap: BPF_F_RDONLY and BPF_F_WRONLY together");
    sock_map_fails(EBPFVM_MAP_SOCKMAP, 4, 4, 0, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': max_entries 0 is invalid for sockmap");
    sock_map_fails(EBPFVM_MAP_SOCKMAP, 4, 4, 2147483648u, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': max_entries 2147483648 is invalid for sockmap: at most 2147483647");
    sock_map_fails(EBPFVM_MAP_SOCKMAP, 8, 4, 1, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': key_size 8 is invalid for sockmap: must be 4");
    sock_map_fails(EBPFVM_MAP_SOCKMAP, 4, 2, 1, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': value_size 2 is invalid for sockmap: must be 4 or 8 (a socket fd or cookie)");
    sock_map_fails(EBPFVM_MAP_SOCKMAP, 4, 16, 1, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': value_size 16 is invalid for sockmap: must be 4 or 8 (a socket fd or cookie)");
}

Test(maps_socket, sockhash_creation_rules)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq((int)EBPFVM_MAP_SOCKHASH, 18);
    assert_info(vm, must_create(vm, EBPFVM_MAP_SOCKHASH, 4, 4, 8, 0, "socks"), EBPFVM_MAP_SOCKHASH, 4, 4, 8, 0);
    /* any key size up to MAX_BPF_STACK, the largest bucket array */
    must_create(vm, EBPFVM_MAP_SOCKHASH, 1, 8, 1, SOCK_NUMA | SOCK_WRONLY, "small");
    must_create(vm, EBPFVM_MAP_SOCKHASH, 512, 4, 134217728u, SOCK_RDONLY, "big");
    ebpfvm_vm_destroy(vm);

    sock_map_fails(EBPFVM_MAP_SOCKHASH, 4, 4, 1, SOCK_WRONLY_PROG, EBPFVM_ERR_INVAL,
                   "map 'socks': map_flags 0x100 is invalid for sockhash: unknown flag");
    sock_map_fails(EBPFVM_MAP_SOCKHASH, 4, 4, 0, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': max_entries 0 is invalid for sockhash");
    sock_map_fails(EBPFVM_MAP_SOCKHASH, 0, 4, 1, 0, EBPFVM_ERR_INVAL, "map 'socks': key_size 0 is invalid for sockhash");
    sock_map_fails(EBPFVM_MAP_SOCKHASH, 4, 0, 1, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': value_size 0 is invalid for sockhash: must be 4 or 8 (a socket fd or cookie)");
    sock_map_fails(EBPFVM_MAP_SOCKHASH, 513, 4, 1, 0, EBPFVM_ERR_RANGE,
                   "map 'socks': key_size 513 is invalid for sockhash: at most 512 bytes");
    sock_map_fails(EBPFVM_MAP_SOCKHASH, 4, 4, 134217729u, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': max_entries 134217729 is invalid for sockhash: at most 134217728");
}

Test(maps_socket, reuseport_sockarray_creation_rules)
{
    ebpfvm_vm *vm = new_vm();
    cr_assert_eq((int)EBPFVM_MAP_REUSEPORT_SOCKARRAY, 20);
    assert_info(vm, must_create(vm, EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 8, 4, 0, "socks"),
                EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 8, 4, 0);
    /* array_map_alloc_check's flags: NUMA and the access flags */
    must_create(vm, EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 4, 1, SOCK_NUMA | SOCK_RDONLY | SOCK_WRONLY_PROG, "ro");
    must_create(vm, EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 4, 1, SOCK_WRONLY | SOCK_RDONLY_PROG, "wo");
    ebpfvm_vm_destroy(vm);

    sock_map_fails(EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 4, 1, SOCK_MMAPABLE, EBPFVM_ERR_INVAL,
                   "map 'socks': map_flags 0x400 is invalid for reuseport_sockarray: unknown flag");
    sock_map_fails(EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 4, 1, SOCK_INNER_MAP, EBPFVM_ERR_INVAL,
                   "map 'socks': map_flags 0x1000 is invalid for reuseport_sockarray: unknown flag");
    sock_map_fails(EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 4, 1, 0x800 /* BPF_F_PRESERVE_ELEMS */, EBPFVM_ERR_INVAL,
                   "map 'socks': map_flags 0x800 is invalid for reuseport_sockarray: unknown flag");
    sock_map_fails(EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 4, 1, SOCK_RDONLY_PROG | SOCK_WRONLY_PROG, EBPFVM_ERR_INVAL,
                   "map 'socks': map_flags 0x180 is invalid for reuseport_sockarray: BPF_F_RDONLY_PROG and "
                   "BPF_F_WRONLY_PROG together");
    sock_map_fails(EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, 4, 0, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': max_entries 0 is invalid for reuseport_sockarray");
    sock_map_fails(EBPFVM_MAP_REUSEPORT_SOCKARRAY, 8, 8, 1, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': key_size 8 is invalid for reuseport_sockarray: must be 4");
    /* the value size is checked first, as reuseport_array_alloc_check does */
    sock_map_fails(EBPFVM_MAP_REUSEPORT_SOCKARRAY, 8, 12, 0, 0, EBPFVM_ERR_INVAL,
                   "map 'socks': value_size 12 is invalid for reuseport_sockarray: must be 4 or 8 (a socket fd or "
                   "cookie)");
}

/* Each element operation of the public API on a socket map: refused with
 * EBPFVM_ERR_UNSUPP and "map 'socks': <op> is not supported on <type> maps". */
static void expect_refused(ebpfvm_vm *vm, int err, const char *op, const char *type_name)
{
    char want[100];
    snprintf(want, sizeof want, "map 'socks': %s is not supported on %s maps", op, type_name);
    cr_expect_eq(err, EBPFVM_ERR_UNSUPP, "%s on %s: %d (%s)", op, type_name, err, ebpfvm_vm_errmsg(vm));
    cr_expect_str_eq(ebpfvm_vm_errmsg(vm), want);
}

static void assert_element_ops_refused(enum ebpfvm_map_type type, uint32_t key_size, const char *type_name)
{
    ebpfvm_vm *vm = new_vm();
    int fd = must_create(vm, type, key_size, 8, 4, 0, "socks");
    uint8_t key[8] = {0}, next[8] = {0};
    uint64_t value = 0;
    expect_refused(vm, ebpfvm_map_lookup(vm, fd, key, &value), "lookup", type_name);
    expect_refused(vm, ebpfvm_map_update(vm, fd, key, &value, EBPFVM_ANY), "update", type_name);
    expect_refused(vm, ebpfvm_map_delete(vm, fd, key), "delete", type_name);
    expect_refused(vm, ebpfvm_map_get_next_key(vm, fd, NULL, next), "get_next_key", type_name);
    /* refused before the arguments are looked at */
    expect_refused(vm, ebpfvm_map_lookup(vm, fd, NULL, NULL), "lookup", type_name);
    ebpfvm_vm_destroy(vm);
}

Test(maps_socket, element_operations_are_refused)
{
    assert_element_ops_refused(EBPFVM_MAP_SOCKMAP, 4, "sockmap");
    assert_element_ops_refused(EBPFVM_MAP_SOCKHASH, 8, "sockhash");
    assert_element_ops_refused(EBPFVM_MAP_REUSEPORT_SOCKARRAY, 4, "reuseport_sockarray");
}

/* ------------------------------------------------------- allocation */

struct counting_alloc {
    long allocs, frees;
    long fail_at; /* fail the Nth allocation (1-based); 0: never */
};

static void *counting_hook(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    struct counting_alloc *c = ud;
    (void)old_size;
    if (new_size == 0) {
        if (ptr)
            c->frees++;
        free(ptr);
        return NULL;
    }
    if (!ptr) {
        if (c->fail_at && c->allocs + 1 == c->fail_at)
            return NULL;
        c->allocs++;
        return malloc(new_size);
    }
    return realloc(ptr, new_size);
}

/* Build every map type and exercise it; returns the first failure. */
static int build_all(ebpfvm_vm *vm)
{
    static const struct {
        enum ebpfvm_map_type type;
        uint32_t key, value, max, flags;
    } defs[] = {
        {EBPFVM_MAP_ARRAY, 4, 8, 4, 0},       {EBPFVM_MAP_PERCPU_ARRAY, 4, 8, 4, 0},
        {EBPFVM_MAP_HASH, 4, 8, 4, 0},        {EBPFVM_MAP_HASH, 4, 8, 4, 1},
        {EBPFVM_MAP_LRU_HASH, 4, 8, 4, 0},    {EBPFVM_MAP_PERCPU_HASH, 4, 8, 4, 1},
        {EBPFVM_MAP_LPM_TRIE, 8, 8, 4, 1},    {EBPFVM_MAP_PROG_ARRAY, 4, 4, 4, 0},
        {EBPFVM_MAP_DEVMAP, 4, 4, 4, 0},      {EBPFVM_MAP_DEVMAP_HASH, 4, 4, 4, 0},
        {EBPFVM_MAP_XSKMAP, 4, 4, 4, 0},      {EBPFVM_MAP_RINGBUF, 0, 0, 4096, 0},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        int fd = create(vm, defs[i].type, defs[i].key, defs[i].value, defs[i].max, defs[i].flags, "x");
        if (fd < 0)
            return fd;
        if (defs[i].type == EBPFVM_MAP_RINGBUF || defs[i].type == EBPFVM_MAP_PROG_ARRAY)
            continue;
        uint8_t key[8] = {8, 0, 0, 0, 10, 1}, value[16] = {1};
        for (int n = 0; n < 3; n++) {
            key[4] = (uint8_t)(10 + n);
            if (defs[i].key == 4)
                key[0] = (uint8_t)n;
            int err = ebpfvm_map_update(vm, fd, key, value, 0);
            if (err)
                return err;
        }
        uint8_t next[8];
        int err = ebpfvm_map_get_next_key(vm, fd, key, next);
        if (err && err != EBPFVM_ERR_NOENT)
            return err;
    }
    return 0;
}

Test(maps_alloc, failing_allocator_leaks_nothing)
{
    /* Find how many allocations a full build takes, then fail each one. */
    struct counting_alloc c = {0};
    struct ebpfvm_vm_opts opts = {.sz = sizeof opts, .alloc = counting_hook, .alloc_ud = &c};
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(&opts, &vm), 0);
    cr_assert_eq(build_all(vm), 0, "%s", ebpfvm_vm_errmsg(vm));
    ebpfvm_vm_destroy(vm);
    cr_assert_eq(c.allocs, c.frees, "leak on the success path");
    long total = c.allocs;
    cr_assert_gt(total, 12);
    for (long n = 2; n <= total; n++) { /* allocation 1 is the vm itself */
        struct counting_alloc f = {.fail_at = n};
        opts.alloc_ud = &f;
        cr_assert_eq(ebpfvm_vm_create(&opts, &vm), 0);
        int err = build_all(vm);
        cr_assert_eq(err, EBPFVM_ERR_NOMEM, "failing allocation %ld gave %d (%s)", n, err, ebpfvm_vm_errmsg(vm));
        cr_assert(strstr(ebpfvm_vm_errmsg(vm), "out of memory"), "%s", ebpfvm_vm_errmsg(vm));
        ebpfvm_vm_destroy(vm);
        cr_assert_eq(f.allocs, f.frees, "leak when allocation %ld fails", n);
    }
}

/* ---------------------------------------------------------- concurrency */

struct hammer {
    ebpfvm_vm *vm;
    int fd;
    uint32_t base;
    int failures;
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    for (uint32_t round = 0; round < 200; round++) {
        for (uint32_t i = 0; i < 16; i++) {
            uint32_t key = h->base + i, value = round, out;
            if (ebpfvm_map_update(h->vm, h->fd, &key, &value, EBPFVM_ANY) != 0)
                h->failures++;
            if (ebpfvm_map_lookup(h->vm, h->fd, &key, &out) != 0 || out != round)
                h->failures++;
            uint32_t next;
            ebpfvm_map_get_next_key(h->vm, h->fd, &key, &next);
            if (round % 2 && ebpfvm_map_delete(h->vm, h->fd, &key) != 0)
                h->failures++;
        }
    }
    return NULL;
}

Test(maps_concurrency, threads_update_one_hash_map)
{
    ebpfvm_vm *vm = new_vm();
    int fd = must_create(vm, EBPFVM_MAP_HASH, 4, 4, 64, 0, "shared");
    enum { NTHREADS = 4 };
    pthread_t threads[NTHREADS];
    struct hammer h[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        h[i] = (struct hammer){vm, fd, (uint32_t)i * 16, 0};
        cr_assert_eq(pthread_create(&threads[i], NULL, hammer_thread, &h[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(threads[i], NULL);
        cr_assert_eq(h[i].failures, 0, "thread %d saw %d failures", i, h[i].failures);
    }
    uint32_t seen[64];
    cr_assert_eq(walk_keys(vm, fd, seen, 64), 0, "every key deleted in the last round");
    ebpfvm_vm_destroy(vm);
}
