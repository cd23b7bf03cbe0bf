/*
 * xdp/kernel.h - the Linux kernel as an oracle for XDP programs.
 *
 * The same ELF object ebpfvm loads is opened with libbpf, loaded with
 * BPF_PROG_LOAD (the kernel verifier decides; its log comes back on
 * rejection) and run one packet at a time with BPF_PROG_TEST_RUN. The
 * object's maps can then be read (and written, for set-up such as devmap
 * entries and prog arrays) so a caller can compare them with ebpfvm's maps
 * of the same names. Used by tests/test_xdp_kernel.c and, per packet, by
 * `ebpfvm run --compare-kernel`.
 *
 * Built into the static library ebpfvm_xdp when libbpf is present (the
 * build then defines EBPFVM_HAVE_KERNEL_ORACLE); not part of the installed
 * public API.
 *
 * Conventions (the project's): every function that can fail returns 0 or a
 * negative enum ebpfvm_status; errno is never the error channel. Functions
 * without an object write their message into a caller buffer (msg, size;
 * always NUL-terminated when size > 0; msg may be NULL). Functions on an
 * object record their message on it: ebpfvm_kernel_errmsg().
 *   EBPFVM_ERR_PERM    bpf() is not permitted (not root, EPERM)
 *   EBPFVM_ERR_UNSUPP  the kernel lacks bpf() or a needed feature; a map
 *                      whose values the syscall cannot read
 *   EBPFVM_ERR_IO      the object file cannot be read or parsed by libbpf
 *   EBPFVM_ERR_VERIFY  the kernel rejected a program (message: its log)
 *   EBPFVM_ERR_NOENT   no such program or map
 *   EBPFVM_ERR_RANGE   the output buffer is too small; packet too large
 *   EBPFVM_ERR_INVAL   bad arguments; other kernel failures (with errno text)
 *
 * Per-CPU maps: BPF_PROG_TEST_RUN runs XDP programs on the calling
 * thread's CPU (it has no CPU option for them), so ebpfvm_kernel_open()
 * pins the calling thread to CPU 0 (ebpfvm_kernel_pin_cpu0()): every run
 * then uses CPU 0's slot, as ebpfvm runs with cpu 0 do. Run from the
 * thread that opened the object.
 *
 * Threads: opening and loading use libbpf's global print hook and are not
 * thread-safe; one object must be used by one thread at a time.
 */
#ifndef EBPFVM_XDP_KERNEL_H
#define EBPFVM_XDP_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "ebpfvm/ebpfvm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ebpfvm_kernel_obj ebpfvm_kernel_obj;

/* The kernel's largest output of one XDP test run (a page): an output
 * buffer of this size is always large enough. */
#define EBPFVM_KERNEL_OUT_MAX 4096u

/*
 * Whether bpf() can be used to load and test-run XDP programs: creates an
 * array map, loads `r0 = XDP_PASS; exit` and test-runs it. Returns 0, or
 * EBPFVM_ERR_PERM / EBPFVM_ERR_UNSUPP / EBPFVM_ERR_INVAL with the reason in
 * msg ("bpf() not permitted: Operation not permitted (run as root ...)").
 */
int ebpfvm_kernel_probe(char *msg, size_t size);

/* Pin the calling thread to CPU 0 (sched_setaffinity). Returns 0 or
 * EBPFVM_ERR_INVAL with the reason in msg. */
int ebpfvm_kernel_pin_cpu0(char *msg, size_t size);

/*
 * Open the object at path with libbpf, load every program and map into the
 * kernel and select the program to run: the first (in object order) whose
 * section is exactly `section` - or, when none is, whose section has the
 * type `section` names by libbpf's rules (`xdp` also finds `xdp.frags` and
 * legacy `xdp_*` sections) - and whose function name is `name`. Either may
 * be NULL (any). Programs in sections libbpf does not know whose name starts
 * with `xdp` (`xdp/foo`) are loaded as XDP programs. The calling thread is
 * pinned to CPU 0 first (see above).
 *
 * On success *out is an object the caller frees with ebpfvm_kernel_close().
 * On failure *out is NULL and msg says why; when the kernel verifier
 * rejected a program, msg is "<path>: program <name>: the kernel verifier
 * rejected it (<errno text>):\n<log>" with the log's end kept if it had to
 * be shortened. Errors: EBPFVM_ERR_INVAL (also: pinning failed),
 * EBPFVM_ERR_IO, EBPFVM_ERR_NOENT (no program matches), EBPFVM_ERR_VERIFY,
 * EBPFVM_ERR_PERM, EBPFVM_ERR_NOMEM.
 */
int ebpfvm_kernel_open(const char *path, const char *section, const char *name, ebpfvm_kernel_obj **out,
                       char *msg, size_t size);

/* Unload everything and free the object. NULL is a no-op. */
void ebpfvm_kernel_close(ebpfvm_kernel_obj *obj);

/* The message of the last failed call on obj, or "" (borrowed, valid until
 * the next call on obj). NULL returns "". */
const char *ebpfvm_kernel_errmsg(const ebpfvm_kernel_obj *obj);

/* The selected program's function name (borrowed, valid while obj lives). */
const char *ebpfvm_kernel_program_name(const ebpfvm_kernel_obj *obj);

/* The kernel fd of the selected program (owned by obj), or -1 for NULL. */
int ebpfvm_kernel_program_fd(const ebpfvm_kernel_obj *obj);

/* The outcome of one test run. */
struct ebpfvm_kernel_run_result {
    uint32_t retval;      /* the program's return value (the XDP action) */
    size_t out_len;       /* bytes written to out: data_meta .. data_end */
    uint32_t duration_ns; /* the kernel's measured time of the run */
};

/*
 * Run the selected program once (BPF_PROG_TEST_RUN, repeat 1) on a copy of
 * the len bytes at packet. The kernel's output is the frame from data_meta
 * to data_end as the program left it (metadata included), copied into out
 * (out_size bytes; EBPFVM_KERNEL_OUT_MAX is always enough). Errors:
 * EBPFVM_ERR_INVAL (NULL arguments, the kernel refused the run: e.g. len <
 * 14), EBPFVM_ERR_RANGE (out too small, ENOSPC; packet too large).
 */
int ebpfvm_kernel_run(ebpfvm_kernel_obj *obj, const void *packet, size_t len, void *out, size_t out_size,
                      struct ebpfvm_kernel_run_result *result);

/* ----------------------------------------------------------------- maps */

/* Facts about one map of the object. */
struct ebpfvm_kernel_map_info {
    const char *name;      /* borrowed: the name ebpfvm gives the map - the
                            * variable name, or the section name (".bss",
                            * ".rodata") for global data, without libbpf's
                            * object-name prefix */
    uint32_t type;         /* enum bpf_map_type (= enum ebpfvm_map_type) */
    uint32_t key_size, value_size, max_entries, map_flags;
    int fd;                /* the kernel map fd (owned by obj) */
    uint32_t ncpus;        /* value copies a lookup returns: the possible
                            * CPUs for per-CPU maps, else 1 */
    uint32_t value_stride; /* bytes per copy: value_size rounded up to 8 for
                            * per-CPU maps, else value_size */
};

/* Number of maps, in libbpf's order. 0 for NULL. */
size_t ebpfvm_kernel_map_count(const ebpfvm_kernel_obj *obj);

/* Facts about map index. Errors: EBPFVM_ERR_INVAL, EBPFVM_ERR_NOENT. */
int ebpfvm_kernel_map_info(const ebpfvm_kernel_obj *obj, size_t index, struct ebpfvm_kernel_map_info *info);

/* The index of the map called name (ebpfvm's naming, see above). Errors:
 * EBPFVM_ERR_INVAL, EBPFVM_ERR_NOENT. */
int ebpfvm_kernel_map_find(const ebpfvm_kernel_obj *obj, const char *name, size_t *index);

/*
 * Call fn for every present entry of map index, in the kernel's key order:
 * key (key_size bytes) and value (ncpus x value_stride bytes), both borrowed
 * for the call. fn returns 0 to go on, non-zero to stop (then returned).
 * Array-like maps whose syscall lookup reports ENOENT for a slot (empty
 * devmap slots) skip it. Errors: EBPFVM_ERR_UNSUPP (maps whose values the
 * syscall does not return: prog_array, xskmap, ringbuf, perf_event_array),
 * EBPFVM_ERR_INVAL, EBPFVM_ERR_NOENT, EBPFVM_ERR_NOMEM.
 */
typedef int (*ebpfvm_kernel_entry_fn)(void *ud, const void *key, const void *value);
int ebpfvm_kernel_map_foreach(ebpfvm_kernel_obj *obj, size_t index, ebpfvm_kernel_entry_fn fn, void *ud);

/* Look up one key (value: ncpus x value_stride bytes). Errors:
 * EBPFVM_ERR_NOENT (no such map or key), EBPFVM_ERR_UNSUPP, EBPFVM_ERR_INVAL. */
int ebpfvm_kernel_map_lookup(ebpfvm_kernel_obj *obj, const char *map, const void *key, void *value);

/* Update one key (value as the syscall takes it: ncpus x value_stride bytes
 * for per-CPU maps; a u32 ifindex for a devmap) with BPF_ANY/NOEXIST/EXIST.
 * Errors: EBPFVM_ERR_NOENT (no such map), EBPFVM_ERR_INVAL (kernel refusal,
 * with its errno text), EBPFVM_ERR_EXIST, EBPFVM_ERR_RANGE (full). */
int ebpfvm_kernel_map_update(ebpfvm_kernel_obj *obj, const char *map, const void *key, const void *value,
                             uint64_t flags);

/* Store the object's program called prog_name at index of the prog_array
 * map called map (NULL prog_name: empty the slot). Errors:
 * EBPFVM_ERR_NOENT (no such map or program), EBPFVM_ERR_INVAL. */
int ebpfvm_kernel_prog_array_set(ebpfvm_kernel_obj *obj, const char *map, uint32_t index, const char *prog_name);

/*
 * Consume the submitted records of the ringbuf map index, oldest first: fn
 * gets each record (borrowed for the call) and returns 0 to go on (any
 * other value stops the read after that record). *count (may be NULL)
 * receives the number delivered. Errors: EBPFVM_ERR_INVAL (not a ringbuf),
 * EBPFVM_ERR_NOENT, EBPFVM_ERR_NOMEM.
 */
typedef int (*ebpfvm_kernel_record_fn)(void *ud, const void *data, size_t size);
int ebpfvm_kernel_ringbuf_consume(ebpfvm_kernel_obj *obj, size_t index, ebpfvm_kernel_record_fn fn, void *ud,
                                  size_t *count);

/*
 * Put every writable map back into its state right after loading: arrays
 * zeroed, hash-like maps, LPM tries and devmaps emptied, `.data`/`.bss`
 * back to their initial bytes, ring buffers drained. `.rodata` (frozen) and
 * prog arrays are left as they are. Errors: EBPFVM_ERR_INVAL (a kernel
 * update failed, naming the map), EBPFVM_ERR_NOMEM.
 */
int ebpfvm_kernel_maps_reset(ebpfvm_kernel_obj *obj);

#ifdef __cplusplus
}
#endif

#endif /* EBPFVM_XDP_KERNEL_H */
