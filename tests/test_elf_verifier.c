/*
 * tests/test_elf_verifier.c - the verifier on clang-built objects: the
 * test objects (tests/bpf/NAME.o) and the XDP examples (examples/xdp/NAME.o), as
 * the ELF loader loads them. Every XDP program must verify, except the one
 * that reads past data_end on purpose, and every verified program must
 * run in the checked interpreter on a few packets without a fault.
 * Skips when the library has no ELF loader or an object was not built.
 * (Named test_elf_* so that tests/bpf/CMakeLists.txt gives it
 * EBPFVM_HAVE_ELF and the dependency on the objects.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <ebpfvm/ebpfvm.h>
#include <ebpfvm/verifier.h>
#include <ebpfvm/xdp.h>

#ifndef EBPFVM_HAVE_ELF

Test(elf_verifier, skipped_without_libelf)
{
    cr_skip_test("the library was built without libelf: no ELF loader");
}

#else

#include <ebpfvm/loader.h>

struct expectation {
    const char *program;
    const char *reason; /* NULL: accepted */
};

static const struct expectation rejected[] = {
    {"runner_actions", "R8 invalid mem access 'pkt_end'"}, /* reads end + 3000 on purpose */
};

static const char *expected_reason(const char *program)
{
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++)
        if (strcmp(rejected[i].program, program) == 0)
            return rejected[i].reason;
    return NULL;
}

/* Verify every XDP program of the object at path; returns how many were
 * verified (and run), or -1 when the object is missing. */
static int check_object(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fclose(f);
    ebpfvm_vm *vm = NULL;
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), 0);
    cr_assert_eq(ebpfvm_vm_register_std_helpers(vm, NULL), 0);
    ebpfvm_object *obj = NULL;
    cr_assert_eq(ebpfvm_object_open(vm, path, NULL, &obj), 0, "%s", ebpfvm_vm_errmsg(vm));
    int verified = 0;
    for (size_t i = 0; i < ebpfvm_object_program_count(obj); i++) {
        const char *name = ebpfvm_object_program_name(obj, i);
        enum ebpfvm_prog_type type;
        if (ebpfvm_object_program_type(obj, i, &type) != 0 || type != EBPFVM_PROG_TYPE_XDP)
            continue;
        ebpfvm_prog *prog = NULL;
        if (ebpfvm_object_load_program(obj, i, &prog) != 0)
            continue; /* e.g. a helper ebpfvm does not implement */
        static char log[1 << 16];
        struct ebpfvm_verify_opts vo = {.sz = sizeof vo, .log_level = 1, .log_buf = log, .log_size = sizeof log};
        int status = ebpfvm_prog_verify(prog, &vo);
        const char *want = expected_reason(name);
        if (want) {
            cr_expect_eq(status, EBPFVM_ERR_VERIFY, "%s/%s: accepted", path, name);
            cr_expect(strstr(ebpfvm_vm_errmsg(vm), want), "%s/%s: %s", path, name, ebpfvm_vm_errmsg(vm));
            continue;
        }
        cr_expect_eq(status, 0, "%s/%s: %s\n%s", path, name, ebpfvm_vm_errmsg(vm), log);
        if (status)
            continue;
        verified++;
        static const size_t lens[] = {14, 42, 60, 98, 1500};
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            static unsigned char frame[EBPFVM_XDP_FRAME_SIZE];
            unsigned char pkt[1500];
            for (size_t b = 0; b < sizeof pkt; b++)
                pkt[b] = (unsigned char)(b * 31 + k);
            /* An IPv4/UDP-looking packet for k odd. */
            if (k % 2) {
                pkt[12] = 0x08;
                pkt[13] = 0x00;
                pkt[14] = 0x45;
                pkt[23] = 17;
            }
            struct ebpfvm_xdp_buff buff;
            cr_assert_eq(ebpfvm_xdp_buff_init(&buff, frame, sizeof frame, pkt, lens[k]), 0);
            struct ebpfvm_run_opts ro = {.sz = sizeof ro, .mode = EBPFVM_EXEC_CHECKED};
            struct ebpfvm_run_result res;
            int err = ebpfvm_prog_run(prog, &buff, sizeof buff, &ro, &res);
            cr_expect_eq(err, 0, "%s/%s (packet %zu bytes): verified, but faulted: %s", path, name, lens[k],
                         res.message);
        }
    }
    ebpfvm_object_close(obj);
    ebpfvm_vm_destroy(vm);
    return verified;
}

Test(elf_verifier, clang_built_programs)
{
    static const char *objects[] = {
        "tests/bpf/xdp_drop.o",         "tests/bpf/bpf2bpf.o",          "tests/bpf/global_data.o",
        "tests/bpf/legacy_maps.o",      "tests/bpf/maps_btf.o",         "tests/bpf/multi.o",
        "tests/bpf/runner_actions.o",   "tests/bpf/runner_fib.o",       "tests/bpf/xdp_ctx.o",
        "examples/xdp/xdp_bpf2bpf.o",   "examples/xdp/xdp_counters.o",  "examples/xdp/xdp_dnat.o",
        "examples/xdp/xdp_encap.o",     "examples/xdp/xdp_swap_tx.o",   "examples/xdp/xdp_tailcall.o",
        "examples/xdp/xdp_udp_drop.o",
    };
    int found = 0, verified = 0;
    for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", EBPFVM_BINARY_DIR, objects[i]);
        int n = check_object(path);
        if (n >= 0) {
            found++;
            verified += n;
        }
    }
    if (!found)
        cr_skip_test("no object was built (no clang?)");
    cr_expect_gt(verified, 0);
    cr_log_info("%d objects, %d programs verified", found, verified);
}

#endif /* EBPFVM_HAVE_ELF */
