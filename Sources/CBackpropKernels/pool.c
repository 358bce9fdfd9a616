/*
 * A persistent thread pool: workers are started once (on first need) and
 * then wait for jobs, spinning briefly and then sleeping on a condition
 * variable. One job runs at a time; a call made while the pool is busy
 * (another thread's job, or a nested call from inside a job) runs inline.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bp_internal.h"

#define BP_MAX_WORKERS 255
/* How long an idle worker spins before it sleeps, and how long a waiting
 * caller spins before it yields the core. */
#define BP_SPIN_NS 200000ull
#define BP_WAIT_SPIN_NS 50000ull

unsigned long long bp_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* ---- thread count ---- */

int bp_default_thread_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static _Atomic int g_threads = 0; /* 0: not yet resolved */

int bp_get_thread_count(void) {
    int n = atomic_load_explicit(&g_threads, memory_order_relaxed);
    if (n <= 0) {
        n = bp_default_thread_count();
        atomic_store_explicit(&g_threads, n, memory_order_relaxed);
    }
    return n;
}

void bp_set_thread_count(int n) {
    if (n < 1) n = 1;
    if (n > BP_MAX_WORKERS + 1) n = BP_MAX_WORKERS + 1;
    atomic_store_explicit(&g_threads, n, memory_order_relaxed);
}

/* ---- pool ---- */

typedef struct {
    _Atomic unsigned long go; /* job generation this worker should run */
    unsigned long seen0;      /* value of go when the worker was started */
    char pad[64 - 2 * sizeof(unsigned long)];
} bp_worker_slot;

static struct {
    pthread_mutex_t start_mu; /* guards starting workers */
    pthread_mutex_t mu;       /* with cv: sleeping workers */
    pthread_cond_t cv;
    _Atomic int busy;
    int started;
    unsigned long gen;
    /* the current job; written by the owner before workers are released */
    bp_region_fn fn;
    void *ctx;
    int nthreads;
    _Atomic int pending;
    bp_worker_slot slots[BP_MAX_WORKERS];
} pool = {
    .start_mu = PTHREAD_MUTEX_INITIALIZER,
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
};

static void *worker_main(void *arg) {
    int w = (int)(intptr_t)arg;
    _Atomic unsigned long *go = &pool.slots[w].go;
    /* Read before the first job was posted to this worker, so a job posted
     * before this thread got here is still seen as new. */
    unsigned long seen = pool.slots[w].seen0;
    for (;;) {
        unsigned long g = atomic_load_explicit(go, memory_order_acquire);
        if (g == seen) {
            unsigned long long start = bp_now_ns();
            unsigned spins = 0;
            while ((g = atomic_load_explicit(go, memory_order_acquire)) == seen) {
                bp_cpu_relax();
                if ((++spins & 255) == 0 && bp_now_ns() - start > BP_SPIN_NS) break;
            }
            if (g == seen) {
                pthread_mutex_lock(&pool.mu);
                while ((g = atomic_load_explicit(go, memory_order_acquire)) == seen)
                    pthread_cond_wait(&pool.cv, &pool.mu);
                pthread_mutex_unlock(&pool.mu);
            }
        }
        seen = g;
        pool.fn(pool.ctx, w + 1, pool.nthreads);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel);
    }
    return NULL;
}

/* A forked child has none of the parent's workers: start afresh. */
static void pool_after_fork_child(void) {
    pthread_mutex_init(&pool.start_mu, NULL);
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.cv, NULL);
    pool.started = 0;
    atomic_store(&pool.busy, 0);
}
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) { pthread_atfork(NULL, NULL, pool_after_fork_child); }

/* Starts workers up to `count`; returns how many are running. */
static int ensure_workers(int count) {
    if (count > BP_MAX_WORKERS) count = BP_MAX_WORKERS;
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&pool.start_mu);
    while (pool.started < count) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1 << 20);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t t;
        pool.slots[pool.started].seen0 =
            atomic_load_explicit(&pool.slots[pool.started].go, memory_order_relaxed);
        int rc = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)pool.started);
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
        pool.started++;
    }
    int n = pool.started;
    pthread_mutex_unlock(&pool.start_mu);
    return n;
}

static void wait_until_zero(_Atomic int *v) {
    unsigned long long start = 0;
    unsigned spins = 0;
    while (atomic_load_explicit(v, memory_order_acquire) != 0) {
        bp_cpu_relax();
        if ((++spins & 255) == 0) {
            unsigned long long now = bp_now_ns();
            if (start == 0) start = now;
            else if (now - start > BP_WAIT_SPIN_NS) sched_yield();
        }
    }
}

void bp_parallel_region(int nthreads, bp_region_fn fn, void *ctx) {
    if (nthreads > 1) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
            int workers = ensure_workers(nthreads - 1);
            if (workers + 1 < nthreads) nthreads = workers + 1;
            if (nthreads > 1) {
                pool.fn = fn;
                pool.ctx = ctx;
                pool.nthreads = nthreads;
                atomic_store_explicit(&pool.pending, nthreads - 1, memory_order_relaxed);
                unsigned long g = ++pool.gen;
                for (int w = 0; w < nthreads - 1; w++)
                    atomic_store_explicit(&pool.slots[w].go, g, memory_order_release);
                pthread_mutex_lock(&pool.mu);
                pthread_cond_broadcast(&pool.cv);
                pthread_mutex_unlock(&pool.mu);
                fn(ctx, 0, nthreads);
                wait_until_zero(&pool.pending);
                atomic_store_explicit(&pool.busy, 0, memory_order_release);
                return;
            }
            atomic_store_explicit(&pool.busy, 0, memory_order_release);
        }
    }
    fn(ctx, 0, 1);
}

/* ---- parallel for ---- */

typedef struct {
    bp_index_fn fn;
    void *ctx;
    ptrdiff_t count;
    _Atomic ptrdiff_t next;
} for_job;

static void for_region(void *p, int tid, int nthreads) {
    (void)tid; (void)nthreads;
    for_job *job = p;
    for (;;) {
        ptrdiff_t i = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (i >= job->count) break;
        job->fn(job->ctx, i);
    }
}

void bp_parallel_for(ptrdiff_t count, int threads, bp_index_fn fn, void *ctx) {
    if (count <= 0) return;
    if (threads <= 1 || count == 1) {
        for (ptrdiff_t i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    if (threads > count) threads = (int)count;
    for_job job = {fn, ctx, count, 0};
    bp_parallel_region(threads, for_region, &job);
}

/* ---- barrier ---- */

void bp_barrier_init(bp_barrier *b) {
    atomic_store(&b->count, 0);
    atomic_store(&b->sense, 0);
}

void bp_barrier_wait(bp_barrier *b, int nthreads, int *local_sense) {
    if (nthreads <= 1) return;
    int s = !*local_sense;
    *local_sense = s;
    if (atomic_fetch_add_explicit(&b->count, 1, memory_order_acq_rel) == nthreads - 1) {
        atomic_store_explicit(&b->count, 0, memory_order_relaxed);
        atomic_store_explicit(&b->sense, s, memory_order_release);
        return;
    }
    unsigned long long start = 0;
    unsigned spins = 0;
    while (atomic_load_explicit(&b->sense, memory_order_acquire) != s) {
        bp_cpu_relax();
        if ((++spins & 255) == 0) {
            unsigned long long now = bp_now_ns();
            if (start == 0) start = now;
            else if (now - start > BP_WAIT_SPIN_NS) sched_yield();
        }
    }
}

/* ---- per-thread scratch ---- */

typedef struct { void *ptr[2]; size_t size[2]; } scratch_t;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
    scratch_t *s = p;
    free(s->ptr[0]);
    free(s->ptr[1]);
    free(s);
}
static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

void *bp_scratch(int slot, size_t bytes) {
    pthread_once(&scratch_once, scratch_init);
    scratch_t *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) abort();
        pthread_setspecific(scratch_key, s);
    }
    if (s->size[slot] < bytes) {
        free(s->ptr[slot]);
        s->ptr[slot] = NULL;
        size_t rounded = (bytes + 4095) & ~(size_t)4095;
        if (posix_memalign(&s->ptr[slot], 4096, rounded) != 0) abort();
        s->size[slot] = rounded;
    }
    return s->ptr[slot];
}
