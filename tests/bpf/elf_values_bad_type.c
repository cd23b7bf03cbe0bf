/* tests/bpf/elf_values_bad_type.c - a prog_array whose `values` are
 * pointers to structs, not to functions (rejected). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct not_a_prog {
    int x;
};

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct not_a_prog);
} jmp SEC(".maps");

SEC("memory")
int dispatch(void *ctx)
{
    bpf_tail_call(ctx, &jmp, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
