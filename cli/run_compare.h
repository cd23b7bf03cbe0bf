/*
 * cli/run_compare.h - the interface between `ebpfvm run` (cli/cmd_run.c)
 * and its kernel comparison (cli/cmd_run_compare.c, --compare-kernel).
 * Only meaningful with the XDP runtime and the kernel oracle
 * (EBPFVM_HAVE_XDP_RUNTIME and EBPFVM_HAVE_KERNEL_ORACLE).
 */
#ifndef EBPFVM_CLI_RUN_COMPARE_H
#define EBPFVM_CLI_RUN_COMPARE_H

#include <stdbool.h>

#include <ebpfvm/loader.h>

#include "xdp/runner.h"

/* The exit code of `run --compare-kernel` when ebpfvm and the kernel
 * disagree on a packet or a map. */
#define CLI_EXIT_DIFFERS 6

/* s as a JSON string, quotes included, on stdout (cli/cmd_run.c). */
void cli_run_print_json_string(const char *s);

struct run_compare;

/* Probe bpf(), open the object in the kernel and select the program as
 * ebpfvm did (section, name: -s / -n, either may be NULL). 0, or an exit
 * code having printed why: 2 when bpf() is unavailable (the probe's
 * reason), 3 when the kernel refuses the object or program (its verifier
 * log), 5 when libbpf cannot read the file. */
int cli_compare_open(const char *object, const char *section, const char *name, bool json, bool verbose,
                     struct run_compare **out);

/* The per-packet hook (struct run_hook's fn, ud = the comparison): runs
 * the packet in the kernel and compares. Returns 0. */
int cli_compare_packet(void *ud, const struct xdp_packet *pkt);

/* After the packet's line: in JSON mode the ",\"kernel\":{...}" fields
 * (inside the packet's object), else a line on a difference. */
void cli_compare_print(struct run_compare *c, const struct xdp_packet *pkt);

/* Compare the maps, print the differences and the summary. Returns 0 when
 * everything agreed, CLI_EXIT_DIFFERS, or CLI_EXIT_INTERNAL. */
int cli_compare_finish(struct run_compare *c, ebpfvm_vm *vm, const ebpfvm_object *obj);

/* Free c (NULL is a no-op). */
void cli_compare_close(struct run_compare *c);

#endif
