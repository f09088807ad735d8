/* fp_modules: registry of the compiled-in fast-path modules. */
#include "fp_modules.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct vnode_module *const modules[] = {
    &vnode_mod_bridge,
    &vnode_mod_router,
    &vnode_mod_nat,
    &vnode_mod_firewall,
};
#define N_MODULES (sizeof(modules) / sizeof(modules[0]))

const struct vnode_module *fp_module_find(const char *name)
{
    for (size_t i = 0; i < N_MODULES; i++)
        if (strcmp(modules[i]->name, name) == 0 &&
            modules[i]->abi == VNODE_MODULE_ABI)
            return modules[i];
    return NULL;
}

const char *fp_module_names(void)
{
    static char names[128];

    if (names[0] == '\0') {
        for (size_t i = 0; i < N_MODULES; i++) {
            if (i > 0)
                strncat(names, ", ", sizeof(names) - strlen(names) - 1);
            strncat(names, modules[i]->name, sizeof(names) - strlen(names) - 1);
        }
    }
    return names;
}

static bool name_ok(const char *s, bool dash)
{
    size_t n = strlen(s);

    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_' || (dash && s[i] == '-')))
            return false;
    return true;
}

char *fp_module_check_desc(const struct vnode_module *m)
{
    char *msg = NULL;
    int n = 0;

    if (m->abi != VNODE_MODULE_ABI) {
        if (asprintf(&msg, "module ABI %u, not %d", m->abi, VNODE_MODULE_ABI) <
            0)
            msg = NULL;
        return msg != NULL ? msg : strdup("wrong module ABI");
    }
    if (m->name == NULL || !name_ok(m->name, true))
        return strdup("the descriptor's name must be 1..32 of a-z 0-9 _ -");
    if (m->summary == NULL)
        return strdup("the descriptor has no summary (one line for humans)");
    if (m->init == NULL || m->process == NULL || m->fini == NULL)
        return strdup("the descriptor lacks init, process or fini (all "
                      "three are required)");
    for (const char *const *k = m->param_keys; k != NULL && *k != NULL; k++)
        if (!name_ok(*k, false) || ++n > 64)
            return strdup("the descriptor's param_keys must be at most 64 "
                          "keys of 1..32 of a-z 0-9 _, NULL-terminated");
    return NULL;
}

char *fp_module_check_key(const struct vnode_module *m, const char *key)
{
    char keys[256] = "";
    char *msg = NULL;

    for (const char *const *k = m->param_keys; k != NULL && *k != NULL; k++) {
        if (strcmp(*k, key) == 0)
            return NULL;
        if (keys[0] != '\0')
            strncat(keys, ", ", sizeof(keys) - strlen(keys) - 1);
        strncat(keys, *k, sizeof(keys) - strlen(keys) - 1);
    }
    if (asprintf(&msg, "module %s has no parameter '%s'; it takes: %s", m->name,
                 key, keys[0] != '\0' ? keys : "none") < 0)
        return NULL;
    return msg;
}

static int discard(void *rt, int port, const uint8_t *frame, uint32_t len)
{
    (void)rt, (void)port, (void)frame, (void)len;
    return 0;
}

char *fp_module_check_params(const struct vnode_module *m,
                             const char *const *port_names, int n_ports,
                             const struct vnode_param *params, int n_params)
{
    struct vnode_port_info ports[VNODE_MAX_PORTS];
    struct vnode_env env = {0};
    char *err = NULL;
    void *state;

    if (n_ports > VNODE_MAX_PORTS)
        n_ports = VNODE_MAX_PORTS;
    memset(ports, 0, sizeof(ports));
    for (int i = 0; i < n_ports; i++)
        ports[i].name = port_names[i];
    env.n_ports = n_ports;
    env.ports = ports;
    env.emit = discard;
    state = m->init(&env, params, n_params, &err);
    if (state == NULL)
        return err != NULL ? err : strdup("the module refused its parameters");
    m->fini(state);
    free(err);
    return NULL;
}
