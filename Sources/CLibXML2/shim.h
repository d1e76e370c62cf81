#ifndef VIRTHOST_CLIBXML2_SHIM_H
#define VIRTHOST_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, so encoding.h includes <unicode/ucnv.h>,
// which clashes with Foundation's own ICU module in the same Swift module
// ("'UErrorCode' has different definitions"). We use no ICU API and never
// touch xmlCharEncodingHandler's fields (the only struct whose layout the
// macro changes), so the ICU parts stay out.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xmlerror.h>

/// xmlFree is a variable or a macro depending on how libxml2 was built; a
/// function Swift can always call.
static inline void virthost_xml_free(void *pointer) { xmlFree(pointer); }
#endif
