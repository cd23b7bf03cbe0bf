/* tests/bpf/elf_values_value_size.c - a prog_array with `values` and a
 * value_size other than 4 (rejected: the two conflict). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __uint(key_size, 4);
    __uint(value_size, 8);
    __array(values, int(void *));
} jmp SEC(".maps");

SEC("memory")
int dispatch(void *ctx)
{
    bpf_tail_call(ctx, &jmp, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
