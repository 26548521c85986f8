#pragma once
// Serial, deterministic GEMM on column-major buffers.
//
// Eigen's `C.noalias() = A * B` parallelises itself with OpenMP when called outside a parallel
// region, and its cache blocking then depends on the thread count, so results would change in
// the last bits with the number of threads. The network splits the batch into fixed chunks and
// parallelises over chunks itself; inside, every product goes through this wrapper, which calls
// Eigen's serial GEMM kernel directly (the same kernel `operator*` uses) with single-thread
// blocking. Same inputs give the same bits on any thread count.
//
// Float products (the network's) go to simd::gemm instead: a register-blocked kernel compiled
// for every SIMD target and dispatched at run time, so the portable build runs AVX-512 / AVX2
// (Eigen's kernel is fixed at compile time to the -march width: SSE2 in a portable build).
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "sdescore/nn/simd.hpp"

namespace sdescore::nn::detail {

template <class T>
using MatX = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using VecX = Eigen::Matrix<T, Eigen::Dynamic, 1>;

enum class Op { none, transpose };

/// Single-thread cache blocking with packing buffers that persist per thread: Eigen's own
/// blocking object allocates (and for large panels maps fresh pages) on every product.
template <class T>
class PersistentBlocking : public Eigen::internal::level3_blocking<T, T> {
 public:
  PersistentBlocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
    this->m_mc = rows;
    this->m_nc = cols;
    this->m_kc = depth;
    Eigen::internal::computeProductBlockingSizes<T, T, 1, Eigen::Index>(this->m_kc, this->m_mc, this->m_nc, Eigen::Index(1));
    thread_local std::vector<T, Eigen::aligned_allocator<T>> buf_a, buf_b;
    const auto size_a = static_cast<std::size_t>(this->m_mc * this->m_kc);
    const auto size_b = static_cast<std::size_t>(this->m_kc * this->m_nc);
    if (buf_a.size() < size_a) buf_a.resize(size_a);
    if (buf_b.size() < size_b) buf_b.resize(size_b);
    this->m_blockA = buf_a.data();
    this->m_blockB = buf_b.data();
  }
};

/// C (=|+=) alpha * op(A) * op(B). `accumulate == false` overwrites C.
/// A, B, C are column-major views (blocks of whole columns, Maps with outer stride).
template <class T>
void gemm(Eigen::Ref<MatX<T>> c, const Eigen::Ref<const MatX<T>>& a, Op op_a,
          const Eigen::Ref<const MatX<T>>& b, Op op_b, T alpha = T(1), bool accumulate = false) {
  using Index = Eigen::Index;
  const Index m = c.rows(), n = c.cols();
  const Index k = op_a == Op::none ? a.cols() : a.rows();
  eigen_assert((op_a == Op::none ? a.rows() : a.cols()) == m);
  eigen_assert((op_b == Op::none ? b.rows() : b.cols()) == k);
  eigen_assert((op_b == Op::none ? b.cols() : b.rows()) == n);
  if constexpr (std::is_same_v<T, float>) {  // runtime-dispatched SIMD kernel (simd.cpp)
    simd::gemm(m, n, k, a.data(), a.outerStride(), op_a == Op::transpose, b.data(), b.outerStride(), op_b == Op::transpose,
               c.data(), c.outerStride(), alpha, accumulate);
    return;
  }
  if (!accumulate) c.setZero();
  if (m == 0 || n == 0 || k == 0) return;
  using namespace Eigen;
  PersistentBlocking<T> blocking(m, n, k);
  const T* pa = a.data();
  const T* pb = b.data();
  const Index lda = a.outerStride(), ldb = b.outerStride();
  T* pc = c.data();
  const Index ldc = c.outerStride();
  if (op_a == Op::none && op_b == Op::none)
    internal::general_matrix_matrix_product<Index, T, ColMajor, false, T, ColMajor, false, ColMajor, 1>::run(
        m, n, k, pa, lda, pb, ldb, pc, 1, ldc, alpha, blocking, nullptr);
  else if (op_a == Op::transpose && op_b == Op::none)
    internal::general_matrix_matrix_product<Index, T, RowMajor, false, T, ColMajor, false, ColMajor, 1>::run(
        m, n, k, pa, lda, pb, ldb, pc, 1, ldc, alpha, blocking, nullptr);
  else if (op_a == Op::none && op_b == Op::transpose)
    internal::general_matrix_matrix_product<Index, T, ColMajor, false, T, RowMajor, false, ColMajor, 1>::run(
        m, n, k, pa, lda, pb, ldb, pc, 1, ldc, alpha, blocking, nullptr);
  else
    internal::general_matrix_matrix_product<Index, T, RowMajor, false, T, RowMajor, false, ColMajor, 1>::run(
        m, n, k, pa, lda, pb, ldb, pc, 1, ldc, alpha, blocking, nullptr);
}

}  // namespace sdescore::nn::detail
