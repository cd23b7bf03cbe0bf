/* tests/bpf/elf_values_not_prog.c - a `.values` entry pointing at a global
 * variable, not a program (rejected, as libbpf does). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int counter = 1;

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int(void *));
} jmp SEC(".maps") = {
    .values = {[1] = (void *)&counter},
};

SEC("memory")
int dispatch(void *ctx)
{
    bpf_tail_call(ctx, &jmp, 1);
    return counter;
}

char LICENSE[] SEC("license") = "GPL";
