// Declarations only: see include/virthost_sys.h. SwiftPM needs one source file.
#include "virthost_sys.h"
