// Score models in Python (docs/python.md, "Score models"): sdescore.fit_score / load_score /
// ScoreFit / physics / compare over the library's one home for each (score/train.hpp,
// score/score_model.hpp, eval/physics_report.hpp, eval/study.hpp), the same calls `scorefit`
// makes, so the same settings give the same weights.
//
// Long calls run with the GIL released. Every few training steps (and between evaluation
// stages) the GIL is taken back to run Python's signal handlers and the progress callback: a
// KeyboardInterrupt (or an exception from the callback) stops the call and is re-raised; files
// are written only after the work is done, so nothing partial is left. Library errors map to
// ValueError (ConfigError), OSError (IoError) and sdescore.NumericalError in module.cpp.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>

#include "bindings.hpp"
#ifdef SDESCORE_MPI
#include "sdescore/mpi/training.hpp"
#endif
#include "sdescore/eval/physics_report.hpp"
#include "sdescore/io/atomic.hpp"
#include "sdescore/eval/study.hpp"
#include "sdescore/score/checks.hpp"
#include "sdescore/score/train.hpp"

namespace py = pybind11;

namespace sdescore::python {
namespace {

using score::ScoreModel;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

py::array_t<double, py::array::c_style | py::array::forcecast> float_array(const py::handle& x, const char* name) {
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(x);
  if (!a) throw py::value_error(std::string(name) + " must be an array-like of numbers (float64)");
  return a;
}

/// Points (n, d) or a single point (d,) -> n x d; `single` tells which.
Eigen::MatrixXd as_points(const py::object& y, int d, bool& single) {
  const auto a = float_array(y, "y");
  const std::string want = "expected (n, " + std::to_string(d) + ") or (" + std::to_string(d) + ",)";
  if (a.ndim() == 1 && a.shape(0) == d) {
    single = true;
    return Eigen::Map<const Eigen::RowVectorXd>(a.data(), d);
  }
  if (a.ndim() == 2 && a.shape(1) == d) {
    single = false;
    return Eigen::Map<const RowMatrix>(a.data(), a.shape(0), d);
  }
  throw py::value_error("y has shape " + shape_text(a) + "; " + want + " (the model's dimension is " + std::to_string(d) + ")");
}

/// A time for every point: a number, or an array of shape (n,).
Eigen::VectorXd as_times(const py::object& t, Eigen::Index n) {
  const auto a = float_array(t, "t");
  if (a.ndim() == 0) return Eigen::VectorXd::Constant(n, *a.data());
  if (a.ndim() == 1 && a.shape(0) == n) return Eigen::Map<const Eigen::VectorXd>(a.data(), n);
  throw py::value_error("t has shape " + shape_text(a) + "; expected a number or shape (" + std::to_string(n) + ",), one time per point");
}

/// as_times, refusing (ValueError) any time outside the range the score was trained on, as
/// `scorefit score` / `grid` / `physics` do: one behaviour for every way of evaluating a score.
Eigen::VectorXd trained_times(const ScoreModel& f, const py::object& t, Eigen::Index n, const char* what) {
  Eigen::VectorXd T = as_times(t, n);
  for (Eigen::Index i = 0; i < T.size(); ++i)
    score::require_trained_time(std::string(what) + ": t[" + std::to_string(i) + "]", T(i), f.t_min(), f.t_max());
  return T;
}

py::array to_numpy(const Eigen::MatrixXd& m, bool single) {
  if (single) {
    py::array_t<double> out(m.cols());
    for (Eigen::Index j = 0; j < m.cols(); ++j) out.mutable_at(j) = m(0, j);
    return out;
  }
  py::array_t<double> out({m.rows(), m.cols()});
  Eigen::Map<RowMatrix>(out.mutable_data(), m.rows(), m.cols()) = m;
  return out;
}

/// The Python method for one of ScoreModel's evaluations (score, diffusion_score, velocity):
/// points and times checked (shape, finite, inside the trained range), the GIL released while
/// the network runs, the result in the shape of y.
auto evaluator(Eigen::MatrixXd (ScoreModel::*eval)(const Eigen::MatrixXd&, const Eigen::VectorXd&, int) const, const char* what) {
  return [eval, what](const ScoreModel& f, const py::object& y, const py::object& t, int threads) {
    bool single = false;
    const Eigen::MatrixXd Y = as_points(y, f.dim(), single);
    const Eigen::VectorXd T = trained_times(f, t, Y.rows(), what);
    Eigen::MatrixXd S;
    {
      py::gil_scoped_release release;
      S = (f.*eval)(Y, T, threads);
    }
    return to_numpy(S, single);
  };
}

py::array_t<double> vec(const std::vector<double>& v) { return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data()); }

/// Applies Python keyword settings to a training configuration (names as in the score model
/// file: batch, groups, pool_size, pools, reference_size, delta_max, hidden, ...).
void apply_settings(score::TrainingConfig& c, const py::dict& settings) {
  for (auto item : settings) {
    const std::string k = py::str(item.first);
    const py::handle v = item.second;
    if (v.is_none()) continue;
    if (py::isinstance<py::str>(v))
      c.set(k, v.cast<std::string>());
    else if (py::isinstance<py::bool_>(v))
      c.set(k, v.cast<bool>() ? 1.0 : 0.0);
    else if (py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v) || py::hasattr(v, "__float__"))
      c.set(k, v.cast<double>());
    else if (py::isinstance<py::sequence>(v))
      c.set(k, v.cast<std::vector<int>>());
    else
      throw py::value_error("setting " + k + " = " + std::string(py::repr(v)) + " has an unsupported type");
  }
  auto given = [&](const char* k) { return settings.contains(k) && !settings[k].is_none(); };
  if (given("delta") && !given("schedule")) c.select_fixed_schedule();
}

py::dict config_dict(const score::TrainingConfig& c) {
  py::dict d;
  for (const auto& [k, v] : c.text_settings()) d[py::str(k)] = v;
  for (const auto& [k, v] : c.numeric_settings()) d[py::str(k)] = v;
  d["hidden"] = c.hidden;
  d["seed"] = c.seed;
  d["threads"] = c.threads;
  d["t_min"] = c.t_min;
  d["t_max"] = c.t_max;
  return d;
}

/// An ensemble file path, or an in-memory ensemble object with .time (T,), .positions (T, N, D)
/// and .info (provenance dict: model, params, dt, seed, init, path_first, path_count).
score::TrainingData training_data(const py::object& data, const std::string& ensemble) {
  if (py::isinstance<py::str>(data) || py::hasattr(data, "__fspath__")) {
    const std::string path = py::str(py::module_::import("os").attr("fspath")(data));
    py::gil_scoped_release release;
    return score::load_training_data(path, ensemble);
  }
  if (!(py::hasattr(data, "positions") && py::hasattr(data, "time") && py::hasattr(data, "info")))
    throw py::value_error("data must be a path to an ensemble file or an sdescore.Ensemble (with .time, .positions, .info), not " +
                          std::string(py::str(py::type::of(data).attr("__name__"))));
  score::TrainingData d;
  const auto pos = float_array(data.attr("positions"), "positions");
  const auto tim = float_array(data.attr("time"), "time");
  if (pos.ndim() != 3) throw py::value_error("ensemble positions have shape " + shape_text(pos) + "; expected (T, N, D)");
  if (tim.ndim() != 1 || tim.shape(0) != pos.shape(0))
    throw py::value_error("ensemble time has shape " + shape_text(tim) + "; expected (" + std::to_string(pos.shape(0)) + ",)");
  const py::dict info = data.attr("info");
  d.info.model = info["model"].cast<std::string>();
  d.info.model_parameters = info["params"].cast<std::map<std::string, double>>();
  d.info.dt = info["dt"].cast<double>();
  d.info.seed = info["seed"].cast<std::uint64_t>();
  if (info.contains("init")) d.info.initial_law = info["init"].cast<std::string>();
  if (info.contains("stepper")) d.info.stepper = info["stepper"].cast<std::string>();
  if (info.contains("path_first")) d.info.path_first = info["path_first"].cast<std::int64_t>();
  d.info.path_count = info.contains("path_count") ? info["path_count"].cast<std::int64_t>() : pos.shape(1);
  if (py::hasattr(data, "output") && !data.attr("output").is_none()) d.file = py::str(data.attr("output"));
  const Eigen::Index T = pos.shape(0), N = pos.shape(1), D = pos.shape(2);
  d.data.dt = d.info.dt;
  d.data.times.assign(tim.data(), tim.data() + T);
  for (Eigen::Index k = 0; k < T; ++k) d.data.states.push_back(Eigen::Map<const RowMatrix>(pos.data() + k * N * D, N, D));
  return d;
}

py::dict physics_dict(const eval::PhysicsResult& r) {
  py::dict out;
  out["model"] = r.model;
  out["time"] = vec(r.times);
  py::dict e;
  e["samples"] = r.ensemble_samples;
  e["entropy_production"] = vec(r.entropy_production);
  e["entropy_production_stderr"] = vec(r.entropy_production_stderr);
  e["mean_speed"] = vec(r.mean_speed);
  e["drift_scale"] = vec(r.drift_scale);
  e["entropy_knn"] = vec(r.entropy_knn);
  out["ensemble"] = e;
  if (r.has_flow) {
    py::dict f;
    f["samples"] = r.flow_samples;
    f["entropy_start_knn"] = r.entropy_start_knn;
    f["entropy"] = vec(r.flow_entropy);
    f["entropy_change"] = vec(r.flow_entropy_change);
    f["entropy_rate"] = vec(r.flow_entropy_rate);
    f["entropy_production"] = vec(r.flow_entropy_production);
    f["entropy_production_stderr"] = vec(r.flow_entropy_production_stderr);
    f["medium_entropy_rate"] = vec(r.flow_medium_entropy_rate);
    f["mean_speed"] = vec(r.flow_mean_speed);
    f["outside_fraction"] = vec(r.flow_outside_fraction);
    out["flow"] = f;
  }
  if (r.has_grid) {
    py::dict g;
    const int dim = r.grid.dim();
    const char* names[2] = {"x", "y"};
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(r.times.size())};
    for (int a = 0; a < dim; ++a) {
      std::vector<double> c(r.grid.n[a]);
      for (int i = 0; i < r.grid.n[a]; ++i) c[i] = r.grid.lo[a] + r.grid.h[a] * i;
      g[names[a]] = vec(c);
      shape.push_back(r.grid.n[a]);
    }
    py::array_t<double> dens(shape);
    auto vshape = shape;
    vshape.push_back(dim);
    py::array_t<double> vel(vshape), cur(vshape);
    const Eigen::Index npts = r.grid.size();
    for (std::size_t i = 0; i < r.times.size(); ++i) {
      std::copy(r.density[i].data(), r.density[i].data() + npts, dens.mutable_data() + i * npts);
      Eigen::Map<RowMatrix>(vel.mutable_data() + i * npts * dim, npts, dim) = r.velocity[i];
      Eigen::Map<RowMatrix>(cur.mutable_data() + i * npts * dim, npts, dim) = r.density[i].asDiagonal() * r.velocity[i];
    }
    g["density"] = dens;
    g["velocity"] = vel;
    g["current"] = cur;
    g["current_l1"] = vec(r.current_l1);
    g["density_source"] = r.density_source;
    out["grid"] = g;
  }
  return out;
}

py::dict study_dict(const eval::StudyResult& r) {
  py::dict out;
  out["model"] = r.model;
  out["time"] = vec(r.times);
  out["steps"] = r.steps;
  out["has_reference"] = r.has_reference;
  if (r.has_reference) {
    out["reference_cells"] = r.ref_grid_cells;
    if (!r.ref_check_error.empty()) {  // the reference's own error by refinement (half the cells)
      out["reference_check_score_error"] = vec(r.ref_check_error);
      out["reference_check_diffusion_score_error"] = vec(r.ref_check_ds_error);
    }
  }
  py::list runs;
  for (const auto& x : r.runs) {
    py::dict d;
    d["objective"] = x.objective;
    d["seed"] = x.seed;
    d["train_seconds"] = x.train_seconds;
    d["time_to_accuracy"] = x.time_to_accuracy < 0 ? py::object(py::none()) : py::cast(x.time_to_accuracy);
    d["heldout_ism"] = x.heldout_ism;
    if (r.has_reference) {
      d["score_error"] = vec(x.score_error);
      d["diffusion_score_error"] = vec(x.ds_error);
      d["score_error_rms"] = x.final_error;
      d["diffusion_score_error_rms"] = x.final_ds_error;
    }
    std::vector<double> sw, swf, ed, edf;
    for (const auto& m : x.metrics) {
      sw.push_back(m.sliced_w1.value);
      swf.push_back(m.sliced_w1.floor);
      ed.push_back(m.energy.value);
      edf.push_back(m.energy.floor);
    }
    d["sliced_w1"] = vec(sw);
    d["sliced_w1_floor"] = vec(swf);
    d["energy_distance"] = vec(ed);
    d["energy_distance_floor"] = vec(edf);
    d["flow_outside_fraction"] = vec(x.flow_outside);
    d["reverse_sliced_w1"] = x.reverse.sliced_w1.value;
    d["reverse_sliced_w1_floor"] = x.reverse.sliced_w1.floor;
    runs.append(d);
  }
  out["runs"] = runs;
  return out;
}

}  // namespace

void bind_score(py::module_& m) {
  py::class_<ScoreModel, std::shared_ptr<ScoreModel>>(
      m, "ScoreFit",
      "A learned score model s(y, t) ~ grad log p_t(y): evaluate it (.score, .diffusion_score, .velocity), read how it "
      "was trained (.loss_history, .config) and save it (.save) as a file `scorefit` reads.")
      .def(
          "score",
          evaluator(&ScoreModel::score, "ScoreFit.score"),
          py::arg("y"), py::arg("t"), py::arg("threads") = 0,
          "The score at points y (n, d) (or one point (d,)) and times t (a number or (n,)); same shape as y.")
      .def(
          "diffusion_score",
          evaluator(&ScoreModel::diffusion_score, "ScoreFit.diffusion_score"),
          py::arg("y"), py::arg("t"), py::arg("threads") = 0, "D s with D = G G^T / 2 of the model the score was trained on.")
      .def(
          "velocity",
          evaluator(&ScoreModel::velocity, "ScoreFit.velocity"),
          py::arg("y"), py::arg("t"), py::arg("threads") = 0,
          "The probability-flow velocity v = f - div D - D s (any noise kind).")
      .def(
          "save",
          [](const ScoreModel& f, const py::object& path, bool force) {
            const std::string p = py::str(py::module_::import("os").attr("fspath")(path));
            py::gil_scoped_release release;
            f.save(p, force);
          },
          py::arg("path"), py::arg("force") = false,
          "Writes the score model file (atomically); OSError if it exists and force is False.")
      .def_property_readonly(
          "loss_history",
          [](const ScoreModel& f) {
            std::vector<double> step, loss, lr, secs;
            for (const auto& p : f.record().curve) {
              step.push_back(double(p.step));
              loss.push_back(p.loss);
              lr.push_back(p.lr);
              secs.push_back(p.seconds);
            }
            py::dict d;
            d["step"] = py::array_t<std::int64_t>(py::array(vec(step)).attr("astype")("int64"));
            d["loss"] = vec(loss);
            d["learning_rate"] = vec(lr);
            d["seconds"] = vec(secs);
            return d;
          },
          "Training loss averaged over blocks of 50 steps: dict of arrays step, loss, learning_rate, seconds.")
      .def_property_readonly("config", [](const ScoreModel& f) { return config_dict(f.config()); },
                             "The training configuration (names as in the file and as keyword arguments of fit_score).")
      .def_property_readonly("model", &ScoreModel::model_name, "the SDE model the score was trained on")
      .def_property_readonly("params", [](const ScoreModel& f) { return f.record().data.model_parameters; })
      .def_property_readonly("dim", &ScoreModel::dim)
      .def_property_readonly("objective", [](const ScoreModel& f) { return f.record().objective; })
      .def_property_readonly("t_min", &ScoreModel::t_min)
      .def_property_readonly("t_max", &ScoreModel::t_max)
      .def_property_readonly("steps_done", [](const ScoreModel& f) { return f.record().steps_done; })
      .def_property_readonly("heldout_ism", [](const ScoreModel& f) { return f.record().heldout_ism; },
                             "held-out ISM value at the end of training (NaN if nothing was held out)")
      .def_property_readonly("training_seconds", [](const ScoreModel& f) { return f.record().seconds; })
      .def_property_readonly("data_file", [](const ScoreModel& f) { return f.record().data_file; })
      .def_property_readonly("ema_parameters",
                             [](const ScoreModel& f) {
                               const auto& p = f.record().ema_parameters;
                               return py::array_t<float>(static_cast<py::ssize_t>(p.size()), p.data());
                             },
                             "the network's EMA weights, flat (float32)")
      .def("__repr__", [](const ScoreModel& f) {
        return "<sdescore.ScoreFit " + f.record().objective + " on " + f.model_name() + ", " + std::to_string(f.record().steps_done) +
               " steps, t in [" + sdescore::detail::fmt_double(f.t_min()) + ", " + sdescore::detail::fmt_double(f.t_max()) + "]>";
      });

  m.def(
      "_fit_score",
      [](const py::object& data, const std::string& ensemble, const py::dict& settings, const py::object& progress,
         const std::string& command_line, const py::object& comm) {
#ifdef SDESCORE_MPI
        // Data-parallel training over the communicator's processes (mpi::MpiGroup, as `mpirun
        // scorefit train`): every process gets the same weights, those of one process. Made
        // first, so that a bad setting on one process ends all of them (PartnerFailed).
        std::optional<mpi::MpiGroup> group;
        if (!comm.is_none()) group.emplace(mpi_comm(comm));
        const auto tell = [&] {
          if (group) group->fail();  // does nothing if this process learned of another's failure
        };
#else
        if (!comm.is_none()) throw ConfigError(std::string("comm = ") + py::repr(comm).cast<std::string>() + kNoMpi);
        const auto tell = [] {};
#endif
        try {
          score::TrainingConfig cfg;
          apply_settings(cfg, settings);
          cfg.fit_options().validate();  // refuse bad settings before reading data
          const score::TrainingData td = training_data(data, ensemble);
          Interrupts w;
          score::TrainControl control;
          control.command_line = command_line;
          py::object shown = progress;
#ifdef SDESCORE_MPI
          if (group) {
            control.group = &*group;
            if (group->rank() != 0) shown = py::none();  // progress from process 0 only
          }
#endif
          control.progress = [&](const score::FitProgress& p) { w.report(shown, double(p.step), double(p.total)); };
          control.on_step = [&](long step, const nn::Trainer&) {
            if (step % 10 == 0) w.check();
          };
          return std::make_shared<ScoreModel>(w.run([&] { return score::train_score(cfg, td, control); }));
        } catch (...) {  // a Python exception (Ctrl-C, a callback) or a library error
          tell();
          throw;
        }
      },
      py::arg("data"), py::arg("ensemble"), py::arg("settings"), py::arg("progress"), py::arg("command_line"),
      py::arg("comm") = py::none(),
      "Trains a score model (score/train.hpp) with the GIL released. Use sdescore.fit_score.");

  m.def(
      "load_score",
      [](const py::object& path) {
        const std::string p = py::str(py::module_::import("os").attr("fspath")(path));
        py::gil_scoped_release release;
        return std::make_shared<ScoreModel>(ScoreModel::load(p));
      },
      py::arg("path"), "Reads a score model file (written by scorefit train or ScoreFit.save). OSError if it is not one.");

  m.def(
      "training_defaults", [] { return config_dict(score::TrainingConfig{}); },
      "The library's default training configuration (what scorefit train shows in --help).");

  m.def(
      "_physics",
      [](const std::shared_ptr<ScoreModel>& fit, const py::object& data, const std::string& ensemble, const py::dict& options,
         const std::string& output, bool force, const std::string& command_line) {
        eval::PhysicsOptions o;
        for (auto item : options) {
          const std::string k = py::str(item.first);
          const py::handle v = item.second;
          if (v.is_none()) continue;
          if (k == "times") o.times = v.cast<std::vector<double>>();
          else if (k == "flow_samples") o.flow_samples = v.cast<int>();
          else if (k == "density") o.density = v.cast<std::string>();
          else if (k == "lo") o.lo = v.cast<std::vector<double>>();
          else if (k == "hi") o.hi = v.cast<std::vector<double>>();
          else if (k == "n") o.n = v.cast<std::vector<int>>();
          else if (k == "fd_step") o.fd_step = v.cast<double>();
          else if (k == "threads") o.threads = v.cast<int>();
          else throw py::value_error("physics: unknown option '" + k + "': valid options are times, flow_samples, density, lo, hi, n, fd_step, threads");
        }
        o.validate();
        if (!output.empty()) io::check_writable_target(output, force);
        const score::TrainingData td = training_data(data.is_none() ? py::cast(fit->record().data_file) : data, ensemble);
        Interrupts w;
        const auto r = w.run([&] {
          auto res = eval::compute_physics(*fit, td, o, [&] { w.check(); });
          if (!output.empty()) eval::write_physics(res, output, force, "(in memory: sdescore.ScoreFit)", td.file, command_line);
          return res;
        });
        return physics_dict(r);
      },
      py::arg("fit"), py::arg("data"), py::arg("ensemble"), py::arg("options"), py::arg("output"), py::arg("force"),
      py::arg("command_line"), "Physics of a learned score (eval/physics_report.hpp). Use sdescore.physics.");

  m.def(
      "_compare",
      [](const py::object& data, const std::string& ensemble, const py::dict& study, const py::dict& settings, const py::object& progress,
         const std::string& output, bool force, const std::string& command_line) {
        eval::StudyOptions o;
        apply_settings(o.train, settings);
        for (auto item : study) {
          const std::string k = py::str(item.first);
          const py::handle v = item.second;
          if (v.is_none()) continue;
          if (k == "objectives") o.objectives = v.cast<std::vector<std::string>>();
          else if (k == "seeds") o.seeds = v.cast<std::vector<unsigned long>>();
          else if (k == "eval_times") o.eval_times = v.cast<std::vector<double>>();
          else if (k == "threshold") o.threshold = v.cast<double>();
          else if (k == "eval_every") o.eval_every = v.cast<long>();
          else if (k == "fp_cells") o.fp_cells = v.cast<std::vector<int>>();
          else if (k == "fp_dt") o.fp_dt = v.cast<double>();
          else if (k == "fp_advection") o.fp_advection = v.cast<std::string>();
          else if (k == "fp_check") o.fp_check = v.cast<bool>();
          else if (k == "flow_samples") o.flow_samples = v.cast<int>();
          else if (k == "reverse_from_prior") o.reverse_from_prior = v.cast<bool>();
          else if (k == "reverse_steps") o.reverse_steps = v.cast<int>();
          else throw py::value_error("compare: unknown option '" + k + "'");
        }
        o.validate();
        o.train.fit_options().validate();
        if (!output.empty()) eval::check_study_targets(output, force);
        const score::TrainingData td = training_data(data, ensemble);
        Interrupts w;
        const double total = double(o.train.steps) * double(o.seeds.size()) *
                             double(o.objectives.empty() ? 4 : o.objectives.size());
        double done_before = 0;
        eval::StudyControl control;
        control.start_run = [&](const std::string&, unsigned long) -> std::function<void(const score::FitProgress&)> {
          return [&](const score::FitProgress& p) { w.report(progress, done_before + double(p.step), total); };
        };
        control.run_done = [&](const eval::StudyRun&) { done_before += double(o.train.steps); };
        control.poll = [&] { w.check(); };
        const auto r = w.run([&] {
          auto res = eval::run_study(o, td, control);
          if (!output.empty()) eval::write_study(res, o, output, force, td.file, command_line);
          return res;
        });
        return study_dict(r);
      },
      py::arg("data"), py::arg("ensemble"), py::arg("study"), py::arg("settings"), py::arg("progress"), py::arg("output"),
      py::arg("force"), py::arg("command_line"), "The objective study (eval/study.hpp). Use sdescore.compare.");
}

}  // namespace sdescore::python
