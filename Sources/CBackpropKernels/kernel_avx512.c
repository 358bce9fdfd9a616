/* AVX-512 micro-kernels: float 14 x 32 and double 14 x 16, 28 zmm accumulators.
 * Only these functions may use zmm registers (function-level target). */
#include "bp_internal.h"

#if BP_X86
#include <immintrin.h>

/* Stores one accumulator row: c = alpha * acc (+ beta * c), then, in the
 * epilogue variant (EPI), + the bias vector `bv` and the ReLU. */
#define S_STORE(ptr, acc, bv)                                                      \
    do {                                                                           \
        __m512 v_ = _mm512_mul_ps(acc, va);                                        \
        if (beta != 0.0f) v_ = _mm512_fmadd_ps(_mm512_loadu_ps(ptr), vb, v_);      \
        if (EPI) v_ = s_epilogue16(v_, bv, has_bias, relu, vs);                    \
        _mm512_storeu_ps(ptr, v_);                                                 \
    } while (0)

/* The epilogue of one vector: v + bias (when has_bias), then
 * v < 0 ? 0 : scale * v (when relu), as the Swift ReLU kernel computes it
 * (NaN and -0 pass through). */
static inline __attribute__((always_inline)) BP_TARGET_AVX512 __m512
s_epilogue16(__m512 v, __m512 bias, int has_bias, int relu, __m512 scale) {
    if (has_bias) v = _mm512_add_ps(v, bias);
    if (relu) {
        __mmask16 keep = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLT_UQ);
        v = _mm512_maskz_mul_ps(keep, v, scale);
    }
    return v;
}

#define S_ROW(i)                                                                   \
    do {                                                                           \
        __m512 a_ = _mm512_set1_ps(pa[i]);                                         \
        c##i##0 = _mm512_fmadd_ps(a_, b0, c##i##0);                                \
        c##i##1 = _mm512_fmadd_ps(a_, b1, c##i##1);                                \
    } while (0)

#define S_DECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps()
#define S_OUT(i)                                                                   \
    do {                                                                           \
        S_STORE(c + (i) * ldc, c##i##0, bias0);                                    \
        S_STORE(c + (i) * ldc + 16, c##i##1, bias1);                               \
    } while (0)
/* C rows are prefetched into L2, not L1: with a power-of-two ldc all 14 rows
 * of a tile map to the same L1 sets and would evict each other (and B). */
#define PF_C(i)                                                                    \
    do {                                                                           \
        _mm_prefetch((const char *)(c + (i) * ldc), _MM_HINT_T1);                  \
        _mm_prefetch((const char *)(c + (i) * ldc + 31), _MM_HINT_T1);             \
    } while (0)

/* The 14 x 32 kernel; EPI (a constant) adds the epilogue to the store. */
static inline __attribute__((always_inline)) BP_TARGET_AVX512 void
s_kernel(const int EPI, ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
         float *restrict c, ptrdiff_t ldc, float alpha, float beta, const float *restrict bias,
         int relu, float scale) {
    S_DECL(0); S_DECL(1); S_DECL(2); S_DECL(3); S_DECL(4); S_DECL(5); S_DECL(6);
    S_DECL(7); S_DECL(8); S_DECL(9); S_DECL(10); S_DECL(11); S_DECL(12); S_DECL(13);
    PF_C(0); PF_C(1); PF_C(2); PF_C(3); PF_C(4); PF_C(5); PF_C(6);
    PF_C(7); PF_C(8); PF_C(9); PF_C(10); PF_C(11); PF_C(12); PF_C(13);
    /* The last 14 steps each bring one row of C (already in L2) into L1. */
    ptrdiff_t tail = kc < 14 ? kc : 14;
    for (ptrdiff_t p = 0; p < kc - tail; p++) {
        __m512 b0 = _mm512_load_ps(pb);
        __m512 b1 = _mm512_load_ps(pb + 16);
        _mm_prefetch((const char *)(pa + 14 * 16), _MM_HINT_T0);
        S_ROW(0); S_ROW(1); S_ROW(2); S_ROW(3); S_ROW(4); S_ROW(5); S_ROW(6);
        S_ROW(7); S_ROW(8); S_ROW(9); S_ROW(10); S_ROW(11); S_ROW(12); S_ROW(13);
        pa += 14;
        pb += 32;
    }
    for (ptrdiff_t p = 0; p < tail; p++) {
        __m512 b0 = _mm512_load_ps(pb);
        __m512 b1 = _mm512_load_ps(pb + 16);
        _mm_prefetch((const char *)(c + p * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + p * ldc + 31), _MM_HINT_T0);
        S_ROW(0); S_ROW(1); S_ROW(2); S_ROW(3); S_ROW(4); S_ROW(5); S_ROW(6);
        S_ROW(7); S_ROW(8); S_ROW(9); S_ROW(10); S_ROW(11); S_ROW(12); S_ROW(13);
        pa += 14;
        pb += 32;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), vs = _mm512_set1_ps(scale);
    const int has_bias = EPI && bias != NULL;
    __m512 bias0 = has_bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    __m512 bias1 = has_bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
    S_OUT(0); S_OUT(1); S_OUT(2); S_OUT(3); S_OUT(4); S_OUT(5); S_OUT(6);
    S_OUT(7); S_OUT(8); S_OUT(9); S_OUT(10); S_OUT(11); S_OUT(12); S_OUT(13);
}

BP_TARGET_AVX512
void bp_skernel_avx512(ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
                       float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    s_kernel(0, kc, pa, pb, c, ldc, alpha, beta, NULL, 0, 1);
}

BP_TARGET_AVX512
void bp_skernel_epi_avx512(ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
                           float *restrict c, ptrdiff_t ldc, float alpha, float beta,
                           const float *restrict bias, int relu, float scale) {
    s_kernel(1, kc, pa, pb, c, ldc, alpha, beta, bias, relu, scale);
}

/* The float kernel for an edge tile: R <= 14 real rows of a packed panel
 * (14 wide) times NV (1 or 2) vectors of 16 columns of a packed B panel (32
 * wide), the last vector stored under `last` (its real columns). Only the
 * real rows and columns of C are read and written. */
static inline __attribute__((always_inline)) BP_TARGET_AVX512 void
s_kernel_edge(const int R, const int NV, ptrdiff_t kc, const float *restrict pa,
              const float *restrict pb, float *restrict c, ptrdiff_t ldc, float alpha,
              float beta, __mmask16 last, const float *restrict bias, int relu, float scale) {
    __m512 acc[14][2];
    for (int i = 0; i < R; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m512 b[2];
        for (int v = 0; v < NV; v++) b[v] = _mm512_load_ps(pb + 16 * v);
        for (int i = 0; i < R; i++) {
            __m512 a_ = _mm512_set1_ps(pa[i]);
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(a_, b[v], acc[i][v]);
        }
        pa += 14;
        pb += 32;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), vs = _mm512_set1_ps(scale);
    const int has_bias = bias != NULL;
    __m512 bv[2];
    for (int v = 0; v < NV; v++)
        bv[v] = has_bias ? _mm512_maskz_loadu_ps(v == NV - 1 ? last : (__mmask16)0xFFFF, bias + 16 * v)
                         : _mm512_setzero_ps();
    for (int i = 0; i < R; i++) {
        for (int v = 0; v < NV; v++) {
            float *ptr = c + i * ldc + 16 * v;
            __mmask16 k = v == NV - 1 ? last : (__mmask16)0xFFFF;
            __m512 x = _mm512_mul_ps(acc[i][v], va);
            if (beta != 0.0f) x = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, ptr), vb, x);
            x = s_epilogue16(x, bv[v], has_bias, relu, vs);
            _mm512_mask_storeu_ps(ptr, k, x);
        }
    }
}

#define S_EDGE_CASE(R)                                                             \
    case R:                                                                        \
        if (nv == 1) s_kernel_edge(R, 1, kc, pa, pb, c, ldc, alpha, beta, last, bias, relu, scale); \
        else s_kernel_edge(R, 2, kc, pa, pb, c, ldc, alpha, beta, last, bias, relu, scale);        \
        return 1;

BP_TARGET_AVX512
int bp_skernel_edge_avx512(int rows, int cols, ptrdiff_t kc, const float *restrict pa,
                           const float *restrict pb, float *restrict c, ptrdiff_t ldc,
                           float alpha, float beta, const float *restrict bias, int relu,
                           float scale) {
    int nv = cols > 16 ? 2 : 1, rem = cols - 16 * (nv - 1);
    __mmask16 last = (__mmask16)((1u << rem) - 1);
    switch (rows) {
    S_EDGE_CASE(1) S_EDGE_CASE(2) S_EDGE_CASE(3) S_EDGE_CASE(4) S_EDGE_CASE(5)
    S_EDGE_CASE(6) S_EDGE_CASE(7) S_EDGE_CASE(8) S_EDGE_CASE(9) S_EDGE_CASE(10)
    S_EDGE_CASE(11) S_EDGE_CASE(12) S_EDGE_CASE(13) S_EDGE_CASE(14)
    default: return 0;
    }
}

#define D_STORE(ptr, acc)                                                          \
    do {                                                                           \
        __m512d v_ = _mm512_mul_pd(acc, va);                                       \
        if (beta != 0.0) v_ = _mm512_fmadd_pd(_mm512_loadu_pd(ptr), vb, v_);       \
        _mm512_storeu_pd(ptr, v_);                                                 \
    } while (0)

#define D_ROW(i)                                                                   \
    do {                                                                           \
        __m512d a_ = _mm512_set1_pd(pa[i]);                                        \
        c##i##0 = _mm512_fmadd_pd(a_, b0, c##i##0);                                \
        c##i##1 = _mm512_fmadd_pd(a_, b1, c##i##1);                                \
    } while (0)

#define D_DECL(i) __m512d c##i##0 = _mm512_setzero_pd(), c##i##1 = _mm512_setzero_pd()
#define D_OUT(i)                                                                   \
    do {                                                                           \
        D_STORE(c + (i) * ldc, c##i##0);                                           \
        D_STORE(c + (i) * ldc + 8, c##i##1);                                       \
    } while (0)
#define PF_D(i)                                                                    \
    do {                                                                           \
        _mm_prefetch((const char *)(c + (i) * ldc), _MM_HINT_T1);                  \
        _mm_prefetch((const char *)(c + (i) * ldc + 15), _MM_HINT_T1);             \
    } while (0)

BP_TARGET_AVX512
void bp_dkernel_avx512(ptrdiff_t kc, const double *restrict pa, const double *restrict pb,
                       double *restrict c, ptrdiff_t ldc, double alpha, double beta) {
    D_DECL(0); D_DECL(1); D_DECL(2); D_DECL(3); D_DECL(4); D_DECL(5); D_DECL(6);
    D_DECL(7); D_DECL(8); D_DECL(9); D_DECL(10); D_DECL(11); D_DECL(12); D_DECL(13);
    PF_D(0); PF_D(1); PF_D(2); PF_D(3); PF_D(4); PF_D(5); PF_D(6);
    PF_D(7); PF_D(8); PF_D(9); PF_D(10); PF_D(11); PF_D(12); PF_D(13);
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m512d b0 = _mm512_load_pd(pb);
        __m512d b1 = _mm512_load_pd(pb + 8);
        _mm_prefetch((const char *)(pa + 14 * 8), _MM_HINT_T0);
        D_ROW(0); D_ROW(1); D_ROW(2); D_ROW(3); D_ROW(4); D_ROW(5); D_ROW(6);
        D_ROW(7); D_ROW(8); D_ROW(9); D_ROW(10); D_ROW(11); D_ROW(12); D_ROW(13);
        pa += 14;
        pb += 16;
    }
    __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
    D_OUT(0); D_OUT(1); D_OUT(2); D_OUT(3); D_OUT(4); D_OUT(5); D_OUT(6);
    D_OUT(7); D_OUT(8); D_OUT(9); D_OUT(10); D_OUT(11); D_OUT(12); D_OUT(13);
}

/* Transposes a 16 x 16 block held in r[0..15] (row i in r[i]) in registers:
 * on return r[j] holds column j. */
#define S_TRANSPOSE16(r, t)                                                        \
    do {                                                                           \
        for (int i_ = 0; i_ < 16; i_ += 2) {                                       \
            t[i_] = _mm512_unpacklo_ps(r[i_], r[i_ + 1]);                          \
            t[i_ + 1] = _mm512_unpackhi_ps(r[i_], r[i_ + 1]);                      \
        }                                                                          \
        for (int i_ = 0; i_ < 16; i_ += 4) {                                       \
            r[i_] = _mm512_shuffle_ps(t[i_], t[i_ + 2], _MM_SHUFFLE(1, 0, 1, 0));  \
            r[i_ + 1] = _mm512_shuffle_ps(t[i_], t[i_ + 2], _MM_SHUFFLE(3, 2, 3, 2)); \
            r[i_ + 2] = _mm512_shuffle_ps(t[i_ + 1], t[i_ + 3], _MM_SHUFFLE(1, 0, 1, 0)); \
            r[i_ + 3] = _mm512_shuffle_ps(t[i_ + 1], t[i_ + 3], _MM_SHUFFLE(3, 2, 3, 2)); \
        }                                                                          \
        for (int h_ = 0; h_ < 16; h_ += 8) {                                       \
            for (int i_ = 0; i_ < 4; i_++) {                                       \
                t[h_ + i_] = _mm512_shuffle_f32x4(r[h_ + i_], r[h_ + i_ + 4], 0x88); \
                t[h_ + i_ + 4] = _mm512_shuffle_f32x4(r[h_ + i_], r[h_ + i_ + 4], 0xdd); \
            }                                                                      \
        }                                                                          \
        for (int i_ = 0; i_ < 8; i_++) {                                           \
            r[i_] = _mm512_shuffle_f32x4(t[i_], t[i_ + 8], 0x88);                  \
            r[i_ + 8] = _mm512_shuffle_f32x4(t[i_], t[i_ + 8], 0xdd);              \
        }                                                                          \
    } while (0)

/* dst[p*stride + i] = src[i*ld + p] for i < rows (<= 16), p < kc: 16 x 16
 * blocks transposed in registers (missing rows are zero, the tail of k is
 * loaded masked), each column stored `width` lanes wide. Reading 16 source
 * lines together uses each whole while it is in L1 (a column read across
 * rows at a power-of-two stride would thrash it). */
static inline __attribute__((always_inline)) BP_TARGET_AVX512 void
s_transpose_rows(const float *restrict src, ptrdiff_t ld, int rows, ptrdiff_t kc,
                 float *restrict dst, ptrdiff_t stride, int width) {
    const __mmask16 out = (__mmask16)((1u << width) - 1);
    for (ptrdiff_t p = 0; p < kc; p += 16) {
        ptrdiff_t left = kc - p;
        __mmask16 in = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        __m512 r[16], t[16];
        for (int i = 0; i < 16; i++)
            r[i] = i < rows ? _mm512_maskz_loadu_ps(in, src + i * ld + p) : _mm512_setzero_ps();
        S_TRANSPOSE16(r, t);
        int cols = left >= 16 ? 16 : (int)left;
        for (int j = 0; j < cols; j++) _mm512_mask_storeu_ps(dst + (p + j) * stride, out, r[j]);
    }
}

/* Packs one full 14-row panel of a row-major A (no transpose): dst[p*14 + r] =
 * src[r*lda + p] for p < kc. */
BP_TARGET_AVX512
void bp_spack_a14_avx512(const float *restrict src, ptrdiff_t lda, ptrdiff_t kc,
                         float *restrict dst) {
    s_transpose_rows(src, lda, 14, kc, dst, 14, 14);
}

/* Packs one 32-column panel of op(B) = B^T from a row-major B (columns
 * beyond `cols` zero): dst[p*32 + j] = src[j*ldb + p]. */
BP_TARGET_AVX512
void bp_spack_bt32_avx512(const float *restrict src, ptrdiff_t ldb, int cols, ptrdiff_t kc,
                          float *restrict dst) {
    int lo = cols < 16 ? cols : 16, hi = cols - lo;
    s_transpose_rows(src, ldb, lo, kc, dst, 32, 16);
    if (hi > 0) {
        s_transpose_rows(src + 16 * ldb, ldb, hi, kc, dst + 16, 32, 16);
    } else {
        for (ptrdiff_t p = 0; p < kc; p++) _mm512_store_ps(dst + p * 32 + 16, _mm512_setzero_ps());
    }
}

/* Packs one full 32-column panel of a row-major B (no transpose):
 * dst[p*32 + j] = src[p*ldb + j]. */
BP_TARGET_AVX512
void bp_spack_b32_avx512(const float *restrict src, ptrdiff_t ldb, ptrdiff_t kc,
                         float *restrict dst) {
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m512 x0 = _mm512_loadu_ps(src + p * ldb);
        __m512 x1 = _mm512_loadu_ps(src + p * ldb + 16);
        _mm512_store_ps(dst + p * 32, x0);
        _mm512_store_ps(dst + p * 32 + 16, x1);
    }
}

#endif
