/*
 * tests/test_examples.c - the bundled example programs (examples/asm/ files)
 * compute what they claim: each is assembled from its file, loaded, and run
 * in checked and fast mode against a C reference implementation on many
 * inputs (the IPv4 checksum against RFC 1071 on the real header and on
 * generated headers of every IHL, fib against iteration, strlen against
 * memchr), and the rejections the comments promise (-1) are checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <ebpfvm/ebpfvm.h>

#define EXAMPLES EBPFVM_SOURCE_DIR "/examples/asm"

static ebpfvm_vm *vm;

static void setup(void)
{
    cr_assert_eq(ebpfvm_vm_create(NULL, &vm), EBPFVM_OK);
}

static void teardown(void)
{
    ebpfvm_vm_destroy(vm);
}

TestSuite(examples, .init = setup, .fini = teardown);

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char *buf = malloc(1 << 16);
    cr_assert_not_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (size)
        *size = n;
    return buf;
}

static ebpfvm_prog *load_example(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", EXAMPLES, name);
    char *text = read_all(path, NULL);
    struct ebpf_insn *words;
    size_t count;
    int status = ebpfvm_assemble(vm, text, &words, &count);
    free(text);
    cr_assert_eq(status, EBPFVM_OK, "%s: %s", name, ebpfvm_vm_errmsg(vm));
    ebpfvm_prog *prog;
    struct ebpfvm_load_opts opts = {.sz = sizeof opts, .name = name};
    status = ebpfvm_prog_load(vm, words, count, &opts, &prog);
    ebpfvm_free(vm, words);
    cr_assert_eq(status, EBPFVM_OK, "%s: %s", name, ebpfvm_vm_errmsg(vm));
    return prog;
}

/* r0 of a run in checked mode, asserting that fast mode agrees. */
static uint64_t run(const ebpfvm_prog *prog, void *mem, size_t size)
{
    struct ebpfvm_run_result checked, fast;
    struct ebpfvm_run_opts opts = {.sz = sizeof opts, .mode = EBPFVM_EXEC_CHECKED};
    cr_assert_eq(ebpfvm_prog_run(prog, mem, size, &opts, &checked), EBPFVM_OK, "%s", checked.message);
    opts.mode = EBPFVM_EXEC_FAST;
    opts.flags = EBPFVM_RUN_ALLOW_UNVERIFIED_FAST;
    cr_assert_eq(ebpfvm_prog_run(prog, mem, size, &opts, &fast), EBPFVM_OK, "%s", fast.message);
    cr_assert_eq(checked.r0, fast.r0);
    return checked.r0;
}

/* ----------------------------------------------------- ipv4_checksum */

/* RFC 1071 over the header's hlen bytes, the checksum field as zero. */
static uint16_t ref_checksum(const uint8_t *h, size_t hlen)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < hlen; i += 2)
        if (i != 10)
            sum += (uint32_t)h[i] << 8 | h[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

Test(examples, ipv4_checksum_of_the_bundled_header)
{
    ebpfvm_prog *prog = load_example("ipv4_checksum.asm");
    size_t size;
    char *bytes = read_all(EXAMPLES "/ipv4_header.bin", &size);
    cr_assert_eq(size, 20);
    uint8_t header[20];
    memcpy(header, bytes, 20);
    free(bytes);
    cr_assert_eq(header[0], 0x45, "IPv4, IHL 5");
    uint16_t stored = (uint16_t)(header[10] << 8 | header[11]);
    cr_assert_eq(stored, 0xb861);
    cr_assert_eq(ref_checksum(header, 20), stored, "the bundled header's checksum is correct");
    cr_assert_eq(run(prog, header, 20), 0xb861);

    /* The field itself does not count. */
    header[10] = header[11] = 0;
    cr_assert_eq(run(prog, header, 20), 0xb861);
    /* A changed TTL changes the checksum by RFC 1624's rule. */
    header[8] = 0x3f;
    cr_assert_eq(run(prog, header, 20), 0xb961);
}

Test(examples, ipv4_checksum_matches_rfc1071_for_every_ihl)
{
    ebpfvm_prog *prog = load_example("ipv4_checksum.asm");
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 200; round++) {
        uint8_t header[64];
        for (size_t i = 0; i < sizeof header; i++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            header[i] = (uint8_t)(state >> 56);
        }
        unsigned ihl = 5 + (unsigned)round % 11; /* 5..15 */
        header[0] = (uint8_t)(0x40 | ihl);
        size_t hlen = ihl * 4;
        size_t block = hlen + (size_t)round % 4; /* trailing payload is ignored */
        cr_assert_eq(run(prog, header, block), ref_checksum(header, hlen), "round %d, IHL %u", round, ihl);
    }
}

Test(examples, ipv4_checksum_rejects_what_is_not_a_header)
{
    ebpfvm_prog *prog = load_example("ipv4_checksum.asm");
    uint8_t header[60] = {0x45};
    cr_assert_eq(run(prog, header, 19), (uint64_t)-1, "shorter than 20 bytes");
    cr_assert_eq(run(prog, NULL, 0), (uint64_t)-1, "no memory");
    header[0] = 0x65;
    cr_assert_eq(run(prog, header, 20), (uint64_t)-1, "version 6");
    header[0] = 0x44;
    cr_assert_eq(run(prog, header, 20), (uint64_t)-1, "IHL 4");
    header[0] = 0x46;
    cr_assert_eq(run(prog, header, 20), (uint64_t)-1, "IHL 6 in a 20-byte block");
    cr_assert_eq(run(prog, header, 24), ref_checksum(header, 24));
}

/* ------------------------------------------------------------ fib */

Test(examples, fib_matches_iteration)
{
    ebpfvm_prog *prog = load_example("fib.asm");
    cr_assert_eq(run(prog, NULL, 0), 55, "N defaults to 10");
    uint64_t a = 0, b = 1;
    for (unsigned n = 0; n <= 255; n++) {
        uint8_t mem[1] = {(uint8_t)n};
        cr_assert_eq(run(prog, mem, 1), a, "fib(%u)", n);
        uint64_t next = a + b;
        a = b;
        b = next;
    }
}

/* ---------------------------------------------------------- strlen */

Test(examples, strlen_matches_memchr)
{
    ebpfvm_prog *prog = load_example("strlen.asm");
    static const struct {
        const char *bytes;
        size_t size;
    } cases[] = {
        {"hello\0!", 7}, {"", 1}, {"abc", 3}, {"abc", 0}, {"a\0b\0c", 5}, {"no terminator here", 18},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t mem[32];
        memcpy(mem, cases[i].bytes, cases[i].size);
        const void *nul = memchr(mem, 0, cases[i].size);
        size_t expected = nul ? (size_t)((const uint8_t *)nul - mem) : cases[i].size;
        cr_assert_eq(run(prog, cases[i].size ? mem : NULL, cases[i].size), expected, "case %zu", i);
    }
}
