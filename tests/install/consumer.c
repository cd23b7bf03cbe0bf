/*
 * tests/install/consumer.c - a program outside the tree that uses an
 * installed ebpfvm, built by scripts/test.sh through find_package(ebpfvm)
 * and through pkg-config. It sees only the installed public headers.
 *
 * It loads `r0 = r2 * 3 + 1; exit` and runs it on an 8-byte block in the
 * default (checked, since unverified) mode: r0 must be 25. Exits 0 on
 * success, 1 with a message otherwise.
 */
#include <stdint.h>
#include <stdio.h>

#include <ebpfvm/ebpfvm.h>

int main(int argc, char **argv)
{
    (void)argc;
    static const struct ebpf_insn prog[] = {
        {.opcode = EBPF_CLASS_ALU64 | EBPF_SRC_X | EBPF_ALU_MOV, .dst_reg = 0, .src_reg = 2},
        {.opcode = EBPF_CLASS_ALU64 | EBPF_SRC_K | EBPF_ALU_MUL, .dst_reg = 0, .imm = 3},
        {.opcode = EBPF_CLASS_ALU64 | EBPF_SRC_K | EBPF_ALU_ADD, .dst_reg = 0, .imm = 1},
        {.opcode = EBPF_CLASS_JMP | EBPF_JMP_EXIT},
    };
    ebpfvm_vm *vm = NULL;
    int err = ebpfvm_vm_create(NULL, &vm);
    if (err) {
        fprintf(stderr, "consumer: vm_create: %s\n", ebpfvm_strerror(err));
        return 1;
    }
    ebpfvm_prog *p = NULL;
    err = ebpfvm_prog_load(vm, prog, sizeof prog / sizeof prog[0], NULL, &p);
    if (err) {
        fprintf(stderr, "consumer: load: %s: %s\n", ebpfvm_strerror(err), ebpfvm_vm_errmsg(vm));
        ebpfvm_vm_destroy(vm);
        return 1;
    }
    uint8_t block[8] = {0};
    struct ebpfvm_run_result result;
    err = ebpfvm_prog_run(p, block, sizeof block, NULL, &result);
    ebpfvm_vm_destroy(vm);
    if (err || result.r0 != 25) {
        fprintf(stderr, "consumer: run: %s (r0 = %llu, %s)\n", ebpfvm_strerror(err),
                (unsigned long long)result.r0, result.message);
        return 1;
    }
    printf("%s: ok (ebpfvm %d.%d.%d, r0 = %llu)\n", argv[0], EBPFVM_VERSION_MAJOR, EBPFVM_VERSION_MINOR,
           EBPFVM_VERSION_PATCH, (unsigned long long)result.r0);
    return 0;
}
