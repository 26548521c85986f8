// Force-included (-include) into every test and example unit (tests/CMakeLists.txt): the heavy Eigen
// instantiations those units would each compile again are declared extern here and compiled once,
// in extern_templates.cpp (the static library sdescore_test_instances). No source file includes
// this header; a unit that never calls these functions is unaffected (the declarations instantiate
// nothing). Measured in docs/performance.md (e), session 11.
#pragma once

#include <Eigen/SparseLU>
#include <unsupported/Eigen/MatrixFunctions>

// Matrix exponential of fixed-size double matrices, sizes 1-6: the local-linearisation stepper and
// Gaussian transitions (sizes 1-3, the model dimensions) and the analytic OU reference (2N: 2-6).
// (A * t).exp() evaluates its argument into a plain matrix, so every such call lands here.
// Each size costs about 3.5 s of compile time per unit at -O2.
#define SDESCORE_EXTERN_MATRIX_EXP(N)                                                           \
  extern template void Eigen::internal::matrix_exp_compute<Eigen::Matrix<double, N, N>,         \
                                                           Eigen::Matrix<double, N, N>>(        \
      const Eigen::Matrix<double, N, N>&, Eigen::Matrix<double, N, N>&, Eigen::internal::true_type);
SDESCORE_EXTERN_MATRIX_EXP(1)
SDESCORE_EXTERN_MATRIX_EXP(2)
SDESCORE_EXTERN_MATRIX_EXP(3)
SDESCORE_EXTERN_MATRIX_EXP(4)
SDESCORE_EXTERN_MATRIX_EXP(5)
SDESCORE_EXTERN_MATRIX_EXP(6)
#undef SDESCORE_EXTERN_MATRIX_EXP

// The Fokker-Planck reference's sparse LU (reference/fokker_planck.hpp): analyzePattern,
// factorize and the supernodal kernels of SparseLUImpl.
extern template class Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>>;
extern template class Eigen::internal::SparseLUImpl<double, int>;
