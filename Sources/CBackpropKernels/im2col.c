/* im2col and col2im of one image (see CBackpropKernels.h). The rows of a
 * small feature map are short (11 or 26 floats in a MNIST-sized CNN), so
 * the copies are written as whole vectors, the last one overlapping the one
 * before, rather than as loops that the compiler turns into calls to memcpy
 * (whose call costs more than such a copy). */
#include <string.h>
#include "bp_internal.h"
#if BP_X86
#include <immintrin.h>
#endif

/* The output columns [start, end) whose input column xo * sw + off lies inside [0, w). */
static inline void bp_inside(ptrdiff_t off, ptrdiff_t ow, ptrdiff_t sw, ptrdiff_t w, ptrdiff_t *start,
                             ptrdiff_t *end) {
    ptrdiff_t s = off >= 0 ? 0 : (-off + sw - 1) / sw;
    if (s > ow) s = ow;
    ptrdiff_t last = w - 1 - off;
    ptrdiff_t e = last >= 0 ? last / sw + 1 : 0;
    if (e > ow) e = ow;
    if (e < s) e = s;
    *start = s;
    *end = e;
}

/* The loops, for one element type, given how to copy a run, zero a run and
 * add a run (each of n elements, contiguous). */
#define BP_IM2COL_BODY(T, COPY, ZERO, ADD)                                                               \
    const ptrdiff_t kk = g->kernel_h * g->kernel_w, oh = g->out_h, ow = g->out_w, h = g->height,         \
                    w = g->width, sw = g->stride_w;                                                      \
    for (ptrdiff_t row = 0; row < g->channels * kk; row++) {                                             \
        const ptrdiff_t c = row / kk, i = row / g->kernel_w % g->kernel_h, j = row % g->kernel_w;        \
        const ptrdiff_t off = j * g->dilation_w - g->pad_left;                                           \
        ptrdiff_t start, end;                                                                            \
        bp_inside(off, ow, sw, w, &start, &end);                                                         \
        T *line = cols + row * ld;                                                                       \
        const T *plane = x + c * h * w;                                                                  \
        const ptrdiff_t ih0 = i * g->dilation_h - g->pad_top;                                            \
        if (sw == 1 && start == 0 && end == ow && ih0 >= 0 && (oh - 1) * g->stride_h + ih0 < h) {        \
            /* Every window row of this tap inside the image: a plain 2-D copy. */                       \
            const T *src = plane + ih0 * w + off;                                                        \
            const ptrdiff_t step = g->stride_h * w;                                                      \
            for (ptrdiff_t y = 0; y < oh; y++, src += step, line += ow) COPY(line, src, ow);             \
            continue;                                                                                    \
        }                                                                                                \
        for (ptrdiff_t y = 0; y < oh; y++) {                                                             \
            const ptrdiff_t ih = y * g->stride_h - g->pad_top + i * g->dilation_h;                       \
            T *dst = line + y * ow;                                                                      \
            BP_IM2COL_ROW(T, COPY, ZERO, ADD)                                                            \
        }                                                                                                \
    }

#define BP_IM2COL_ROW(T, COPY, ZERO, ADD)                                                                \
    if (ih < 0 || ih >= h) {                                                                             \
        ZERO(dst, ow);                                                                                   \
        continue;                                                                                        \
    }                                                                                                    \
    const T *src = plane + ih * w + off;                                                                 \
    if (start > 0) ZERO(dst, start);                                                                     \
    if (sw == 1) {                                                                                       \
        COPY(dst + start, src + start, end - start);                                                     \
    } else {                                                                                             \
        for (ptrdiff_t xo = start; xo < end; xo++) dst[xo] = src[xo * sw];                               \
    }                                                                                                    \
    if (end < ow) ZERO(dst + end, ow - end);

#define BP_COL2IM_BODY(T, ADD)                                                                           \
    const ptrdiff_t kk = g->kernel_h * g->kernel_w, oh = g->out_h, ow = g->out_w, h = g->height,         \
                    w = g->width, sw = g->stride_w;                                                      \
    memset(dx, 0, sizeof(T) * (size_t)(g->channels * h * w));                                            \
    for (ptrdiff_t row = 0; row < g->channels * kk; row++) {                                             \
        const ptrdiff_t c = row / kk, i = row / g->kernel_w % g->kernel_h, j = row % g->kernel_w;        \
        const ptrdiff_t off = j * g->dilation_w - g->pad_left;                                           \
        ptrdiff_t start, end;                                                                            \
        bp_inside(off, ow, sw, w, &start, &end);                                                         \
        const T *line = cols + row * ld;                                                                 \
        T *plane = dx + c * h * w;                                                                       \
        const ptrdiff_t ih0 = i * g->dilation_h - g->pad_top;                                            \
        if (sw == 1 && start == 0 && end == ow && ih0 >= 0 && (oh - 1) * g->stride_h + ih0 < h) {        \
            T *dst = plane + ih0 * w + off;                                                              \
            const ptrdiff_t step = g->stride_h * w;                                                      \
            for (ptrdiff_t y = 0; y < oh; y++, dst += step, line += ow) ADD(dst, line, ow);              \
            continue;                                                                                    \
        }                                                                                                \
        for (ptrdiff_t y = 0; y < oh; y++) {                                                             \
            const ptrdiff_t ih = y * g->stride_h - g->pad_top + i * g->dilation_h;                       \
            if (ih < 0 || ih >= h) continue;                                                             \
            T *dst = plane + ih * w + off;                                                               \
            const T *s = line + y * ow;                                                                  \
            if (sw == 1) {                                                                               \
                ADD(dst + start, s + start, end - start);                                                \
            } else {                                                                                     \
                for (ptrdiff_t xo = start; xo < end; xo++) dst[xo * sw] += s[xo];                        \
            }                                                                                            \
        }                                                                                                \
    }

/* Portable runs: element loops the compiler may not turn into library calls. */
#define BP_DEFINE_PORTABLE_RUNS(T, SUFFIX)                                                               \
__attribute__((no_builtin("memcpy", "memset"))) static inline void                                      \
bp_copy_##SUFFIX(T *restrict d, const T *restrict s, ptrdiff_t n) {                                      \
    for (ptrdiff_t k = 0; k < n; k++) d[k] = s[k];                                                       \
}                                                                                                        \
__attribute__((no_builtin("memcpy", "memset"))) static inline void bp_zero_##SUFFIX(T *d, ptrdiff_t n) { \
    for (ptrdiff_t k = 0; k < n; k++) d[k] = 0;                                                          \
}                                                                                                        \
static inline void bp_add_##SUFFIX(T *restrict d, const T *restrict s, ptrdiff_t n) {                    \
    for (ptrdiff_t k = 0; k < n; k++) d[k] += s[k];                                                      \
}

BP_DEFINE_PORTABLE_RUNS(float, f32)
BP_DEFINE_PORTABLE_RUNS(double, f64)

#define BP_DEFINE_IM2COL(NAME, T, COPY, ZERO, ADD, ATTR)                                                 \
ATTR __attribute__((no_builtin("memcpy", "memset"))) static void NAME(const T *restrict x, const bp_conv_geometry *g, T *restrict cols, ptrdiff_t ld) {  \
    BP_IM2COL_BODY(T, COPY, ZERO, ADD)                                                                   \
}
#define BP_DEFINE_COL2IM(NAME, T, ADD, ATTR)                                                             \
ATTR static void NAME(const T *restrict cols, ptrdiff_t ld, const bp_conv_geometry *g, T *restrict dx) { \
    BP_COL2IM_BODY(T, ADD)                                                                               \
}

BP_DEFINE_IM2COL(bp_im2col_f32_generic, float, bp_copy_f32, bp_zero_f32, bp_add_f32, )
BP_DEFINE_IM2COL(bp_im2col_f64_generic, double, bp_copy_f64, bp_zero_f64, bp_add_f64, )
BP_DEFINE_COL2IM(bp_col2im_f32_generic, float, bp_add_f32, )
BP_DEFINE_COL2IM(bp_col2im_f64_generic, double, bp_add_f64, )

#if BP_X86
/* Float runs on AVX2: 8 at a time, the last 8 overlapping (copies and
 * zeros write the same value twice); sums take the tail one by one. */
BP_TARGET_AVX2 __attribute__((no_builtin("memcpy", "memset"))) static inline void bp_copy_f32_avx2(float *restrict d, const float *restrict s, ptrdiff_t n) {
    if (n >= 8) {
        ptrdiff_t k = 0;
        for (; k + 8 <= n; k += 8) _mm256_storeu_ps(d + k, _mm256_loadu_ps(s + k));
        if (k < n) _mm256_storeu_ps(d + n - 8, _mm256_loadu_ps(s + n - 8));
    } else if (n >= 4) {
        _mm_storeu_ps(d, _mm_loadu_ps(s));
        _mm_storeu_ps(d + n - 4, _mm_loadu_ps(s + n - 4));
    } else {
        for (ptrdiff_t k = 0; k < n; k++) d[k] = s[k];
    }
}
BP_TARGET_AVX2 __attribute__((no_builtin("memcpy", "memset"))) static inline void bp_zero_f32_avx2(float *d, ptrdiff_t n) {
    if (n >= 8) {
        ptrdiff_t k = 0;
        for (; k + 8 <= n; k += 8) _mm256_storeu_ps(d + k, _mm256_setzero_ps());
        if (k < n) _mm256_storeu_ps(d + n - 8, _mm256_setzero_ps());
    } else {
        for (ptrdiff_t k = 0; k < n; k++) d[k] = 0;
    }
}
BP_TARGET_AVX2 static inline void bp_add_f32_avx2(float *restrict d, const float *restrict s, ptrdiff_t n) {
    ptrdiff_t k = 0;
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(d + k, _mm256_add_ps(_mm256_loadu_ps(d + k), _mm256_loadu_ps(s + k)));
    if (k + 4 <= n) {
        _mm_storeu_ps(d + k, _mm_add_ps(_mm_loadu_ps(d + k), _mm_loadu_ps(s + k)));
        k += 4;
    }
    for (; k < n; k++) d[k] += s[k];
}
BP_DEFINE_IM2COL(bp_im2col_f32_avx2, float, bp_copy_f32_avx2, bp_zero_f32_avx2, bp_add_f32_avx2, BP_TARGET_AVX2)
BP_DEFINE_COL2IM(bp_col2im_f32_avx2, float, bp_add_f32_avx2, BP_TARGET_AVX2)
BP_DEFINE_IM2COL(bp_im2col_f64_avx2, double, bp_copy_f64, bp_zero_f64, bp_add_f64, BP_TARGET_AVX2)
BP_DEFINE_COL2IM(bp_col2im_f64_avx2, double, bp_add_f64, BP_TARGET_AVX2)
#define BP_VECTOR_PATH (bp_resolve_isa(BP_ISA_AUTO) != BP_ISA_GENERIC)
#else
#define BP_VECTOR_PATH 0
#define bp_im2col_f32_avx2 bp_im2col_f32_generic
#define bp_im2col_f64_avx2 bp_im2col_f64_generic
#define bp_col2im_f32_avx2 bp_col2im_f32_generic
#define bp_col2im_f64_avx2 bp_col2im_f64_generic
#endif

void bp_im2col_f32(const float *x, const bp_conv_geometry *g, float *cols, ptrdiff_t ld) {
    if (BP_VECTOR_PATH) bp_im2col_f32_avx2(x, g, cols, ld);
    else bp_im2col_f32_generic(x, g, cols, ld);
}
void bp_im2col_f64(const double *x, const bp_conv_geometry *g, double *cols, ptrdiff_t ld) {
    if (BP_VECTOR_PATH) bp_im2col_f64_avx2(x, g, cols, ld);
    else bp_im2col_f64_generic(x, g, cols, ld);
}
void bp_col2im_f32(const float *cols, ptrdiff_t ld, const bp_conv_geometry *g, float *dx) {
    if (BP_VECTOR_PATH) bp_col2im_f32_avx2(cols, ld, g, dx);
    else bp_col2im_f32_generic(cols, ld, g, dx);
}
void bp_col2im_f64(const double *cols, ptrdiff_t ld, const bp_conv_geometry *g, double *dx) {
    if (BP_VECTOR_PATH) bp_col2im_f64_avx2(cols, ld, g, dx);
    else bp_col2im_f64_generic(cols, ld, g, dx);
}
