/*
 * tests/support/cli_spawn.c - see cli_spawn.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

extern char **environ;

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

void spawn_cli(struct spawn_result *r, const char *dir, const char *const *argv)
{
    spawn_cli_flags(r, dir, 0, argv);
}

void spawn_cli_list(struct spawn_result *r, const char *dir, unsigned flags, const char *arg0, ...)
{
    const char *argv[64];
    size_t argc = 0;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a; a = va_arg(ap, const char *)) {
        cr_assert_lt(argc, 63, "too many arguments");
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    spawn_cli_flags(r, dir, flags, argv);
}

void spawn_cli_flags(struct spawn_result *r, const char *dir, unsigned flags, const char *const *argv)
{
    const char *args[72];
    size_t argc = 0;
    if (flags & SPAWN_AS_NOBODY) {
        args[argc++] = "/usr/bin/setpriv";
        args[argc++] = "--reuid=nobody";
        args[argc++] = "--regid=nogroup";
        args[argc++] = "--clear-groups";
    }
    args[argc++] = SPAWN_CLI_PATH;
    for (size_t i = 0; argv[i]; i++) {
        cr_assert_lt(argc, 71, "too many arguments");
        args[argc++] = argv[i];
    }
    args[argc] = NULL;

    char out_path[512], err_path[512];
    snprintf(out_path, sizeof out_path, "%s/.spawn-stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/.spawn-stderr", dir);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, args[0], &actions, NULL, (char *const *)args, environ);
    posix_spawn_file_actions_destroy(&actions);
    cr_assert_eq(rc, 0, "posix_spawn %s: %s", args[0], strerror(rc));
    int wstatus;
    cr_assert_eq(waitpid(pid, &wstatus, 0), pid);
    r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    slurp(out_path, r->out, sizeof r->out);
    slurp(err_path, r->err, sizeof r->err);
    unlink(out_path);
    unlink(err_path);
}

void spawn_tmpdir_create(char *dir, size_t size, const char *tag)
{
    int n = snprintf(dir, size, "/tmp/ebpfvm-test-%s-XXXXXX", tag);
    cr_assert(n > 0 && (size_t)n < size, "temporary directory name too long for tag %s", tag);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

void spawn_tmpdir_remove(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (dir[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}
