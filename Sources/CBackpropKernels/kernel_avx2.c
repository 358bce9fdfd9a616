/* AVX2 + FMA micro-kernels: float 6 x 16 and double 6 x 8, 12 ymm accumulators. */
#include "bp_internal.h"

#if BP_X86
#include <immintrin.h>

#define S_STORE(ptr, acc)                                                          \
    do {                                                                           \
        __m256 v_ = _mm256_mul_ps(acc, va);                                        \
        if (beta != 0.0f) v_ = _mm256_fmadd_ps(_mm256_loadu_ps(ptr), vb, v_);      \
        _mm256_storeu_ps(ptr, v_);                                                 \
    } while (0)
#define S_DECL(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps()
#define S_ROW(i)                                                                   \
    do {                                                                           \
        __m256 a_ = _mm256_broadcast_ss(pa + (i));                                 \
        c##i##0 = _mm256_fmadd_ps(a_, b0, c##i##0);                                \
        c##i##1 = _mm256_fmadd_ps(a_, b1, c##i##1);                                \
    } while (0)
#define S_OUT(i)                                                                   \
    do {                                                                           \
        S_STORE(c + (i) * ldc, c##i##0);                                           \
        S_STORE(c + (i) * ldc + 8, c##i##1);                                       \
    } while (0)

/* C rows are prefetched into L2 at the start (they are stored at the end). */
#define PF_C2(i)                                                                   \
    do {                                                                           \
        _mm_prefetch((const char *)(c + (i) * ldc), _MM_HINT_T1);                  \
        _mm_prefetch((const char *)(c + (i) * ldc + 7), _MM_HINT_T1);              \
    } while (0)

BP_TARGET_AVX2
void bp_skernel_avx2(ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
                     float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    S_DECL(0); S_DECL(1); S_DECL(2); S_DECL(3); S_DECL(4); S_DECL(5);
    /* A row of the tile is 64 bytes: one line, or two when unaligned. */
    PF_C2(0); PF_C2(1); PF_C2(2); PF_C2(3); PF_C2(4); PF_C2(5);
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(pb);
        __m256 b1 = _mm256_load_ps(pb + 8);
        S_ROW(0); S_ROW(1); S_ROW(2); S_ROW(3); S_ROW(4); S_ROW(5);
        pa += 6;
        pb += 16;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    S_OUT(0); S_OUT(1); S_OUT(2); S_OUT(3); S_OUT(4); S_OUT(5);
}

#define D_STORE(ptr, acc)                                                          \
    do {                                                                           \
        __m256d v_ = _mm256_mul_pd(acc, va);                                       \
        if (beta != 0.0) v_ = _mm256_fmadd_pd(_mm256_loadu_pd(ptr), vb, v_);       \
        _mm256_storeu_pd(ptr, v_);                                                 \
    } while (0)
#define D_DECL(i) __m256d c##i##0 = _mm256_setzero_pd(), c##i##1 = _mm256_setzero_pd()
#define D_ROW(i)                                                                   \
    do {                                                                           \
        __m256d a_ = _mm256_broadcast_sd(pa + (i));                                \
        c##i##0 = _mm256_fmadd_pd(a_, b0, c##i##0);                                \
        c##i##1 = _mm256_fmadd_pd(a_, b1, c##i##1);                                \
    } while (0)
#define D_OUT(i)                                                                   \
    do {                                                                           \
        D_STORE(c + (i) * ldc, c##i##0);                                           \
        D_STORE(c + (i) * ldc + 4, c##i##1);                                       \
    } while (0)

BP_TARGET_AVX2
void bp_dkernel_avx2(ptrdiff_t kc, const double *restrict pa, const double *restrict pb,
                     double *restrict c, ptrdiff_t ldc, double alpha, double beta) {
    D_DECL(0); D_DECL(1); D_DECL(2); D_DECL(3); D_DECL(4); D_DECL(5);
    PF_C2(0); PF_C2(1); PF_C2(2); PF_C2(3); PF_C2(4); PF_C2(5);
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m256d b0 = _mm256_load_pd(pb);
        __m256d b1 = _mm256_load_pd(pb + 4);
        D_ROW(0); D_ROW(1); D_ROW(2); D_ROW(3); D_ROW(4); D_ROW(5);
        pa += 6;
        pb += 8;
    }
    __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
    D_OUT(0); D_OUT(1); D_OUT(2); D_OUT(3); D_OUT(4); D_OUT(5);
}

#endif
