// detail/gemm.hpp and detail/rng.hpp: the serial GEMM wrapper equals Eigen's product for every
// transpose combination, on blocks and with accumulation; counter-based draws are reproducible.
#include <doctest/doctest.h>

#include "nn_test_support.hpp"
#include "sdescore/nn/detail/gemm.hpp"
#include "sdescore/nn/detail/rng.hpp"

using namespace sdescore::nn::detail;

TEST_CASE("gemm: all transpose combinations, blocks, accumulation") {
  const Eigen::MatrixXd A = nn_test::random_matrix(37, 53, 1), B = nn_test::random_matrix(53, 29, 2);
  const Eigen::MatrixXd At = A.transpose(), Bt = B.transpose();
  const Eigen::MatrixXd ref = A * B;
  for (int c = 0; c < 4; ++c) {
    const bool ta = c & 1, tb = c & 2;
    Eigen::MatrixXd C(37, 29);
    gemm<double>(C, ta ? At : A, ta ? Op::transpose : Op::none, tb ? Bt : B, tb ? Op::transpose : Op::none);
    CHECK((C - ref).cwiseAbs().maxCoeff() < 1e-12);
    gemm<double>(C, ta ? At : A, ta ? Op::transpose : Op::none, tb ? Bt : B, tb ? Op::transpose : Op::none, 0.5, true);
    CHECK((C - 1.5 * ref).cwiseAbs().maxCoeff() < 1e-12);
  }
  // into a block of columns, from a block of columns
  Eigen::MatrixXd big = Eigen::MatrixXd::Constant(37, 40, 7.0);
  gemm<double>(big.middleCols(5, 29), A.leftCols(20), Op::none, B.topRows(20), Op::none);
  CHECK((big.middleCols(5, 29) - A.leftCols(20) * B.topRows(20)).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(big(0, 4) == 7.0);
  CHECK(big(0, 34) == 7.0);
  // float
  Eigen::MatrixXf Cf(37, 29);
  gemm<float>(Cf, A.cast<float>(), Op::none, B.cast<float>(), Op::none);
  CHECK((Cf.cast<double>() - ref).cwiseAbs().maxCoeff() < 1e-4);
}

TEST_CASE("rng: counter-based draws are pure functions of (seed, stream, index)") {
  CHECK(random_bits(1, 2, 3) == random_bits(1, 2, 3));
  CHECK(random_bits(1, 2, 3) != random_bits(1, 2, 4));
  CHECK(random_bits(1, 2, 3) != random_bits(1, 3, 3));
  CHECK(random_bits(1, 2, 3) != random_bits(2, 2, 3));
  double m = 0, m2 = 0, umin = 1, umax = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double z = standard_normal(5, 0, std::uint64_t(i));
    m += z / n;
    m2 += z * z / n;
    const double u = uniform01(random_bits(5, 1, std::uint64_t(i)));
    umin = std::min(umin, u);
    umax = std::max(umax, u);
  }
  CHECK(umin >= 0.0);
  CHECK(umax < 1.0);
  CHECK(std::abs(m) < 4 / std::sqrt(double(n)));
  CHECK(std::abs(m2 - 1) < 4 * std::sqrt(2.0 / n));
}
