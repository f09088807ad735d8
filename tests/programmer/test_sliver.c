/* programmerd's pure logic: decoding sliver.create (types, unknown and
 * missing members, the XML string form), validation of every field, spec
 * equality, names, cgroup paths and values, and the restart policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>

#include <cmocka.h>

#include "programmer/api.h"
#include "programmer/cgroup.h"
#include "programmer/sliver.h"

/* ---- building requests ------------------------------------------------ */

static xmlrpc_env env;

static xmlrpc_value *port(const char *ifname, const char *host,
                          const char *addr)
{
    return xmlrpc_build_value(&env, "{s:s,s:s,s:s}", "ifname", ifname,
                              "host_port", host, "address", addr);
}

/* A valid container request with two routes. */
static xmlrpc_value *container_req(void)
{
    xmlrpc_value *ports = xmlrpc_array_new(&env), *routes, *st, *p;

    p = port("l1", "k0000002aa", "10.0.1.2/24");
    xmlrpc_array_append_item(&env, ports, p);
    xmlrpc_DECREF(p);
    routes = xmlrpc_build_value(&env, "({s:s,s:s}{s:s,s:s})", "to",
                                "10.0.2.0/24", "via", "10.0.1.1", "to",
                                "default", "via", "10.0.1.254");
    st = xmlrpc_build_value(&env, "{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:A,s:A,s:()}",
                            "slice", "exp1", "id", "c1", "type", "container",
                            "command", "sleep 1000", "module", "", "vcpus", 1,
                            "memory_mib", 64, "ports", ports, "routes", routes,
                            "params");
    xmlrpc_DECREF(ports);
    xmlrpc_DECREF(routes);
    assert_false(env.fault_occurred);
    return st;
}

static xmlrpc_value *fastpath_req(void)
{
    xmlrpc_value *ports, *params, *st;

    ports =
        xmlrpc_build_value(&env, "({s:s,s:s,s:s}{s:s,s:s,s:s})", "ifname", "l1",
                           "host_port", "k00000001a", "address", "", "ifname",
                           "l2", "host_port", "k00000002a", "address", "");
    params = xmlrpc_build_value(&env, "({s:s,s:s}{s:s,s:s}{s:s,s:s})", "key",
                                "address", "value", "l1:10.0.1.1/24", "key",
                                "address", "value", "l2:10.0.2.1/24", "key",
                                "route", "value", "10.0.3.0/24:l2:10.0.2.2");
    st = xmlrpc_build_value(&env, "{s:s,s:s,s:s,s:s,s:A,s:A,s:i}", "slice",
                            "exp1", "id", "r1", "type", "fastpath", "module",
                            "router", "ports", ports, "params", params, "vcpus",
                            1);
    xmlrpc_DECREF(ports);
    xmlrpc_DECREF(params);
    assert_false(env.fault_occurred);
    return st;
}

static void set_member(xmlrpc_value *st, const char *key, xmlrpc_value *v)
{
    xmlrpc_struct_set_value(&env, st, key, v);
    xmlrpc_DECREF(v);
}

/* Decodes and checks; returns NULL if valid, else the fault or message
 * (static buffer). */
static const char *verdict(xmlrpc_value *st, int *code)
{
    static char buf[512];
    struct sliver_spec s;
    xmlrpc_env e;
    char *msg;

    xmlrpc_env_init(&e);
    *code = 0;
    if (api_decode_spec(&e, st, &s) < 0) {
        *code = e.fault_code;
        snprintf(buf, sizeof(buf), "%s", e.fault_string);
        xmlrpc_env_clean(&e);
        return buf;
    }
    xmlrpc_env_clean(&e);
    msg = sliver_spec_check(&s);
    sliver_spec_free(&s);
    if (msg == NULL)
        return NULL;
    *code = 114;
    snprintf(buf, sizeof(buf), "%s", msg);
    free(msg);
    return buf;
}

static void expect(xmlrpc_value *st, int code, const char *text)
{
    int got;
    const char *m = verdict(st, &got);

    if (m == NULL)
        fail_msg("accepted; wanted fault %d '%s'", code, text);
    if (got != code || strstr(m, text) == NULL)
        fail_msg("got %d '%s'; wanted %d '%s'", got, m, code, text);
    xmlrpc_DECREF(st);
}

static void test_valid_requests(void **st)
{
    struct sliver_spec s;
    xmlrpc_value *v = container_req();
    int code;

    (void)st;
    assert_null(verdict(v, &code));
    assert_int_equal(api_decode_spec(&env, v, &s), 0);
    assert_string_equal(s.slice, "exp1");
    assert_int_equal(s.type, SLIVER_CONTAINER);
    assert_int_equal(s.n_ports, 1);
    assert_string_equal(s.ports[0].host_port, "k0000002aa");
    assert_int_equal(s.n_routes, 2);
    assert_string_equal(s.routes[1].to, "default");
    assert_int_equal(s.memory_mib, 64);
    sliver_spec_free(&s);
    xmlrpc_DECREF(v);
    v = fastpath_req();
    assert_null(verdict(v, &code));
    xmlrpc_DECREF(v);
    /* minimal: absent optional members default */
    v = xmlrpc_build_value(&env, "{s:s,s:s,s:s,s:s}", "slice", "a", "id", "b",
                           "type", "container", "command", "true");
    assert_int_equal(api_decode_spec(&env, v, &s), 0);
    assert_string_equal(s.module, "");
    assert_int_equal(s.n_ports, 0);
    assert_int_equal(s.vcpus, 0);
    assert_null(sliver_spec_check(&s));
    sliver_spec_free(&s);
    sliver_spec_free(NULL);
    xmlrpc_DECREF(v);
}

static void test_bad_types_and_members(void **st)
{
    xmlrpc_value *v;

    (void)st;
    v = container_req();
    set_member(v, "vcpus", xmlrpc_string_new(&env, "1"));
    expect(v, 104, "vcpus must be an int, not a string");
    v = container_req();
    set_member(v, "ports", xmlrpc_string_new(&env, "l1"));
    expect(v, 104, "ports must be an array");
    v = container_req();
    set_member(v, "ports", xmlrpc_build_value(&env, "(i)", 3));
    expect(v, 104, "ports[0] must be a struct");
    v = container_req();
    set_member(v, "ports", xmlrpc_build_value(&env, "({s:i})", "ifname", 3));
    expect(v, 104, "ports[0].ifname must be a string");
    v = container_req();
    set_member(v, "routes",
               xmlrpc_build_value(&env, "({s:s,s:s})", "to", "default", "gw",
                                  "10.0.1.1"));
    expect(v, 104, "unknown member routes[0].gw");
    v = container_req();
    set_member(v, "colour", xmlrpc_string_new(&env, "blue"));
    expect(v, 104, "unknown member 'colour'");
    v = xmlrpc_build_value(&env, "{s:s,s:s}", "slice", "a", "type",
                           "container");
    expect(v, 104, "'id' is required");
    v = container_req();
    set_member(v, "type", xmlrpc_string_new(&env, "slowpath"));
    expect(v, 114, "slow-path VMs are not supported");
    v = container_req();
    set_member(v, "type", xmlrpc_string_new(&env, "vm"));
    expect(v, 114, "not container or fastpath");
    v = xmlrpc_build_value(&env, "(s)", "x");
    expect(v, 104, "must be a struct");
}

static void test_bad_values(void **st)
{
    static const struct {
        const char *member, *value, *msg;
    } strs[] = {
        {"slice", "", "slice '' is not a name"},
        {"slice", "exp.1", "slice 'exp.1' is not a name"},
        {"slice", "-x", "is not a name"},
        {"id", "0123456789012345678901234567890123", "id"},
        {"id", "a b", "is not a name"},
        {"command", "", "needs a command"},
        {"module", "router", "module/params are for fastpath"},
    };
    xmlrpc_value *v;

    (void)st;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        v = container_req();
        set_member(v, strs[i].member, xmlrpc_string_new(&env, strs[i].value));
        expect(v, 114, strs[i].msg);
    }
    v = container_req();
    set_member(v, "vcpus", xmlrpc_int_new(&env, 65));
    expect(v, 114, "vcpus 65 is out of range 0..64");
    v = container_req();
    set_member(v, "vcpus", xmlrpc_int_new(&env, -1));
    expect(v, 114, "vcpus -1");
    v = container_req();
    set_member(v, "memory_mib", xmlrpc_int_new(&env, 2));
    expect(v, 114, "memory_mib 2 is out of range");

    static const struct {
        const char *ifname, *host, *addr, *msg;
    } ports[] = {
        {"lo", "k1", "", "not lo"},
        {"", "k1", "", "ifname '' is not"},
        {"averyveryverylongname", "k1", "", "is not an interface name"},
        {"l1", "k/1", "", "host_port 'k/1'"},
        {"l1", "-k1", "", "host_port '-k1'"},
        {"l1", "k1", "10.0.1.2", "not a unicast A.B.C.D/LEN"},
        {"l1", "k1", "10.0.1.2/33", "not a unicast"},
        {"l1", "k1", "224.0.0.1/24", "not a unicast"},
        {"l1", "k1", "10.0.1.2/0", "not a unicast"},
        {"l1", "k1", "10.0.1.2/24x", "not a unicast"},
    };
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        xmlrpc_value *a = xmlrpc_array_new(&env);
        xmlrpc_value *p = port(ports[i].ifname, ports[i].host, ports[i].addr);
        xmlrpc_array_append_item(&env, a, p);
        xmlrpc_DECREF(p);
        v = container_req();
        set_member(v, "ports", a);
        set_member(v, "routes", xmlrpc_array_new(&env));
        expect(v, 114, ports[i].msg);
    }
    /* duplicates */
    v = container_req();
    set_member(v, "ports",
               xmlrpc_build_value(&env, "({s:s,s:s,s:s}{s:s,s:s,s:s})",
                                  "ifname", "l1", "host_port", "k1", "address",
                                  "", "ifname", "l1", "host_port", "k2",
                                  "address", ""));
    set_member(v, "routes", xmlrpc_array_new(&env));
    expect(v, 114, "ifname 'l1' is used twice");
    /* shared-memory ports: a side, and only on a fast path */
    v = container_req();
    set_member(v, "ports",
               xmlrpc_build_value(&env, "({s:s,s:s,s:s,s:s})", "ifname", "l1",
                                  "host_port", "k1m", "address", "", "shm",
                                  "a"));
    set_member(v, "routes", xmlrpc_array_new(&env));
    expect(v, 114, "only fastpath slivers take shared-memory ports");
    v = container_req();
    set_member(v, "ports",
               xmlrpc_build_value(&env, "({s:s,s:s,s:s,s:s})", "ifname", "l1",
                                  "host_port", "k1m", "address", "", "shm",
                                  "c"));
    set_member(v, "routes", xmlrpc_array_new(&env));
    expect(v, 114, "shm 'c' is not");

    static const struct {
        const char *to, *via, *msg;
    } routes[] = {
        {"10.0.2.0/24", "10.0.9.1", "in no subnet"},
        {"10.0.2.1/24", "10.0.1.1", "bits set beyond /24"},
        {"10.0.2.0", "10.0.1.1", "not A.B.C.D/LEN or default"},
        {"anywhere", "10.0.1.1", "not A.B.C.D/LEN"},
        {"default", "10.0.1", "not a unicast IPv4"},
        {"default", "0.0.0.0", "not a unicast IPv4"},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        v = container_req();
        set_member(v, "routes",
                   xmlrpc_build_value(&env, "({s:s,s:s})", "to", routes[i].to,
                                      "via", routes[i].via));
        expect(v, 114, routes[i].msg);
    }
}

static void test_bad_fastpath(void **st)
{
    xmlrpc_value *v;

    (void)st;
    v = fastpath_req();
    set_member(v, "module", xmlrpc_string_new(&env, "nosuch"));
    expect(
        v, 114,
        "module 'nosuch' is unknown; modules: bridge, router, nat, firewall");
    v = fastpath_req();
    set_member(v, "module", xmlrpc_string_new(&env, ""));
    expect(v, 114, "needs a module");
    v = fastpath_req();
    set_member(v, "command", xmlrpc_string_new(&env, "sleep 1"));
    expect(v, 114, "leave command empty");
    v = fastpath_req();
    set_member(v, "ports", xmlrpc_array_new(&env));
    set_member(v, "params", xmlrpc_array_new(&env));
    expect(v, 114, "needs at least one port");
    v = fastpath_req();
    set_member(v, "ports",
               xmlrpc_build_value(&env, "({s:s,s:s,s:s})", "ifname", "l1",
                                  "host_port", "k1", "address", "10.0.1.1/24"));
    expect(v, 114, "carry no kernel address");
    v = fastpath_req();
    set_member(v, "routes",
               xmlrpc_build_value(&env, "({s:s,s:s})", "to", "default", "via",
                                  "10.0.1.1"));
    expect(v, 114, "routes in its module");
    v = fastpath_req();
    set_member(
        v, "params",
        xmlrpc_build_value(&env, "({s:s,s:s})", "key", "mtu", "value", "1500"));
    expect(v, 114, "module router has no parameter 'mtu'");
    v = fastpath_req();
    set_member(v, "params",
               xmlrpc_build_value(&env, "({s:s,s:s})", "key", "Bad-Key",
                                  "value", "1"));
    expect(v, 114, "params[0].key 'Bad-Key'");
    v = fastpath_req();
    set_member(v, "params",
               xmlrpc_build_value(&env, "({s:s,s:s})", "key", "address",
                                  "value", "l1:10.0.1.1/24 x"));
    expect(v, 114, "printable characters without spaces");
    /* the module's own dry run */
    v = fastpath_req();
    set_member(v, "params",
               xmlrpc_build_value(&env, "({s:s,s:s})", "key", "address",
                                  "value", "l3:10.0.1.1/24"));
    expect(v, 114, "params: router: address 'l3:10.0.1.1/24': no port named");
    v = fastpath_req();
    set_member(v, "module", xmlrpc_string_new(&env, "bridge"));
    expect(v, 114, "module bridge has no parameter 'address'; it takes: aging");
}

static void test_xml_string_form(void **st)
{
    const char *xml =
        "<struct><member><name>slice</name><value>s1</value></member>"
        "<member><name>id</name><value><string>c1</string></value></member>"
        "<member><name>type</name><value>container</value></member>"
        "<member><name>command</name><value>sleep 1</value></member>"
        "<member><name>vcpus</name><value><i4>2</i4></value></member>"
        "</struct>";
    xmlrpc_value *s = xmlrpc_string_new(&env, xml), *v;
    struct sliver_spec spec;
    xmlrpc_env e;

    (void)st;
    v = api_struct_from_xml(&env, s);
    assert_non_null(v);
    assert_int_equal(api_decode_spec(&env, v, &spec), 0);
    assert_int_equal(spec.vcpus, 2);
    assert_string_equal(spec.command, "sleep 1");
    sliver_spec_free(&spec);
    xmlrpc_DECREF(v);
    xmlrpc_DECREF(s);
    const char *bad[] = {"<struct><member>", "<array><data/></array>", "hello",
                         "<value><i4>1</i4></value>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        xmlrpc_env_init(&e);
        s = xmlrpc_string_new(&env, bad[i]);
        assert_null(api_struct_from_xml(&e, s));
        assert_int_equal(e.fault_code, 104);
        xmlrpc_DECREF(s);
        xmlrpc_env_clean(&e);
    }
}

static void test_equal(void **st)
{
    struct sliver_spec a, b;
    xmlrpc_value *v = fastpath_req(), *w = fastpath_req();

    (void)st;
    assert_int_equal(api_decode_spec(&env, v, &a), 0);
    assert_int_equal(api_decode_spec(&env, w, &b), 0);
    assert_true(sliver_spec_equal(&a, &b));
    free(b.params[2].value);
    b.params[2].value = strdup("10.0.3.0/24:l2:10.0.2.3");
    assert_false(sliver_spec_equal(&a, &b));
    sliver_spec_free(&b);
    xmlrpc_DECREF(w);
    w = fastpath_req();
    set_member(w, "vcpus", xmlrpc_int_new(&env, 2));
    assert_int_equal(api_decode_spec(&env, w, &b), 0);
    assert_false(sliver_spec_equal(&a, &b));
    sliver_spec_free(&a);
    sliver_spec_free(&b);
    xmlrpc_DECREF(v);
    xmlrpc_DECREF(w);
}

static void test_names(void **st)
{
    char buf[SLIVER_NETNS_MAX];

    (void)st;
    assert_int_equal(
        sliver_netns_name(buf, sizeof(buf), "vt12-vn1", "exp1", "r1"), 0);
    assert_string_equal(buf, "vt12-vn1.exp1.r1");
    assert_int_equal(sliver_netns_name(buf, 10, "vt12-vn1", "exp1", "r1"), -1);
    assert_int_equal(sliver_key(buf, sizeof(buf), "exp1", "r1"), 0);
    assert_string_equal(buf, "exp1.r1");
    assert_true(sliver_name_valid("vt12-vn1", SLIVER_PREFIX_MAX));
    assert_false(sliver_name_valid("a.b", 32));
    assert_false(sliver_name_valid("", 32));
    assert_false(sliver_name_valid("abc", 2));
    assert_int_equal(sliver_type_parse("fastpath"), SLIVER_FASTPATH);
    assert_int_equal(sliver_type_parse("Fastpath"), -1);
    assert_string_equal(sliver_type_name(SLIVER_CONTAINER), "container");
}

static void test_cgroup_paths_and_values(void **st)
{
    struct cg_layout v1 = {
        CG_V1, "/sys/fs/cgroup", "vnode/vt12-vn1", {true, true, true}};
    struct cg_layout v2 = {
        CG_V2, "/sys/fs/cgroup", "vnode/vt12-vn1", {true, true, true}};
    struct cg_limits lim = {2, 64, 512}, none = {0, 0, 0};
    struct cg_setting set[4];
    char buf[CG_PATH_MAX];

    (void)st;
    assert_int_equal(cg_path(&v1, CG_MEMORY, "exp1.c1", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/sys/fs/cgroup/memory/vnode/vt12-vn1/exp1.c1");
    assert_int_equal(cg_path(&v1, CG_CPU, NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/sys/fs/cgroup/cpu/vnode/vt12-vn1");
    assert_int_equal(cg_path(&v2, CG_PIDS, "exp1.c1", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/sys/fs/cgroup/vnode/vt12-vn1/exp1.c1");
    assert_int_equal(cg_path(&v2, CG_PIDS, "exp1.c1", buf, 10), -1);
    struct cg_layout no = {0};
    assert_int_equal(cg_path(&no, CG_CPU, "x", buf, sizeof(buf)), -1);

    assert_int_equal(cg_settings(&v1, &lim, set), 4);
    assert_string_equal(set[0].file, "cpu.cfs_period_us");
    assert_string_equal(set[0].value, "100000");
    assert_string_equal(set[1].file, "cpu.cfs_quota_us");
    assert_string_equal(set[1].value, "200000");
    assert_string_equal(set[2].file, "memory.limit_in_bytes");
    assert_string_equal(set[2].value, "67108864");
    assert_string_equal(set[3].file, "pids.max");
    assert_string_equal(set[3].value, "512");
    assert_int_equal(cg_settings(&v1, &none, set), 4);
    assert_string_equal(set[1].value, "-1");
    assert_string_equal(set[2].value, "-1");
    assert_string_equal(set[3].value, "max");

    assert_int_equal(cg_settings(&v2, &lim, set), 3);
    assert_string_equal(set[0].file, "cpu.max");
    assert_string_equal(set[0].value, "200000 100000");
    assert_string_equal(set[1].file, "memory.max");
    assert_string_equal(set[1].value, "67108864");
    assert_string_equal(set[2].value, "512");
    assert_int_equal(cg_settings(&v2, &none, set), 3);
    assert_string_equal(set[0].value, "max 100000");
    assert_string_equal(set[1].value, "max");

    /* a missing controller: no setting unless a limit asks for it */
    v1.has[CG_MEMORY] = false;
    assert_int_equal(cg_settings(&v1, &none, set), 3);
    assert_int_equal(cg_settings(&v1, &lim, set), 4);
    assert_int_equal(set[2].ctrl, CG_MEMORY);
    char *err = NULL;
    assert_int_equal(cg_create(&no, "x", &lim, &err), -1);
    assert_non_null(strstr(err, "cannot limit CPU or memory"));
    free(err);
    assert_int_equal(cg_create(&no, "x", &none, &err), 0);
    assert_string_equal(cg_ctrl_name(CG_PIDS), "pids");
}

static void test_restart_policy(void **st)
{
    struct restart_state rs = {0};
    uint64_t d = 0;
    int killed9 = 9;    /* wait status: killed by SIGKILL */
    int exit1 = 1 << 8; /* exited 1 */
    int config = EX_CONFIG << 8;

    (void)st;
    assert_true(WIFSIGNALED(killed9));
    /* after a long run: the shortest delay */
    assert_int_equal(restart_decide(&rs, killed9, 60000, &d), RESTART_LATER);
    assert_int_equal(d, RESTART_BASE_MS);
    /* quick failures double it up to the cap */
    uint64_t want = RESTART_BASE_MS;
    for (int i = 2; i <= RESTART_GIVE_UP; i++) {
        want = want * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : want * 2;
        assert_int_equal(restart_decide(&rs, exit1, 50, &d), RESTART_LATER);
        assert_int_equal(d, want);
    }
    assert_int_equal(d, RESTART_MAX_MS);
    assert_int_equal(restart_decide(&rs, exit1, 50, &d), RESTART_NEVER);
    /* a stable run resets the backoff */
    rs.quick_failures = 5;
    assert_int_equal(restart_decide(&rs, exit1, RESTART_STABLE_MS, &d),
                     RESTART_LATER);
    assert_int_equal(d, RESTART_BASE_MS);
    /* configuration errors are not retried */
    assert_int_equal(restart_decide(&rs, config, 60000, &d), RESTART_NEVER);
    assert_int_equal(restart_decide(&rs, EX_USAGE << 8, 60000, &d),
                     RESTART_NEVER);
    assert_int_equal(sliver_exit_code(killed9), 137);
    assert_int_equal(sliver_exit_code(3 << 8), 3);
}

static int setup(void **st)
{
    (void)st;
    xmlrpc_env_init(&env);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    assert_false(env.fault_occurred);
    xmlrpc_env_clean(&env);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_requests),
        cmocka_unit_test(test_bad_types_and_members),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_bad_fastpath),
        cmocka_unit_test(test_xml_string_form),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_cgroup_paths_and_values),
        cmocka_unit_test(test_restart_policy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
