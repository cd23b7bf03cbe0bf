/*
 * tests/support/cli_assert.h - assertions on a struct spawn_result
 * (cli_spawn.h) for the CLI tests: a substring in (or absent from) the
 * captured output, and the exit code (showing both outputs when it differs).
 */
#ifndef EBPFVM_TESTS_CLI_ASSERT_H
#define EBPFVM_TESTS_CLI_ASSERT_H

#include <string.h>

#include <criterion/criterion.h>

#define assert_has(haystack, needle)                                                                          \
    cr_assert_not_null(strstr((haystack), (needle)), "expected '%s' in:\n%s", (needle), (haystack))
#define assert_lacks(haystack, needle)                                                                        \
    cr_assert_null(strstr((haystack), (needle)), "did not expect '%s' in:\n%s", (needle), (haystack))

#define assert_exit(r, code)                                                                                  \
    cr_assert_eq((r).status, (code), "exit %d, expected %d\nstdout:\n%s\nstderr:\n%s", (r).status, (code),   \
                 (r).out, (r).err)

#endif /* EBPFVM_TESTS_CLI_ASSERT_H */
