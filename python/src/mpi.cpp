// Runs over MPI from Python (SDESCORE_MPI builds, docs/distributed.md "From Python"): the
// communicator of an mpi4py object, without mpi4py's C headers (its Fortran handle, py2f()).
#include <mpi.h>

#include <string>

#include "bindings.hpp"
#include "sdescore/core/error.hpp"

namespace py = pybind11;

namespace sdescore::python {

MPI_Comm mpi_comm(const py::object& comm) {
  const std::string what = py::repr(comm).cast<std::string>();
  if (!py::hasattr(comm, "py2f") || !py::hasattr(comm, "Get_rank"))
    throw ConfigError("comm = " + what + " is not an MPI communicator: give an mpi4py communicator, e.g. "
                      "`from mpi4py import MPI` and comm=MPI.COMM_WORLD, or None for one process");
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (!initialised || finalised)
    throw ConfigError("comm = " + what + ": MPI is " + (finalised ? "finalised" : "not initialised") +
                      "; import mpi4py's MPI module (it initialises MPI) before passing its communicator");
  const MPI_Comm c = MPI_Comm_f2c(comm.attr("py2f")().cast<MPI_Fint>());
  if (c == MPI_COMM_NULL) throw ConfigError("comm = " + what + " is MPI_COMM_NULL: give a valid communicator");
  return c;
}

}  // namespace sdescore::python
