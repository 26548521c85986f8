// The adapter against the built-in models it re-expresses (examples/models): same seed, same
// stepper -> the same paths. Bit-identical where the arithmetic is written the same way (drift
// and diffusion values, hence Euler-Maruyama, Heun, Milstein on additive noise); steppers that
// use derivatives (local linearisation) agree to 1e-12 relative, because the built-ins
// differentiate with Eigen's AutoDiff and the file code with its own dual numbers (same
// derivatives, rounding in another order).
#include "sdescore/modelfile/file_model.hpp"

#include <doctest/doctest.h>

#include "sdescore/app/registry.hpp"
#include "sdescore/core/autodiff.hpp"
#include "sdescore/ensemble/ensemble.hpp"
#include "support.hpp"
#include "support/toy_models.hpp"

using namespace sdescore;

namespace modelfile_file_model_test {  // named and around the whole file: unity batches must not mix files' helpers

template <class M>
M load(const std::string& file) {
  mftest::use_test_cache();
  return M(modelfile::load_model_file(mftest::example(file)));
}

template <class St, class M>
ensemble::StateMatrix run(const St& st, const M& m, std::int64_t n, std::int64_t steps, double dt, double x0 = 0.3) {
  ensemble::StateMatrix s(M::state_dim, n, x0);
  ensemble::EnsembleOptions o;
  o.seed = 42;
  o.dt = dt;
  o.n_steps = steps;
  o.n_threads = 1;
  ensemble::simulate(st, m, s, o);
  return s;
}

template <class A, class B>
void check_identical(const A& a, const B& b) {
  REQUIRE(a.dim() == b.dim());
  REQUIRE(a.n_paths() == b.n_paths());
  int differ = 0;
  for (int d = 0; d < a.dim(); ++d)
    for (std::int64_t p = 0; p < a.n_paths(); ++p) differ += a(d, p) != b(d, p);
  CHECK(differ == 0);
}

template <class A, class B>
double max_rel_diff(const A& a, const B& b) {
  double m = 0;
  for (int d = 0; d < a.dim(); ++d)
    for (std::int64_t p = 0; p < a.n_paths(); ++p)
      m = std::max(m, std::abs(a(d, p) - b(d, p)) / std::max(1.0, std::abs(b(d, p))));
  return m;
}


TEST_CASE("file models: the double well's paths equal the built-in's bit for bit (EM, Heun, Milstein)") {
  using FM = modelfile::FileModel<1, 1, additive_noise>;
  FM f = load<FM>("double_well.toml");
  models::DoubleWell b;
  check_identical(run(EulerMaruyama{}, f, 300, 400, 1e-3), run(EulerMaruyama{}, b, 300, 400, 1e-3));
  check_identical(run(Heun{}, f, 300, 400, 1e-3), run(Heun{}, b, 300, 400, 1e-3));
  check_identical(run(Milstein{}, f, 300, 400, 1e-3), run(Milstein{}, b, 300, 400, 1e-3));
  // Local linearisation uses Jacobian, d/dt and the Ito curvature (nested AutoDiff).
  CHECK(max_rel_diff(run(LocalLinearization{}, f, 300, 200, 1e-2), run(LocalLinearization{}, b, 300, 200, 1e-2)) < 1e-12);
  // Parameters set through the registry's overrides.
  app::apply_params(f, {{"T", 0.3}, {"a", 2.0}});
  b.T = 0.3;
  b.a = 2.0;
  check_identical(run(EulerMaruyama{}, f, 100, 200, 1e-3), run(EulerMaruyama{}, b, 100, 200, 1e-3));
  CHECK_THROWS_AS(app::apply_params(f, {{"T", -1.0}}), ConfigError);
}

TEST_CASE("file models: active swimmer (2 x 1 noise) and ou2d equal the built-ins") {
  using FS = modelfile::FileModel<2, 1, additive_noise>;
  const FS f = load<FS>("active_swimmer.toml");
  const models::ActiveSwimmer b;
  check_identical(run(EulerMaruyama{}, f, 256, 300, 1e-2), run(EulerMaruyama{}, b, 256, 300, 1e-2));
  CHECK(max_rel_diff(run(LocalLinearization{}, f, 256, 100, 1e-2), run(LocalLinearization{}, b, 256, 100, 1e-2)) < 1e-12);

  using FO = modelfile::FileModel<2, 2, additive_noise>;
  const FO o = load<FO>("ou2d.toml");
  const models::OU2 ob;
  check_identical(run(EulerMaruyama{}, o, 256, 300, 1e-2), run(EulerMaruyama{}, ob, 256, 300, 1e-2));
  check_identical(run(Heun{}, o, 256, 300, 1e-2), run(Heun{}, ob, 256, 300, 1e-2));
  CHECK(max_rel_diff(run(LocalLinearization{}, o, 256, 100, 1e-2), run(LocalLinearization{}, ob, 256, 100, 1e-2)) < 1e-12);
}

TEST_CASE("file models: the 3-variable active Brownian particle in a trap agrees with the built-in") {
  using F3 = modelfile::FileModel<3, 3, additive_noise>;
  const F3 f = load<F3>("active_brownian_trap.toml");
  models::ActiveBrownian2D b;  // the same SDE, with the file's defaults
  b.v0 = 2.0;
  b.k = 1.0;
  b.Dt = 0.1;
  b.Dr = 0.5;
  // the same normals and arithmetic; cos / sin may come from different implementations (the
  // generated unit calls libm, the built-in's lanes may not), so agreement to rounding
  CHECK(max_rel_diff(run(EulerMaruyama{}, f, 256, 300, 1e-2), run(EulerMaruyama{}, b, 256, 300, 1e-2)) < 1e-12);
  CHECK(max_rel_diff(run(Heun{}, f, 256, 300, 1e-2), run(Heun{}, b, 256, 300, 1e-2)) < 1e-12);
}

TEST_CASE("file models: derivatives through the adapter equal the built-ins' AutoDiff") {
  using FS = modelfile::FileModel<2, 1, additive_noise>;
  const FS f = load<FS>("active_swimmer.toml");
  const models::ActiveSwimmer b;
  const Vec<double, 2> y(0.8, -0.4), u(0.3, 1.2);
  const Mat<double, 2, 2> Jf = drift_jacobian(f, y, 0.2), Jb = drift_jacobian(b, y, 0.2);
  CHECK((Jf - Jb).norm() <= 1e-14 * Jb.norm());
  CHECK((drift_time_derivative(f, y, 0.2) - drift_time_derivative(b, y, 0.2)).norm() == 0.0);
  const Vec<double, 2> sf = drift_second_directional(f, y, 0.2, u), sb = drift_second_directional(b, y, 0.2, u);
  CHECK((sf - sb).norm() <= 1e-14 * sb.norm());
  CHECK(sf(0) == doctest::Approx(-6 * y(0) * u(0) * u(0)));  // by hand: d2(-x^3)/dx2 = -6x
}

TEST_CASE("file models: multiplicative noise: dG/dy for Milstein, checked against the toy GBM") {
  mftest::use_test_cache();
  const std::string text =
      "name = \"gbm\"\nvariables = [\"x\"]\ndrift = [\"mu*x\"]\ndiffusion = \"sigma*x\"\n"
      "[parameters]\nmu = { default = 0.5 }\nsigma = { default = 0.8, range = \"[0, inf)\" }\n";
  using FG = modelfile::FileModel<1, 1, diagonal_noise>;
  const FG f(modelfile::load_model_text(text, "gbm.toml"));
  const toy::GeometricBrownian b;
  CHECK(max_rel_diff(run(Milstein{}, f, 256, 300, 1e-3, 1.0), run(Milstein{}, b, 256, 300, 1e-3, 1.0)) < 1e-13);
  check_identical(run(EulerMaruyama{}, f, 256, 300, 1e-3, 1.0), run(EulerMaruyama{}, b, 256, 300, 1e-3, 1.0));
}

TEST_CASE("file models: the registry runs a path, and records and re-adopts the model by its text") {
  mftest::use_test_cache();
  const std::string path = mftest::example("double_well.toml");
  std::string label;
  int dim = 0;
  app::visit_model(path, {{"T", 0.25}}, [&](const auto& m) {
    using M = std::decay_t<decltype(m)>;
    dim = M::state_dim;
    label = modelfile::model_label(m);
    if constexpr (modelfile::is_file_model_v<M>) CHECK(m.params[1] == 0.25);
  });
  CHECK(dim == 1);
  CHECK(label.rfind("file:double_well_file#", 0) == 0);
  // The recorded name resolves in this process; its description comes from the file.
  const auto d = app::describe_model(label);
  CHECK(d.description == "1D overdamped particle in the double well U = a (x^2-1)^2");
  CHECK(d.params.size() == 2);
  CHECK(std::find(d.steppers.begin(), d.steppers.end(), "heun") != d.steppers.end());
  // An unknown recorded model says where its text comes from.
  mftest::check_contains(mftest::config_error([] { app::visit_model("file:nothing#0123456789abcdef", {}, [](const auto&) {}); }),
                         {"whose text is not available here", "model_file_text"});
  // A shape the adapter does not offer is refused with the list.
  const std::string text4 = "name = \"four\"\nvariables = [\"x\", \"y\", \"z\", \"w\"]\ndrift = [\"-x\", \"-y\", \"-z\", \"-w\"]\ndiffusion = 1\n";
  const auto lm = modelfile::load_model_text(text4, "four.toml");
  mftest::check_contains(mftest::config_error([&] { app::visit_model(lm->spec.key(), {}, [](const auto&) {}); }),
                         {"four.toml: model 'four' has 4 variables", "model files run in these shapes"});
}

/// The file model without its block functions: the engine then steps it path by path, calling
/// drift / diffusion in double for each path (the evaluation before the block ABI).
template <class FM>
struct PerPath {
  static constexpr std::string_view name = FM::name;
  static constexpr std::string_view description = FM::description;
  static constexpr std::string_view equation = FM::equation;
  static constexpr int state_dim = FM::state_dim;
  static constexpr int noise_dim = FM::noise_dim;
  using noise_kind = typename FM::noise_kind;
  FM m;
  template <class S>
  Vec<S, state_dim> drift(const Vec<S, state_dim>& y, const S& t) const { return m.drift(y, t); }
  template <class S>
  Mat<S, state_dim, noise_dim> diffusion(const Vec<S, state_dim>& y, const S& t) const { return m.diffusion(y, t); }
  Vec<double, state_dim> initial_state() const { return m.initial_state(); }
  template <class F>
  void for_each_param(F&& f) { m.for_each_param(f); }
  void validate() { m.validate(); }
};

template <class St, class M>
ensemble::StateMatrix run_blocks(const St& st, const M& m, std::int64_t n, std::int64_t steps, double dt, double t0,
                                 int block_size) {
  ensemble::StateMatrix s(M::state_dim, n, 0.0);
  for (int d = 0; d < M::state_dim; ++d)
    for (std::int64_t p = 0; p < n; ++p) s(d, p) = 0.5 + 0.1 * d + 0.001 * double(p % 17);
  ensemble::EnsembleOptions o;
  o.seed = 9;
  o.dt = dt;
  o.t0 = t0;
  o.n_steps = steps;
  o.n_threads = 1;
  o.block_size = block_size;
  ensemble::simulate(st, m, s, o);
  return s;
}

TEST_CASE("file models: block stepping equals path-by-path evaluation bit for bit, for every noise kind") {
  mftest::use_test_cache();
  using FM11 = modelfile::FileModel<1, 1, additive_noise>;
  using FD11 = modelfile::FileModel<1, 1, diagonal_noise>;
  using FM22 = modelfile::FileModel<2, 2, additive_noise>;
  using FG22 = modelfile::FileModel<2, 2, general_noise>;
  static_assert(ensemble::detail::block_step_v<EulerMaruyama, FM11> && ensemble::detail::block_step_v<Heun, FM22> &&
                ensemble::detail::block_step_v<Milstein, FM11>);
  static_assert(!ensemble::detail::block_step_v<Milstein, FD11>, "Milstein with diagonal noise steps path by path");
  static_assert(!ensemble::detail::block_step_v<EulerMaruyama, PerPath<FM11>>);
  // n = 300 with blocks of 64 and 256: partial chunks and padded lanes; t0 != 0 and a
  // time-dependent drift and diffusion check the times passed to the block functions.
  const FM11 tilted = load<FM11>("tilted_periodic.toml");
  const FD11 gbm = load<FD11>("geometric_brownian.toml");
  const FM22 gyr = load<FM22>("brownian_gyrator.toml");
  const FG22 gen(modelfile::load_model_text(
      "name = \"gen2\"\nvariables = [\"x\", \"y\"]\ndrift = [\"-x + 0.3*sin(t)*y\", \"-y^3 + 0.1*x\"]\n"
      "diffusion = [[\"0.5\", \"0.1*x\"], [\"0.2*cos(y)\", \"0.4 + 0.1*t\"]]\n",
      "gen2.toml"));
  const FM22 tdep(modelfile::load_model_text(
      "name = \"tdep\"\nvariables = [\"x\", \"y\"]\ndrift = [\"-x*(1 + 0.5*cos(t))\", \"-2*y + x\"]\n"
      "diffusion = [\"0.3 + 0.2*t\", \"0.5\"]\n",
      "tdep.toml"));
  using FM33 = modelfile::FileModel<3, 3, additive_noise>;
  using FG33 = modelfile::FileModel<3, 3, general_noise>;
  const FM33 abp = load<FM33>("active_brownian_trap.toml");
  const FM33 padded(modelfile::load_model_text(  // 3 x 1 G, run padded to 3 x 3
      "name = \"pad3\"\nvariables = [\"x\", \"y\", \"z\"]\ndrift = [\"y\", \"-x - 0.5*y + 0.2*cos(t)\", \"-z + x*y\"]\n"
      "diffusion = [[\"0\"], [\"0.7\"], [\"0.1*t\"]]\n",
      "pad3.toml"));
  const FG33 gen3(modelfile::load_model_text(
      "name = \"gen3\"\nvariables = [\"x\", \"y\", \"z\"]\ndrift = [\"-x + y*z\", \"-y - x*z\", \"-z + 0.3*sin(t)\"]\n"
      "diffusion = [[\"0.5\", \"0.1*x\", \"0\"], [\"0.2*cos(y)\", \"0.4 + 0.1*t\", \"0.1*z\"], [\"0\", \"0.05*y\", \"0.3\"]]\n",
      "gen3.toml"));
  CHECK(padded.spec().declared_noise_dim == 1);
  // block stepping of `m` against stepping it path by path (PerPath hides drift_block)
  auto same = [&]<class Mod>(auto stepper, const Mod& m, double dt, double t0, int bs) {
    INFO(m.label(), " with ", decltype(stepper)::name, ", block size ", bs);
    check_identical(run_blocks(stepper, m, 300, 120, dt, t0, bs), run_blocks(stepper, PerPath<Mod>{m}, 300, 120, dt, t0, bs));
  };
  for (int bs : {64, 256}) {
    same(EulerMaruyama{}, tilted, 1e-2, 0.7, bs);
    same(Heun{}, tilted, 1e-2, 0.7, bs);
    same(Milstein{}, tilted, 1e-2, 0.7, bs);
    same(EulerMaruyama{}, gbm, 1e-3, 0.0, bs);
    same(EulerMaruyama{}, gyr, 1e-2, 0.0, bs);
    same(Heun{}, gyr, 1e-2, 0.0, bs);
    same(EulerMaruyama{}, gen, 1e-2, 0.3, bs);
    same(EulerMaruyama{}, tdep, 1e-2, 0.3, bs);
    same(Heun{}, tdep, 1e-2, 0.3, bs);
    same(EulerMaruyama{}, abp, 1e-2, 0.0, bs);
    same(Heun{}, abp, 1e-2, 0.0, bs);
    same(EulerMaruyama{}, padded, 1e-2, 0.3, bs);
    same(EulerMaruyama{}, gen3, 1e-2, 0.3, bs);
  }
}

}  // namespace modelfile_file_model_test
