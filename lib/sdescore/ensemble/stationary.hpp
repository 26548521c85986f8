#pragma once
/// \file
/// Sampling of a model's stationary law, keyed per path (counters >= kInitCounterBase).
///
/// What the law is belongs to the model: a model with a known stationary law defines
///   auto stationary_law() const;   // validates (ConfigError), returns a per-path sampler
/// whose sampler, called as `law(src)`, returns one state (Vec<double, state_dim>) from the
/// per-path draws `src` (StationaryDraws below):
///   src.normal(d)    z_d(seed, path, kInitCounterBase), d < state_dim (the initial normals)
///   src.uniform(r, j) the j-th uniform of (seed, path, kInitCounterBase + r) (rejection attempts)
/// A non-finite state marks a failed sample (e.g. no acceptance). Today: ou, ou2d, double_well,
/// underdamped_langevin, overdamped_langevin(_1d) at T = 1 (see their headers).
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sdescore/core/model.hpp"
#include "sdescore/ensemble/engine.hpp"
#include "sdescore/ensemble/state.hpp"
#include "sdescore/random/normal.hpp"

namespace sdescore::ensemble {

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

}  // namespace detail

/// The draws of one path for a stationary sampler (see the file comment).
struct StationaryDraws {
  std::uint64_t seed;
  std::uint64_t path;       ///< global path index (the Philox stream)
  const double* normals;    ///< z_d of this path at normals[d * stride]
  std::int64_t stride;
  double normal(int d) const { return normals[static_cast<std::int64_t>(d) * stride]; }
  double uniform(std::uint64_t r, std::uint32_t j) const {
    return random::uniform(seed, path, kInitCounterBase + r, j);
  }
};

/// A model whose stationary law is known and sampled by the model itself.
template <class M>
concept HasStationaryLaw = SdeModel<M> && requires(const M& m, const StationaryDraws& src) {
  { m.stationary_law()(src) } -> std::convertible_to<Vec<double, M::state_dim>>;
};
template <class M>
inline constexpr bool has_stationary_law_v = HasStationaryLaw<M>;

/// Fills s (dim x n_paths) with paths first_path .. of the stationary law of `model`.
/// ConfigError if the model has none (or not for these parameters); NumericalError naming the
/// first path whose sample failed.
template <SdeModel M>
void sample_stationary(const M& model, std::uint64_t seed, std::uint64_t first_path, StateMatrix& s) {
  constexpr int D = M::state_dim;
  if constexpr (!HasStationaryLaw<M>) {
    (void)model, (void)seed, (void)first_path, (void)s;
    throw ConfigError("model " + std::string(M::name) +
                      " has no known stationary law (it defines no stationary_law()); use another initial law "
                      "(point, normal:..., uniform:..., file:PATH)");
  } else {
    const auto law = model.stationary_law();  // validates the parameters first
    const std::int64_t n = s.n_paths();
    detail::fill_init_normals(seed, first_path, s);
    double* x = s.data().data();
#pragma omp parallel for schedule(static)
    for (std::int64_t p = 0; p < n; ++p) {
      const StationaryDraws src{seed, first_path + static_cast<std::uint64_t>(p), x + p, n};
      const Vec<double, D> y = law(src);
      for (int d = 0; d < D; ++d) x[d * n + p] = y(d);
    }
    for (std::int64_t p = 0; p < n; ++p)
      for (int d = 0; d < D; ++d)
        if (!std::isfinite(x[d * n + p]))
          throw NumericalError("stationary sampling of model " + std::string(M::name) + " failed for path " +
                               std::to_string(first_path + static_cast<std::uint64_t>(p)) +
                               ": no finite sample (a rejection sampler found no acceptance in 2^20 attempts; "
                               "is the barrier / temperature ratio too large?)");
  }
}

}  // namespace sdescore::ensemble
