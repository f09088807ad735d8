/* run: posix_spawn a helper, wait, report. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

extern char **environ;

/* Longest stderr text quoted in a failure message, bytes. */
#define ERR_QUOTE_MAX 2048

/* "ip -n x link ..." into buf, cut to its size. */
static const char *cmdline(const char *const argv[], char *buf, size_t size)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; argv[i] != NULL && off + 1 < size; i++) {
        int n = snprintf(buf + off, size - off, "%s%s", i ? " " : "", argv[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    return buf;
}

/* Whole content of memfd 'fd', NUL-terminated, malloc'd; NULL on error. */
static char *slurp(int fd)
{
    off_t len = lseek(fd, 0, SEEK_END);
    char *buf;
    ssize_t n;

    if (len < 0 || lseek(fd, 0, SEEK_SET) < 0)
        return NULL;
    buf = malloc((size_t)len + 1);
    if (buf == NULL)
        return NULL;
    n = read(fd, buf, (size_t)len);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* Spawns argv with stdout and stderr into the given fds (-1: /dev/null)
 * and waits. Returns the wait status, or -1 when it could not start. */
static int spawn_wait(const char *const argv[], int out_fd, int err_fd)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = -1, rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (err_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    /* posix_spawnp takes char *const[] for historical reasons; it does not
     * write to the strings. */
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

static int run(const char *const argv[], char **out)
{
    char line[512];
    int out_fd = -1, err_fd = -1, status, rc = -1;
    char *err_text = NULL;

    if (out != NULL)
        *out = NULL;
    log_debug("%s", cmdline(argv, line, sizeof(line)));
    err_fd = memfd_create("stderr", MFD_CLOEXEC);
    if (out != NULL && (out_fd = memfd_create("stdout", MFD_CLOEXEC)) < 0)
        goto cleanup;
    status = spawn_wait(argv, out_fd, err_fd);
    if (status == -1) {
        log_err("cannot run %s: %m", cmdline(argv, line, sizeof(line)));
        goto cleanup;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rc = 0;
        if (out != NULL && (*out = slurp(out_fd)) == NULL)
            rc = -1;
        goto cleanup;
    }
    err_text = err_fd >= 0 ? slurp(err_fd) : NULL;
    if (err_text != NULL) {
        if (strlen(err_text) > ERR_QUOTE_MAX)
            err_text[ERR_QUOTE_MAX] = '\0';
        /* one line in the log */
        for (char *p = err_text; *p != '\0'; p++)
            if (*p == '\n')
                *p = *(p + 1) != '\0' ? ';' : '\0';
    }
    log_err("%s: %s %d%s%s", cmdline(argv, line, sizeof(line)),
            WIFEXITED(status) ? "exit status" : "killed by signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
            err_text != NULL && *err_text ? ": " : "",
            err_text != NULL ? err_text : "");
cleanup:
    free(err_text);
    if (out_fd >= 0)
        close(out_fd);
    if (err_fd >= 0)
        close(err_fd);
    return rc;
}

int tb_run(const char *const argv[])
{
    return run(argv, NULL);
}

int tb_run_output(const char *const argv[], char **out)
{
    return run(argv, out);
}
