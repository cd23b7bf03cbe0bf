/* tests/bpf/elf_values_not_prog_array.c - `__array(values, ...)` in a plain
 * array map (rejected: 'values' is for prog arrays and map-in-map). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int(void *));
} arr SEC(".maps");

SEC("memory")
int user(void *ctx)
{
    (void)ctx;
    __u32 key = 0;
    return bpf_map_lookup_elem(&arr, &key) != 0;
}

char LICENSE[] SEC("license") = "GPL";
