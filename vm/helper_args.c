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

struct ebpfvm_map *ebpfvm__helper_arg_map(ebpfvm_env *env, uint64_t value, int reg, const char *helper)
{
    if (!env->checked)
        return (struct ebpfvm_map *)(uintptr_t)value;
    struct ebpfvm_map *map = ebpfvm__map_from_ptr(env->prog->vm, value);
    if (!map)
        ebpfvm__env_faultf(env, "%s: r%d 0x%llx is not a map of this vm", helper, reg, (unsigned long long)value);
    return map;
}
