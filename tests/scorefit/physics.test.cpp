// scorefit physics end to end: entropy production, entropy and current of a learned score,
// against closed forms (OU relaxation) and the equilibrium case (stationary double well).
#include <doctest/doctest.h>

#include <numbers>

#include "scorefit.hpp"
#include "scorefit_test_support.hpp"
#include "sdescore/io/h5.hpp"

using namespace sdescore;
using namespace sdescore::scorefit_test;

namespace scorefit_physics_test {  // named and around the whole file: unity batches must not mix files' helpers
scorefit::PhysicsOptions physics_options(const fs::path& model, const fs::path& out) {
  scorefit::PhysicsOptions p;
  p.model = model.string();
  p.output = out.string();
  p.flow_samples = 400;
  p.quiet = true;
  p.threads = 2;
  return p;
}
/// Training good enough for physics: the default pools and reference sets (a bimodal law needs
/// them: with 8 pools of 128 and R = 64 the double-well score misses one well), a small network.
scorefit::TrainOptions physics_train(const fs::path& data, const fs::path& out) {
  auto o = quick_train(data, out);
  o.steps = 1500;
  o.batch = 512;
  o.groups = 8;
  o.pool_size = 1024;
  o.n_pools = 64;
  o.reference_size = 1024;
  o.threads = 2;
  return o;
}

TEST_CASE("scorefit physics: OU relaxing from N(1, 0.2^2) gives the closed-form entropy production and entropy") {
  TempDir tmp;
  const auto data = write_ou_file(tmp.path);
  const auto model = tmp.path / "score.h5";
  auto o = physics_train(data, model);
  REQUIRE(scorefit::run_train(o) == 0);
  auto p = physics_options(model, tmp.path / "phys.h5");
  p.times = {0.2, 0.4, 0.6, 0.8, 1.0};
  REQUIRE(scorefit::run_physics(p) == 0);
  const auto f = io::open_file(tmp.path / "phys.h5");
  const auto t = f.read_array<double>("ensemble/time").data;
  REQUIRE(t.size() == 5);
  const auto pi = f.read_array<double>("ensemble/entropy_production").data;
  const auto scale = f.read_array<double>("ensemble/drift_scale").data;
  const auto fpi = f.read_array<double>("flow/entropy_production").data;
  const auto rate = f.read_array<double>("flow/entropy_rate").data;
  const auto S = f.read_array<double>("flow/entropy").data;
  for (std::size_t i = 0; i < t.size(); ++i) {
    // p_t = N(m, v): m = e^-t, v = 0.04 e^-2t + (1 - e^-2t)/2; D = 1/2, f = -y.
    // v(y) = -y + (y - m)/(2v): Pi = E[v(y)^2]/D = 2 (m^2 + (sqrt v - 1/(2 sqrt v))^2),
    // E[f^2]/D = 2 (m^2 + v), S = log(2 pi e v)/2, dS/dt = (dv/dt)/(2v) with dv/dt = 0.92 e^-2t.
    const double m = std::exp(-t[i]), v = 0.04 * std::exp(-2 * t[i]) + (1 - std::exp(-2 * t[i])) / 2;
    const double pi_exact = 2 * (m * m + std::pow(std::sqrt(v) - 0.5 / std::sqrt(v), 2));
    const double scale_exact = 2 * (m * m + v);
    const double S_exact = 0.5 * std::log(2 * std::numbers::pi * std::exp(1.0) * v);
    const double rate_exact = 0.92 * std::exp(-2 * t[i]) / (2 * v);
    CAPTURE(t[i]);
    // 400 held-out samples: Monte-Carlo sd of these means ~ 5-7%; a 32x32 net after 1000 steps
    // has a relative score error of a few percent, which moves Pi by 2 D E[v e] ~ a few percent.
    CHECK(pi[i] == doctest::Approx(pi_exact).epsilon(0.2));
    CHECK(scale[i] == doctest::Approx(scale_exact).epsilon(0.2));
    CHECK(fpi[i] == doctest::Approx(pi_exact).epsilon(0.2));
    CHECK(rate[i] == doctest::Approx(rate_exact).epsilon(0.2));
    CHECK(S[i] == doctest::Approx(S_exact).epsilon(0.1));
  }
  CHECK(f.read_array<double>("grid/current").shape == std::vector<std::size_t>{5, 201, 1});
}

TEST_CASE("scorefit physics: the equilibrium double well has (near) zero current and entropy production") {
  TempDir tmp;
  const auto data = write_stationary_double_well(tmp.path);
  const auto model = tmp.path / "score.h5";
  auto o = physics_train(data, model);
  REQUIRE(scorefit::run_train(o) == 0);
  auto p = physics_options(model, tmp.path / "phys.h5");
  REQUIRE(scorefit::run_physics(p) == 0);
  const auto f = io::open_file(tmp.path / "phys.h5");
  const auto pi = f.read_array<double>("ensemble/entropy_production").data;
  const auto scale = f.read_array<double>("ensemble/drift_scale").data;
  const auto fpi = f.read_array<double>("flow/entropy_production").data;
  const auto rate = f.read_array<double>("flow/entropy_rate").data;
  const auto S = f.read_array<double>("flow/entropy").data;
  const auto knn = f.read_array<double>("ensemble/entropy_knn").data;
  const auto l1 = f.read_array<double>("grid/current_l1").data;
  REQUIRE(pi.size() >= 5);
  double mean_rate = 0, mean_scale = 0;
  for (std::size_t i = 0; i < pi.size(); ++i) {
    CAPTURE(i);
    // At equilibrium f = D s_true, so v = -D e with e the score error, and Pi / E[f D^-1 f] is the
    // squared relative score error (measured 0.002-0.017 here). A relaxing law has this ratio of
    // order one (0.3-0.65 in the OU case above); an untrained score gives 1, a sign-flipped one 4.
    CHECK(pi[i] < 0.05 * scale[i]);
    CHECK(fpi[i] < 0.05 * scale[i]);
    mean_rate += rate[i] / double(pi.size());
    mean_scale += scale[i] / double(pi.size());
  }
  // The entropy does not change: dS/dt = E[div v] (measured |.| <= 0.3) is small against the
  // drift scale (~6; a relaxing law has |dS/dt| of order the scale), and S along the flow ends
  // where the independent k-NN estimate on the SDE samples is (each has sd ~ 0.035 on 400
  // samples; the flow adds the integrated dS/dt error, <= 0.3 over the unit time span).
  CHECK(std::abs(mean_rate) < 0.05 * mean_scale);
  CHECK(std::abs(S.back() - knn.back()) < 0.4);
  CHECK(std::abs(S.front() - knn.front()) < 0.1);  // anchored by k-NN on the flow's start samples
  // The current: the integral of |j| = p |v| against that of p |f| (both with the histogram
  // density). By Cauchy-Schwarz their ratio is of order sqrt(Pi / scale) <= sqrt(0.05) ~ 0.22.
  const auto x = f.read_array<double>("grid/x").data;
  const auto dens = f.read_array<double>("grid/density").data;
  const double h = x[1] - x[0];
  double pf = 0;
  for (std::size_t i = 0; i < x.size(); ++i) pf += dens[i] * std::abs(4 * x[i] * (x[i] * x[i] - 1)) * h;
  for (double c : l1) CHECK(c < 0.25 * pf);
}

TEST_CASE("scorefit physics refuses bad input") {
  TempDir tmp;
  const auto data = write_ou_file(tmp.path);
  const auto model = tmp.path / "score.h5";
  REQUIRE(scorefit::run_train(quick_train(data, model)) == 0);
  auto p = physics_options(model, tmp.path / "phys.h5");
  p.times = {5.0};
  CHECK_THROWS_WITH_AS(scorefit::run_physics(p), doctest::Contains("the score was trained on"), ConfigError);
  p.times.clear();
  p.density = "kde";
  CHECK_THROWS_WITH_AS(scorefit::run_physics(p), doctest::Contains("valid values are ensemble, score"), ConfigError);
  p.density = "score";
  TempDir tmp2;
  p.data = write_stationary_double_well(tmp2.path, 200).string();
  CHECK_THROWS_WITH_AS(scorefit::run_physics(p), doctest::Contains("give --data an ensemble of the same model"), ConfigError);
  CHECK(!fs::exists(tmp.path / "phys.h5"));
}

}  // namespace scorefit_physics_test
