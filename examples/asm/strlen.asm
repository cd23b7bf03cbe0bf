# examples/asm/strlen.asm - the length of the NUL-terminated string at the
# start of the memory block, or the block's length when it holds no NUL.
#
#   ebpfvm exec examples/asm/strlen.asm --mem "68 65 6c 6c 6f 00 21"  ->  r0 = 0x5 (5)

    mov %r0, 0                # r0: bytes before the NUL
loop:                         # bounded by the block's length (r2)
    jge %r0, %r2, done
    mov %r3, %r1
    add %r3, %r0
    ldxb %r4, [%r3+0]
    jeq %r4, 0, done
    add %r0, 1
    ja loop
done:
    exit
