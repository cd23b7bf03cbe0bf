/*
 * ebpfvm/loader.h - load ELF objects built for Linux with libbpf's
 * conventions (`clang -target bpf -O2 -g`, unchanged) into an ebpfvm vm.
 *
 * Available only when the library was built with libelf (the build defines
 * EBPFVM_HAVE_ELF); without it these functions do not exist.
 *
 * What an object holds:
 *   programs  one per function symbol (STT_FUNC) in an executable section
 *             other than `.text`; several programs may share a section.
 *             Functions in `.text` are subprograms: the ones a program calls
 *             (directly, transitively, or by address) are appended after it,
 *             with bpf-to-bpf call and function-address offsets fixed up.
 *   maps      BTF-defined maps (section `.maps`), legacy `struct bpf_map_def`
 *             maps (section `maps`), and every non-empty `.data`, `.data.*`,
 *             `.rodata`, `.rodata.*` and `.bss` section as a one-entry array
 *             map (value_size = section size) named after its section and
 *             holding its initial contents (`.bss` zero; `.rodata*` maps have
 *             BPF_F_RDONLY_PROG). All maps are created in the vm when the
 *             object is opened; the vm owns them, they outlive the object.
 *             A BPF_MAP_TYPE_PERF_EVENT_ARRAY with max_entries 0 (or none)
 *             gets one slot per vm CPU (the vm's ncpus at open, see
 *             ebpfvm_vm_set_ncpus), as libbpf gives it one per possible CPU.
 *             A BPF_MAP_TYPE_RINGBUF or _USER_RINGBUF whose max_entries is
 *             not a power-of-two multiple of 4096 is rounded up to the
 *             next one, as libbpf does (0 stays 0 and is rejected).
 *   prog_array initialisers  a BTF-defined BPF_MAP_TYPE_PROG_ARRAY may end
 *             with `__array(values, int (void *))` and be initialised with
 *             `.values = { [i] = (void *)&prog }` (libbpf's convention; the
 *             `.rel.maps` relocations say which program goes in which
 *             slot). Each such program must be a program of the object
 *             (any section), not a `.text` subprogram nor data. The slots
 *             are filled on demand: the first ebpfvm_object_load_program()
 *             on the object first loads every program named in a
 *             `.values` (once each, with its type at that time, as a
 *             separate vm-owned program) and stores it with
 *             ebpfvm_prog_array_set(); if that fails, that load call fails
 *             ("<object>: map '<map>' slot <i> (.values): ...") and the next
 *             load tries again.
 *   license   the NUL-terminated string of the `license` section ("" if none).
 *   version   the u32 of the `version` section (0 if none).
 *
 * Program types come from the section name, by libbpf's rules:
 *   `xdp`, `xdp/...`, `xdp.frags`, `xdp.frags/...` and legacy names starting
 *   with `xdp` (`xdp_pass`)                       -> EBPFVM_PROG_TYPE_XDP
 *   `socket`, `socket/...`                         -> EBPFVM_PROG_TYPE_SOCKET_FILTER
 *   `memory`, `memory/...` (ebpfvm's own)          -> EBPFVM_PROG_TYPE_MEMORY
 * Any other section (`tc`, `kprobe/...`) has no ebpfvm type: its programs are
 * listed but loading them fails with EBPFVM_ERR_UNSUPP unless the caller sets
 * a type with ebpfvm_object_set_program_type().
 *
 * Everything is linked when the object is opened: relocations are applied
 * (R_BPF_64_64 on LD_IMM64 against a map -> src_reg EBPF_PSEUDO_MAP_FD with
 * the map's fd; against a data section -> EBPF_PSEUDO_MAP_VALUE with the
 * offset in the second word; against a function -> EBPF_PSEUDO_FUNC;
 * R_BPF_64_32 on calls -> bpf-to-bpf calls). Objects that use anything else
 * are rejected at open with EBPFVM_ERR_UNSUPP and a message naming the
 * feature, the section and the symbol: CO-RE relocations ("CO-RE relocations
 * are not supported"), kfunc calls, extern variables (`.kconfig`, `.ksyms`),
 * map-in-map (BPF_MAP_TYPE_ARRAY_OF_MAPS / HASH_OF_MAPS: "section .maps: map
 * 'outer': map-in-map (BPF_MAP_TYPE_ARRAY_OF_MAPS) is not supported"), other
 * relocation types, relocations in data sections and in `.maps` outside a
 * prog_array's `values`. A `values` entry that is not a program is
 * EBPFVM_ERR_FORMAT ("... map 'jmp' slot 0: 'counter' is not a BPF program").
 *
 * Errors: every function returns 0 or a negative enum ebpfvm_status and
 * records a message on the vm (ebpfvm_vm_errmsg) that starts with the
 * object's name: "xdp.o: section .relxdp: relocation 3: offset 0x1234 is
 * out of range". Malformed ELF or BTF (truncated, bad offsets, wrong machine,
 * not ET_REL, absurd sizes) is EBPFVM_ERR_FORMAT, never a crash.
 *
 * Not thread-safe: open, inspect and load from one thread (like map creation).
 */
#ifndef EBPFVM_LOADER_H
#define EBPFVM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "ebpfvm/ebpfvm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ebpfvm_object ebpfvm_object;

struct ebpfvm_object_opts {
    size_t sz;               /* sizeof(struct ebpfvm_object_opts) */
    const char *object_name; /* copied; used in messages instead of the path
                              * or the name given to open_mem; may be NULL */
    uint64_t max_map_bytes;  /* refuse a map whose entries would take more
                              * (max_entries x (key + value) x CPUs for per-CPU
                              * maps): EBPFVM_ERR_RANGE; 0: 1 GiB */
};

/*
 * Open the ELF object at path (read whole, then parsed; the file is not kept
 * open). opts may be NULL. On success *out is an object the caller closes
 * with ebpfvm_object_close(); its maps now exist in vm. On failure *out is
 * NULL and no map the call created is left in vm.
 * Errors: EBPFVM_ERR_INVAL (NULL vm/path/out, bad opts->sz), EBPFVM_ERR_IO
 * (cannot read the file), EBPFVM_ERR_FORMAT (malformed ELF/BTF, not an
 * ET_REL EM_BPF little-endian object), EBPFVM_ERR_UNSUPP (a feature listed
 * above), EBPFVM_ERR_RANGE (too many instructions or maps, a `.values`
 * slot past max_entries), the errors of
 * ebpfvm_map_create() (a map definition the map type does not allow),
 * EBPFVM_ERR_NOMEM.
 */
EBPFVM_API int ebpfvm_object_open(ebpfvm_vm *vm, const char *path, const struct ebpfvm_object_opts *opts,
                                  ebpfvm_object **out);

/*
 * As ebpfvm_object_open(), from size bytes at buf (borrowed for the call
 * only: the object keeps its own copies). name (may be NULL: "<memory>") is
 * used in messages.
 */
EBPFVM_API int ebpfvm_object_open_mem(ebpfvm_vm *vm, const void *buf, size_t size, const char *name,
                                      const struct ebpfvm_object_opts *opts, ebpfvm_object **out);

/* Free the object. Its maps stay in the vm, and programs already loaded from
 * it stay loaded (the vm owns both). NULL is a no-op. */
EBPFVM_API void ebpfvm_object_close(ebpfvm_object *obj);

/* The object's name (borrowed, valid while obj lives); "" for NULL. */
EBPFVM_API const char *ebpfvm_object_name(const ebpfvm_object *obj);

/* The license string (borrowed; "" when the object has no license section
 * or obj is NULL) and the kernel version word (0 when absent). */
EBPFVM_API const char *ebpfvm_object_license(const ebpfvm_object *obj);
EBPFVM_API uint32_t ebpfvm_object_kversion(const ebpfvm_object *obj);

/* ------------------------------------------------------------- programs */

/* Number of programs, in object order (section, then offset). 0 for NULL. */
EBPFVM_API size_t ebpfvm_object_program_count(const ebpfvm_object *obj);

/* The function name / section name of program index (borrowed, valid while
 * obj lives), or NULL when obj is NULL or index out of range. */
EBPFVM_API const char *ebpfvm_object_program_name(const ebpfvm_object *obj, size_t index);
EBPFVM_API const char *ebpfvm_object_program_section(const ebpfvm_object *obj, size_t index);

/*
 * The program type of program index (from its section, or as set).
 * Errors: EBPFVM_ERR_INVAL (NULL obj/type), EBPFVM_ERR_NOENT (index out of
 * range), EBPFVM_ERR_UNSUPP (the section names no type ebpfvm has).
 */
EBPFVM_API int ebpfvm_object_program_type(const ebpfvm_object *obj, size_t index, enum ebpfvm_prog_type *type);

/* Override the program type of program index (before loading it).
 * Errors: EBPFVM_ERR_INVAL (NULL obj, unknown type), EBPFVM_ERR_NOENT. */
EBPFVM_API int ebpfvm_object_set_program_type(ebpfvm_object *obj, size_t index, enum ebpfvm_prog_type type);

/*
 * The linked instructions of program index: the function, then the
 * subprograms it needs, with relocations applied (borrowed, valid while obj
 * lives). *count receives the number of words. NULL when obj is NULL or
 * index out of range (*count then 0; count may not be NULL).
 */
EBPFVM_API const struct ebpf_insn *ebpfvm_object_program_insns(const ebpfvm_object *obj, size_t index,
                                                               size_t *count);

/*
 * The name of the function whose first instruction is word pc of the linked
 * instructions of program index (see ebpfvm_object_program_insns): the
 * program's own name at pc 0, a `.text` subprogram's name where it was
 * appended. Borrowed, valid while obj lives. NULL when obj is NULL, index is
 * out of range or no function starts at pc.
 */
EBPFVM_API const char *ebpfvm_object_program_func_at(const ebpfvm_object *obj, size_t index, size_t pc);

/*
 * Find a program. section (may be NULL: any) matches a program's section
 * exactly; when no program's section is exactly `section`, a bare type name
 * (`xdp`, `memory`) matches every section of that type by the rules above
 * (`xdp` finds `xdp/devmap`, `xdp.frags` and `xdp_pass`). name (may be NULL:
 * any) matches the function symbol. The first match in object order wins.
 * Errors: EBPFVM_ERR_INVAL (NULL obj/index), EBPFVM_ERR_NOENT (no match;
 * the message names what was looked for and lists the programs with their
 * sections: "x.o: no program in section kprobe/x (programs: first (section
 * xdp), ...)").
 */
EBPFVM_API int ebpfvm_object_find_program(const ebpfvm_object *obj, const char *section, const char *name,
                                          size_t *index);

/*
 * Load program index into the object's vm with ebpfvm_prog_load() (its type;
 * its function name as the program name). On success *prog is owned by the
 * vm as any loaded program. The first call on an object also fills the
 * prog_array slots initialised with `.values` (see above). Each call loads a
 * new program. Errors: EBPFVM_ERR_INVAL, EBPFVM_ERR_NOENT (index out of
 * range), EBPFVM_ERR_UNSUPP (no program type for the section), and those of
 * ebpfvm_prog_load() (the message is prefixed with "<object>: program
 * <name>: ") and of filling a `.values` slot.
 */
EBPFVM_API int ebpfvm_object_load_program(ebpfvm_object *obj, size_t index, ebpfvm_prog **prog);

/* ----------------------------------------------------------------- maps */

/* Number of maps the object created, in fd order. 0 for NULL. */
EBPFVM_API size_t ebpfvm_object_map_count(const ebpfvm_object *obj);

/* The name of map index (borrowed; NULL when out of range): the variable
 * name for `.maps` and `maps`, the section name for data maps. */
EBPFVM_API const char *ebpfvm_object_map_name(const ebpfvm_object *obj, size_t index);

/* The vm fd of map index, or -1 when obj is NULL or index out of range. */
EBPFVM_API int ebpfvm_object_map_fd_at(const ebpfvm_object *obj, size_t index);

/* The vm fd of the map called name. Errors: EBPFVM_ERR_INVAL (NULL
 * argument), EBPFVM_ERR_NOENT (no such map). */
EBPFVM_API int ebpfvm_object_map_fd(const ebpfvm_object *obj, const char *name, int *fd);

#ifdef __cplusplus
}
#endif

#endif /* EBPFVM_LOADER_H */
