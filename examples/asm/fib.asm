# examples/asm/fib.asm - the Nth Fibonacci number, iteratively.
#
# N is the first byte of the memory block, or 10 without one (r2 = 0).
# fib(0) = 0, fib(1) = 1; the sum wraps modulo 2^64 past fib(93).
#
#   ebpfvm exec examples/asm/fib.asm              ->  r0 = 0x37 (55)
#   ebpfvm exec examples/asm/fib.asm --mem 5a     ->  r0 = 0x27f80ddaa1ba7878 (2880067194370816120)

    mov %r3, 10               # r3: N
    jeq %r2, 0, start
    ldxb %r3, [%r1+0]
start:
    mov %r0, 0                # fib(i)
    mov %r4, 1                # fib(i + 1)
loop:                         # bounded: N <= 255 iterations
    jeq %r3, 0, done
    mov %r5, %r0
    add %r5, %r4
    mov %r0, %r4
    mov %r4, %r5
    sub %r3, 1
    ja loop
done:
    exit
