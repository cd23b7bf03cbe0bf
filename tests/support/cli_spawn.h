/*
 * tests/support/cli_spawn.h - run the built `ebpfvm` command from a test and
 * capture its exit status, stdout and stderr (for the CLI tests).
 *
 * Invariant: the output files live in the caller's directory only while the
 * command runs; they are read into the result and removed before returning.
 */
#ifndef EBPFVM_TESTS_CLI_SPAWN_H
#define EBPFVM_TESTS_CLI_SPAWN_H

#include <stddef.h>

#define SPAWN_CLI_PATH EBPFVM_BINARY_DIR "/cli/ebpfvm"

/* Flags of spawn_cli_flags / spawn_cli_list. */
#define SPAWN_AS_NOBODY 1u /* run as user nobody, group nogroup (through setpriv) */

struct spawn_result {
    int status; /* exit code, or 128 + signal number */
    char out[65536];
    char err[16384];
};

/*
 * Run SPAWN_CLI_PATH with argv (NULL-terminated, without argv[0]), stdin
 * from /dev/null, output captured through files in dir (which must exist).
 * Asserts (criterion) that the command could be started.
 */
void spawn_cli(struct spawn_result *r, const char *dir, const char *const *argv);

/* spawn_cli with flags (SPAWN_AS_NOBODY or 0). */
void spawn_cli_flags(struct spawn_result *r, const char *dir, unsigned flags, const char *const *argv);

/* spawn_cli_flags with the arguments listed, ending with NULL (arg0 may be NULL). */
void spawn_cli_list(struct spawn_result *r, const char *dir, unsigned flags, const char *arg0, ...);

/* Create a fresh directory /tmp/ebpfvm-test-<tag>-XXXXXX, its name in dir
 * (size bytes); asserts (criterion) that it was created. */
void spawn_tmpdir_create(char *dir, size_t size, const char *tag);

/* Remove dir and everything below it (nothing when dir is ""); a failure is
 * reported on stderr, not asserted (it runs in a suite's .fini). */
void spawn_tmpdir_remove(const char *dir);

#endif /* EBPFVM_TESTS_CLI_SPAWN_H */
