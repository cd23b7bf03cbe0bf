/* tests/bpf/ld_abs_subprog.c - LD_ABS inside subprograms of socket
 * filters: allowed where BTF says the subprogram returns an integer, refused
 * where it returns void (like Linux). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((naked, noinline, used)) static int ld_in_int(void)
{
    asm volatile("r6 = r1\n"
                 "r0 = *(u8 *)skb[12]\n"
                 "exit\n");
}

__attribute__((naked, noinline, used)) static void ld_in_void(void)
{
    asm volatile("r6 = r1\n"
                 "r0 = *(u8 *)skb[12]\n"
                 "exit\n");
}

SEC("socket")
__attribute__((naked)) int int_subprog(void)
{
    asm volatile("call ld_in_int\n"
                 "exit\n");
}

SEC("socket")
__attribute__((naked)) int void_subprog(void)
{
    asm volatile("call ld_in_void\n"
                 "r0 = 0\n"
                 "exit\n");
}

char LICENSE[] SEC("license") = "GPL";
