/*
 * vm/helper_args.h - argument checks shared by the helper files
 * (vm/helpers_std.c, vm/helpers_xdp.c, vm/helpers_str.c, vm/skb.c): the
 * formatted fault, memory arguments and the map argument.
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
 * Checked mode: whether [ptr, ptr + size) may be read (or written, when
 * write); when not, faults the run with "<helper>: r<reg> 0x<ptr> is not
 * readable|writable memory for <size> bytes" and returns false. Always
 * true in fast mode and for size 0.
 */
EBPFVM_INTERNAL bool ebpfvm__helper_arg_mem(ebpfvm_env *env, uint64_t ptr, uint64_t size, bool write,
                                            const char *helper, int reg);

/*
 * The map a helper argument names: the pointer itself in fast mode; in
 * checked mode the vm's map it points to, or NULL after faulting the run
 * with "<helper>: r<reg> 0x<value> is not a map of this vm".
 */
EBPFVM_INTERNAL struct ebpfvm_map *ebpfvm__helper_arg_map(ebpfvm_env *env, uint64_t value, int reg,
                                                          const char *helper);

#endif /* EBPFVM_VM_HELPER_ARGS_H */
