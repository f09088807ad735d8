/* files: the few file-system chores of the testbed tool. */
#ifndef TB_FILES_H
#define TB_FILES_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* 'path' made absolute against the current directory (no symlinks
 * resolved, the file need not exist). Caller frees; NULL on error. */
char *tb_abspath(const char *path);

/* Removes 'path' and everything below it, not following symlinks. Returns
 * 0, also when it did not exist; -1 (logged) otherwise. */
int tb_rm_rf(const char *path);

/* Writes 'text' to a new file 'path' with 'mode' (fails if it exists). */
int tb_write_new(const char *path, const char *text, mode_t mode);

/* Copies the last 'lines' lines of 'path' to 'out', each indented. */
void tb_print_tail(FILE *out, const char *path, int lines);

/* 2 * n_bytes random hex digits and a NUL into buf (size >= 2n + 1).
 * Returns 0, or -1 when the kernel gives no randomness. */
int tb_random_hex(char *buf, size_t n_bytes);

#endif
