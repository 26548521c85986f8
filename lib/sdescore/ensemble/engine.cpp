#include "sdescore/ensemble/engine.hpp"

#include <sstream>

#include "sdescore/core/limits.hpp"

namespace sdescore::ensemble::detail {

using sdescore::detail::fmt_double;

void check_options(const EnsembleOptions& o, int dim, std::int64_t n_paths) {
  check_step_size(o.dt);
  require_finite("t0", o.t0);
  if (o.n_steps < 0) throw ConfigError("n_steps = " + std::to_string(o.n_steps) + " is invalid: it must be >= 0");
  if (o.step0 < 0) throw ConfigError("step0 = " + std::to_string(o.step0) + " is invalid: it must be >= 0");
  if (static_cast<std::uint64_t>(o.step0) + static_cast<std::uint64_t>(o.n_steps) >= kInitCounterBase)
    throw ConfigError("step0 + n_steps must be < 2^63 (larger counters are reserved for initial laws)");
  if (o.save_every < 0)
    throw ConfigError("save_every = " + std::to_string(o.save_every) + " is invalid: it must be >= 0 (0: no snapshots)");
  if (o.progress_every < 0)
    throw ConfigError("progress_every = " + std::to_string(o.progress_every) + " is invalid: it must be >= 0");
  if (o.block_size < kStatsChunk || o.block_size % kStatsChunk != 0 || o.block_size > (1 << 20))
    throw ConfigError("block_size = " + std::to_string(o.block_size) +
                      " is invalid: it must be a positive multiple of 64 (e.g. 64..512), at most 2^20");
  check_threads("n_threads", o.n_threads);  // 0 (OpenMP default) or 1..max_threads()
  if (o.first_path >= random::kMaxStreams || static_cast<std::uint64_t>(n_paths) > random::kMaxStreams - o.first_path)
    throw ConfigError("paths [" + std::to_string(o.first_path) + ", " +
                      std::to_string(o.first_path + static_cast<std::uint64_t>(n_paths)) +
                      ") exceed the 32-bit path index range (path indices must be < 2^32)");
  if (o.stats.enabled) o.stats.validate(dim);
  (void)random::simd_target();  // reads SDESCORE_SIMD_TARGET now: a bad value is a ConfigError here
}

std::string describe_block(std::string_view model, std::string_view stepper, const EnsembleOptions& o, std::int64_t p0,
                           std::int64_t nb, std::int64_t k0, std::int64_t k1) {
  std::ostringstream os;
  os << "a " << stepper << " step of model " << model << " failed on paths [" << (o.first_path + static_cast<std::uint64_t>(p0))
     << ", " << (o.first_path + static_cast<std::uint64_t>(p0 + nb)) << ") between steps " << k0 << " and " << k1 << " (t = "
     << fmt_double(o.t0 + static_cast<double>(k0) * o.dt) << " .. " << fmt_double(o.t0 + static_cast<double>(k1) * o.dt)
     << ", dt = " << fmt_double(o.dt) << ", seed " << o.seed << ")";
  return os.str();
}

void throw_nonfinite(std::string_view model, std::string_view stepper, const EnsembleOptions& o,
                     const StateMatrix& state, const BlockFailure& first, std::int64_t n_failed_blocks) {
  std::ostringstream os;
  os << "non-finite state in path " << (o.first_path + static_cast<std::uint64_t>(first.path)) << " at step "
     << first.step << " (t = " << fmt_double(o.t0 + static_cast<double>(first.step) * o.dt) << "): y = (";
  for (int d = 0; d < state.dim(); ++d) os << (d ? ", " : "") << fmt_double(state(d, first.path));
  os << ") after a " << stepper << " step of model " << model << " with dt = " << fmt_double(o.dt) << " (seed "
     << o.seed << "); " << n_failed_blocks
     << " block(s) of paths failed. The path diverged: try a smaller dt or a more stable stepper.";
  throw NumericalError(os.str());
}

}  // namespace sdescore::ensemble::detail
