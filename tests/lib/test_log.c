/* Tests for lib/log.c: line format, levels, sanitizing, truncation, rate
 * limits and fatal(). Logs go to a file in a temporary directory. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_log.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/log", f->dir);
    assert_int_equal(vn_log_init("/usr/sbin/testd", VN_LOG_INFO, f->path), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    vn_log_init("testd", VN_LOG_INFO, NULL); /* closes the file */
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The whole log file; caller frees. */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;

    assert_non_null(fp);
    assert_int_equal(getdelim(&buf, &len, '\0', fp) >= 0 || feof(fp), 1);
    fclose(fp);
    if (buf == NULL)
        buf = strdup("");
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static void test_line_format(void **state)
{
    struct fixture *f = *state;
    regex_t re;
    char *text;

    log_info("hello %d", 42);
    text = slurp(f->path);
    assert_int_equal(
        regcomp(&re,
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                "\\.[0-9]{3}Z testd\\[[0-9]+\\] INFO test_line_format: "
                "hello 42\n$",
                REG_EXTENDED),
        0);
    assert_int_equal(regexec(&re, text, 0, NULL, 0), 0);
    regfree(&re);
    free(text);
}

static void test_levels(void **state)
{
    struct fixture *f = *state;
    char *text;

    log_debug("hidden");
    log_err("shown err");
    vn_log_set_level(VN_LOG_DEBUG);
    assert_int_equal(vn_log_get_level(), VN_LOG_DEBUG);
    log_debug("shown debug");
    vn_log_set_level((enum vn_log_level)42); /* ignored */
    assert_int_equal(vn_log_get_level(), VN_LOG_DEBUG);
    vn_log_set_level(VN_LOG_ERR);
    log_warn("hidden warn");
    text = slurp(f->path);
    assert_null(strstr(text, "hidden"));
    assert_non_null(strstr(text, " ERR test_levels: shown err\n"));
    assert_non_null(strstr(text, " DEBUG test_levels: shown debug\n"));
    assert_int_equal(count_lines(text), 2);
    free(text);
}

static void test_level_names(void **state)
{
    (void)state;
    for (int l = VN_LOG_ERR; l <= VN_LOG_DEBUG; l++)
        assert_int_equal(
            vn_log_level_parse(vn_log_level_name((enum vn_log_level)l)), l);
    assert_int_equal(vn_log_level_parse("WARN"), VN_LOG_WARN);
    assert_int_equal(vn_log_level_parse("verbose"), -1);
    assert_int_equal(vn_log_level_parse(""), -1);
    assert_int_equal(vn_log_level_parse(NULL), -1);
    assert_string_equal(vn_log_level_name((enum vn_log_level)9), "unknown");
}

static void test_control_chars_cannot_forge_lines(void **state)
{
    struct fixture *f = *state;
    char *text;

    log_warn("user sent '%s'", "a\nfake INFO line\r\x1b[31m");
    text = slurp(f->path);
    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, "user sent 'a?fake INFO line??[31m'\n"));
    free(text);
}

static void test_long_message_is_cut(void **state)
{
    struct fixture *f = *state;
    size_t n = 10000;
    char *big = malloc(n + 1), *text;

    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    log_info("%s", big);
    text = slurp(f->path);
    assert_int_equal(count_lines(text), 1);
    assert_true(strlen(text) <= 4096);
    assert_non_null(strstr(text, "xxx...\n"));
    free(text);
    free(big);
}

static void test_ratelimit(void **state)
{
    struct fixture *f = *state;
    struct vn_log_ratelimit rl = {.interval_s = 5, .burst = 3};
    char *text;

    for (int i = 0; i < 3; i++)
        assert_true(vn_log_ratelimit_ok_at(&rl, 1000));
    assert_false(vn_log_ratelimit_ok_at(&rl, 1000));
    assert_false(vn_log_ratelimit_ok_at(&rl, 1004));
    assert_int_equal(rl.suppressed, 2);
    assert_true(vn_log_ratelimit_ok_at(&rl, 1005)); /* new window */
    log_warn("after the pause");
    assert_int_equal(rl.suppressed, 0);
    log_warn("next one");
    text = slurp(f->path);
    assert_non_null(
        strstr(text, "after the pause (2 similar messages suppressed)\n"));
    assert_non_null(strstr(text, "next one\n"));
    assert_null(strstr(text, "next one ("));
    free(text);
}

static void test_ratelimit_macro(void **state)
{
    struct fixture *f = *state;
    char *text;

    for (int i = 0; i < 25; i++)
        log_warn_rl("flood %d", i);
    text = slurp(f->path);
    assert_int_equal(count_lines(text), 10);
    assert_non_null(strstr(text, "flood 9\n"));
    assert_null(strstr(text, "flood 10"));
    free(text);
}

static void test_bad_log_path(void **state)
{
    (void)state;
    assert_int_equal(vn_log_init("testd", VN_LOG_INFO, "/nonexistent/x/log"),
                     -1);
}

static void test_fatal_exits_1(void **state)
{
    struct fixture *f = *state;
    pid_t pid;
    int status = 0;
    char *text;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        fatal("cannot go on: %s", "broken invariant");
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    text = slurp(f->path);
    assert_non_null(
        strstr(text, " ERR fatal: cannot go on: broken invariant\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_chars_cannot_forge_lines,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_message_is_cut, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ratelimit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratelimit_macro, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_log_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fatal_exits_1, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
