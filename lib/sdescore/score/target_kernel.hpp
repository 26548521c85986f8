#pragma once
// The inner loop of the multi-sample local-DSM target, dispatched at run time to the CPU's best
// SIMD target (target_kernel.cpp). Targets with FMA give the same bits.
#include <cstdint>

namespace sdescore::score::simd {

/// Largest state dimension the kernel handles (local_dsm.hpp falls back to Eigen above it).
inline constexpr int kMaxDim = 3;

/// Row padding the kernel may read past the last element of a window (multiples of 8 elements).
inline constexpr int kRowPadding = 8;

/// Over kernels k = 0 .. count-1: log w_k = c_k - 1/2 r_k' P_k r_k, r_k = y - m_k, and with
/// M = max_k log w_k, e_k = exp(log w_k - M): sum_w = sum e_k, sum_w2 = sum e_k^2,
/// sum_w_pr[a] = sum e_k (P_k r_k)_a.
struct TargetSums {
  double max_log_w = 0, sum_w = 0, sum_w2 = 0;
  double sum_w_pr[kMaxDim] = {0, 0, 0};
};

/// rows: structure-of-arrays kernel data with leading dimension ld, starting at the window's first
/// kernel: dim rows of means m_k, dim*dim rows of precisions ((a, b) in row a + dim b), one row of
/// c_k = -1/2 log det Sigma_k. Each row must stay readable kRowPadding elements past the window.
/// 1 <= dim <= kMaxDim, count >= 1.
TargetSums target_sums(int dim, std::int64_t count, const double* rows, std::int64_t ld, const double* y);

}  // namespace sdescore::score::simd
