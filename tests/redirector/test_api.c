/* Tests for redirector/api.c's link methods on a scheduled port (pcap
 * ports, handlers called through rd_api_methods): the new fields of
 * link.create in the struct and both positional forms, their checks, the
 * node's admission fault (which leaves nothing behind), link.update (live
 * change, unchanged, unknown link, identity fields, refusals that change
 * nothing), and the keys of link.list and link.stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "log.h"
#include "pktio.h"
#include "redirector/api.h"

struct fixture {
    char dir[64], fmt[160], route[128], arp[128];
    struct redirector r;
};

static int always(const char *ifname)
{
    (void)ifname;
    return 1;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fclose(f);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct in_addr a;
    char p[200];

    assert_non_null(fx);
    strcpy(fx->dir, "/tmp/test_api.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    /* Every port reads an empty savefile: nothing but configuration. */
    snprintf(fx->fmt, sizeof(fx->fmt), "pcap:%s/empty,", fx->dir);
    snprintf(fx->route, sizeof(fx->route), "%s/route", fx->dir);
    snprintf(fx->arp, sizeof(fx->arp), "%s/arp", fx->dir);
    touch(fx->route);
    touch(fx->arp);
    snprintf(p, sizeof(p), "pcap:,%s/empty", fx->dir);
    pktio_close(pktio_open(p)); /* writes an empty savefile */
    assert_int_equal(inet_pton(AF_INET, "198.18.0.1", &a), 1);
    rd_table_init(&fx->r.table);
    fx->r.address = a.s_addr;
    fx->r.transport = "tr0";
    fx->r.port_exists = always;
    {
        struct rd_dp_config cfg = {
            .transport = "tr0",
            .address = a.s_addr,
            .port_fmt = fx->fmt,
            .route_path = fx->route,
            .arp_path = fx->arp,
            .port_rate_bps = 100000000,
        };
        fx->r.dp = rd_dp_new(NULL, &fx->r.table, &cfg);
    }
    assert_non_null(fx->r.dp);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[128];

    rd_dp_free(fx->r.dp);
    rd_table_fini(&fx->r.table);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

static const struct vn_rpc_method *method(const char *name)
{
    size_t i = 0;

    while (i + 1 < rd_api_n_methods && strcmp(rd_api_methods[i].name, name))
        i++;
    assert_string_equal(rd_api_methods[i].name, name);
    return &rd_api_methods[i];
}

/* Calls 'name' with 'params' (consumed). Returns the result (caller
 * DECREFs) or NULL with the fault in *code and msg. */
static xmlrpc_value *call(struct fixture *fx, const char *name,
                          xmlrpc_value *params, int *code, char *msg, size_t n)
{
    const struct vn_rpc_caller caller = {0};
    xmlrpc_env env;
    xmlrpc_value *v;

    xmlrpc_env_init(&env);
    v = method(name)->handler(&env, params, &caller, &fx->r);
    *code = env.fault_occurred ? env.fault_code : 0;
    snprintf(msg, n, "%s", env.fault_occurred ? env.fault_string : "");
    if (env.fault_occurred)
        assert_null(v);
    xmlrpc_env_clean(&env);
    xmlrpc_DECREF(params);
    return v;
}

/* Sets member 'name' of the struct in 'params' to 'v' (consumed). */
static xmlrpc_value *with(xmlrpc_value *params, const char *name,
                          xmlrpc_value *v)
{
    xmlrpc_env env;
    xmlrpc_value *st = NULL;

    xmlrpc_env_init(&env);
    xmlrpc_array_read_item(&env, params, 0, &st);
    xmlrpc_struct_set_value(&env, st, name, v);
    assert_false(env.fault_occurred);
    xmlrpc_DECREF(v);
    xmlrpc_DECREF(st);
    xmlrpc_env_clean(&env);
    return params;
}

/* A link struct of slice 's', key 'key', end a on port 'port' toward
 * 198.18.0.2, with the given scheduler fields (negative: left out). */
static xmlrpc_value *link_struct(const char *s, int key, const char *port,
                                 double rate, double ceil, int burst,
                                 int weight, int slice_weight)
{
    xmlrpc_env env;
    xmlrpc_value *st, *p;

    xmlrpc_env_init(&env);
    st = xmlrpc_build_value(&env, "{s:s,s:s,s:i,s:s,s:s,s:s,s:s}", "slice", s,
                            "link", "l1", "key", key, "end", "a", "port", port,
                            "peer", "198.18.0.2", "local_port", "");
    p = xmlrpc_array_new(&env);
    xmlrpc_array_append_item(&env, p, st);
    xmlrpc_DECREF(st);
    if (rate >= 0)
        with(p, "rate_bps", xmlrpc_double_new(&env, rate));
    if (ceil >= 0)
        with(p, "ceil_bps", xmlrpc_double_new(&env, ceil));
    if (burst >= 0)
        with(p, "burst_bytes", xmlrpc_int_new(&env, burst));
    if (weight >= 0)
        with(p, "weight", xmlrpc_int_new(&env, weight));
    if (slice_weight >= 0)
        with(p, "slice_weight", xmlrpc_int_new(&env, slice_weight));
    assert_false(env.fault_occurred);
    xmlrpc_env_clean(&env);
    return p;
}

static const char *state_of(xmlrpc_value *v, char *buf, size_t n)
{
    xmlrpc_env env;
    xmlrpc_value *s = NULL;
    const char *str = NULL;

    xmlrpc_env_init(&env);
    xmlrpc_struct_find_value(&env, v, "state", &s);
    assert_non_null(s);
    xmlrpc_read_string(&env, s, &str);
    snprintf(buf, n, "%s", str);
    free((char *)str);
    xmlrpc_DECREF(s);
    xmlrpc_env_clean(&env);
    return buf;
}

/* 'name' of entry 'key' in the array 'a' (link.list or link.stats) as a
 * double; -1 if the entry or member is missing. */
static double member(xmlrpc_value *a, int key, const char *name)
{
    xmlrpc_env env;
    double d = -1;
    int n;

    xmlrpc_env_init(&env);
    n = xmlrpc_array_size(&env, a);
    for (int i = 0; i < n; i++) {
        xmlrpc_value *e = NULL, *k = NULL, *v = NULL;
        int kv = 0;

        xmlrpc_array_read_item(&env, a, i, &e);
        xmlrpc_struct_find_value(&env, e, "key", &k);
        xmlrpc_read_int(&env, k, &kv);
        if (kv == key) {
            xmlrpc_struct_find_value(&env, e, name, &v);
            if (v != NULL && xmlrpc_value_type(v) == XMLRPC_TYPE_DOUBLE)
                xmlrpc_read_double(&env, v, &d);
            else if (v != NULL && xmlrpc_value_type(v) == XMLRPC_TYPE_BOOL) {
                xmlrpc_bool b = 0;
                xmlrpc_read_bool(&env, v, &b);
                d = b;
            }
            if (v != NULL)
                xmlrpc_DECREF(v);
        }
        xmlrpc_DECREF(k);
        xmlrpc_DECREF(e);
    }
    xmlrpc_env_clean(&env);
    return d;
}

static xmlrpc_value *list(struct fixture *fx, const char *name)
{
    xmlrpc_env env;
    char msg[256];
    int code;
    xmlrpc_value *v;

    xmlrpc_env_init(&env);
    v = call(fx, name, xmlrpc_array_new(&env), &code, msg, sizeof(msg));
    xmlrpc_env_clean(&env);
    assert_int_equal(code, 0);
    return v;
}

static void expect_fault(struct fixture *fx, const char *name,
                         xmlrpc_value *params, int want_code, const char *want)
{
    char msg[512];
    int code;
    xmlrpc_value *v = call(fx, name, params, &code, msg, sizeof(msg));

    if (v != NULL)
        fail_msg("%s succeeded; expected '%s'", name, want);
    assert_int_equal(code, want_code);
    if (strstr(msg, want) == NULL)
        fail_msg("'%s' not in '%s'", want, msg);
}

static void expect_state(struct fixture *fx, const char *name,
                         xmlrpc_value *params, const char *want)
{
    char msg[512], st[32];
    int code;
    xmlrpc_value *v = call(fx, name, params, &code, msg, sizeof(msg));

    if (v == NULL)
        fail_msg("%s: fault %d: %s", name, code, msg);
    assert_string_equal(state_of(v, st, sizeof(st)), want);
    xmlrpc_DECREF(v);
}

static void test_create_fields(void **state)
{
    struct fixture *fx = *state;
    xmlrpc_env env;
    xmlrpc_value *l, *p;

    expect_state(fx, "link.create",
                 link_struct("A", 1, "pa", 30e6, 50e6, 16384, 3, 7), "created");
    /* Exactly the same again: exists; other rates: use link.update. */
    expect_state(fx, "link.create",
                 link_struct("A", 1, "pa", 30e6, 50e6, 16384, 3, 7), "exists");
    expect_fault(fx, "link.create",
                 link_struct("A", 1, "pa", 30e6, 60e6, 16384, 3, 7),
                 VN_FAULT_EXISTS, "use link.update");
    /* Left out: no ceiling, the default burst, weights 1. */
    expect_state(fx, "link.create",
                 link_struct("B", 2, "pb", 5e6, -1, -1, -1, -1), "created");
    l = list(fx, "link.list");
    assert_true(member(l, 1, "rate_bps") == 30e6);
    assert_true(member(l, 1, "ceil_bps") == 50e6);
    assert_true(member(l, 1, "burst_bytes") == 16384);
    assert_true(member(l, 1, "weight") == 3);
    assert_true(member(l, 1, "slice_weight") == 7);
    assert_true(member(l, 2, "ceil_bps") == 0);
    assert_true(member(l, 2, "burst_bytes") == 0);
    assert_true(member(l, 2, "weight") == 1);
    assert_true(member(l, 2, "slice_weight") == 1);
    xmlrpc_DECREF(l);
    /* Positional, 12 fields (Debian's xmlrpc CLI) and 8. */
    xmlrpc_env_init(&env);
    p = xmlrpc_build_value(&env, "(ssissssddiii)", "C", "l1", 3, "a", "pc",
                           "198.18.0.2", "", 1e6, 0.0, 0, 2, 5);
    expect_state(fx, "link.create", p, "created");
    p = xmlrpc_build_value(&env, "(ssissssd)", "D", "l1", 4, "a", "pd",
                           "198.18.0.2", "", 1e6);
    expect_state(fx, "link.create", p, "created");
    xmlrpc_env_clean(&env);
    l = list(fx, "link.list");
    assert_true(member(l, 3, "weight") == 2);
    assert_true(member(l, 3, "slice_weight") == 5);
    assert_true(member(l, 4, "weight") == 1);
    xmlrpc_DECREF(l);
    assert_int_equal(rd_sched_slice_rate(rd_dp_sched(fx->r.dp),
                                         rd_table_slice_id(&fx->r.table, "A"),
                                         NULL, NULL),
                     30000000);
}

static void test_create_checks(void **state)
{
    struct fixture *fx = *state;
    xmlrpc_env env;
    xmlrpc_value *p;

    expect_fault(
        fx, "link.create", link_struct("A", 1, "pa", 30e6, 20e6, -1, -1, -1),
        VN_FAULT_INVALID_ARG, "ceil_bps 20Mbit is below rate_bps 30Mbit");
    expect_fault(fx, "link.create",
                 link_struct("A", 1, "pa", 1e6, -1, -1, 1001, -1),
                 VN_FAULT_INVALID_ARG, "weight 1001 is out of range");
    expect_fault(fx, "link.create",
                 link_struct("A", 1, "pa", 1e6, -1, -1, -1, 2000),
                 VN_FAULT_INVALID_ARG, "slice_weight 2000");
    expect_fault(fx, "link.create",
                 link_struct("A", 1, "pa", 1e6, -1, 1 << 29, -1, -1),
                 VN_FAULT_INVALID_ARG, "burst_bytes");
    xmlrpc_env_init(&env);
    p = with(link_struct("A", 1, "pa", 1e6, -1, -1, -1, -1), "rate_bps",
             xmlrpc_double_new(&env, -5));
    expect_fault(fx, "link.create", p, VN_FAULT_INVALID_ARG,
                 "rate_bps must be 0 or more");
    /* Ints and i8s are numbers too; a fraction where a whole number is
     * meant is not, nor a string; an unknown field. */
    p = with(link_struct("A", 1, "pa", -1, -1, -1, -1, -1), "rate_bps",
             xmlrpc_i8_new(&env, 2000000));
    p = with(p, "ceil_bps", xmlrpc_int_new(&env, 3000000));
    expect_state(fx, "link.create", p, "created");
    p = with(link_struct("A", 2, "pb", 1e6, -1, -1, -1, -1), "burst_bytes",
             xmlrpc_double_new(&env, 1.5));
    expect_fault(fx, "link.create", p, VN_FAULT_INVALID_ARG, "whole number");
    p = with(link_struct("A", 2, "pb", 1e6, -1, -1, -1, -1), "ceil_bps",
             xmlrpc_string_new(&env, "1G"));
    expect_fault(fx, "link.create", p, VN_FAULT_INVALID_ARG,
                 "ceil_bps must be a number");
    p = with(link_struct("A", 2, "pb", 1e6, -1, -1, -1, -1), "priority",
             xmlrpc_int_new(&env, 1));
    expect_fault(fx, "link.create", p, VN_FAULT_INVALID_ARG,
                 "unknown field 'priority'");
    xmlrpc_env_clean(&env);
    assert_int_equal(fx->r.table.n, 1);
}

/* The node's own admission: the port's guarantees may not exceed its rate;
 * a refused create leaves no link behind. */
static void test_admission(void **state)
{
    struct fixture *fx = *state;
    xmlrpc_value *l;

    expect_state(fx, "link.create",
                 link_struct("A", 1, "pa", 70e6, -1, -1, -1, -1), "created");
    expect_fault(fx, "link.create",
                 link_struct("B", 2, "pb", 40e6, -1, -1, -1, -1),
                 VN_FAULT_NO_CAPACITY,
                 "port tr0 carries 100Mbit and its guarantees would sum to "
                 "110Mbit: 10Mbit missing; give rate_bps at most 30Mbit");
    l = list(fx, "link.list");
    assert_true(member(l, 2, "rate_bps") == -1); /* not there */
    xmlrpc_DECREF(l);
    assert_null(rd_table_port_owner(&fx->r.table, "pb"));
    expect_state(fx, "link.create",
                 link_struct("B", 2, "pb", 30e6, -1, -1, -1, -1), "created");
}

static void test_update(void **state)
{
    struct fixture *fx = *state;
    xmlrpc_value *l, *p;
    xmlrpc_env env;

    expect_state(fx, "link.create",
                 link_struct("A", 1, "pa", 30e6, 0, -1, -1, -1), "created");
    expect_state(fx, "link.create",
                 link_struct("B", 2, "pb", 60e6, 0, -1, -1, -1), "created");
    expect_state(fx, "link.update",
                 link_struct("A", 1, "pa", 30e6, 0, -1, -1, -1), "unchanged");
    /* Past the port: refused, nothing changed. */
    expect_fault(
        fx, "link.update", link_struct("A", 1, "pa", 50e6, 0, -1, -1, -1),
        VN_FAULT_NO_CAPACITY, "10Mbit missing; give rate_bps at most 40Mbit");
    l = list(fx, "link.list");
    assert_true(member(l, 1, "rate_bps") == 30e6);
    xmlrpc_DECREF(l);
    /* Lower B, then raise A, change its ceiling, burst and weights. */
    expect_state(fx, "link.update",
                 link_struct("B", 2, "pb", 40e6, 0, -1, -1, -1), "updated");
    expect_state(fx, "link.update",
                 link_struct("A", 1, "pa", 50e6, 80e6, 32768, 4, 9), "updated");
    l = list(fx, "link.list");
    assert_true(member(l, 1, "rate_bps") == 50e6);
    assert_true(member(l, 1, "ceil_bps") == 80e6);
    assert_true(member(l, 1, "burst_bytes") == 32768);
    assert_true(member(l, 1, "weight") == 4);
    assert_true(member(l, 1, "slice_weight") == 9);
    xmlrpc_DECREF(l);
    {
        uint32_t n, w;
        uint64_t g =
            rd_sched_slice_rate(rd_dp_sched(fx->r.dp),
                                rd_table_slice_id(&fx->r.table, "A"), &n, &w);

        assert_int_equal(g, 50000000);
        assert_int_equal(w, 9);
    }
    /* Unknown link; an identifying field that differs. */
    expect_fault(fx, "link.update",
                 link_struct("A", 9, "px", 1e6, 0, -1, -1, -1),
                 VN_FAULT_NOT_FOUND, "no link sliver with key 9 end a");
    expect_fault(fx, "link.update",
                 link_struct("A", 1, "pz", 1e6, 0, -1, -1, -1),
                 VN_FAULT_INVALID_ARG, "port differs");
    expect_fault(fx, "link.update",
                 link_struct("Z", 1, "pa", 1e6, 0, -1, -1, -1),
                 VN_FAULT_INVALID_ARG, "slice differs");
    xmlrpc_env_init(&env);
    p = with(link_struct("A", 1, "pa", 50e6, 80e6, 32768, 4, 9), "peer",
             xmlrpc_string_new(&env, "198.18.0.3"));
    expect_fault(fx, "link.update", p, VN_FAULT_INVALID_ARG, "peer differs");
    /* Positional, as the xmlrpc CLI sends it. */
    p = xmlrpc_build_value(&env, "(ssissssddiii)", "A", "l1", 1, "a", "pa",
                           "198.18.0.2", "", 20e6, 0.0, 0, 1, 1);
    expect_state(fx, "link.update", p, "updated");
    xmlrpc_env_clean(&env);
}

static void test_stats_keys(void **state)
{
    struct fixture *fx = *state;
    xmlrpc_env env;
    xmlrpc_value *s, *p;
    static const char *const keys[] = {
        "achieved_bps", "window_ns",          "enq_packets",  "enq_bytes",
        "sent_packets", "sent_bytes",         "drops_own",    "drops_own_bytes",
        "drops_others", "drops_others_bytes", "delay_p50_ns", "delay_p99_ns",
        "delay_max_ns", "queued_packets",     "queued_bytes",
    };

    expect_state(fx, "link.create",
                 link_struct("A", 1, "pa", 30e6, 0, -1, -1, -1), "created");
    xmlrpc_env_init(&env);
    p = xmlrpc_build_value(&env, "({s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:d})", "slice",
                           "L", "link", "l2", "key", 5, "end", "local", "port",
                           "p1", "local_port", "p2", "peer", "", "rate_bps",
                           1e6);
    expect_state(fx, "link.create", p, "created");
    xmlrpc_env_clean(&env);
    s = list(fx, "link.stats");
    assert_true(member(s, 1, "guaranteed_bps") == 30e6);
    assert_true(member(s, 1, "scheduled") == 1);
    assert_true(member(s, 1, "window_ns") == 1e9);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (member(s, 1, keys[i]) < 0)
            fail_msg("link.stats has no %s", keys[i]);
    /* A local link does not cross the transport: not scheduled. */
    assert_true(member(s, 5, "scheduled") == 0);
    assert_true(member(s, 5, "guaranteed_bps") == 1e6);
    assert_true(member(s, 5, "achieved_bps") == -1);
    assert_true(member(s, 5, "tx_packets") == 0);
    xmlrpc_DECREF(s);
    s = list(fx, "dataplane.stats");
    xmlrpc_DECREF(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_keys, setup, teardown),
    };
    vn_log_init("test_api", VN_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
