/* log: one line per message,
 *   "2026-11-24T09:00:00.123Z sncd[4242] WARN rpc_request: message"
 * written with a single fwrite and flushed, so lines from several threads or
 * processes appending to one file do not interleave. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Longest line written; longer messages are cut and end in "...". */
#define LOG_LINE_MAX 4096

static const char *log_prog = "vnode";
static enum vn_log_level log_level = VN_LOG_INFO;
static FILE *log_file; /* NULL: stderr */

/* Suppressed-message count handed from vn_log_ratelimit_ok() to the vn_log()
 * call that follows it in log_warn_rl(), so the count is reported on the
 * next line printed from the same call site. */
static _Thread_local int log_pending_suppressed;

static const char *const level_names[] = {
    [VN_LOG_ERR] = "err",
    [VN_LOG_WARN] = "warn",
    [VN_LOG_INFO] = "info",
    [VN_LOG_DEBUG] = "debug",
};

static const char *const level_tags[] = {
    [VN_LOG_ERR] = "ERR",
    [VN_LOG_WARN] = "WARN",
    [VN_LOG_INFO] = "INFO",
    [VN_LOG_DEBUG] = "DEBUG",
};

static bool level_valid(int level)
{
    return level >= VN_LOG_ERR && level <= VN_LOG_DEBUG;
}

int vn_log_init(const char *prog, enum vn_log_level level, const char *path)
{
    FILE *f = NULL;

    if (prog != NULL) {
        const char *slash = strrchr(prog, '/');
        log_prog = slash != NULL ? slash + 1 : prog;
    }
    vn_log_set_level(level);
    if (path != NULL) {
        f = fopen(path, "ae");
        if (f == NULL) {
            log_err("cannot open log file %s: %m; logging to stderr", path);
            return -1;
        }
        setvbuf(f, NULL, _IOLBF, 0);
    }
    if (log_file != NULL)
        fclose(log_file);
    log_file = f;
    return 0;
}

void vn_log_set_level(enum vn_log_level level)
{
    if (level_valid((int)level))
        log_level = level;
}

enum vn_log_level vn_log_get_level(void)
{
    return log_level;
}

int vn_log_level_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = VN_LOG_ERR; i <= VN_LOG_DEBUG; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

const char *vn_log_level_name(enum vn_log_level level)
{
    return level_valid((int)level) ? level_names[level] : "unknown";
}

/* Writes "2026-11-24T09:00:00.123Z" (UTC, milliseconds) into buf. */
static size_t format_time(char *buf, size_t size)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
    return n < size ? n : size - 1;
}

/* Replaces control characters so a message that quotes network input
 * cannot forge extra log lines. */
static void sanitize(char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = *s == '\t' ? ' ' : '?';
}

__attribute__((format(printf, 3, 0))) static void
vn_logv(enum vn_log_level level, const char *func, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    size_t len, max = sizeof(line) - 1; /* room for the '\n' */
    int n, suppressed = log_pending_suppressed, saved_errno = errno;
    char *msg;

    log_pending_suppressed = 0;
    len = format_time(line, max);
    n = snprintf(line + len, max - len, " %s[%ld] %s %s: ", log_prog,
                 (long)getpid(), level_tags[level], func != NULL ? func : "?");
    len = n < 0 ? len : len + (size_t)n;
    if (len >= max)
        len = max - 1;
    msg = line + len;
    errno = saved_errno; /* for %m */
    n = vsnprintf(msg, max - len, fmt, ap);
    if (n >= 0 && suppressed > 0 && len + (size_t)n < max)
        n += snprintf(msg + n, max - len - (size_t)n,
                      " (%d similar messages suppressed)", suppressed);
    if (n < 0) {
        line[len] = '\0';
    } else if (len + (size_t)n >= max) {
        memcpy(line + max - 4, "...", 4);
    }
    sanitize(msg);
    len = strlen(line);
    line[len++] = '\n';
    FILE *out = log_file != NULL ? log_file : stderr;
    fwrite(line, 1, len, out);
    fflush(out);
    errno = saved_errno;
}

void vn_log(enum vn_log_level level, const char *func, const char *fmt, ...)
{
    va_list ap;

    if (!level_valid((int)level) || level > log_level) {
        log_pending_suppressed = 0;
        return;
    }
    va_start(ap, fmt);
    vn_logv(level, func, fmt, ap);
    va_end(ap);
}

bool vn_log_ratelimit_ok_at(struct vn_log_ratelimit *rl, time_t now_s)
{
    if (rl->window_start == 0 || now_s < rl->window_start ||
        now_s - rl->window_start >= rl->interval_s) {
        rl->window_start = now_s;
        rl->printed = 0;
    }
    if (rl->printed >= rl->burst) {
        rl->suppressed++;
        return false;
    }
    rl->printed++;
    log_pending_suppressed = rl->suppressed;
    rl->suppressed = 0;
    return true;
}

bool vn_log_ratelimit_ok(struct vn_log_ratelimit *rl)
{
    return vn_log_ratelimit_ok_at(rl, time(NULL));
}

void fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vn_logv(VN_LOG_ERR, "fatal", fmt, ap);
    va_end(ap);
    exit(1);
}
