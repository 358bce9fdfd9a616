/*
 * SGD, Adam/AdamW and RMSprop updates (optim_impl.h) for float and double,
 * compiled once per path with a function-level target attribute and chosen
 * by the same dispatch as the GEMM kernels. In Swift, in a build without
 * target flags, SIMD16 square roots and divisions become per-lane scalar
 * code; here they are full-width vector instructions.
 */
#include "bp_internal.h"

/* No FMA contraction: every path (and the Swift fallback) rounds each
 * operation separately, so updates agree bit for bit across paths. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* Square root without errno (clang, as SwiftPM uses), so that it vectorizes;
 * other compilers get the libm builtins (correct, maybe not vectorized). */
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define BP_SQRT(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef BP_SQRT
#define BP_SQRT(x) _Generic((x), float: __builtin_sqrtf, double: __builtin_sqrt)(x)
#endif

#define ATTR
#define T float
#define FN(name) s_##name##_generic
#include "optim_impl.h"
#undef T
#undef FN
#define T double
#define FN(name) d_##name##_generic
#include "optim_impl.h"
#undef T
#undef FN
#undef ATTR

#if BP_X86
#define ATTR BP_TARGET_AVX2
#define T float
#define FN(name) s_##name##_avx2
#include "optim_impl.h"
#undef T
#undef FN
#define T double
#define FN(name) d_##name##_avx2
#include "optim_impl.h"
#undef T
#undef FN
#undef ATTR

#define ATTR BP_TARGET_AVX512
#define T float
#define FN(name) s_##name##_avx512
#include "optim_impl.h"
#undef T
#undef FN
#define T double
#define FN(name) d_##name##_avx512
#include "optim_impl.h"
#undef T
#undef FN
#undef ATTR
#endif

#if BP_X86
#define DISPATCH(PRE, NAME, ...)                                                   \
    switch (bp_resolve_isa(isa)) {                                                    \
    case BP_ISA_AVX512: PRE##_##NAME##_avx512(__VA_ARGS__); return;                \
    case BP_ISA_AVX2: PRE##_##NAME##_avx2(__VA_ARGS__); return;                    \
    default: PRE##_##NAME##_generic(__VA_ARGS__); return;                          \
    }
#else
#define DISPATCH(PRE, NAME, ...) (void)isa; PRE##_##NAME##_generic(__VA_ARGS__);
#endif

void bp_ssgd_step(float *p, const float *g, float *buf, ptrdiff_t n, float lr, float momentum,
                  float dampening, int nesterov, float weight_decay, int first_step, int isa) {
    DISPATCH(s, sgd, p, g, buf, n, lr, momentum, dampening, nesterov, weight_decay, first_step)
}
void bp_dsgd_step(double *p, const double *g, double *buf, ptrdiff_t n, double lr, double momentum,
                  double dampening, int nesterov, double weight_decay, int first_step, int isa) {
    DISPATCH(d, sgd, p, g, buf, n, lr, momentum, dampening, nesterov, weight_decay, first_step)
}
void bp_sadam_step(float *p, const float *g, float *m, float *v, float *vmax, ptrdiff_t n,
                   float step_size, float bias_correction2_sqrt, float beta1, float beta2, float eps,
                   float l2_decay, float decoupled_decay_factor, int isa) {
    DISPATCH(s, adam, p, g, m, v, vmax, n, step_size, bias_correction2_sqrt, beta1, beta2, eps,
             l2_decay, decoupled_decay_factor)
}
void bp_dadam_step(double *p, const double *g, double *m, double *v, double *vmax, ptrdiff_t n,
                   double step_size, double bias_correction2_sqrt, double beta1, double beta2,
                   double eps, double l2_decay, double decoupled_decay_factor, int isa) {
    DISPATCH(d, adam, p, g, m, v, vmax, n, step_size, bias_correction2_sqrt, beta1, beta2, eps,
             l2_decay, decoupled_decay_factor)
}
void bp_srmsprop_step(float *p, const float *g, float *sq, float *ga, float *buf, ptrdiff_t n,
                      float lr, float alpha, float eps, float momentum, float weight_decay, int isa) {
    DISPATCH(s, rmsprop, p, g, sq, ga, buf, n, lr, alpha, eps, momentum, weight_decay)
}
void bp_drmsprop_step(double *p, const double *g, double *sq, double *ga, double *buf, ptrdiff_t n,
                      double lr, double alpha, double eps, double momentum, double weight_decay, int isa) {
    DISPATCH(d, rmsprop, p, g, sq, ga, buf, n, lr, alpha, eps, momentum, weight_decay)
}
