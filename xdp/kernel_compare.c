/*
 * xdp/kernel_compare.c - ebpfvm's results against the kernel's for the same
 * object (see kernel_compare.h): the first differing byte of two frames, and
 * every map compared by name, entry by entry.
 *
 * Owns: the key sets of both sides of one map while it is compared (sorted
 * copies of the keys, so lookups of LPM tries - longest-prefix matches on
 * both sides - never stand in for exact keys), the ring buffer records of
 * both sides while they are compared. Invariant: everything allocated for
 * one map is freed before the next; the caller's objects are only read,
 * except ring buffers, which are consumed on both sides.
 */
#include "xdp/kernel_compare.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ebpfvm_kernel_first_difference(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i == n && alen == blen ? SIZE_MAX : i;
}

/* ------------------------------------------------------------- keys */

struct keyset {
    uint8_t *keys; /* n x size bytes, sorted after keyset_sort */
    size_t n, cap, size;
};

static size_t sort_key_size; /* qsort has no context argument */

static int cmp_key(const void *a, const void *b)
{
    return memcmp(a, b, sort_key_size);
}

static int keyset_add(struct keyset *s, const void *key)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint8_t *k = realloc(s->keys, cap * s->size);
        if (!k)
            return EBPFVM_ERR_NOMEM;
        s->keys = k;
        s->cap = cap;
    }
    memcpy(s->keys + s->n * s->size, key, s->size);
    s->n++;
    return 0;
}

static void keyset_sort(struct keyset *s)
{
    sort_key_size = s->size;
    if (s->n > 1)
        qsort(s->keys, s->n, s->size, cmp_key);
}

static bool keyset_has(const struct keyset *s, const void *key)
{
    if (s->n == 0)
        return false;
    sort_key_size = s->size;
    return bsearch(key, s->keys, s->n, s->size, cmp_key) != NULL;
}

/* --------------------------------------------------------- reporting */

struct map_cmp {
    ebpfvm_kernel_obj *kobj;
    ebpfvm_vm *vm;
    int fd;
    struct ebpfvm_kernel_map_info info;
    struct keyset kernel_keys, ebpfvm_keys;
    uint8_t *value; /* ebpfvm's value: value_stride x EBPFVM_MAX_CPUS */
    size_t max_lines, lines, cut;
    ebpfvm_kernel_diff_fn fn;
    void *ud;
    bool differs;
    int error;
};

static void hex(char *buf, size_t size, const uint8_t *p, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (o + 2 + 3 >= size) {
            strcpy(buf + o, "..");
            return;
        }
        o += (size_t)snprintf(buf + o, size - o, "%02x", p[i]);
    }
}

static void differ(struct map_cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void differ(struct map_cmp *c, const char *fmt, ...)
{
    c->differs = true;
    if (c->max_lines && c->lines >= c->max_lines) {
        c->cut++;
        return;
    }
    char line[512];
    int n = snprintf(line, sizeof line, "map %s: ", c->info.name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    c->lines++;
    if (c->fn)
        c->fn(c->ud, c->info.name, line);
}

/* ---------------------------------------------------------- entries */

static int collect_kernel_key(void *ud, const void *key, const void *value)
{
    struct map_cmp *c = ud;
    (void)value;
    c->error = keyset_add(&c->kernel_keys, key);
    return c->error ? 1 : 0;
}

static int compare_kernel_entry(void *ud, const void *key, const void *kvalue)
{
    struct map_cmp *c = ud;
    char k[80], kv[160], ev[160];
    hex(k, sizeof k, key, c->info.key_size);
    hex(kv, sizeof kv, kvalue, c->info.value_size);
    /* Both sides' values start with CPU 0's copy (or the only one). */
    if (!keyset_has(&c->ebpfvm_keys, key) || ebpfvm_map_lookup(c->vm, c->fd, key, c->value) != 0) {
        differ(c, "key %s: only in the kernel (value %s)", k, kv);
        return 0;
    }
    if (memcmp(c->value, kvalue, c->info.value_size) != 0) {
        hex(ev, sizeof ev, c->value, c->info.value_size);
        differ(c, "key %s: kernel %s, ebpfvm %s", k, kv, ev);
    }
    return 0;
}

static int compare_entries(struct map_cmp *c, size_t index)
{
    uint32_t ks = c->info.key_size;
    c->kernel_keys.size = c->ebpfvm_keys.size = ks ? ks : 1;
    c->value = malloc((size_t)(c->info.value_stride ? c->info.value_stride : 1) * EBPFVM_MAX_CPUS + 8);
    uint8_t *key = malloc(c->kernel_keys.size), *next = malloc(c->kernel_keys.size);
    int rc = 0;
    if (!c->value || !key || !next) {
        rc = EBPFVM_ERR_NOMEM;
        goto out;
    }
    /* ebpfvm's keys whose lookup succeeds (empty devmap slots do not). */
    const void *prev = NULL;
    while (ebpfvm_map_get_next_key(c->vm, c->fd, prev, next) == 0) {
        memcpy(key, next, ks);
        prev = key;
        if (ebpfvm_map_lookup(c->vm, c->fd, key, c->value) == 0 && (rc = keyset_add(&c->ebpfvm_keys, key)) != 0)
            goto out;
    }
    keyset_sort(&c->ebpfvm_keys);
    rc = ebpfvm_kernel_map_foreach(c->kobj, index, collect_kernel_key, c);
    if (c->error) {
        rc = c->error;
        goto out;
    }
    if (rc < 0) {
        differ(c, "the kernel's entries cannot be read (%s)", ebpfvm_kernel_errmsg(c->kobj));
        rc = 0;
        goto out;
    }
    keyset_sort(&c->kernel_keys);
    rc = ebpfvm_kernel_map_foreach(c->kobj, index, compare_kernel_entry, c);
    if (rc < 0) {
        differ(c, "the kernel's entries cannot be read (%s)", ebpfvm_kernel_errmsg(c->kobj));
        rc = 0;
        goto out;
    }
    for (size_t i = 0; i < c->ebpfvm_keys.n; i++) {
        const uint8_t *k = c->ebpfvm_keys.keys + i * c->ebpfvm_keys.size;
        if (keyset_has(&c->kernel_keys, k))
            continue;
        char kh[80], ev[160];
        hex(kh, sizeof kh, k, ks);
        if (ebpfvm_map_lookup(c->vm, c->fd, k, c->value) == 0)
            hex(ev, sizeof ev, c->value, c->info.value_size);
        else
            strcpy(ev, "?");
        differ(c, "key %s: only in ebpfvm (value %s)", kh, ev);
    }
out:
    free(key);
    free(next);
    free(c->value);
    free(c->kernel_keys.keys);
    free(c->ebpfvm_keys.keys);
    c->value = NULL;
    return rc;
}

/* ------------------------------------------------------ ring buffers */

struct records {
    uint8_t **data;
    size_t *size;
    size_t n, cap;
    int error;
};

static int keep_record(void *ud, const void *data, size_t size)
{
    struct records *r = ud;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        uint8_t **d = realloc(r->data, cap * sizeof *d);
        if (d)
            r->data = d;
        size_t *s = d ? realloc(r->size, cap * sizeof *s) : NULL;
        if (!s) {
            r->error = EBPFVM_ERR_NOMEM;
            return 1;
        }
        r->size = s;
        r->cap = cap;
    }
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        r->error = EBPFVM_ERR_NOMEM;
        return 1;
    }
    memcpy(copy, data, size);
    r->data[r->n] = copy;
    r->size[r->n++] = size;
    return 0;
}

static void free_records(struct records *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->data[i]);
    free(r->data);
    free(r->size);
}

static int compare_ring(struct map_cmp *c, size_t index)
{
    struct records kr = {0}, er = {0};
    int krc = ebpfvm_kernel_ringbuf_consume(c->kobj, index, keep_record, &kr, NULL);
    int erc = ebpfvm_ringbuf_consume(c->vm, c->fd, keep_record, &er, NULL);
    int rc = kr.error ? kr.error : er.error;
    if (rc)
        goto out;
    if (krc < 0 || erc < 0) {
        differ(c, "records cannot be read (%s)", krc < 0 ? ebpfvm_kernel_errmsg(c->kobj) : ebpfvm_strerror(erc));
        goto out;
    }
    size_t n = kr.n < er.n ? kr.n : er.n;
    for (size_t i = 0; i < n; i++) {
        size_t at = ebpfvm_kernel_first_difference(kr.data[i], kr.size[i], er.data[i], er.size[i]);
        if (at != SIZE_MAX)
            differ(c, "record %zu: kernel %zu bytes, ebpfvm %zu; first difference at byte %zu", i, kr.size[i],
                   er.size[i], at);
    }
    if (kr.n != er.n)
        differ(c, "kernel %zu records, ebpfvm %zu", kr.n, er.n);
out:
    free_records(&kr);
    free_records(&er);
    return rc;
}

/* --------------------------------------------------------------- maps */

int ebpfvm_kernel_compare_maps(ebpfvm_kernel_obj *kobj, ebpfvm_vm *vm, const ebpfvm_object *obj, size_t max_lines,
                               ebpfvm_kernel_diff_fn fn, void *ud, struct ebpfvm_kernel_map_counts *counts)
{
    if (!kobj || !vm || !obj || !counts)
        return EBPFVM_ERR_INVAL;
    memset(counts, 0, sizeof *counts);
    for (size_t i = 0; i < ebpfvm_kernel_map_count(kobj); i++) {
        struct map_cmp c = {.kobj = kobj, .vm = vm, .max_lines = max_lines, .fn = fn, .ud = ud};
        if (ebpfvm_kernel_map_info(kobj, i, &c.info) != 0)
            continue;
        if (c.info.type == EBPFVM_MAP_PROG_ARRAY || c.info.type == EBPFVM_MAP_XSKMAP ||
            c.info.type == EBPFVM_MAP_PERF_EVENT_ARRAY || c.info.type == EBPFVM_MAP_USER_RINGBUF ||
            c.info.type == EBPFVM_MAP_SK_STORAGE || c.info.type == EBPFVM_MAP_SOCKMAP ||
            c.info.type == EBPFVM_MAP_SOCKHASH || c.info.type == EBPFVM_MAP_REUSEPORT_SOCKARRAY)
            continue; /* the syscall returns no comparable values */
        counts->compared++;
        int rc = 0;
        if (ebpfvm_object_map_fd(obj, c.info.name, &c.fd) != 0)
            differ(&c, "in the kernel's object, not in ebpfvm's");
        else if (c.info.type == EBPFVM_MAP_RINGBUF)
            rc = compare_ring(&c, i);
        else
            rc = compare_entries(&c, i);
        if (rc)
            return rc;
        if (c.cut) {
            char line[300];
            snprintf(line, sizeof line, "map %s: %zu more differences not shown", c.info.name, c.cut);
            if (fn)
                fn(ud, c.info.name, line);
        }
        if (!c.differs)
            counts->agree++;
    }
    return 0;
}
