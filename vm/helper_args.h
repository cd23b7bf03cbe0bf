/*
 * vm/helper_args.h - argument checks shared by the helper files
 * (vm/helpers_std.c, vm/helpers_xdp.c): the formatted fault and the map
 * argument.
 */
#ifndef EBPFVM_VM_HELPER_ARGS_H
#define EBPFVM_VM_HELPER_ARGS_H

#include <stdint.h>

#include "vm/internal.h"

struct ebpfvm_map;

/* Fault the run (ebpfvm_env_fault) with a printf-style message, truncated
 * to the env's fault message size. */
EBPFVM_INTERNAL void ebpfvm__env_faultf(ebpfvm_env *env, const char *fmt, ...) EBPFVM_PRINTF(2, 3);

/*
 * The map a helper argument names: the pointer itself in fast mode; in
 * checked mode the vm's map it points to, or NULL after faulting the run
 * with "<helper>: r<reg> 0x<value> is not a map of this vm".
 */
EBPFVM_INTERNAL struct ebpfvm_map *ebpfvm__helper_arg_map(ebpfvm_env *env, uint64_t value, int reg,
                                                          const char *helper);

#endif /* EBPFVM_VM_HELPER_ARGS_H */
