/*
 * xdp/kernel.c - the Linux kernel as an oracle (see kernel.h): open an ELF
 * object with libbpf, load it with BPF_PROG_LOAD, run packets through
 * BPF_PROG_TEST_RUN, read, write and reset its maps.
 *
 * Owns: struct ebpfvm_kernel_obj (the libbpf object, the selected program,
 * one record per map with ebpfvm's name for it, the initial bytes of the
 * global-data maps and the lazily created ring buffer readers) and the
 * capture of libbpf's messages while opening and loading.
 *
 * Invariants: an object that exists is loaded (every program and map is in
 * the kernel); obj->errmsg always holds a NUL-terminated string; libbpf's
 * print hook is only replaced for the duration of ebpfvm_kernel_open().
 *
 * This file is above the core (xdp/): it may use libc, libbpf and errno,
 * but errno never leaves it - callers get a status and a message.
 */
#define _GNU_SOURCE
#include "xdp/kernel.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#define KERNEL_LOG_SIZE (1u << 20) /* verifier log buffer per object */
#define KERNEL_ERRMSG_SIZE 1024u

struct kernel_map {
    struct bpf_map *map;
    char *name;           /* ebpfvm's name: variable or section name */
    void *init;           /* initial bytes of a global-data map, or NULL */
    size_t init_size;
    struct ring_buffer *rb; /* reader of a ringbuf map, created on first use */
};

struct ebpfvm_kernel_obj {
    struct bpf_object *bobj;
    struct bpf_program *prog; /* the selected program */
    struct kernel_map *maps;
    size_t nmaps;
    uint32_t ncpus; /* possible CPUs (per-CPU value copies) */
    /* The ring buffer callback's target during ebpfvm_kernel_ringbuf_consume. */
    ebpfvm_kernel_record_fn rb_fn;
    void *rb_ud;
    size_t rb_count;
    bool rb_stopped;
    char errmsg[KERNEL_ERRMSG_SIZE];
};

/* ------------------------------------------------------------ messages */

static void msg_set(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void msg_set(char *msg, size_t size, const char *fmt, ...)
{
    if (!msg || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

static int obj_err(ebpfvm_kernel_obj *obj, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int obj_err(ebpfvm_kernel_obj *obj, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(obj->errmsg, sizeof obj->errmsg, fmt, ap);
    va_end(ap);
    return status;
}

/* The status for a kernel errno (positive). */
static int status_of_errno(int err)
{
    switch (err) {
    case EPERM:
        return EBPFVM_ERR_PERM;
    case ENOENT:
        return EBPFVM_ERR_NOENT;
    case EEXIST:
        return EBPFVM_ERR_EXIST;
    case E2BIG:
    case ENOSPC:
        return EBPFVM_ERR_RANGE;
    case ENOMEM:
        return EBPFVM_ERR_NOMEM;
    case ENOSYS:
    case EOPNOTSUPP:
        return EBPFVM_ERR_UNSUPP;
    default:
        return EBPFVM_ERR_INVAL;
    }
}

/* libbpf's warnings and errors while opening/loading, for the message. */
static char capture_buf[2048];
static size_t capture_len;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_DEBUG || capture_len + 1 >= sizeof capture_buf)
        return 0;
    int n = vsnprintf(capture_buf + capture_len, sizeof capture_buf - capture_len, fmt, ap);
    if (n > 0)
        capture_len += (size_t)n < sizeof capture_buf - capture_len ? (size_t)n : sizeof capture_buf - capture_len - 1;
    return 0;
}

/* ----------------------------------------------------------- the probe */

int ebpfvm_kernel_probe(char *msg, size_t size)
{
    msg_set(msg, size, "%s", "");
    int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ebpfvm_probe", 4, 4, 1, NULL);
    if (map < 0) {
        int err = -map;
        if (err == EPERM || err == EACCES) {
            msg_set(msg, size, "bpf() not permitted: %s (run as root, or with CAP_BPF and CAP_NET_ADMIN)",
                    strerror(err));
            return EBPFVM_ERR_PERM;
        }
        msg_set(msg, size, "bpf() unavailable: BPF_MAP_CREATE failed: %s", strerror(err));
        return err == ENOSYS ? EBPFVM_ERR_UNSUPP : EBPFVM_ERR_INVAL;
    }
    close(map);

    const struct bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
        {.code = BPF_JMP | BPF_EXIT},
    };
    int prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "ebpfvm_probe", "GPL", insns, 2, NULL);
    if (prog < 0) {
        int err = -prog;
        msg_set(msg, size, "bpf() cannot load an XDP program: %s", strerror(err));
        return err == EPERM || err == EACCES ? EBPFVM_ERR_PERM : EBPFVM_ERR_UNSUPP;
    }
    uint8_t pkt[64] = {0}, out[128];
    struct bpf_test_run_opts topts = {.sz = sizeof topts};
    topts.data_in = pkt;
    topts.data_size_in = sizeof pkt;
    topts.data_out = out;
    topts.data_size_out = sizeof out;
    topts.repeat = 1;
    int rc = bpf_prog_test_run_opts(prog, &topts);
    close(prog);
    if (rc < 0) {
        msg_set(msg, size, "BPF_PROG_TEST_RUN of an XDP program failed: %s", strerror(-rc));
        return rc == -EPERM ? EBPFVM_ERR_PERM : EBPFVM_ERR_UNSUPP;
    }
    if (topts.retval != XDP_PASS || topts.data_size_out != sizeof pkt) {
        msg_set(msg, size, "BPF_PROG_TEST_RUN returned %u and %u bytes, expected XDP_PASS and %zu", topts.retval,
                topts.data_size_out, sizeof pkt);
        return EBPFVM_ERR_UNSUPP;
    }
    return 0;
}

int ebpfvm_kernel_pin_cpu0(char *msg, size_t size)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        msg_set(msg, size, "sched_setaffinity(CPU 0): %s", strerror(errno));
        return EBPFVM_ERR_INVAL;
    }
    msg_set(msg, size, "%s", "");
    return 0;
}

/* ------------------------------------------------------- open and load */

/* ebpfvm's name for a libbpf map: global-data maps are called after their
 * section (".bss"), libbpf prefixes them with the object name ("obj.bss"). */
static char *ebpfvm_map_name(const struct bpf_map *map)
{
    const char *name = bpf_map__name(map);
    if (bpf_map__is_internal(map)) {
        const char *dot = strchr(name, '.');
        if (dot)
            name = dot;
    }
    return strdup(name);
}

/* Whether program section sec is of the type the bare name `type` means. */
static bool section_has_type(const char *sec, const char *type)
{
    size_t n = strlen(type);
    return strncmp(sec, type, n) == 0 && (sec[n] == '\0' || sec[n] == '/' || sec[n] == '.' || sec[n] == '_');
}

static struct bpf_program *select_program(struct bpf_object *bobj, const char *section, const char *name)
{
    struct bpf_program *p;
    if (section) {
        bpf_object__for_each_program(p, bobj)
        {
            if (!strcmp(bpf_program__section_name(p), section) && (!name || !strcmp(bpf_program__name(p), name)))
                return p;
        }
    }
    bpf_object__for_each_program(p, bobj)
    {
        if (section && !section_has_type(bpf_program__section_name(p), section))
            continue;
        if (!name || !strcmp(bpf_program__name(p), name))
            return p;
    }
    return NULL;
}

/* Write "<head>\n<log>" into msg, keeping the log's end when it is long. */
static void msg_with_log(char *msg, size_t size, const char *head, const char *log)
{
    if (!msg || size == 0)
        return;
    size_t hlen = strlen(head), llen = strlen(log);
    if (hlen + 1 + llen < size) {
        snprintf(msg, size, "%s\n%s", head, log);
        return;
    }
    static const char cut[] = "\n...\n";
    if (hlen + sizeof cut >= size) {
        snprintf(msg, size, "%s", head);
        return;
    }
    size_t keep = size - hlen - sizeof cut; /* log bytes that fit, NUL counted in sizeof cut */
    snprintf(msg, size, "%s%s%s", head, cut, log + (llen - keep));
}

static void obj_free(ebpfvm_kernel_obj *obj)
{
    for (size_t i = 0; i < obj->nmaps; i++) {
        ring_buffer__free(obj->maps[i].rb);
        free(obj->maps[i].name);
        free(obj->maps[i].init);
    }
    free(obj->maps);
    bpf_object__close(obj->bobj);
    free(obj);
}

int ebpfvm_kernel_open(const char *path, const char *section, const char *name, ebpfvm_kernel_obj **out,
                       char *msg, size_t size)
{
    if (!out) {
        msg_set(msg, size, "ebpfvm_kernel_open: NULL out");
        return EBPFVM_ERR_INVAL;
    }
    *out = NULL;
    if (!path) {
        msg_set(msg, size, "ebpfvm_kernel_open: NULL path");
        return EBPFVM_ERR_INVAL;
    }
    int status = ebpfvm_kernel_pin_cpu0(msg, size);
    if (status)
        return status;
    ebpfvm_kernel_obj *obj = calloc(1, sizeof *obj);
    char *log = malloc(KERNEL_LOG_SIZE);
    if (!obj || !log) {
        free(obj);
        free(log);
        msg_set(msg, size, "%s: out of memory", path);
        return EBPFVM_ERR_NOMEM;
    }
    log[0] = '\0';
    capture_len = 0;
    capture_buf[0] = '\0';
    libbpf_print_fn_t old_print = libbpf_set_print(capture_print);

    obj->bobj = bpf_object__open_file(path, NULL);
    long open_err = libbpf_get_error(obj->bobj);
    if (open_err) {
        obj->bobj = NULL;
        msg_set(msg, size, "%s: libbpf cannot open it: %s%s%s", path, strerror((int)-open_err),
                capture_len ? "\n" : "", capture_buf);
        status = EBPFVM_ERR_IO;
        goto fail;
    }

    struct bpf_program *p;
    bpf_object__for_each_program(p, obj->bobj)
    {
        if (bpf_program__type(p) == BPF_PROG_TYPE_UNSPEC && !strncmp(bpf_program__section_name(p), "xdp", 3)) {
            bpf_program__set_type(p, BPF_PROG_TYPE_XDP);
            bpf_program__set_expected_attach_type(p, BPF_XDP);
        }
        bpf_program__set_log_buf(p, log, KERNEL_LOG_SIZE);
    }
    obj->prog = select_program(obj->bobj, section, name);
    if (!obj->prog) {
        msg_set(msg, size, "%s: no program%s%s%s%s", path, section ? " in section " : "", section ? section : "",
                name ? " called " : "", name ? name : "");
        status = EBPFVM_ERR_NOENT;
        goto fail;
    }

    /* Keep the initial bytes of global-data maps for ebpfvm_kernel_maps_reset:
     * after loading, libbpf's buffer is the live (mmapped) map. */
    size_t nmaps = 0;
    struct bpf_map *m;
    bpf_object__for_each_map(m, obj->bobj) nmaps++;
    obj->maps = calloc(nmaps ? nmaps : 1, sizeof *obj->maps);
    if (!obj->maps) {
        msg_set(msg, size, "%s: out of memory", path);
        status = EBPFVM_ERR_NOMEM;
        goto fail;
    }
    bpf_object__for_each_map(m, obj->bobj)
    {
        struct kernel_map *km = &obj->maps[obj->nmaps++];
        km->map = m;
        km->name = ebpfvm_map_name(m);
        if (!km->name) {
            msg_set(msg, size, "%s: out of memory", path);
            status = EBPFVM_ERR_NOMEM;
            goto fail;
        }
        size_t isize = 0;
        const void *init = bpf_map__is_internal(m) ? bpf_map__initial_value(m, &isize) : NULL;
        if (init && isize) {
            km->init = malloc(isize);
            if (!km->init) {
                msg_set(msg, size, "%s: out of memory", path);
                status = EBPFVM_ERR_NOMEM;
                goto fail;
            }
            memcpy(km->init, init, isize);
            km->init_size = isize;
        }
    }

    int rc = bpf_object__load(obj->bobj);
    if (rc < 0) {
        /* libbpf loads in object order and stops at the first failure. */
        struct bpf_program *failed = NULL;
        bpf_object__for_each_program(p, obj->bobj)
        {
            if (bpf_program__autoload(p) && bpf_program__fd(p) < 0) {
                failed = p;
                break;
            }
        }
        char head[512];
        if (failed && log[0]) {
            snprintf(head, sizeof head, "%s: program %s: the kernel verifier rejected it (%s):", path,
                     bpf_program__name(failed), strerror(-rc));
            msg_with_log(msg, size, head, log);
            status = EBPFVM_ERR_VERIFY;
        } else {
            snprintf(head, sizeof head, "%s: the kernel refused to load it (%s):", path, strerror(-rc));
            msg_with_log(msg, size, head, capture_buf);
            status = rc == -EPERM ? EBPFVM_ERR_PERM : EBPFVM_ERR_INVAL;
        }
        goto fail;
    }
    int ncpus = libbpf_num_possible_cpus();
    obj->ncpus = ncpus > 0 ? (uint32_t)ncpus : 1;
    libbpf_set_print(old_print);
    free(log);
    *out = obj;
    return 0;

fail:
    libbpf_set_print(old_print);
    free(log);
    obj_free(obj);
    return status;
}

void ebpfvm_kernel_close(ebpfvm_kernel_obj *obj)
{
    if (obj)
        obj_free(obj);
}

const char *ebpfvm_kernel_errmsg(const ebpfvm_kernel_obj *obj)
{
    return obj ? obj->errmsg : "";
}

const char *ebpfvm_kernel_program_name(const ebpfvm_kernel_obj *obj)
{
    return obj ? bpf_program__name(obj->prog) : "";
}

int ebpfvm_kernel_program_fd(const ebpfvm_kernel_obj *obj)
{
    return obj ? bpf_program__fd(obj->prog) : -1;
}

/* ----------------------------------------------------------------- run */

int ebpfvm_kernel_run(ebpfvm_kernel_obj *obj, const void *packet, size_t len, void *out, size_t out_size,
                      struct ebpfvm_kernel_run_result *result)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    obj->errmsg[0] = '\0';
    if (!packet || !out || !result)
        return obj_err(obj, EBPFVM_ERR_INVAL, "ebpfvm_kernel_run: NULL argument");
    memset(result, 0, sizeof *result);
    if (len > UINT32_MAX || out_size > UINT32_MAX)
        return obj_err(obj, EBPFVM_ERR_RANGE, "ebpfvm_kernel_run: packet or buffer too large");
    struct bpf_test_run_opts topts = {.sz = sizeof topts};
    topts.data_in = packet;
    topts.data_size_in = (uint32_t)len;
    topts.data_out = out;
    topts.data_size_out = (uint32_t)out_size;
    topts.repeat = 1;
    int rc = bpf_prog_test_run_opts(bpf_program__fd(obj->prog), &topts);
    if (rc < 0) {
        int status = rc == -ENOSPC ? EBPFVM_ERR_RANGE : rc == -EPERM ? EBPFVM_ERR_PERM : EBPFVM_ERR_INVAL;
        return obj_err(obj, status, "program %s: BPF_PROG_TEST_RUN on %zu bytes failed: %s",
                       bpf_program__name(obj->prog), len, strerror(-rc));
    }
    result->retval = topts.retval;
    result->out_len = topts.data_size_out;
    result->duration_ns = topts.duration;
    return 0;
}

/* ---------------------------------------------------------------- maps */

size_t ebpfvm_kernel_map_count(const ebpfvm_kernel_obj *obj)
{
    return obj ? obj->nmaps : 0;
}

static bool type_is_percpu(uint32_t type)
{
    return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
           type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static void fill_info(const ebpfvm_kernel_obj *obj, const struct kernel_map *km, struct ebpfvm_kernel_map_info *info)
{
    info->name = km->name;
    info->type = (uint32_t)bpf_map__type(km->map);
    info->key_size = bpf_map__key_size(km->map);
    info->value_size = bpf_map__value_size(km->map);
    info->max_entries = bpf_map__max_entries(km->map);
    info->map_flags = bpf_map__map_flags(km->map);
    info->fd = bpf_map__fd(km->map);
    if (type_is_percpu(info->type)) {
        info->ncpus = obj->ncpus;
        info->value_stride = (info->value_size + 7u) & ~7u;
    } else {
        info->ncpus = 1;
        info->value_stride = info->value_size;
    }
}

int ebpfvm_kernel_map_info(const ebpfvm_kernel_obj *obj, size_t index, struct ebpfvm_kernel_map_info *info)
{
    if (!obj || !info)
        return EBPFVM_ERR_INVAL;
    if (index >= obj->nmaps)
        return EBPFVM_ERR_NOENT;
    fill_info(obj, &obj->maps[index], info);
    return 0;
}

int ebpfvm_kernel_map_find(const ebpfvm_kernel_obj *obj, const char *name, size_t *index)
{
    if (!obj || !name || !index)
        return EBPFVM_ERR_INVAL;
    for (size_t i = 0; i < obj->nmaps; i++) {
        if (!strcmp(obj->maps[i].name, name)) {
            *index = i;
            return 0;
        }
    }
    return EBPFVM_ERR_NOENT;
}

static bool type_values_readable(uint32_t type)
{
    return type != BPF_MAP_TYPE_PROG_ARRAY && type != BPF_MAP_TYPE_XSKMAP && type != BPF_MAP_TYPE_RINGBUF &&
           type != BPF_MAP_TYPE_PERF_EVENT_ARRAY;
}

int ebpfvm_kernel_map_foreach(ebpfvm_kernel_obj *obj, size_t index, ebpfvm_kernel_entry_fn fn, void *ud)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    obj->errmsg[0] = '\0';
    if (!fn)
        return obj_err(obj, EBPFVM_ERR_INVAL, "ebpfvm_kernel_map_foreach: NULL fn");
    if (index >= obj->nmaps)
        return obj_err(obj, EBPFVM_ERR_NOENT, "no map %zu (the object has %zu)", index, obj->nmaps);
    struct ebpfvm_kernel_map_info info;
    fill_info(obj, &obj->maps[index], &info);
    if (!type_values_readable(info.type))
        return obj_err(obj, EBPFVM_ERR_UNSUPP, "map %s: the kernel does not return the values of map type %u",
                       info.name, info.type);
    size_t ksize = info.key_size ? info.key_size : 1;
    uint8_t *key = malloc(ksize), *next = malloc(ksize);
    uint8_t *value = malloc((size_t)info.ncpus * (info.value_stride ? info.value_stride : 1));
    int status = 0;
    if (!key || !next || !value) {
        status = obj_err(obj, EBPFVM_ERR_NOMEM, "map %s: out of memory", info.name);
        goto out;
    }
    const void *prev = NULL;
    for (;;) {
        int rc = bpf_map_get_next_key(info.fd, prev, next);
        if (rc == -ENOENT)
            break;
        if (rc < 0) {
            status = obj_err(obj, status_of_errno(-rc), "map %s: BPF_MAP_GET_NEXT_KEY: %s", info.name,
                             strerror(-rc));
            goto out;
        }
        memcpy(key, next, ksize);
        prev = key;
        rc = bpf_map_lookup_elem(info.fd, key, value);
        if (rc == -ENOENT)
            continue; /* an empty devmap slot; or deleted under us */
        if (rc < 0) {
            status = obj_err(obj, status_of_errno(-rc), "map %s: BPF_MAP_LOOKUP_ELEM: %s", info.name,
                             strerror(-rc));
            goto out;
        }
        rc = fn(ud, key, value);
        if (rc) {
            status = rc;
            goto out;
        }
    }
out:
    free(key);
    free(next);
    free(value);
    return status;
}

static int find_map(ebpfvm_kernel_obj *obj, const char *name, struct ebpfvm_kernel_map_info *info)
{
    size_t index;
    if (!name || ebpfvm_kernel_map_find(obj, name, &index) != 0)
        return obj_err(obj, EBPFVM_ERR_NOENT, "no map called %s", name ? name : "(null)");
    fill_info(obj, &obj->maps[index], info);
    return 0;
}

int ebpfvm_kernel_map_lookup(ebpfvm_kernel_obj *obj, const char *map, const void *key, void *value)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    obj->errmsg[0] = '\0';
    struct ebpfvm_kernel_map_info info;
    int status = find_map(obj, map, &info);
    if (status)
        return status;
    if (!key || !value)
        return obj_err(obj, EBPFVM_ERR_INVAL, "map %s: NULL key or value", map);
    if (!type_values_readable(info.type))
        return obj_err(obj, EBPFVM_ERR_UNSUPP, "map %s: the kernel does not return the values of map type %u",
                       map, info.type);
    int rc = bpf_map_lookup_elem(info.fd, key, value);
    if (rc < 0)
        return obj_err(obj, status_of_errno(-rc), "map %s: BPF_MAP_LOOKUP_ELEM: %s", map, strerror(-rc));
    return 0;
}

int ebpfvm_kernel_map_update(ebpfvm_kernel_obj *obj, const char *map, const void *key, const void *value,
                             uint64_t flags)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    obj->errmsg[0] = '\0';
    struct ebpfvm_kernel_map_info info;
    int status = find_map(obj, map, &info);
    if (status)
        return status;
    if (!key || !value)
        return obj_err(obj, EBPFVM_ERR_INVAL, "map %s: NULL key or value", map);
    int rc = bpf_map_update_elem(info.fd, key, value, flags);
    if (rc < 0) {
        status = status_of_errno(-rc);
        if (status == EBPFVM_ERR_NOENT && flags != BPF_EXIST)
            status = EBPFVM_ERR_INVAL; /* e.g. a devmap entry naming no device */
        return obj_err(obj, status, "map %s: BPF_MAP_UPDATE_ELEM: %s", map, strerror(-rc));
    }
    return 0;
}

int ebpfvm_kernel_prog_array_set(ebpfvm_kernel_obj *obj, const char *map, uint32_t index, const char *prog_name)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    obj->errmsg[0] = '\0';
    struct ebpfvm_kernel_map_info info;
    int status = find_map(obj, map, &info);
    if (status)
        return status;
    if (info.type != BPF_MAP_TYPE_PROG_ARRAY)
        return obj_err(obj, EBPFVM_ERR_INVAL, "map %s is not a prog_array", map);
    int rc;
    if (!prog_name) {
        rc = bpf_map_delete_elem(info.fd, &index);
        if (rc == -ENOENT)
            rc = 0;
    } else {
        struct bpf_program *p = bpf_object__find_program_by_name(obj->bobj, prog_name);
        if (!p)
            return obj_err(obj, EBPFVM_ERR_NOENT, "no program called %s", prog_name);
        int fd = bpf_program__fd(p);
        rc = bpf_map_update_elem(info.fd, &index, &fd, BPF_ANY);
    }
    if (rc < 0)
        return obj_err(obj, status_of_errno(-rc), "map %s: slot %u: %s", map, index, strerror(-rc));
    return 0;
}

/* ---------------------------------------------------------- ring buffers */

static int ringbuf_sample(void *ctx, void *data, size_t size)
{
    ebpfvm_kernel_obj *obj = ctx;
    if (obj->rb_stopped)
        return -1;
    obj->rb_count++;
    if (obj->rb_fn(obj->rb_ud, data, size) != 0) {
        obj->rb_stopped = true;
        return -1; /* libbpf stops at a negative value, after consuming this record */
    }
    return 0;
}

int ebpfvm_kernel_ringbuf_consume(ebpfvm_kernel_obj *obj, size_t index, ebpfvm_kernel_record_fn fn, void *ud,
                                  size_t *count)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    obj->errmsg[0] = '\0';
    if (count)
        *count = 0;
    if (!fn)
        return obj_err(obj, EBPFVM_ERR_INVAL, "ebpfvm_kernel_ringbuf_consume: NULL fn");
    if (index >= obj->nmaps)
        return obj_err(obj, EBPFVM_ERR_NOENT, "no map %zu (the object has %zu)", index, obj->nmaps);
    struct kernel_map *km = &obj->maps[index];
    if (bpf_map__type(km->map) != BPF_MAP_TYPE_RINGBUF)
        return obj_err(obj, EBPFVM_ERR_INVAL, "map %s is not a ringbuf", km->name);
    if (!km->rb) {
        km->rb = ring_buffer__new(bpf_map__fd(km->map), ringbuf_sample, obj, NULL);
        if (!km->rb)
            return obj_err(obj, EBPFVM_ERR_NOMEM, "map %s: ring_buffer__new: %s", km->name, strerror(errno));
    }
    obj->rb_fn = fn;
    obj->rb_ud = ud;
    obj->rb_count = 0;
    obj->rb_stopped = false;
    int rc = ring_buffer__consume(km->rb);
    if (count)
        *count = obj->rb_count;
    if (rc < 0 && !obj->rb_stopped)
        return obj_err(obj, EBPFVM_ERR_INVAL, "map %s: ring_buffer__consume: %s", km->name, strerror(-rc));
    return 0;
}

/* --------------------------------------------------------------- reset */

static int drop_record(void *ud, const void *data, size_t size)
{
    (void)ud;
    (void)data;
    (void)size;
    return 0;
}

/* Delete every key of a hash-like map: always the first key, until none. */
static int empty_hashlike(ebpfvm_kernel_obj *obj, const struct ebpfvm_kernel_map_info *info)
{
    uint8_t *key = malloc(info->key_size ? info->key_size : 1);
    if (!key)
        return obj_err(obj, EBPFVM_ERR_NOMEM, "map %s: out of memory", info->name);
    int status = 0;
    while (bpf_map_get_next_key(info->fd, NULL, key) == 0) {
        int rc = bpf_map_delete_elem(info->fd, key);
        if (rc < 0) {
            status = obj_err(obj, EBPFVM_ERR_INVAL, "map %s: BPF_MAP_DELETE_ELEM: %s", info->name, strerror(-rc));
            break;
        }
    }
    free(key);
    return status;
}

int ebpfvm_kernel_maps_reset(ebpfvm_kernel_obj *obj)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    obj->errmsg[0] = '\0';
    for (size_t i = 0; i < obj->nmaps; i++) {
        struct kernel_map *km = &obj->maps[i];
        struct ebpfvm_kernel_map_info info;
        fill_info(obj, km, &info);
        int rc = 0, status = 0;
        switch (info.type) {
        case BPF_MAP_TYPE_ARRAY:
        case BPF_MAP_TYPE_PERCPU_ARRAY: {
            if (km->init) {
                if (!strncmp(km->name, ".rodata", 7))
                    break; /* frozen */
                uint32_t zero = 0;
                rc = bpf_map_update_elem(info.fd, &zero, km->init, BPF_ANY);
                break;
            }
            void *zeros = calloc(info.ncpus, info.value_stride ? info.value_stride : 1);
            if (!zeros)
                return obj_err(obj, EBPFVM_ERR_NOMEM, "map %s: out of memory", km->name);
            for (uint32_t k = 0; k < info.max_entries && rc == 0; k++)
                rc = bpf_map_update_elem(info.fd, &k, zeros, BPF_ANY);
            free(zeros);
            break;
        }
        case BPF_MAP_TYPE_DEVMAP:
            for (uint32_t k = 0; k < info.max_entries && rc == 0; k++) {
                rc = bpf_map_delete_elem(info.fd, &k);
                if (rc == -ENOENT)
                    rc = 0;
            }
            break;
        case BPF_MAP_TYPE_HASH:
        case BPF_MAP_TYPE_PERCPU_HASH:
        case BPF_MAP_TYPE_LRU_HASH:
        case BPF_MAP_TYPE_LRU_PERCPU_HASH:
        case BPF_MAP_TYPE_LPM_TRIE:
        case BPF_MAP_TYPE_DEVMAP_HASH:
            status = empty_hashlike(obj, &info);
            break;
        case BPF_MAP_TYPE_RINGBUF:
            status = ebpfvm_kernel_ringbuf_consume(obj, i, drop_record, NULL, NULL);
            break;
        default:
            break; /* prog arrays, xskmaps: left as they are */
        }
        if (rc < 0)
            return obj_err(obj, EBPFVM_ERR_INVAL, "map %s: reset: %s", km->name, strerror(-rc));
        if (status)
            return status;
    }
    return 0;
}
