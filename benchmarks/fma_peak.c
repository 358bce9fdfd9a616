/*
 * FMA peak of this machine, for benchmarks/compare.py: a loop of nothing but
 * fused multiply-adds on 10 independent accumulator chains (enough to cover
 * FMA latency x throughput on current x86 cores), in ymm (AVX2) or zmm
 * (AVX-512) registers, on 1..N threads.
 *
 *   cc -O2 -pthread -o fma_peak fma_peak.c && ./fma_peak avx2 2
 *
 * Prints one JSON object per line:
 *   {"isa": "avx2", "threads": 1, "gflops": 118.2, "gflops_wall": 117.9}
 * float32, 2 flops per lane per FMA, the best of several runs. "gflops" counts
 * each thread's own CPU time (CLOCK_THREAD_CPUTIME_ID), so time the thread
 * spent descheduled on a busy machine does not lower it: it is what the cores
 * can do. "gflops_wall" is the same over wall time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

#define CHAINS 10
#define ITERS 20000000L

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static volatile float sink;

__attribute__((target("avx2,fma"))) static void run_ymm(long iters) {
    __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    __m256 c0 = _mm256_set1_ps(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0;
    __m256 c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
    for (long i = 0; i < iters; i++) {
        /* The asm barrier keeps the compiler from folding the chains. */
        c0 = _mm256_fmadd_ps(c0, a, b); c1 = _mm256_fmadd_ps(c1, a, b);
        c2 = _mm256_fmadd_ps(c2, a, b); c3 = _mm256_fmadd_ps(c3, a, b);
        c4 = _mm256_fmadd_ps(c4, a, b); c5 = _mm256_fmadd_ps(c5, a, b);
        c6 = _mm256_fmadd_ps(c6, a, b); c7 = _mm256_fmadd_ps(c7, a, b);
        c8 = _mm256_fmadd_ps(c8, a, b); c9 = _mm256_fmadd_ps(c9, a, b);
        __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4),
                         "+x"(c5), "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(c8, c9));
    sink = _mm256_cvtss_f32(s);
}

__attribute__((target("avx512f,fma"))) static void run_zmm(long iters) {
    __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    __m512 c0 = _mm512_set1_ps(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0;
    __m512 c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
    for (long i = 0; i < iters; i++) {
        c0 = _mm512_fmadd_ps(c0, a, b); c1 = _mm512_fmadd_ps(c1, a, b);
        c2 = _mm512_fmadd_ps(c2, a, b); c3 = _mm512_fmadd_ps(c3, a, b);
        c4 = _mm512_fmadd_ps(c4, a, b); c5 = _mm512_fmadd_ps(c5, a, b);
        c6 = _mm512_fmadd_ps(c6, a, b); c7 = _mm512_fmadd_ps(c7, a, b);
        c8 = _mm512_fmadd_ps(c8, a, b); c9 = _mm512_fmadd_ps(c9, a, b);
        __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4),
                         "+v"(c5), "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9));
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(c8, c9));
    sink = _mm512_reduce_add_ps(s);
}

static int use_zmm;
static pthread_barrier_t start;

static void *worker(void *arg) {
    double *cpu = arg;
    pthread_barrier_wait(&start);
    double t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    if (use_zmm) run_zmm(ITERS); else run_ymm(ITERS);
    *cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
    return NULL;
}

/* GFLOP/s of `threads` threads each running the loop once: over each
 * thread's CPU time (summed over threads) and over wall time. */
static void measure(int threads, double *cpu_rate, double *wall_rate) {
    pthread_t t[64];
    double cpu[64];
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, &cpu[i]);
    pthread_barrier_wait(&start);
    double t0 = clock_s(CLOCK_MONOTONIC);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double dt = clock_s(CLOCK_MONOTONIC) - t0;
    pthread_barrier_destroy(&start);
    double flops = (double)ITERS * CHAINS * (use_zmm ? 16 : 8) * 2;
    *cpu_rate = 0;
    for (int i = 0; i < threads; i++) *cpu_rate += flops / cpu[i] / 1e9;
    *wall_rate = threads * flops / dt / 1e9;
}

int main(int argc, char **argv) {
    const char *isa = argc > 1 ? argv[1] : "avx2";
    int max_threads = argc > 2 ? atoi(argv[2]) : 1;
    if (max_threads < 1 || max_threads > 64) max_threads = 1;
    __builtin_cpu_init();
    if (!strcmp(isa, "avx512")) {
        if (!__builtin_cpu_supports("avx512f")) {
            fprintf(stderr, "fma_peak: this CPU has no AVX-512\n");
            return 2;
        }
        use_zmm = 1;
    } else if (!strcmp(isa, "avx2")) {
        if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
            fprintf(stderr, "fma_peak: this CPU has no AVX2+FMA\n");
            return 2;
        }
    } else {
        fprintf(stderr, "fma_peak: isa must be avx2 or avx512, got '%s'\n", isa);
        return 2;
    }
    for (int n = 1; n <= max_threads; n++) {
        double best = 0, best_wall = 0;
        for (int r = 0; r < 7; r++) {
            double g, w;
            measure(n, &g, &w);
            if (g > best) best = g;
            if (w > best_wall) best_wall = w;
        }
        printf("{\"isa\": \"%s\", \"threads\": %d, \"gflops\": %.1f, \"gflops_wall\": %.1f}\n",
               isa, n, best, best_wall);
        fflush(stdout);
    }
    return 0;
}
