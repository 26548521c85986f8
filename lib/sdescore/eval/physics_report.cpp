#include "sdescore/eval/physics_report.hpp"

#include "sdescore/app/registry.hpp"
#include "sdescore/io/atomic.hpp"
#include "sdescore/io/h5.hpp"

namespace sdescore::eval {

void PhysicsOptions::validate() const {
  if (density != "ensemble" && density != "score")
    throw ConfigError("physics: --density '" + density + "' is unknown: valid values are ensemble, score");
  if (flow_samples < 10) throw ConfigError("physics: --flow-samples " + std::to_string(flow_samples) + " is invalid: it must be >= 10");
  if (!(fd_step > 0)) throw ConfigError("physics: --fd-step " + sdescore::detail::fmt_double(fd_step) + " is invalid: it must be > 0");
}

PhysicsResult compute_physics(const score::ScoreModel& fit, const score::TrainingData& data, const PhysicsOptions& opt,
                              const std::function<void()>& poll) {
  opt.validate();
  const auto& trained = fit.record().data;
  if (data.info.model != trained.model || data.info.model_parameters != trained.model_parameters)
    throw ConfigError("physics: " + (data.file.empty() ? std::string("the ensemble") : data.file) + " holds an ensemble of " + data.info.model +
                      " but the score model was trained on " + trained.model +
                      " (or other parameters): give --data an ensemble of the same model");
  std::vector<app::ParamValue> params;
  for (const auto& [k, v] : trained.model_parameters) params.push_back({k, v});
  return app::visit_model(trained.model, params, [&](auto& model) { return compute_physics_for(model, fit, data, opt, poll); });
}

namespace {
void write_vec(io::Group& g, const char* name, const std::vector<double>& v, const char* dim = "time") {
  g.write_array(name, std::span<const double>(v), {v.size()}, {dim});
}
}  // namespace

void write_physics(const PhysicsResult& r, const std::filesystem::path& output, bool overwrite, const std::string& score_model_file,
                   const std::string& data_file, const std::string& command_line) {
  using RowMajor = Eigen::Matrix<double, -1, -1, Eigen::RowMajor>;
  io::AtomicFile file(output, overwrite);
  io::Group root = file.root();
  const std::size_t nt = r.times.size();
  root.set_attr("score_model", score_model_file);
  root.set_attr("model", r.model);
  root.set_attr("data_file", data_file);
  root.set_attr("command_line", command_line);
  root.set_attr("trained_t_min", r.trained_t_min);
  root.set_attr("trained_t_max", r.trained_t_max);
  root.set_attr("description",
                std::string("physics of the learned score s: v = f - div D - D s (probability-flow velocity), D = G G^T / 2; "
                            "entropy production Pi = E[v^T D^+ v]; drift_scale = E[f^T D^+ f]; entropy S = -E[log p]; "
                            "medium_entropy_rate = Pi - dS/dt; current j = p v"));
  {
    io::Group g = root.require_group("ensemble");
    g.set_attr("description", std::string("on the SDE ensemble's held-out samples at each snapshot time, with the learned velocity "
                                          "(every path of an independent ensemble)"));
    g.set_attr("samples", static_cast<std::int64_t>(r.ensemble_samples));
    write_vec(g, "time", r.times);
    write_vec(g, "entropy_production", r.entropy_production);
    write_vec(g, "entropy_production_stderr", r.entropy_production_stderr);
    write_vec(g, "mean_speed", r.mean_speed);
    write_vec(g, "drift_scale", r.drift_scale);
    write_vec(g, "entropy_knn", r.entropy_knn);
  }
  if (r.has_flow) {
    io::Group g = root.require_group("flow");
    g.set_attr("description", std::string("along the learned probability flow from held-out samples of p at the first time; "
                                          "log p carried by d log p/dt = -div v (finite-difference score Jacobian); "
                                          "entropy = entropy_knn(t0) + entropy_change; averages over the samples that stayed "
                                          "inside the data's range (outside_fraction: those that left it, dropped from then on)"));
    g.set_attr("samples", static_cast<std::int64_t>(r.flow_samples));
    g.set_attr("entropy_start_knn", r.entropy_start_knn);
    write_vec(g, "time", r.times);
    write_vec(g, "entropy", r.flow_entropy);
    write_vec(g, "entropy_change", r.flow_entropy_change);
    write_vec(g, "entropy_rate", r.flow_entropy_rate);
    write_vec(g, "entropy_production", r.flow_entropy_production);
    write_vec(g, "entropy_production_stderr", r.flow_entropy_production_stderr);
    write_vec(g, "medium_entropy_rate", r.flow_medium_entropy_rate);
    write_vec(g, "mean_speed", r.flow_mean_speed);
    write_vec(g, "outside_fraction", r.flow_outside_fraction);
  }
  if (r.has_grid && !r.velocity.empty()) {
    const int dim = r.grid.dim();
    io::Group g = root.require_group("grid");
    g.set_attr("density_source", r.density_source);
    write_vec(g, "time", r.times);
    const char* names[2] = {"x", "y"};
    std::vector<std::size_t> shape{nt};
    std::vector<std::string> dims{"time"};
    for (int a = 0; a < dim; ++a) {
      std::vector<double> c(r.grid.n[a]);
      for (int i = 0; i < r.grid.n[a]; ++i) c[i] = r.grid.lo[a] + r.grid.h[a] * i;
      write_vec(g, names[a], c, names[a]);
      shape.push_back(r.grid.n[a]);
      dims.push_back(names[a]);
    }
    std::vector<double> dens;
    for (const auto& p : r.density) dens.insert(dens.end(), p.data(), p.data() + p.size());
    g.write_array("density", std::span<const double>(dens), shape, dims);
    shape.push_back(dim);
    dims.push_back("component");
    std::vector<double> vel, cur;
    for (std::size_t i = 0; i < nt; ++i) {
      const RowMajor V = r.velocity[i];
      const RowMajor J = r.density[i].asDiagonal() * r.velocity[i];
      vel.insert(vel.end(), V.data(), V.data() + V.size());
      cur.insert(cur.end(), J.data(), J.data() + J.size());
    }
    g.write_array("velocity", std::span<const double>(vel), shape, dims);
    g.write_array("current", std::span<const double>(cur), shape, dims);
    write_vec(g, "current_l1", r.current_l1);
  }
  file.commit();
}

}  // namespace sdescore::eval
