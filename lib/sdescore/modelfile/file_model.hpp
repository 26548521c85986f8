#pragma once
/// \file
/// The model-file adapter: an SdeModel whose drift and diffusion call the compiled code of a
/// model file (compile.hpp), for a fixed set of shapes (FileShapes below). Compiled once into
/// the library's users; the hot loops (engine, steppers, local-DSM, references) are the same
/// templates as for the built-in models.
///
/// drift<double> / diffusion<double> call the loaded functions. For Eigen AutoDiff scalars the
/// adapter applies the chain rule to the exported derivatives: first order (Jacobians, d/dt,
/// Milstein's dG/dy) from the jet-1 functions, and the nested AutoDiff of
/// drift_second_directional (AutoDiffScalar over AutoDiffScalar) from the jet-2 functions (the
/// Hessian), so core/autodiff.hpp and linearize/ work unchanged.
#include <Eigen/Dense>
#include <unsupported/Eigen/AutoDiff>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "sdescore/core/model.hpp"
#include "sdescore/modelfile/compile.hpp"
#include "sdescore/modelfile/stationary.hpp"

namespace sdescore::modelfile {

namespace detail {

template <class S>
struct AdOrder : std::integral_constant<int, -1> {};
template <>
struct AdOrder<double> : std::integral_constant<int, 0> {};
template <class Der>
struct AdOrder<Eigen::AutoDiffScalar<Der>>
    : std::integral_constant<int, std::is_same_v<typename Der::Scalar, double>                ? 1
                                  : AdOrder<typename Der::Scalar>::value == 1                 ? 2
                                                                                              : -1> {};

}  // namespace detail

template <int D, int Mn, class Kind>
struct FileModel {
  static constexpr std::string_view name = "model_file";
  static constexpr std::string_view description = "an SDE read from a model file (see label())";
  static constexpr std::string_view equation = "see the model file";
  static constexpr int state_dim = D;
  static constexpr int noise_dim = Mn;
  using noise_kind = Kind;
  static constexpr bool is_model_file = true;

  std::shared_ptr<const LoadedModel> lib;
  std::vector<double> params;

  FileModel() = default;
  explicit FileModel(std::shared_ptr<const LoadedModel> l)
      : lib(std::move(l)), drift_fn_(lib->code.drift), diffusion_fn_(lib->code.diffusion),
        drift_block_fn_(lib->code.drift_block), diffusion_block_fn_(lib->code.diffusion_block),
        const_g_(lib->spec.diffusion_constant) {
    for (const auto& p : lib->spec.params) params.push_back(p.default_value);
    if (lib->spec.diffusion_constant) {
      Vec<double, D> y0 = Vec<double, D>::Zero();
      lib->code.diffusion(y0.data(), 0.0, params.data(), g_const_.data());
    }
  }

  /// The name recorded in output files: "file:<name>#<hash16>".
  std::string label() const { return lib->spec.key(); }
  const ModelSpec& spec() const { return lib->spec; }

  template <class F>
  void for_each_param(F&& f) {
    for (std::size_t i = 0; i < params.size(); ++i) f(lib->spec.params[i].info, params[i]);
  }
  void validate() {
    validate_params(*this);
    if (lib->spec.diffusion_constant) {
      Vec<double, D> y0 = Vec<double, D>::Zero();
      lib->code.diffusion(y0.data(), 0.0, params.data(), g_const_.data());
    }
  }

  Vec<double, D> initial_state() const {
    Vec<double, D> y;
    for (int i = 0; i < D; ++i) y(i) = lib->spec.initial[std::size_t(i)];
    return y;
  }

  /// The stationary law from the file's log_density (stationary.hpp: a tabulated inverse-CDF
  /// sampler, 1D and 2D), for --init stationary (ensemble/stationary.hpp). The grid is built
  /// here, once per call, at the current parameters. ConfigError without log_density, for
  /// d > 2, or when log_density cannot be tabulated (naming why).
  auto stationary_law() const {
    const ModelSpec& s = lib->spec;
    if (!lib->code.log_density)
      throw ConfigError(s.origin + ": --init stationary needs the stationary law, but the model file '" + s.name +
                        "' gives no log_density: add log_density = \"...\" (the unnormalised log stationary density, "
                        "in the variables and parameters) or use another initial law (point, point:x1,..,xD, "
                        "normal:..., uniform:..., file:PATH)");
    const LogDensityFn fn = lib->code.log_density;
    const std::vector<double>& p = params;
    auto law = std::make_shared<const TabulatedLaw>(tabulate_log_density(
        [fn, &p](const double* y) { return fn(y, p.data()); }, D, s.initial.data(), s.origin + " (model '" + s.name + "')"));
    return [law](const auto& src) {
      const double u[3] = {src.uniform(0, 0), src.uniform(0, 1), src.uniform(0, 2)};
      double x[2] = {0, 0};
      law->sample(u, x);
      Vec<double, D> y = Vec<double, D>::Zero();
      for (int i = 0; i < D && i < 2; ++i) y(i) = x[i];
      return y;
    };
  }

  template <class S>
  Vec<S, D> drift(const Vec<S, D>& y, const S& t) const {
    constexpr int order = detail::AdOrder<S>::value;
    static_assert(order >= 0, "FileModel::drift: scalar must be double or (nested) Eigen::AutoDiffScalar of double");
    if constexpr (order == 0) {
      Vec<double, D> f;
      drift_fn_(y.data(), t, params.data(), f.data());  // the hot call: pointer held here, not behind lib
      return f;
    } else {
      constexpr int N = D + 1;
      std::array<double, D + 1> z{};
      for (int i = 0; i < D; ++i) z[std::size_t(i)] = value0(y(i));
      z[D] = value0(t);
      std::array<double, D> f{};
      std::array<double, D * N> J{};
      if constexpr (order == 1) {
        lib->code.drift_jet1(z.data(), z[D], params.data(), f.data(), J.data());
        Vec<S, D> r;
        for (int k = 0; k < D; ++k) {
          auto der = (t.derivatives() * J[std::size_t(k * N + D)]).eval();
          for (int i = 0; i < D; ++i) der += y(i).derivatives() * J[std::size_t(k * N + i)];
          r(k) = S(f[std::size_t(k)], der);
        }
        return r;
      } else {
        std::array<double, D * N * N> H{};
        lib->code.drift_jet2(z.data(), z[D], params.data(), f.data(), J.data(), H.data());
        return second_order<S>(y, t, f, J, H);
      }
    }
  }

  /// Block evaluation (solvers/block.hpp, BlockModel): the drift of n paths in one call to the
  /// compiled unit. Variable d of path i at y[d ldy + i]; f_d of path i at f[d ldf + i]. The same
  /// bits as drift<double> path by path.
  void drift_block(const double* y, std::ptrdiff_t ldy, double t, double* f, std::ptrdiff_t ldf, std::int64_t n) const {
    drift_block_fn_(y, long(ldy), t, params.data(), f, long(ldf), long(n));
  }
  /// G of n paths: entry (i, j) (row-major k = i noise_dim + j) of path p at g[k ldg + p].
  void diffusion_block(const double* y, std::ptrdiff_t ldy, double t, double* g, std::ptrdiff_t ldg, std::int64_t n) const {
    diffusion_block_fn_(y, long(ldy), t, params.data(), g, long(ldg), long(n));
  }

  template <class S>
  Mat<S, D, Mn> diffusion(const Vec<S, D>& y, const S& t) const {
    constexpr int order = detail::AdOrder<S>::value;
    static_assert(order == 0 || order == 1, "FileModel::diffusion: scalar must be double or Eigen::AutoDiffScalar of double");
    if constexpr (order == 0) {
      if (const_g_) return from_row_major(g_const_);  // no variable, no t: evaluated once per parameter set
      std::array<double, D * Mn> g{};
      diffusion_fn_(y.data(), t, params.data(), g.data());
      return from_row_major(g);
    } else {
      constexpr int N = D + 1;
      std::array<double, D + 1> z{};
      for (int i = 0; i < D; ++i) z[std::size_t(i)] = y(i).value();
      z[D] = t.value();
      std::array<double, D * Mn> g{};
      std::array<double, D * Mn * N> dg{};
      lib->code.diffusion_jet1(z.data(), z[D], params.data(), g.data(), dg.data());
      Mat<S, D, Mn> r;
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < Mn; ++j) {
          const int k = i * Mn + j;
          auto der = (t.derivatives() * dg[std::size_t(k * N + D)]).eval();
          for (int l = 0; l < D; ++l) der += y(l).derivatives() * dg[std::size_t(k * N + l)];
          r(i, j) = S(g[std::size_t(k)], der);
        }
      return r;
    }
  }

 private:
  DriftFn drift_fn_ = nullptr;
  DriftFn diffusion_fn_ = nullptr;
  BlockFn drift_block_fn_ = nullptr;
  BlockFn diffusion_block_fn_ = nullptr;
  bool const_g_ = false;
  std::array<double, D * Mn> g_const_{};

  static Mat<double, D, Mn> from_row_major(const std::array<double, D * Mn>& g) {
    Mat<double, D, Mn> G;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < Mn; ++j) G(i, j) = g[std::size_t(i * Mn + j)];
    return G;
  }

  template <class S>
  static double value0(const S& s) {
    if constexpr (detail::AdOrder<S>::value == 1)
      return s.value();
    else
      return s.value().value();
  }

  /// S = AutoDiffScalar<Vec<Inner, K>>, Inner = AutoDiffScalar<Vec<double, L>>. With z_i =
  /// (a_i + alpha_i e) + (b_ij + beta_ij e) d_j (e inner, d_j outer directions):
  ///   value   = f + (J alpha) e
  ///   deriv j = J b_j + (alpha^T H b_j + J beta_j) e
  template <class S>
  static Vec<S, D> second_order(const Vec<S, D>& y, const S& t, const std::array<double, D>& f,
                                const std::array<double, D*(D + 1)>& J, const std::array<double, D*(D + 1) * (D + 1)>& H) {
    constexpr int N = D + 1;
    using Inner = typename S::Scalar;
    using OuterDer = typename S::DerType;
    auto zval = [&](int i) -> const Inner& { return i < D ? y(i).value() : t.value(); };
    auto zder = [&](int i) -> const OuterDer& { return i < D ? y(i).derivatives() : t.derivatives(); };
    Vec<S, D> r;
    for (int k = 0; k < D; ++k) {
      auto dv = (zval(0).derivatives() * J[std::size_t(k * N)]).eval();
      for (int i = 1; i < N; ++i) dv += zval(i).derivatives() * J[std::size_t(k * N + i)];
      const Inner value(f[std::size_t(k)], dv);
      OuterDer od = zder(0);
      for (Eigen::Index j = 0; j < od.size(); ++j) {
        double v = 0;
        auto d = (zder(0)(j).derivatives() * 0.0).eval();
        for (int i = 0; i < N; ++i) {
          const Inner& bij = zder(i)(j);
          v += J[std::size_t(k * N + i)] * bij.value();
          d += bij.derivatives() * J[std::size_t(k * N + i)];
          for (int l = 0; l < N; ++l) d += zval(l).derivatives() * (H[std::size_t((k * N + i) * N + l)] * bij.value());
        }
        od(j) = Inner(v, d);
      }
      r(k) = S(value, od);
    }
    return r;
  }
};

}  // namespace sdescore::modelfile
