/*
 * tests/test_maps_ringbuf.c - BPF_MAP_TYPE_RINGBUF: creation rules, the
 * record header layout, reserve/submit/discard/output from programs, the
 * consumer API, wrap-around and full rings, checked-mode faults; and
 * BPF_MAP_TYPE_USER_RINGBUF: the same creation rules, refused by the
 * element operations and the ringbuf consumer API.
 */
#include <string.h>

#include <criterion/criterion.h>

#include <ebpfvm/ebpfvm.h>

#include "insn.h"

static ebpfvm_vm *vm;
static int rb;

static void setup(void)
{
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_map_helpers(vm), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_RINGBUF, .max_entries = 4096, .name = "events"};
    cr_assert_eq(ebpfvm_map_create(vm, &def, &rb), 0, "%s", ebpfvm_vm_errmsg(vm));
}

static void teardown(void)
{
    ebpfvm_vm_destroy(vm);
}

struct collected {
    int n;
    size_t sizes[64];
    uint8_t first[64];
    uint32_t header_len[64];
    int stop_after;
};

static int collect(void *ud, const void *data, size_t size)
{
    struct collected *c = ud;
    if (c->n < 64) {
        c->sizes[c->n] = size;
        c->first[c->n] = size ? *(const uint8_t *)data : 0;
        memcpy(&c->header_len[c->n], (const uint8_t *)data - 8, 4);
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static int run(const struct ebpf_insn *insns, size_t count, enum ebpfvm_exec_mode mode, uint64_t *r0,
               struct ebpfvm_run_result *res)
{
    ebpfvm_prog *prog = NULL;
    int err = ebpfvm_prog_load(vm, insns, count, NULL, &prog);
    cr_assert_eq(err, 0, "load: %s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = mode, .flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST};
    err = ebpfvm_prog_run(prog, NULL, 0, &opts, res);
    *r0 = res->r0;
    ebpfvm_prog_destroy(prog);
    return err;
}

static void create_type_fails(enum ebpfvm_map_type type, uint32_t key, uint32_t value, uint32_t max,
                              const char *text)
{
    ebpfvm_vm *v = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &v), 0);
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = type, .key_size = key, .value_size = value,
                                 .max_entries = max, .name = "rb"};
    int f;
    cr_expect_eq(ebpfvm_map_create(v, &def, &f), EBPFVM_ERR_INVAL);
    cr_expect(strstr(ebpfvm_vm_errmsg(v), text), "'%s' lacks '%s'", ebpfvm_vm_errmsg(v), text);
    ebpfvm_vm_destroy(v);
}

static void create_fails(uint32_t key, uint32_t value, uint32_t max, const char *text)
{
    create_type_fails(EBPFVM_MAP_RINGBUF, key, value, max, text);
}

Test(maps_ringbuf, creation_rules)
{
    create_fails(0, 0, 6000, "map 'rb': max_entries 6000 is invalid for ringbuf: must be a power of 2 and a multiple of 4096");
    create_fails(0, 0, 2048, "max_entries 2048 is invalid for ringbuf");
    create_fails(4, 0, 4096, "key_size 4 is invalid for ringbuf: must be 0");
    create_fails(0, 8, 4096, "value_size 8 is invalid for ringbuf: must be 0");
}

Test(maps_ringbuf, element_calls_are_unsupported, .init = setup, .fini = teardown)
{
    uint32_t k = 0, v = 0;
    cr_assert_eq(ebpfvm_map_lookup(vm, rb, &k, &v), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'events': lookup is not supported on ringbuf maps");
    cr_assert_eq(ebpfvm_map_update(vm, rb, &k, &v, 0), EBPFVM_ERR_UNSUPP);
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, 5, collect, NULL, NULL), EBPFVM_ERR_NOENT);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "ringbuf_consume: no map with fd 5");
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, rb, NULL, NULL, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "ringbuf_consume: callback is NULL");
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_ARRAY, .key_size = 4, .value_size = 4,
                                 .max_entries = 1};
    int arr;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &arr), 0);
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, arr, collect, NULL, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "ringbuf_consume: map 1 is a array, not a ringbuf");
}

Test(maps_ringbuf, user_ringbuf_creation_rules)
{
    ebpfvm_vm *v = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &v), 0);
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_USER_RINGBUF, .max_entries = 8192,
                                 .name = "urb"};
    int fd = -1;
    cr_assert_eq(ebpfvm_map_create(v, &def, &fd), 0, "%s", ebpfvm_vm_errmsg(v));
    struct ebpfvm_map_info info;
    cr_assert_eq(ebpfvm_map_get_info(v, fd, &info), 0);
    cr_assert_eq(info.type, EBPFVM_MAP_USER_RINGBUF);
    cr_assert_eq((int)info.type, 31);
    cr_assert_eq(info.max_entries, 8192);
    cr_assert_eq(info.key_size, 0);
    cr_assert_eq(info.value_size, 0);
    ebpfvm_vm_destroy(v);
    create_type_fails(EBPFVM_MAP_USER_RINGBUF, 0, 0, 6000,
                      "map 'rb': max_entries 6000 is invalid for user_ringbuf: must be a power of 2 and a multiple of "
                      "4096");
    create_type_fails(EBPFVM_MAP_USER_RINGBUF, 0, 0, 2048,
                      "map 'rb': max_entries 2048 is invalid for user_ringbuf: must be a power of 2 and a multiple of "
                      "4096");
    create_type_fails(EBPFVM_MAP_USER_RINGBUF, 0, 0, 0, "map 'rb': max_entries 0 is invalid for user_ringbuf");
    create_type_fails(EBPFVM_MAP_USER_RINGBUF, 4, 0, 4096, "map 'rb': key_size 4 is invalid for user_ringbuf: must be 0");
    create_type_fails(EBPFVM_MAP_USER_RINGBUF, 0, 8, 4096,
                      "map 'rb': value_size 8 is invalid for user_ringbuf: must be 0");
}

Test(maps_ringbuf, user_ringbuf_is_refused_by_element_and_consumer_calls, .init = setup, .fini = teardown)
{
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_USER_RINGBUF, .max_entries = 4096,
                                 .name = "urb"};
    int urb = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &urb), 0, "%s", ebpfvm_vm_errmsg(vm));
    uint32_t k = 0, v = 0, next = 0;
    cr_assert_eq(ebpfvm_map_lookup(vm, urb, &k, &v), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'urb': lookup is not supported on user_ringbuf maps");
    cr_assert_eq(ebpfvm_map_update(vm, urb, &k, &v, 0), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'urb': update is not supported on user_ringbuf maps");
    cr_assert_eq(ebpfvm_map_delete(vm, urb, &k), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'urb': delete is not supported on user_ringbuf maps");
    cr_assert_eq(ebpfvm_map_get_next_key(vm, urb, NULL, &next), EBPFVM_ERR_UNSUPP);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "map 'urb': get_next_key is not supported on user_ringbuf maps");
    /* the ringbuf consumer API is for program-produced rings only */
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, urb, collect, NULL, NULL), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "ringbuf_consume: map 1 is a user_ringbuf, not a ringbuf");
    uint64_t avail = 0;
    cr_assert_eq(ebpfvm_ringbuf_avail(vm, urb, &avail), EBPFVM_ERR_INVAL);
    cr_assert_str_eq(ebpfvm_vm_errmsg(vm), "ringbuf_avail: map 1 is a user_ringbuf, not a ringbuf");
}

/* reserve 5 bytes, write 0xab, submit; reserve 3, discard; output 2 bytes
 * from the stack. */
Test(maps_ringbuf, reserve_submit_discard_output, .init = setup, .fini = teardown)
{
    struct ebpf_insn prog[] = {
        EBPF_LD_MAP_FD(1, 0),
        EBPF_MOV64_IMM(2, 5),
        EBPF_MOV64_IMM(3, 0),
        EBPF_CALL_HELPER(131),
        EBPF_JMP_IMM(EBPF_JMP_JEQ, 0, 0, 20), /* NULL: exit */
        EBPF_ST_MEM(EBPF_SIZE_B, 0, 0, 0xab),
        EBPF_MOV64_REG(1, 0),
        EBPF_MOV64_IMM(2, 0),
        EBPF_CALL_HELPER(132),
        EBPF_LD_MAP_FD(1, 0),
        EBPF_MOV64_IMM(2, 3),
        EBPF_MOV64_IMM(3, 0),
        EBPF_CALL_HELPER(131),
        EBPF_MOV64_REG(1, 0),
        EBPF_MOV64_IMM(2, 0),
        EBPF_CALL_HELPER(133),
        EBPF_ST_MEM(EBPF_SIZE_H, 10, -8, 0x77cd),
        EBPF_LD_MAP_FD(1, 0),
        EBPF_MOV64_REG(2, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -8),
        EBPF_MOV64_IMM(3, 2),
        EBPF_MOV64_IMM(4, 0),
        EBPF_CALL_HELPER(130),
        EBPF_EXIT(),
    };
    for (int mode = EBPFVM_EXEC_CHECKED; mode <= EBPFVM_EXEC_FAST; mode++) {
        uint64_t r0;
        struct ebpfvm_run_result res;
        int err = run(prog, EBPF_NWORDS(prog), (enum ebpfvm_exec_mode)mode, &r0, &res);
        cr_assert_eq(err, 0, "mode %d: %s", mode, res.message);
        cr_assert_eq(r0, 0, "ringbuf_output returns 0");
        uint64_t avail;
        cr_assert_eq(ebpfvm_ringbuf_avail(vm, rb, &avail), 0);
        cr_assert_eq(avail, 16 + 16 + 16, "three records of 8 + round_up(size, 8) bytes");
        struct collected c = {0};
        size_t n;
        cr_assert_eq(ebpfvm_ringbuf_consume(vm, rb, collect, &c, &n), 0);
        cr_assert_eq(n, 2, "the discarded record is skipped");
        cr_assert_eq(c.sizes[0], 5);
        cr_assert_eq(c.first[0], 0xab);
        cr_assert_eq(c.header_len[0], 5, "header len: size, BUSY and DISCARD clear");
        cr_assert_eq(c.sizes[1], 2);
        cr_assert_eq(c.first[1], 0xcd);
        cr_assert_eq(ebpfvm_ringbuf_avail(vm, rb, &avail), 0);
        cr_assert_eq(avail, 0);
    }
}

/* Reserve `size` and submit; r0 = 1 when the reservation succeeded. */
static uint64_t reserve_submit(uint32_t size)
{
    struct ebpf_insn prog[] = {
        EBPF_LD_MAP_FD(1, 0),
        EBPF_MOV64_IMM(2, (int32_t)size),
        EBPF_MOV64_IMM(3, 0),
        EBPF_CALL_HELPER(131),
        EBPF_JMP_IMM(EBPF_JMP_JNE, 0, 0, 2),
        EBPF_MOV64_IMM(0, 0),
        EBPF_EXIT(),
        EBPF_ST_MEM(EBPF_SIZE_B, 0, 0, (int32_t)(size & 0xff)),
        EBPF_MOV64_REG(1, 0),
        EBPF_MOV64_IMM(2, 0),
        EBPF_CALL_HELPER(132),
        EBPF_MOV64_IMM(0, 1),
        EBPF_EXIT(),
    };
    uint64_t r0;
    struct ebpfvm_run_result res;
    cr_assert_eq(run(prog, EBPF_NWORDS(prog), EBPFVM_EXEC_CHECKED, &r0, &res), 0, "%s", res.message);
    return r0;
}

Test(maps_ringbuf, full_ring_and_wrap_around, .init = setup, .fini = teardown)
{
    /* 1000-byte samples take 1008 bytes: four fit in 4096, a fifth does not. */
    for (int i = 0; i < 4; i++)
        cr_assert_eq(reserve_submit(1000), 1, "record %d", i);
    cr_assert_eq(reserve_submit(1000), 0, "the ring is full");
    cr_assert_eq(reserve_submit(4096), 0, "larger than the ring");
    struct collected c = {.stop_after = 3};
    size_t n;
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, rb, collect, &c, &n), 0);
    cr_assert_eq(n, 3, "the callback stopped the read");
    /* The producer is at offset 4032: a 1008-byte record cannot fit in the
     * 64 bytes before the end, so it goes to offset 0 behind a padding
     * record the consumer skips. */
    cr_assert_eq(reserve_submit(1000), 1);
    c = (struct collected){0};
    cr_assert_eq(ebpfvm_ringbuf_consume(vm, rb, collect, &c, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(c.sizes[0], 1000);
    cr_assert_eq(c.sizes[1], 1000);
    cr_assert_eq(c.first[1], 1000 & 0xff);
}

Test(maps_ringbuf, checked_mode_faults, .init = setup, .fini = teardown)
{
    uint64_t r0;
    struct ebpfvm_run_result res;
    /* submit of something that is not a reserved sample */
    struct ebpf_insn bad_submit[] = {
        EBPF_MOV64_REG(1, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 1, -8),
        EBPF_MOV64_IMM(2, 0),
        EBPF_CALL_HELPER(132),
        EBPF_EXIT(),
    };
    cr_assert_eq(run(bad_submit, EBPF_NWORDS(bad_submit), EBPFVM_EXEC_CHECKED, &r0, &res), EBPFVM_ERR_FAULT);
    cr_assert(strstr(res.message, "insn 3: ringbuf_submit: r1 0x"), "%s", res.message);
    cr_assert(strstr(res.message, "is not a reserved ring buffer sample"), "%s", res.message);
    /* output with a map that is not a ring buffer */
    struct ebpfvm_map_def def = {.sz = sizeof def, .type = EBPFVM_MAP_ARRAY, .key_size = 4, .value_size = 4,
                                 .max_entries = 1, .name = "arr"};
    int arr;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &arr), 0);
    struct ebpf_insn not_rb[] = {
        EBPF_LD_MAP_FD(1, 1),
        EBPF_MOV64_IMM(2, 8),
        EBPF_MOV64_IMM(3, 0),
        EBPF_CALL_HELPER(131),
        EBPF_EXIT(),
    };
    cr_assert_eq(run(not_rb, EBPF_NWORDS(not_rb), EBPFVM_EXEC_CHECKED, &r0, &res), EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 4: ringbuf_reserve: r1 is a array map 'arr', not a ringbuf");
    /* output reading outside the program's memory */
    struct ebpf_insn bad_data[] = {
        EBPF_LD_MAP_FD(1, 0),
        EBPF_MOV64_IMM(2, 64),
        EBPF_MOV64_IMM(3, 8),
        EBPF_MOV64_IMM(4, 0),
        EBPF_CALL_HELPER(130),
        EBPF_EXIT(),
    };
    cr_assert_eq(run(bad_data, EBPF_NWORDS(bad_data), EBPFVM_EXEC_CHECKED, &r0, &res), EBPFVM_ERR_FAULT);
    cr_assert_str_eq(res.message, "insn 5: ringbuf_output: r2 0x40 is not readable memory for the data (8 bytes)");
    /* reserve with flags returns NULL; output with bad flags -EINVAL */
    struct ebpf_insn flags[] = {
        EBPF_LD_MAP_FD(1, 0),
        EBPF_MOV64_IMM(2, 8),
        EBPF_MOV64_IMM(3, 1),
        EBPF_CALL_HELPER(131),
        EBPF_EXIT(),
    };
    cr_assert_eq(run(flags, EBPF_NWORDS(flags), EBPFVM_EXEC_CHECKED, &r0, &res), 0);
    cr_assert_eq(r0, 0);
    struct ebpf_insn out_flags[] = {
        EBPF_LD_MAP_FD(1, 0),
        EBPF_MOV64_REG(2, 10),
        EBPF_ALU64_IMM(EBPF_ALU_ADD, 2, -8),
        EBPF_ST_MEM(EBPF_SIZE_DW, 10, -8, 0),
        EBPF_MOV64_IMM(3, 8),
        EBPF_MOV64_IMM(4, 4),
        EBPF_CALL_HELPER(130),
        EBPF_EXIT(),
    };
    cr_assert_eq(run(out_flags, EBPF_NWORDS(out_flags), EBPFVM_EXEC_CHECKED, &r0, &res), 0, "%s", res.message);
    cr_assert_eq((int64_t)r0, -22);
}
