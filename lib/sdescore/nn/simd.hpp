#pragma once
// The network's float kernels, dispatched at run time to the CPU's best SIMD target (simd.cpp):
// no -march flag is needed for AVX2 / AVX-512 speed. Targets with FMA give the same bits.
#include <cstdint>

namespace sdescore::nn::simd {

/// C (m x n, column-major, ldc) = or += alpha op(A) op(B); op(A) is m x k, op(B) is k x n;
/// A and B column-major with leading dimensions lda, ldb; trans_* selects the transpose.
/// Each element of C is one ordered sequence of fused multiply-adds over the inner index.
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, bool trans_a, const float* b,
          std::int64_t ldb, bool trans_b, float* c, std::int64_t ldc, float alpha, bool accumulate);

/// SiLU over n values: h = z sg(z); d1 = silu'(z), d2 = silu''(z) where non-null. z must not alias.
void silu(std::int64_t n, const float* z, float* h, float* d1, float* d2);

}  // namespace sdescore::nn::simd
