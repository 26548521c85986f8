#include "sdescore/score/score_file.hpp"

#include "sdescore/io/atomic.hpp"
#include "sdescore/io/h5.hpp"
#include "sdescore/version.hpp"

namespace sdescore::score {

namespace {
constexpr const char* kFormat = "sdescore-score-model";

}  // namespace

void write_score_file(const std::filesystem::path& path, const ScoreModelFile& f, bool overwrite) {
  io::AtomicFile file(path, overwrite);
  io::Group root = file.root();
  // provenance of the data (model, parameters, stepper, dt, seed of the simulation, ...)
  io::write_run_info(root, f.data);
  io::Group sm = root.require_group("score_model");
  sm.set_attr("format", std::string(kFormat));
  sm.set_attr("format_version", kScoreFormatVersion);
  sm.set_attr("sdescore_version", std::string(sdescore::version));
  sm.set_attr("objective", f.objective);
  sm.set_attr("data_file", f.data_file);
  sm.set_attr("command_line", f.command_line);
  sm.set_attr("seed", f.seed);
  sm.set_attr("t_min", f.t_min);
  sm.set_attr("t_max", f.t_max);
  sm.set_attr("training_seconds", f.seconds);
  sm.set_attr("heldout_ism", f.heldout_ism);
  sm.set_attr("max_cholesky_jitter", f.max_jitter);
  sm.set_attr("ism_coordinates", f.ism_coordinates);
  sm.set_attr("initial_loss", f.initial_loss);
  sm.set_attr("steps_done", f.steps_done);
  sm.set_attr("ema_updates", f.ema_updates);

  io::Group net = sm.require_group("network");
  net.set_attr("input_dim", std::int64_t{f.arch.input_dim});
  net.set_attr("output_dim", std::int64_t{f.arch.output_dim});
  net.set_attr("hidden", std::vector<std::int64_t>(f.arch.hidden.begin(), f.arch.hidden.end()));
  net.set_attr("activation", std::string(nn::activation_name(f.arch.activation)));
  net.set_attr("time_frequencies", std::int64_t{f.arch.time.n_frequencies});
  net.set_attr("time_t_max", f.arch.time.t_max);
  net.set_attr("time_scale", std::string(nn::time_scale_name(f.arch.time.scale)));
  net.set_attr("time_t_min", f.arch.time.t_min);
  const std::size_t P = f.ema_parameters.size();
  net.write_array("ema_parameters", std::span<const float>(f.ema_parameters), {P}, {"parameter"});
  if (!f.raw_parameters.empty()) net.write_array("raw_parameters", std::span<const float>(f.raw_parameters), {P}, {"parameter"});
  if (!f.adam_m.empty()) {
    net.write_array("adam_m", std::span<const float>(f.adam_m), {P}, {"parameter"});
    net.write_array("adam_v", std::span<const float>(f.adam_v), {P}, {"parameter"});
  }

  io::Group tr = sm.require_group("training");
  for (const auto& [k, v] : f.config) tr.set_attr(k, v);
  for (const auto& [k, v] : f.config_text) tr.set_attr(k, v);
  if (!f.curve.empty()) {
    std::vector<std::int64_t> step;
    std::vector<double> loss, lr, secs, ess;
    for (const auto& p : f.curve) {
      ess.push_back(p.ess);
      step.push_back(p.step);
      loss.push_back(p.loss);
      lr.push_back(p.lr);
      secs.push_back(p.seconds);
    }
    const std::size_t n = step.size();
    io::Group lc = tr.require_group("loss_curve");
    lc.write_array("step", std::span<const std::int64_t>(step), {n}, {"step"});
    lc.write_array("loss", std::span<const double>(loss), {n}, {"step"});
    lc.write_array("learning_rate", std::span<const double>(lr), {n}, {"step"});
    lc.write_array("seconds", std::span<const double>(secs), {n}, {"step"});
    lc.write_array("ess", std::span<const double>(ess), {n}, {"step"});
  }

  io::Group sc = sm.require_group("schedule");
  sc.set_attr("kind", f.schedule.kind);
  sc.set_attr("tolerance", f.schedule.tolerance);
  if (f.schedule.kind == "auto") {
    sc.set_attr("relaxation_time", f.schedule.relaxation);
    sc.set_attr("base_delta", f.schedule.base_delta);
  }
  const std::size_t n = f.schedule.t.size();
  if (n > 0) {
    const int d = static_cast<int>(f.schedule.sigma_bar[0].rows());
    std::vector<double> sb;
    for (const auto& m : f.schedule.sigma_bar)
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) sb.push_back(m(i, j));
    sc.write_array("time", std::span<const double>(f.schedule.t), {n}, {"time"});
    sc.write_array("delta", std::span<const double>(f.schedule.delta), {n}, {"time"});
    sc.write_array("local_error", std::span<const double>(f.schedule.local_error), {n}, {"time"});
    sc.write_array("sigma_bar", std::span<const double>(sb), {n, std::size_t(d), std::size_t(d)}, {"time", "row", "col"});
  }
  file.commit();
}

ScoreModelFile read_score_file(const std::filesystem::path& path) {
  io::Group root = io::open_file(path);
  if (!root.has_group("score_model") || !root.group("score_model").has_attr("format") ||
      root.group("score_model").attr_string("format") != kFormat)
    throw IoError("file " + path.string() + " is not an sdescore score model (no /score_model group with format = " +
                  kFormat + "): make one with `scorefit train`");
  ScoreModelFile f;
  f.data = io::read_run_info(root);
  io::Group sm = root.group("score_model");
  f.format_version = sm.has_attr("format_version") ? sm.attr_int64("format_version") : 1;
  f.objective = sm.attr_string("objective");
  f.data_file = sm.attr_string("data_file");
  f.command_line = sm.attr_string("command_line");
  f.seed = sm.attr_uint64("seed");
  f.t_min = sm.attr_double("t_min");
  f.t_max = sm.attr_double("t_max");
  f.seconds = sm.attr_double("training_seconds");
  f.heldout_ism = sm.attr_double("heldout_ism");
  f.max_jitter = sm.attr_double("max_cholesky_jitter");
  f.ism_coordinates = sm.has_attr("ism_coordinates") ? sm.attr_string("ism_coordinates") : std::string();  // optional (older files)
  f.initial_loss = sm.has_attr("initial_loss") ? sm.attr_double("initial_loss") : std::nan("");  // optional (older files)
  f.steps_done = sm.attr_int64("steps_done");
  f.ema_updates = sm.attr_int64("ema_updates");

  io::Group net = sm.group("network");
  f.arch.input_dim = static_cast<int>(net.attr_int64("input_dim"));
  f.arch.output_dim = static_cast<int>(net.attr_int64("output_dim"));
  f.arch.hidden.clear();
  {
    const auto v = std::get<std::vector<std::int64_t>>(net.attr("hidden"));
    for (auto h : v) f.arch.hidden.push_back(static_cast<int>(h));
  }
  f.arch.activation = nn::parse_activation(net.attr_string("activation"));
  f.arch.time.n_frequencies = static_cast<int>(net.attr_int64("time_frequencies"));
  f.arch.time.t_max = net.attr_double("time_t_max");
  f.arch.time.scale = nn::parse_time_scale(net.attr_string("time_scale"));
  f.arch.time.t_min = net.attr_double("time_t_min");
  auto floats = [&](const std::string& name) {
    const auto a = net.read_array<float>(name);
    return std::vector<float>(a.data.begin(), a.data.end());
  };
  f.ema_parameters = floats("ema_parameters");
  if (static_cast<std::int64_t>(f.ema_parameters.size()) != f.arch.num_parameters())
    throw IoError("score model " + path.string() + ": ema_parameters has " + std::to_string(f.ema_parameters.size()) +
                  " entries but the architecture needs " + std::to_string(f.arch.num_parameters()));
  if (net.has_dataset("raw_parameters")) f.raw_parameters = floats("raw_parameters");
  if (net.has_dataset("adam_m")) {
    f.adam_m = floats("adam_m");
    f.adam_v = floats("adam_v");
  }

  io::Group tr = sm.group("training");
  for (const auto& name : tr.attr_names()) {
    const auto v = tr.attr(name);
    if (std::holds_alternative<double>(v))
      f.config[name] = std::get<double>(v);
    else if (std::holds_alternative<std::string>(v))
      f.config_text[name] = std::get<std::string>(v);
  }
  if (tr.has_group("loss_curve")) {
    io::Group lc = tr.group("loss_curve");
    const auto step = lc.read_array<std::int64_t>("step");
    const auto loss = lc.read_array<double>("loss");
    const auto lr = lc.read_array<double>("learning_rate");
    const auto secs = lc.read_array<double>("seconds");
    std::vector<double> ess(step.data.size(), 1.0);
    if (lc.has_dataset("ess")) ess = lc.read_array<double>("ess").data;
    for (std::size_t i = 0; i < step.data.size(); ++i)
      f.curve.push_back({static_cast<long>(step.data[i]), loss.data[i], lr.data[i], secs.data[i], ess.at(i)});
  }
  io::Group sc = sm.group("schedule");
  f.schedule.kind = sc.attr_string("kind");
  f.schedule.tolerance = sc.attr_double("tolerance");
  if (sc.has_attr("relaxation_time")) f.schedule.relaxation = sc.attr_double("relaxation_time");
  if (sc.has_attr("base_delta")) f.schedule.base_delta = sc.attr_double("base_delta");
  if (sc.has_dataset("time")) {
    f.schedule.t = sc.read_array<double>("time").data;
    f.schedule.delta = sc.read_array<double>("delta").data;
    f.schedule.local_error = sc.read_array<double>("local_error").data;
    const auto sb = sc.read_array<double>("sigma_bar");
    const int d = static_cast<int>(sb.shape[1]);
    for (std::size_t k = 0; k < f.schedule.t.size(); ++k)
      f.schedule.sigma_bar.push_back(Eigen::Map<const Eigen::Matrix<double, -1, -1, Eigen::RowMajor>>(sb.data.data() + k * d * d, d, d));
  }
  return f;
}

void require_resumable(const ScoreModelFile& f, const std::string& path) {
  if (f.format_version != kScoreFormatVersion)
    throw IoError("score model file " + path + " has format_version " + std::to_string(f.format_version) +
                  ": it can be evaluated but not resumed (resuming needs format_version " + std::to_string(kScoreFormatVersion) +
                  ", whose training draws differ); start a new run");
  if (f.raw_parameters.empty() || f.adam_m.empty() || f.adam_v.empty())
    throw IoError("score model file " + path + " has no optimiser state (raw weights and Adam moments): it cannot be resumed");
}

}  // namespace sdescore::score
