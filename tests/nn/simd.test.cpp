// simd.hpp: the runtime-dispatched float GEMM and SiLU. Checked against double-precision
// references (tolerances from float rounding: a dot product of k terms of size ~1 carries an
// error of at most ~k * 2^-24 relative to the sum of |terms|), on every shape class the kernel
// has a separate path for (pairs of vectors, one vector, one-lane rows; blocks of 4 columns and
// single columns), and bit for bit across the SIMD targets with FMA.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "nn_test_support.hpp"
#include "sdescore/nn/simd.hpp"
#include "sdescore/random/normal.hpp"

namespace nn_simd_test {

using sdescore::nn::simd::gemm;
using sdescore::nn::simd::silu;

struct AutoTarget {
  ~AutoTarget() { sdescore::random::set_simd_target("auto"); }
};

bool has_fma(const std::string& target) { return target.rfind("AVX", 0) == 0; }

// C = alpha op(A) op(B) (+ C0 if accumulate) through simd::gemm, A and B stored with padding rows
// (leading dimensions larger than the rows) so strides are exercised.
Eigen::MatrixXf run(const Eigen::MatrixXd& opA, const Eigen::MatrixXd& opB, bool ta, bool tb, float alpha, bool acc,
                    const Eigen::MatrixXf& C0) {
  const Eigen::MatrixXf A = (ta ? Eigen::MatrixXd(opA.transpose()) : opA).cast<float>();
  const Eigen::MatrixXf B = (tb ? Eigen::MatrixXd(opB.transpose()) : opB).cast<float>();
  Eigen::MatrixXf Ap = Eigen::MatrixXf::Constant(A.rows() + 3, A.cols(), 1e30f);  // padding must never be read
  Eigen::MatrixXf Bp = Eigen::MatrixXf::Constant(B.rows() + 5, B.cols(), 1e30f);
  Ap.topRows(A.rows()) = A;
  Bp.topRows(B.rows()) = B;
  Eigen::MatrixXf Cp = Eigen::MatrixXf::Constant(C0.rows() + 2, C0.cols(), -7.0f);
  Cp.topRows(C0.rows()) = C0;
  gemm(opA.rows(), opB.cols(), opA.cols(), Ap.data(), Ap.rows(), ta, Bp.data(), Bp.rows(), tb, Cp.data(), Cp.rows(), alpha, acc);
  CHECK((Cp.bottomRows(2).array() == -7.0f).all());  // rows below C untouched
  return Cp.topRows(C0.rows());
}

}  // namespace nn_simd_test

TEST_CASE("simd::gemm equals the double-precision product to float rounding, every path and transpose") {
  using namespace nn_simd_test;
  // m: 2 x 16-lane vectors + 1 vector + remainder (37 = 32 + 5, 128, 1, 2); n: blocks of 4 + singles
  for (const auto [m, n, k] : {std::array<int, 3>{37, 29, 53}, {128, 256, 128}, {1, 7, 128}, {2, 5, 3}, {16, 4, 1}}) {
    const Eigen::MatrixXd A = nn_test::random_matrix(m, k, 11), B = nn_test::random_matrix(k, n, 12);
    const Eigen::MatrixXd ref = A.cast<float>().cast<double>() * B.cast<float>().cast<double>();
    const Eigen::MatrixXd absref = A.cast<float>().cast<double>().cwiseAbs() * B.cast<float>().cast<double>().cwiseAbs();
    const Eigen::MatrixXf C0 = nn_test::random_matrix(m, n, 13).cast<float>();
    for (int c = 0; c < 4; ++c) {
      const bool ta = c & 1, tb = c & 2;
      const double tol = 2.0 * (k + 2) * std::ldexp(1.0, -24);
      const Eigen::MatrixXf C = run(A, B, ta, tb, 1.0f, false, C0);
      CHECK_MESSAGE(((C.cast<double>() - ref).array().abs() <= tol * (absref.array() + 1e-30)).all(),
                    "m " << m << " n " << n << " k " << k << " ta " << ta << " tb " << tb);
      const Eigen::MatrixXf C2 = run(A, B, ta, tb, 0.5f, true, C0);
      const Eigen::MatrixXd ref2 = C0.cast<double>() + 0.5 * ref;
      CHECK((((C2.cast<double>() - ref2).array().abs()) <= tol * (0.5 * absref.array() + C0.cast<double>().array().abs()) + 1e-30).all());
    }
  }
  // k = 0: overwrite gives zeros, accumulate leaves C
  Eigen::MatrixXf C = Eigen::MatrixXf::Constant(3, 2, 4.0f);
  gemm(3, 2, 0, nullptr, 3, false, nullptr, 1, false, C.data(), 3, 1.0f, true);
  CHECK((C.array() == 4.0f).all());
  gemm(3, 2, 0, nullptr, 3, false, nullptr, 1, false, C.data(), 3, 1.0f, false);
  CHECK((C.array() == 0.0f).all());
}

TEST_CASE("simd::silu and its derivatives equal the double-precision formulas to a few float ulp, tails included") {
  using namespace nn_simd_test;
  std::vector<float> z;
  for (int i = -400; i <= 400; ++i) z.push_back(0.05f * static_cast<float>(i));  // [-20, 20]
  for (float v : {-1e4f, -200.0f, -104.0f, -88.5f, 88.5f, 200.0f, 1e4f, 0.0f, -0.0f}) z.push_back(v);
  const auto n = static_cast<std::int64_t>(z.size());
  std::vector<float> h(n), d1(n), d2(n), h_only(n);
  silu(n, z.data(), h.data(), d1.data(), d2.data());
  silu(n, z.data(), h_only.data(), nullptr, nullptr);
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = z[i], sg = 1.0 / (1.0 + std::exp(-x));
    const double rh = x * sg, r1 = sg * (1 + x * (1 - sg)), r2 = sg * (1 - sg) * (2 + x * (1 - 2 * sg));
    // absolute scale |x| + 1: the formulas lose relative accuracy by cancellation near their zeros
    const double tol = 8 * std::ldexp(1.0, -24) * (std::abs(x) + 1);
    CHECK_MESSAGE(std::abs(h[i] - rh) <= tol * (1 + std::abs(rh)), "z = " << x << " h " << h[i] << " vs " << rh);
    CHECK_MESSAGE(std::abs(d1[i] - r1) <= tol, "z = " << x << " d1 " << d1[i] << " vs " << r1);
    CHECK_MESSAGE(std::abs(d2[i] - r2) <= tol, "z = " << x << " d2 " << d2[i] << " vs " << r2);
    CHECK(std::memcmp(&h[i], &h_only[i], sizeof(float)) == 0);
    CHECK(std::isfinite(h[i]));
  }
}

TEST_CASE("simd::gemm and simd::silu give the same bits on every SIMD target with FMA") {
  using namespace nn_simd_test;
  const auto targets = sdescore::random::simd_targets();
  REQUIRE(!targets.empty());
  AutoTarget restore;
  const Eigen::MatrixXd A = nn_test::random_matrix(37, 53, 21), B = nn_test::random_matrix(53, 29, 22);
  const Eigen::MatrixXf C0 = nn_test::random_matrix(37, 29, 23).cast<float>();
  std::vector<float> z(301);
  for (std::size_t i = 0; i < z.size(); ++i) z[i] = -15.0f + 0.1f * static_cast<float>(i);
  auto compute = [&](const std::string& target) {
    sdescore::random::set_simd_target(target);
    std::vector<float> out;
    for (int c = 0; c < 4; ++c) {
      const Eigen::MatrixXf C = run(A, B, c & 1, c & 2, 0.75f, c % 2 == 0, C0);
      out.insert(out.end(), C.data(), C.data() + C.size());
    }
    std::vector<float> h(z.size()), d1(z.size()), d2(z.size());
    silu(static_cast<std::int64_t>(z.size()), z.data(), h.data(), d1.data(), d2.data());
    for (const auto* v : {&h, &d1, &d2}) out.insert(out.end(), v->begin(), v->end());
    return out;
  };
  const auto best = compute(targets.front());
  for (const auto& t : targets) {
    const auto out = compute(t);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < out.size(); ++i) differ += std::memcmp(&out[i], &best[i], sizeof(float)) != 0;
    if (has_fma(t) && has_fma(targets.front()))
      CHECK_MESSAGE(differ == 0, t << " vs " << targets.front());
    else
      MESSAGE(t << " (no FMA) vs " << targets.front() << ": " << differ << " of " << out.size() << " values differ");
  }
}
