/* tests/bpf/elf_values_subprog.c - a `.values` entry pointing at a .text
 * subprogram (rejected: only programs can be tail-called). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int helper(void *ctx)
{
    return ctx != 0;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int(void *));
} jmp SEC(".maps") = {
    .values = {[0] = (void *)&helper},
};

SEC("memory")
int dispatch(void *ctx)
{
    bpf_tail_call(ctx, &jmp, 0);
    return helper(ctx);
}

char LICENSE[] SEC("license") = "GPL";
