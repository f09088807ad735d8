/* Unit tests for snc/ctl.c and snc/store.c: transactions, rollback,
 * recovery after a crash, capacity accounting that survives restarts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snc/ctl.h"
#include "log.h"

static const char TOPO[] =
    "<topology name='t' xmlns='urn:vnode:topology:1'>"
    "<vnode name='vn1' address='198.18.1.1' mgmt='198.19.0.11'>"
    " <redirector port-bandwidth='1Gbit'/>"
    " <programmer fastpath-slots='4' vcpus='4' memory='1GiB'/></vnode>"
    "<vnode name='vn2' address='198.18.2.1' mgmt='198.19.0.12'>"
    " <redirector port-bandwidth='1Gbit'/>"
    " <programmer fastpath-slots='4' vcpus='4' memory='1GiB'/></vnode>"
    "<router name='core'/>"
    "<link a='vn1' b='core' bandwidth='1Gbit'/>"
    "<link a='vn2' b='core' bandwidth='1Gbit'/>"
    "</topology>";

#define SLICE(name, rate)                                                      \
    "<slice name='" name "' xmlns='urn:vnode:slice:1'>"                        \
    "<node id='a' type='fastpath' vnode='vn1'><module name='router'/></node>"  \
    "<node id='b' type='fastpath' vnode='vn2'><module name='router'/></node>"  \
    "<link id='l1' a='a' b='b' bandwidth='" rate "'/></slice>"

/* A driver that records calls and fails create number 'fail_at'. */
struct fake {
    int creates, destroys, fail_at, updates, fail_update;
    char destroyed[64][80];
    char held[64][128]; /* what the "node" holds: "slice/sliver" */
    int n_held;
};

static int fake_create(void *ctx, const struct store_slice *s,
                       const struct store_sliver *v, char **err)
{
    struct fake *f = ctx;

    if (++f->creates == f->fail_at) {
        *err = strdup("node said no");
        return -1;
    }
    if (f->n_held < 64)
        snprintf(f->held[f->n_held++], 128, "%s/%s", s->name, v->name);
    return 0;
}

static int fake_update(void *ctx, const struct store_slice *s,
                       const struct store_sliver *v, char **err)
{
    struct fake *f = ctx;

    (void)s, (void)v;
    f->updates++;
    if (f->fail_update) {
        *err = strdup("redirector said no");
        return -1;
    }
    return 0;
}

static int fake_present(void *ctx, const char *host, char ***names)
{
    struct fake *f = ctx;
    int n = 0;

    *names = calloc(64, sizeof(char *));
    for (int i = 0; i < f->n_held; i++)
        if (f->held[i][0] != '\0')
            (*names)[n++] = strdup(f->held[i]);
    (void)host;
    return n;
}

static int fake_destroy(void *ctx, const struct store_slice *s,
                        const struct store_sliver *v, char **err)
{
    struct fake *f = ctx;

    (void)err;
    for (int i = 0; i < f->n_held; i++) {
        char name[128];
        snprintf(name, sizeof(name), "%s/%s", s->name, v->name);
        if (strcmp(f->held[i], name) == 0)
            f->held[i][0] = '\0';
    }
    if (f->destroys < 64)
        snprintf(f->destroyed[f->destroys], 80, "%s", v->name);
    f->destroys++;
    return 0;
}

struct fx {
    char db[64];
    struct topo *t;
    struct store *st;
    struct fake fake;
    struct sliver_driver drv;
    struct ctl c;
};

static void open_all(struct fx *f)
{
    char *err = NULL;

    f->st = store_open(f->db, 0, &err);
    assert_non_null(f->st);
    memset(&f->c, 0, sizeof(f->c));
    assert_int_equal(ctl_init(&f->c, f->t, f->st, &f->drv), 0);
}

static void close_all(struct fx *f)
{
    ctl_fini(&f->c);
    store_close(f->st);
    f->st = NULL;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char *err;
    int fd;

    snprintf(f->db, sizeof(f->db), "/tmp/test_ctl_XXXXXX");
    fd = mkstemp(f->db);
    if (fd < 0)
        return -1;
    close(fd);
    err = topo_parse(TOPO, sizeof(TOPO) - 1, &f->t);
    if (err != NULL)
        return -1;
    f->drv = (struct sliver_driver){.name = "fake",
                                    .create = fake_create,
                                    .destroy = fake_destroy,
                                    .update = fake_update,
                                    .present = fake_present,
                                    .ctx = &f->fake};
    open_all(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char p[80];

    close_all(f);
    topo_free(f->t);
    unlink(f->db);
    snprintf(p, sizeof(p), "%s-wal", f->db);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", f->db);
    unlink(p);
    free(f);
    return 0;
}

static int create(struct fx *f, const char *xml, enum vn_fault *code)
{
    struct ctl_err e = {0};
    int rc = ctl_create(&f->c, "alice", xml, strlen(xml), 1000, &e);

    if (code)
        *code = e.code;
    free(e.msg);
    return rc;
}

static void test_create_delete(void **state)
{
    struct fx *f = *state;
    struct store_slice *s = NULL;
    struct ctl_err e = {0};

    assert_int_equal(create(f, SLICE("s1", "100Mbit"), NULL), 0);
    assert_int_equal(store_slice_load(f->st, "s1", &s), 1);
    assert_int_equal(s->state, SLICE_READY);
    /* node:a node:b link:l1:a link:l1:b */
    assert_int_equal(s->n_slivers, 4);
    for (size_t i = 0; i < s->n_slivers; i++)
        assert_int_equal(s->slivers[i].state, SLIVER_READY);
    assert_string_equal(s->slivers[2].name, "link:l1:a");
    assert_string_equal(s->slivers[2].host, "vn1");
    /* Both halves of a link share one GRE key; nodes have none. */
    assert_int_not_equal(s->slivers[2].key, 0);
    assert_int_equal(s->slivers[2].key, s->slivers[3].key);
    assert_int_equal(s->slivers[0].key, 0);
    assert_string_equal(s->owner, "alice");
    assert_int_equal(s->lease_end, 1000 + 24 * 3600);
    store_slice_free(s);
    assert_int_equal(f->c.usage->port_bps[0], 100000000ULL);
    assert_int_equal(f->c.usage->slots[1], 1);

    /* Another user cannot delete it; the owner can. */
    assert_int_equal(ctl_delete(&f->c, "bob", "s1", &e), -1);
    assert_int_equal(e.code, VN_FAULT_NOT_FOUND);
    free(e.msg);
    assert_int_equal(ctl_delete(&f->c, "alice", "s1", &e), 0);
    assert_int_equal(f->fake.destroys, 4);
    assert_string_equal(f->fake.destroyed[0], "link:l1:b");
    assert_string_equal(f->fake.destroyed[3], "node:a");
    assert_int_equal(store_slice_load(f->st, "s1", &s), 0);
    assert_int_equal(f->c.usage->port_bps[0], 0);
    assert_int_equal(f->c.usage->slots[1], 0);
}

static void test_duplicate_and_capacity(void **state)
{
    struct fx *f = *state;
    enum vn_fault code;

    assert_int_equal(create(f, SLICE("s1", "600Mbit"), NULL), 0);
    assert_int_equal(create(f, SLICE("s1", "1Mbit"), &code), -1);
    assert_int_equal(code, VN_FAULT_EXISTS);
    assert_int_equal(create(f, SLICE("s2", "600Mbit"), &code), -1);
    assert_int_equal(code, VN_FAULT_NO_CAPACITY);
    assert_int_equal(create(f, SLICE("s3", "400Mbit"), NULL), 0);
    assert_int_equal(f->c.usage->port_bps[1], 1000000000ULL);
    assert_int_equal(create(f, "<slice", &code), -1);
    assert_int_equal(code, VN_FAULT_INVALID_SPEC);
}

static void test_rollback_on_node_failure(void **state)
{
    struct fx *f = *state;
    struct store_slice *s = NULL;
    enum vn_fault code;

    f->fake.fail_at = 3; /* node:a, node:b ok; link:l1:a fails */
    assert_int_equal(create(f, SLICE("s1", "100Mbit"), &code), -1);
    assert_int_equal(code, VN_FAULT_NODE);
    /* The failed half and the two nodes are destroyed, newest first. */
    assert_int_equal(f->fake.destroys, 3);
    assert_string_equal(f->fake.destroyed[0], "link:l1:a");
    assert_string_equal(f->fake.destroyed[2], "node:a");
    assert_int_equal(store_slice_load(f->st, "s1", &s), 0);
    assert_int_equal(f->c.usage->port_bps[0], 0);
    assert_int_equal(f->c.usage->slots[0], 0);
}

static void test_keys_never_reused(void **state)
{
    struct fx *f = *state;
    struct store_slice *s = NULL;
    struct ctl_err e = {0};
    uint32_t k1, k2;

    assert_int_equal(create(f, SLICE("s1", "10Mbit"), NULL), 0);
    assert_int_equal(store_slice_load(f->st, "s1", &s), 1);
    k1 = s->slivers[2].key;
    store_slice_free(s);
    assert_int_equal(ctl_delete(&f->c, "alice", "s1", &e), 0);
    assert_int_equal(create(f, SLICE("s1", "10Mbit"), NULL), 0);
    assert_int_equal(store_slice_load(f->st, "s1", &s), 1);
    k2 = s->slivers[2].key;
    store_slice_free(s);
    assert_true(k2 > k1);
}

static void test_restart_keeps_state(void **state)
{
    struct fx *f = *state;

    assert_int_equal(create(f, SLICE("s1", "250Mbit"), NULL), 0);
    close_all(f);
    open_all(f);
    assert_int_equal(f->c.usage->port_bps[0], 250000000ULL);
    assert_int_equal(f->c.usage->link_bps[1], 250000000ULL);
    assert_int_equal(f->c.usage->slots[0], 1);
}

/* A crash in the middle of a create leaves the slice 'creating' with some
 * slivers ready: restart rolls it back and frees its capacity. */
static void test_recover_interrupted_create(void **state)
{
    struct fx *f = *state;
    struct store_slice *s = NULL;

    assert_int_equal(create(f, SLICE("s1", "100Mbit"), NULL), 0);
    assert_int_equal(create(f, SLICE("s2", "100Mbit"), NULL), 0);
    /* Rewind s2 to how a crash after its second step would leave it. */
    assert_int_equal(store_slice_set_state(f->st, "s2", SLICE_CREATING), 0);
    assert_int_equal(store_sliver_set_state(f->st, "s2", "link:l1:a",
                                            SLIVER_PLANNED), 0);
    assert_int_equal(store_sliver_set_state(f->st, "s2", "link:l1:b",
                                            SLIVER_PLANNED), 0);
    close_all(f);
    f->fake.destroys = 0;
    open_all(f);
    assert_int_equal(f->fake.destroys, 2); /* only what may exist */
    assert_string_equal(f->fake.destroyed[0], "node:b");
    assert_int_equal(store_slice_load(f->st, "s2", &s), 0);
    assert_int_equal(store_slice_load(f->st, "s1", &s), 1);
    store_slice_free(s);
    assert_int_equal(f->c.usage->port_bps[0], 100000000ULL);
    assert_int_equal(f->c.usage->slots[0], 1);
}

/* A node daemon that restarts has lost its slivers: resync re-creates
 * exactly the ready ones it lacks. */
static void test_resync_after_node_restart(void **state)
{
    struct fx *f = *state;

    assert_int_equal(create(f, SLICE("s1", "100Mbit"), NULL), 0);
    assert_int_equal(ctl_resync(&f->c), 0);
    f->fake.n_held = 0; /* the node restarted empty */
    f->fake.creates = 0;
    /* Both VNodes answer with nothing: 2 slivers on each are re-created. */
    assert_int_equal(ctl_resync(&f->c), 4);
    assert_int_equal(f->fake.creates, 4);
    assert_int_equal(ctl_resync(&f->c), 0);
}

static int modify(struct fx *f, const char *owner, const char *k,
                  const char *v, enum vn_fault *code, char **msg)
{
    const char *kv[2] = {k, v};
    struct ctl_err e = {0};
    int rc = ctl_modify_link(&f->c, owner, "s1", "l1", kv, 1, &e);

    if (code)
        *code = e.code;
    if (msg)
        *msg = e.msg;
    else
        free(e.msg);
    return rc;
}

/* Live change of a link's guarantee: admitted against the free capacity of
 * both ports and the path, applied to the store, the accounting and both
 * redirector halves together; a redirector's refusal undoes it all. */
static void test_modify_link(void **state)
{
    struct fx *f = *state;
    struct store_slice *s = NULL;
    enum vn_fault code;
    char *msg = NULL;

    assert_int_equal(create(f, SLICE("s1", "100Mbit"), NULL), 0);
    assert_int_equal(modify(f, "alice", "bandwidth", "400Mbit", NULL, NULL), 0);
    assert_int_equal(f->fake.updates, 2);
    assert_int_equal(f->c.usage->port_bps[0], 400000000ULL);
    assert_int_equal(f->c.usage->link_bps[1], 400000000ULL);
    assert_int_equal(store_slice_load(f->st, "s1", &s), 1);
    assert_non_null(strstr(s->spec, "bandwidth=\"400Mbit\""));
    store_slice_free(s);

    /* 600Mbit more than the 1Gbit ports have left: refused, unchanged. */
    assert_int_equal(modify(f, "alice", "bandwidth", "1001Mbit", &code, &msg),
                     -1);
    assert_int_equal(code, VN_FAULT_NO_CAPACITY);
    assert_non_null(strstr(msg, "link 'l1': the redirector port of vn1 has "
                                "600Mbit free, the change needs 601Mbit more"));
    free(msg);
    assert_int_equal(f->c.usage->port_bps[0], 400000000ULL);

    /* Bad values get the parser's message; others' slices are not found. */
    assert_int_equal(modify(f, "alice", "bandwidth", "fast", &code, &msg), -1);
    assert_int_equal(code, VN_FAULT_INVALID_SPEC);
    assert_non_null(strstr(msg, "bandwidth 'fast' is not a rate"));
    free(msg);
    assert_int_equal(modify(f, "bob", "bandwidth", "1Mbit", &code, NULL), -1);
    assert_int_equal(code, VN_FAULT_NOT_FOUND);

    /* Lowering frees capacity; a refusing redirector undoes everything. */
    assert_int_equal(modify(f, "alice", "bandwidth", "50Mbit", NULL, NULL), 0);
    assert_int_equal(f->c.usage->port_bps[1], 50000000ULL);
    f->fake.fail_update = 1;
    assert_int_equal(modify(f, "alice", "bandwidth", "70Mbit", &code, NULL),
                     -1);
    assert_int_equal(code, VN_FAULT_NODE);
    assert_int_equal(f->c.usage->port_bps[1], 50000000ULL);
    assert_int_equal(store_slice_load(f->st, "s1", &s), 1);
    assert_non_null(strstr(s->spec, "bandwidth=\"50Mbit\""));
    store_slice_free(s);
    /* The accounting survives a restart exactly. */
    close_all(f);
    f->fake.fail_update = 0;
    open_all(f);
    assert_int_equal(f->c.usage->port_bps[1], 50000000ULL);
    assert_int_equal(f->c.usage->link_bps[0], 50000000ULL);
}

static void test_lease_expiry(void **state)
{
    struct fx *f = *state;
    struct store_slice *s = NULL;

    assert_int_equal(create(f, SLICE("s1", "100Mbit"), NULL), 0);
    assert_int_equal(ctl_tick(&f->c, 1000 + 3600), 0);
    assert_int_equal(ctl_tick(&f->c, 1000 + 24 * 3600), 1);
    assert_int_equal(store_slice_load(f->st, "s1", &s), 0);
    assert_int_equal(f->c.usage->slots[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_and_capacity, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_on_node_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_keys_never_reused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recover_interrupted_create, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resync_after_node_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_modify_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_expiry, setup, teardown),
    };
    vn_log_init("test_ctl", VN_LOG_ERR, NULL);
    return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
