/* Max-pooling argmax (see CBackpropKernels.h). One window at a time with
 * running (value, index); the update is marked unpredictable so that the
 * compiler keeps conditional moves instead of a mispredicted branch. */
#include "CBackpropKernels.h"

#ifndef __has_builtin
#define __has_builtin(x) 0
#endif
#if __has_builtin(__builtin_unpredictable)
#define BP_UNPREDICTABLE(c) __builtin_unpredictable(c)
#else
#define BP_UNPREDICTABLE(c) (c)
#endif

#define BP_MAXPOOL(NAME, T)                                                                              \
void NAME(const T *x, ptrdiff_t plane_begin, ptrdiff_t plane_end, ptrdiff_t h, ptrdiff_t w,              \
          ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw,            \
          ptrdiff_t pt, ptrdiff_t pl, ptrdiff_t dh, ptrdiff_t dw, ptrdiff_t *out) {                      \
    for (ptrdiff_t plane = plane_begin; plane < plane_end; plane++) {                                    \
        const ptrdiff_t base = plane * h * w;                                                            \
        ptrdiff_t *dst = out + plane * oh * ow;                                                          \
        for (ptrdiff_t y = 0; y < oh; y++) {                                                             \
            const ptrdiff_t h0 = y * sh - pt;                                                            \
            const ptrdiff_t ilo = h0 >= 0 ? 0 : (-h0 + dh - 1) / dh;                                     \
            ptrdiff_t ihi = (h - 1 - h0) / dh + 1;                                                       \
            if (ihi > kh) ihi = kh;                                                                      \
            for (ptrdiff_t xo = 0; xo < ow; xo++) {                                                      \
                const ptrdiff_t w0 = xo * sw - pl;                                                       \
                const ptrdiff_t jlo = w0 >= 0 ? 0 : (-w0 + dw - 1) / dw;                                 \
                ptrdiff_t jhi = (w - 1 - w0) / dw + 1;                                                   \
                if (jhi > kw) jhi = kw;                                                                  \
                ptrdiff_t best = base + (h0 + ilo * dh) * w + w0 + jlo * dw;                             \
                T best_value = x[best];                                                                  \
                for (ptrdiff_t i = ilo; i < ihi; i++) {                                                  \
                    const ptrdiff_t row = base + (h0 + i * dh) * w + w0;                                 \
                    for (ptrdiff_t j = jlo; j < jhi; j++) {                                              \
                        const ptrdiff_t k = row + j * dw;                                                \
                        const T v = x[k];                                                                \
                        /* NaN wins, as in PyTorch; otherwise the first of equal maxima. */              \
                        const int take = (v > best_value) | ((v != v) & (best_value == best_value));     \
                        if (BP_UNPREDICTABLE(take)) { best = k; best_value = v; }                        \
                    }                                                                                    \
                }                                                                                        \
                dst[y * ow + xo] = best;                                                                 \
            }                                                                                            \
        }                                                                                                \
    }                                                                                                    \
}

BP_MAXPOOL(bp_maxpool2d_indices_f32, float)
BP_MAXPOOL(bp_maxpool2d_indices_f64, double)
