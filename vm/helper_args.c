/*
 * vm/helper_args.c - argument checks shared by the helper files; see
 * helper_args.h.
 *
 * Invariant: nothing here dereferences a pointer a program passed before
 * checked mode has validated it (ebpfvm__map_from_ptr compares it against
 * the vm's maps only).
 */
#include "vm/helper_args.h"

#include <stdarg.h>
#include <stdio.h>

#include "maps/map.h"

void ebpfvm__env_faultf(ebpfvm_env *env, const char *fmt, ...)
{
    char msg[sizeof env->fault_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ebpfvm_env_fault(env, msg);
}

bool ebpfvm__helper_arg_mem(ebpfvm_env *env, uint64_t ptr, uint64_t size, bool write, const char *helper, int reg)
{
    if (!env->checked || size == 0)
        return true;
    if (ptr != 0 && size <= SIZE_MAX && ebpfvm__env_check_access(env, (uintptr_t)ptr, (size_t)size, write))
        return true;
    ebpfvm__env_faultf(env, "%s: r%d 0x%llx is not %s memory for %llu bytes", helper, reg, (unsigned long long)ptr,
                       write ? "writable" : "readable", (unsigned long long)size);
    return false;
}

struct ebpfvm_map *ebpfvm__helper_arg_map(ebpfvm_env *env, uint64_t value, int reg, const char *helper)
{
    if (!env->checked)
        return (struct ebpfvm_map *)(uintptr_t)value;
    struct ebpfvm_map *map = ebpfvm__map_from_ptr(env->prog->vm, value);
    if (!map)
        ebpfvm__env_faultf(env, "%s: r%d 0x%llx is not a map of this vm", helper, reg, (unsigned long long)value);
    return map;
}
