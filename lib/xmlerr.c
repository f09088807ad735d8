/* xmlerr: safe parsing and schema validation with readable errors. */
#include "xmlerr.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

#define MAX_ERRORS 20

struct errlist {
    char *text; /* lines joined by '\n' */
    size_t len;
    int count;
};

static void errlist_add(struct errlist *el, int line, const char *msg)
{
    char buf[512];
    size_t n;
    char *p;

    if (el->count++ >= MAX_ERRORS)
        return;
    if (line > 0)
        n = (size_t)snprintf(buf, sizeof(buf), "line %d: %s", line, msg);
    else
        n = (size_t)snprintf(buf, sizeof(buf), "%s", msg);
    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    /* Trim libxml2's trailing newline and drop "{urn:...}" noise. */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    for (char *o = strchr(buf, '{'); o != NULL; o = strchr(o, '{')) {
        char *c = strchr(o, '}');
        if (c == NULL)
            break;
        memmove(o, c + 1, strlen(c + 1) + 1);
    }
    n = strlen(buf);
    p = realloc(el->text, el->len + n + 2);
    if (p == NULL)
        return;
    el->text = p;
    if (el->len > 0)
        el->text[el->len++] = '\n';
    memcpy(el->text + el->len, buf, n + 1);
    el->len += n;
}

static void collect_error(void *ctx, xmlErrorPtr e)
{
    struct errlist *el = ctx;
    const char *msg = e->message ? e->message : "unknown XML error";
    int line = e->line;

    if (e->node != NULL && line <= 0)
        line = xmlGetLineNo((xmlNode *)e->node);
    errlist_add(el, line, msg);
}

static void silent_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static xmlSchemaPtr load_schema(const char *name)
{
    const char *text = schema_text(name);
    xmlSchemaParserCtxtPtr pctx = NULL;
    xmlSchemaPtr schema = NULL;

    if (text == NULL)
        return NULL;
    pctx = xmlSchemaNewMemParserCtxt(text, (int)strlen(text));
    if (pctx != NULL)
        schema = xmlSchemaParse(pctx);
    xmlSchemaFreeParserCtxt(pctx);
    return schema;
}

/* Schemas are parsed once per process and kept. */
static xmlSchemaPtr cached_schema(const char *name)
{
    static struct {
        const char *name;
        xmlSchemaPtr schema;
    } cache[8];

    for (size_t i = 0; i < sizeof(cache) / sizeof(cache[0]); i++) {
        if (cache[i].name != NULL && strcmp(cache[i].name, name) == 0)
            return cache[i].schema;
        if (cache[i].name == NULL) {
            cache[i].schema = load_schema(name);
            if (cache[i].schema != NULL)
                cache[i].name = name;
            return cache[i].schema;
        }
    }
    return load_schema(name);
}

char *xmlerr_parse_validate(const char *xml, size_t len, const char *schema,
                            const char *ns, xmlDoc **doc)
{
    struct errlist el = {0};
    xmlParserCtxtPtr pctx = NULL;
    xmlSchemaValidCtxtPtr vctx = NULL;
    xmlSchemaPtr xsd;
    xmlDoc *d = NULL;
    xmlNode *root;

    xmlSetGenericErrorFunc(NULL, silent_generic);
    xmlSetStructuredErrorFunc(&el, collect_error);
    if (len == 0) {
        errlist_add(&el, 0, "the document is empty");
        goto cleanup;
    }
    if (len > XMLERR_MAX_DOC_BYTES) {
        char m[96];
        snprintf(m, sizeof(m), "the document is %zu bytes; the limit is %u",
                 len, XMLERR_MAX_DOC_BYTES);
        errlist_add(&el, 0, m);
        goto cleanup;
    }
    pctx = xmlNewParserCtxt();
    if (pctx == NULL)
        goto cleanup;
    d = xmlCtxtReadMemory(pctx, xml, (int)len, NULL, NULL,
                          XML_PARSE_NONET | XML_PARSE_NOCDATA);
    if (d == NULL)
        goto cleanup;
    if (d->intSubset != NULL || d->extSubset != NULL) {
        errlist_add(&el, 1, "DOCTYPE declarations are not allowed");
        goto cleanup;
    }
    root = xmlDocGetRootElement(d);
    if (root == NULL || strcmp((const char *)root->name, schema) != 0 ||
        root->ns == NULL || strcmp((const char *)root->ns->href, ns) != 0) {
        char m[256];
        snprintf(m, sizeof(m),
                 "the root element must be <%s xmlns=\"%s\">, not <%s>", schema,
                 ns, root ? (const char *)root->name : "");
        errlist_add(&el, root ? xmlGetLineNo(root) : 0, m);
        goto cleanup;
    }
    xsd = cached_schema(schema);
    if (xsd == NULL) {
        errlist_add(&el, 0, "internal error: built-in schema does not load");
        goto cleanup;
    }
    vctx = xmlSchemaNewValidCtxt(xsd);
    if (vctx == NULL)
        goto cleanup;
    xmlSchemaSetValidStructuredErrors(vctx, collect_error, &el);
    xmlSchemaValidateDoc(vctx, d);
cleanup:
    xmlSchemaFreeValidCtxt(vctx);
    xmlFreeParserCtxt(pctx);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (el.count == 0 && d == NULL)
        errlist_add(&el, 0, "malformed XML");
    if (el.count > 0) {
        xmlFreeDoc(d);
        return el.text;
    }
    *doc = d;
    return NULL;
}

char *xmlerr_fmt(const xmlNode *n, const char *fmt, ...)
{
    char msg[512];
    char *out = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n != NULL && xmlGetLineNo(n) > 0) {
        if (asprintf(&out, "line %ld: %s", xmlGetLineNo(n), msg) < 0)
            out = NULL;
    } else {
        out = strdup(msg);
    }
    return out;
}

char *xmlerr_read_file(const char *path, size_t *len, char **err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;

    if (f == NULL) {
        if (asprintf(err, "%s: %s", path, strerror(errno)) < 0)
            *err = NULL;
        return NULL;
    }
    buf = malloc(XMLERR_MAX_DOC_BYTES + 1);
    if (buf != NULL) {
        n = fread(buf, 1, XMLERR_MAX_DOC_BYTES + 1, f);
        if (n > XMLERR_MAX_DOC_BYTES) {
            free(buf);
            buf = NULL;
            if (asprintf(err, "%s: larger than %u bytes", path,
                         XMLERR_MAX_DOC_BYTES) < 0)
                *err = NULL;
        } else {
            buf[n] = '\0';
            *len = n;
        }
    } else {
        *err = strdup("out of memory");
    }
    fclose(f);
    return buf;
}
