/* tests/bpf/elf_values.c - a prog_array initialised in `.maps` with
 * `.values` (libbpf's convention): targets in two other sections, one of
 * them (`tc`) without an ebpfvm program type until the test sets one. The
 * dispatcher tail-calls slot *(u32 *)mem; slot 0 is left empty. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("memory/a")
int target_a(void *ctx)
{
    (void)ctx;
    return 111;
}

SEC("tc")
int target_tc(void *ctx)
{
    (void)ctx;
    return 222;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, int(void *));
} jmp SEC(".maps") = {
    .values = {[1] = (void *)&target_a, [3] = (void *)&target_tc},
};

SEC("memory")
int dispatch(void *ctx)
{
    bpf_tail_call(ctx, &jmp, *(__u32 *)ctx);
    return 7; /* empty slot */
}

char LICENSE[] SEC("license") = "GPL";
