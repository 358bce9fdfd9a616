/* AVX2 + FMA micro-kernels (float 6 x 16 and double 6 x 8, 12 ymm
 * accumulators), the float edge kernel and the float packing routines. */
#include "bp_internal.h"

#if BP_X86
#include <immintrin.h>

/* Stores one accumulator vector: alpha * acc (+ beta * c), then, in the
 * epilogue variant (EPI), + the bias vector `bv` and the ReLU. */
#define S_STORE(ptr, acc, bv)                                                      \
    do {                                                                           \
        __m256 v_ = _mm256_mul_ps(acc, va);                                        \
        if (beta != 0.0f) v_ = _mm256_fmadd_ps(_mm256_loadu_ps(ptr), vb, v_);      \
        if (EPI) v_ = s_epilogue8(v_, bv, has_bias, relu, vs);                     \
        _mm256_storeu_ps(ptr, v_);                                                 \
    } while (0)
#define S_DECL(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps()
#define S_ROW(i, o)                                                                \
    do {                                                                           \
        __m256 a_ = _mm256_broadcast_ss(pa + (o) * 6 + (i));                       \
        c##i##0 = _mm256_fmadd_ps(a_, b0, c##i##0);                                \
        c##i##1 = _mm256_fmadd_ps(a_, b1, c##i##1);                                \
    } while (0)
#define S_STEP(o)                                                                  \
    do {                                                                           \
        __m256 b0 = _mm256_load_ps(pb + (o) * 16);                                 \
        __m256 b1 = _mm256_load_ps(pb + (o) * 16 + 8);                             \
        S_ROW(0, o); S_ROW(1, o); S_ROW(2, o); S_ROW(3, o); S_ROW(4, o); S_ROW(5, o); \
    } while (0)
#define S_OUT(i)                                                                   \
    do {                                                                           \
        S_STORE(c + (i) * ldc, c##i##0, bias0);                                    \
        S_STORE(c + (i) * ldc + 8, c##i##1, bias1);                                \
    } while (0)

/* The epilogue of one vector: v + bias (when has_bias), then
 * v < 0 ? 0 : scale * v (when relu), as the Swift ReLU kernel computes it
 * (NaN and -0 pass through). */
static inline __attribute__((always_inline)) BP_TARGET_AVX2 __m256
s_epilogue8(__m256 v, __m256 bias, int has_bias, int relu, __m256 scale) {
    if (has_bias) v = _mm256_add_ps(v, bias);
    if (relu) {
        __m256 negative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        v = _mm256_andnot_ps(negative, _mm256_mul_ps(v, scale));
    }
    return v;
}

/* C rows (64 bytes: 16 floats or 8 doubles) are prefetched into L2 at the
 * start, both lines of a row that is not 64-byte aligned (they are stored at
 * the end). Not into L1: with a power-of-two ldc the six rows map to the same
 * L1 set and would evict each other and B. */
#define PF_C2(i)                                                                   \
    do {                                                                           \
        _mm_prefetch((const char *)(c + (i) * ldc), _MM_HINT_T1);                  \
        _mm_prefetch((const char *)(c + (i) * ldc) + 63, _MM_HINT_T1);             \
    } while (0)
/* Row t of the C tile into L1, one row per step of the last six. */
#define PF_C1(t)                                                                   \
    do {                                                                           \
        _mm_prefetch((const char *)(c + (t) * ldc), _MM_HINT_T0);                  \
        _mm_prefetch((const char *)(c + (t) * ldc) + 63, _MM_HINT_T0);             \
    } while (0)

/* How far ahead (floats) the packed A panel is prefetched into L1: 16 k
 * steps. The loop is unrolled four steps deep (a loop of one step measured
 * about 2% slower in the full product, n = 1024, Zen 4). */
#define PF_A_DIST 96

/* The 6 x 16 kernel; EPI (a constant) adds the epilogue to the store. */
static inline __attribute__((always_inline)) BP_TARGET_AVX2 void
s_kernel(const int EPI, ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
         float *restrict c, ptrdiff_t ldc, float alpha, float beta, const float *restrict bias,
         int relu, float scale) {
    S_DECL(0); S_DECL(1); S_DECL(2); S_DECL(3); S_DECL(4); S_DECL(5);
    /* A row of the tile is 64 bytes: one line, or two when unaligned. */
    PF_C2(0); PF_C2(1); PF_C2(2); PF_C2(3); PF_C2(4); PF_C2(5);
    /* The last six steps each bring one row of C (already in L2) into L1:
     * without this, n = 2048 (C 16 MB, eight k blocks) ran at 74% of the
     * FMA peak against 85% at n = 1024 (Zen 4, one thread). */
    const ptrdiff_t tail = kc < 6 ? kc : 6;
    ptrdiff_t p = 0;
    for (; p + 4 <= kc - tail; p += 4) {
        _mm_prefetch((const char *)(pa + PF_A_DIST), _MM_HINT_T0);
        S_STEP(0); S_STEP(1);
        _mm_prefetch((const char *)(pa + PF_A_DIST + 16), _MM_HINT_T0);
        S_STEP(2); S_STEP(3);
        pa += 24;
        pb += 64;
    }
    for (; p < kc - tail; p++) {
        S_STEP(0);
        pa += 6;
        pb += 16;
    }
    for (ptrdiff_t t = 0; t < tail; t++) {
        PF_C1(t);
        S_STEP(0);
        pa += 6;
        pb += 16;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), vs = _mm256_set1_ps(scale);
    const int has_bias = EPI && bias != NULL;
    __m256 bias0 = has_bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    __m256 bias1 = has_bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    S_OUT(0); S_OUT(1); S_OUT(2); S_OUT(3); S_OUT(4); S_OUT(5);
}

BP_TARGET_AVX2
void bp_skernel_avx2(ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
                     float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    s_kernel(0, kc, pa, pb, c, ldc, alpha, beta, NULL, 0, 1);
}

BP_TARGET_AVX2
void bp_skernel_epi_avx2(ptrdiff_t kc, const float *restrict pa, const float *restrict pb,
                         float *restrict c, ptrdiff_t ldc, float alpha, float beta,
                         const float *restrict bias, int relu, float scale) {
    s_kernel(1, kc, pa, pb, c, ldc, alpha, beta, bias, relu, scale);
}

/* The float kernel for an edge tile: R <= 6 real rows of a packed panel (6
 * wide) times NV (1 or 2) vectors of 8 columns of a packed B panel (16 wide),
 * the last vector stored under `mask` (its real columns). Only the real rows
 * and columns of C are read and written. */
static inline __attribute__((always_inline)) BP_TARGET_AVX2 void
s_kernel_edge(const int R, const int NV, ptrdiff_t kc, const float *restrict pa,
              const float *restrict pb, float *restrict c, ptrdiff_t ldc, float alpha,
              float beta, __m256i mask, const float *restrict bias, int relu, float scale) {
    __m256 acc[6][2];
    for (int i = 0; i < R; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m256 b[2];
        for (int v = 0; v < NV; v++) b[v] = _mm256_load_ps(pb + 8 * v);
        for (int i = 0; i < R; i++) {
            __m256 a_ = _mm256_broadcast_ss(pa + i);
            for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(a_, b[v], acc[i][v]);
        }
        pa += 6;
        pb += 16;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), vs = _mm256_set1_ps(scale);
    const int has_bias = bias != NULL;
    __m256 bv[2];
    for (int v = 0; v < NV; v++)
        bv[v] = !has_bias ? _mm256_setzero_ps()
              : v < NV - 1 ? _mm256_loadu_ps(bias + 8 * v) : _mm256_maskload_ps(bias + 8 * v, mask);
    for (int i = 0; i < R; i++) {
        for (int v = 0; v < NV; v++) {
            float *ptr = c + i * ldc + 8 * v;
            __m256 x = _mm256_mul_ps(acc[i][v], va);
            if (v < NV - 1) {
                if (beta != 0.0f) x = _mm256_fmadd_ps(_mm256_loadu_ps(ptr), vb, x);
                x = s_epilogue8(x, bv[v], has_bias, relu, vs);
                _mm256_storeu_ps(ptr, x);
            } else {
                if (beta != 0.0f) x = _mm256_fmadd_ps(_mm256_maskload_ps(ptr, mask), vb, x);
                x = s_epilogue8(x, bv[v], has_bias, relu, vs);
                _mm256_maskstore_ps(ptr, mask, x);
            }
        }
    }
}

#define S_EDGE_CASE(R)                                                             \
    case R:                                                                        \
        if (nv == 1) s_kernel_edge(R, 1, kc, pa, pb, c, ldc, alpha, beta, mask, bias, relu, scale); \
        else s_kernel_edge(R, 2, kc, pa, pb, c, ldc, alpha, beta, mask, bias, relu, scale);        \
        return 1;

/* Lane masks: s_lanes + 8 - n has its first n lanes set. */
static const int s_lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

BP_TARGET_AVX2
int bp_skernel_edge_avx2(int rows, int cols, ptrdiff_t kc, const float *restrict pa,
                         const float *restrict pb, float *restrict c, ptrdiff_t ldc,
                         float alpha, float beta, const float *restrict bias, int relu, float scale) {
    int nv = cols > 8 ? 2 : 1, rem = cols - 8 * (nv - 1);
    __m256i mask = _mm256_loadu_si256((const __m256i *)(s_lanes + 8 - rem));
    switch (rows) {
    S_EDGE_CASE(1) S_EDGE_CASE(2) S_EDGE_CASE(3) S_EDGE_CASE(4) S_EDGE_CASE(5)
    S_EDGE_CASE(6)
    default: return 0;
    }
}

/* Transposes the 8 x 8 block r[0..7] (row i in r[i]) in registers: on return
 * r[j] holds column j. */
static inline __attribute__((always_inline)) BP_TARGET_AVX2 void
s_transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* Loads up to 8 source rows of 8 (or `left` < 8, masked) floats at column p;
 * rows >= `rows` are zero. */
static inline __attribute__((always_inline)) BP_TARGET_AVX2 void
s_load_rows8(const float *restrict src, ptrdiff_t ld, int rows, ptrdiff_t p, ptrdiff_t left,
             __m256 r[8]) {
    if (left >= 8) {
        for (int i = 0; i < 8; i++)
            r[i] = i < rows ? _mm256_loadu_ps(src + i * ld + p) : _mm256_setzero_ps();
    } else {
        __m256i m = _mm256_loadu_si256((const __m256i *)(s_lanes + 8 - left));
        for (int i = 0; i < 8; i++)
            r[i] = i < rows ? _mm256_maskload_ps(src + i * ld + p, m) : _mm256_setzero_ps();
    }
}

/* Packs one full 6-row panel of a row-major A (no transpose): dst[p*6 + r] =
 * src[r*lda + p] for p < kc, by 8 x 8 transposes in registers (rows 6 and 7
 * zero). Each column is stored 8 lanes wide, its two extra lanes overwritten
 * by the next column's store; the last column of the panel is stored 6 wide
 * (so nothing past the panel is written). Reading the 6 source lines together
 * uses each whole while it is in L1. */
BP_TARGET_AVX2
void bp_spack_a6_avx2(const float *restrict src, ptrdiff_t lda, ptrdiff_t kc,
                      float *restrict dst) {
    const __m256i six = _mm256_loadu_si256((const __m256i *)(s_lanes + 2));
    for (ptrdiff_t p = 0; p < kc; p += 8) {
        ptrdiff_t left = kc - p;
        __m256 r[8];
        for (int i = 0; i < 6; i++) _mm_prefetch((const char *)(src + i * lda + p + 32), _MM_HINT_T0);
        s_load_rows8(src, lda, 6, p, left, r);
        s_transpose8(r);
        int cols = left >= 8 ? 8 : (int)left;
        if (p + cols < kc) {
            for (int j = 0; j < cols; j++) _mm256_storeu_ps(dst + (p + j) * 6, r[j]);
        } else {
            for (int j = 0; j < cols - 1; j++) _mm256_storeu_ps(dst + (p + j) * 6, r[j]);
            _mm256_maskstore_ps(dst + (p + cols - 1) * 6, six, r[cols - 1]);
        }
    }
}

/* Packs an mc-row block of op(A) = A^T (a row-major A read down its
 * columns) into 6-row panels: panel q gets dst[q*6*kc + p*6 + r] =
 * src[p*lda + q*6 + r], rows past mc zero. The source is read one line of A
 * at a time, each 6-float piece going to its panel, so that every source
 * line is used whole once: packing panel by panel instead reads 24 bytes of
 * a new line per step at a stride of lda, and measured 18 us (scalar) or 24
 * us (masked loads) for a 144 x 256 block at lda = 1024 against 13 us this
 * way (Zen 4, thread CPU time). */
BP_TARGET_AVX2
void bp_spack_at6_avx2(const float *restrict src, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t kc,
                       float *restrict dst) {
    const ptrdiff_t full = mc / 6, panel = 6 * kc;
    const int rows = (int)(mc - full * 6);
    for (ptrdiff_t p = 0; p < kc; p++) {
        const float *s = src + p * lda;
        float *d = dst + p * 6;
        for (ptrdiff_t q = 0; q < full; q++) {
            __m128 x = _mm_loadu_ps(s + q * 6);
            __m128d y = _mm_load_sd((const double *)(s + q * 6 + 4));
            _mm_storeu_ps(d + q * panel, x);
            _mm_store_sd((double *)(d + q * panel + 4), y);
        }
        if (rows > 0) {
            /* The last, partial panel in the same pass; rows past mc zero. */
            float *e = d + full * panel;
            const float *t = s + full * 6;
            for (int r = 0; r < rows; r++) e[r] = t[r];
            for (int r = rows; r < 6; r++) e[r] = 0;
        }
    }
}

/* Packs one 16-column panel of op(B) = B^T from a row-major B (columns
 * beyond `cols` zero): dst[p*16 + j] = src[j*ldb + p], two 8 x 8 transposes
 * per 8 steps of k. */
BP_TARGET_AVX2
void bp_spack_bt16_avx2(const float *restrict src, ptrdiff_t ldb, int cols, ptrdiff_t kc,
                        float *restrict dst) {
    int lo = cols < 8 ? cols : 8, hi = cols - lo;
    for (ptrdiff_t p = 0; p < kc; p += 8) {
        ptrdiff_t left = kc - p;
        int n = left >= 8 ? 8 : (int)left;
        __m256 r[8];
        s_load_rows8(src, ldb, lo, p, left, r);
        s_transpose8(r);
        for (int j = 0; j < n; j++) _mm256_store_ps(dst + (p + j) * 16, r[j]);
        s_load_rows8(src + 8 * ldb, ldb, hi, p, left, r);
        s_transpose8(r);
        for (int j = 0; j < n; j++) _mm256_store_ps(dst + (p + j) * 16 + 8, r[j]);
    }
}

/* Packs one full 16-column panel of a row-major B (no transpose):
 * dst[p*16 + j] = src[p*ldb + j]. */
BP_TARGET_AVX2
void bp_spack_b16_avx2(const float *restrict src, ptrdiff_t ldb, ptrdiff_t kc,
                       float *restrict dst) {
    for (ptrdiff_t p = 0; p < kc; p++) {
        /* The rows are a stride apart that the hardware prefetchers do not
         * follow: fetch the row 8 steps ahead. */
        _mm_prefetch((const char *)(src + (p + 8) * ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(src + (p + 8) * ldb + 15), _MM_HINT_T0);
        __m256 x0 = _mm256_loadu_ps(src + p * ldb);
        __m256 x1 = _mm256_loadu_ps(src + p * ldb + 8);
        _mm256_store_ps(dst + p * 16, x0);
        _mm256_store_ps(dst + p * 16 + 8, x1);
    }
}

/* Lane masks for doubles: d_lanes + 4 - n has its first n lanes set. */
static const long long d_lanes[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

/* Packs one full 6-row panel of a row-major double A (no transpose):
 * dst[p*6 + r] = src[r*lda + p] for p < kc. Rows 0-3 by 4 x 4 transposes in
 * registers, rows 4-5 as pairs; each column is stored as 4 + 2 doubles, so
 * nothing past the panel is written. */
BP_TARGET_AVX2
void bp_dpack_a6_avx2(const double *restrict src, ptrdiff_t lda, ptrdiff_t kc,
                      double *restrict dst) {
    for (ptrdiff_t p = 0; p < kc; p += 4) {
        ptrdiff_t left = kc - p;
        int cols = left >= 4 ? 4 : (int)left;
        __m256d r[6];
        if (cols == 4) {
            for (int i = 0; i < 6; i++) r[i] = _mm256_loadu_pd(src + i * lda + p);
        } else {
            __m256i m = _mm256_loadu_si256((const __m256i *)(d_lanes + 4 - cols));
            for (int i = 0; i < 6; i++) r[i] = _mm256_maskload_pd(src + i * lda + p, m);
        }
        __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
        __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
        __m256d c[4] = {
            _mm256_permute2f128_pd(t0, t2, 0x20), _mm256_permute2f128_pd(t1, t3, 0x20),
            _mm256_permute2f128_pd(t0, t2, 0x31), _mm256_permute2f128_pd(t1, t3, 0x31),
        };
        __m256d lo = _mm256_unpacklo_pd(r[4], r[5]), hi = _mm256_unpackhi_pd(r[4], r[5]);
        __m128d pair[4] = {
            _mm256_castpd256_pd128(lo), _mm256_castpd256_pd128(hi),
            _mm256_extractf128_pd(lo, 1), _mm256_extractf128_pd(hi, 1),
        };
        for (int j = 0; j < cols; j++) {
            _mm256_storeu_pd(dst + (p + j) * 6, c[j]);
            _mm_storeu_pd(dst + (p + j) * 6 + 4, pair[j]);
        }
    }
}

/* Packs one full 8-column panel of a row-major double B (no transpose):
 * dst[p*8 + j] = src[p*ldb + j]. */
BP_TARGET_AVX2
void bp_dpack_b8_avx2(const double *restrict src, ptrdiff_t ldb, ptrdiff_t kc,
                      double *restrict dst) {
    for (ptrdiff_t p = 0; p < kc; p++) {
        _mm_prefetch((const char *)(src + (p + 8) * ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(src + (p + 8) * ldb + 7), _MM_HINT_T0);
        __m256d x0 = _mm256_loadu_pd(src + p * ldb);
        __m256d x1 = _mm256_loadu_pd(src + p * ldb + 4);
        _mm256_store_pd(dst + p * 8, x0);
        _mm256_store_pd(dst + p * 8 + 4, x1);
    }
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
