/*
 * tests/test_maps_lpm.c - BPF_MAP_TYPE_LPM_TRIE: creation rules, longest
 * prefix match, update flags, delete (including join-node collapse),
 * post-order iteration, capacity.
 */
#include <string.h>

#include <criterion/criterion.h>

#include <ebpfvm/ebpfvm.h>

/* struct bpf_lpm_trie_key for IPv4: u32 prefixlen + 4 data bytes. */
struct key4 {
    uint32_t prefixlen;
    uint8_t addr[4];
};

static struct key4 k4(uint32_t prefixlen, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct key4 k = {prefixlen, {a, b, c, d}};
    return k;
}

static ebpfvm_vm *vm;
static int fd;

static void setup(void)
{
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_LPM_TRIE, .key_size = 8, .value_size = 4,
                                 .max_entries = 8, .map_flags = 1 /* BPF_F_NO_PREALLOC */, .name = "routes"};
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), 0, "%s", ebpfvm_vm_errmsg(vm));
}

static void teardown(void)
{
    ebpfvm_vm_destroy(vm);
}

static void add(struct key4 k, uint32_t value)
{
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &value, EBPFVM_ANY), 0, "%s", ebpfvm_vm_errmsg(vm));
}

/* The value of the longest match for addr, or 0 when none. */
static uint32_t match(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct key4 k = k4(32, a, b, c, d);
    uint32_t value = 0;
    int err = ebpfvm_map_lookup(vm, fd, &k, &value);
    cr_assert(err == 0 || err == EBPFVM_ERR_NOENT);
    return err ? 0 : value;
}

static void create_fails(uint32_t key_size, uint32_t value_size, uint32_t flags, const char *text)
{
    ebpfvm_vm *v = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &v), 0);
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_LPM_TRIE, .key_size = key_size,
                                 .value_size = value_size, .max_entries = 4, .map_flags = flags, .name = "t"};
    int f;
    cr_expect_eq(ebpfvm_map_create(v, &def, &f), EBPFVM_ERR_INVAL);
    cr_expect(strstr(ebpfvm_vm_errmsg(v), text), "'%s' lacks '%s'", ebpfvm_vm_errmsg(v), text);
    ebpfvm_vm_destroy(v);
}

Test(maps_lpm, creation_rules)
{
    create_fails(8, 4, 0, "map 't': map_flags 0x0 is invalid for lpm_trie: BPF_F_NO_PREALLOC is required");
    create_fails(4, 4, 1, "map 't': key_size 4 is invalid for lpm_trie: must be 4 (prefixlen) + 1..256 data bytes");
    create_fails(261, 4, 1, "key_size 261 is invalid for lpm_trie");
    create_fails(8, 0, 1, "value_size 0 is invalid for lpm_trie");
    create_fails(8, 4, 1 | 0x40, "map_flags 0x41 is invalid for lpm_trie: unknown flag");
}

Test(maps_lpm, longest_prefix_wins, .init = setup, .fini = teardown)
{
    add(k4(8, 10, 0, 0, 0), 8);
    add(k4(16, 10, 1, 0, 0), 16);
    add(k4(24, 10, 1, 2, 0), 24);
    add(k4(0, 0, 0, 0, 0), 99); /* default route */
    add(k4(32, 10, 1, 2, 3), 32);
    cr_assert_eq(match(10, 1, 2, 3), 32);
    cr_assert_eq(match(10, 1, 2, 4), 24);
    cr_assert_eq(match(10, 1, 3, 4), 16);
    cr_assert_eq(match(10, 2, 3, 4), 8);
    cr_assert_eq(match(11, 2, 3, 4), 99);
    /* the key's prefixlen bounds the match */
    struct key4 k = k4(20, 10, 1, 2, 3);
    uint32_t value;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k, &value), 0);
    cr_assert_eq(value, 16);
}

Test(maps_lpm, branching_prefixes_make_join_nodes, .init = setup, .fini = teardown)
{
    /* 192.168.0.0/24 and 192.168.1.0/24 diverge at bit 23: a join node. */
    add(k4(24, 192, 168, 0, 0), 1);
    add(k4(24, 192, 168, 1, 0), 2);
    cr_assert_eq(match(192, 168, 0, 7), 1);
    cr_assert_eq(match(192, 168, 1, 7), 2);
    cr_assert_eq(match(192, 168, 2, 7), 0, "the join node /23 has no value");
    /* inserting the join prefix itself makes it real */
    add(k4(23, 192, 168, 0, 0), 3);
    cr_assert_eq(match(192, 168, 0, 7), 1);
    struct key4 k = k4(23, 192, 168, 1, 9);
    uint32_t value;
    cr_assert_eq(ebpfvm_map_lookup(vm, fd, &k, &value), 0);
    cr_assert_eq(value, 3);
    /* deleting a leaf under a join collapses it */
    struct key4 d = k4(23, 192, 168, 0, 0);
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &d), 0);
    d = k4(24, 192, 168, 0, 0);
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &d), 0);
    cr_assert_eq(match(192, 168, 0, 7), 0);
    cr_assert_eq(match(192, 168, 1, 7), 2);
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &d), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'routes': delete: key not found");
    /* a join node is not a key */
    d = k4(22, 192, 168, 0, 0);
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &d), EBPFVM_ERR_NOENT);
}

Test(maps_lpm, update_flags_and_prefixlen_bounds, .init = setup, .fini = teardown)
{
    struct key4 k = k4(16, 10, 1, 0, 0);
    uint32_t v = 1;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, EBPFVM_EXIST), EBPFVM_ERR_NOENT);
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, EBPFVM_NOEXIST), 0);
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, EBPFVM_NOEXIST), EBPFVM_ERR_EXIST);
    v = 2;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, EBPFVM_EXIST), 0);
    cr_assert_eq(match(10, 1, 9, 9), 2);
    k.prefixlen = 33;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, EBPFVM_ANY), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'routes': update: prefixlen 33 exceeds the maximum 32");
    cr_assert_eq(ebpfvm_map_delete(vm, fd, &k), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'routes': delete: prefixlen 33 exceeds the maximum 32");
}

Test(maps_lpm, full_trie_is_enospc, .init = setup, .fini = teardown)
{
    for (uint8_t i = 0; i < 8; i++)
        add(k4(32, 10, 0, 0, i), i);
    struct key4 k = k4(32, 10, 0, 0, 100);
    uint32_t v = 0;
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, EBPFVM_ANY), EBPFVM_ERR_RANGE);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'routes': update: map is full (max_entries 8)");
    k = k4(32, 10, 0, 0, 3); /* replacing still works */
    cr_assert_eq(ebpfvm_map_update(vm, fd, &k, &v, EBPFVM_ANY), 0);
}

Test(maps_lpm, get_next_key_is_post_order, .init = setup, .fini = teardown)
{
    add(k4(8, 10, 0, 0, 0), 1);
    add(k4(16, 10, 1, 0, 0), 2);
    add(k4(16, 10, 128, 0, 0), 3);
    add(k4(24, 10, 1, 2, 0), 4);
    /* Post-order, 0-side first: 10.1.2/24, 10.1/16, 10.128/16, 10/8. */
    const struct key4 want[] = {k4(24, 10, 1, 2, 0), k4(16, 10, 1, 0, 0), k4(16, 10, 128, 0, 0),
                                k4(8, 10, 0, 0, 0)};
    struct key4 cur, next;
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, NULL, &next), 0);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(next.prefixlen, want[i].prefixlen, "step %zu: /%u", i, next.prefixlen);
        cr_assert_arr_eq(next.addr, want[i].addr, 4, "step %zu", i);
        cur = next;
        int err = ebpfvm_map_get_next_key(vm, fd, &cur, &next);
        cr_assert_eq(err, i == 3 ? EBPFVM_ERR_NOENT : 0, "step %zu: %d", i, err);
    }
    /* an absent key restarts from the first */
    cur = k4(12, 1, 2, 3, 4);
    cr_assert_eq(ebpfvm_map_get_next_key(vm, fd, &cur, &next), 0);
    cr_assert_eq(next.prefixlen, 24);
}
