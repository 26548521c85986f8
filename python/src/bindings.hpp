#pragma once
// The pieces of the Python module `sdescore._sdescore` (docs/python.md). module.cpp defines the
// module, the exception mapping and calls each bind_* below; each lives in its own file.
#include <pybind11/pybind11.h>

#include <exception>
#include <optional>

#ifdef SDESCORE_MPI
#include <mpi.h>
#endif

namespace sdescore::python {

/// Simulations: simulate, load_ensemble, Ensemble, list_models, describe_model (simulation.cpp).
void bind_simulation(pybind11::module_& m);
/// Score models, fitting and evaluation (score.cpp).
void bind_score(pybind11::module_& m);

#ifdef SDESCORE_MPI
/// The MPI communicator of an mpi4py communicator object (mpi.cpp). ConfigError if `comm` is not
/// one or MPI is not initialised.
MPI_Comm mpi_comm(const pybind11::object& comm);
#endif
/// The message for comm= in a module built without MPI.
inline constexpr const char* kNoMpi =
    " is given, but this sdescore module was built without MPI: build it with -DSDESCORE_MPI=ON "
    "(cmake --preset mpi, docs/distributed.md) or pass comm=None";

/// Ctrl-C and Python callbacks during a long call that runs with the GIL released. Use from
/// the call's progress / stop hooks (they run on the calling thread, outside parallel regions):
///   Interrupts irq;
///   hooks.stop_requested = [&] { return irq.poll(); };
///   hooks.progress = [&](const auto& p) { irq.call(progress, p.done, p.total); };
///   try { pybind11::gil_scoped_release r; result = long_call(hooks); }
///   catch (const Cancelled&) { irq.rethrow(); throw; }
/// poll() re-acquires the GIL and runs Python's signal handlers (SIGINT -> KeyboardInterrupt);
/// a Python exception raised there or in a callback is kept and re-raised by rethrow().
/// Calls whose hooks stop by throwing use check() / report() and run() instead (score.cpp).
class Interrupts {
 public:
  /// True if Python raised (e.g. KeyboardInterrupt): the caller should stop.
  bool poll() {
    pybind11::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
      pending_.emplace();  // fetches the raised exception
      return true;
    }
    return false;
  }
  /// Calls f(args...) with the GIL held if f is not None; true if it raised (kept for rethrow).
  template <class... A>
  bool call(const pybind11::object& f, A&&... args) {
    pybind11::gil_scoped_acquire gil;
    if (f.is_none()) return false;
    try {
      f(std::forward<A>(args)...);
    } catch (pybind11::error_already_set& e) {
      pending_.emplace(std::move(e));
      return true;
    }
    return false;
  }
  bool pending() const { return pending_.has_value(); }

  /// Thrown by check() and report() to unwind a library call that Python asked to stop.
  struct Stopped : std::exception {
    const char* what() const noexcept override { return "stopped from Python"; }
  };
  /// poll() for hooks that stop by throwing: throws Stopped when Python raised (Ctrl-C).
  void check() {
    if (poll()) throw Stopped();
  }
  /// A progress hook: Ctrl-C, then progress(done, total) if not None; throws Stopped if either raised.
  void report(const pybind11::object& progress, double done, double total) {
    if (poll() || call(progress, done, total)) throw Stopped();
  }
  /// Runs f() with the GIL released (call with it held); if f stopped for a Python exception
  /// (Stopped), re-raises that exception.
  template <class F>
  auto run(F&& f) {
    try {
      pybind11::gil_scoped_release release;
      return f();
    } catch (const Stopped&) {
      rethrow();
      throw;
    }
  }
  /// Re-raises the kept Python exception, if any (call with the GIL held).
  void rethrow() {
    if (pending_) {
      pybind11::error_already_set e = std::move(*pending_);
      pending_.reset();
      throw e;
    }
  }

 private:
  std::optional<pybind11::error_already_set> pending_;
};

}  // namespace sdescore::python
