/* sliver: what a node sliver is (the validated request of sliver.create),
 * how its names are derived, and the fast-path restart policy. Pure logic:
 * nothing here touches the system, so all of it is unit-tested. */
#ifndef PROGRAMMER_SLIVER_H
#define PROGRAMMER_SLIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLIVER_NAME_MAX 32   /* bytes of a slice name or sliver id */
#define SLIVER_PREFIX_MAX 64 /* bytes of --netns-prefix */
#define SLIVER_MAX_PORTS 16
#define SLIVER_MAX_ROUTES 64
#define SLIVER_MAX_PARAMS 64
#define SLIVER_COMMAND_MAX 4096 /* bytes */
#define SLIVER_PARAM_MAX 256    /* bytes of a parameter value */
#define SLIVER_MAX_VCPUS 64
#define SLIVER_MIN_MEMORY_MIB                                                  \
    4 /* smaller limits only make the OOM killer busy */
#define SLIVER_MAX_MEMORY_MIB (1 << 20)
#define SLIVER_NETNS_MAX (SLIVER_PREFIX_MAX + 2 * SLIVER_NAME_MAX + 3)

enum sliver_type { SLIVER_CONTAINER, SLIVER_FASTPATH };

struct sliver_port {
    char *ifname;    /* inside the sliver, e.g. "l1" */
    char *host_port; /* outside, in the VNode namespace, e.g. "k0000002aa" */
    char *address;   /* "10.0.1.2/24" or "" */
    /* "" for a veth pair; "a" or "b" for one end of a shared-memory link
     * to another fast-path sliver of the same slice on this VNode (both
     * ends name the link by the same host_port; no veth, no redirector). */
    char *shm;
};

struct sliver_route {
    char *to;  /* "10.0.2.0/24" or "default" */
    char *via; /* "10.0.1.1" */
};

struct sliver_param {
    char *key, *value;
};

/* A sliver.create request. Every string is malloc'd and never NULL once
 * decoded (absent fields are ""); sliver_spec_free() frees them. */
struct sliver_spec {
    char *slice, *id;
    enum sliver_type type;
    char *command; /* container: run with /bin/sh -c */
    char *module;  /* fastpath: module name */
    struct sliver_param *params;
    size_t n_params;
    int vcpus;      /* 0 = no CPU limit */
    int memory_mib; /* 0 = no memory limit */
    struct sliver_port *ports;
    size_t n_ports;
    struct sliver_route *routes;
    size_t n_routes;
};

/* Frees the strings and arrays of 's' (not 's' itself). NULL is accepted. */
void sliver_spec_free(struct sliver_spec *s);

/* "container" / "fastpath" -> type; -1 if neither. */
int sliver_type_parse(const char *s);
const char *sliver_type_name(enum sliver_type t);

/* Checks every field of 's' (names, limits, ports, addresses, routes and,
 * for a fast path, the module and its parameters with a dry run of its
 * init()). Returns NULL if valid, else a malloc'd message that names the
 * field and says what would be accepted (caller frees). */
char *sliver_spec_check(const struct sliver_spec *s);

/* True if 'a' and 'b' ask for the same sliver (every field equal). */
bool sliver_spec_equal(const struct sliver_spec *a,
                       const struct sliver_spec *b);

/* True if 's' is a slice name, sliver id or netns prefix: 1..max bytes of
 * [A-Za-z0-9_-], not starting with '-'. */
bool sliver_name_valid(const char *s, size_t max);

/* The network namespace of a sliver: "PREFIX.SLICE.ID". Returns 0, or -1
 * if it does not fit in 'n' bytes. */
int sliver_netns_name(char *buf, size_t n, const char *prefix,
                      const char *slice, const char *id);

/* The per-sliver name used for its cgroup and log file: "SLICE.ID". */
int sliver_key(char *buf, size_t n, const char *slice, const char *id);

/* Parses "A.B.C.D/LEN" (LEN 0..32); host-order address. */
bool sliver_parse_cidr(const char *s, uint32_t *addr, int *len);
/* Parses a dotted quad; host-order address. */
bool sliver_parse_ipv4(const char *s, uint32_t *addr);

/* ---- restart policy of fast-path processes ---------------------------- */

#define RESTART_BASE_MS 100     /* delay after the first quick failure */
#define RESTART_MAX_MS 30000    /* delay cap */
#define RESTART_STABLE_MS 10000 /* a run this long resets the backoff */
#define RESTART_GIVE_UP 10      /* quick failures in a row before giving up */

enum restart_action {
    RESTART_LATER, /* restart after *delay_ms */
    RESTART_NEVER, /* bad configuration (exit EX_USAGE/EX_CONFIG) or too
                      many quick failures: leave it failed */
};

struct restart_state {
    unsigned restarts;       /* processes started after the first */
    unsigned quick_failures; /* consecutive runs shorter than STABLE */
};

/* Decides about a fast-path process that ended with wait status 'status'
 * after running 'ran_ms'. Updates 'rs' and sets *delay_ms for
 * RESTART_LATER. */
enum restart_action restart_decide(struct restart_state *rs, int status,
                                   uint64_t ran_ms, uint64_t *delay_ms);

/* A wait status as an exit code the way shells show it: the exit status,
 * or 128 + signal number. */
int sliver_exit_code(int status);

#endif
