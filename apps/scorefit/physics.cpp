// scorefit physics: physical observables of a learned score (docs/cli.md, docs/evaluation.md 5):
// the probability-flow velocity v = f - D s, the probability current j = p v on a grid, the
// entropy S(t), its rate dS/dt and the entropy production rate Pi(t) = E[v^T D^+ v], both on the
// SDE ensemble's held-out samples and along the learned probability flow.
#include <omp.h>

#include <algorithm>
#include <cstdio>

#include "apps/common/cli.hpp"
#include "scorefit.hpp"
#include "sdescore/eval/physics.hpp"
#include "sdescore/eval/probability_flow.hpp"
#include "sdescore/io/atomic.hpp"
#include "sdescore/io/h5.hpp"
#include "sdescore/score/score_file.hpp"

namespace sdescore::scorefit {

namespace {

using RowMajor = Eigen::Matrix<double, -1, -1, Eigen::RowMajor>;

void write_vec(io::Group& g, const char* name, const std::vector<double>& v, const char* dim = "time") {
  g.write_array(name, std::span<const double>(v), {v.size()}, {dim});
}

/// Snapshot indices for the requested times (nearest snapshot), inside the trained range.
std::vector<int> pick_snapshots(const score::EnsembleData& data, std::vector<double> want, double t_lo, double t_hi) {
  const double eps = 1e-9 * std::max(1.0, std::abs(t_hi));
  if (want.empty()) {  // every snapshot in the range, thinned to at most 21
    std::vector<int> in;
    for (int k = 0; k < data.n_snapshots(); ++k)
      if (data.times[k] >= t_lo - eps && data.times[k] <= t_hi + eps) in.push_back(k);
    if (in.empty())
      throw ConfigError("physics: no snapshot of the data lies in the trained time range [" + detail::fmt_double(t_lo) + ", " +
                        detail::fmt_double(t_hi) + "]");
    const std::size_t stride = (in.size() + 19) / 20;
    std::vector<int> out;
    for (std::size_t i = 0; i < in.size(); i += stride) out.push_back(in[i]);
    if (out.back() != in.back()) out.push_back(in.back());
    return out;
  }
  std::sort(want.begin(), want.end());
  std::vector<int> out;
  for (double t : want) {
    if (!std::isfinite(t) || t < t_lo - eps || t > t_hi + eps)
      throw ConfigError("physics: time " + detail::fmt_double(t) + " is outside the range the score was trained on, [" +
                        detail::fmt_double(t_lo) + ", " + detail::fmt_double(t_hi) + "]");
    int best = 0;
    for (int k = 0; k < data.n_snapshots(); ++k)
      if (std::abs(data.times[k] - t) < std::abs(data.times[best] - t)) best = k;
    if (data.times[best] < t_lo - eps || data.times[best] > t_hi + eps)
      throw ConfigError("physics: time " + detail::fmt_double(t) + " has no snapshot inside the trained range (nearest: " +
                        detail::fmt_double(data.times[best]) + ")");
    if (out.empty() || out.back() != best) out.push_back(best);
  }
  return out;
}

}  // namespace

int run_physics(const PhysicsOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  io::check_writable_target(o.output, o.force);
  if (o.density != "ensemble" && o.density != "score")
    throw ConfigError("physics: --density '" + o.density + "' is unknown: valid values are ensemble, score");
  if (o.flow_samples < 10)
    throw ConfigError("physics: --flow-samples " + std::to_string(o.flow_samples) + " is invalid: it must be >= 10");
  if (!(o.fd_step > 0)) throw ConfigError("physics: --fd-step " + detail::fmt_double(o.fd_step) + " is invalid: it must be > 0");
  const auto f = score::read_score_file(o.model);
  modelfile::adopt_recorded_model(f.data, o.model);  // a model file: rebuilt from the stored text
  const std::string data_path = o.data.empty() ? f.data_file : o.data;
  io::EnsembleReader reader(data_path, o.ensemble);
  const io::RunInfo info = reader.info();
  if (info.model != f.data.model || info.model_parameters != f.data.model_parameters)
    throw ConfigError("physics: " + data_path + " holds an ensemble of " + info.model + " but the score model was trained on " +
                      f.data.model + " (or other parameters): give --data an ensemble of the same model");
  const score::EnsembleData data = load_ensemble(reader);
  const std::vector<int> snaps = pick_snapshots(data, o.times, f.t_min, f.t_max);
  std::vector<double> times;
  for (int k : snaps) times.push_back(data.times[k]);
  const int holdout = static_cast<int>(f.config.count("holdout_every") ? f.config.at("holdout_every") : 0);

  const nn::Mlp<float> net = load_network(f);
  auto score_fn = [&](const Eigen::MatrixXd& y, const Eigen::VectorXd& t) { return net.evaluate(y, t, Eigen::VectorXd(), o.threads); };

  const std::size_t nt = times.size();
  // on the SDE ensemble (held-out paths)
  std::vector<double> e_pi(nt), e_pi_se(nt), e_speed(nt), e_scale(nt), e_knn(nt);
  // along the flow
  std::vector<double> f_S, f_dS, f_rate, f_pi, f_pi_se, f_speed, f_medium, f_outside;
  double S0 = 0;
  // grid
  int dim = 0;
  eval::NodeGrid grid;
  std::vector<Eigen::VectorXd> g_density;
  std::vector<Eigen::MatrixXd> g_velocity;
  std::vector<double> g_current_l1;
  std::size_t n_held = 0;

  app::visit_model(f.data.model, to_params(f.data.model_parameters), [&](auto& model) {
    using M = std::decay_t<decltype(model)>;
    if constexpr (!is_additive_v<M>) {  // the flow's log-density needs div v, implemented for additive noise
      throw ConfigError("physics: model " + modelfile::model_label(model) +
                        " has state-dependent noise; physics supports additive noise only (eval/probability_flow.hpp)");
    } else {
    constexpr int D = M::state_dim;
    dim = D;
    std::vector<int> held;
    for (int p = 0; p < data.n_paths(); ++p)
      if (holdout <= 0 || p % holdout == holdout - 1) held.push_back(p);
    n_held = held.size();
    auto rows = [&](int k, std::size_t n) {
      n = std::min(n, held.size());
      Eigen::MatrixXd Y(static_cast<Eigen::Index>(n), D);
      for (std::size_t i = 0; i < n; ++i) Y.row(static_cast<Eigen::Index>(i)) = data.states[k].row(held[i]);
      return Y;
    };
    constexpr std::size_t knn_cap = 4000;  // O(n^2) estimator
    for (std::size_t i = 0; i < nt; ++i) {
      const Eigen::MatrixXd Y = rows(snaps[i], held.size());
      const auto ep = eval::entropy_production_rate(model, score_fn, Y, times[i]);
      e_pi[i] = ep.rate;
      e_pi_se[i] = ep.rate_stderr;
      e_speed[i] = ep.mean_speed;
      // drift scale E[f^T D^+ f]: the production of a flow that ignored the score
      const auto zero_score = [](const Eigen::MatrixXd& y, const Eigen::VectorXd&) { return Eigen::MatrixXd::Zero(y.rows(), y.cols()).eval(); };
      e_scale[i] = eval::entropy_production_rate(model, zero_score, Y, times[i]).rate;
      try {
        e_knn[i] = eval::knn_entropy(rows(snaps[i], knn_cap));
      } catch (const NumericalError&) {
        e_knn[i] = -std::numeric_limits<double>::infinity();  // a point mass
      }
    }
    // the learned probability flow from held-out samples of p_{t0}, carrying log p
    if (nt > 1) {
      const Eigen::MatrixXd Y0 = rows(snaps.front(), static_cast<std::size_t>(o.flow_samples));
      eval::FlowOptions flo;
      flo.abs_tol = flo.rel_tol = 1e-5;
      auto jac = eval::finite_difference_score_jacobian(score_fn, o.fd_step);
      S0 = std::isfinite(e_knn.front()) ? eval::knn_entropy(Y0.topRows(std::min<Eigen::Index>(Y0.rows(), knn_cap))) : e_knn.front();
      // The flow runs from one output time to the next. A sample that has left the SDE ensemble's
      // range (padded 5 %) by an output time has entered a region the score was never trained on:
      // it is dropped there, from all later averages and from the ODE (whose adaptive steps
      // would otherwise follow it), and counted in outside_fraction.
      Eigen::MatrixXd Y = Y0;
      Eigen::VectorXd logp = Eigen::VectorXd::Zero(Y0.rows());  // log p_t - log p_t0 along each path
      for (std::size_t i = 0; i < nt; ++i) {
        if (i > 0 && Y.rows() > 0) {
          const auto step = eval::integrate_probability_flow_with_density(model, score_fn, jac, Y, logp, {times[i - 1], times[i]}, flo);
          Y = step.states.back();
          logp = step.log_density.back();
        }
        const Eigen::MatrixXd& all = data.states[snaps[i]];
        const Eigen::RowVectorXd lo = all.colwise().minCoeff(), hi = all.colwise().maxCoeff();
        const Eigen::RowVectorXd pad = 0.05 * (hi - lo);
        std::vector<Eigen::Index> in;
        for (Eigen::Index r = 0; r < Y.rows(); ++r)
          if (Y.row(r).allFinite() && std::isfinite(logp(r)) &&
              !((Y.row(r).array() < (lo - pad).array()) || (Y.row(r).array() > (hi + pad).array())).any())
            in.push_back(r);
        Eigen::MatrixXd Yin(static_cast<Eigen::Index>(in.size()), D);
        Eigen::VectorXd Lin(static_cast<Eigen::Index>(in.size()));
        for (std::size_t k = 0; k < in.size(); ++k) {
          Yin.row(static_cast<Eigen::Index>(k)) = Y.row(in[k]);
          Lin(static_cast<Eigen::Index>(k)) = logp(in[k]);
        }
        Y = std::move(Yin);
        logp = std::move(Lin);
        f_outside.push_back(1.0 - double(Y.rows()) / double(Y0.rows()));
        if (Y.rows() == 0) {
          for (auto* v : {&f_dS, &f_S, &f_rate, &f_pi, &f_pi_se, &f_speed, &f_medium}) v->push_back(std::nan(""));
          continue;
        }
        const auto ep = eval::entropy_production_rate(model, score_fn, Y, times[i]);
        const Eigen::VectorXd Tn = Eigen::VectorXd::Constant(Y.rows(), times[i]);
        const double rate = eval::velocity_divergence_from_jacobian(model, Y, times[i], jac(Y, Tn)).mean();
        f_dS.push_back(-logp.mean());  // S(t) - S(t0) over the samples still in range
        f_S.push_back(S0 - logp.mean());
        f_rate.push_back(rate);
        f_pi.push_back(ep.rate);
        f_pi_se.push_back(ep.rate_stderr);
        f_speed.push_back(ep.mean_speed);
        f_medium.push_back(ep.rate - rate);
      }
    }
    // velocity, density and current on a grid
    if constexpr (D <= 2) {
      auto per_dim = [&](const std::vector<double>& v, const char* what, double def_lo, double def_hi, int a, bool is_lo) {
        if (v.empty()) return is_lo ? def_lo : def_hi;
        if (v.size() == 1) return v[0];
        if (static_cast<int>(v.size()) != D)
          throw ConfigError(std::string("physics: --") + what + " has " + std::to_string(v.size()) + " values: give 1 or " + std::to_string(D));
        return v[a];
      };
      grid.lo.assign(D, 0);
      grid.h.assign(D, 0);
      grid.n.assign(D, 0);
      for (int a = 0; a < D; ++a) {
        double mn = std::numeric_limits<double>::infinity(), mx = -mn;
        for (int k : snaps) {
          mn = std::min(mn, data.states[k].col(a).minCoeff());
          mx = std::max(mx, data.states[k].col(a).maxCoeff());
        }
        const double pad = 0.05 * std::max(mx - mn, 1e-3);
        const double lo = per_dim(o.lo, "lo", mn - pad, mx + pad, a, true), hi = per_dim(o.hi, "hi", mn - pad, mx + pad, a, false);
        const int n = o.n.empty() ? (D == 1 ? 201 : 81) : o.n.size() == 1 ? o.n[0] : (o.n.size() == std::size_t(D) ? o.n[a] : -1);
        if (n < 2) throw ConfigError("physics: --n must give 1 or " + std::to_string(D) + " values, each >= 2");
        if (!(hi > lo)) throw ConfigError("physics: --hi " + detail::fmt_double(hi) + " must exceed --lo " + detail::fmt_double(lo));
        grid.lo[a] = lo;
        grid.h[a] = (hi - lo) / (n - 1);
        grid.n[a] = n;
      }
      const int ny = D == 2 ? grid.n[1] : 1;
      Eigen::MatrixXd P(grid.size(), D);
      for (int i = 0; i < grid.n[0]; ++i)
        for (int j = 0; j < ny; ++j) {
          P(Eigen::Index(i) * ny + j, 0) = grid.lo[0] + grid.h[0] * i;
          if constexpr (D == 2) P(Eigen::Index(i) * ny + j, 1) = grid.lo[1] + grid.h[1] * j;
        }
      for (std::size_t i = 0; i < nt; ++i) {
        const Eigen::MatrixXd V = eval::velocity_field(model, score_fn, P, times[i]);
        const Eigen::VectorXd p = o.density == "score"
                                      ? eval::density_from_score(grid, score_fn(P, Eigen::VectorXd::Constant(P.rows(), times[i])))
                                      : eval::histogram_density(grid, data.states[snaps[i]]);
        g_velocity.push_back(V);
        g_density.push_back(p);
        g_current_l1.push_back((p.asDiagonal() * V).rowwise().norm().sum() * grid.cell_volume());
      }
    }
    }  // is_additive_v<M>
  });

  io::AtomicFile file(o.output, o.force);
  io::Group root = file.root();
  root.set_attr("score_model", o.model);
  root.set_attr("model", f.data.model);
  root.set_attr("data_file", data_path);
  root.set_attr("command_line", o.command_line);
  root.set_attr("trained_t_min", f.t_min);
  root.set_attr("trained_t_max", f.t_max);
  root.set_attr("description",
                std::string("physics of the learned score s: v = f - div D - D s (probability-flow velocity), D = G G^T / 2; "
                            "entropy production Pi = E[v^T D^+ v]; drift_scale = E[f^T D^+ f]; entropy S = -E[log p]; "
                            "medium_entropy_rate = Pi - dS/dt; current j = p v"));
  {
    io::Group g = root.require_group("ensemble");
    g.set_attr("description", std::string("on the SDE ensemble's held-out samples at each snapshot time, with the learned velocity"));
    g.set_attr("samples", static_cast<std::int64_t>(n_held));
    write_vec(g, "time", times);
    write_vec(g, "entropy_production", e_pi);
    write_vec(g, "entropy_production_stderr", e_pi_se);
    write_vec(g, "mean_speed", e_speed);
    write_vec(g, "drift_scale", e_scale);
    write_vec(g, "entropy_knn", e_knn);
  }
  if (nt > 1) {
    io::Group g = root.require_group("flow");
    g.set_attr("description", std::string("along the learned probability flow from held-out samples of p at the first time; "
                                          "log p carried by d log p/dt = -div v (finite-difference score Jacobian); "
                                          "entropy = entropy_knn(t0) + entropy_change; averages over the samples that stayed "
                                          "inside the data's range (outside_fraction: those that left it, dropped from then on)"));
    g.set_attr("samples", static_cast<std::int64_t>(std::min<std::size_t>(n_held, o.flow_samples)));
    g.set_attr("entropy_start_knn", S0);
    write_vec(g, "time", times);
    write_vec(g, "entropy", f_S);
    write_vec(g, "entropy_change", f_dS);
    write_vec(g, "entropy_rate", f_rate);
    write_vec(g, "entropy_production", f_pi);
    write_vec(g, "entropy_production_stderr", f_pi_se);
    write_vec(g, "medium_entropy_rate", f_medium);
    write_vec(g, "mean_speed", f_speed);
    write_vec(g, "outside_fraction", f_outside);
  }
  if (dim <= 2 && !g_velocity.empty()) {
    io::Group g = root.require_group("grid");
    g.set_attr("density_source", o.density == "score" ? std::string("learned score (least-squares potential, normalised on the grid)")
                                                      : std::string("histogram of the SDE ensemble (all paths)"));
    write_vec(g, "time", times);
    const char* names[2] = {"x", "y"};
    std::vector<std::size_t> shape{nt};
    std::vector<std::string> dims{"time"};
    for (int a = 0; a < dim; ++a) {
      std::vector<double> c(grid.n[a]);
      for (int i = 0; i < grid.n[a]; ++i) c[i] = grid.lo[a] + grid.h[a] * i;
      write_vec(g, names[a], c, names[a]);
      shape.push_back(grid.n[a]);
      dims.push_back(names[a]);
    }
    std::vector<double> dens;
    for (const auto& p : g_density) dens.insert(dens.end(), p.data(), p.data() + p.size());
    g.write_array("density", std::span<const double>(dens), shape, dims);
    shape.push_back(dim);
    dims.push_back("component");
    std::vector<double> vel, cur;
    for (std::size_t i = 0; i < nt; ++i) {
      const RowMajor V = g_velocity[i];
      const RowMajor J = g_density[i].asDiagonal() * g_velocity[i];
      vel.insert(vel.end(), V.data(), V.data() + V.size());
      cur.insert(cur.end(), J.data(), J.data() + J.size());
    }
    g.write_array("velocity", std::span<const double>(vel), shape, dims);
    g.write_array("current", std::span<const double>(cur), shape, dims);
    write_vec(g, "current_l1", g_current_l1);
  }
  file.commit();
  if (!o.quiet) {
    std::printf("scorefit: wrote %s (%zu times in [%g, %g])\n", o.output.c_str(), nt, times.front(), times.back());
    std::printf("%10s %14s %14s %12s %14s\n", "t", "Pi(ensemble)", "drift scale", "dS/dt(flow)", "flow outside");
    for (std::size_t i = 0; i < nt; ++i)
      std::printf("%10.4g %14.4g %14.4g %12.4g %13.1f%%\n", times[i], e_pi[i], e_scale[i], nt > 1 ? f_rate[i] : std::nan(""),
                  nt > 1 ? 100 * f_outside[i] : std::nan(""));
    if (nt > 1 && *std::max_element(f_outside.begin(), f_outside.end()) > 0.01)
      std::printf("scorefit: warning: some probability-flow samples left the data's range (column 'flow outside'); they are "
                  "dropped from the /flow averages from then on (a sign of score errors where data are sparse)\n");
  }
  return cli::ok;
}

}  // namespace sdescore::scorefit
