#pragma once
/// \file
/// Samplers of known stationary laws, keyed per path (counters >= kInitCounterBase):
///   ou, ou2d                     N(mu, Sigma_inf), Sigma_inf = stationary_covariance()
///   overdamped_langevin(_1d)     at T = 1 the target mixture itself (component by a uniform)
///   double_well                  exp(-U/T) by rejection from a uniform box (|x| <= L, U(L)/T >= 40)
///   underdamped_langevin         x as the double well, v ~ N(0, T) (exp(-(U + v^2/2)/T))
/// Others: ConfigError "model X has no known stationary law; valid: ...".
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "sdescore/ensemble/engine.hpp"
#include "sdescore/ensemble/state.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/models/overdamped_langevin.hpp"
#include "sdescore/models/underdamped_langevin.hpp"
#include "sdescore/random/normal.hpp"

namespace sdescore::ensemble {

inline constexpr std::string_view kModelsWithStationaryLaw =
    "ou, ou2d, double_well, underdamped_langevin, overdamped_langevin and overdamped_langevin_1d (at T = 1)";

namespace detail {

/// s(d, p) = z_d(seed, first_path + p, kInitCounterBase): the initial-law normals.
inline void fill_init_normals(std::uint64_t seed, std::uint64_t first_path, StateMatrix& s) {
  const std::int64_t n = s.n_paths();
  constexpr std::int64_t kBatch = 4096;
  std::vector<double> z(static_cast<std::size_t>(s.dim()) * kBatch);
  for (std::int64_t p0 = 0; p0 < n; p0 += kBatch) {
    const std::int64_t nb = std::min(kBatch, n - p0);
    random::normal_block(seed, first_path + static_cast<std::uint64_t>(p0), nb, kInitCounterBase, s.dim(), z.data(), kBatch);
    for (int d = 0; d < s.dim(); ++d)
      std::copy(z.begin() + d * kBatch, z.begin() + d * kBatch + nb, s.coord(d) + p0);
  }
}

/// Exact rejection sampling of exp(-a (x^2-1)^2 / T) for path `stream`: attempt r uses the
/// uniforms (seed, stream, kInitCounterBase + r, j = 0, 1). Returns NaN if 2^20 attempts fail.
inline double sample_double_well_x(double a, double T, std::uint64_t seed, std::uint64_t stream) {
  const double L = std::sqrt(1.0 + std::sqrt(40.0 * T / a));  // U(L)/T = 40: neglected tail mass < e^-40
  for (std::uint64_t r = 0; r < (1u << 20); ++r) {
    const double x = L * (2.0 * random::uniform(seed, stream, kInitCounterBase + r, 0) - 1.0);
    const double u = x * x - 1.0;
    if (random::uniform(seed, stream, kInitCounterBase + r, 1) < std::exp(-a * u * u / T)) return x;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

inline void fill_double_well_x(double a, double T, std::uint64_t seed, std::uint64_t first_path, double* x,
                               std::int64_t n) {
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < n; ++p) x[p] = sample_double_well_x(a, T, seed, first_path + static_cast<std::uint64_t>(p));
  for (std::int64_t p = 0; p < n; ++p)
    if (std::isnan(x[p]))
      throw NumericalError("stationary sampling of the double well failed for path " +
                           std::to_string(first_path + static_cast<std::uint64_t>(p)) +
                           ": no acceptance in 2^20 attempts (a / T too large?)");
}

}  // namespace detail

template <class M>
inline constexpr bool has_stationary_law_v =
    std::is_same_v<M, models::OU1> || std::is_same_v<M, models::OU2> || std::is_same_v<M, models::DoubleWell> ||
    std::is_same_v<M, models::UnderdampedLangevin> || std::is_same_v<M, models::OverdampedLangevin1D> ||
    std::is_same_v<M, models::OverdampedLangevin2D>;

/// Fills s (dim x n_paths) with paths first_path .. of the stationary law of `model`.
template <class M>
void sample_stationary(const M& model, std::uint64_t seed, std::uint64_t first_path, StateMatrix& s) {
  const std::int64_t n = s.n_paths();
  if constexpr (std::is_same_v<M, models::OU1> || std::is_same_v<M, models::OU2>) {
    constexpr int D = M::state_dim;
    const Mat<double, D, D> C = model.stationary_covariance();
    Eigen::LLT<Mat<double, D, D>> llt(C);
    if (llt.info() != Eigen::Success)
      throw ConfigError(std::string(M::name) +
                        ": no stationary law (the stationary covariance is not positive definite; B must be stable)");
    const Mat<double, D, D> L = llt.matrixL();
    detail::fill_init_normals(seed, first_path, s);
    for (std::int64_t p = 0; p < n; ++p) {
      Vec<double, D> z;
      for (int d = 0; d < D; ++d) z(d) = s(d, p);
      const Vec<double, D> y = model.mu + L * z;
      for (int d = 0; d < D; ++d) s(d, p) = y(d);
    }
  } else if constexpr (std::is_same_v<M, models::OverdampedLangevin1D> ||
                       std::is_same_v<M, models::OverdampedLangevin2D>) {
    constexpr int D = M::state_dim;
    if (model.T != 1.0)
      throw ConfigError(std::string(M::name) + ": the stationary law p_mix^(1/T) is known in closed form only at T = 1 (got T = " +
                        sdescore::detail::fmt_double(model.T) + ")");
    const auto& mix = model.target;
    mix.validate(M::name);
    double wsum = 0;
    for (double w : mix.weights) wsum += w;
    detail::fill_init_normals(seed, first_path, s);
    for (std::int64_t p = 0; p < n; ++p) {
      const double u = random::uniform(seed, first_path + static_cast<std::uint64_t>(p), kInitCounterBase, 0) * wsum;
      int k = 0;
      double c = mix.weights[0];
      while (k + 1 < mix.size() && u >= c) c += mix.weights[static_cast<std::size_t>(++k)];
      for (int d = 0; d < D; ++d) s(d, p) = mix.centres[static_cast<std::size_t>(k)](d) + mix.widths[static_cast<std::size_t>(k)] * s(d, p);
    }
  } else if constexpr (std::is_same_v<M, models::DoubleWell>) {
    detail::fill_double_well_x(model.a, model.T, seed, first_path, s.coord(0), n);
  } else if constexpr (std::is_same_v<M, models::UnderdampedLangevin>) {
    StateMatrix z(1, n);
    detail::fill_init_normals(seed, first_path, z);  // v from the normal domain, x from the uniform domain
    detail::fill_double_well_x(model.a, model.T, seed, first_path, s.coord(0), n);
    const double sv = std::sqrt(model.T);
    for (std::int64_t p = 0; p < n; ++p) s(1, p) = sv * z(0, p);
  } else {
    (void)model;
    (void)seed;
    (void)first_path;
    (void)n;
    throw ConfigError("model " + std::string(M::name) + " has no known stationary law; valid: " +
                      std::string(kModelsWithStationaryLaw));
  }
}

}  // namespace sdescore::ensemble
