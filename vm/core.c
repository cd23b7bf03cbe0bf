/*
 * vm/core.c - the vm object: allocator hook, error messages, log sink,
 * helper registry, status strings.
 *
 * Every allocation in the library goes through ebpfvm__alloc(), which calls
 * the host's hook with a small header in front of each block recording its
 * size, so that ebpfvm__free() can pass the hook the old size Lua-style.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/internal.h"

/* The header keeps max_align_t alignment for the block that follows. */
typedef union {
    size_t size;
    max_align_t align;
} block_header;

static void *default_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    (void)ud;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

void *ebpfvm__alloc(struct ebpfvm_vm *vm, size_t size)
{
    if (size > SIZE_MAX - sizeof(block_header))
        return NULL;
    block_header *h = vm->alloc(vm->alloc_ud, NULL, 0, size + sizeof(block_header));
    if (!h)
        return NULL;
    h->size = size;
    return h + 1;
}

void *ebpfvm__calloc(struct ebpfvm_vm *vm, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = ebpfvm__alloc(vm, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void ebpfvm__free(struct ebpfvm_vm *vm, void *ptr)
{
    if (!ptr)
        return;
    block_header *h = (block_header *)ptr - 1;
    vm->alloc(vm->alloc_ud, h, h->size + sizeof(block_header), 0);
}

char *ebpfvm__strdup(struct ebpfvm_vm *vm, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = ebpfvm__alloc(vm, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int ebpfvm__error(struct ebpfvm_vm *vm, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vm->errmsg, sizeof vm->errmsg, fmt, ap);
    va_end(ap);
    return status;
}

void ebpfvm__clear_error(struct ebpfvm_vm *vm)
{
    vm->errmsg[0] = '\0';
}

void ebpfvm__log(struct ebpfvm_vm *vm, const char *fmt, ...)
{
    if (!vm->log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    vm->log(vm->log_ud, line);
}

const char *ebpfvm_strerror(int status)
{
    switch (status) {
    case EBPFVM_OK: return "success";
    case EBPFVM_ERR_INVAL: return "invalid argument";
    case EBPFVM_ERR_NOMEM: return "out of memory";
    case EBPFVM_ERR_BADPROG: return "invalid program";
    case EBPFVM_ERR_FAULT: return "runtime fault";
    case EBPFVM_ERR_BUDGET: return "instruction budget exhausted";
    case EBPFVM_ERR_NOENT: return "no such entry";
    case EBPFVM_ERR_EXIST: return "already exists";
    case EBPFVM_ERR_RANGE: return "limit exceeded";
    case EBPFVM_ERR_UNSUPP: return "not supported";
    case EBPFVM_ERR_VERIFY: return "rejected by the verifier";
    case EBPFVM_ERR_IO: return "I/O error";
    case EBPFVM_ERR_FORMAT: return "malformed input";
    case EBPFVM_ERR_PERM: return "not permitted";
    default: return "unknown status";
    }
}

int ebpfvm_vm_create(const struct ebpfvm_vm_opts *opts, ebpfvm_vm **out)
{
    if (!out)
        return EBPFVM_ERR_INVAL;
    *out = NULL;
    if (opts && opts->sz < sizeof(size_t))
        return EBPFVM_ERR_INVAL;
    struct ebpfvm_vm_opts o = {0};
    if (opts) {
        size_t n = opts->sz < sizeof o ? opts->sz : sizeof o;
        memcpy(&o, opts, n);
    }
    ebpfvm_alloc_fn alloc = o.alloc ? o.alloc : default_alloc;
    struct ebpfvm_vm *vm = alloc(o.alloc_ud, NULL, 0, sizeof *vm);
    if (!vm)
        return EBPFVM_ERR_NOMEM;
    memset(vm, 0, sizeof *vm);
    vm->alloc = alloc;
    vm->alloc_ud = o.alloc_ud;
    vm->log = o.log;
    vm->log_ud = o.log_ud;
    vm->ncpus = 1;
    *out = vm;
    return EBPFVM_OK;
}

void ebpfvm_vm_destroy(ebpfvm_vm *vm)
{
    if (!vm)
        return;
    while (vm->progs)
        ebpfvm_prog_destroy(vm->progs);
    for (uint32_t i = 0; i < vm->nmaps; i++)
        if (vm->maps[i])
            ebpfvm__map_destroy(vm, vm->maps[i]);
    if (vm->helpers) {
        for (uint32_t id = 0; id <= EBPFVM_MAX_HELPER_ID; id++)
            ebpfvm__free(vm, vm->helpers[id].name);
        ebpfvm__free(vm, vm->helpers);
    }
    vm->alloc(vm->alloc_ud, vm, sizeof *vm, 0);
}

const char *ebpfvm_vm_errmsg(const ebpfvm_vm *vm)
{
    return vm ? vm->errmsg : "";
}

void ebpfvm_free(ebpfvm_vm *vm, void *ptr)
{
    if (vm)
        ebpfvm__free(vm, ptr);
}

int ebpfvm_vm_register_helper(ebpfvm_vm *vm, uint32_t id, const char *name, ebpfvm_helper_fn fn,
                              const struct ebpfvm_helper_proto *proto)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    if (!fn || !name)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "register helper %u: %s is NULL", id, fn ? "name" : "function");
    if (id == 0 || id > EBPFVM_MAX_HELPER_ID)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "register helper %u (%s): id out of range 1..%d", id, name,
                             EBPFVM_MAX_HELPER_ID);
    if (!vm->helpers) {
        vm->helpers = ebpfvm__calloc(vm, EBPFVM_MAX_HELPER_ID + 1, sizeof *vm->helpers);
        if (!vm->helpers)
            return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "register helper %u (%s): out of memory", id, name);
    }
    struct ebpfvm_helper *h = &vm->helpers[id];
    if (h->fn)
        return ebpfvm__error(vm, EBPFVM_ERR_EXIST, "register helper %u (%s): id already registered as %s", id, name,
                             h->name);
    char *copy = ebpfvm__strdup(vm, name);
    if (!copy)
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "register helper %u (%s): out of memory", id, name);
    h->fn = fn;
    h->name = copy;
    if (proto) {
        h->proto = *proto;
    } else {
        memset(&h->proto, 0, sizeof h->proto);
        h->proto.ret = EBPFVM_RET_INTEGER;
        for (int i = 0; i < 5; i++)
            h->proto.args[i] = EBPFVM_ARG_ANYTHING;
    }
    return EBPFVM_OK;
}
