/*
 * xdp/kernel_compare.h - compare what ebpfvm computed with what the kernel
 * computed (xdp/kernel.h) for the same object: output frames byte by byte
 * and every map by name. Used by `ebpfvm run --compare-kernel`
 * (cli/cmd_run_compare.c).
 *
 * Built with the oracle (EBPFVM_HAVE_KERNEL_ORACLE); not installed. Memory
 * is the C library's; differences are reported as text lines through a
 * callback, errors as negative enum ebpfvm_status with a message on the
 * kernel object (ebpfvm_kernel_errmsg) or in the difference text.
 */
#ifndef EBPFVM_XDP_KERNEL_COMPARE_H
#define EBPFVM_XDP_KERNEL_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/loader.h>

#include "xdp/kernel.h"

/* The offset of the first byte where a (alen bytes) and b (blen bytes)
 * differ, the shorter length when one is a prefix of the other, or
 * SIZE_MAX when they are identical. */
size_t ebpfvm_kernel_first_difference(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* One difference, as a line without newline ("map counters: key 00000000:
 * kernel 0100000000000000, ebpfvm 0200000000000000"); borrowed for the
 * call. map is the map's name. */
typedef void (*ebpfvm_kernel_diff_fn)(void *ud, const char *map, const char *line);

struct ebpfvm_kernel_map_counts {
    size_t compared; /* maps compared (prog arrays, xskmaps and perf event
                      * arrays have no comparable values and are left out) */
    size_t agree;    /* of those, the maps that hold the same entries */
};

/*
 * Compare every map of kobj with the map of the same name of the ebpfvm
 * object obj (its maps live in vm): entries present on one side only,
 * entries whose values differ (per-CPU maps: the CPU 0 copy, where both
 * sides run), ring buffers' records (both rings are consumed, compared in
 * order). At most max_lines differences are reported per map (0: no
 * limit); a map whose differences were cut says how many more there were.
 * counts receives the totals. Returns 0 (differences are not errors) or
 * EBPFVM_ERR_NOMEM / EBPFVM_ERR_INVAL (NULL arguments).
 */
int ebpfvm_kernel_compare_maps(ebpfvm_kernel_obj *kobj, ebpfvm_vm *vm, const ebpfvm_object *obj, size_t max_lines,
                               ebpfvm_kernel_diff_fn fn, void *ud, struct ebpfvm_kernel_map_counts *counts);

#endif /* EBPFVM_XDP_KERNEL_COMPARE_H */
