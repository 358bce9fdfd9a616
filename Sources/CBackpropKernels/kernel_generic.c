/* Portable micro-kernels (plain C; the compiler vectorizes them for the
 * baseline ISA: SSE2 on x86-64, NEON on arm64). float 4 x 8, double 4 x 4. */
#include "bp_internal.h"

#define GEN_KERNEL(NAME, T, MR, NR)                                                \
    void NAME(ptrdiff_t kc, const T *restrict pa, const T *restrict pb,           \
              T *restrict c, ptrdiff_t ldc, T alpha, T beta) {                     \
        T acc[MR][NR];                                                             \
        for (int i = 0; i < MR; i++) __builtin_prefetch(c + i * ldc, 1, 2);        \
        for (int i = 0; i < MR; i++)                                               \
            for (int j = 0; j < NR; j++) acc[i][j] = 0;                            \
        for (ptrdiff_t p = 0; p < kc; p++) {                                       \
            for (int i = 0; i < MR; i++) {                                         \
                T a = pa[i];                                                       \
                for (int j = 0; j < NR; j++) acc[i][j] += a * pb[j];               \
            }                                                                      \
            pa += MR;                                                              \
            pb += NR;                                                              \
        }                                                                          \
        if (beta == 0) {                                                           \
            for (int i = 0; i < MR; i++)                                           \
                for (int j = 0; j < NR; j++) c[i * ldc + j] = alpha * acc[i][j];   \
        } else {                                                                   \
            for (int i = 0; i < MR; i++)                                           \
                for (int j = 0; j < NR; j++)                                       \
                    c[i * ldc + j] = alpha * acc[i][j] + beta * c[i * ldc + j];    \
        }                                                                          \
    }

GEN_KERNEL(bp_skernel_generic, float, 4, 8)
GEN_KERNEL(bp_dkernel_generic, double, 4, 4)
