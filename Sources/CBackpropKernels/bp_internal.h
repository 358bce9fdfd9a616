#ifndef BP_INTERNAL_H
#define BP_INTERNAL_H

#include <stddef.h>
#include <stdatomic.h>
#include "CBackpropKernels.h"

#if defined(__x86_64__)
#define BP_X86 1
#define BP_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,fma")))
#define BP_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define BP_X86 0
#endif

#define BP_ALIGN 64
/* Largest register tile (elements) of any micro-kernel, for edge tiles. */
#define BP_MAX_TILE 512

/*
 * Micro-kernel: C[mr x nr] = alpha * sum_p pa[p*mr + i] * pb[p*nr + j] + beta * C
 * for a full tile; beta == 0 must not read C. pa and pb are packed panels.
 */
typedef void (*bp_skernel)(ptrdiff_t kc, const float *pa, const float *pb,
                           float *c, ptrdiff_t ldc, float alpha, float beta);
typedef void (*bp_dkernel)(ptrdiff_t kc, const double *pa, const double *pb,
                           double *c, ptrdiff_t ldc, double alpha, double beta);

/* Register tile and cache blocking of one path. kc/mc/nc: the k depth of a
 * packed block, rows of packed A (a multiple of mr), columns of packed B (a
 * multiple of nr). */
/* Optional kernel for an edge tile (rows <= mr, cols <= nr, not both
 * full) of full packed panels: computes and stores just the real rows and
 * columns of C, or returns 0 when it has no variant for the tile. */
/* Edge kernels also apply the epilogue (see bp_skernel_epi). */
typedef int (*bp_skernel_edge)(int rows, int cols, ptrdiff_t kc, const float *pa, const float *pb,
                               float *c, ptrdiff_t ldc, float alpha, float beta,
                               const float *bias, int relu, float scale);
typedef int (*bp_dkernel_edge)(int rows, int cols, ptrdiff_t kc, const double *pa, const double *pb,
                               double *c, ptrdiff_t ldc, double alpha, double beta,
                               const double *bias, int relu, double scale);
/* Optional full-tile kernel with the epilogue in its store: v = alpha * acc
 * (+ beta * C), then v += bias[j] when bias is not NULL (bias points at the
 * tile's first column), then v = v < 0 ? 0 : scale * v when relu. A path
 * without one runs `kernel` and then the epilogue over the tile, still in L1. */
typedef void (*bp_skernel_epi)(ptrdiff_t kc, const float *pa, const float *pb, float *c, ptrdiff_t ldc,
                               float alpha, float beta, const float *bias, int relu, float scale);
typedef void (*bp_dkernel_epi)(ptrdiff_t kc, const double *pa, const double *pb, double *c, ptrdiff_t ldc,
                               double alpha, double beta, const double *bias, int relu, double scale);
typedef struct {
    int mr, nr, kc, mc, nc;
    bp_skernel kernel;
    bp_skernel_edge kernel_edge;
    bp_skernel_epi kernel_epi;
} bp_sinfo;
typedef struct {
    int mr, nr, kc, mc, nc;
    bp_dkernel kernel;
    bp_dkernel_edge kernel_edge;
    bp_dkernel_epi kernel_epi;
} bp_dinfo;

const bp_sinfo *bp_sinfo_for(int isa);
const bp_dinfo *bp_dinfo_for(int isa);
int bp_resolve_isa(int isa);

void bp_skernel_generic(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, float, float);
void bp_dkernel_generic(ptrdiff_t, const double *, const double *, double *, ptrdiff_t, double, double);
#if defined(__aarch64__)
void bp_skernel_neon(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, float, float);
#endif
#if BP_X86
void bp_skernel_avx2(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, float, float);
void bp_dkernel_avx2(ptrdiff_t, const double *, const double *, double *, ptrdiff_t, double, double);
void bp_skernel_avx512(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, float, float);
void bp_dkernel_avx512(ptrdiff_t, const double *, const double *, double *, ptrdiff_t, double, double);
int bp_skernel_edge_avx512(int, int, ptrdiff_t, const float *, const float *, float *, ptrdiff_t, float, float,
                           const float *, int, float);
void bp_skernel_epi_avx512(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, float, float,
                           const float *, int, float);
void bp_spack_a14_avx512(const float *src, ptrdiff_t lda, ptrdiff_t kc, float *dst);
void bp_spack_b32_avx512(const float *src, ptrdiff_t ldb, ptrdiff_t kc, float *dst);
void bp_spack_bt32_avx512(const float *src, ptrdiff_t ldb, int cols, ptrdiff_t kc, float *dst);
int bp_skernel_edge_avx2(int, int, ptrdiff_t, const float *, const float *, float *, ptrdiff_t, float, float,
                         const float *, int, float);
void bp_skernel_epi_avx2(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, float, float,
                         const float *, int, float);
void bp_spack_a6_avx2(const float *src, ptrdiff_t lda, ptrdiff_t kc, float *dst);
void bp_spack_at6_avx2(const float *src, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t kc, float *dst);
void bp_spack_b16_avx2(const float *src, ptrdiff_t ldb, ptrdiff_t kc, float *dst);
void bp_spack_bt16_avx2(const float *src, ptrdiff_t ldb, int cols, ptrdiff_t kc, float *dst);
void bp_dpack_a6_avx2(const double *src, ptrdiff_t lda, ptrdiff_t kc, double *dst);
void bp_dpack_b8_avx2(const double *src, ptrdiff_t ldb, ptrdiff_t kc, double *dst);
#endif

/* The k depth of the packed blocks for a product of depth k, given the
 * path's nominal kc: k is cut into equal blocks (rounded up to a multiple of
 * 4) instead of full blocks and a thin remainder, and a block may be up to
 * 1/8 deeper than kc when that saves a step (k = 784: 3 x 264, not 3 x 256
 * + 16), since every block step reads and writes all of C once more (and
 * with threads costs a barrier). */
static inline ptrdiff_t bp_kc_block(ptrdiff_t k, ptrdiff_t kc) {
    ptrdiff_t most = kc + kc / 8;
    ptrdiff_t steps = (k + most - 1) / most;
    ptrdiff_t b = (k + steps - 1) / steps;
    return (b + 3) / 4 * 4;
}

/* Sense-reversing spin barrier for the threads of one region. */
typedef struct { _Atomic int count; _Atomic int sense; } bp_barrier;
void bp_barrier_init(bp_barrier *b);
void bp_barrier_wait(bp_barrier *b, int nthreads, int *local_sense);

/* Per-thread scratch, 64-byte aligned, grown on demand, freed at thread
 * exit. slot 0: packed A, slot 1: packed B. */
void *bp_scratch(int slot, size_t bytes);

/* Spin-wait hint. */
static inline void bp_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
