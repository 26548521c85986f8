#pragma once
/// \file
/// The OpenMP ensemble engine: many paths of dY = f dt + G dW advanced with one stepper.
///
/// Layout and loop (docs/simulation.md, "Engine"):
///   state: StateMatrix, dim-major SoA (dim rows of n_paths doubles);
///   for each interval between sync points (snapshot steps, progress points, the end):
///     parallel for over blocks of `block_size` paths (static schedule):
///       for each step k of the interval (x86-64: compiled for AVX-512, AVX2 and baseline, picked at load):
///         z = normals of the block, keyed (seed, first_path + p, k / 2), for steps k and k + 1
///         for each path: gather y, dW = sqrt(dt) z, stepper.do_step(model, y, t_k, dt, dW), scatter,
///           and OR the bits of y - y into a screen (non-zero iff a lane is non-finite)
///       [snapshot step and stats on: add the block to the statistics while it is in cache]
///     then, on the calling thread: check failures, deliver the snapshot, report progress.
/// Path p (global index first_path + p) at absolute step k uses noise j < noise_dim
///   z_{noise_dim (k mod 2) + j}(seed, first_path + p, k / 2)
/// (one Philox call and one Box-Muller give the noise of two consecutive steps):
/// the result is bit-identical for any thread count, schedule, block size, path-range replay and
/// any split into resumed runs (absolute step index in the counter; t_k = t0 + k dt).
#include <omp.h>

#include "sdescore/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sdescore/ensemble/lane.hpp"
#include "sdescore/ensemble/state.hpp"
#include "sdescore/ensemble/stats.hpp"
#include "sdescore/random/normal.hpp"
#include "sdescore/solvers/block.hpp"
#include "sdescore/solvers/stepper.hpp"

namespace sdescore::ensemble {

/// Counters >= kInitCounterBase are reserved for initial-law sampling (init.hpp); steps use
/// counters 0 .. kInitCounterBase - 1.
inline constexpr std::uint64_t kInitCounterBase = std::uint64_t{1} << 63;

struct EnsembleOptions {
  std::uint64_t seed = 0;
  std::uint64_t first_path = 0;  ///< global index of column 0 of the state (path-range replay)
  double t0 = 0.0;               ///< time of absolute step 0: t_k = t0 + k dt
  double dt = 1e-3;
  std::int64_t step0 = 0;        ///< absolute step index of the given state (resume from a checkpoint)
  std::int64_t n_steps = 0;      ///< steps to take in this call: ends at step0 + n_steps
  std::int64_t save_every = 0;   ///< snapshot at every absolute step that is a multiple (0: none)
  bool emit_initial = true;      ///< also deliver step0 when it is a snapshot step (false when resuming)
  int block_size = 256;          ///< paths per block, a multiple of 64 (kStatsChunk)
  int n_threads = 0;             ///< 0: OpenMP default (OMP_NUM_THREADS / omp_set_num_threads)
  std::int64_t progress_every = 0;  ///< also sync and report progress every this many steps (0: at snapshots only)
  StatsOptions stats;            ///< stats.enabled: compute EnsembleStats for every snapshot (--stats-only)
};

/// What a sink receives, on the calling thread, once all blocks have reached the snapshot step.
struct Snapshot {
  std::int64_t index;          ///< step / save_every
  std::int64_t step;           ///< absolute step index
  double t;                    ///< t0 + step * dt
  StateView state;             ///< all paths of this run; valid only during the call
  const EnsembleStats* stats;  ///< non-null iff options.stats.enabled
};
using SnapshotSink = std::function<void(const Snapshot&)>;

struct Progress {
  std::int64_t path_steps_done;   ///< in this call
  std::int64_t path_steps_total;  ///< n_paths * n_steps
  std::int64_t step;              ///< absolute step reached by all paths
  double t;
};
using ProgressFn = std::function<void(const Progress&)>;

struct RunSummary {
  std::int64_t final_step = 0;  ///< absolute step of the returned state
  double final_time = 0.0;
  std::int64_t snapshots = 0;   ///< delivered to the sink
};

namespace detail {

struct BlockFailure {
  std::int64_t step = std::numeric_limits<std::int64_t>::max();  ///< absolute step index after which the state is non-finite
  std::int64_t path = -1;                                        ///< local path index
};

void check_options(const EnsembleOptions& o, int dim, std::int64_t n_paths);
/// "a <stepper> step of model <model> on paths [first, first + count) between steps k0 and k1 (t = ..)".
std::string describe_block(std::string_view model, std::string_view stepper, const EnsembleOptions& o, std::int64_t p0,
                           std::int64_t nb, std::int64_t k0, std::int64_t k1);
[[noreturn]] void throw_nonfinite(std::string_view model, std::string_view stepper, const EnsembleOptions& o,
                                  const StateMatrix& state, const BlockFailure& first, std::int64_t n_failed_blocks);

// The interval loop of a block is compiled three times on x86-64 with GCC (target_clones:
// x86-64-v4 = AVX-512, x86-64-v3 = AVX2+FMA, and the portable default) and the loader picks the
// best for the CPU (ifunc), so the step vectorises at the machine's width without -march. The
// clones compute the same bits: the library is built with -ffp-contract=off (CMakeLists.txt),
// so no clone fuses a multiply and an add that another rounds twice, and each lane runs the same
// IEEE operations. Not with -march already at AVX-512 (nothing to gain), nor with other compilers.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__AVX512F__) && \
    !defined(SDESCORE_NO_TARGET_CLONES)
#define SDESCORE_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define SDESCORE_TARGET_CLONES
#endif

/// The bits of x - x: zero for a finite x (x - x = +0 exactly), those of a NaN for an infinite or NaN x.
/// OR-ed over a step's lanes it screens for a non-finite state with two vector operations a
/// lane (subtract, or) that vectorise in every clone (an integer count of !(|x| <= max) took
/// four in a second pass over the block; a bool |= did not vectorise: "relevant phi not supported").
/// Needs NaNs and infinities honoured (no -ffinite-math-only, which would fold x - x to 0).
#if defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#error "sdescore's engine needs NaNs and infinities honoured: do not build it with -ffinite-math-only or -ffast-math"
#endif
inline std::uint64_t nonfinite_bits(double x) { return std::bit_cast<std::uint64_t>(x - x); }

/// Whether any of the block's own paths (lanes < nb, not the padding lanes: they start from path
/// p0 but draw other streams' normals, so they may diverge where no path does) is non-finite.
inline bool any_nonfinite(const double* xb, std::ptrdiff_t ldz, int dim, std::int64_t nb) {
  for (int d = 0; d < dim; ++d)
    for (std::int64_t i = 0; i < nb; ++i)
      if (!std::isfinite(xb[d * ldz + i])) return true;
  return false;
}

/// Whether the step loop runs on ensemble::Lane (the model and the stepper opted in, lane.hpp).
template <class St, class M>
inline constexpr bool lanes_v = model_generic_scalar_v<M> && stepper_generic_scalar_v<St, M>;

/// Whether a step runs over the whole block in one stepper call (solvers/block.hpp): the model
/// evaluates its drift per block (model files) and the stepper has the matching do_block.
template <class St, class M>
inline constexpr bool block_step_v = requires(const St& st, const M& m, const BlockStep& b) {
  requires BlockModel<M>;
  st.template do_block<Lane>(m, b);
};

/// Steps k_begin .. k_end - 1 of one block held in xb (state_dim rows of ldz, padded lanes
/// included). Normals come in pairs of steps: one Philox call per (path, k / 2) gives the
/// 2 noise_dim variates of steps k and k + 1 (the cosine and the sine of Box-Muller), so
/// step k uses z_{noise_dim (k mod 2) + j}(seed, path, k / 2), j < noise_dim.
/// z: 2 noise_dim rows of ldz. Returns -1, or the first step after which a state is non-finite.
template <class T>
using local_copy_t = std::conditional_t<std::is_trivially_copyable_v<T> && sizeof(T) <= 256, const T, const T&>;

template <class St, class M>
inline __attribute__((always_inline)) std::int64_t step_interval(const St& stepper_in, const M& model_in, const EnsembleOptions& o,
                                                  std::uint64_t stream0, std::int64_t nb, std::int64_t k_begin,
                                                  std::int64_t k_end, double* __restrict z, double* __restrict xb,
                                                  std::ptrdiff_t ldz) {
  constexpr int D = M::state_dim;
  constexpr int Mn = St::template noise_dim<M>;
  // Lane (lane.hpp) keeps Eigen's 2-wide packets out of the per-path code, so the loop over
  // paths vectorises for state_dim >= 2; the same IEEE operations as double.
  using S = std::conditional_t<lanes_v<St, M>, Lane, double>;
  // Local copies (small, trivially copyable models and steppers): the stores to xb cannot alias
  // their parameters, so per-step constants (BAOAB's exp(-gamma dt), ...) leave the path loop.
  const local_copy_t<M> model = model_in;
  const local_copy_t<St> stepper = stepper_in;
  const std::int64_t pad = random::padded_count(nb);
  const double dt = o.dt, sq = std::sqrt(dt);
  for (std::int64_t k = k_begin; k < k_end; ++k) {
    if (k == k_begin || k % 2 == 0)
      random::detail::normal_block_unchecked(o.seed, stream0, nb, static_cast<std::uint64_t>(k / 2), 2 * Mn, z, ldz);
    const double* __restrict zk = z + (k % 2) * Mn * ldz;
    const double t = o.t0 + static_cast<double>(k) * dt;
    // Screen for a non-finite state over all lanes, padding included, in the step's own loop
    // (nonfinite_bits: two vector operations a lane, no second pass over the block); only if it
    // fires, the exact check over the block's own paths decides.
    std::uint64_t screen = 0;
    if constexpr (block_step_v<St, M>) {
      stepper.template do_block<Lane>(model, BlockStep{xb, zk, ldz, pad, t, dt, sq});  // one drift call per chunk of paths
      for (int d = 0; d < D; ++d)
        for (std::int64_t i = 0; i < pad; ++i) screen |= nonfinite_bits(xb[d * ldz + i]);
    } else {
      for (std::int64_t i = 0; i < pad; ++i) {
        Vec<S, D> y;
        for (int d = 0; d < D; ++d) y(d) = S(xb[d * ldz + i]);
        Vec<S, Mn> dW;
        for (int j = 0; j < Mn; ++j) dW(j) = S(sq * zk[j * ldz + i]);
        stepper.do_step(model, y, S(t), dt, dW);
        for (int d = 0; d < D; ++d) {
          const double v = lane_value(y(d));
          xb[d * ldz + i] = v;
          screen |= nonfinite_bits(v);
        }
      }
    }
    if (screen != 0 && any_nonfinite(xb, ldz, D, nb)) return k + 1;
  }
  return -1;
}

/// An exception thrown inside a target_clones function terminates the program with GCC 12 (the
/// clones are treated as nothrow: tests/ensemble/engine.test.cpp "regression: an exception from
/// a stepper ..." aborted). So only steppers whose step cannot throw run through the cloned loop:
/// those declaring `template <class M> static constexpr bool nothrow_step` true for the model
/// (Euler-Maruyama, Milstein, Heun, BAOAB; local linearisation for state_dim 1). Others (local
/// linearisation in D >= 2: its Cholesky may throw on a non-finite covariance; steppers without
/// the trait) run the plain loop, and their exceptions reach the engine's ParallelErrors.
template <class St, class M>
inline constexpr bool clone_step_loop_v = requires { requires St::template nothrow_step<M>; };

template <class St, class M>
SDESCORE_TARGET_CLONES std::int64_t step_interval_cloned(const St& stepper, const M& model, const EnsembleOptions& o,
                                                         std::uint64_t stream0, std::int64_t nb, std::int64_t k_begin,
                                                         std::int64_t k_end, double* __restrict z, double* __restrict xb,
                                                         std::ptrdiff_t ldz) {
  return step_interval(stepper, model, o, stream0, nb, k_begin, k_end, z, xb, ldz);
}

template <class St, class M>
__attribute__((noinline)) std::int64_t step_interval_plain(const St& stepper, const M& model, const EnsembleOptions& o,
                                                           std::uint64_t stream0, std::int64_t nb, std::int64_t k_begin,
                                                           std::int64_t k_end, double* __restrict z, double* __restrict xb,
                                                           std::ptrdiff_t ldz) {
  return step_interval(stepper, model, o, stream0, nb, k_begin, k_end, z, xb, ldz);
}

/// Advances paths [p0, p0 + nb) from step k_begin to k_end. Returns false on a non-finite state
/// (recorded in fail). z: thread-local scratch of 2 noise_dim x ldz normals; xb: thread-local
/// scratch of state_dim x ldz (ldz = nb padded to random::kLanes).
/// The block's state is copied into xb for the interval (no aliasing with the ensemble, stays in
/// L1/L2) and every step runs over the padded width: the padding lanes repeat path p0, so the
/// loop has no scalar remainder and each path takes the same (vector) code path whatever the
/// block size.
template <class St, class M>
bool advance_block(const St& stepper, const M& model, StateMatrix& state, const EnsembleOptions& o, std::int64_t p0,
                   std::int64_t nb, std::int64_t k_begin, std::int64_t k_end, double* __restrict z,
                   double* __restrict xb, std::ptrdiff_t ldz, BlockFailure& fail) {
  constexpr int D = M::state_dim;
  const std::int64_t n = state.n_paths();
  const std::int64_t pad = random::padded_count(nb);
  double* X = state.data().data() + p0;
  for (int d = 0; d < D; ++d) {
    std::copy(X + d * n, X + d * n + nb, xb + d * ldz);
    std::fill(xb + d * ldz + nb, xb + d * ldz + pad, X[d * n]);
  }
  const std::uint64_t stream0 = o.first_path + static_cast<std::uint64_t>(p0);
  std::int64_t bad_step;
  if constexpr (clone_step_loop_v<St, M>)
    bad_step = step_interval_cloned(stepper, model, o, stream0, nb, k_begin, k_end, z, xb, ldz);
  else
    bad_step = step_interval_plain(stepper, model, o, stream0, nb, k_begin, k_end, z, xb, ldz);
  for (int d = 0; d < D; ++d) std::copy(xb + d * ldz, xb + d * ldz + nb, X + d * n);
  if (bad_step < 0) return true;
  for (std::int64_t i = 0; i < nb; ++i)
    for (int d = 0; d < D; ++d)
      if (!std::isfinite(X[d * n + i])) {
        fail.step = bad_step;
        fail.path = p0 + i;
        return false;
      }
  return true;  // not reached: step_interval saw a non-finite lane < nb
}

}  // namespace detail

/// Advances every path of `state` (dim x n_paths, paths first_path ..) by o.n_steps steps from
/// absolute step o.step0, delivering snapshots to `sink` and progress to `progress`.
/// Throws ConfigError for bad options and NumericalError (after the parallel loop, naming the
/// first failing path, step and time) if any path becomes non-finite. Exceptions thrown by
/// the sink or progress callback propagate (they run outside the parallel region).
template <class St, SdeModel M>
  requires Stepper<St, M>
RunSummary simulate(const St& stepper, const M& model, StateMatrix& state, const EnsembleOptions& o,
                    const SnapshotSink& sink = {}, const ProgressFn& progress = {}) {
  constexpr int D = M::state_dim;
  constexpr int Mn = St::template noise_dim<M>;
  if (state.dim() != D)
    throw ConfigError("simulate: state has dim " + std::to_string(state.dim()) + " but model " +
                      std::string(M::name) + " has state_dim " + std::to_string(D));
  detail::check_options(o, D, state.n_paths());
  const std::int64_t n = state.n_paths();
  const std::int64_t B = o.block_size;
  const std::int64_t n_blocks = (n + B - 1) / B;
  const int n_threads = o.n_threads > 0 ? o.n_threads : omp_get_max_threads();
  const std::ptrdiff_t ldz = random::padded_count(B);
  std::optional<StatsAccumulator> acc;
  if (o.stats.enabled) acc.emplace(D, n, o.stats, n_threads);
  std::vector<detail::BlockFailure> fails(static_cast<std::size_t>(n_blocks));

  RunSummary summary;
  const std::int64_t end = o.step0 + o.n_steps;
  auto time_of = [&](std::int64_t k) { return o.t0 + static_cast<double>(k) * o.dt; };
  auto is_snapshot = [&](std::int64_t k) { return o.save_every > 0 && k % o.save_every == 0; };
  auto deliver = [&](std::int64_t k) {
    EnsembleStats st;
    if (acc) st = acc->finish();
    if (sink) sink(Snapshot{k / o.save_every, k, time_of(k), state.view(), acc ? &st : nullptr});
    ++summary.snapshots;
  };
  if (o.emit_initial && is_snapshot(o.step0)) {
    if (acc) {
      acc->reset();
      acc->add_range(state.view(), 0, n, 0);
    }
    deliver(o.step0);
  }

  std::int64_t k = o.step0;
  while (k < end) {
    std::int64_t next = end;
    if (o.save_every > 0) next = std::min(next, (k / o.save_every + 1) * o.save_every);
    if (o.progress_every > 0) next = std::min(next, k + o.progress_every);
    const bool snap = is_snapshot(next);
    const bool stats_now = snap && acc.has_value();
    if (stats_now) acc->reset();
    bool any_fail = false;
    ParallelErrors errors;
#pragma omp parallel num_threads(n_threads) reduction(|| : any_fail)
    {
      std::vector<double> zbuf(static_cast<std::size_t>(2 * Mn) * static_cast<std::size_t>(ldz));
      std::vector<double> xbuf(static_cast<std::size_t>(D) * static_cast<std::size_t>(ldz));
      const int tid = omp_get_thread_num();
#pragma omp for schedule(static)
      for (std::int64_t b = 0; b < n_blocks; ++b) {
        auto& f = fails[static_cast<std::size_t>(b)];
        if (f.path >= 0) continue;  // failed earlier: stays frozen
        const std::int64_t p0 = b * B, nb = std::min(B, n - p0);
        bool ok = false;  // a stepper may throw (e.g. the LL stepper's Cholesky): recorded, raised below
        if (!errors.run(b, [&] { ok = detail::advance_block(stepper, model, state, o, p0, nb, k, next, zbuf.data(), xbuf.data(), ldz, f); }) || !ok) {
          any_fail = true;
          continue;
        }
        if (stats_now) acc->add_range(state.view(), p0, p0 + nb, tid);
      }
    }
    errors.rethrow([&](std::int64_t b) { return detail::describe_block(M::name, St::name, o, b * B, std::min(B, n - b * B), k, next); });
    if (any_fail) {
      detail::BlockFailure first;
      std::int64_t n_failed = 0;
      for (const auto& f : fails)
        if (f.path >= 0) {
          ++n_failed;
          if (f.step < first.step || (f.step == first.step && f.path < first.path)) first = f;
        }
      detail::throw_nonfinite(M::name, St::name, o, state, first, n_failed);
    }
    k = next;
    if (snap) deliver(k);
    if (progress) progress(Progress{n * (k - o.step0), n * o.n_steps, k, time_of(k)});
  }
  summary.final_step = end;
  summary.final_time = time_of(end);
  return summary;
}

}  // namespace sdescore::ensemble
