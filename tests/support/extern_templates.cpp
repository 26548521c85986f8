// The one explicit instantiation of what extern_templates.hpp declares extern (see there).
#include "support/extern_templates.hpp"

#define SDESCORE_INSTANTIATE_MATRIX_EXP(N)                                                      \
  template void Eigen::internal::matrix_exp_compute<Eigen::Matrix<double, N, N>,                \
                                                    Eigen::Matrix<double, N, N>>(               \
      const Eigen::Matrix<double, N, N>&, Eigen::Matrix<double, N, N>&, Eigen::internal::true_type);
SDESCORE_INSTANTIATE_MATRIX_EXP(1)
SDESCORE_INSTANTIATE_MATRIX_EXP(2)
SDESCORE_INSTANTIATE_MATRIX_EXP(3)
SDESCORE_INSTANTIATE_MATRIX_EXP(4)
SDESCORE_INSTANTIATE_MATRIX_EXP(5)
SDESCORE_INSTANTIATE_MATRIX_EXP(6)
#undef SDESCORE_INSTANTIATE_MATRIX_EXP

template class Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>>;
template class Eigen::internal::SparseLUImpl<double, int>;
