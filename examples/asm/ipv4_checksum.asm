# examples/asm/ipv4_checksum.asm - the IPv4 header checksum (RFC 791,
# computed as in RFC 1071) of the header at the start of the memory block.
#
# r1 = the header, r2 = the block's length. Returns the checksum the header's
# checksum field should hold: the ones' complement of the ones' complement
# sum of the header's 16-bit words, with the checksum field (bytes 10-11)
# counted as zero. For a header whose checksum is correct the result equals
# the field. Returns -1 when the block is not an IPv4 header (version not 4,
# IHL below 5, or a header longer than the block).
#
#   ebpfvm exec examples/asm/ipv4_checksum.asm --mem-file examples/asm/ipv4_header.bin
#   r0 = 0xb861 (47201)

    mov %r0, 0                # r0: the running sum
    jlt %r2, 20, bad          # shorter than the smallest header
    ldxb %r3, [%r1+0]         # version (high nibble) and IHL (low nibble)
    mov %r4, %r3
    rsh %r4, 4
    jne %r4, 4, bad           # not IPv4
    and %r3, 0x0f
    lsh %r3, 2                # r3: header length in bytes, 20..60
    jlt %r3, 20, bad
    jgt %r3, %r2, bad         # the header does not fit in the block
    mov %r4, 0                # r4: offset of the next 16-bit word

loop:                         # bounded: at most 30 iterations
    jge %r4, %r3, fold
    jeq %r4, 10, next         # the checksum field counts as zero
    mov %r5, %r1
    add %r5, %r4
    ldxh %r6, [%r5+0]
    be16 %r6                  # the word in network byte order
    add %r0, %r6
next:
    add %r4, 2
    ja loop

fold:                         # fold the carries back in, twice
    mov %r6, %r0
    rsh %r6, 16
    and %r0, 0xffff
    add %r0, %r6
    mov %r6, %r0
    rsh %r6, 16
    and %r0, 0xffff
    add %r0, %r6
    xor %r0, 0xffff           # ones' complement of the sum
    exit

bad:
    mov %r0, -1
    exit
