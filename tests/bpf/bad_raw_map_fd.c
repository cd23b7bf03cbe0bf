/* tests/bpf/bad_raw_map_fd.c - an ld_imm64 of a map fd written into the
 * code without a relocation (rejected: the object cannot know an fd). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
__attribute__((naked)) int raw_fd_prog(void)
{
    asm volatile(".8byte 0x1118\n" /* r1 = map fd 0 (ld_imm64, src_reg BPF_PSEUDO_MAP_FD) */
                 ".8byte 0\n"
                 "r0 = 2\n"
                 "exit\n");
}

char LICENSE[] SEC("license") = "GPL";
