/* xmlerr: safe libxml2 parsing against the built-in schemas, with errors as
 * "line N: message" strings. Shared by the topology parser and other XML
 * readers. libxml2 never prints to stderr through these functions. */
#ifndef VN_XMLERR_H
#define VN_XMLERR_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#define XMLERR_MAX_DOC_BYTES (4u << 20)

/* Parses 'xml' without network access, entity expansion or DTDs, checks the
 * root is <root_name> in namespace 'ns', and validates it against the
 * built-in schema 'schema' (see schema.h). Returns NULL and sets *doc
 * (caller frees with xmlFreeDoc), or a malloc'd message of one line per
 * error (at most 20). */
char *xmlerr_parse_validate(const char *xml, size_t len, const char *schema,
                            const char *ns, xmlDoc **doc);

/* "line N: <formatted>" for node 'n' (n may be NULL: no line). Caller frees. */
char *xmlerr_fmt(const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reads a whole file (at most XMLERR_MAX_DOC_BYTES). Returns the malloc'd
 * NUL-terminated contents and its length, or NULL with *err set (caller
 * frees). */
char *xmlerr_read_file(const char *path, size_t *len, char **err);

#endif
