/*
 * Optimizer update loops, instantiated by optim.c for float and double and
 * for each target (portable, AVX2, AVX-512). Expects T, ATTR (a target
 * attribute or nothing) and FN(name) (the instantiated name).
 *
 * Each loop is written plainly and left to the compiler's vectorizer, which
 * under the target attribute emits full-width vsqrtps/vdivps; the flags that
 * change the loop body (decay, AMSGrad, momentum, ...) are constants of an
 * always-inlined body, so that each combination gets a loop without branches.
 * The formulas and their order follow PyTorch's single-tensor (foreach=False)
 * implementations; optim.c turns off FMA contraction so that every path
 * rounds alike.
 */

static inline __attribute__((always_inline)) ATTR void
FN(sgd_body)(T *restrict p, const T *restrict g, T *restrict buf, ptrdiff_t n, T lr, T mu,
             T keep, T wd, const int has_wd, const int has_buf, const int nesterov, const int first) {
    for (ptrdiff_t i = 0; i < n; i++) {
        T pv = p[i], gv = g[i];
        if (has_wd) gv = gv + wd * pv;
        if (has_buf) {
            T b = first ? gv : buf[i] * mu + keep * gv;
            buf[i] = b;
            gv = nesterov ? gv + mu * b : b;
        }
        p[i] = pv - lr * gv;
    }
}

ATTR static void FN(sgd)(T *restrict p, const T *restrict g, T *restrict buf, ptrdiff_t n, T lr,
                         T mu, T dampening, int nesterov, T wd, int first) {
    T keep = 1 - dampening;
    if (!buf) {
        if (wd != 0) FN(sgd_body)(p, g, buf, n, lr, mu, keep, wd, 1, 0, 0, 0);
        else FN(sgd_body)(p, g, buf, n, lr, mu, keep, wd, 0, 0, 0, 0);
        return;
    }
#define SGD_CASE(W, N, F)                                                          \
    if ((wd != 0) == W && (nesterov != 0) == N && (first != 0) == F) {             \
        FN(sgd_body)(p, g, buf, n, lr, mu, keep, wd, W, 1, N, F);                  \
        return;                                                                    \
    }
    SGD_CASE(0, 0, 0) SGD_CASE(0, 0, 1) SGD_CASE(0, 1, 0) SGD_CASE(0, 1, 1)
    SGD_CASE(1, 0, 0) SGD_CASE(1, 0, 1) SGD_CASE(1, 1, 0) SGD_CASE(1, 1, 1)
#undef SGD_CASE
}

static inline __attribute__((always_inline)) ATTR void
FN(adam_body)(T *restrict p, const T *restrict g, T *restrict m, T *restrict v, T *restrict vmax,
              ptrdiff_t n, T step_size, T bc2, T beta1, T beta2, T eps, T l2, T decay,
              const int has_decay, const int has_l2, const int ams) {
    const T w1 = 1 - beta1, w2 = 1 - beta2, step = -step_size;
    for (ptrdiff_t i = 0; i < n; i++) {
        T pv = p[i];
        if (has_decay) pv = pv * decay;
        T gv = g[i];
        if (has_l2) gv = gv + l2 * pv;
        T mv = m[i];
        T m_new = mv + w1 * (gv - mv);
        T v_new = v[i] * beta2 + w2 * gv * gv;
        m[i] = m_new;
        v[i] = v_new;
        T second = v_new;
        if (ams) {
            second = vmax[i];
            second = v_new > second ? v_new : second;
            vmax[i] = second;
        }
        T denom = BP_SQRT(second) / bc2 + eps;
        p[i] = pv + step * (m_new / denom);
    }
}

ATTR static void FN(adam)(T *restrict p, const T *restrict g, T *restrict m, T *restrict v,
                          T *restrict vmax, ptrdiff_t n, T step_size, T bc2, T beta1, T beta2,
                          T eps, T l2, T decay) {
#define ADAM_CASE(D, L, A)                                                         \
    if ((decay != 1) == D && (l2 != 0) == L && (vmax != 0) == A) {                 \
        FN(adam_body)(p, g, m, v, vmax, n, step_size, bc2, beta1, beta2, eps, l2, decay, D, L, A); \
        return;                                                                    \
    }
    ADAM_CASE(0, 0, 0) ADAM_CASE(0, 0, 1) ADAM_CASE(0, 1, 0) ADAM_CASE(0, 1, 1)
    ADAM_CASE(1, 0, 0) ADAM_CASE(1, 0, 1) ADAM_CASE(1, 1, 0) ADAM_CASE(1, 1, 1)
#undef ADAM_CASE
}

static inline __attribute__((always_inline)) ATTR void
FN(rmsprop_body)(T *restrict p, const T *restrict g, T *restrict sq, T *restrict ga,
                 T *restrict buf, ptrdiff_t n, T lr, T alpha, T eps, T mu, T wd,
                 const int has_wd, const int centered, const int has_buf) {
    const T wa = 1 - alpha;
    for (ptrdiff_t i = 0; i < n; i++) {
        T pv = p[i], gv = g[i];
        if (has_wd) gv = gv + wd * pv;
        T s = sq[i] * alpha + wa * gv * gv;
        sq[i] = s;
        T avg;
        if (centered) {
            T a = ga[i];
            T a_new = a + wa * (gv - a);
            ga[i] = a_new;
            avg = BP_SQRT(s - a_new * a_new);
        } else {
            avg = BP_SQRT(s);
        }
        avg = avg + eps;
        if (has_buf) {
            T b = buf[i] * mu + gv / avg;
            buf[i] = b;
            p[i] = pv - lr * b;
        } else {
            p[i] = pv - lr * (gv / avg);
        }
    }
}

ATTR static void FN(rmsprop)(T *restrict p, const T *restrict g, T *restrict sq, T *restrict ga,
                             T *restrict buf, ptrdiff_t n, T lr, T alpha, T eps, T mu, T wd) {
#define RMS_CASE(W, C, B)                                                          \
    if ((wd != 0) == W && (ga != 0) == C && (buf != 0) == B) {                     \
        FN(rmsprop_body)(p, g, sq, ga, buf, n, lr, alpha, eps, mu, wd, W, C, B);   \
        return;                                                                    \
    }
    RMS_CASE(0, 0, 0) RMS_CASE(0, 0, 1) RMS_CASE(0, 1, 0) RMS_CASE(0, 1, 1)
    RMS_CASE(1, 0, 0) RMS_CASE(1, 0, 1) RMS_CASE(1, 1, 0) RMS_CASE(1, 1, 1)
#undef RMS_CASE
}
