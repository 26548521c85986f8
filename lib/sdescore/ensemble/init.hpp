#pragma once
#include <numbers>
/// \file
/// Initial laws of an ensemble, keyed per path so they are reproducible per path too:
/// path p draws from counters kInitCounterBase + r (r = 0, 1, ...: rejection attempts), which
/// stepping never uses. So a path-range replay samples the same initial states.
///
/// Init specs (parse_init_spec; the file part is resolved by the caller):
///   point                  the model's initial_state()
///   point:x1,...,xD        fixed state (one value is broadcast to every coordinate)
///   normal:m,s[,m,s...]    independent N(m_i, s_i^2) per coordinate; one pair is broadcast
///   uniform:lo,hi[,...]    independent U[lo_i, hi_i) per coordinate; one pair is broadcast
///   stationary             the model's stationary law where known (stationary.hpp)
///   file:PATH              states given by the caller (StateMatrix::from_rows / states_from_rows)
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sdescore/core/model.hpp"
#include "sdescore/ensemble/engine.hpp"
#include "sdescore/ensemble/state.hpp"
#include "sdescore/ensemble/stationary.hpp"
#include "sdescore/random/normal.hpp"

namespace sdescore::ensemble {

struct InitSpec {
  enum class Kind { point, normal, uniform, stationary, file, two_moons, checkerboard };
  Kind kind = Kind::point;
  std::vector<double> values;  ///< point: state (empty: model default); normal: (mean, std) pairs; uniform: (lo, hi) pairs
  std::string path;            ///< file: the path after "file:"
  std::string text;            ///< the spec as given (for messages and metadata)
};

/// The valid forms, for help texts and error messages.
inline constexpr std::string_view kInitSpecForms =
    "point, point:x1,...,xD, normal:mean,std[,mean,std...], uniform:lo,hi[,lo,hi...], stationary, file:PATH, "
    "two_moons[:noise] (2D), checkerboard[:scale] (2D)";

/// Parses an init spec; throws ConfigError naming the spec and listing the valid forms.
InitSpec parse_init_spec(std::string_view text);

/// Per-coordinate parameters of a point/normal/uniform spec for state dimension `dim`
/// (broadcast resolved): point -> dim values; normal/uniform -> dim pairs (a_i, b_i).
/// Throws ConfigError if the counts do not fit `dim`, a std is negative or lo > hi.
std::vector<double> resolve_init_values(const InitSpec& spec, int dim, std::string_view model_name);

/// Rows [first_path, first_path + n_paths) of a path-major matrix of given states (e.g. read
/// from a file); a single row is broadcast. Throws ConfigError on a dimension mismatch, too few
/// rows or a non-finite value.
StateMatrix states_from_rows(const Eigen::Ref<const Eigen::MatrixXd>& rows, int dim, std::uint64_t first_path,
                             std::int64_t n_paths);

/// Samples paths [first_path, first_path + n_paths) of the initial law `spec` of `model`.
/// Path p's state depends only on (seed, p, spec, model), not on n_paths or first_path.
/// `file:` specs must be resolved by the caller (states_from_rows): ConfigError here.
template <SdeModel M>
StateMatrix sample_initial(const M& model, const InitSpec& spec, std::uint64_t seed, std::uint64_t first_path,
                           std::int64_t n_paths) {
  constexpr int D = M::state_dim;
  StateMatrix s(D, n_paths);
  switch (spec.kind) {
    case InitSpec::Kind::file:
      throw ConfigError("init spec '" + spec.text +
                        "': file states must be loaded by the caller (states_from_rows), not sampled");
    case InitSpec::Kind::stationary:
      sample_stationary(model, seed, first_path, s);
      return s;
    case InitSpec::Kind::point: {
      if (spec.values.empty()) {
        const Vec<double, D> y = model.initial_state();
        for (int d = 0; d < D; ++d) std::fill(s.coord(d), s.coord(d) + n_paths, y(d));
        return s;
      }
      const auto v = resolve_init_values(spec, D, M::name);
      for (int d = 0; d < D; ++d) std::fill(s.coord(d), s.coord(d) + n_paths, v[static_cast<std::size_t>(d)]);
      return s;
    }
    case InitSpec::Kind::normal: {
      const auto v = resolve_init_values(spec, D, M::name);
      detail::fill_init_normals(seed, first_path, s);
      for (int d = 0; d < D; ++d) {
        const double m = v[static_cast<std::size_t>(2 * d)], sd = v[static_cast<std::size_t>(2 * d + 1)];
        double* x = s.coord(d);
        for (std::int64_t p = 0; p < n_paths; ++p) x[p] = m + sd * x[p];
      }
      return s;
    }
    case InitSpec::Kind::two_moons:
    case InitSpec::Kind::checkerboard: {
      // 2D toy data sets for generative modelling (case 3 of docs/results.md):
      //   two_moons[:noise]  sklearn's two interleaved half circles, centred, scaled by 1.5,
      //                      plus N(0, noise^2) per coordinate (default noise 0.1);
      //   checkerboard[:s]   uniform on the 8 dark squares of a 4 x 4 board of side s (default 4).
      if constexpr (D != 2) {
        throw ConfigError("init spec '" + spec.text + "' is a 2D data set but model " + std::string(M::name) +
                          " has state_dim " + std::to_string(D));
      } else {
        const bool moons = spec.kind == InitSpec::Kind::two_moons;
        const double par = spec.values.empty() ? (moons ? 0.1 : 4.0) : spec.values[0];
        detail::fill_init_normals(seed, first_path, s);
        double* x = s.coord(0);
        double* y = s.coord(1);
        for (std::int64_t p = 0; p < n_paths; ++p) {
          const std::uint64_t path = first_path + static_cast<std::uint64_t>(p);
          const double u0 = random::uniform(seed, path, kInitCounterBase, 0);
          const double u1 = random::uniform(seed, path, kInitCounterBase, 1);
          if (moons) {
            const double th = std::numbers::pi * u1;
            const bool upper = u0 < 0.5;
            const double mx = upper ? std::cos(th) : 1.0 - std::cos(th), my = upper ? std::sin(th) : 0.5 - std::sin(th);
            x[p] = 1.5 * (mx - 0.5) + par * x[p];
            y[p] = 1.5 * (my - 0.25) + par * y[p];
          } else {
            const double a = par / 4;  // square side
            const int i = static_cast<int>(u0 * 4), k = static_cast<int>(u1 * 2);
            const int j = 2 * k + (i % 2);  // dark squares: i + j even
            const double v0 = random::uniform(seed, path, kInitCounterBase, 2), v1 = random::uniform(seed, path, kInitCounterBase, 3);
            x[p] = (i + v0) * a - par / 2;
            y[p] = (j + v1) * a - par / 2;
          }
        }
        return s;
      }
    }
    case InitSpec::Kind::uniform: {
      const auto v = resolve_init_values(spec, D, M::name);
      for (int d = 0; d < D; ++d) {
        const double lo = v[static_cast<std::size_t>(2 * d)], hi = v[static_cast<std::size_t>(2 * d + 1)];
        double* x = s.coord(d);
        for (std::int64_t p = 0; p < n_paths; ++p)
          x[p] = lo + (hi - lo) * random::uniform(seed, first_path + static_cast<std::uint64_t>(p), kInitCounterBase,
                                                  static_cast<std::uint32_t>(d));
      }
      return s;
    }
  }
  return s;
}

}  // namespace sdescore::ensemble
