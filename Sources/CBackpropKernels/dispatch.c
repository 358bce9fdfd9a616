#include "CBackpropKernels.h"
int bp_kernel_isa(void) { return 0; }
