/*
 * GEMM driver, instantiated for float and double by gemm.c. Expects:
 * T, INFO (bp_sinfo/bp_dinfo), INFO_FOR, and the function names below.
 *
 * Loop nest (BLIS order): jc over NC columns of C, pc over kc of k (pack a
 * kc x nc block of op(B)), then ic over MC rows (pack an mc x kc block of
 * op(A)), then the macro-kernel: jr over NR panels of B (one panel stays in
 * L1), ir over MR panels of A.
 * Threads either split the columns of C, each running that nest on its own
 * columns with its own buffers, or split the rows of C per (jc, pc) step,
 * sharing the packing of B (see GEMM_ENTRY for the choice).
 */

#define BP_MIN(a, b) ((a) < (b) ? (a) : (b))

/* op(A) block [i0, i0+mc) x [p0, p0+kc) into mr-row panels, zero-padded. */
static inline __attribute__((always_inline)) void
PACK_A_IMPL(int ta, const T *restrict a, ptrdiff_t lda, ptrdiff_t i0, ptrdiff_t mc,
            ptrdiff_t p0, ptrdiff_t kc, const int mr, T *restrict dst) {
#ifdef FAST_PACK_AT6
    /* mr == 6 only on the float AVX2 path: op(A) = A^T, the whole block at once. */
    if (ta && mr == 6) {
        FAST_PACK_AT6(a + p0 * lda + i0, lda, mc, kc, dst);
        return;
    }
#endif
    for (ptrdiff_t ir = 0; ir < mc; ir += mr, dst += (ptrdiff_t)mr * kc) {
        int rows = (int)BP_MIN((ptrdiff_t)mr, mc - ir);
        if (!ta) {
            /* A transpose, done in strips of 16 k-columns so that each of the
             * mr source lines is used whole while it is in L1 (reading a
             * column across rows at a power-of-two stride thrashes L1). */
            const T *src = a + (i0 + ir) * lda + p0;
#ifdef FAST_PACK_A14
            /* mr == 14 only on the AVX-512 path. */
            if (mr == 14 && rows == 14) {
                FAST_PACK_A14(src, lda, kc, dst);
                continue;
            }
#endif
#ifdef FAST_PACK_A6
            /* mr == 6 only on the AVX2 paths (float 6 x 16, double 6 x 8). */
            if (mr == 6 && rows == 6) {
                FAST_PACK_A6(src, lda, kc, dst);
                continue;
            }
#endif
            for (ptrdiff_t pb = 0; pb < kc; pb += 16) {
                ptrdiff_t pe = BP_MIN(kc, pb + 16);
                for (int r = 0; r < rows; r++) {
                    const T *s = src + r * lda;
                    for (ptrdiff_t p = pb; p < pe; p++) dst[p * mr + r] = s[p];
                }
            }
            for (int r = rows; r < mr; r++)
                for (ptrdiff_t p = 0; p < kc; p++) dst[p * mr + r] = 0;
        } else {
            const T *src = a + p0 * lda + i0 + ir;
            if (rows == mr) {
                for (ptrdiff_t p = 0; p < kc; p++)
                    for (int r = 0; r < mr; r++) dst[p * mr + r] = src[p * lda + r];
            } else {
                for (ptrdiff_t p = 0; p < kc; p++) {
                    for (int r = 0; r < rows; r++) dst[p * mr + r] = src[p * lda + r];
                    for (int r = rows; r < mr; r++) dst[p * mr + r] = 0;
                }
            }
        }
    }
}

/* op(B) block [p0, p0+kc) x [j0, j0+nc) into nr-column panels, zero-padded. */
static inline __attribute__((always_inline)) void
PACK_B_IMPL(int tb, const T *restrict b, ptrdiff_t ldb, ptrdiff_t p0, ptrdiff_t kc,
            ptrdiff_t j0, ptrdiff_t nc, const int nr, T *restrict dst) {
    for (ptrdiff_t jr = 0; jr < nc; jr += nr, dst += (ptrdiff_t)nr * kc) {
        int cols = (int)BP_MIN((ptrdiff_t)nr, nc - jr);
        if (!tb) {
            const T *src = b + p0 * ldb + j0 + jr;
#ifdef FAST_PACK_B32
            /* nr == 32 only on the AVX-512 path. */
            if (nr == 32 && cols == 32) {
                FAST_PACK_B32(src, ldb, kc, dst);
                continue;
            }
#endif
#ifdef FAST_PACK_B16
            /* nr == 16 only on the float AVX2 path. */
            if (nr == 16 && cols == 16) {
                FAST_PACK_B16(src, ldb, kc, dst);
                continue;
            }
#endif
#ifdef FAST_PACK_B8
            /* nr == 8 only on the double AVX2 path (FAST_PACK_B8 is defined for double only). */
            if (nr == 8 && cols == 8) {
                FAST_PACK_B8(src, ldb, kc, dst);
                continue;
            }
#endif
            if (cols == nr) {
                for (ptrdiff_t p = 0; p < kc; p++)
                    for (int j = 0; j < nr; j++) dst[p * nr + j] = src[p * ldb + j];
            } else {
                for (ptrdiff_t p = 0; p < kc; p++) {
                    for (int j = 0; j < cols; j++) dst[p * nr + j] = src[p * ldb + j];
                    for (int j = cols; j < nr; j++) dst[p * nr + j] = 0;
                }
            }
        } else {
            const T *src = b + (j0 + jr) * ldb + p0;
#ifdef FAST_PACK_BT32
            if (nr == 32) {
                FAST_PACK_BT32(src, ldb, cols, kc, dst);
                continue;
            }
#endif
#ifdef FAST_PACK_BT16
            if (nr == 16) {
                FAST_PACK_BT16(src, ldb, cols, kc, dst);
                continue;
            }
#endif
            for (int j = 0; j < cols; j++) {
                const T *s = src + j * ldb;
                for (ptrdiff_t p = 0; p < kc; p++) dst[p * nr + j] = s[p];
            }
            for (int j = cols; j < nr; j++)
                for (ptrdiff_t p = 0; p < kc; p++) dst[p * nr + j] = 0;
        }
    }
}

/* Specialised on the tile size so the inner copies unroll. */
static void PACK_A(int ta, const T *a, ptrdiff_t lda, ptrdiff_t i0, ptrdiff_t mc,
                   ptrdiff_t p0, ptrdiff_t kc, int mr, T *dst) {
    switch (mr) {
    case 14: PACK_A_IMPL(ta, a, lda, i0, mc, p0, kc, 14, dst); break;
    case 8: PACK_A_IMPL(ta, a, lda, i0, mc, p0, kc, 8, dst); break;
    case 6: PACK_A_IMPL(ta, a, lda, i0, mc, p0, kc, 6, dst); break;
    case 4: PACK_A_IMPL(ta, a, lda, i0, mc, p0, kc, 4, dst); break;
    default: PACK_A_IMPL(ta, a, lda, i0, mc, p0, kc, mr, dst); break;
    }
}

static void PACK_B(int tb, const T *b, ptrdiff_t ldb, ptrdiff_t p0, ptrdiff_t kc,
                   ptrdiff_t j0, ptrdiff_t nc, int nr, T *dst) {
    switch (nr) {
    case 32: PACK_B_IMPL(tb, b, ldb, p0, kc, j0, nc, 32, dst); break;
    case 16: PACK_B_IMPL(tb, b, ldb, p0, kc, j0, nc, 16, dst); break;
    case 12: PACK_B_IMPL(tb, b, ldb, p0, kc, j0, nc, 12, dst); break;
    case 8: PACK_B_IMPL(tb, b, ldb, p0, kc, j0, nc, 8, dst); break;
    case 4: PACK_B_IMPL(tb, b, ldb, p0, kc, j0, nc, 4, dst); break;
    default: PACK_B_IMPL(tb, b, ldb, p0, kc, j0, nc, nr, dst); break;
    }
}

/* The epilogue over a rows x cols block of C already written: + bias[j]
 * (when bias is not NULL), then v < 0 ? 0 : scale * v (when relu), as the
 * Swift ReLU kernel computes it. For paths whose kernels lack it. */
static void EPILOGUE(int rows, int cols, T *c, ptrdiff_t ldc, const T *bias, int relu, T scale) {
    for (int i = 0; i < rows; i++) {
        T *ci = c + i * ldc;
        if (bias)
            for (int j = 0; j < cols; j++) ci[j] += bias[j];
        if (relu)
            for (int j = 0; j < cols; j++) ci[j] = ci[j] < 0 ? 0 : scale * ci[j];
    }
}

/* C[mc x nc] (+)= alpha * packedA * packedB over whole tiles; edge tiles go
 * to the path's edge kernel if it has one, else through a scratch tile.
 * EPI (a constant): then the epilogue (bias, pointing at column 0 of this
 * block, and/or relu), in the kernel's store where the path has such a
 * kernel, else over each tile just stored. */
static inline __attribute__((always_inline)) void
MACRO_IMPL(const int EPI, const INFO *in, ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc, T alpha,
           const T *pa, const T *pb, T beta, T *c, ptrdiff_t ldc, const T *bias, int relu, T scale) {
    const int mr = in->mr, nr = in->nr;
    for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
        int cols = (int)BP_MIN((ptrdiff_t)nr, nc - jr);
        const T *b_ = pb + jr * kc;
        const T *bias_ = EPI && bias ? bias + jr : NULL;
        for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
            int rows = (int)BP_MIN((ptrdiff_t)mr, mc - ir);
            const T *a_ = pa + ir * kc;
            T *c_ = c + ir * ldc + jr;
            if (rows == mr && cols == nr) {
                if (!EPI) {
                    in->kernel(kc, a_, b_, c_, ldc, alpha, beta);
                } else if (in->kernel_epi) {
                    in->kernel_epi(kc, a_, b_, c_, ldc, alpha, beta, bias_, relu, scale);
                } else {
                    in->kernel(kc, a_, b_, c_, ldc, alpha, beta);
                    EPILOGUE(rows, cols, c_, ldc, bias_, relu, scale);
                }
            } else if (in->kernel_edge &&
                       in->kernel_edge(rows, cols, kc, a_, b_, c_, ldc, alpha, beta, bias_, relu, scale)) {
                /* an edge tile with a kernel of its own */
            } else {
                _Alignas(BP_ALIGN) T tmp[BP_MAX_TILE];
                in->kernel(kc, a_, b_, tmp, nr, alpha, 0);
                for (int i = 0; i < rows; i++) {
                    T *ci = c_ + i * ldc;
                    const T *ti = tmp + i * nr;
                    if (beta == 0)
                        for (int j = 0; j < cols; j++) ci[j] = ti[j];
                    else
                        for (int j = 0; j < cols; j++) ci[j] = ti[j] + beta * ci[j];
                }
                if (EPI) EPILOGUE(rows, cols, c_, ldc, bias_, relu, scale);
            }
        }
    }
}

/* The loop over tiles, chosen once per block: with or without the epilogue. */
static void MACRO(const INFO *in, ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc, T alpha,
                  const T *pa, const T *pb, T beta, T *c, ptrdiff_t ldc,
                  const T *bias, int relu, T scale) {
    if (bias || relu)
        MACRO_IMPL(1, in, mc, nc, kc, alpha, pa, pb, beta, c, ldc, bias, relu, scale);
    else
        MACRO_IMPL(0, in, mc, nc, kc, alpha, pa, pb, beta, c, ldc, NULL, 0, 1);
}

typedef struct {
    int ta, tb, split_m;
    ptrdiff_t kc; /* k depth of a packed block (bp_kc_block) */
    ptrdiff_t m, n, k;
    T alpha, beta;
    const T *a, *b;
    T *c;
    ptrdiff_t lda, ldb, ldc;
    const INFO *in;
    const T *bias; /* epilogue: bias[n] added at the first k block, or NULL */
    int relu;      /* epilogue: the ReLU (times scale) at the last k block */
    T scale;
    T *packed_b; /* rows split: two shared buffers of kc x nc, alternating between pc steps */
    ptrdiff_t chunk_rows; /* rows of C per dynamically scheduled chunk */
    _Atomic ptrdiff_t next_chunk[2];
    bp_barrier barrier;
} ARGS;

/* The serial algorithm on the columns [c0, c1) of C, with this thread's own
 * packed buffers: used by one thread, and by each thread when the columns
 * are split (then the threads share nothing and never wait for each other). */
static void COLUMNS(const ARGS *g, ptrdiff_t c0, ptrdiff_t c1) {
    const INFO *in = g->in;
    const ptrdiff_t mr = in->mr, nr = in->nr, KC = g->kc, MC = in->mc, NC = in->nc;
    const ptrdiff_t m = g->m, k = g->k;
    T *pa = bp_scratch(0, sizeof(T) * (size_t)(MC * KC));
    T *pb = bp_scratch(1, sizeof(T) * (size_t)(KC * ((NC + nr - 1) / nr * nr)));
    for (ptrdiff_t jc = c0; jc < c1; jc += NC) {
        ptrdiff_t nc = BP_MIN(NC, c1 - jc);
        for (ptrdiff_t pc = 0; pc < k; pc += KC) {
            ptrdiff_t kc = BP_MIN(KC, k - pc);
            T beta = pc == 0 ? g->beta : (T)1;
            const T *bias = pc == 0 && g->bias ? g->bias + jc : NULL;
            int relu = g->relu && pc + kc >= k;
            PACK_B(g->tb, g->b, g->ldb, pc, kc, jc, nc, (int)nr, pb);
            for (ptrdiff_t ic = 0; ic < m; ic += MC) {
                ptrdiff_t mc = BP_MIN(MC, m - ic);
                PACK_A(g->ta, g->a, g->lda, ic, mc, pc, kc, (int)mr, pa);
                MACRO(in, mc, nc, kc, g->alpha, pa, pb, beta, g->c + ic * g->ldc + jc, g->ldc,
                      bias, relu, g->scale);
            }
        }
    }
}

static void WORKER(void *p, int tid, int nt) {
    ARGS *g = p;
    const INFO *in = g->in;
    const ptrdiff_t mr = in->mr, nr = in->nr, KC = g->kc, MC = in->mc, NC = in->nc;
    const ptrdiff_t m = g->m, n = g->n, k = g->k;
    if (nt == 1 || !g->split_m) {
        /* Whole nr-wide panels of C per thread (all of them when nt == 1). */
        ptrdiff_t np = (n + nr - 1) / nr;
        COLUMNS(g, np * tid / nt * nr, BP_MIN(n, np * (tid + 1) / nt * nr));
        return;
    }
    /* Rows split: B is packed once per (jc, pc) step by all the threads
     * together (each packs a share of the panels) and read by all. */
    const ptrdiff_t b_stride = KC * ((NC + nr - 1) / nr * nr);
    T *pa = bp_scratch(0, sizeof(T) * (size_t)(MC * KC));
    int sense = 0, step = 0;
    for (ptrdiff_t jc = 0; jc < n; jc += NC) {
        ptrdiff_t nc = BP_MIN(NC, n - jc);
        ptrdiff_t npanels = (nc + nr - 1) / nr;
        ptrdiff_t q0 = npanels * tid / nt, q1 = npanels * (tid + 1) / nt;
        ptrdiff_t j0 = q0 * nr, j1 = BP_MIN(nc, q1 * nr);
        for (ptrdiff_t pc = 0; pc < k; pc += KC, step++) {
            ptrdiff_t kc = BP_MIN(KC, k - pc);
            T beta = pc == 0 ? g->beta : (T)1;
            const T *bias = pc == 0 && g->bias ? g->bias + jc : NULL;
            int relu = g->relu && pc + kc >= k;
            T *pb = g->packed_b + (step & 1) * b_stride;
            if (j1 > j0) PACK_B(g->tb, g->b, g->ldb, pc, kc, jc + j0, j1 - j0, (int)nr, pb + j0 * kc);
            /* Every thread uses all of B: wait until it is packed. The other
             * buffer is written next step, after the next barrier, so no
             * second barrier is needed. */
            bp_barrier_wait(&g->barrier, nt, &sense);
            /* Row chunks are handed out dynamically, so a thread that loses
             * its core for a while does not hold the others up. Counter
             * (step & 1) was reset by thread 0 after the previous barrier,
             * before anyone could reach this one. */
            _Atomic ptrdiff_t *next = &g->next_chunk[step & 1];
            if (tid == 0) atomic_store_explicit(&g->next_chunk[(step + 1) & 1], 0, memory_order_relaxed);
            const ptrdiff_t rows = g->chunk_rows;
            for (;;) {
                ptrdiff_t ic = atomic_fetch_add_explicit(next, 1, memory_order_relaxed) * rows;
                if (ic >= m) break;
                ptrdiff_t mc = BP_MIN(rows, m - ic);
                PACK_A(g->ta, g->a, g->lda, ic, mc, pc, kc, (int)mr, pa);
                MACRO(in, mc, nc, kc, g->alpha, pa, pb, beta, g->c + ic * g->ldc + jc, g->ldc,
                      bias, relu, g->scale);
            }
        }
    }
}

/* Direct loops for small products: no packing, no allocation. With a bias,
 * a row starts from it (C = bias + products, in the order of a bias written
 * to C before a product accumulated onto it); the ReLU ends each row. */
static inline __attribute__((always_inline)) void
SMALL_IMPL(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,
           const T *restrict a, ptrdiff_t lda, const T *restrict b, ptrdiff_t ldb,
           T beta, T *restrict c, ptrdiff_t ldc, const T *restrict bias, int relu, T scale) {
    const ptrdiff_t ai = ta ? 1 : lda, ap = ta ? lda : 1;
    for (ptrdiff_t i = 0; i < m; i++) {
        T *restrict ci = c + i * ldc;
        if (beta == 0) {
            if (bias)
                for (ptrdiff_t j = 0; j < n; j++) ci[j] = bias[j];
            else
                for (ptrdiff_t j = 0; j < n; j++) ci[j] = 0;
        } else {
            if (beta != 1)
                for (ptrdiff_t j = 0; j < n; j++) ci[j] *= beta;
            if (bias)
                for (ptrdiff_t j = 0; j < n; j++) ci[j] += bias[j];
        }
        if (!tb) {
            for (ptrdiff_t p = 0; p < k; p++) {
                T s = alpha * a[i * ai + p * ap];
                const T *restrict bp = b + p * ldb;
                for (ptrdiff_t j = 0; j < n; j++) ci[j] += s * bp[j];
            }
        } else {
            for (ptrdiff_t j = 0; j < n; j++) {
                const T *restrict bj = b + j * ldb;
                T s = 0;
                for (ptrdiff_t p = 0; p < k; p++) s += a[i * ai + p * ap] * bj[p];
                ci[j] += alpha * s;
            }
        }
        if (relu)
            for (ptrdiff_t j = 0; j < n; j++) ci[j] = ci[j] < 0 ? 0 : scale * ci[j];
    }
}

static void SMALL_GENERIC(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,
                          const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta,
                          T *c, ptrdiff_t ldc, const T *bias, int relu, T scale) {
    SMALL_IMPL(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, scale);
}

#if BP_X86
BP_TARGET_AVX2 static void SMALL_AVX2(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                      T alpha, const T *a, ptrdiff_t lda, const T *b,
                                      ptrdiff_t ldb, T beta, T *c, ptrdiff_t ldc,
                                      const T *bias, int relu, T scale) {
    SMALL_IMPL(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, scale);
}
#endif

/* C = beta * C (k == 0 or alpha == 0). */
static void SCALE(ptrdiff_t m, ptrdiff_t n, T beta, T *c, ptrdiff_t ldc) {
    if (beta == 1) return;
    for (ptrdiff_t i = 0; i < m; i++) {
        T *ci = c + i * ldc;
        if (beta == 0)
            for (ptrdiff_t j = 0; j < n; j++) ci[j] = 0;
        else
            for (ptrdiff_t j = 0; j < n; j++) ci[j] *= beta;
    }
}

static inline __attribute__((always_inline)) void
GEMM_IMPL(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha, const T *a,
          ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c, ptrdiff_t ldc,
          const T *bias, int relu, T scale, int isa, int threads, int flags) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) {
        SCALE(m, n, beta, c, ldc);
        if (bias || relu)
            for (ptrdiff_t i = 0; i < m; i++) EPILOGUE(1, (int)n, c + i * ldc, ldc, bias, relu, scale);
        return;
    }
    isa = bp_resolve_isa(isa);
    double work = (double)m * (double)n * (double)k;
    if (work <= SMALL_WORK && !(flags & BP_GEMM_FORCE_PACKED)) {
#if BP_X86
        if (isa != BP_ISA_GENERIC) {
            SMALL_AVX2(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, scale);
            return;
        }
#endif
        SMALL_GENERIC(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, scale);
        return;
    }
    const INFO *in = INFO_FOR(isa);
    ARGS g = {
        .ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta,
        .a = a, .b = b, .c = c, .lda = lda, .ldb = ldb, .ldc = ldc, .in = in,
        .kc = bp_kc_block(k, in->kc), .bias = bias, .relu = relu, .scale = scale,
    };
    int nt = threads < 1 ? 1 : threads;
    if (work < PARALLEL_WORK && !(flags & BP_GEMM_FORCE_THREADS)) nt = 1;
    ptrdiff_t mp = (m + in->mr - 1) / in->mr;
    ptrdiff_t np = (n + in->nr - 1) / in->nr;
    /* Split the columns when C is short and wide, and also when it is at
     * least as wide as tall with >= 4 register panels per thread: then each
     * thread runs the serial algorithm on its columns with no
     * synchronisation at all, at the price of every thread packing all of A
     * (measured on Zen 5, 2 threads: 6-16% faster than splitting rows at n =
     * 512, 1024, 2048). For mnist's first layer (128 x 256 x 784) one
     * thread's half by columns, 128 x 128 x 784 with all of A packed, ran as
     * fast as a half by rows, 66 x 256 x 784 (102 GFLOP/s each, AVX2 and
     * AVX-512 paths, Zen 4, thread CPU time), and the rows split adds a
     * barrier per k block and shares out row chunks.
     * Otherwise split the rows and share the packing of B. */
    g.split_m = !((n >= m && np >= 4 * nt) || (mp < 4 * nt && mp < np));
    ptrdiff_t units = g.split_m ? mp : np;
    if (nt > units) nt = (int)units;
    if (nt > 1 && g.split_m) {
        ptrdiff_t b_stride = g.kc * ((in->nc + in->nr - 1) / in->nr * in->nr);
        g.packed_b = bp_scratch(1, sizeof(T) * (size_t)(2 * b_stride));
    }
    bp_barrier_init(&g.barrier);
    /* About eight chunks per thread (so that the last one to finish holds
     * the others up only briefly), at most mc rows each, and a number of
     * chunks that the threads share evenly where a smaller chunk allows it
     * (m = 128 on the AVX2 path: 22 chunks of one panel, not 11 of two, of
     * which one thread would run 6 while the other waits after 5). */
    ptrdiff_t chunk_panels = (mp + 8 * nt - 1) / (8 * nt);
    if (chunk_panels > in->mc / in->mr) chunk_panels = in->mc / in->mr;
    if (chunk_panels < 1) chunk_panels = 1;
    for (ptrdiff_t cp = chunk_panels; cp > 0 && cp * 2 >= chunk_panels; cp--) {
        if (((mp + cp - 1) / cp) % nt == 0) {
            chunk_panels = cp;
            break;
        }
    }
    g.chunk_rows = chunk_panels * in->mr;
    atomic_store(&g.next_chunk[0], 0);
    atomic_store(&g.next_chunk[1], 0);
    if (nt > 1)
        bp_parallel_region(nt, WORKER, &g);
    else
        WORKER(&g, 0, 1);
}

void GEMM_ENTRY(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,
                const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c,
                ptrdiff_t ldc, int isa, int threads, int flags) {
    GEMM_IMPL(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL, 0, 1, isa, threads, flags);
}

void GEMM_EPILOGUE_ENTRY(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,
                         const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, T beta, T *c,
                         ptrdiff_t ldc, const T *bias, int relu, T scale, int isa, int threads,
                         int flags) {
    GEMM_IMPL(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, scale, isa, threads,
              flags);
}
