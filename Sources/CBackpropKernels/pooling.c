/* Max-pooling argmax (see CBackpropKernels.h). One window at a time with a
 * running (value, index). The comparison is a coin toss on real data, and
 * compilers like to turn the update into a branch (a select whose operand
 * is a load becomes a branch, and loop-carried cmovs are converted back to
 * branches), which mispredicts half the time. So the update is written with
 * bit masks that an empty asm statement hides from the optimiser. */
#include <stdint.h>
#include <string.h>
#include "CBackpropKernels.h"

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
