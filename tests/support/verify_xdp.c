/* tests/support/verify_xdp.c - see verify_xdp.h. */
#include "verify_xdp.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/xdp.h>

struct verify_outcome verify_xdp_prog(const struct ebpf_insn *insns, size_t n, uint32_t log_level, char *log,
                                      size_t log_size)
{
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0, "%s", ebpfvm_vm_errmsg(vm));
    struct ebpfvm_map_def def = {sizeof(struct ebpfvm_map_def), EBPFVM_MAP_ARRAY, 4, 8, 4, 0, "arr", -1};
    int fd = -1;
    cr_assert_eq(ebpfvm_map_create(vm, &def, &fd), 0, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(fd, 0);
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = EBPFVM_PROG_TYPE_XDP, .name = "t"};
    ebpfvm_prog *prog = NULL;
    cr_assert_eq(ebpfvm_prog_load(vm, insns, n, &lo, &prog), 0, "load failed: %s", ebpfvm_vm_errmsg(vm));
    struct verify_outcome out;
    memset(&out, 0, sizeof out);
    struct ebpfvm_verify_opts vo = {
        .sz = sizeof vo, .log_level = log_level, .log_buf = log, .log_size = log_size, .stats = &out.stats};
    log[0] = '\0';
    out.status = ebpfvm_prog_verify(prog, &vo);
    snprintf(out.msg, sizeof out.msg, "%s", ebpfvm_vm_errmsg(vm));
    cr_assert_eq(ebpfvm_prog_is_verified(prog), out.status == 0);
    ebpfvm_vm_destroy(vm);
    return out;
}
