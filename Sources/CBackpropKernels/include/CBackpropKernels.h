#ifndef CBACKPROPKERNELS_H
#define CBACKPROPKERNELS_H

/*
 * Wide-vector GEMM kernels with runtime CPU dispatch, and the thread pool
 * used by them and by Backprop's other large kernels.
 *
 * Every x86 vector routine carries a function-level target attribute, so the
 * target compiles with no extra flags; the instruction set is chosen once at
 * run time (or forced with BACKPROP_KERNEL=avx512|avx2|generic).
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kernel paths. */
enum {
    BP_ISA_AUTO = -1,
    BP_ISA_GENERIC = 0,
    BP_ISA_AVX2 = 1,
    BP_ISA_AVX512 = 2,
};

/* The path in use: BACKPROP_KERNEL if set (lowered to what the CPU has),
 * else the best the CPU supports. */
int bp_isa_current(void);
/* Whether this CPU (and build) can run `isa`. */
int bp_isa_supported(int isa);
/* Sets the process-wide path; BP_ISA_AUTO re-reads the default. Returns the
 * path now in use (an unsupported request is lowered). */
int bp_isa_set(int isa);
/* "avx512", "avx2" or "generic". */
const char *bp_isa_name(int isa);
/* Register tile of the float / double micro-kernel of `isa`. */
void bp_sgemm_tile(int isa, int *mr, int *nr);
void bp_dgemm_tile(int isa, int *mr, int *nr);

/* Flags for bp_sgemm/bp_dgemm (for tests): always take the packed path,
 * even for small products; use `threads` threads whatever the size. */
enum {
    BP_GEMM_FORCE_PACKED = 1,
    BP_GEMM_FORCE_THREADS = 2,
};

/*
 * C[m x n] = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T;
 * lda/ldb/ldc are the row strides of the stored matrices. beta == 0
 * overwrites C without reading it. isa: BP_ISA_AUTO or a forced path.
 * threads: the most threads to use (one below a size threshold). flags: 0
 * or BP_GEMM_FORCE_* above.
 */
void bp_sgemm(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
              float alpha, const float *a, ptrdiff_t lda,
              const float *b, ptrdiff_t ldb,
              float beta, float *c, ptrdiff_t ldc, int isa, int threads, int flags);
void bp_dgemm(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
              double alpha, const double *a, ptrdiff_t lda,
              const double *b, ptrdiff_t ldb,
              double beta, double *c, ptrdiff_t ldc, int isa, int threads, int flags);

/*
 * As bp_sgemm/bp_dgemm, with an epilogue applied as C is stored (no second
 * pass over C): v = alpha * op(A) * op(B) + beta * C, then v += bias[j] for
 * column j when bias is not NULL (n values), then v = v < 0 ? 0 : scale * v
 * when relu is non-zero (the ReLU as Backprop's elementwise kernel computes
 * it: NaN and -0 pass through). With beta == 0 and alpha == 1 the result
 * equals, bit for bit, the bias written to C, a product accumulated onto it
 * (beta == 1), then the ReLU.
 */
void bp_sgemm_epilogue(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                       float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                       float beta, float *c, ptrdiff_t ldc, const float *bias, int relu, float scale,
                       int isa, int threads, int flags);
void bp_dgemm_epilogue(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                       double alpha, const double *a, ptrdiff_t lda, const double *b, ptrdiff_t ldb,
                       double beta, double *c, ptrdiff_t ldc, const double *bias, int relu,
                       double scale, int isa, int threads, int flags);

/* ---- Optimizer updates ----
 * One pass over a parameter's n elements on path `isa` (BP_ISA_AUTO: the
 * current one); buffers that an option does not use are NULL. Formulas and their order are PyTorch's
 * single-tensor implementations:
 * SGD: g = grad + wd p; buf = first ? g : momentum buf + (1 - dampening) g;
 *      g = nesterov ? g + momentum buf : buf (when buf); p -= lr g.
 * Adam/AdamW: p *= decoupled_decay_factor; g = grad + l2_decay p;
 *      m += (1 - beta1)(g - m); v = beta2 v + (1 - beta2) g^2; vmax = max(vmax, v);
 *      p += -step_size m / (sqrt(vmax or v) / bias_correction2_sqrt + eps).
 * RMSprop: g = grad + wd p; sq = alpha sq + (1 - alpha) g^2;
 *      avg = sqrt(sq - ga^2) (ga += (1 - alpha)(g - ga) first, when centered) or sqrt(sq), + eps;
 *      buf = momentum buf + g / avg, p -= lr buf (when buf), else p -= lr g / avg. */
void bp_ssgd_step(float *p, const float *g, float *buf, ptrdiff_t n, float lr, float momentum,
                  float dampening, int nesterov, float weight_decay, int first_step, int isa);
void bp_dsgd_step(double *p, const double *g, double *buf, ptrdiff_t n, double lr, double momentum,
                  double dampening, int nesterov, double weight_decay, int first_step, int isa);
void bp_sadam_step(float *p, const float *g, float *m, float *v, float *vmax, ptrdiff_t n,
                   float step_size, float bias_correction2_sqrt, float beta1, float beta2, float eps,
                   float l2_decay, float decoupled_decay_factor, int isa);
void bp_dadam_step(double *p, const double *g, double *m, double *v, double *vmax, ptrdiff_t n,
                   double step_size, double bias_correction2_sqrt, double beta1, double beta2,
                   double eps, double l2_decay, double decoupled_decay_factor, int isa);
void bp_srmsprop_step(float *p, const float *g, float *sq, float *ga, float *buf, ptrdiff_t n,
                      float lr, float alpha, float eps, float momentum, float weight_decay, int isa);
void bp_drmsprop_step(double *p, const double *g, double *sq, double *ga, double *buf, ptrdiff_t n,
                      double lr, double alpha, double eps, double momentum, double weight_decay, int isa);

/* ---- Thread pool ---- */

/* Default thread count: the processors this process may run on. */
int bp_default_thread_count(void);
/* Process-wide thread count used by Backprop's kernels (>= 1). */
int bp_get_thread_count(void);
void bp_set_thread_count(int n);

/* Runs fn(ctx, tid, nthreads) for tid in 0..<nthreads, all concurrently, on
 * the calling thread (tid 0) and pool workers. nthreads may be lowered to 1
 * (when the pool is already busy, e.g. a nested call). Returns when all
 * calls have returned. */
typedef void (*bp_region_fn)(void *ctx, int tid, int nthreads);
void bp_parallel_region(int nthreads, bp_region_fn fn, void *ctx);

/* Runs fn(ctx, i) for i in 0..<count on up to `threads` threads with
 * dynamic scheduling; inline when threads <= 1 or count <= 1. */
typedef void (*bp_index_fn)(void *ctx, ptrdiff_t index);
void bp_parallel_for(ptrdiff_t count, int threads, bp_index_fn fn, void *ctx);

/* Monotonic clock in nanoseconds, for measurements. */
unsigned long long bp_now_ns(void);

/* Max pooling: for planes [plane_begin, plane_end) of x (each h x w), the
 * flat index into x of the largest element of every window (the first of
 * equal ones; NaN wins), written to out[plane * oh * ow + ...]. Windows are
 * kh x kw taps with stride (sh, sw), padding (pt, pl) and dilation (dh, dw);
 * padding is never chosen (every window must hold an image element).
 * Written in C to keep the update branch-free (pooling.c says why). */
void bp_maxpool2d_indices_f32(const float *x, ptrdiff_t plane_begin, ptrdiff_t plane_end,
                              ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow,
                              ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw,
                              ptrdiff_t pt, ptrdiff_t pl, ptrdiff_t dh, ptrdiff_t dw, ptrdiff_t *out);
void bp_maxpool2d_indices_f64(const double *x, ptrdiff_t plane_begin, ptrdiff_t plane_end,
                              ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow,
                              ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t sh, ptrdiff_t sw,
                              ptrdiff_t pt, ptrdiff_t pl, ptrdiff_t dh, ptrdiff_t dw, ptrdiff_t *out);

/* Max pooling with 2 x 2 windows, stride 2, no padding or dilation: for
 * planes [plane_begin, plane_end) of x (each h x w, pooled to oh x ow with
 * oh <= h / 2, ow <= w / 2), the largest element of each window to values and
 * its flat index into x to out (both at plane * oh * ow + ...), with the
 * choice of bp_maxpool2d_indices_*. Vectorised (AVX2 when the CPU has it). */
void bp_maxpool2d_2x2_f32(const float *x, ptrdiff_t plane_begin, ptrdiff_t plane_end, ptrdiff_t h, ptrdiff_t w,
                          ptrdiff_t oh, ptrdiff_t ow, float *values, ptrdiff_t *out);
void bp_maxpool2d_2x2_f64(const double *x, ptrdiff_t plane_begin, ptrdiff_t plane_end, ptrdiff_t h, ptrdiff_t w,
                          ptrdiff_t oh, ptrdiff_t ow, double *values, ptrdiff_t *out);

/* The gradient of bp_maxpool2d_2x2_*: for planes [plane_begin, plane_end) of
 * dx (each h x w), g[plane * oh * ow + ...] at the element idx chose in each
 * window, zeros everywhere else (dx is overwritten). */
void bp_maxunpool2d_2x2_f32(const float *g, const ptrdiff_t *idx, ptrdiff_t plane_begin, ptrdiff_t plane_end,
                            ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow, float *dx);
void bp_maxunpool2d_2x2_f64(const double *g, const ptrdiff_t *idx, ptrdiff_t plane_begin, ptrdiff_t plane_end,
                            ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow, double *dx);

/* The window geometry of a 2-D convolution over one image [channels, height,
 * width] giving [out_h, out_w] positions (padding after is implied by out_h
 * and out_w). */
typedef struct {
    ptrdiff_t channels, height, width, out_h, out_w, kernel_h, kernel_w;
    ptrdiff_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
} bp_conv_geometry;

/* im2col of one image: cols[(c, i, j) * ld + y * out_w + x] = the input
 * element under tap (i, j) of the window at output (y, x) of channel c, or 0
 * in the padding. col2im: its adjoint, dx = the sums of the cols entries read
 * from each element (dx is overwritten). AVX2 when the CPU has it. */
void bp_im2col_f32(const float *x, const bp_conv_geometry *g, float *cols, ptrdiff_t ld);
void bp_im2col_f64(const double *x, const bp_conv_geometry *g, double *cols, ptrdiff_t ld);
void bp_col2im_f32(const float *cols, ptrdiff_t ld, const bp_conv_geometry *g, float *dx);
void bp_col2im_f64(const double *cols, ptrdiff_t ld, const bp_conv_geometry *g, double *dx);

#ifdef __cplusplus
}
#endif
#endif
