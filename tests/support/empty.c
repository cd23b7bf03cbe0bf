/* Keeps the support library non-empty. */
typedef int ebpfvm_test_support_empty;
