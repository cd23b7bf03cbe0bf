/* tests/bpf/global_data.c - .data, .rodata and .bss, global and static
 * variables (relocations against the variable and against the section). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 data_var = 0x1122334455667788ull; /* .data */
__u32 data_second = 7;                  /* .data, offset 8 */
const volatile __u32 ro_limit = 1000;   /* .rodata */
__u64 bss_counter;                      /* .bss */
static volatile __u32 bss_static;       /* .bss, via the section symbol */

SEC("xdp")
int global_data(struct xdp_md *ctx)
{
    (void)ctx;
    bss_counter += data_second;
    bss_static = 3;
    data_var += 1;
    return (int)(ro_limit + bss_static);
}

char LICENSE[] SEC("license") = "GPL";
