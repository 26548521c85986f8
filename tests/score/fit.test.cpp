// End to end on OU (exact answer known): every objective recovers the analytic score.
#include <doctest/doctest.h>

#include <cstring>
#include <optional>
#include <random>
#include <thread>

#include "sdescore/models/double_well.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/score/fit.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"
#include "support/thread_group.hpp"

using namespace sdescore;
using namespace sdescore::score;

namespace fit_test {  // the whole file: its helpers must not meet another file's in a unity batch

models::OU1 ou;
const double m0 = 1.0, v0 = 0.04;

/// Snapshots at t = 0, 0.05, ..., 1 sampled exactly from the OU transition, path by path.
EnsembleData exact_ou_ensemble(int n_paths, unsigned long seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  EnsembleData e;
  e.dt = 1e-3;
  const int K = 21;
  Eigen::VectorXd y(n_paths);
  for (int p = 0; p < n_paths; ++p) y(p) = m0 + std::sqrt(v0) * nd(rng);
  for (int k = 0; k < K; ++k) {
    const double t = 0.05 * k;
    if (k > 0) {
      const double h = 0.05, a = std::exp(-h), sd = std::sqrt(ou.exact_covariance(h)(0, 0));
      for (int p = 0; p < n_paths; ++p) y(p) = a * y(p) + sd * nd(rng);
    }
    e.times.push_back(t);
    e.states.push_back(y);
  }
  return e;
}

double exact_score(double y, double t) {
  const double mt = std::exp(-t) * m0, vt = std::exp(-2 * t) * v0 + ou.exact_covariance(t)(0, 0);
  return -(y - mt) / vt;
}

/// Relative L2 error sqrt(E|s - s*|^2 / E|s*|^2) under p_t on held-out exact samples, t in [0.1, 1].
double relative_error(const nn::Trainer& tr, unsigned long seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  const int n = 4000;
  Eigen::MatrixXd y(n, 1);
  Eigen::VectorXd t(n);
  for (int i = 0; i < n; ++i) {
    t(i) = 0.1 + 0.9 * (i % 100) / 99.0;
    const double mt = std::exp(-t(i)) * m0, vt = std::exp(-2 * t(i)) * v0 + ou.exact_covariance(t(i))(0, 0);
    y(i, 0) = mt + std::sqrt(vt) * nd(rng);
  }
  const Eigen::MatrixXd s = tr.evaluate(y, t);
  double num = 0, den = 0;
  for (int i = 0; i < n; ++i) {
    const double ref = exact_score(y(i, 0), t(i));
    num += (s(i, 0) - ref) * (s(i, 0) - ref);
    den += ref * ref;
  }
  return std::sqrt(num / den);
}

FitOptions small_options(Objective o) {
  FitOptions opt;
  opt.objective = o;
  opt.steps = 1500;
  opt.batch = 256;
  opt.groups = 8;
  opt.pool_size = 256;
  opt.n_pools = 32;
  opt.target.reference_size = 256;
  opt.schedule.kind = "fixed";
  opt.schedule.delta = 0.02;
  opt.schedule.grid = 16;
  opt.schedule.samples = 32;
  opt.t_min = 0.1;
  opt.t_max = 1.0;
  opt.arch.hidden = {64, 64};
  opt.trainer.schedule = nn::LrSchedule::warmup_cosine(3e-3, 100, opt.steps, 1e-4);
  opt.trainer.ema.decay = 0.99;
  return opt;
}


TEST_CASE("on OU, local-DSM, DSM, ISM and ISM-Hutchinson all recover the analytic score") {
  const auto data = exact_ou_ensemble(5000, 1);
  for (Objective o : {Objective::local_dsm, Objective::dsm, Objective::ism, Objective::ism_hutchinson}) {
    const auto res = fit_score(ou, EulerMaruyama{}, data, small_options(o));
    const double err = relative_error(res.trainer, 2);
    MESSAGE(objective_name(o), ": relative L2 score error ", err, " after ", res.trainer.steps(), " steps in ", res.seconds, " s");
    // A 64x64 MLP after 1500 steps: the errors measured are 0.01-0.05; 0.1 flags a real defect
    // (a wrong sign, scale or time convention gives errors of order 1).
    CHECK(err < (o == Objective::ism_hutchinson ? 0.15 : 0.1));
    CHECK(res.curve.size() > 1);
  }
}

TEST_CASE("objective/model mismatch and bad options are rejected with clear messages") {
  const auto data = exact_ou_ensemble(200, 3);
  models::DoubleWell dw;
  FitOptions opt = small_options(Objective::dsm);
  CHECK_THROWS_WITH_AS(fit_score(dw, EulerMaruyama{}, data, opt), doctest::Contains("objective dsm needs a closed-form transition"),
                       ConfigError);
  opt = small_options(Objective::local_dsm);
  opt.groups = 7;
  CHECK_THROWS_WITH_AS(fit_score(ou, EulerMaruyama{}, data, opt), doctest::Contains("groups = 7 is invalid"), ConfigError);
  opt = small_options(Objective::local_dsm);
  opt.target.reference_size = 5000;
  CHECK_THROWS_WITH_AS(fit_score(ou, EulerMaruyama{}, data, opt), doctest::Contains("reference size R = 5000 is invalid"), ConfigError);
  opt = small_options(Objective::local_dsm);
  opt.t_max = 3.0;
  CHECK_THROWS_WITH_AS(fit_score(ou, EulerMaruyama{}, data, opt), doctest::Contains("time range"), ConfigError);
  CHECK_THROWS_WITH_AS(parse_objective("sm"), doctest::Contains("valid objectives are local-dsm, local-dsm-plain, local-dsm-ism, ism, ism-hutchinson, dsm"),
                       ConfigError);
}

// ---- fit_score over a process group (threads as processes, support/thread_group.hpp) ----

/// Options where a pool installed one step early or late changes the bits: as many pools as
/// time groups (every pool serves every batch), a batch of 4 network chunks (up to 4 processes).
FitOptions group_options() {
  FitOptions opt = small_options(Objective::local_dsm);
  opt.steps = 40;
  opt.batch = 256;
  opt.groups = 4;
  opt.n_pools = 4;
  opt.pool_size = 64;
  opt.target.reference_size = 64;
  opt.arch.hidden = {16, 16};
  opt.log_every = 10;
  opt.trainer.chunk_size = 64;
  opt.trainer.threads = 1;
  opt.trainer.schedule = nn::LrSchedule::warmup_cosine(3e-3, 5, opt.steps, 1e-4);
  return opt;
}

/// The trained state as bytes: parameters, Adam moments, EMA and the loss curve.
std::vector<float> state_of(const nn::Trainer& tr, const std::vector<LossPoint>& curve) {
  std::vector<float> out = test::trainer_state(tr);
  for (const auto& p : curve) {
    float f[2];
    std::memcpy(f, &p.loss, sizeof p.loss);
    out.insert(out.end(), f, f + 2);
  }
  return out;
}

/// A resumable state from a result (what the score file keeps).
std::shared_ptr<const FitState> state_from(const FitResult& r) {
  auto s = std::make_shared<FitState>();
  const auto& tr = r.trainer;
  s->schedule = r.schedule;
  s->t_min = r.t_min;
  s->t_max = r.t_max;
  s->raw_parameters = tr.model().flat_parameters();
  s->ema_parameters = tr.ema_model().flat_parameters();
  const auto& m = tr.optimizer().first_moment();
  const auto& v = tr.optimizer().second_moment();
  s->adam_m.assign(m.data(), m.data() + m.size());
  s->adam_v.assign(v.data(), v.data() + v.size());
  s->steps_done = tr.steps();
  s->ema_updates = tr.ema().updates();
  s->curve = r.curve;
  s->max_jitter = r.max_jitter;
  s->initial_loss = r.initial_loss;
  return s;
}

/// Every process's outcome of fit_score over a group of n threads: its state, or its error.
struct GroupRun {
  std::vector<std::optional<std::vector<float>>> state;
  std::vector<std::string> error;  ///< "" (none), "partner" (another process failed) or the message
};

GroupRun fit_over_group(int n, const EnsembleData& data, const FitOptions& opt) {
  GroupRun out{std::vector<std::optional<std::vector<float>>>(static_cast<std::size_t>(n)), std::vector<std::string>(static_cast<std::size_t>(n))};
  test::Board board(n);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      test::ThreadGroup g(board, r);
      FitOptions o = opt;
      o.group = &g;
      try {
        const auto res = fit_score(ou, EulerMaruyama{}, data, o);
        out.state[static_cast<std::size_t>(r)] = state_of(res.trainer, res.curve);
      } catch (const test::PartnerFailed&) {
        out.error[static_cast<std::size_t>(r)] = "partner";
      } catch (const std::exception& e) {
        out.error[static_cast<std::size_t>(r)] = e.what();
        g.fail();
      }
    });
  for (auto& t : threads) t.join();
  return out;
}

TEST_CASE("fit_score over 2, 3 and 4 processes: the pools computed in turn give the single process's bits, resumed too") {
  const auto data = exact_ou_ensemble(2000, 11);
  const FitOptions opt = group_options();
  std::shared_ptr<const FitState> at10, at20;
  FitOptions serial = opt;
  serial.checkpoint_every = 10;
  const auto ref = fit_score(ou, EulerMaruyama{}, data, serial, {}, {}, [&](const FitResult& r) {
    if (r.trainer.steps() == 10) at10 = state_from(r);  // resumed at steps that are not multiples of 3
    if (r.trainer.steps() == 20) at20 = state_from(r);
  });
  const auto expect = state_of(ref.trainer, ref.curve);
  REQUIRE(at10);
  REQUIRE(at20);
  for (int n : {2, 3, 4}) {  // 4: as many processes as chunks
    for (const auto& resume : {std::shared_ptr<const FitState>(), at10, at20}) {
      FitOptions o = opt;
      o.resume = resume;
      const auto run = fit_over_group(n, data, o);
      for (int r = 0; r < n; ++r) {
        CAPTURE(n);
        CAPTURE(r);
        CAPTURE(resume ? resume->steps_done : 0);
        REQUIRE(run.error[static_cast<std::size_t>(r)] == "");
        REQUIRE(run.state[static_cast<std::size_t>(r)]->size() == expect.size());
        CHECK(std::memcmp(run.state[static_cast<std::size_t>(r)]->data(), expect.data(), expect.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("fit_score over a group: a refresh that fails is raised at its step by the process that computed it, not before") {
  const auto data = exact_ou_ensemble(2000, 11);
  FitOptions opt = group_options();
  // 3 processes from step 0: blocks of refreshes 0-2, 3-5, ..., 18-20, computed at steps 0, 3, ..., 18
  opt.on_refresh = [](std::uint64_t q) {
    if (q == 20) throw NumericalError("refresh 20 failed");
  };
  opt.stop_at = 20;  // steps 0-19: refresh 20 (step 20) is computed ahead at step 18 but never used
  FitOptions serial = group_options();
  serial.stop_at = 20;
  const auto ref = fit_score(ou, EulerMaruyama{}, data, serial);
  const auto expect = state_of(ref.trainer, ref.curve);
  auto run = fit_over_group(3, data, opt);
  for (int r = 0; r < 3; ++r) {
    CAPTURE(r);
    REQUIRE(run.error[static_cast<std::size_t>(r)] == "");
    CHECK(*run.state[static_cast<std::size_t>(r)] == expect);
  }
  // the run that reaches step 20: the computing process raises its error there, the others stop
  opt.stop_at = 0;
  run = fit_over_group(3, data, opt);
  int errors = 0, partners = 0;
  for (int r = 0; r < 3; ++r) {
    CHECK_FALSE(run.state[static_cast<std::size_t>(r)]);
    errors += run.error[static_cast<std::size_t>(r)] == "refresh 20 failed";
    partners += run.error[static_cast<std::size_t>(r)] == "partner";
  }
  CHECK(errors == 1);
  CHECK(partners == 2);
  // an initial pool that fails (resumed at step 10 on 4 pools: the slots' last refreshes 6-9)
  opt.on_refresh = [](std::uint64_t q) {
    if (q == 8) throw NumericalError("refresh 8 failed");
  };
  FitOptions first = group_options();
  first.stop_at = 10;
  opt.resume = state_from(fit_score(ou, EulerMaruyama{}, data, first));
  run = fit_over_group(3, data, opt);
  errors = partners = 0;
  for (int r = 0; r < 3; ++r) {
    errors += run.error[static_cast<std::size_t>(r)] == "refresh 8 failed";
    partners += run.error[static_cast<std::size_t>(r)] == "partner";
  }
  CHECK(errors == 1);
  CHECK(partners == 2);
}

}  // namespace fit_test
