/*
 * maps/helpers.c - the map helpers programs call, with Linux's IDs and
 * prototypes: map_lookup_elem (1), map_update_elem (2), map_delete_elem (3),
 * ringbuf_output (130), ringbuf_reserve (131), ringbuf_submit (132),
 * ringbuf_discard (133); and ebpfvm_vm_register_map_helpers.
 *
 * Invariants:
 *   - in checked mode nothing a program passes is trusted: the map argument
 *     must be one of the vm's maps (found by scanning vm->maps, never by
 *     dereferencing it), key/value/data pointers must lie in the run's
 *     regions (ebpfvm__env_check_access), and memory handed back (map
 *     values, ring buffer samples) is added to the run's regions. A
 *     violation stops the run through ebpfvm_env_fault with a message
 *     naming the helper, the register and the reason;
 *   - in fast mode (verified programs) the arguments are trusted, as the
 *     verifier proved them;
 *   - calls the kernel's verifier would reject (a lookup in a prog array, an
 *     update of a devmap from a program, ...) fault in both modes;
 *   - failures the kernel reports to programs come back as negative Linux
 *     errno values (-EEXIST, -ENOENT, -E2BIG, ...), never as ebpfvm codes;
 *   - per-CPU maps use the run's worker index (env->cpu);
 *   - a lookup in a map-in-map returns the inner map (struct ebpfvm_map *,
 *     the run-time map reference) and adds no memory region.
 */
#include <stdio.h>
#include <string.h>

#include "maps/map.h"
#include "vm/helper_args.h"

/* Linux errno values, as programs see them. */
enum {
    LINUX_ENOENT = 2,
    LINUX_E2BIG = 7,
    LINUX_EAGAIN = 11,
    LINUX_ENOMEM = 12,
    LINUX_EEXIST = 17,
    LINUX_EINVAL = 22,
    LINUX_ENOSPC = 28,
    LINUX_EOPNOTSUPP = 95
};

/* BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP */
#define RB_WAKEUP_FLAGS 3u

static uint64_t errno_ret(const struct ebpfvm_map *map, int status)
{
    int e;
    switch (status) {
    case 0: return 0;
    case EBPFVM_ERR_EXIST: e = LINUX_EEXIST; break;
    case EBPFVM_ERR_NOENT: e = LINUX_ENOENT; break;
    case EBPFVM_ERR_RANGE: e = map->type == EBPFVM_MAP_LPM_TRIE ? LINUX_ENOSPC : LINUX_E2BIG; break;
    case EBPFVM_ERR_NOMEM: e = LINUX_ENOMEM; break;
    case EBPFVM_ERR_UNSUPP: e = LINUX_EOPNOTSUPP; break;
    default: e = LINUX_EINVAL; break;
    }
    return (uint64_t)(int64_t)-e;
}

static void map_label(const struct ebpfvm_map *map, char *buf, size_t size)
{
    if (map->name && map->name[0])
        snprintf(buf, size, "%s map '%s'", map->type_name, map->name);
    else
        snprintf(buf, size, "%s map %d", map->type_name, map->fd);
}

/* The map in r1, or NULL after a fault. */
static struct ebpfvm_map *arg_map(ebpfvm_env *env, uint64_t ptr, const char *helper)
{
    return ebpfvm__helper_arg_map(env, ptr, 1, helper);
}

/* Whether [ptr, ptr + size) is readable; faults when not. */
static bool arg_mem(ebpfvm_env *env, uint64_t ptr, size_t size, const char *helper, int reg, const char *what)
{
    if (!env->checked)
        return true;
    if (ptr != 0 && ebpfvm__env_check_access(env, (uintptr_t)ptr, size, false))
        return true;
    ebpfvm__env_faultf(env, "%s: r%d 0x%llx is not readable memory for the %s (%zu bytes)", helper, reg,
          (unsigned long long)ptr, what, size);
    return false;
}

/* Checked mode: let the program use memory the helper returns. */
static bool add_region(ebpfvm_env *env, void *ptr, size_t size, bool writable, const char *helper)
{
    if (!env->checked)
        return true;
    if (ebpfvm_env_add_region(env, ptr, size, writable) == 0)
        return true;
    ebpfvm__env_faultf(env, "%s: too many memory regions in this run (%d)", helper, EBPFVM_MAX_REGIONS);
    return false;
}

static bool writable_by_program(const struct ebpfvm_map *map)
{
    switch (map->type) {
    case EBPFVM_MAP_ARRAY:
    case EBPFVM_MAP_PERCPU_ARRAY:
    case EBPFVM_MAP_HASH:
    case EBPFVM_MAP_PERCPU_HASH:
    case EBPFVM_MAP_LRU_HASH:
    case EBPFVM_MAP_LRU_PERCPU_HASH:
    case EBPFVM_MAP_LPM_TRIE:
        return true;
    default:
        return false;
    }
}

static uint64_t helper_map_lookup_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r3;
    (void)r4;
    (void)r5;
    static const char name[] = "map_lookup_elem";
    struct ebpfvm_map *map = arg_map(env, r1, name);
    if (!map)
        return 0;
    if (!map->ops->lookup) {
        char label[96];
        map_label(map, label, sizeof label);
        ebpfvm__env_faultf(env, "%s: not allowed on %s", name, label);
        return 0;
    }
    if (!arg_mem(env, r2, map->key_size, name, 2, "key"))
        return 0;
    void *value = map->ops->lookup(map, (const void *)(uintptr_t)r2, env->cpu);
    if (!value)
        return 0;
    /* Map-in-map: the inner map itself, a map reference for the map
     * helpers (checked mode finds it in the vm's table), not memory. */
    if (ebpfvm__map_is_map_in_map(map))
        return (uint64_t)(uintptr_t)value;
    bool writable = writable_by_program(map) && !(map->map_flags & EBPFVM_F_RDONLY_PROG);
    if (!add_region(env, value, map->value_size, writable, name))
        return 0;
    return (uint64_t)(uintptr_t)value;
}

/* update and delete: the map must be one programs may change. */
static bool changeable(ebpfvm_env *env, struct ebpfvm_map *map, const char *helper)
{
    char label[96];
    if (!writable_by_program(map)) {
        map_label(map, label, sizeof label);
        ebpfvm__env_faultf(env, "%s: not allowed on %s from a program", helper, label);
        return false;
    }
    if (map->map_flags & EBPFVM_F_RDONLY_PROG) {
        map_label(map, label, sizeof label);
        ebpfvm__env_faultf(env, "%s: %s is read-only for programs (BPF_F_RDONLY_PROG)", helper, label);
        return false;
    }
    return true;
}

static uint64_t helper_map_update_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r5;
    static const char name[] = "map_update_elem";
    struct ebpfvm_map *map = arg_map(env, r1, name);
    if (!map || !changeable(env, map, name))
        return 0;
    if (!arg_mem(env, r2, map->key_size, name, 2, "key") || !arg_mem(env, r3, map->value_size, name, 3, "value"))
        return 0;
    if (r4 > EBPFVM_EXIST)
        return errno_ret(map, EBPFVM_ERR_INVAL);
    int err = map->ops->update(map, (const void *)(uintptr_t)r2, (const void *)(uintptr_t)r3, r4, (int)env->cpu);
    return errno_ret(map, err);
}

static uint64_t helper_map_delete_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r3;
    (void)r4;
    (void)r5;
    static const char name[] = "map_delete_elem";
    struct ebpfvm_map *map = arg_map(env, r1, name);
    if (!map || !changeable(env, map, name))
        return 0;
    if (!arg_mem(env, r2, map->key_size, name, 2, "key"))
        return 0;
    return errno_ret(map, map->ops->delete_elem(map, (const void *)(uintptr_t)r2));
}

/* The ring buffer in r1, or NULL after a fault. */
static struct ebpfvm_map *arg_ringbuf(ebpfvm_env *env, uint64_t ptr, const char *helper)
{
    struct ebpfvm_map *map = arg_map(env, ptr, helper);
    if (map && map->type != EBPFVM_MAP_RINGBUF) {
        char label[96];
        map_label(map, label, sizeof label);
        ebpfvm__env_faultf(env, "%s: r1 is a %s, not a ringbuf", helper, label);
        return NULL;
    }
    return map;
}

static uint64_t helper_ringbuf_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                      ebpfvm_env *env)
{
    (void)r5;
    static const char name[] = "ringbuf_output";
    struct ebpfvm_map *map = arg_ringbuf(env, r1, name);
    if (!map)
        return 0;
    if (r3 != 0 && !arg_mem(env, r2, (size_t)r3, name, 2, "data"))
        return 0;
    if (r4 & ~(uint64_t)RB_WAKEUP_FLAGS)
        return errno_ret(map, EBPFVM_ERR_INVAL);
    void *sample = ebpfvm__ringbuf_reserve(map, r3);
    if (!sample)
        return (uint64_t)(int64_t)-LINUX_EAGAIN;
    if (r3)
        memcpy(sample, (const void *)(uintptr_t)r2, (size_t)r3);
    ebpfvm__ringbuf_commit(env->prog->vm, (uint64_t)(uintptr_t)sample, false);
    return 0;
}

static uint64_t helper_ringbuf_reserve(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r4;
    (void)r5;
    static const char name[] = "ringbuf_reserve";
    struct ebpfvm_map *map = arg_ringbuf(env, r1, name);
    if (!map || r3 != 0)
        return 0;
    void *sample = ebpfvm__ringbuf_reserve(map, r2);
    if (!sample)
        return 0;
    if (!add_region(env, sample, (size_t)r2, true, name)) {
        ebpfvm__ringbuf_commit(env->prog->vm, (uint64_t)(uintptr_t)sample, true);
        return 0;
    }
    return (uint64_t)(uintptr_t)sample;
}

static uint64_t ringbuf_commit(uint64_t sample, ebpfvm_env *env, bool discard)
{
    if (ebpfvm__ringbuf_commit(env->prog->vm, sample, discard) != 0)
        ebpfvm__env_faultf(env, "%s: r1 0x%llx is not a reserved ring buffer sample", discard ? "ringbuf_discard" : "ringbuf_submit",
              (unsigned long long)sample);
    return 0;
}

static uint64_t helper_ringbuf_submit(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                      ebpfvm_env *env)
{
    (void)r2;
    (void)r3;
    (void)r4;
    (void)r5;
    return ringbuf_commit(r1, env, false);
}

static uint64_t helper_ringbuf_discard(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                       ebpfvm_env *env)
{
    (void)r2;
    (void)r3;
    (void)r4;
    (void)r5;
    return ringbuf_commit(r1, env, true);
}

/* The registration table ebpfvm_vm_register_std_helpers (vm/helpers_std.c)
 * walks, all or nothing, with the rest of the standard helpers. */
const struct ebpfvm__helper_def ebpfvm__map_helpers[] = {
    {EBPF_HELPER_map_lookup_elem, "map_lookup_elem", helper_map_lookup_elem,
     {EBPFVM_RET_MAP_VALUE_OR_NULL, {EBPFVM_ARG_CONST_MAP_PTR, EBPFVM_ARG_PTR_TO_MAP_KEY},
      EBPFVM_HELPER_PKT_ACCESS}},
    {EBPF_HELPER_map_update_elem, "map_update_elem", helper_map_update_elem,
     {EBPFVM_RET_INTEGER,
      {EBPFVM_ARG_CONST_MAP_PTR, EBPFVM_ARG_PTR_TO_MAP_KEY, EBPFVM_ARG_PTR_TO_MAP_VALUE, EBPFVM_ARG_ANYTHING},
      EBPFVM_HELPER_PKT_ACCESS}},
    {EBPF_HELPER_map_delete_elem, "map_delete_elem", helper_map_delete_elem,
     {EBPFVM_RET_INTEGER, {EBPFVM_ARG_CONST_MAP_PTR, EBPFVM_ARG_PTR_TO_MAP_KEY}, EBPFVM_HELPER_PKT_ACCESS}},
    {EBPF_HELPER_ringbuf_output, "ringbuf_output", helper_ringbuf_output,
     {EBPFVM_RET_INTEGER,
      {EBPFVM_ARG_CONST_MAP_PTR, EBPFVM_ARG_PTR_TO_MEM, EBPFVM_ARG_CONST_SIZE_OR_ZERO, EBPFVM_ARG_ANYTHING},
      0}},
    {EBPF_HELPER_ringbuf_reserve, "ringbuf_reserve", helper_ringbuf_reserve,
     {EBPFVM_RET_ALLOC_MEM_OR_NULL,
      {EBPFVM_ARG_CONST_MAP_PTR, EBPFVM_ARG_CONST_SIZE_OR_ZERO, EBPFVM_ARG_ANYTHING},
      0}},
    {EBPF_HELPER_ringbuf_submit, "ringbuf_submit", helper_ringbuf_submit,
     {EBPFVM_RET_VOID, {EBPFVM_ARG_PTR_TO_ALLOC_MEM, EBPFVM_ARG_ANYTHING}, 0}},
    {EBPF_HELPER_ringbuf_discard, "ringbuf_discard", helper_ringbuf_discard,
     {EBPFVM_RET_VOID, {EBPFVM_ARG_PTR_TO_ALLOC_MEM, EBPFVM_ARG_ANYTHING}, 0}},
};
const size_t ebpfvm__map_nhelpers = sizeof ebpfvm__map_helpers / sizeof ebpfvm__map_helpers[0];

int ebpfvm_vm_register_map_helpers(ebpfvm_vm *vm)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    return ebpfvm__register_helper_table(vm, ebpfvm__map_helpers, ebpfvm__map_nhelpers);
}
