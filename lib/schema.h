/* schema: the XML Schemas shipped in lib/schema/, compiled into the binary. */
#ifndef VN_SCHEMA_H
#define VN_SCHEMA_H

/* Returns the text of lib/schema/NAME.xsd (e.g. "slice", "topology"), or
 * NULL if no such schema was built in. The string is static. */
const char *schema_text(const char *name);

#endif
