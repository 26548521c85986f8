// Losses: hand-computed values, dL/ds against finite differences, and full parameter gradients
// dL/dtheta (through Mlp::backward) of the weighted squared loss and of ISM against FD.
#include <doctest/doctest.h>

#include "nn_test_support.hpp"
#include "sdescore/nn/loss.hpp"
#include "sdescore/nn/mlp.hpp"

using namespace sdescore;
using namespace sdescore::nn;
using nn_test::random_matrix;
using nn_test::random_vector;

TEST_CASE("weighted_squared_loss: values by hand") {
  Eigen::MatrixXd s(2, 2), tgt(2, 2);
  s << 1, 2, 3, 4;
  tgt << 0, 0, 3, 5;
  // residuals r0 = (1, 2), r1 = (0, -1)
  CHECK(weighted_squared_loss(s, tgt).value == doctest::Approx((5.0 + 1.0) / 2));
  Eigen::VectorXd w(2);
  w << 2, 3;
  CHECK(weighted_squared_loss(s, tgt, LossWeights::scalar(w)).value == doctest::Approx((10.0 + 3.0) / 2));
  Eigen::MatrixXd lam(2, 4);
  lam << 1, 0.5, 2, 0,  //
      0.5, 2, 0, 1;
  // r0^T [[1,.5],[.5,2]] r0 = 1 + 2 + 8 = 11;  r1^T diag(2,1) r1 = 1
  const LossGradient lg = weighted_squared_loss(s, tgt, LossWeights::matrix(lam));
  CHECK(lg.value == doctest::Approx(6.0));
  CHECK(lg.dL_ds(0, 0) == doctest::Approx((2 * 1 + 2 * 0.5 * 2) / 2.0));
  CHECK(weighted_squared_loss(s, tgt, LossWeights::shared(lam.leftCols(2))).value ==
        doctest::Approx((11.0 + 2.0) / 2));
  CHECK_THROWS_AS(weighted_squared_loss(s, tgt, LossWeights::scalar(Eigen::VectorXd::Ones(3))), ConfigError);
}

TEST_CASE("ism_loss: values by hand") {
  Eigen::MatrixXd s(2, 1);
  s << 1, -2;
  Eigen::VectorXd dv(2), w(2);
  dv << -1, 0.5;
  w << 1, 2;
  const LossGradient lg = ism_loss(s, dv, w);
  CHECK(lg.value == doctest::Approx((1 * (1 - 2) + 2 * (4 + 1)) / 2.0));
  CHECK(lg.dL_ds(1, 0) == doctest::Approx(2 * 2 * -2 / 2.0));
  CHECK(lg.dL_ddiv(1) == doctest::Approx(2.0));
}

TEST_CASE("weighted_squared_loss: dL/ds matches finite differences, non-symmetric Lambda included") {
  const int B = 3, d = 2;
  const Eigen::MatrixXd s = random_matrix(B, d, 1), tgt = random_matrix(B, d, 2);
  const Eigen::MatrixXd lam = random_matrix(d, d * B, 3);
  const LossGradient lg = weighted_squared_loss(s, tgt, LossWeights::matrix(lam));
  const double h = 1e-6;
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < d; ++i) {
      Eigen::MatrixXd sp = s, sm = s;
      sp(b, i) += h;
      sm(b, i) -= h;
      const double fd = (weighted_squared_loss(sp, tgt, LossWeights::matrix(lam)).value -
                         weighted_squared_loss(sm, tgt, LossWeights::matrix(lam)).value) / (2 * h);
      CHECK(lg.dL_ds(b, i) == doctest::Approx(fd).epsilon(1e-7));
    }
}

TEST_CASE("dL/dtheta of the weighted squared loss and of ISM match finite differences") {
  const int d = 2, B = 7;
  const Eigen::MatrixXd y = random_matrix(B, d, 11, 1.5);
  const Eigen::VectorXd t = random_vector(B, 12, 0.0, 2.0);
  const Eigen::MatrixXd tgt = random_matrix(B, d, 13);
  const Eigen::VectorXd sb = random_vector(B, 14, 0.5, 2.0);
  Eigen::MatrixXd lam = random_matrix(d, d * B, 15);
  for (int b = 0; b < B; ++b) {  // SPD blocks
    const Eigen::MatrixXd a = lam.middleCols(b * d, d);
    lam.middleCols(b * d, d) = a * a.transpose() + Eigen::MatrixXd::Identity(d, d);
  }
  const Eigen::VectorXd w = random_vector(B, 16, 0.5, 1.5);
  const Eigen::MatrixXd probes = random_matrix(B, d, 17);
  Mlp<double> net(nn_test::small_arch(d, Activation::silu), 4);
  net.parameters() += 0.1 * random_matrix(net.num_parameters(), 1, 18);

  for (int which = 0; which < 5; ++which) {
    CAPTURE(which);
    auto loss_at = [&](const Mlp<double>& n, Workspace<double>& ws) {
      switch (which) {
        case 0: n.forward(y, t, Eigen::VectorXd(), Divergence::none(), ws, 1); return weighted_squared_loss(ws.s(), tgt);
        case 1: n.forward(y, t, sb, Divergence::none(), ws, 1); return weighted_squared_loss(ws.s(), tgt, LossWeights::scalar(w));
        case 2: n.forward(y, t, sb, Divergence::none(), ws, 1); return weighted_squared_loss(ws.s(), tgt, LossWeights::matrix(lam));
        case 3: n.forward(y, t, sb, Divergence::exact(), ws, 1); return ism_loss(ws.s(), ws.divergence(), w);
        default: n.forward(y, t, Eigen::VectorXd(), Divergence::hutchinson(probes), ws, 1); return ism_loss(ws.s(), ws.divergence());
      }
    };
    Workspace<double> ws(3);
    const LossGradient lg = loss_at(net, ws);
    Eigen::VectorXd grad;
    net.backward(lg.dL_ds, lg.dL_ddiv, ws, grad);
    auto L = [&](const Eigen::VectorXd& th) {
      Mlp<double> n2 = net;
      n2.set_parameters(th);
      Workspace<double> w2(3);
      return loss_at(n2, w2).value;
    };
    CHECK(nn_test::rel_err(grad, nn_test::fd_gradient(L, net.parameters(), 1e-6)) < 1e-7);
  }
}
