// Probes: moments, determinism; the Hutchinson estimate is unbiased for the exact divergence.
#include <doctest/doctest.h>

#include <cmath>

#include "nn_test_support.hpp"
#include "sdescore/nn/mlp.hpp"
#include "sdescore/nn/probes.hpp"

using namespace sdescore;
using namespace sdescore::nn;

TEST_CASE("ProbeGenerator: E[v] = 0, E[v v^T] = I; deterministic") {
  for (ProbeKind k : {ProbeKind::rademacher, ProbeKind::gaussian}) {
    ProbeGenerator g(7, k);
    const Eigen::MatrixXd v = g.draw(0, 20000, 2);
    const double n = double(v.rows());
    CHECK(std::abs(v.col(0).mean()) < 4 / std::sqrt(n));
    const Eigen::MatrixXd cov = v.transpose() * v / n;
    CHECK(std::abs(cov(0, 0) - 1) < 5 * std::sqrt(2.0 / n));
    CHECK(std::abs(cov(0, 1)) < 5 / std::sqrt(n));
    if (k == ProbeKind::rademacher) CHECK((v.array().abs() == 1.0).all());
    CHECK(g.draw(3, 5, 2, 2) == ProbeGenerator(7, k).draw(3, 5, 2, 2));
    CHECK(g.draw(3, 5, 2) != g.draw(4, 5, 2));
  }
  CHECK(parse_probe_kind("gaussian") == ProbeKind::gaussian);
  CHECK_THROWS_AS(parse_probe_kind("uniform"), ConfigError);
}

TEST_CASE("Hutchinson divergence is unbiased: mean over N probes within 4 sigma/sqrt(N) of exact") {
  const int d = 3, N = 4000;
  Mlp<double> net(nn_test::small_arch(d, Activation::tanh), 2);
  const Eigen::MatrixXd y0 = nn_test::random_matrix(1, d, 1);
  const Eigen::VectorXd t0 = Eigen::VectorXd::Constant(1, 0.7);
  const double exact = net.divergence(y0, t0)[0];
  // N copies of the same point with independent probes
  const Eigen::MatrixXd y = y0.replicate(N, 1);
  const Eigen::VectorXd t = t0.replicate(N, 1);
  for (ProbeKind k : {ProbeKind::rademacher, ProbeKind::gaussian}) {
    Workspace<double> ws;
    net.forward(y, t, Eigen::VectorXd(), Divergence::hutchinson(ProbeGenerator(5, k).draw(0, N, d)), ws);
    const Eigen::VectorXd e = ws.divergence();
    const double mean = e.mean();
    const double sd = std::sqrt((e.array() - mean).square().sum() / (N - 1));
    CAPTURE(probe_kind_name(k));
    CHECK(sd > 0);
    CHECK(std::abs(mean - exact) < 4 * sd / std::sqrt(double(N)));
  }
}
