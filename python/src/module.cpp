// sdescore._sdescore: the compiled part of the Python package `sdescore` (docs/python.md).
// Errors map to Python exceptions: ConfigError -> ValueError, IoError -> OSError,
// NumericalError -> sdescore.NumericalError (a RuntimeError), a stopped run -> KeyboardInterrupt,
// another MPI process's failure (comm=...) -> sdescore.PartnerFailed (a RuntimeError).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "sdescore/core/error.hpp"
#include "sdescore/sim/simulation.hpp"
#include "sdescore/version.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_sdescore, m) {
  m.doc() = "sdescore: nonlinear SDEs and their time-dependent scores (compiled core; use the package sdescore)";
  m.attr("__version__") = std::string(sdescore::version);
  static py::exception<sdescore::NumericalError> numerical_error(m, "NumericalError", PyExc_RuntimeError);
  // A run over several MPI processes (comm=...) that another process ended with its error.
  static py::exception<sdescore::sim::PartnerFailed> partner_failed(m, "PartnerFailed", PyExc_RuntimeError);
#ifdef SDESCORE_MPI
  m.attr("__mpi__") = true;
#else
  m.attr("__mpi__") = false;
#endif
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const sdescore::ConfigError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const sdescore::IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const sdescore::NumericalError& e) {
      numerical_error(e.what());
    } catch (const sdescore::sim::PartnerFailed&) {
      partner_failed("another MPI process of this run failed and reports why; this one stopped with it");
    } catch (const sdescore::sim::Cancelled& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    }
  });
  sdescore::python::bind_simulation(m);
  sdescore::python::bind_score(m);
}
