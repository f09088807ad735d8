/* fp_ctl: one-message requests and replies over a SEQPACKET socket. */
#include "fp_ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int fp_ctl_send(int sock, const char *msg, int pass_fd)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } c;
    struct iovec iov = {.iov_base = (void *)msg, .iov_len = strlen(msg)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t r;

    if (iov.iov_len > FP_CTL_MAX)
        iov.iov_len = FP_CTL_MAX;
    if (pass_fd >= 0) {
        memset(&c, 0, sizeof(c));
        mh.msg_control = c.buf;
        mh.msg_controllen = sizeof(c.buf);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
    }
    while ((r = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return r == (ssize_t)iov.iov_len ? 0 : -1;
}

long fp_ctl_recv(int sock, char *buf, size_t n, int *fd_out)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * 4)];
    } c;
    struct iovec iov = {.iov_base = buf, .iov_len = n - 1};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = c.buf,
                        .msg_controllen = sizeof(c.buf)};
    ssize_t r;

    if (fd_out != NULL)
        *fd_out = -1;
    while ((r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)) < 0 &&
           errno == EINTR)
        ;
    if (r < 0)
        return -1;
    buf[r] = '\0';
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
         cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (fd_out != NULL && *fd_out < 0)
                *fd_out = fd; /* the first one; others are not expected */
            else
                close(fd);
        }
    }
    if (mh.msg_flags & MSG_TRUNC)
        return -1;
    return (long)r;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long fp_ctl_call(int sock, const char *req, int pass_fd, char *reply, size_t n,
                 int timeout_ms, const char **why)
{
    int64_t deadline = now_ms() + timeout_ms;
    struct pollfd p = {.fd = sock, .events = POLLIN};
    long r;

    *why = "";
    /* A stale reply (of a request that timed out) must not answer this
     * one: drain what is waiting. */
    while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) &&
           fp_ctl_recv(sock, reply, n, NULL) > 0)
        ;
    if (fp_ctl_send(sock, req, pass_fd) < 0) {
        *why = "the fast path's control channel is closed";
        return -1;
    }
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            *why = "the fast path did not answer in time";
            return -1;
        }
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno != EINTR) {
            *why = "poll on the control channel failed";
            return -1;
        }
        if (rc > 0)
            break;
    }
    r = fp_ctl_recv(sock, reply, n, NULL);
    if (r <= 0) {
        *why = r == 0 ? "the fast path closed its control channel (did it "
                        "crash?)"
                      : "cannot read the fast path's answer";
        return -1;
    }
    return r;
}
