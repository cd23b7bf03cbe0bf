/* tests/bpf/elf_perf_array.c - a perf event array without max_entries
 * (libbpf sizes it to the possible CPUs; ebpfvm to the vm's CPUs), next to
 * one with an explicit max_entries. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(max_entries, 16);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} events16 SEC(".maps");

SEC("memory")
int emit(void *ctx)
{
    __u64 v = 42;
    bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &v, sizeof v);
    return (int)bpf_perf_event_output(ctx, &events16, BPF_F_CURRENT_CPU, &v, sizeof v);
}

char LICENSE[] SEC("license") = "GPL";
