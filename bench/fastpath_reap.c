/* fastpath_reap: runs a command as a child subreaper, for the VM part of
 * bench/fastpath.sh.
 *
 *   fastpath_reap CMD [ARG...]
 *
 * libvirt's embedded QEMU driver daemonizes QEMU, so QEMU is an orphan;
 * on this machine PID 1 reaps orphans ~1.4 s late, which makes every
 * domain destroy wait that long. As the subreaper of CMD (virsh), this
 * process gets QEMU instead and reaps it at once. It only ever reaps
 * processes that were reparented to it (libvirt waits for its own
 * children itself), forwards SIGTERM/SIGINT/SIGHUP to CMD, and exits with
 * CMD's status once CMD has exited (orphans still running then go to
 * PID 1 as usual). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    int status = 0, rc = -1;

    if (argc < 2) {
        fprintf(stderr, "usage: fastpath_reap CMD [ARG...]\n");
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        perror("fastpath_reap: PR_SET_CHILD_SUBREAPER");
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fastpath_reap: fork");
        return 1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "fastpath_reap: %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    child = pid;
    while (rc < 0) {
        pid_t w = wait(&status);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break; /* no children left */
        }
        if (w == pid)
            rc = WIFEXITED(status) ? WEXITSTATUS(status)
                                   : 128 + WTERMSIG(status);
    }
    /* Reap whatever has already ended; leave the living to PID 1. */
    while (waitpid(-1, &status, WNOHANG) > 0)
        ;
    return rc < 0 ? 1 : rc;
}
