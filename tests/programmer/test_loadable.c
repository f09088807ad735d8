/* What loadable modules rest on, without a compiler: descriptor checks,
 * fp_dl's refusals (not an ELF file, a library that is no module), the
 * control channel (messages, descriptor passing, timeouts, a closed peer)
 * and fp_runtime_swap (the new module takes over between bursts, a module
 * refusing its parameters leaves the old one running). Loading a real
 * module from a .so is covered by tests/integration/test_fastpath_modules.sh,
 * which builds examples/module. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "frames.h"
#include "programmer/fp_ctl.h"
#include "programmer/fp_dl.h"
#include "programmer/fp_modules.h"
#include "programmer/fp_run.h"

static void *ok_init(const struct vnode_env *env,
                     const struct vnode_param *params, int n, char **err)
{
    (void)env, (void)params, (void)n, (void)err;
    return (void *)1;
}

static void ok_process(void *s, struct vnode_batch *b, struct vnode_meta *m)
{
    (void)s, (void)b, (void)m;
}

static void ok_fini(void *s)
{
    (void)s;
}

static void test_check_desc(void **st)
{
    static const char *const good_keys[] = {"a_b", "c1", NULL};
    static const char *const bad_keys[] = {"Upper", NULL};
    struct vnode_module m = {.abi = VNODE_MODULE_ABI,
                             .name = "my-mod_1",
                             .summary = "x",
                             .param_keys = good_keys,
                             .init = ok_init,
                             .process = ok_process,
                             .fini = ok_fini};
    char *msg;

    (void)st;
    assert_null(fp_module_check_desc(&m));
    for (size_t i = 0; i < 4; i++)
        assert_null(fp_module_check_desc((const struct vnode_module *[]){
            &vnode_mod_bridge, &vnode_mod_router, &vnode_mod_nat,
            &vnode_mod_firewall}[i]));
    struct {
        struct vnode_module m;
        const char *msg;
    } bad[] = {
        {m, "module ABI 1"}, {m, "name"},       {m, "name"},
        {m, "no summary"},   {m, "lacks init"}, {m, "lacks init"},
        {m, "param_keys"},
    };
    bad[0].m.abi = 1;
    bad[1].m.name = "";
    bad[2].m.name = "Has Space";
    bad[3].m.summary = NULL;
    bad[4].m.process = NULL;
    bad[5].m.fini = NULL;
    bad[6].m.param_keys = bad_keys;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        msg = fp_module_check_desc(&bad[i].m);
        if (msg == NULL || strstr(msg, bad[i].msg) == NULL)
            fail_msg("case %zu: got '%s', want '%s'", i, msg, bad[i].msg);
        free(msg);
    }
}

static void test_dl_refusals(void **st)
{
    char path[] = "/tmp/test_loadable.XXXXXX", *err = NULL;
    int fd = mkstemp(path);
    const char *libs[] = {"/lib/x86_64-linux-gnu/libm.so.6",
                          "/usr/lib/x86_64-linux-gnu/libm.so.6",
                          "/lib/aarch64-linux-gnu/libm.so.6",
                          "/lib64/libm.so.6"};

    (void)st;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not an ELF object\n", 18), 18);
    assert_null(fp_dl_open(path, &err));
    assert_non_null(strstr(err, "cannot load it"));
    assert_non_null(strstr(err, path));
    free(err);
    close(fd);
    unlink(path);
    assert_null(fp_dl_open("/nonexistent/x.so", &err));
    assert_non_null(strstr(err, "No such file"));
    free(err);
    /* a real shared object that is no module */
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        if (access(libs[i], R_OK) != 0)
            continue;
        assert_null(fp_dl_open(libs[i], &err));
        assert_non_null(strstr(err, "no symbol 'vnode_module_desc'"));
        free(err);
        return;
    }
    skip();
}

static void test_ctl_channel(void **st)
{
    int sv[2], fd = -1;
    char buf[128];
    const char *why;

    (void)st;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
                     0);
    /* nothing waiting */
    assert_int_equal(fp_ctl_recv(sv[1], buf, sizeof(buf), &fd), -1);
    /* a message with a descriptor: the receiver gets its own copy */
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_int_equal(fp_ctl_send(sv[0], "load", devnull), 0);
    assert_int_equal(fp_ctl_recv(sv[1], buf, sizeof(buf), &fd), 4);
    assert_string_equal(buf, "load");
    assert_true(fd >= 0 && fd != devnull);
    assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    close(fd);
    close(devnull);
    /* a stale reply is drained before a call; then no answer: timeout */
    assert_int_equal(fp_ctl_send(sv[1], "ok stale", -1), 0);
    assert_int_equal(
        fp_ctl_call(sv[0], "stats", -1, buf, sizeof(buf), 50, &why), -1);
    assert_non_null(strstr(why, "did not answer"));
    assert_int_equal(fp_ctl_recv(sv[1], buf, sizeof(buf), NULL), 5);
    /* a closed peer */
    close(sv[1]);
    assert_int_equal(
        fp_ctl_call(sv[0], "stats", -1, buf, sizeof(buf), 1000, &why), -1);
    assert_true(strstr(why, "closed") != NULL);
    close(sv[0]);
}

/* ---- swapping modules in a runtime ------------------------------------- */

struct sent {
    int n[2];
};

static int capture_send(void *ctx, int port, const struct pktio_pkt *pkts,
                        int n)
{
    struct sent *s = ctx;

    (void)pkts;
    s->n[port] += n;
    return n;
}

static void test_swap(void **st)
{
    const char *names[] = {"l1", "l2"};
    const uint8_t macs[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    const struct vnode_param none[1] = {{"x", "y"}};
    const struct vnode_param fw[] = {{"rule", "1:drop:in:udp:any:any:any:9"}};
    static uint8_t f[2][1600];
    struct pktio_pkt rx[1];
    struct sent s = {{0, 0}};
    char *err = NULL, buf[512];
    struct fp_runtime *rt =
        fp_runtime_new(&vnode_mod_bridge, names, macs, 2, capture_send, &s);

    (void)st;
    assert_int_equal(fp_runtime_start(rt, NULL, 0, &err), 0);
    assert_int_equal(fp_runtime_module_stats(rt, buf, sizeof(buf)), 0);
    /* the bridge floods a UDP frame to port 9 */
    uint32_t len =
        build_l4(f[0], (const uint8_t[]){2, 9, 9, 9, 9, 9},
                 (const uint8_t[]){2, 8, 8, 8, 8, 8}, ipv4(10, 0, 0, 1),
                 ipv4(10, 0, 0, 2), 17, 5, 9, 0, 10);
    rx[0] = (struct pktio_pkt){f[0], len, 0};
    fp_runtime_input(rt, 0, rx, 1, 0);
    assert_int_equal(s.n[1], 1);
    /* a module refusing its parameters: the bridge stays */
    assert_int_equal(fp_runtime_swap(rt, &vnode_mod_firewall, none, 1, &err),
                     -1);
    assert_non_null(strstr(err, "no parameter 'x'"));
    free(err);
    assert_ptr_equal(fp_runtime_module(rt), &vnode_mod_bridge);
    fp_runtime_input(rt, 0, rx, 1, 0);
    assert_int_equal(s.n[1], 2);
    /* the firewall takes over: the same frame is dropped now */
    assert_int_equal(fp_runtime_swap(rt, &vnode_mod_firewall, fw, 1, &err), 0);
    assert_ptr_equal(fp_runtime_module(rt), &vnode_mod_firewall);
    fp_runtime_input(rt, 0, rx, 1, 1);
    assert_int_equal(s.n[1], 2);
    assert_int_equal(fp_runtime_stats(rt, 0)->dropped, 1);
    assert_true(fp_runtime_module_stats(rt, buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "rule.1.hits=1\n"));
    /* stats that do not fit: the length wanted, a terminated prefix */
    size_t want = fp_runtime_module_stats(rt, buf, 10);
    assert_true(want > 10);
    assert_int_equal(strlen(buf), 9);
    fp_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_desc),
        cmocka_unit_test(test_dl_refusals),
        cmocka_unit_test(test_ctl_channel),
        cmocka_unit_test(test_swap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
