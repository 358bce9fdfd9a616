/* Runtime choice of the kernel path. */
#include <stdlib.h>
#include <string.h>
#include "bp_internal.h"

/* Tiles and blocking {mr, nr, kc, mc, nc}. A packed B micro-panel (kc x nr,
 * 32 KB on AVX-512) stays in L1; the packed A block (mc x kc, 170 KB) in L2;
 * the packed B block (kc x nc, 1 MB) in L2/L3 (nc = 1024 measured a little
 * faster than 4096 at n = 2048 on Zen 5, and mc = 168 a little faster than 336). */
#if defined(__aarch64__)
/* arm64: the NEON 8 x 12 kernel (NEON is baseline there). Blocking not tuned
 * (no arm64 machine to measure on): B micro-panel 12 KB, A block 128 KB. */
static const bp_sinfo s_generic = {8, 12, 256, 128, 2040, bp_skernel_neon};
#else
static const bp_sinfo s_generic = {4, 8, 256, 128, 2048, bp_skernel_generic};
#endif
static const bp_dinfo d_generic = {4, 4, 256, 64, 2048, bp_dkernel_generic};
#if BP_X86
static const bp_sinfo s_avx2 = {6, 16, 256, 144, 1024, bp_skernel_avx2, bp_skernel_edge_avx2, bp_skernel_epi_avx2};
static const bp_dinfo d_avx2 = {6, 8, 256, 72, 512, bp_dkernel_avx2};
static const bp_sinfo s_avx512 = {14, 32, 256, 168, 1024, bp_skernel_avx512, bp_skernel_edge_avx512, bp_skernel_epi_avx512};
static const bp_dinfo d_avx512 = {14, 16, 256, 168, 512, bp_dkernel_avx512};
#endif

int bp_isa_supported(int isa) {
    switch (isa) {
    case BP_ISA_GENERIC: return 1;
#if BP_X86
    case BP_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case BP_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("fma");
#endif
    default: return 0;
    }
}

/* The best supported path at or below `isa`. */
static int lower_to_supported(int isa) {
    if (isa > BP_ISA_AVX512) isa = BP_ISA_AVX512;
    while (isa > BP_ISA_GENERIC && !bp_isa_supported(isa)) isa--;
    return isa < BP_ISA_GENERIC ? BP_ISA_GENERIC : isa;
}

static int default_isa(void) {
    const char *env = getenv("BACKPROP_KERNEL");
    int want = BP_ISA_AVX512;
    if (env && *env) {
        if (!strcmp(env, "generic")) want = BP_ISA_GENERIC;
        else if (!strcmp(env, "avx2")) want = BP_ISA_AVX2;
        else if (!strcmp(env, "avx512")) want = BP_ISA_AVX512;
    }
    return lower_to_supported(want);
}

static _Atomic int g_isa = -1;

int bp_isa_current(void) {
    int isa = atomic_load_explicit(&g_isa, memory_order_relaxed);
    if (isa < 0) {
        isa = default_isa();
        atomic_store_explicit(&g_isa, isa, memory_order_relaxed);
    }
    return isa;
}

int bp_isa_set(int isa) {
    int v = isa < 0 ? default_isa() : lower_to_supported(isa);
    atomic_store_explicit(&g_isa, v, memory_order_relaxed);
    return v;
}

int bp_resolve_isa(int isa) {
    return isa < 0 ? bp_isa_current() : lower_to_supported(isa);
}

const char *bp_isa_name(int isa) {
    switch (isa) {
    case BP_ISA_AVX2: return "avx2";
    case BP_ISA_AVX512: return "avx512";
    default: return "generic";
    }
}

const bp_sinfo *bp_sinfo_for(int isa) {
    switch (bp_resolve_isa(isa)) {
#if BP_X86
    case BP_ISA_AVX512: return &s_avx512;
    case BP_ISA_AVX2: return &s_avx2;
#endif
    default: return &s_generic;
    }
}

const bp_dinfo *bp_dinfo_for(int isa) {
    switch (bp_resolve_isa(isa)) {
#if BP_X86
    case BP_ISA_AVX512: return &d_avx512;
    case BP_ISA_AVX2: return &d_avx2;
#endif
    default: return &d_generic;
    }
}

void bp_sgemm_tile(int isa, int *mr, int *nr) {
    const bp_sinfo *s = bp_sinfo_for(isa);
    *mr = s->mr; *nr = s->nr;
}

void bp_dgemm_tile(int isa, int *mr, int *nr) {
    const bp_dinfo *d = bp_dinfo_for(isa);
    *mr = d->mr; *nr = d->nr;
}
