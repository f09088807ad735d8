/* run: runs the helper programs the testbed drives (ip, iptables) with
 * posix_spawn, searched in PATH, stdin from /dev/null. Every command line is
 * logged at debug level; a failing one is logged once, at error level, with
 * its exit status and what it wrote on stderr. */
#ifndef TB_RUN_H
#define TB_RUN_H

/* TB_ARGV("ip", "link", "show") is a NULL-terminated argument vector. */
#define TB_ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Runs argv and waits. Returns 0 when it exits with status 0, -1 otherwise.
 * Its stdout is discarded. */
int tb_run(const char *const argv[]);

/* The same as tb_run, keeping stdout: on success *out is a malloc'd,
 * NUL-terminated copy of it (caller frees); on failure *out is NULL. */
int tb_run_output(const char *const argv[], char **out);

#endif
