// Mlp: hand-computed values, gradient checks of the reverse pass, the exact and Hutchinson
// divergences and their parameter gradients against central finite differences (double),
// flat-parameter round trip, determinism across thread counts.
#include <doctest/doctest.h>

#include <cmath>

#include "nn_test_support.hpp"
#include "sdescore/nn/mlp.hpp"

using namespace sdescore;
using namespace sdescore::nn;
using nn_test::random_matrix;
using nn_test::random_vector;

namespace nn_mlp_test {  // named and around the whole file: unity batches must not mix files' helpers

Architecture one_unit(Activation act) {
  Architecture a;
  a.input_dim = 1;
  a.output_dim = 1;
  a.hidden = {1};
  a.activation = act;
  a.time.n_frequencies = 0;  // features: u = t / t_max
  a.time.t_max = 1.0;
  return a;
}


TEST_CASE("Mlp: a one-hidden-unit tanh network by hand") {
  Mlp<double> net(one_unit(Activation::tanh));
  REQUIRE(net.num_parameters() == 5);
  // theta = [w_y, w_t, b0, v, b1]:  s = v tanh(w_y y + w_t t + b0) + b1
  Eigen::VectorXd th(5);
  th << 0.5, -0.25, 0.1, 2.0, -0.3;
  net.set_parameters(th);
  Eigen::MatrixXd y(2, 1);
  y << 0.8, -1.2;
  Eigen::VectorXd t(2);
  t << 0.4, 0.9;
  const Eigen::MatrixXd s = net.evaluate(y, t);
  const Eigen::VectorXd dv = net.divergence(y, t);
  for (int b = 0; b < 2; ++b) {
    const double z = 0.5 * y(b, 0) - 0.25 * t[b] + 0.1;
    CHECK(s(b, 0) == doctest::Approx(2.0 * std::tanh(z) - 0.3).epsilon(1e-14));
    CHECK(dv[b] == doctest::Approx(2.0 * (1 - std::tanh(z) * std::tanh(z)) * 0.5).epsilon(1e-14));
  }
  // z = 0.4 at the first point: s = 2 tanh(0.4) - 0.3
  CHECK(s(0, 0) == doctest::Approx(0.45989792451045).epsilon(1e-12));
  // Preconditioning divides s and div by sigma_bar.
  Eigen::VectorXd sb(2);
  sb << 2.0, 4.0;
  const Eigen::MatrixXd s2 = net.evaluate(y, t, sb);
  const Eigen::VectorXd d2 = net.divergence(y, t, sb);
  CHECK(s2(0, 0) == doctest::Approx(s(0, 0) / 2));
  CHECK(s2(1, 0) == doctest::Approx(s(1, 0) / 4));
  CHECK(d2(1) == doctest::Approx(dv(1) / 4));
}

TEST_CASE("Mlp: one-unit SiLU and softplus networks by hand, with time features") {
  Architecture a = one_unit(Activation::silu);
  a.time.n_frequencies = 1;  // features: u, sin(pi u), cos(pi u)
  a.time.t_max = 2.0;
  Mlp<double> net(a);
  REQUIRE(net.num_parameters() == 7);
  Eigen::VectorXd th(7);
  th << 0.7, 0.2, -0.4, 0.3, 0.05, -1.5, 0.25;  // w_y, w_u, w_sin, w_cos, b0, v, b1
  net.set_parameters(th);
  Eigen::MatrixXd y(1, 1);
  y << 0.6;
  Eigen::VectorXd t(1);
  t << 0.5;
  const double u = 0.25, pi = 3.141592653589793;
  const double z = 0.7 * 0.6 + 0.2 * u - 0.4 * std::sin(pi * u) + 0.3 * std::cos(pi * u) + 0.05;
  const double sg = 1 / (1 + std::exp(-z));
  CHECK(net.evaluate(y, t)(0, 0) == doctest::Approx(-1.5 * z * sg + 0.25).epsilon(1e-14));
  CHECK(net.divergence(y, t)(0) == doctest::Approx(-1.5 * sg * (1 + z * (1 - sg)) * 0.7).epsilon(1e-14));

  a.activation = Activation::softplus;
  Mlp<double> sp(a);
  sp.set_parameters(th);
  CHECK(sp.evaluate(y, t)(0, 0) == doctest::Approx(-1.5 * std::log1p(std::exp(z)) + 0.25).epsilon(1e-14));
  CHECK(sp.divergence(y, t)(0) == doctest::Approx(-1.5 * sg * 0.7).epsilon(1e-14));
}

TEST_CASE("Mlp: reverse pass for a generic dL/ds (and dL/d div) matches finite differences") {
  const int d = 3, B = 9;
  const Eigen::MatrixXd y = random_matrix(B, d, 1);
  const Eigen::VectorXd t = random_vector(B, 2, 0.05, 2.0);
  const Eigen::MatrixXd G = random_matrix(B, d, 3);  // dL/ds
  const Eigen::VectorXd a = random_vector(B, 4, -1.0, 1.0);  // dL/d div
  const Eigen::MatrixXd probes = random_matrix(B, 2 * d, 5);  // P = 2 Gaussian-like probes
  for (Activation act : {Activation::silu, Activation::tanh, Activation::softplus})
    for (int with_sigma = 0; with_sigma < 2; ++with_sigma)
      for (DivergenceKind kind : {DivergenceKind::none, DivergenceKind::exact, DivergenceKind::hutchinson}) {
        CAPTURE(activation_name(act));
        CAPTURE(with_sigma);
        CAPTURE(int(kind));
        Mlp<double> net(nn_test::small_arch(d, act), 11);
        // non-zero biases so that every path is exercised
        net.parameters() += 0.1 * random_matrix(net.num_parameters(), 1, 6);
        const Eigen::VectorXd sb = with_sigma ? random_vector(B, 7, 0.3, 3.0) : Eigen::VectorXd();
        const Divergence div = kind == DivergenceKind::none    ? Divergence::none()
                               : kind == DivergenceKind::exact ? Divergence::exact()
                                                               : Divergence::hutchinson(probes);
        Workspace<double> ws(4);  // three chunks, the last one partial
        net.forward(y, t, sb, div, ws);
        Eigen::VectorXd grad;
        net.backward(G, kind == DivergenceKind::none ? Eigen::VectorXd() : a, ws, grad);
        auto L = [&](const Eigen::VectorXd& th) {
          Mlp<double> n2 = net;
          n2.set_parameters(th);
          Workspace<double> w2(4);
          n2.forward(y, t, sb, div, w2, /*threads=*/1);  // tiny batches: no team overhead
          double v = (w2.s().array() * G.array()).sum();
          if (kind != DivergenceKind::none) v += w2.divergence().dot(a);
          return v;
        };
        const Eigen::VectorXd fd = nn_test::fd_gradient(L, net.parameters(), 1e-6);
        CHECK(nn_test::rel_err(grad, fd) < 1e-7);
      }
}

TEST_CASE("Mlp: exact divergence equals the finite-difference divergence") {
  const int d = 3, B = 6;
  const Eigen::MatrixXd y = random_matrix(B, d, 21, 2.0);
  const Eigen::VectorXd t = random_vector(B, 22, 0.0, 2.0);
  const Eigen::VectorXd sb = random_vector(B, 23, 0.5, 2.0);
  for (Activation act : {Activation::silu, Activation::tanh, Activation::softplus}) {
    Mlp<double> net(nn_test::small_arch(d, act), 3);
    const Eigen::VectorXd dv = net.divergence(y, t, sb);
    const double h = 1e-5;
    for (int b = 0; b < B; ++b) {
      double fd = 0;
      for (int j = 0; j < d; ++j) {
        Eigen::MatrixXd yp = y.row(b), ym = y.row(b);
        yp(0, j) += h;
        ym(0, j) -= h;
        fd += (net.evaluate(yp, t.segment(b, 1), sb.segment(b, 1))(0, j) -
               net.evaluate(ym, t.segment(b, 1), sb.segment(b, 1))(0, j)) / (2 * h);
      }
      CHECK(dv[b] == doctest::Approx(fd).epsilon(1e-8));
    }
  }
}

TEST_CASE("Mlp: Hutchinson estimate equals v^T J v with J by finite differences") {
  const int d = 2, B = 4, P = 3;
  const Eigen::MatrixXd y = random_matrix(B, d, 31);
  const Eigen::VectorXd t = random_vector(B, 32, 0.0, 2.0);
  const Eigen::MatrixXd probes = random_matrix(B, P * d, 33);
  Mlp<double> net(nn_test::small_arch(d, Activation::silu), 5);
  Workspace<double> ws;
  net.forward(y, t, Eigen::VectorXd(), Divergence::hutchinson(probes), ws);
  const double h = 1e-5;
  for (int b = 0; b < B; ++b) {
    Eigen::MatrixXd J(d, d);
    for (int j = 0; j < d; ++j) {
      Eigen::MatrixXd yp = y.row(b), ym = y.row(b);
      yp(0, j) += h;
      ym(0, j) -= h;
      J.col(j) = ((net.evaluate(yp, t.segment(b, 1)) - net.evaluate(ym, t.segment(b, 1))) / (2 * h)).transpose();
    }
    double est = 0;
    for (int p = 0; p < P; ++p) {
      const Eigen::VectorXd v = probes.block(b, p * d, 1, d).transpose();
      est += v.dot(J * v) / P;
    }
    CHECK(ws.divergence()[b] == doctest::Approx(est).epsilon(1e-8));
  }
}

TEST_CASE("Mlp: flat parameters round trip") {
  Mlp<float> a(Architecture::score_model(2), 42);
  const std::vector<float> flat = a.flat_parameters();
  REQUIRE(flat.size() == std::size_t(a.num_parameters()));
  CHECK(a.num_parameters() == (2 + 9 + 1) * 128 + (128 + 1) * 128 + (128 + 1) * 2);
  Mlp<float> b(Architecture::score_model(2), 7);
  CHECK(b.parameters() != a.parameters());
  b.set_flat_parameters(flat);
  CHECK(b.parameters() == a.parameters());
  const Eigen::MatrixXd y = random_matrix(50, 2, 1);
  const Eigen::VectorXd t = random_vector(50, 2, 0, 1);
  CHECK(a.evaluate(y, t) == b.evaluate(y, t));
  // A rebuilt Architecture compares equal; sizes are checked.
  CHECK(b.architecture() == Architecture::score_model(2));
  std::vector<float> short_flat(flat.begin(), flat.end() - 1);
  CHECK_THROWS_AS(b.set_flat_parameters(short_flat), ConfigError);
  // float -> double -> float is exact
  Mlp<double> c(Architecture::score_model(2));
  c.set_flat_parameters(flat);
  CHECK(c.flat_parameters() == flat);
}

TEST_CASE("Mlp: float network agrees with the double network") {
  Mlp<double> nd(Architecture::score_model(2), 9);
  Mlp<float> nf(Architecture::score_model(2), 9);
  CHECK((nd.parameters().cast<float>() - nf.parameters()).cwiseAbs().maxCoeff() == 0.0f);
  const Eigen::MatrixXd y = random_matrix(300, 2, 1, 3.0);
  const Eigen::VectorXd t = random_vector(300, 2, 0, 1);
  CHECK((nd.evaluate(y, t) - nf.evaluate(y, t)).cwiseAbs().maxCoeff() < 1e-4);
  CHECK((nd.divergence(y, t) - nf.divergence(y, t)).cwiseAbs().maxCoeff() < 1e-4);
}

TEST_CASE("Mlp: deterministic init and bit-identical results for 1 and 2 threads") {
  Mlp<float> a(Architecture::score_model(2), 123), b(Architecture::score_model(2), 123), c(Architecture::score_model(2), 124);
  CHECK(a.parameters() == b.parameters());
  CHECK(a.parameters() != c.parameters());
  const int B = 500;  // 4 chunks, the last partial
  const Eigen::MatrixXd y = random_matrix(B, 2, 1, 2.0);
  const Eigen::VectorXd t = random_vector(B, 2, 0, 1);
  const Eigen::MatrixXd G = random_matrix(B, 2, 3);
  const Eigen::VectorXd g2 = random_vector(B, 4, -1, 1);
  for (DivergenceKind kind : {DivergenceKind::none, DivergenceKind::exact, DivergenceKind::hutchinson}) {
    const Divergence div = kind == DivergenceKind::none    ? Divergence::none()
                           : kind == DivergenceKind::exact ? Divergence::exact()
                                                           : Divergence::hutchinson(random_matrix(B, 2, 5));
    Workspace<float> w1, w2;
    Eigen::VectorXf gr1, gr2;
    const Eigen::VectorXd dd = kind == DivergenceKind::none ? Eigen::VectorXd() : g2;
    a.forward(y, t, Eigen::VectorXd(), div, w1, 1);
    a.backward(G, dd, w1, gr1, 1);
    a.forward(y, t, Eigen::VectorXd(), div, w2, 2);
    a.backward(G, dd, w2, gr2, 2);
    CHECK(w1.s() == w2.s());
    CHECK(w1.divergence() == w2.divergence());
    CHECK(gr1 == gr2);
  }
  CHECK(a.evaluate(y, t, Eigen::VectorXd(), 1) == a.evaluate(y, t, Eigen::VectorXd(), 2));
}

TEST_CASE("Mlp: chunk size changes only rounding") {
  Mlp<double> net(nn_test::small_arch(2, Activation::tanh), 1);
  const Eigen::MatrixXd y = random_matrix(37, 2, 1);
  const Eigen::VectorXd t = random_vector(37, 2, 0, 2);
  const Eigen::MatrixXd G = random_matrix(37, 2, 3);
  Workspace<double> w1(5), w2(64);
  Eigen::VectorXd g1, g2;
  net.forward(y, t, Eigen::VectorXd(), Divergence::exact(), w1);
  net.backward(G, Eigen::VectorXd::Ones(37), w1, g1);
  net.forward(y, t, Eigen::VectorXd(), Divergence::exact(), w2);
  net.backward(G, Eigen::VectorXd::Ones(37), w2, g2);
  CHECK((w1.s() - w2.s()).cwiseAbs().maxCoeff() < 1e-13);
  CHECK(nn_test::rel_err(g1, g2) < 1e-13);
}

TEST_CASE("Mlp: invalid inputs throw with the offending value") {
  Mlp<float> net(Architecture::score_model(2));
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(3, 2);
  Eigen::VectorXd t = Eigen::VectorXd::Constant(3, 0.5);
  CHECK_THROWS_AS(net.evaluate(Eigen::MatrixXd::Zero(3, 3), t), ConfigError);
  CHECK_THROWS_AS(net.evaluate(y, Eigen::VectorXd::Zero(2)), ConfigError);
  CHECK_THROWS_AS(net.evaluate(y, t, Eigen::VectorXd::Zero(3)), NumericalError);
  y(1, 1) = std::nan("");
  CHECK_THROWS_WITH_AS(net.evaluate(y, t), doctest::Contains("points(1, 1)"), NumericalError);
  Workspace<float> ws;
  Eigen::VectorXf g;
  CHECK_THROWS_AS(net.backward(Eigen::MatrixXd::Zero(3, 2), Eigen::VectorXd(), ws, g), ConfigError);
  CHECK_THROWS_AS(net.forward(Eigen::MatrixXd::Zero(0, 2), Eigen::VectorXd(), Eigen::VectorXd(), Divergence::none(), ws),
                  ConfigError);
  CHECK(net.evaluate(Eigen::MatrixXd::Zero(0, 2), Eigen::VectorXd()).rows() == 0);
  // a workspace filled by another network is refused
  Architecture other = Architecture::score_model(2);
  other.hidden = {16};
  Mlp<float> small(other);
  small.forward(Eigen::MatrixXd::Zero(3, 2), t, Eigen::VectorXd(), Divergence::none(), ws);
  CHECK_THROWS_AS(net.backward(Eigen::MatrixXd::Zero(3, 2), Eigen::VectorXd(), ws, g), ConfigError);
  // dL/d div without a divergence in the forward pass
  CHECK_THROWS_AS(small.backward(Eigen::MatrixXd::Zero(3, 2), Eigen::VectorXd::Ones(3), ws, g), ConfigError);
  Architecture bad = Architecture::score_model(2);
  bad.hidden = {128, 0};
  CHECK_THROWS_WITH_AS(Mlp<float>{bad}, doctest::Contains("hidden[1] = 0"), ConfigError);
  bad.hidden = {};
  CHECK_THROWS_AS(Mlp<float>{bad}, ConfigError);
  Architecture rect = Architecture::score_model(2);
  rect.output_dim = 3;
  Mlp<float> r(rect);
  CHECK(r.evaluate(Eigen::MatrixXd::Zero(3, 2), t).cols() == 3);
  CHECK_THROWS_AS(r.divergence(Eigen::MatrixXd::Zero(3, 2), t), ConfigError);
}

}  // namespace nn_mlp_test
