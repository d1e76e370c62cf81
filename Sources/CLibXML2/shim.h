#ifndef VIRTHOST_CLIBXML2_SHIM_H
#define VIRTHOST_CLIBXML2_SHIM_H
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xmlerror.h>

/// xmlFree is a variable or a macro depending on how libxml2 was built; a
/// function Swift can always call.
static inline void virthost_xml_free(void *pointer) { xmlFree(pointer); }
#endif
