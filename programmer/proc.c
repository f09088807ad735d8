/* proc: run helper commands, spawn sliver processes. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"

#define STDERR_MAX 4096
#define OUTPUT_MAX 65536 /* bytes of output proc_run_timeout keeps */

extern char **environ;

static char *join_argv(char *const argv[])
{
    size_t len = 1;
    char *s;

    for (int i = 0; argv[i] != NULL; i++)
        len += strlen(argv[i]) + 1;
    if ((s = malloc(len)) == NULL)
        return NULL;
    s[0] = '\0';
    for (int i = 0; argv[i] != NULL; i++) {
        if (i > 0)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

int proc_run_capture(char *const argv[], char **stderr_out)
{
    posix_spawn_file_actions_t fa;
    int pipefd[2], status = 0, rc = -1, spawn_err;
    char *buf = calloc(1, STDERR_MAX + 1);
    size_t used = 0;
    pid_t pid = -1;
    ssize_t r;

    *stderr_out = buf;
    if (buf == NULL || pipe2(pipefd, O_CLOEXEC) < 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    spawn_err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (spawn_err != 0) {
        snprintf(buf, STDERR_MAX, "cannot run %s: %s", argv[0],
                 strerror(spawn_err));
        close(pipefd[0]);
        return -1;
    }
    while ((r = read(pipefd[0], buf + used, STDERR_MAX - used)) > 0 ||
           (r < 0 && errno == EINTR))
        if (r > 0)
            used += (size_t)r;
    close(pipefd[0]);
    buf[used] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status))
        rc = WEXITSTATUS(status);
    return rc;
}

int proc_run(char *const argv[], char **err)
{
    char *out = NULL, *cmd, *nl;
    int rc = proc_run_capture(argv, &out);

    *err = NULL;
    if (rc == 0) {
        free(out);
        return 0;
    }
    if (out != NULL && (nl = strchr(out, '\n')) != NULL)
        *nl = '\0';
    cmd = join_argv(argv);
    if (asprintf(err, "'%s' failed: %s", cmd ? cmd : argv[0],
                 out && out[0] ? out : "(no message)") < 0)
        *err = NULL;
    log_debug("%s", *err ? *err : "command failed");
    free(cmd);
    free(out);
    return -1;
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads 'fd' into 'buf' (keeping at most OUTPUT_MAX bytes) until EOF or
 * 'deadline_ms'. Returns 0 at EOF, -1 at the deadline. */
static int read_until(int fd, char *buf, size_t *used, long long deadline_ms)
{
    char sink[4096];

    for (;;) {
        long long left = deadline_ms - mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0)
            return -1;
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno != EINTR)
            return -1;
        if (rc <= 0)
            continue;
        char *dst = *used < OUTPUT_MAX ? buf + *used : sink;
        size_t room = *used < OUTPUT_MAX ? OUTPUT_MAX - *used : sizeof(sink);
        ssize_t r = read(fd, dst, room);
        if (r == 0)
            return 0;
        if (r < 0 && errno != EINTR && errno != EAGAIN)
            return 0;
        if (r > 0 && dst != sink)
            *used += (size_t)r;
    }
}

int proc_run_timeout(char *const argv[], int timeout_ms, char **out)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int pipefd[2], status = 0, spawn_err;
    char *buf = calloc(1, OUTPUT_MAX + 1);
    size_t used = 0;
    pid_t pid = -1;

    *out = buf;
    if (buf == NULL || pipe2(pipefd, O_CLOEXEC) < 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    spawn_err = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(pipefd[1]);
    if (spawn_err != 0) {
        snprintf(buf, OUTPUT_MAX, "cannot run %s: %s", argv[0],
                 strerror(spawn_err));
        close(pipefd[0]);
        return -1;
    }
    long long deadline = mono_ms() + timeout_ms;
    bool late = read_until(pipefd[0], buf, &used, deadline) < 0;
    close(pipefd[0]);
    /* EOF does not mean it ended (it may have closed its output). */
    while (!late) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if ((r < 0 && errno != EINTR) || mono_ms() >= deadline) {
            late = r == 0;
            break;
        }
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    if (late) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        used =
            (size_t)snprintf(buf, OUTPUT_MAX, "%s did not finish within %d ms",
                             argv[0], timeout_ms);
    }
    buf[used] = '\0';
    if (late)
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* What the child reports through the pipe when a step fails. */
struct child_error {
    int step; /* index into steps[] */
    int err;  /* errno */
};

static const char *const steps[] = {"reset signals", "join the cgroup",
                                    "join the network namespace",
                                    "redirect output", "exec"};

static void child_fail(int fd, int step)
{
    struct child_error ce = {step, errno};

    if (write(fd, &ce, sizeof(ce)) < 0) {
        /* nothing left to do */
    }
    _exit(127);
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void child(const struct proc_spawn *s, int nsfd, int logfd, int nullfd,
                  int errfd)
{
    struct sigaction sa;
    sigset_t all;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL); /* fails harmlessly for KILL/STOP */
    sigemptyset(&all);
    if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
        child_fail(errfd, 0);
    setsid();
    if (cg_join_fds(s->cg_fds, s->n_cg_fds) < 0)
        child_fail(errfd, 1);
    if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
        child_fail(errfd, 2);
    if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
        child_fail(errfd, 3);
    if (s->pass_fd != NULL) {
        /* Out of the way first: any of our descriptors may be 3. */
        int keep = fcntl(*s->pass_fd, F_DUPFD_CLOEXEC, 10);
        if (errfd == 3)
            errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 10);
        if (keep < 0 || errfd < 0 || dup2(keep, 3) < 0)
            child_fail(errfd >= 0 ? errfd : 3, 3);
    }
    /* Nothing of the daemon's leaks into the sliver. */
    close_range(s->pass_fd != NULL ? 4 : 3, ~0U, CLOSE_RANGE_CLOEXEC);
    execve(s->argv[0], s->argv, s->envp);
    child_fail(errfd, 4);
}

pid_t proc_spawn(const struct proc_spawn *s, char **err)
{
    int nsfd = -1, logfd = -1, nullfd = -1, pipefd[2] = {-1, -1};
    struct child_error ce;
    pid_t pid = -1;
    ssize_t r;

    *err = NULL;
    if (s->netns_path != NULL &&
        (nsfd = open(s->netns_path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (asprintf(err, "cannot open %s: %s", s->netns_path,
                     strerror(errno)) < 0)
            *err = NULL;
        goto cleanup;
    }
    logfd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (logfd < 0) {
        if (asprintf(err, "cannot open %s: %s", s->log_path, strerror(errno)) <
            0)
            *err = NULL;
        goto cleanup;
    }
    nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nullfd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
        if (asprintf(err, "cannot open /dev/null or a pipe: %s",
                     strerror(errno)) < 0)
            *err = NULL;
        goto cleanup;
    }
    pid = fork();
    if (pid < 0) {
        if (asprintf(err, "fork: %s", strerror(errno)) < 0)
            *err = NULL;
        goto cleanup;
    }
    if (pid == 0)
        child(s, nsfd, logfd, nullfd, pipefd[1]);
    close(pipefd[1]);
    pipefd[1] = -1;
    /* EOF: the exec closed the pipe (CLOEXEC); data: a step failed. */
    while ((r = read(pipefd[0], &ce, sizeof(ce))) < 0 && errno == EINTR)
        ;
    if (r == (ssize_t)sizeof(ce)) {
        if (asprintf(err, "cannot start %s: %s: %s", s->argv[0],
                     steps[ce.step < 5 && ce.step >= 0 ? ce.step : 4],
                     strerror(ce.err)) < 0)
            *err = NULL;
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        pid = -1;
    }
cleanup:
    if (nsfd >= 0)
        close(nsfd);
    if (logfd >= 0)
        close(logfd);
    if (nullfd >= 0)
        close(nullfd);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (pid < 0 && *err == NULL)
        *err = strdup("cannot start the sliver process");
    return pid;
}
