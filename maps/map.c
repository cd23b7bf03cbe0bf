/*
 * maps/map.c - the map table of a vm and the public map API.
 *
 * Owns: ebpfvm_map_create/lookup/update/delete/get_next_key/get_info,
 * ebpfvm_vm_set_ncpus, ebpfvm_prog_array_set, ebpfvm__map_destroy,
 * ebpfvm__map_direct_value, ebpfvm__map_from_ptr, and every error message
 * of the map API (the type ops return bare statuses; see map.h).
 *
 * Invariants: vm->maps[0..nmaps) are the maps in creation order and a
 * map's fd is its index; the table only grows (maps live until the vm is
 * destroyed), so a map pointer handed to a program stays valid.
 */
#include <stdio.h>
#include <string.h>

#include "maps/map.h"

static const struct {
    enum ebpfvm_map_type type;
    const char *name;
    const struct ebpfvm_map_ops *ops;
} map_types[] = {
    {EBPFVM_MAP_HASH, "hash", &ebpfvm__hash_ops},
    {EBPFVM_MAP_ARRAY, "array", &ebpfvm__array_ops},
    {EBPFVM_MAP_PROG_ARRAY, "prog_array", &ebpfvm__prog_array_ops},
    {EBPFVM_MAP_PERCPU_HASH, "percpu_hash", &ebpfvm__hash_ops},
    {EBPFVM_MAP_PERCPU_ARRAY, "percpu_array", &ebpfvm__percpu_array_ops},
    {EBPFVM_MAP_LRU_HASH, "lru_hash", &ebpfvm__hash_ops},
    {EBPFVM_MAP_LRU_PERCPU_HASH, "lru_percpu_hash", &ebpfvm__hash_ops},
    {EBPFVM_MAP_LPM_TRIE, "lpm_trie", &ebpfvm__lpm_trie_ops},
    {EBPFVM_MAP_DEVMAP, "devmap", &ebpfvm__devmap_ops},
    {EBPFVM_MAP_XSKMAP, "xskmap", &ebpfvm__xskmap_ops},
    {EBPFVM_MAP_DEVMAP_HASH, "devmap_hash", &ebpfvm__devmap_hash_ops},
    {EBPFVM_MAP_RINGBUF, "ringbuf", &ebpfvm__ringbuf_ops},
    {EBPFVM_MAP_USER_RINGBUF, "user_ringbuf", &ebpfvm__user_ringbuf_ops},
    {EBPFVM_MAP_PERF_EVENT_ARRAY, "perf_event_array", &ebpfvm__perf_event_array_ops},
    {EBPFVM_MAP_SK_STORAGE, "sk_storage", &ebpfvm__sk_storage_ops},
    {EBPFVM_MAP_SOCKMAP, "sockmap", &ebpfvm__sockmap_ops},
    {EBPFVM_MAP_SOCKHASH, "sockhash", &ebpfvm__sockhash_ops},
    {EBPFVM_MAP_REUSEPORT_SOCKARRAY, "reuseport_sockarray", &ebpfvm__reuseport_sockarray_ops},
    {EBPFVM_MAP_ARRAY_OF_MAPS, "array_of_maps", &ebpfvm__array_of_maps_ops},
    {EBPFVM_MAP_HASH_OF_MAPS, "hash_of_maps", &ebpfvm__hash_of_maps_ops},
};

const char *ebpfvm__map_type_name(enum ebpfvm_map_type type)
{
    for (size_t i = 0; i < sizeof map_types / sizeof map_types[0]; i++)
        if (map_types[i].type == type)
            return map_types[i].name;
    return "unknown";
}

int ebpfvm__map_def_error(struct ebpfvm_vm *vm, int status, const char *who, const struct ebpfvm_map_def *def,
                          const char *field, uint32_t value, const char *why)
{
    const char *type = ebpfvm__map_type_name(def->type);
    if (!strcmp(field, "map_flags"))
        return ebpfvm__error(vm, status, "%s: map_flags 0x%x is invalid for %s%s%s", who, value, type,
                             why ? ": " : "", why ? why : "");
    return ebpfvm__error(vm, status, "%s: %s %u is invalid for %s%s%s", who, field, value, type, why ? ": " : "",
                         why ? why : "");
}

int ebpfvm__map_check_common(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *def,
                             uint32_t allowed)
{
    if (def->map_flags & ~allowed)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "map_flags", def->map_flags, "unknown flag");
    if ((def->map_flags & EBPFVM_F_RDONLY) && (def->map_flags & EBPFVM_F_WRONLY))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "map_flags", def->map_flags,
                                     "BPF_F_RDONLY and BPF_F_WRONLY together");
    if ((def->map_flags & EBPFVM_F_RDONLY_PROG) && (def->map_flags & EBPFVM_F_WRONLY_PROG))
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "map_flags", def->map_flags,
                                     "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
    if (def->max_entries == 0)
        return ebpfvm__map_def_error(vm, EBPFVM_ERR_INVAL, who, def, "max_entries", 0, NULL);
    return 0;
}

/* "map 'name'" or "map N" for messages. */
static void map_who(char *buf, size_t size, const char *name, int fd)
{
    if (name && name[0])
        snprintf(buf, size, "map '%s'", name);
    else
        snprintf(buf, size, "map %d", fd);
}

/* The map at fd, or NULL with the vm's message set. */
static struct ebpfvm_map *map_get(const struct ebpfvm_vm *vm, int fd, const char *op)
{
    if (fd < 0 || (uint32_t)fd >= vm->nmaps || !vm->maps[fd]) {
        ebpfvm__error((struct ebpfvm_vm *)vm, EBPFVM_ERR_NOENT, "%s: no map with fd %d", op, fd);
        return NULL;
    }
    return vm->maps[fd];
}

static const struct ebpfvm_map_ops *type_ops(enum ebpfvm_map_type type, const char **name)
{
    for (size_t i = 0; i < sizeof map_types / sizeof map_types[0]; i++) {
        if (map_types[i].type == type) {
            *name = map_types[i].name;
            return map_types[i].ops;
        }
    }
    return NULL;
}

static bool type_is_map_in_map(enum ebpfvm_map_type type)
{
    return type == EBPFVM_MAP_ARRAY_OF_MAPS || type == EBPFVM_MAP_HASH_OF_MAPS;
}

/* The fields every map (and an inner-map template) takes from its
 * definition; fd, name, storage and the template are the caller's. */
static void map_fill(struct ebpfvm_map *map, struct ebpfvm_vm *vm, const struct ebpfvm_map_def *def,
                     const struct ebpfvm_map_ops *ops, const char *type_name)
{
    map->type = def->type;
    map->key_size = def->key_size;
    map->value_size = def->value_size;
    map->max_entries = def->max_entries;
    map->map_flags = def->map_flags;
    map->ncpus = vm->ncpus;
    map->value_stride = ebpfvm__round8(def->value_size);
    map->vm = vm;
    map->ops = ops;
    map->type_name = type_name;
}

/* The template of a map-in-map's inner maps (the kernel's
 * bpf_map_meta_alloc): checked, then copied into a map without storage. */
static int make_inner_meta(struct ebpfvm_vm *vm, const char *who, const struct ebpfvm_map_def *inner,
                           struct ebpfvm_map **out)
{
    const char *tname = NULL;
    const struct ebpfvm_map_ops *ops = type_ops(inner->type, &tname);
    if (!ops)
        return ebpfvm__error(vm, EBPFVM_ERR_UNSUPP, "%s: inner map type %d is not supported", who, (int)inner->type);
    if (type_is_map_in_map(inner->type))
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: the inner map cannot be a map-in-map (%s)", who, tname);
    if (inner->type == EBPFVM_MAP_PROG_ARRAY)
        return ebpfvm__error(vm, EBPFVM_ERR_UNSUPP, "%s: a prog_array cannot be an inner map", who);
    char iwho[100];
    snprintf(iwho, sizeof iwho, "%s (inner map)", who);
    int err = ops->check_def(vm, iwho, inner);
    if (err)
        return err;
    struct ebpfvm_map *meta = ebpfvm__calloc(vm, 1, sizeof *meta);
    if (!meta)
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "%s: out of memory", who);
    map_fill(meta, vm, inner, ops, tname);
    meta->fd = -1;
    *out = meta;
    return 0;
}

/* inner: the template of a map-in-map (NULL for the other types). */
static int map_create(ebpfvm_vm *vm, const struct ebpfvm_map_def *def, const struct ebpfvm_map_def *inner, int *fd)
{
    char who[80];
    map_who(who, sizeof who, def->name, (int)vm->nmaps);
    const char *type_name = NULL;
    const struct ebpfvm_map_ops *ops = type_ops(def->type, &type_name);
    if (!ops)
        return ebpfvm__error(vm, EBPFVM_ERR_UNSUPP, "%s: map type %d is not supported", who, (int)def->type);
    bool in_map = type_is_map_in_map(def->type);
    if (in_map && !inner)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: %s needs an inner map template (inner_map_fd)", who,
                             type_name);
    int err = ops->check_def(vm, who, def);
    if (err)
        return err;
    if (vm->nmaps >= EBPFVM_MAX_MAPS)
        return ebpfvm__error(vm, EBPFVM_ERR_RANGE, "%s: the vm's map table is full (%d maps)", who, EBPFVM_MAX_MAPS);
    struct ebpfvm_map *meta = NULL;
    if (in_map && (err = make_inner_meta(vm, who, inner, &meta)) != 0)
        return err;

    struct ebpfvm_map *map = ebpfvm__calloc(vm, 1, sizeof *map);
    if (!map) {
        ebpfvm__free(vm, meta);
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "%s: out of memory", who);
    }
    map_fill(map, vm, def, ops, type_name);
    map->fd = (int)vm->nmaps;
    map->inner_meta = meta;
    if (def->name && !(map->name = ebpfvm__strdup(vm, def->name))) {
        ebpfvm__free(vm, meta);
        ebpfvm__free(vm, map);
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "%s: out of memory", who);
    }
    if (ops->alloc(map) != 0) {
        ebpfvm__free(vm, meta);
        ebpfvm__free(vm, map->name);
        ebpfvm__free(vm, map);
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "%s: out of memory (%u entries of %s)", who, def->max_entries,
                             type_name);
    }
    vm->maps[vm->nmaps++] = map;
    *fd = map->fd;
    return EBPFVM_OK;
}

static int check_create_args(ebpfvm_vm *vm, const struct ebpfvm_map_def *def, int *fd)
{
    if (!def || !fd)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "map create: %s is NULL", def ? "fd" : "def");
    if (def->sz < offsetof(struct ebpfvm_map_def, name) + sizeof def->name)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "map create: def->sz %zu is too small", def->sz);
    return 0;
}

int ebpfvm_map_create(ebpfvm_vm *vm, const struct ebpfvm_map_def *def, int *fd)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    int err = check_create_args(vm, def, fd);
    if (err)
        return err;
    if (!type_is_map_in_map(def->type))
        return map_create(vm, def, NULL, fd);
    /* The template: the map inner_map_fd names (when the def has the field). */
    bool has_inner = def->sz >= offsetof(struct ebpfvm_map_def, inner_map_fd) + sizeof def->inner_map_fd;
    int ifd = has_inner ? def->inner_map_fd : -1;
    if (ifd < 0)
        return map_create(vm, def, NULL, fd);
    if ((uint32_t)ifd >= vm->nmaps || !vm->maps[ifd]) {
        char who[80];
        map_who(who, sizeof who, def->name, (int)vm->nmaps);
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: inner_map_fd %d is not a map", who, ifd);
    }
    const struct ebpfvm_map *t = vm->maps[ifd];
    struct ebpfvm_map_def inner = {sizeof inner, t->type, t->key_size, t->value_size, t->max_entries, t->map_flags,
                                   t->name, -1};
    return map_create(vm, def, &inner, fd);
}

int ebpfvm__map_create_in_map(struct ebpfvm_vm *vm, const struct ebpfvm_map_def *def,
                              const struct ebpfvm_map_def *inner, int *fd)
{
    int err = check_create_args(vm, def, fd);
    return err ? err : map_create(vm, def, inner, fd);
}

struct ebpfvm_map *ebpfvm__map_inner_from_fd(struct ebpfvm_map *outer, uint32_t v)
{
    struct ebpfvm_vm *vm = outer->vm;
    return v < vm->nmaps ? vm->maps[v] : NULL;
}

void ebpfvm__map_destroy(struct ebpfvm_vm *vm, struct ebpfvm_map *map)
{
    if (!map)
        return;
    map->ops->free(map);
    ebpfvm__free(vm, map->inner_meta);
    ebpfvm__free(vm, map->name);
    ebpfvm__free(vm, map);
}

int ebpfvm__map_direct_value(struct ebpfvm_map *map, uint32_t off, uint64_t *addr)
{
    if (!map || !addr || !map->ops->direct_value)
        return EBPFVM_ERR_UNSUPP;
    return map->ops->direct_value(map, off, addr);
}

struct ebpfvm_map *ebpfvm__map_from_ptr(struct ebpfvm_vm *vm, uint64_t ptr)
{
    for (uint32_t i = 0; i < vm->nmaps; i++)
        if ((uint64_t)(uintptr_t)vm->maps[i] == ptr)
            return vm->maps[i];
    return NULL;
}

static void map_name(const struct ebpfvm_map *map, char *buf, size_t size)
{
    map_who(buf, size, map->name, map->fd);
}

/* The message for an ops status on the key, for op "lookup"/"update"/... */
static int map_op_error(struct ebpfvm_map *map, int status, const char *op, const void *key, uint64_t flags)
{
    char who[80];
    map_name(map, who, sizeof who);
    bool indexed = map->key_size == 4 && (map->type == EBPFVM_MAP_ARRAY || map->type == EBPFVM_MAP_PERCPU_ARRAY ||
                                          map->type == EBPFVM_MAP_PROG_ARRAY || map->type == EBPFVM_MAP_DEVMAP ||
                                          map->type == EBPFVM_MAP_XSKMAP || map->type == EBPFVM_MAP_ARRAY_OF_MAPS);
    uint32_t index = 0;
    if (indexed && key)
        memcpy(&index, key, 4);
    switch (status) {
    case EBPFVM_ERR_NOENT:
        if (!strcmp(op, "get_next_key"))
            return ebpfvm__error(map->vm, status, "%s: get_next_key: no more keys", who);
        if (!strcmp(op, "update"))
            return ebpfvm__error(map->vm, status, "%s: update with BPF_EXIST: key does not exist", who);
        if (indexed && index >= map->max_entries)
            return ebpfvm__error(map->vm, status, "%s: %s: index %u out of range (max_entries %u)", who, op, index,
                                 map->max_entries);
        return ebpfvm__error(map->vm, status, "%s: %s: key not found", who, op);
    case EBPFVM_ERR_EXIST:
        if (indexed && map->type != EBPFVM_MAP_XSKMAP)
            return ebpfvm__error(map->vm, status, "%s: update with BPF_NOEXIST: %s elements always exist", who,
                                 map->type_name);
        return ebpfvm__error(map->vm, status, "%s: update with BPF_NOEXIST: key already exists", who);
    case EBPFVM_ERR_RANGE:
        if (indexed)
            return ebpfvm__error(map->vm, status, "%s: %s: index %u out of range (max_entries %u)", who, op, index,
                                 map->max_entries);
        return ebpfvm__error(map->vm, status, "%s: %s: map is full (max_entries %u)", who, op, map->max_entries);
    case EBPFVM_ERR_INVAL:
        if (!strcmp(op, "delete") && (map->type == EBPFVM_MAP_ARRAY || map->type == EBPFVM_MAP_PERCPU_ARRAY))
            return ebpfvm__error(map->vm, status, "%s: delete: elements of %s maps cannot be deleted", who,
                                 map->type_name);
        if (indexed && index >= map->max_entries)
            return ebpfvm__error(map->vm, status, "%s: %s: index %u out of range (max_entries %u)", who, op, index,
                                 map->max_entries);
        if (map->type == EBPFVM_MAP_LPM_TRIE) {
            uint32_t prefixlen = 0;
            if (key)
                memcpy(&prefixlen, key, 4);
            return ebpfvm__error(map->vm, status, "%s: %s: prefixlen %u exceeds the maximum %u", who, op, prefixlen,
                                 (map->key_size - 4) * 8);
        }
        if (map->type == EBPFVM_MAP_DEVMAP || map->type == EBPFVM_MAP_DEVMAP_HASH)
            return ebpfvm__error(map->vm, status, "%s: %s: invalid devmap value (ifindex 0 or flags 0x%llx)", who,
                                 op, (unsigned long long)flags);
        return ebpfvm__error(map->vm, status, "%s: %s: invalid argument", who, op);
    case EBPFVM_ERR_UNSUPP:
        return ebpfvm__error(map->vm, status, "%s: %s is not supported on %s maps", who, op, map->type_name);
    case EBPFVM_ERR_NOMEM:
        return ebpfvm__error(map->vm, status, "%s: %s: out of memory", who, op);
    default:
        return ebpfvm__error(map->vm, status, "%s: %s failed (%s)", who, op, ebpfvm_strerror(status));
    }
}

/* The first property inner does not share with the template meta (the
 * kernel's map_meta_equal), or NULL. */
static const char *meta_mismatch(const struct ebpfvm_map *meta, const struct ebpfvm_map *inner, uint32_t *got,
                                 uint32_t *want)
{
    if (inner->type != meta->type)
        return *got = (uint32_t)inner->type, *want = (uint32_t)meta->type, "type";
    if (inner->key_size != meta->key_size)
        return *got = inner->key_size, *want = meta->key_size, "key_size";
    if (inner->value_size != meta->value_size)
        return *got = inner->value_size, *want = meta->value_size, "value_size";
    if (inner->map_flags != meta->map_flags)
        return *got = inner->map_flags, *want = meta->map_flags, "map_flags";
    if (meta->type == EBPFVM_MAP_ARRAY && !(meta->map_flags & EBPFVM_F_INNER_MAP) &&
        inner->max_entries != meta->max_entries)
        return *got = inner->max_entries, *want = meta->max_entries, "max_entries";
    return NULL;
}

/* A map-in-map update: flags, and the value names a map that fits the
 * template. */
static int check_inner_map(struct ebpfvm_map *map, const char *who, const void *value, uint64_t flags)
{
    struct ebpfvm_vm *vm = map->vm;
    if (map->type == EBPFVM_MAP_ARRAY_OF_MAPS && flags != EBPFVM_ANY)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: update: array_of_maps takes BPF_ANY only (flags %llu)", who,
                             (unsigned long long)flags);
    uint32_t ifd;
    memcpy(&ifd, value, sizeof ifd);
    struct ebpfvm_map *inner = ebpfvm__map_inner_from_fd(map, ifd);
    if (!inner)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: update: value %u is not a map fd", who, ifd);
    uint32_t got = 0, want = 0;
    const char *field = meta_mismatch(map->inner_meta, inner, &got, &want);
    if (!field)
        return 0;
    char iwho[80];
    map_name(inner, iwho, sizeof iwho);
    if (!strcmp(field, "type"))
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: update: inner %s has type %s, the template %s", who, iwho,
                             inner->type_name, map->inner_meta->type_name);
    if (!strcmp(field, "map_flags"))
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: update: inner %s has map_flags 0x%x, the template 0x%x", who,
                             iwho, got, want);
    return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: update: inner %s has %s %u, the template %u", who, iwho, field,
                         got, want);
}

/* Types without elements the API can reach, which its element operations
 * refuse: ring buffers (records, not elements), sk_storage (its elements
 * belong to sockets) and the socket maps (their elements are sockets);
 * ebpfvm has no sockets. */
static bool refuses_element_ops(enum ebpfvm_map_type type)
{
    switch (type) {
    case EBPFVM_MAP_RINGBUF:
    case EBPFVM_MAP_USER_RINGBUF:
    case EBPFVM_MAP_SK_STORAGE:
    case EBPFVM_MAP_SOCKMAP:
    case EBPFVM_MAP_SOCKHASH:
    case EBPFVM_MAP_REUSEPORT_SOCKARRAY:
        return true;
    default:
        return false;
    }
}

/* Common argument checks of the element operations. */
static struct ebpfvm_map *map_for_op(ebpfvm_vm *vm, int fd, const char *op, const void *key, bool key_required,
                                     const void *value, bool value_required)
{
    struct ebpfvm_map *map = map_get(vm, fd, op);
    if (!map)
        return NULL;
    char who[80];
    map_name(map, who, sizeof who);
    if (refuses_element_ops(map->type)) {
        ebpfvm__error(vm, EBPFVM_ERR_UNSUPP, "%s: %s is not supported on %s maps", who, op, map->type_name);
        return NULL;
    }
    if (key_required && !key) {
        ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: %s: key is NULL", who, op);
        return NULL;
    }
    if (value_required && !value) {
        ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: %s: value is NULL", who, op);
        return NULL;
    }
    return map;
}

/* The status map_for_op left (its message says which). */
static int map_for_op_status(const ebpfvm_vm *vm, int fd)
{
    if (fd < 0 || (uint32_t)fd >= vm->nmaps || !vm->maps[fd])
        return EBPFVM_ERR_NOENT;
    if (refuses_element_ops(vm->maps[fd]->type))
        return EBPFVM_ERR_UNSUPP;
    return EBPFVM_ERR_INVAL;
}

int ebpfvm_map_lookup(ebpfvm_vm *vm, int fd, const void *key, void *value)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_map *map = map_for_op(vm, fd, "lookup", key, true, value, true);
    if (!map)
        return map_for_op_status(vm, fd);
    if (map->map_flags & EBPFVM_F_WRONLY) {
        char who[80];
        map_name(map, who, sizeof who);
        return ebpfvm__error(vm, EBPFVM_ERR_PERM, "%s: lookup: the map is write-only (BPF_F_WRONLY)", who);
    }
    int err = map->ops->lookup_copy(map, key, value);
    return err ? map_op_error(map, err, "lookup", key, 0) : EBPFVM_OK;
}

int ebpfvm_map_update(ebpfvm_vm *vm, int fd, const void *key, const void *value, uint64_t flags)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_map *map = map_for_op(vm, fd, "update", key, true, value, true);
    if (!map)
        return map_for_op_status(vm, fd);
    char who[80];
    map_name(map, who, sizeof who);
    if (map->map_flags & EBPFVM_F_RDONLY)
        return ebpfvm__error(vm, EBPFVM_ERR_PERM, "%s: update: the map is read-only (BPF_F_RDONLY)", who);
    if (map->frozen)
        return ebpfvm__error(vm, EBPFVM_ERR_PERM, "%s: update: the map is frozen", who);
    if (flags > EBPFVM_EXIST)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: update: invalid flags 0x%llx (BPF_ANY, BPF_NOEXIST or BPF_EXIST%s)",
                             who, (unsigned long long)flags, (flags & EBPFVM_F_LOCK) ? "; BPF_F_LOCK is not supported" : "");
    if (map->type == EBPFVM_MAP_PROG_ARRAY)
        return ebpfvm__error(vm, EBPFVM_ERR_UNSUPP,
                             "%s: update: prog_array values are programs: use ebpfvm_prog_array_set()", who);
    if (ebpfvm__map_is_map_in_map(map)) {
        int err = check_inner_map(map, who, value, flags);
        if (err)
            return err;
    }
    int err = map->ops->update(map, key, value, flags, EBPFVM_MAP_ALL_CPUS);
    return err ? map_op_error(map, err, "update", key, flags) : EBPFVM_OK;
}

int ebpfvm_map_freeze(ebpfvm_vm *vm, int fd)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_map *map = map_get(vm, fd, "freeze");
    if (!map)
        return EBPFVM_ERR_NOENT;
    map->frozen = true;
    return EBPFVM_OK;
}

int ebpfvm_map_delete(ebpfvm_vm *vm, int fd, const void *key)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_map *map = map_for_op(vm, fd, "delete", key, true, NULL, false);
    if (!map)
        return map_for_op_status(vm, fd);
    if (map->map_flags & EBPFVM_F_RDONLY || map->frozen) {
        char who[80];
        map_name(map, who, sizeof who);
        return ebpfvm__error(vm, EBPFVM_ERR_PERM, "%s: delete: the map is %s", who,
                             map->frozen ? "frozen" : "read-only (BPF_F_RDONLY)");
    }
    int err = map->ops->delete_elem(map, key);
    return err ? map_op_error(map, err, "delete", key, 0) : EBPFVM_OK;
}

int ebpfvm_map_get_next_key(ebpfvm_vm *vm, int fd, const void *key, void *next_key)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_map *map = map_for_op(vm, fd, "get_next_key", NULL, false, next_key, true);
    if (!map)
        return map_for_op_status(vm, fd);
    if (map->map_flags & EBPFVM_F_WRONLY) {
        char who[80];
        map_name(map, who, sizeof who);
        return ebpfvm__error(vm, EBPFVM_ERR_PERM, "%s: get_next_key: the map is write-only (BPF_F_WRONLY)", who);
    }
    int err = map->ops->get_next_key(map, key, next_key);
    return err ? map_op_error(map, err, "get_next_key", key, 0) : EBPFVM_OK;
}

int ebpfvm_map_get_info(const ebpfvm_vm *vm, int fd, struct ebpfvm_map_info *info)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    if (!info)
        return ebpfvm__error((struct ebpfvm_vm *)vm, EBPFVM_ERR_INVAL, "map get_info: info is NULL");
    /* No message on a miss: the checked interpreter calls this during runs. */
    if (fd < 0 || (uint32_t)fd >= vm->nmaps || !vm->maps[fd])
        return EBPFVM_ERR_NOENT;
    const struct ebpfvm_map *map = vm->maps[fd];
    info->type = map->type;
    info->key_size = map->key_size;
    info->value_size = map->value_size;
    info->max_entries = map->max_entries;
    info->map_flags = map->map_flags;
    info->name = map->name ? map->name : "";
    return EBPFVM_OK;
}

int ebpfvm_vm_set_ncpus(ebpfvm_vm *vm, uint32_t ncpus)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    if (ncpus == 0 || ncpus > EBPFVM_MAX_CPUS)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "set_ncpus: %u is out of range 1..%d", ncpus, EBPFVM_MAX_CPUS);
    for (uint32_t i = 0; i < vm->nmaps; i++) {
        if (vm->maps[i] && ebpfvm__map_is_percpu(vm->maps[i]) && vm->maps[i]->ncpus != ncpus) {
            char who[80];
            map_name(vm->maps[i], who, sizeof who);
            return ebpfvm__error(vm, EBPFVM_ERR_INVAL,
                                 "set_ncpus: per-CPU %s already has %u CPU slots; set ncpus before creating per-CPU maps",
                                 who, vm->maps[i]->ncpus);
        }
    }
    vm->ncpus = ncpus;
    return EBPFVM_OK;
}

int ebpfvm_prog_array_set(ebpfvm_vm *vm, int fd, uint32_t index, const ebpfvm_prog *prog)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_map *map = map_get(vm, fd, "prog_array_set");
    if (!map)
        return EBPFVM_ERR_NOENT;
    char who[80];
    map_name(map, who, sizeof who);
    if (map->type != EBPFVM_MAP_PROG_ARRAY)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: prog_array_set: the map is a %s, not a prog_array", who,
                             map->type_name);
    if (prog && prog->vm != vm)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "%s: prog_array_set: the program belongs to another vm", who);
    if (index >= map->max_entries)
        return ebpfvm__error(vm, EBPFVM_ERR_RANGE, "%s: prog_array_set: index %u out of range (max_entries %u)", who,
                             index, map->max_entries);
    return ebpfvm__prog_array_set(map, index, prog);
}
