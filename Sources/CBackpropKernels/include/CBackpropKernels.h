#ifndef CBACKPROPKERNELS_H
#define CBACKPROPKERNELS_H
/* Wide-vector micro-kernels; filled in by the GEMM work. */
int bp_kernel_isa(void);
#endif
