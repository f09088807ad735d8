/* files: absolute paths, rm -rf, new files, log tails, random tokens. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"

char *tb_abspath(const char *path)
{
    char cwd[PATH_MAX];
    char *abs = NULL;

    if (path[0] == '/')
        return strdup(path);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    if (asprintf(&abs, "%s/%s", cwd, path) < 0)
        return NULL;
    return abs;
}

static int rm_one(const char *path, const struct stat *st, int type,
                  struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT) {
        log_err("cannot remove %s: %m", path);
        return -1;
    }
    return 0;
}

int tb_rm_rf(const char *path)
{
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return 0;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int tb_write_new(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    size_t len = strlen(text);
    int rc = 0;

    if (fd < 0) {
        log_err("%s: %m", path);
        return -1;
    }
    if (write(fd, text, len) != (ssize_t)len) {
        log_err("%s: write: %m", path);
        rc = -1;
    }
    close(fd);
    return rc;
}

void tb_print_tail(FILE *out, const char *path, int lines)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    long size, start;
    size_t n;
    int seen = 0;

    if (f == NULL) {
        fprintf(out, "    (no %s: %s)\n", path, strerror(errno));
        return;
    }
    /* The last 16 KiB hold the last lines of any sane log. */
    fseek(f, 0, SEEK_END);
    if ((size = ftell(f)) < 0)
        size = 0;
    start = size > 16384 ? size - 16384 : 0;
    fseek(f, start, SEEK_SET);
    buf = malloc((size_t)(size - start) + 1);
    n = buf != NULL ? fread(buf, 1, (size_t)(size - start), f) : 0;
    fclose(f);
    if (buf == NULL)
        return;
    buf[n] = '\0';
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    for (size_t i = n; i > 0; i--)
        if (buf[i - 1] == '\n' && ++seen == lines) {
            memmove(buf, buf + i, n - i + 1);
            break;
        }
    if (buf[0] == '\0')
        fprintf(out, "    (%s is empty)\n", path);
    for (char *line = strtok(buf, "\n"); line != NULL;
         line = strtok(NULL, "\n"))
        fprintf(out, "    %s\n", line);
    free(buf);
}

int tb_random_hex(char *buf, size_t n_bytes)
{
    unsigned char raw[64];

    buf[0] = '\0';
    if (n_bytes > sizeof(raw) || getrandom(raw, n_bytes, 0) != (ssize_t)n_bytes)
        return -1;
    for (size_t i = 0; i < n_bytes; i++)
        snprintf(buf + 2 * i, 3, "%02x", raw[i]);
    explicit_bzero(raw, sizeof(raw));
    return 0;
}
