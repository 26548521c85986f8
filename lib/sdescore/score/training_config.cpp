#include "sdescore/score/training_config.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace sdescore::score {

namespace {

/// Calls f(name, member) for every numeric setting stored in /score_model/training, in the
/// file's key names. One list: file writing, reading and set() all use it.
template <class C, class F>
void numeric_fields(C& c, F&& f) {
  f("steps", c.steps);
  f("batch", c.batch);
  f("groups", c.groups);
  f("pool_size", c.pool_size);
  f("pools", c.n_pools);
  f("reference_size", c.reference_size);
  f("antithetic", c.antithetic);
  f("delta", c.delta);
  f("delta_min", c.delta_min);
  f("delta_max", c.delta_max);
  f("tolerance", c.tolerance);
  f("auto_growth", c.auto_growth);
  f("ito_corrected_mean", c.ito_correction);
  f("holdout_every", c.holdout_every);
  f("lr", c.lr);
  f("lr_final", c.lr_final);
  f("warmup", c.warmup);
  f("clip", c.clip);
  f("ema", c.ema);
  f("probes", c.probes);
  f("time_frequencies", c.time_frequencies);
}

template <class C, class F>
void text_fields(C& c, F&& f) {
  f("objective", c.objective);
  f("weight", c.weight);
  f("schedule", c.schedule);
  f("activation", c.activation);
  f("probe_kind", c.probe_kind);
}

template <class T>
void assign_number(const std::string& name, T& member, double v) {
  if constexpr (std::is_same_v<T, bool>) {
    if (v != 0 && v != 1) throw ConfigError("setting " + name + " = " + detail::fmt_double(v) + " is invalid: it is a switch (0 or 1)");
    member = v != 0;
  } else if constexpr (std::is_integral_v<T>) {
    if (!std::isfinite(v) || v != std::round(v))
      throw ConfigError("setting " + name + " = " + detail::fmt_double(v) + " is invalid: it must be a whole number");
    member = static_cast<T>(v);
  } else {
    member = v;
  }
}

std::string weight_name(WeightKind w) {
  switch (w) {
    case WeightKind::covariance: return "covariance";
    case WeightKind::scalar: return "scalar";
    default: return "none";
  }
}

}  // namespace

TrainingConfig::TrainingConfig(const FitOptions& fo)
    : objective(objective_name(fo.objective)),
      steps(fo.steps),
      batch(fo.batch),
      groups(fo.groups),
      pool_size(fo.pool_size),
      n_pools(fo.n_pools),
      reference_size(fo.target.reference_size),
      antithetic(fo.target.antithetic),
      weight(weight_name(fo.weight)),
      schedule(fo.schedule.kind),
      delta(fo.schedule.delta),
      delta_min(fo.schedule.delta_min),
      delta_max(fo.schedule.delta_max),
      tolerance(fo.schedule.tolerance),
      auto_growth(fo.schedule.auto_elapsed),
      ito_correction(fo.lin.ito_corrected_mean),
      t_min(fo.t_min),
      t_max(fo.t_max),
      holdout_every(fo.holdout_every),
      hidden(fo.arch.hidden),
      activation(nn::activation_name(fo.arch.activation)),
      time_frequencies(fo.arch.time.n_frequencies),
      lr(fo.trainer.schedule.base_lr),
      lr_final(fo.trainer.schedule.final_lr),
      warmup(static_cast<long>(fo.trainer.schedule.warmup_steps)),
      clip(fo.trainer.adam.max_grad_norm),
      ema(fo.trainer.ema.decay),
      probes(fo.trainer.probes_per_sample),
      probe_kind(nn::probe_kind_name(fo.trainer.probe_kind)),
      seed(fo.seed),
      threads(fo.trainer.threads) {}

FitOptions TrainingConfig::fit_options() const {
  FitOptions fo;
  fo.objective = parse_objective(objective);
  fo.steps = steps;
  fo.batch = batch;
  fo.groups = groups;
  fo.pool_size = pool_size;
  fo.n_pools = n_pools;
  fo.target.reference_size = reference_size;
  fo.target.antithetic = antithetic;
  fo.weight = parse_weight(weight);
  fo.lin.ito_corrected_mean = ito_correction;
  fo.schedule.kind = schedule;
  fo.schedule.delta = delta;
  fo.schedule.delta_min = delta_min;
  fo.schedule.delta_max = delta_max;
  fo.schedule.tolerance = tolerance;
  if (!(auto_growth >= 0))  // by its setting's name (ScheduleOptions::validate names the field)
    throw ConfigError("setting auto_growth = " + detail::fmt_double(auto_growth) +
                      " is invalid: it must be >= 0 (the share of the elapsed time Delta grows to; 0: no growth)");
  fo.schedule.auto_elapsed = auto_growth;
  fo.schedule.lin = fo.lin;
  fo.t_min = t_min;
  fo.t_max = t_max;
  fo.holdout_every = holdout_every;
  fo.arch.hidden = hidden;
  fo.arch.activation = nn::parse_activation(activation);
  fo.arch.time.n_frequencies = time_frequencies;
  fo.trainer.adam.max_grad_norm = clip;
  fo.trainer.schedule = nn::LrSchedule::warmup_cosine(lr, std::min<long>(warmup, std::max(0L, steps - 1)), steps, lr_final);
  fo.trainer.ema.decay = ema;
  fo.trainer.probe_kind = nn::parse_probe_kind(probe_kind);
  fo.trainer.probes_per_sample = probes;
  fo.trainer.threads = threads;
  fo.seed = seed;
  return fo;
}

std::map<std::string, double> TrainingConfig::numeric_settings() const {
  std::map<std::string, double> m;
  numeric_fields(*this, [&](const char* k, const auto& v) { m[k] = static_cast<double>(v); });
  return m;
}

std::map<std::string, std::string> TrainingConfig::text_settings() const {
  std::map<std::string, std::string> m;
  text_fields(*this, [&](const char* k, const std::string& v) { m[k] = v; });
  return m;
}

TrainingConfig TrainingConfig::from_settings(const std::map<std::string, double>& num, const std::map<std::string, std::string>& text,
                                             const std::vector<int>& hidden, std::uint64_t seed, double t_min, double t_max,
                                             const std::string& what) {
  TrainingConfig c;
  auto missing = [&](const char* k) {
    return IoError(what + " lacks the training setting '" + k + "': it was not written by this version of scorefit");
  };
  numeric_fields(c, [&](const char* k, auto& v) {
    const auto it = num.find(k);
    if (it == num.end() && std::string_view(k) == "auto_growth") {  // files before it was a setting; what ran is their saved schedule
      assign_number(k, v, 0.0);
      return;
    }
    if (it == num.end()) throw missing(k);
    assign_number(k, v, it->second);
  });
  text_fields(c, [&](const char* k, std::string& v) {
    const auto it = text.find(k);
    if (it == text.end()) throw missing(k);
    v = it->second;
  });
  c.hidden = hidden;
  c.seed = seed;
  c.t_min = t_min;
  c.t_max = t_max;
  return c;
}

std::vector<std::string> TrainingConfig::names() {
  std::vector<std::string> n;
  TrainingConfig c;
  text_fields(c, [&](const char* k, auto&) { n.push_back(k); });
  numeric_fields(c, [&](const char* k, auto&) { n.push_back(k); });
  for (const char* k : {"hidden", "seed", "threads", "t_min", "t_max"}) n.push_back(k);
  return n;
}

namespace {
std::string join_names() {
  std::string s;
  for (const auto& n : TrainingConfig::names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}
}  // namespace

void TrainingConfig::set(const std::string& name, double value) {
  bool done = false;
  numeric_fields(*this, [&](const char* k, auto& v) {
    if (name == k) {
      assign_number(name, v, value);
      done = true;
    }
  });
  if (done) return;
  if (name == "seed") {
    if (!(value >= 0) || value != std::round(value)) throw ConfigError("setting seed = " + detail::fmt_double(value) + " is invalid: it must be a whole number >= 0");
    seed = static_cast<std::uint64_t>(value);
  } else if (name == "threads") {
    assign_number(name, threads, value);
  } else if (name == "t_min") {
    t_min = value;
  } else if (name == "t_max") {
    t_max = value;
  } else {
    bool text = false;
    text_fields(*this, [&](const char* k, auto&) { text = text || name == k; });
    if (text || name == "hidden") throw ConfigError("setting " + name + " takes " + (text ? "a text value" : "a list of widths") + ", not a number");
    throw ConfigError("unknown training setting '" + name + "': valid settings are " + join_names());
  }
}

void TrainingConfig::set(const std::string& name, const std::string& value) {
  bool done = false;
  text_fields(*this, [&](const char* k, std::string& v) {
    if (name == k) {
      v = value;
      done = true;
    }
  });
  if (done) return;
  bool numeric = name == "seed" || name == "threads" || name == "t_min" || name == "t_max";
  numeric_fields(*this, [&](const char* k, auto&) { numeric = numeric || name == k; });
  if (numeric) throw ConfigError("setting " + name + " takes a number, not the text '" + value + "'");
  if (name == "hidden") throw ConfigError("setting hidden takes a list of widths, e.g. [128, 128]");
  throw ConfigError("unknown training setting '" + name + "': valid settings are " + join_names());
}

void TrainingConfig::set(const std::string& name, const std::vector<int>& value) {
  if (name != "hidden") throw ConfigError("setting " + name + " does not take a list (only hidden does)");
  hidden = value;
}

}  // namespace sdescore::score
