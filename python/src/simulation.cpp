// Simulations in Python: sdescore.simulate / load_ensemble / list_models / describe_model over
// the simulation run of lib/sdescore/sim (the one home the sdesim CLI uses too).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdio>
#include <memory>
#include <variant>

#include "bindings.hpp"
#include "sdescore/app/registry.hpp"
#include "sdescore/io/observables.hpp"
#include "sdescore/sim/simulation.hpp"
#ifdef SDESCORE_MPI
#include "sdescore/mpi/partition.hpp"
#endif

namespace py = pybind11;

namespace sdescore::python {
namespace {

/// An ensemble in memory; its numpy arrays are views with the Ensemble as their base.
struct Ensemble {
  sim::Result r;
};

py::object attr_value(const io::AttrValue& v) {
  return std::visit([](const auto& x) -> py::object { return py::cast(x); }, v);
}

py::dict run_info_dict(const io::RunInfo& i) {
  py::dict d;
  d["model"] = i.model;
  d["params"] = py::cast(i.model_parameters);
  d["stepper"] = i.stepper;
  d["dt"] = i.dt;
  d["seed"] = i.seed;
  d["init"] = i.initial_law;
  d["save_every"] = i.save_every;
  d["path_first"] = i.path_first;
  d["path_count"] = i.path_count;
  d["command_line"] = i.command_line;
  d["sdescore_version"] = i.sdescore_version;
  py::dict extra;
  for (const auto& [k, v] : i.extra) extra[py::str(k)] = attr_value(v);
  d["extra"] = extra;
  return d;
}

py::dict model_dict(const app::ModelDescription& md, bool full) {
  py::dict d;
  d["name"] = md.name;
  d["state_dim"] = md.state_dim;
  d["description"] = md.description;
  if (!full) return d;
  d["equation"] = md.equation;
  d["noise_dim"] = md.noise_dim;
  py::list params;
  for (const auto& p : md.params) {
    py::dict q;
    q["name"] = p.info.name;
    q["default"] = p.default_value;
    q["meaning"] = p.info.meaning;
    q["lower"] = p.info.lower;
    q["upper"] = p.info.upper;
    q["lower_open"] = p.info.lower_open;
    q["upper_open"] = p.info.upper_open;
    params.append(q);
  }
  d["params"] = params;
  d["steppers"] = md.steppers;
  d["default_stepper"] = md.default_stepper;
  d["stationary_law"] = md.stationary_law;
  return d;
}

std::unique_ptr<Ensemble> simulate(const std::string& model, const std::vector<std::pair<std::string, double>>& params,
                                   const std::string& init, std::int64_t paths, std::int64_t first_path, double dt,
                                   double t_end, std::int64_t save_every, std::uint64_t seed, int threads,
                                   const std::string& stepper, const std::string& output, bool force,
                                   bool stats_only, const std::vector<std::string>& hist, int compress,
                                   std::int64_t checkpoint_every, bool keep_checkpoint, const std::string& resume,
                                   const std::string& command_line, const py::object& progress,
                                   const std::vector<std::string>& sweep, const py::object& comm) {
  sim::Config c;
  c.model = model;
  c.params = params;
  c.init = init;
  c.paths = paths;
  c.first_path = first_path;
  c.dt = dt;
  c.t_end = t_end;
  c.save_every = save_every;
  c.seed = seed;
  c.threads = threads;
  c.stepper = stepper;
  c.output = output;
  c.force = force;
  c.stats_only = stats_only;
  c.hist = hist;
  c.compress = compress;
  c.checkpoint_every = checkpoint_every;
  c.keep_checkpoint = keep_checkpoint;
  c.resume = resume;
  c.sweep = sweep;
  c.keep_positions = !stats_only && sweep.empty();  // statistics and sweeps keep nothing in memory (read the file)
  c.command_line = command_line;
  c.cli_names = false;
  Interrupts irq;
  sim::Hooks hooks;
  hooks.stop_requested = [&] { return irq.poll(); };
  hooks.progress = [&](const sim::Progress& p) {
    if (irq.call(progress, p.done, p.total)) throw sim::Cancelled();
  };
  auto e = std::make_unique<Ensemble>();
  if (!comm.is_none()) {
#ifdef SDESCORE_MPI
    // One run shared by the communicator's processes (sim::Partition over MPI): one file, the
    // serial run's bits. Every process calls this; a failure on one ends all of them (the others
    // raise PartnerFailed). Progress from rank 0 only.
    c.keep_positions = false;
    if (c.output.empty())
      throw ConfigError("output = None with comm: a run over several processes writes one file together; "
                        "give output=PATH (read it with load_ensemble / load_statistics)");
    mpi::MpiPartition part(mpi_comm(comm));
    if (part.rank() != 0) hooks.progress = [](const sim::Progress&) {};
    try {
      py::gil_scoped_release release;
      e->r = sim::simulate(c, hooks, part);
    } catch (const sim::Cancelled&) {
      part.fail();
      irq.rethrow();
      throw;
    } catch (...) {
      part.fail();  // does nothing if this process learned of another's failure
      throw;
    }
    return e;
#else
    throw ConfigError(std::string("comm = ") + py::repr(comm).cast<std::string>() + kNoMpi);
#endif
  }
  try {
    py::gil_scoped_release release;
    e->r = sim::simulate(c, hooks);
  } catch (const sim::Cancelled&) {
    irq.rethrow();  // KeyboardInterrupt (or the callback's exception) as Python raised it
    throw;
  }
  return e;
}

std::unique_ptr<Ensemble> load_ensemble(const std::string& path) {
  auto e = std::make_unique<Ensemble>();
  py::gil_scoped_release release;
  e->r = sim::read_ensemble(path);
  return e;
}

/// The statistics of a stats-only file (io::ObservablesReader) as numpy arrays.
py::dict load_statistics(const std::string& path) {
  py::dict d;
  std::vector<double> t;
  std::vector<std::int64_t> k;
  std::vector<double> mean, cov, edges;
  std::vector<std::int64_t> counts, coords;
  std::int64_t T = 0, D = 0, n_paths = 0, H = 0, B = 0;
  bool hist = false;
  io::RunInfo info;
  {
    py::gil_scoped_release release;
    io::ObservablesReader r(path, "ensemble");
    info = r.info();
    T = r.n_snapshots();
    D = r.dim();
    n_paths = r.n_paths();
    t = r.times();
    k = r.steps();
    hist = r.has_histogram();
    if (hist) {
      const auto spec = r.histogram_spec();
      coords = spec.coordinates;
      H = spec.bin_edges.rows();
      B = spec.bin_edges.cols() - 1;
      for (Eigen::Index h = 0; h < spec.bin_edges.rows(); ++h)
        for (Eigen::Index e = 0; e < spec.bin_edges.cols(); ++e) edges.push_back(spec.bin_edges(h, e));
    }
    for (std::int64_t s = 0; s < T; ++s) {
      const Eigen::VectorXd m = r.mean(s);
      const Eigen::MatrixXd c = r.covariance(s);
      mean.insert(mean.end(), m.data(), m.data() + m.size());
      for (Eigen::Index i = 0; i < c.rows(); ++i)
        for (Eigen::Index j = 0; j < c.cols(); ++j) cov.push_back(c(i, j));
      if (hist) {
        const io::CountMatrix h = r.histogram(s);  // row-major (coordinate, bin)
        counts.insert(counts.end(), h.data(), h.data() + h.size());
      }
    }
  }
  auto arr = [](const auto& v, std::vector<py::ssize_t> shape) {
    using V = typename std::decay_t<decltype(v)>::value_type;
    py::array_t<V> a(shape);
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
  };
  d["time"] = arr(t, {T});
  d["step"] = arr(k, {T});
  d["mean"] = arr(mean, {T, D});
  d["covariance"] = arr(cov, {T, D, D});
  d["n_paths"] = n_paths;
  if (hist) {
    d["histogram"] = arr(counts, {T, H, B});
    d["bin_edges"] = arr(edges, {H, B + 1});
    d["hist_coordinates"] = arr(coords, {H});
  }
  d["info"] = run_info_dict(info);
  d["output"] = path;
  return d;
}

}  // namespace

void bind_simulation(py::module_& m) {
  py::class_<Ensemble>(m, "Ensemble",
                       "An ensemble of paths in memory: .time (T,), .positions (T, N, D) as numpy views (no copy; "
                       "their base is this object), provenance in .info")
      .def_property_readonly(
          "time",
          [](py::object self) {
            auto& r = self.cast<Ensemble&>().r;
            return py::array_t<double>({static_cast<py::ssize_t>(r.times.size())}, {sizeof(double)}, r.times.data(),
                                       self);
          },
          "snapshot times, shape (T,)")
      .def_property_readonly(
          "steps",
          [](py::object self) {
            auto& r = self.cast<Ensemble&>().r;
            return py::array_t<std::int64_t>({static_cast<py::ssize_t>(r.steps.size())}, {sizeof(std::int64_t)},
                                             r.steps.data(), self);
          },
          "absolute step index of each snapshot, shape (T,)")
      .def_property_readonly(
          "positions",
          [](py::object self) {
            auto& r = self.cast<Ensemble&>().r;
            const auto T = static_cast<py::ssize_t>(r.times.size()), N = static_cast<py::ssize_t>(r.n_paths),
                       D = static_cast<py::ssize_t>(r.dim);
            const auto s = static_cast<py::ssize_t>(sizeof(double));
            return py::array_t<double>({T, N, D}, {N * D * s, D * s, s}, r.positions.data(), self);
          },
          "states, shape (T, N, D): snapshot, path, coordinate")
      .def_property_readonly("model", [](const Ensemble& e) { return e.r.info.model; })
      .def_property_readonly("params", [](const Ensemble& e) { return e.r.info.model_parameters; },
                             "model parameters (name -> value), all of them")
      .def_property_readonly("stepper", [](const Ensemble& e) { return e.r.info.stepper; })
      .def_property_readonly("dt", [](const Ensemble& e) { return e.r.info.dt; })
      .def_property_readonly("seed", [](const Ensemble& e) { return e.r.info.seed; })
      .def_property_readonly("init", [](const Ensemble& e) { return e.r.info.initial_law; })
      .def_property_readonly("save_every", [](const Ensemble& e) { return e.r.save_every; })
      .def_property_readonly("t_end", [](const Ensemble& e) { return e.r.t_end; })
      .def_property_readonly("n_paths", [](const Ensemble& e) { return e.r.n_paths; })
      .def_property_readonly("first_path", [](const Ensemble& e) { return e.r.first_path; },
                             "global index of path 0 (the Philox stream of path i is first_path + i)")
      .def_property_readonly("dim", [](const Ensemble& e) { return e.r.dim; })
      .def_property_readonly("output", [](const Ensemble& e) { return e.r.output.empty() ? py::object(py::none()) : py::cast(e.r.output); },
                             "the file written or read (None if none)")
      .def_property_readonly("seconds", [](const Ensemble& e) { return e.r.seconds; }, "wall time of the run")
      .def_property_readonly("info", [](const Ensemble& e) { return run_info_dict(e.r.info); },
                             "provenance as stored in the file (command line, version, extra settings)")
      .def("__repr__", [](const Ensemble& e) {
        char dt[32];
        std::snprintf(dt, sizeof dt, "%.6g", e.r.info.dt);
        return "<sdescore.Ensemble " + e.r.info.model + ": " + std::to_string(e.r.times.size()) + " snapshots x " +
               std::to_string(e.r.n_paths) + " paths x " + std::to_string(e.r.dim) + " dims, " + e.r.info.stepper +
               ", dt " + dt + ">";
      });

  m.def("_simulate", &simulate, py::arg("model"), py::arg("params"), py::arg("init"), py::arg("paths"),
        py::arg("first_path"), py::arg("dt"), py::arg("t_end"), py::arg("save_every"), py::arg("seed"),
        py::arg("threads"), py::arg("stepper"), py::arg("output"), py::arg("force"), py::arg("stats_only"),
        py::arg("hist"), py::arg("compress"), py::arg("checkpoint_every"), py::arg("keep_checkpoint"),
        py::arg("resume"), py::arg("command_line"), py::arg("progress"), py::arg("sweep") = std::vector<std::string>{},
        py::arg("comm") = py::none(),
        "The simulation run (lib/sdescore/sim) with the GIL released; progress(done, total) is called with the "
        "GIL held at about 1000 points. Use sdescore.simulate.");
  m.def("_load_statistics", &load_statistics, py::arg("path"),
        "Reads the statistics of a statistics-only file (sdesim --stats-only) as numpy arrays.");
  m.def("_checkpoint_path_for", [](const std::string& output) { return sim::checkpoint_path_for(output); },
        py::arg("output"), "The periodic checkpoint of an output file: <output>.ckpt.h5.");
  m.def("_load_ensemble", &load_ensemble, py::arg("path"), "Reads the path snapshots of an sdescore ensemble file.");
  m.def(
      "list_models",
      [] {
        py::list out;
        for (const auto& d : app::list_models()) out.append(model_dict(d, false));
        return out;
      },
      "The registered models: a list of {name, state_dim, description}.");
  m.def(
      "describe_model", [](const std::string& name) { return model_dict(app::describe_model(name), true); },
      py::arg("name"),
      "One model: equation, dimensions, parameters (name, default, range, meaning), steppers, default stepper, "
      "whether its stationary law is known. ValueError listing the models if the name is unknown.");
}

}  // namespace sdescore::python
