/* spec_edit: changes to a stored slice spec, for live changes. The result
 * goes through spec_parse, so a bad new value gets the same precise
 * message a bad spec would. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static xmlNode *find_link(xmlNode *root, const char *id)
{
    for (xmlNode *c = root->children; c != NULL; c = c->next) {
        xmlChar *v;
        bool match;
        if (c->type != XML_ELEMENT_NODE ||
            strcmp((const char *)c->name, "link") != 0)
            continue;
        v = xmlGetProp(c, (const xmlChar *)"id");
        match = v != NULL && strcmp((const char *)v, id) == 0;
        xmlFree(v);
        if (match)
            return c;
    }
    return NULL;
}

char *spec_set_link_attrs(const char *xml, const char *link,
                          const char *const *kv, size_t n_kv, char **out)
{
    static const char *const allowed[] = {"bandwidth", "ceiling", "burst",
                                          "weight", NULL};
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING);
    xmlNode *el = doc ? find_link(xmlDocGetRootElement(doc), link) : NULL;
    xmlChar *buf = NULL;
    struct slice_spec *check = NULL;
    char *err = NULL;
    int len = 0;

    if (el == NULL) {
        if (asprintf(&err, "no link '%s' in this slice", link) < 0)
            err = NULL;
        goto cleanup;
    }
    for (size_t i = 0; i + 1 < 2 * n_kv; i += 2) {
        bool ok = false;
        for (size_t a = 0; allowed[a] != NULL; a++)
            ok |= strcmp(kv[i], allowed[a]) == 0;
        if (!ok) {
            if (asprintf(&err, "link '%s': '%s' cannot be changed; use "
                               "bandwidth, ceiling, burst or weight",
                         link, kv[i]) < 0)
                err = NULL;
            goto cleanup;
        }
        xmlSetProp(el, (const xmlChar *)kv[i], (const xmlChar *)kv[i + 1]);
    }
    xmlDocDumpMemoryEnc(doc, &buf, &len, "UTF-8");
    if (buf == NULL) {
        err = strdup("out of memory");
        goto cleanup;
    }
    err = spec_parse((const char *)buf, (size_t)len, &check);
    if (err == NULL)
        *out = strdup((const char *)buf);
cleanup:
    spec_free(check);
    xmlFree(buf);
    xmlFreeDoc(doc);
    return err;
}
