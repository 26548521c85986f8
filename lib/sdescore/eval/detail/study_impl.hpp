#pragma once
// Definition of run_study_dim (eval/model_entry.hpp), included only by the units that compile it
// once per shape of additive model (eval/instantiate/dim.cpp.in).
#include <chrono>
#include <cstdio>
#include <cmath>
#include <limits>
#include <optional>

#include "sdescore/core/limits.hpp"
#include "sdescore/ensemble/init.hpp"
#include "sdescore/eval/metrics.hpp"
#include "sdescore/eval/detail/model_entry.hpp"
#include "sdescore/eval/probability_flow.hpp"
#include "sdescore/eval/reverse_sde.hpp"
#include "sdescore/eval/study.hpp"
#include "sdescore/reference/fokker_planck.hpp"
#include "sdescore/reference/refinement.hpp"
#include "sdescore/score/checks.hpp"
#include "sdescore/score/fit.hpp"
#include "sdescore/score/holdout.hpp"

namespace sdescore::eval {

namespace detail {

inline double rms(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return v.empty() ? -1 : std::sqrt(s / v.size());
}

/// Density-weighted relative errors of s and of D s on a reference grid (valid cells only).
template <int N, class M>
std::pair<double, double> grid_errors(const reference::DensitySnapshot<N>& snap, const Eigen::MatrixXd& S, const M& model) {
  double num = 0, den = 0, dnum = 0, dden = 0;
  for (int k = 0; k < snap.grid.size(); ++k) {
    const double p = snap.density(k);
    if (!snap.valid[k] || !(p > 0)) continue;
    const Vec<double, N> y = snap.grid.centre_of(k);
    const Vec<double, N> sr = snap.score_at_cell(k);
    const Vec<double, N> sv = S.row(k).transpose();
    const Mat<double, N, N> D = diffusion_matrix(model, y, snap.t);
    num += p * (sv - sr).squaredNorm();
    den += p * sr.squaredNorm();
    dnum += p * (D * (sv - sr)).squaredNorm();
    dden += p * (D * sr).squaredNorm();
  }
  return {std::sqrt(num / den), std::sqrt(dnum / dden)};
}

/// The Fokker-Planck solver's start: the recorded normal initial law exactly, anything else (or
/// no record) as a kernel density estimate of the first snapshot (Silverman bandwidth per
/// coordinate, at least two cells).
template <class M, int D>
void set_fp_start(reference::FokkerPlanckSolver<M>& fp, const reference::GridSpec<D>& gs, const std::string& initial_law,
                  const Eigen::MatrixXd& S0, const std::string& model_label) {
  ensemble::InitSpec spec;
  try {
    spec = ensemble::parse_init_spec(initial_law);
  } catch (const ConfigError&) {
    spec.kind = ensemble::InitSpec::Kind::file;
  }
  if (spec.kind == ensemble::InitSpec::Kind::normal) {
    const auto v = ensemble::resolve_init_values(spec, D, model_label);
    Vec<double, D> m;
    Mat<double, D, D> C = Mat<double, D, D>::Zero();
    for (int d = 0; d < D; ++d) {
      m(d) = v[2 * d];
      C(d, d) = std::max(v[2 * d + 1] * v[2 * d + 1], 1e-6);
    }
    fp.set_initial_gaussian(m, C);
    return;
  }
  Vec<double, D> bw;
  for (int d = 0; d < D; ++d) {
    const double sd = std::sqrt((S0.col(d).array() - S0.col(d).mean()).square().mean());
    const double cell = (gs.upper[d] - gs.lower[d]) / gs.cells[d];
    bw(d) = std::max(1.06 * sd * std::pow(double(S0.rows()), -0.2), 2 * cell);
  }
  const int nk = std::min<int>(4000, static_cast<int>(S0.rows()));
  fp.set_initial_density([&S0, bw, nk](const Vec<double, D>& y) {
    double acc = 0;
    for (int i = 0; i < nk; ++i) acc += std::exp(-0.5 * ((y - Vec<double, D>(S0.row(i).transpose())).array() / bw.array()).square().sum());
    return acc;
  });
}

}  // namespace detail

template <int D, int N>
StudyResult run_study_dim(const AdditiveModel<D, N>& model, const StudyOptions& o, const score::TrainingData& td,
                          const StudyControl& control) {
  using Clock = std::chrono::steady_clock;
  using M = AdditiveModel<D, N>;
  const score::ModelView<D>& view = model.fields->training();
  o.validate();
  const score::EnsembleData& data = td.data;
  data.validate(D);
  auto poll = [&] {
    if (control.poll) control.poll();
  };
  StudyResult out;
  out.model = td.info.model;
  out.steps = o.train.steps;
  const score::FitOptions base = o.train.fit_options();
  base.validate();
  score::check_fit_settings(base.holdout_every, base.t_min, base.t_max);
  score::check_training_data(view, data, base.holdout_every > 0 ? base.holdout_every : 10, td.file);

  std::vector<std::string> objs = o.objectives;
  if (objs.empty()) {
    objs = {"local-dsm", "ism", "ism-hutchinson"};
    if (view.linear()) objs.push_back("dsm");
  }
  for (const auto& obj : objs) score::parse_objective(obj);  // refuse unknown names before any work

  // evaluation times: snapshot times inside the training range
  const auto [t_lo, t_hi] = score::default_training_range(base, data.times.front(), data.times.back());
  std::vector<int> snap_idx;
  auto nearest = [&](double t) {
    int best = 0;
    for (int k = 0; k < data.n_snapshots(); ++k)
      if (std::abs(data.times[k] - t) < std::abs(data.times[best] - t)) best = k;
    return best;
  };
  std::vector<double> want = o.eval_times;
  if (want.empty())
    for (int k = 0; k < 5; ++k) want.push_back(t_lo + (t_hi - t_lo) * k / 4.0);
  for (double t : want) {
    const int k = nearest(t);
    if (data.times[k] < t_lo - 1e-12 || data.times[k] > t_hi + 1e-12) continue;
    if (snap_idx.empty() || snap_idx.back() != k) snap_idx.push_back(k);
  }
  if (snap_idx.empty())
    throw ConfigError("compare: no snapshot time lies in the training range [" + sdescore::detail::fmt_double(t_lo) + ", " +
                      sdescore::detail::fmt_double(t_hi) + "]: choose evaluation times among the snapshot times");
  std::vector<double>& times = out.times;
  for (int k : snap_idx) times.push_back(data.times[k]);

  // held-out paths (the one rule; none held out is refused), split into two independent halves
  const std::vector<int> hp = score::evaluation_paths(data.n_paths(), o.train.holdout_every, true, "compare");
  std::vector<int> A, B;
  for (std::size_t i = 0; i < hp.size(); ++i) (i % 2 ? B : A).push_back(hp[i]);
  if (A.empty() || B.empty())
    throw ConfigError("compare: " + std::to_string(hp.size()) + " held-out path(s) cannot be split into two halves for the noise floor: "
                      "use more paths or a smaller holdout_every");
  const int nflow = std::min<int>(o.flow_samples, static_cast<int>(std::min(A.size(), B.size())));
  auto take = [&](const std::vector<int>& idx, int k, int n) {
    Eigen::MatrixXd Y(n, D);
    for (int i = 0; i < n; ++i) Y.row(i) = data.states[k].row(idx[i]);
    return Y;
  };

  // Fokker-Planck reference (1D / 2D)
  std::vector<reference::DensitySnapshot<std::min(D, 2)>> snaps;
  if constexpr (D <= 2) {
    reference::GridSpec<D> gs;
    for (int d = 0; d < D; ++d) {
      double lo = 1e300, hi = -1e300;
      for (const auto& S : data.states) {
        lo = std::min(lo, S.col(d).minCoeff());
        hi = std::max(hi, S.col(d).maxCoeff());
      }
      const double pad = 0.15 * (hi - lo) + 1e-3;
      gs.lower[d] = lo - pad;
      gs.upper[d] = hi + pad;
      gs.cells[d] = o.fp_cells.empty() ? (D == 1 ? 1000 : 200) : o.fp_cells[std::min<std::size_t>(d, o.fp_cells.size() - 1)];
    }
    {  // refuse a reference the machine cannot hold, before allocating it (measured 2-4 kB per 2D cell:
       // the sparse LU's fill; the estimate is the low end, so what is refused surely does not fit)
      double n = 1;
      std::string cs;
      for (int d = 0; d < D; ++d) {
        n *= gs.cells[d];
        cs += (d ? " x " : "") + std::to_string(gs.cells[d]);
      }
      require_memory("compare: the Fokker-Planck reference on " + cs + " cells", n * (D == 1 ? 200.0 : 2000.0),
                     "give fewer cells (fp_cells, --fp-cells)");
    }
    reference::FokkerPlanckOptions fo;
    fo.advection = o.fp_advection == "upwind1" ? reference::Advection::upwind1 : reference::Advection::upwind3;
    const double fdt = o.fp_dt > 0 ? o.fp_dt : (D == 1 ? 1e-3 : 5e-3);
    auto solve = [&](const reference::GridSpec<D>& spec) {
      reference::FokkerPlanckSolver<M> fp(model, spec, fo, data.times.front());
      detail::set_fp_start<M, D>(fp, spec, td.info.initial_law, data.states.front(), model.label());
      return fp.solve(times, fdt);
    };
    snaps = solve(gs);
    out.has_reference = true;
    for (int d = 0; d < D; ++d) out.ref_grid_cells.push_back(gs.cells[d]);
    if (o.fp_check) {  // the reference's own error: the same solve on half the cells
      std::optional<reference::GridSpec<D>> half;
      try {
        half = reference::coarser_grid(gs);
      } catch (const ConfigError& e) {
        if (control.warn) control.warn(std::string(e.what()) + ": the reference's own error is not measured");
      }
      if (half) {
        poll();
        const auto coarse = solve(*half);
        for (std::size_t i = 0; i < snaps.size(); ++i) {
          reference::RefinementDifference d{NAN, NAN};
          try {
            d = reference::refinement_difference(model, coarse[i], snaps[i]);
          } catch (const NumericalError& e) {
            if (control.warn) control.warn(e.what());
          }
          out.ref_check_error.push_back(d.full);
          out.ref_check_ds_error.push_back(d.diffusion);
        }
      }
    }
    out.ref_cells.resize(snaps[0].grid.size(), D);
    for (int k = 0; k < snaps[0].grid.size(); ++k) out.ref_cells.row(k) = snaps[0].grid.centre_of(k).transpose();
    for (const auto& s : snaps) {
      out.ref_density.push_back(s.density);
      Eigen::MatrixXd sc(s.grid.size(), D);
      for (int k = 0; k < s.grid.size(); ++k) sc.row(k) = s.score_at_cell(k).transpose();
      out.ref_score.push_back(sc);
    }
  }
  if constexpr (D > 2)
    if (control.warn)
      control.warn("model " + out.model + " has " + std::to_string(D) +
                   " variables: no Fokker-Planck reference (1D and 2D only), so no score errors or time to accuracy; "
                   "the objectives are ranked by held-out ISM and the flow and reverse-SDE sample metrics");
  poll();
  std::vector<SampleRange> ranges;  // where flow samples may be: each time's whole ensemble, padded 5 %
  for (int k : snap_idx) ranges.push_back(SampleRange::of(data.states[k]));
  out.sde_half_a_last = take(A, snap_idx.back(), nflow);
  out.sde_half_b_last = take(B, snap_idx.back(), nflow);
  const int threads = o.train.threads;

  for (const auto& obj : objs)
    for (unsigned long seed : o.seeds) {
      score::TrainingConfig cfg = o.train;
      cfg.objective = obj;
      cfg.seed = seed;
      StudyRun r;
      r.objective = obj;
      r.seed = seed;
      double eval_secs = 0;
      auto score_errors_now = [&](const nn::Mlp<float>& net, bool keep) {
        std::vector<double> e, de;
        if constexpr (D <= 2) {
          for (std::size_t i = 0; i < snaps.size(); ++i) {
            const Eigen::VectorXd T = Eigen::VectorXd::Constant(out.ref_cells.rows(), times[i]);
            const Eigen::MatrixXd S = net.evaluate(out.ref_cells, T, Eigen::VectorXd(), threads);
            const auto [a, b] = detail::grid_errors<D>(snaps[i], S, model);
            e.push_back(a);
            de.push_back(b);
            if (keep) r.score_on_grid.push_back(S);
          }
        }
        return std::make_pair(e, de);
      };
      score::TrainControl tc;
      if (control.start_run) tc.progress = control.start_run(obj, seed);
      tc.heldout_ism = false;
      const auto t0 = Clock::now();
      tc.on_step = [&](long step, const nn::Trainer& tr) {
        if (step % 50 == 0) poll();
        if (!out.has_reference || (step % o.eval_every != 0 && step != cfg.steps)) return;
        const auto e0 = Clock::now();
        const double err = detail::rms(score_errors_now(tr.ema_model(), false).first);
        const double train_s = std::chrono::duration<double>(e0 - t0).count() - eval_secs;
        r.acc_step.push_back(step);
        r.acc_seconds.push_back(train_s);
        r.acc_error.push_back(err);
        if (r.time_to_accuracy < 0 && err <= o.threshold) r.time_to_accuracy = train_s;
        eval_secs += std::chrono::duration<double>(Clock::now() - e0).count();
      };
      const score::ScoreModel fit = score::train_score_dim<D>(view, cfg, td, tc);
      r.train_seconds = std::chrono::duration<double>(Clock::now() - t0).count() - eval_secs;
      r.curve = fit.record().curve;
      const nn::Mlp<float>& net = fit.network();
      const auto [e, de] = score_errors_now(net, true);
      r.score_error = e;
      r.ds_error = de;
      r.final_error = detail::rms(e);
      r.final_ds_error = detail::rms(de);
      r.heldout_ism = score::heldout_ism<D>(net, view, data, o.train.holdout_every, times, 512, seed + 101, threads);
      poll();
      // probability flow from held-out half A at the first time, compared with half B
      auto batch_score = [&](const Eigen::MatrixXd& y, const Eigen::VectorXd& t) { return net.evaluate(y, t, Eigen::VectorXd(), threads); };
      const Eigen::MatrixXd y0 = take(A, snap_idx.front(), nflow);
      FlowOptions flo;
      flo.abs_tol = flo.rel_tol = 1e-5;
      // a sampler that diverges (e.g. the noiseless coordinate of a hypoelliptic model run
      // backwards) is recorded as NaN for this run, not allowed to abort the whole study
      auto failed = [&](const char* what, const std::exception& ex) {
        if (control.warn)
          control.warn(std::string(what) + " for " + obj + " seed " + std::to_string(seed) + " failed: " + ex.what() + " (recorded as NaN)");
      };
      const double nan = std::numeric_limits<double>::quiet_NaN();
      const SampleMetricsWithFloor nan_metrics{{nan, nan}, {nan, nan}, {nan, nan}, {nan, nan}, {nan, nan}};
      try {
        // samples that leave the ensemble's range (physics' rule) are dropped and counted, so
        // that one runaway of nflow cannot dominate the metrics
        const auto flow = integrate_probability_flow_in_range(model, batch_score, y0, times, ranges, flo);
        for (std::size_t i = 0; i < times.size(); ++i)
          r.metrics.push_back(flow.states[i].rows() >= 2
                                  ? compare_samples_with_floor(flow.states[i], take(B, snap_idx[i], nflow), take(A, snap_idx[i], nflow))
                                  : nan_metrics);
        r.flow_outside = flow.outside_fraction;
        r.flow_last = flow.states.back();
      } catch (const NumericalError& ex) {
        failed("the probability flow", ex);
        r.metrics.assign(times.size(), nan_metrics);
        r.flow_outside.assign(times.size(), nan);
      }
      poll();
      // generation: the reverse-time SDE from held-out p_T samples (half A) back to the first
      // time, against half B there (floor: half A's own SDE samples there)
      r.reverse = nan_metrics;  // stays NaN when generation is skipped
      if (times.size() > 1 && o.reverse_steps > 0) {
        ReverseSdeOptions ro;
        ro.steps = o.reverse_steps;
        ro.seed = seed + 7;
        ro.last_step_noise = false;
        Eigen::MatrixXd yT = take(A, snap_idx.back(), nflow);
        if (o.reverse_from_prior)  // exact samples of the stationary law ("the prior"), where known
          yT = model.fields->sample_stationary(seed + 11, nflow);
        try {
          r.reverse_first = reverse_sde_sample(model, batch_score, yT, times.back(), times.front(), ro);
          r.reverse = compare_samples_with_floor(r.reverse_first, take(B, snap_idx.front(), nflow), take(A, snap_idx.front(), nflow));
        } catch (const NumericalError& ex) {
          failed("the reverse SDE", ex);
          r.reverse = nan_metrics;
          r.reverse_first.resize(0, 0);
        }
      }
      if (control.run_done) control.run_done(r);
      out.runs.push_back(std::move(r));
    }
  return out;
}

}  // namespace sdescore::eval
