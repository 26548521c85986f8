// --init stationary for model files (modelfile/stationary.hpp): the tabulated inverse-CDF
// sampler of log_density against laws known in closed form (fixed seeds; tolerances k sigma /
// sqrt(N) from the exact law's own moments, or the Kolmogorov-Smirnov critical value), its
// reproducibility per path, and the refusals.
#include "sdescore/modelfile/stationary.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/modelfile/file_model.hpp"
#include "support.hpp"

using namespace sdescore;

namespace modelfile_stationary_test {  // named and around the whole file: unity batches must not mix files' helpers

using FM11 = modelfile::FileModel<1, 1, additive_noise>;
using FM22 = modelfile::FileModel<2, 2, additive_noise>;

ensemble::StateMatrix stationary(const auto& m, std::uint64_t seed, std::uint64_t first, std::int64_t n) {
  return ensemble::sample_initial(m, ensemble::parse_init_spec("stationary"), seed, first, n);
}

/// The double well's Boltzmann density exp(-a (x^2-1)^2 / T) by hand, and its CDF and moments by
/// composite Simpson on [-4, 4] (the mass beyond is below 1e-60 at a = 1, T = 0.5).
struct Boltzmann {
  double a = 1.0, T = 0.5;
  static constexpr int kN = 80000;  // Simpson intervals (even)
  std::vector<double> x, cdf;
  double m2 = 0, m4 = 0, m8 = 0;
  Boltzmann() {
    const double lo = -4, h = 8.0 / kN;
    auto p = [&](double s) { return std::exp(-a * (s * s - 1) * (s * s - 1) / T); };
    x.resize(kN / 2 + 1);
    cdf.resize(kN / 2 + 1);
    double z = 0, s2 = 0, s4 = 0, s8 = 0;
    x[0] = lo;
    for (int k = 0; k < kN / 2; ++k) {  // one Simpson panel [x_{2k}, x_{2k+2}]
      const double x0 = lo + 2 * k * h, x1 = x0 + h, x2 = x0 + 2 * h;
      const double w0 = p(x0), w1 = p(x1), w2 = p(x2);
      z += h / 3 * (w0 + 4 * w1 + w2);
      s2 += h / 3 * (w0 * x0 * x0 + 4 * w1 * x1 * x1 + w2 * x2 * x2);
      s4 += h / 3 * (w0 * std::pow(x0, 4) + 4 * w1 * std::pow(x1, 4) + w2 * std::pow(x2, 4));
      s8 += h / 3 * (w0 * std::pow(x0, 8) + 4 * w1 * std::pow(x1, 8) + w2 * std::pow(x2, 8));
      x[k + 1] = x2;
      cdf[k + 1] = z;
    }
    for (double& c : cdf) c /= z;
    m2 = s2 / z, m4 = s4 / z, m8 = s8 / z;
  }
  double F(double s) const {  // linear between panel ends (panel width 2e-4: error ~1e-8)
    if (s <= x.front()) return 0;
    if (s >= x.back()) return 1;
    const auto i = static_cast<std::size_t>((s - x.front()) / (x[1] - x[0]));
    const double f = (s - x[i]) / (x[i + 1] - x[i]);
    return cdf[i] + f * (cdf[i + 1] - cdf[i]);
  }
};

TEST_CASE("stationary: the file double well samples the Boltzmann law (KS and moments within k sigma / sqrt(N))") {
  mftest::use_test_cache();
  const FM11 m(modelfile::load_model_file(mftest::example("double_well.toml")));
  const std::int64_t n = 20000;
  const auto s = stationary(m, 7, 0, n);
  const Boltzmann b;
  std::vector<double> v(s.coord(0), s.coord(0) + n);
  std::sort(v.begin(), v.end());
  double ks = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double F = b.F(v[std::size_t(i)]);
    ks = std::max({ks, std::abs(F - double(i) / double(n)), std::abs(F - double(i + 1) / double(n))});
  }
  CHECK(ks < 1.95 / std::sqrt(double(n)));  // KS critical value at level 0.001
  double s2 = 0, s4 = 0;
  for (double x : v) s2 += x * x, s4 += x * x * x * x;
  s2 /= double(n), s4 /= double(n);
  CHECK(std::abs(s2 - b.m2) < 5 * std::sqrt((b.m4 - b.m2 * b.m2) / double(n)));
  CHECK(std::abs(s4 - b.m4) < 5 * std::sqrt((b.m8 - b.m4 * b.m4) / double(n)));

  // The table: the box is where log p is within 40 of its maximum, |x| <= sqrt(1 + sqrt(20))
  // = 2.3397 by hand, plus at most one coarse cell; the TV estimate is within the tolerance.
  const modelfile::LogDensityFn fn = m.lib->code.log_density;
  const std::vector<double> p = m.params;
  const double x0 = 0.0;
  const auto t = modelfile::tabulate_log_density([&](const double* y) { return fn(y, p.data()); }, 1, &x0, "dw");
  CHECK(t.lo[0] < -2.3397);
  CHECK(t.lo[0] > -2.6);
  CHECK(t.hi[0] > 2.3397);
  CHECK(t.hi[0] < 2.6);
  // log p = 0 at x = +-1; nodes are within h/2 ~ 4e-5 of them, where log p ~ -8 (h/2)^2 ~ -1e-8.
  CHECK(t.max_log <= 0.0);
  CHECK(t.max_log > -1e-7);
  CHECK(t.tv_estimate <= modelfile::TabulatedLaw::tolerance(1));
  MESSAGE("double well: box [" << t.lo[0] << ", " << t.hi[0] << "], " << t.cells[0] << " cells, TV estimate " << t.tv_estimate);

  // Reproducible per path: a path range replays the same states; another seed draws others.
  const auto part = stationary(m, 7, 1000, 50);
  for (std::int64_t i = 0; i < 50; ++i) CHECK(part(0, i) == s(0, 1000 + i));
  CHECK(stationary(m, 8, 0, 1)(0, 0) != s(0, 0));
}

TEST_CASE("stationary: a 2D Gaussian off the initial point, its mean and covariance within k sigma / sqrt(N)") {
  mftest::use_test_cache();
  // log p = -(u^2 - u v + v^2), u = x - 1, v = y + 0.5: precision [[2, -1], [-1, 2]], so the
  // covariance is [[2, 1], [1, 2]] / 3 by hand; the mean (1, -0.5) is away from the initial 0.
  const FM22 m(modelfile::load_model_text(
      "name = \"gauss2\"\nvariables = [\"x\", \"y\"]\ndrift = [\"-2*(x - 1) + (y + 0.5)\", \"(x - 1) - 2*(y + 0.5)\"]\n"
      "diffusion = \"sqrt(2)\"\nlog_density = \"-((x - 1)^2 - (x - 1)*(y + 0.5) + (y + 0.5)^2)\"\n",
      "gauss2.toml"));
  const std::int64_t n = 20000;
  const auto s = stationary(m, 3, 0, n);
  double mx = 0, my = 0;
  for (std::int64_t i = 0; i < n; ++i) mx += s(0, i), my += s(1, i);
  mx /= double(n), my /= double(n);
  double cxx = 0, cyy = 0, cxy = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double u = s(0, i) - 1.0, v = s(1, i) + 0.5;  // about the exact mean
    cxx += u * u, cyy += v * v, cxy += u * v;
  }
  cxx /= double(n), cyy /= double(n), cxy /= double(n);
  const double vx = 2.0 / 3, vy = 2.0 / 3, c = 1.0 / 3, rn = std::sqrt(double(n));
  CHECK(std::abs(mx - 1.0) < 5 * std::sqrt(vx) / rn);
  CHECK(std::abs(my + 0.5) < 5 * std::sqrt(vy) / rn);
  CHECK(std::abs(cxx - vx) < 5 * std::sqrt(2.0) * vx / rn);  // Var(u^2) = 2 vx^2 for a Gaussian
  CHECK(std::abs(cyy - vy) < 5 * std::sqrt(2.0) * vy / rn);
  CHECK(std::abs(cxy - c) < 5 * std::sqrt(vx * vy + c * c) / rn);  // Var(uv) = vx vy + c^2
  const modelfile::LogDensityFn fn = m.lib->code.log_density;
  const double c0[2] = {0, 0};
  const auto t = modelfile::tabulate_log_density([&](const double* y) { return fn(y, nullptr); }, 2, c0, "g2");
  CHECK(t.tv_estimate <= modelfile::TabulatedLaw::tolerance(2));
  MESSAGE("2D Gaussian: box [" << t.lo[0] << ", " << t.hi[0] << "] x [" << t.lo[1] << ", " << t.hi[1] << "], "
                               << t.cells[0] << " x " << t.cells[1] << " cells, TV estimate " << t.tv_estimate);
  const auto part = stationary(m, 3, 777, 5);
  for (std::int64_t i = 0; i < 5; ++i) CHECK((part(0, i) == s(0, 777 + i) && part(1, i) == s(1, 777 + i)));
}

TEST_CASE("stationary: refusals name the model file and what would be valid") {
  mftest::use_test_cache();
  auto sample = [](const std::string& text) {
    return mftest::config_error([&] { (void)stationary(FM11(modelfile::load_model_text(text, "s.toml")), 1, 0, 4); });
  };
  const std::string head = "name = \"s\"\nvariables = [\"x\"]\ndrift = [\"-x\"]\ndiffusion = 1\n";
  mftest::check_contains(sample(head), {"s.toml", "gives no log_density", "add log_density", "normal:"});
  mftest::check_contains(sample(head + "log_density = \"x\"\n"), {"s.toml", "does not fall 40 below", "normalisable"});
  mftest::check_contains(sample(head + "log_density = \"-x^2 + log(x + 2.5)\"\n"), {"s.toml", "log_density is nan at (", "-inf"});
  const double c[3] = {0, 0, 0};
  mftest::check_contains(mftest::config_error([&] {
                           (void)modelfile::tabulate_log_density([](const double*) { return 0.0; }, 3, c, "m3");
                         }),
                         {"m3", "in 1 or 2 dimensions", "has 3"});
}

}  // namespace modelfile_stationary_test
