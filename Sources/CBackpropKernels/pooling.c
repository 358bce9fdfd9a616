/* Max-pooling argmax (see CBackpropKernels.h). One window at a time with a
 * running (value, index). The comparison is a coin toss on real data, and
 * compilers like to turn the update into a branch (a select whose operand
 * is a load becomes a branch, and loop-carried cmovs are converted back to
 * branches), which mispredicts half the time. So the update is written with
 * bit masks that an empty asm statement hides from the optimiser. */
#include <stdint.h>
#include <string.h>
#include "bp_internal.h"

/* An all-ones or all-zeros mask the compiler cannot see through. */
static inline uint64_t bp_opaque_mask(int take) {
    uint64_t m = (uint64_t)0 - (uint64_t)(take != 0);
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(m));
#endif
    return m;
}

#define BP_MAXPOOL(NAME, T, U)                                                                           \
void NAME(const T *x, ptrdiff_t plane_begin, ptrdiff_t plane_end, ptrdiff_t h, ptrdiff_t w,              \
          ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw,            \
          ptrdiff_t pt, ptrdiff_t pl, ptrdiff_t dh, ptrdiff_t dw, ptrdiff_t *out) {                      \
    const int plain = pt == 0 && pl == 0 && dh == 1 && dw == 1;                                          \
    for (ptrdiff_t plane = plane_begin; plane < plane_end; plane++) {                                    \
        const ptrdiff_t base = plane * h * w;                                                            \
        ptrdiff_t *dst = out + plane * oh * ow;                                                          \
        for (ptrdiff_t y = 0; y < oh; y++) {                                                             \
            const ptrdiff_t h0 = y * sh - pt;                                                            \
            const ptrdiff_t ilo = plain || h0 >= 0 ? 0 : (-h0 + dh - 1) / dh;                            \
            ptrdiff_t ihi = plain ? h - h0 : (h - 1 - h0) / dh + 1;                                      \
            if (ihi > kh) ihi = kh;                                                                      \
            for (ptrdiff_t xo = 0; xo < ow; xo++) {                                                      \
                const ptrdiff_t w0 = xo * sw - pl;                                                       \
                const ptrdiff_t jlo = plain || w0 >= 0 ? 0 : (-w0 + dw - 1) / dw;                        \
                ptrdiff_t jhi = plain ? w - w0 : (w - 1 - w0) / dw + 1;                                  \
                if (jhi > kw) jhi = kw;                                                                  \
                ptrdiff_t best = base + (h0 + ilo * dh) * w + w0 + jlo * dw;                             \
                T best_value = x[best];                                                                  \
                for (ptrdiff_t i = ilo; i < ihi; i++) {                                                  \
                    const ptrdiff_t row = base + (h0 + i * dh) * w + w0;                                 \
                    for (ptrdiff_t j = jlo; j < jhi; j++) {                                              \
                        const ptrdiff_t k = row + j * dw;                                                \
                        const T v = x[k];                                                                \
                        /* NaN wins, as in PyTorch; otherwise the first of equal maxima. */              \
                        const uint64_t m = bp_opaque_mask((v > best_value) | ((v != v) & (best_value == best_value))); \
                        U vb, bb;                                                                        \
                        memcpy(&vb, &v, sizeof vb);                                                      \
                        memcpy(&bb, &best_value, sizeof bb);                                             \
                        bb = (U)((vb & (U)m) | (bb & (U)~m));                                            \
                        memcpy(&best_value, &bb, sizeof bb);                                             \
                        best = (ptrdiff_t)(((uint64_t)k & m) | ((uint64_t)best & ~m));                   \
                    }                                                                                    \
                }                                                                                        \
                dst[y * ow + xo] = best;                                                                 \
            }                                                                                            \
        }                                                                                                \
    }                                                                                                    \
}

BP_MAXPOOL(bp_maxpool2d_indices_f32, float, uint32_t)
BP_MAXPOOL(bp_maxpool2d_indices_f64, double, uint64_t)

/* Max pooling with 2 x 2 windows, stride 2, no padding, no dilation (the
 * usual MaxPool2d(2)): the pooled values and the flat indices in one pass.
 * Each window's update is a select, and the loop over output columns has no
 * other control flow, so the compiler vectorises it (the selects become
 * blends): no branch to mispredict, and no opaque mask needed. Same choice
 * as BP_MAXPOOL: NaN wins, otherwise the first of equal maxima in row-major
 * window order. */
#define BP_MAXPOOL_2X2_BODY(T, U)                                                                        \
    const ptrdiff_t ow4 = ow / 4 * 4;                                                                    \
    for (ptrdiff_t plane = plane_begin; plane < plane_end; plane++) {                                    \
        const ptrdiff_t base = plane * h * w;                                                            \
        for (ptrdiff_t y = 0; y < oh; y++) {                                                             \
            const ptrdiff_t r = base + 2 * y * w;                                                        \
            const T *restrict r0 = x + r, *restrict r1 = x + r + w;                                      \
            T *restrict vo = values + (plane * oh + y) * ow;                                             \
            ptrdiff_t *restrict io = out + (plane * oh + y) * ow;                                        \
            /* Whole groups of 4 columns: vectorised with blends. */                                     \
            _Pragma("clang loop vectorize_width(4) interleave_count(1)")                                 \
            for (ptrdiff_t j = 0; j < ow4; j++) {                                                        \
                const T a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];              \
                T m = a;                                                                                 \
                ptrdiff_t k = 0;                                                                         \
                const int tb = (b > m) | ((b != b) & (m == m));                                          \
                m = tb ? b : m;                                                                          \
                k = tb ? 1 : k;                                                                          \
                const int tc = (c > m) | ((c != c) & (m == m));                                          \
                m = tc ? c : m;                                                                          \
                k = tc ? w : k;                                                                          \
                const int td = (d > m) | ((d != d) & (m == m));                                          \
                m = td ? d : m;                                                                          \
                k = td ? w + 1 : k;                                                                      \
                vo[j] = m;                                                                               \
                io[j] = r + 2 * j + k;                                                                   \
            }                                                                                            \
            /* The last 0-3 columns, with the masks of BP_MAXPOOL (scalar selects become branches). */   \
            _Pragma("clang loop vectorize(disable)")                                                     \
            for (ptrdiff_t j = ow4; j < ow; j++) {                                                       \
                const ptrdiff_t taps[3] = {r + 2 * j + 1, r + 2 * j + w, r + 2 * j + w + 1};            \
                T m = x[r + 2 * j];                                                                      \
                ptrdiff_t best = r + 2 * j;                                                              \
                for (int t = 0; t < 3; t++) {                                                            \
                    const T v = x[taps[t]];                                                              \
                    const uint64_t mask = bp_opaque_mask((v > m) | ((v != v) & (m == m)));               \
                    U vb, mb;                                                                            \
                    memcpy(&vb, &v, sizeof vb);                                                          \
                    memcpy(&mb, &m, sizeof mb);                                                          \
                    mb = (U)((vb & (U)mask) | (mb & (U)~mask));                                          \
                    memcpy(&m, &mb, sizeof mb);                                                          \
                    best = (ptrdiff_t)(((uint64_t)taps[t] & mask) | ((uint64_t)best & ~mask));           \
                }                                                                                        \
                vo[j] = m;                                                                               \
                io[j] = best;                                                                            \
            }                                                                                            \
        }                                                                                                \
    }

#define BP_MAXPOOL_2X2(NAME, T, U)                                                                        \
static void NAME##_generic(const T *restrict x, ptrdiff_t plane_begin, ptrdiff_t plane_end, ptrdiff_t h, \
                           ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow, T *restrict values,                  \
                           ptrdiff_t *restrict out) {                                                    \
    BP_MAXPOOL_2X2_BODY(T, U)                                                                            \
}                                                                                                        \
BP_MAXPOOL_2X2_AVX2(NAME, T, U)                                                                          \
void NAME(const T *x, ptrdiff_t plane_begin, ptrdiff_t plane_end, ptrdiff_t h, ptrdiff_t w,              \
          ptrdiff_t oh, ptrdiff_t ow, T *values, ptrdiff_t *out) {                                       \
    BP_MAXPOOL_2X2_DISPATCH(NAME)                                                                        \
    NAME##_generic(x, plane_begin, plane_end, h, w, oh, ow, values, out);                                \
}

#if BP_X86
#define BP_MAXPOOL_2X2_AVX2(NAME, T, U)                                                                   \
BP_TARGET_AVX2 static void NAME##_avx2(const T *restrict x, ptrdiff_t plane_begin, ptrdiff_t plane_end,  \
                                       ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow,             \
                                       T *restrict values, ptrdiff_t *restrict out) {                    \
    BP_MAXPOOL_2X2_BODY(T, U)                                                                            \
}
#define BP_MAXPOOL_2X2_DISPATCH(NAME)                                                                    \
    if (bp_resolve_isa(BP_ISA_AUTO) != BP_ISA_GENERIC) {                                                 \
        NAME##_avx2(x, plane_begin, plane_end, h, w, oh, ow, values, out);                               \
        return;                                                                                          \
    }
#else
#define BP_MAXPOOL_2X2_AVX2(NAME, T, U)
#define BP_MAXPOOL_2X2_DISPATCH(NAME)
#endif

BP_MAXPOOL_2X2(bp_maxpool2d_2x2_f32, float, uint32_t)
BP_MAXPOOL_2X2(bp_maxpool2d_2x2_f64, double, uint64_t)

/* The gradient of a 2 x 2, stride-2 max pool (the adjoint of the gather by
 * `idx`): each window of planes [plane_begin, plane_end) of dx (h x w) gets
 * g at its chosen element and zeros elsewhere; rows and columns that no
 * window covers (odd sizes) get zeros. Written as 0 + g, so that it equals
 * a scatter-add into zeros bit for bit (-0 becomes +0). */
/* No main loop: every element through the scalar masks. */
#define BP_UNPOOL_NO_MAIN(j0)

/* Scalar selects become branches that mispredict: bit masks hidden from the
 * optimiser instead, as in BP_MAXPOOL. */
#define BP_UNPOOL_SCALAR(T, U)                                                                           \
    {                                                                                                    \
        U vb;                                                                                            \
        memcpy(&vb, &v, sizeof vb);                                                                      \
        const ptrdiff_t offs[4] = {0, 1, w, w + 1};                                                      \
        T *const dst[4] = {r0 + 2 * j, r0 + 2 * j + 1, r1 + 2 * j, r1 + 2 * j + 1};                      \
        for (int t = 0; t < 4; t++) {                                                                    \
            const U ob = (U)(vb & (U)bp_opaque_mask(k == offs[t]));                                      \
            T o;                                                                                         \
            memcpy(&o, &ob, sizeof o);                                                                   \
            *dst[t] = o + (T)0;                                                                          \
        }                                                                                                \
    }

#define BP_MAXUNPOOL_2X2_BODY(T, U, MAIN)                                                                  \
    for (ptrdiff_t plane = plane_begin; plane < plane_end; plane++) {                                    \
        const ptrdiff_t base = plane * h * w;                                                            \
        for (ptrdiff_t y = 0; y < oh; y++) {                                                             \
            const ptrdiff_t r = base + 2 * y * w;                                                        \
            T *restrict r0 = dx + r, *restrict r1 = dx + r + w;                                          \
            const T *restrict gy = g + (plane * oh + y) * ow;                                            \
            const ptrdiff_t *restrict iy = idx + (plane * oh + y) * ow;                                  \
            ptrdiff_t j0 = 0;                                                                            \
            MAIN(j0)                                                                                     \
            _Pragma("clang loop vectorize(disable)")                                                     \
            for (ptrdiff_t j = j0; j < ow; j++) {                                                        \
                const ptrdiff_t k = iy[j] - (r + 2 * j);                                                 \
                const T v = gy[j];                                                                       \
                BP_UNPOOL_SCALAR(T, U)                                                                   \
            }                                                                                            \
            for (ptrdiff_t c = 2 * ow; c < w; c++) r0[c] = r1[c] = 0;                                    \
        }                                                                                                \
        for (ptrdiff_t e = base + 2 * oh * w; e < base + h * w; e++) dx[e] = 0;                          \
    }

#define BP_MAXUNPOOL_2X2(NAME, T, U)                                                                     \
static void NAME##_generic(const T *restrict g, const ptrdiff_t *restrict idx, ptrdiff_t plane_begin,    \
                           ptrdiff_t plane_end, ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow,    \
                           T *restrict dx) {                                                             \
    BP_MAXUNPOOL_2X2_BODY(T, U, BP_UNPOOL_NO_MAIN)                                                       \
}                                                                                                        \
BP_MAXUNPOOL_2X2_AVX2(NAME, T, U)                                                                        \
void NAME(const T *g, const ptrdiff_t *idx, ptrdiff_t plane_begin, ptrdiff_t plane_end, ptrdiff_t h,     \
          ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow, T *dx) {                                              \
    BP_MAXUNPOOL_2X2_DISPATCH(NAME)                                                                      \
    NAME##_generic(g, idx, plane_begin, plane_end, h, w, oh, ow, dx);                                    \
}

#if BP_X86
#include <immintrin.h>
/* Four output elements at a time (float): the window offsets k of four
 * indices compared with 0, 1, w and w + 1 give four masks of v, which
 * interleave into the two rows of four windows. */
#define BP_UNPOOL_MAIN_F32(j0)                                                                           \
    {                                                                                                    \
        const __m256i wv = _mm256_set1_epi64x(w), one = _mm256_set1_epi64x(1);                           \
        const __m256i spread = _mm256_setr_epi64x(0, 2, 4, 6);                                           \
        const __m256i lows = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);                                  \
        const __m128 zero = _mm_setzero_ps();                                                            \
        for (; j0 + 4 <= ow; j0 += 4) {                                                                  \
            const __m256i at = _mm256_add_epi64(_mm256_set1_epi64x(r + 2 * j0), spread);                 \
            const __m256i k = _mm256_sub_epi64(_mm256_loadu_si256((const __m256i *)(iy + j0)), at);     \
            const __m128 v = _mm_loadu_ps(gy + j0);                                                      \
            __m128 m[4];                                                                                 \
            const __m256i eq[4] = {_mm256_cmpeq_epi64(k, _mm256_setzero_si256()),                        \
                                   _mm256_cmpeq_epi64(k, one), _mm256_cmpeq_epi64(k, wv),                \
                                   _mm256_cmpeq_epi64(k, _mm256_add_epi64(wv, one))};                    \
            for (int t = 0; t < 4; t++)                                                                  \
                m[t] = _mm_add_ps(_mm_and_ps(v, _mm_castsi128_ps(_mm256_castsi256_si128(                \
                                                   _mm256_permutevar8x32_epi32(eq[t], lows)))), zero);   \
            _mm_storeu_ps(r0 + 2 * j0, _mm_unpacklo_ps(m[0], m[1]));                                     \
            _mm_storeu_ps(r0 + 2 * j0 + 4, _mm_unpackhi_ps(m[0], m[1]));                                 \
            _mm_storeu_ps(r1 + 2 * j0, _mm_unpacklo_ps(m[2], m[3]));                                     \
            _mm_storeu_ps(r1 + 2 * j0 + 4, _mm_unpackhi_ps(m[2], m[3]));                                 \
        }                                                                                                \
    }
#define BP_UNPOOL_MAIN_float BP_UNPOOL_MAIN_F32
#define BP_UNPOOL_MAIN_double BP_UNPOOL_NO_MAIN
#define BP_MAXUNPOOL_2X2_AVX2(NAME, T, U)                                                                \
BP_TARGET_AVX2 static void NAME##_avx2(const T *restrict g, const ptrdiff_t *restrict idx,               \
                                       ptrdiff_t plane_begin, ptrdiff_t plane_end, ptrdiff_t h,          \
                                       ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow, T *restrict dx) {        \
    BP_MAXUNPOOL_2X2_BODY(T, U, BP_UNPOOL_MAIN_##T)                                                      \
}
#define BP_MAXUNPOOL_2X2_DISPATCH(NAME)                                                                  \
    if (bp_resolve_isa(BP_ISA_AUTO) != BP_ISA_GENERIC) {                                                 \
        NAME##_avx2(g, idx, plane_begin, plane_end, h, w, oh, ow, dx);                                   \
        return;                                                                                          \
    }
#else
#define BP_MAXUNPOOL_2X2_AVX2(NAME, T, U)
#define BP_MAXUNPOOL_2X2_DISPATCH(NAME)
#endif

BP_MAXUNPOOL_2X2(bp_maxunpool2d_2x2_f32, float, uint32_t)
BP_MAXUNPOOL_2X2(bp_maxunpool2d_2x2_f64, double, uint64_t)
