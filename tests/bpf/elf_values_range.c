/* tests/bpf/elf_values_range.c - a `.values` slot past max_entries
 * (rejected with EBPFVM_ERR_RANGE). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("memory/t")
int target(void *ctx)
{
    (void)ctx;
    return 1;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int(void *));
} jmp SEC(".maps") = {
    .values = {[5] = (void *)&target},
};

SEC("memory")
int dispatch(void *ctx)
{
    bpf_tail_call(ctx, &jmp, 5);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
