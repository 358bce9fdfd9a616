/* sgemm and dgemm from one template (gemm_impl.h). */
#include <stdlib.h>
#include "bp_internal.h"

/* Products with m*n*k at or below this use direct loops (no packing). */
#define SMALL_WORK (8.0 * 8.0 * 8.0)
/* Below this m*n*k a single thread is used. */
#define PARALLEL_WORK (136.0 * 136.0 * 136.0)

#define T float
#define INFO bp_sinfo
#define INFO_FOR bp_sinfo_for
#define PACK_A_IMPL s_pack_a_impl
#define PACK_B_IMPL s_pack_b_impl
#define PACK_A s_pack_a
#define PACK_B s_pack_b
#define MACRO s_macro
#define MACRO_IMPL s_macro_impl
#define ARGS s_args
#define WORKER s_worker
#define COLUMNS s_columns
#define SMALL_IMPL s_small_impl
#define SMALL_GENERIC s_small_generic
#define SMALL_AVX2 s_small_avx2
#define SCALE s_scale
#define EPILOGUE s_epilogue
#define GEMM_IMPL s_gemm_impl
#define GEMM_ENTRY bp_sgemm
#define GEMM_EPILOGUE_ENTRY bp_sgemm_epilogue
#if BP_X86
#define FAST_PACK_A14 bp_spack_a14_avx512
#define FAST_PACK_B32 bp_spack_b32_avx512
#define FAST_PACK_BT32 bp_spack_bt32_avx512
#define FAST_PACK_A6 bp_spack_a6_avx2
#define FAST_PACK_AT6 bp_spack_at6_avx2
#define FAST_PACK_B16 bp_spack_b16_avx2
#define FAST_PACK_BT16 bp_spack_bt16_avx2
#endif
#include "gemm_impl.h"
#undef FAST_PACK_A14
#undef FAST_PACK_B32
#undef FAST_PACK_BT32
#undef FAST_PACK_A6
#undef FAST_PACK_AT6
#undef FAST_PACK_B16
#undef FAST_PACK_BT16
#undef T
#undef INFO
#undef INFO_FOR
#undef PACK_A_IMPL
#undef PACK_B_IMPL
#undef PACK_A
#undef PACK_B
#undef MACRO
#undef MACRO_IMPL
#undef ARGS
#undef WORKER
#undef COLUMNS
#undef SMALL_IMPL
#undef SMALL_GENERIC
#undef SMALL_AVX2
#undef SCALE
#undef EPILOGUE
#undef GEMM_IMPL
#undef GEMM_ENTRY
#undef GEMM_EPILOGUE_ENTRY

#define T double
#define INFO bp_dinfo
#define INFO_FOR bp_dinfo_for
#define PACK_A_IMPL d_pack_a_impl
#define PACK_B_IMPL d_pack_b_impl
#define PACK_A d_pack_a
#define PACK_B d_pack_b
#define MACRO d_macro
#define MACRO_IMPL d_macro_impl
#define ARGS d_args
#define WORKER d_worker
#define COLUMNS d_columns
#define SMALL_IMPL d_small_impl
#define SMALL_GENERIC d_small_generic
#define SMALL_AVX2 d_small_avx2
#define SCALE d_scale
#define EPILOGUE d_epilogue
#define GEMM_IMPL d_gemm_impl
#define GEMM_ENTRY bp_dgemm
#define GEMM_EPILOGUE_ENTRY bp_dgemm_epilogue
#if BP_X86
#define FAST_PACK_A6 bp_dpack_a6_avx2
#define FAST_PACK_B8 bp_dpack_b8_avx2
#endif
#include "gemm_impl.h"
