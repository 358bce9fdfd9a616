/* arm64 NEON float micro-kernel: an 8 x 12 tile in 24 q-register
 * accumulators, each step loading 8 values of packed A (2 registers) and 12
 * of packed B (3 registers) and multiplying by lane (fmla by element). NEON
 * is part of every arm64 CPU, so this is the arm64 build's "generic" float
 * path. Its speed has not been measured here (no arm64 machine): it was
 * checked for correctness only, under qemu-aarch64. */
#include "bp_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define N_DECL(i) float32x4_t c##i##0 = vdupq_n_f32(0), c##i##1 = c##i##0, c##i##2 = c##i##0
#define N_ROW(i, a, lane)                                                          \
    do {                                                                           \
        c##i##0 = vfmaq_laneq_f32(c##i##0, b0, a, lane);                           \
        c##i##1 = vfmaq_laneq_f32(c##i##1, b1, a, lane);                           \
        c##i##2 = vfmaq_laneq_f32(c##i##2, b2, a, lane);                           \
    } while (0)
#define N_STORE(ptr, acc)                                                          \
    do {                                                                           \
        float32x4_t v_ = vmulq_n_f32(acc, alpha);                                  \
        if (beta != 0.0f) v_ = vfmaq_n_f32(v_, vld1q_f32(ptr), beta);              \
        vst1q_f32(ptr, v_);                                                        \
    } while (0)
#define N_OUT(i)                                                                   \
    do {                                                                           \
        N_STORE(c + (i) * ldc, c##i##0);                                           \
        N_STORE(c + (i) * ldc + 4, c##i##1);                                       \
        N_STORE(c + (i) * ldc + 8, c##i##2);                                       \
    } while (0)

void bp_skernel_neon(ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
                     float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    N_DECL(0); N_DECL(1); N_DECL(2); N_DECL(3); N_DECL(4); N_DECL(5); N_DECL(6); N_DECL(7);
    for (int i = 0; i < 8; i++) __builtin_prefetch(c + i * ldc, 1, 2);
    for (ptrdiff_t p = 0; p < kc; p++) {
        float32x4_t a0 = vld1q_f32(pa), a1 = vld1q_f32(pa + 4);
        float32x4_t b0 = vld1q_f32(pb), b1 = vld1q_f32(pb + 4), b2 = vld1q_f32(pb + 8);
        N_ROW(0, a0, 0); N_ROW(1, a0, 1); N_ROW(2, a0, 2); N_ROW(3, a0, 3);
        N_ROW(4, a1, 0); N_ROW(5, a1, 1); N_ROW(6, a1, 2); N_ROW(7, a1, 3);
        pa += 8;
        pb += 12;
    }
    N_OUT(0); N_OUT(1); N_OUT(2); N_OUT(3); N_OUT(4); N_OUT(5); N_OUT(6); N_OUT(7);
}
#endif
