/* log: leveled logging to stderr (or a file), one line per message,
 * prefixed with time, program, level and the calling function. */
#ifndef VN_LOG_H
#define VN_LOG_H

#include <stdbool.h>
#include <time.h>

enum vn_log_level { VN_LOG_ERR = 0, VN_LOG_WARN, VN_LOG_INFO, VN_LOG_DEBUG };

/* 'prog' is borrowed and must outlive logging (a literal or argv[0]).
 * 'path' NULL logs to stderr; otherwise appends to that file. */
int vn_log_init(const char *prog, enum vn_log_level level, const char *path);
void vn_log_set_level(enum vn_log_level level);
enum vn_log_level vn_log_get_level(void);
/* "err", "warn", "info", "debug" -> level; -1 if unknown. */
int vn_log_level_parse(const char *name);
const char *vn_log_level_name(enum vn_log_level level);

void vn_log(enum vn_log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rate limit for messages that input from the network can trigger: allows
 * 'burst' messages per 'interval_s'; returns true when this one may print and
 * counts the suppressed ones (reported with the next printed message). */
struct vn_log_ratelimit {
    int interval_s, burst;
    time_t window_start;
    int printed, suppressed;
};
bool vn_log_ratelimit_ok(struct vn_log_ratelimit *rl);
/* The same with the clock passed in (for tests). */
bool vn_log_ratelimit_ok_at(struct vn_log_ratelimit *rl, time_t now_s);

#define log_err(...)   vn_log(VN_LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...)  vn_log(VN_LOG_WARN, __func__, __VA_ARGS__)
#define log_info(...)  vn_log(VN_LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) vn_log(VN_LOG_DEBUG, __func__, __VA_ARGS__)
/* Logs at most 10 per 5 s from this call site. */
#define log_warn_rl(...)                                                       \
    do {                                                                       \
        static struct vn_log_ratelimit rl_ = {.interval_s = 5, .burst = 10};   \
        if (vn_log_ratelimit_ok(&rl_))                                         \
            vn_log(VN_LOG_WARN, __func__, __VA_ARGS__);                        \
    } while (0)

/* Only for start-up failures and broken internal invariants; never for input
 * from the network. Logs and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
