// sdesim under MPI (docs/distributed.md): with several processes, one run shared by all of them
// (sdescore::mpi::MpiPartition), one file, one error message, one exit code on every rank.
#include <mpi.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "common/cli.hpp"
#include "sdescore/io/atomic.hpp"
#include "sdescore/mpi/partition.hpp"
#include "sdesim.hpp"

namespace sdescore::sdesim {
namespace {

/// The exit code of the current exception and its message as cli::guarded prints it.
int sdesim_mpi_exit_code(std::string& message) {
  try {
    throw;
  } catch (const sim::PartnerFailed&) {
    return cli::ok;  // another rank reports its error
  } catch (const ConfigError& e) {
    message = std::string("sdesim: error: ") + e.what();
    return cli::usage_error;
  } catch (const IoError& e) {
    message = std::string("sdesim: error: ") + e.what();
    return cli::io_error;
  } catch (const NumericalError& e) {
    message = std::string("sdesim: numerical error: ") + e.what();
    return cli::numerical_error;
  } catch (const sim::Cancelled& e) {
    message = std::string("sdesim: ") + e.what();
    return cli::interrupted;
  } catch (const std::exception& e) {
    message = std::string("sdesim: internal error: ") + e.what();
    return cli::internal_error;
  }
}

int sdesim_mpi_run(int argc, char** argv, mpi::MpiPartition& part) {
  CLI::App app{"", "sdesim"};
  Options o;
  setup(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {  // the same on every rank: rank 0 prints
    if (part.rank() == 0) return app.exit(e) == 0 ? cli::ok : cli::usage_error;
    return e.get_exit_code() == 0 ? cli::ok : cli::usage_error;
  }
  if (o.list_models || !o.describe.empty()) {
    if (part.rank() != 0) return cli::ok;
    return cli::guarded("sdesim", [&] { return run(o); });
  }
  o.command_line = cli::command_line(argc, argv);
  o.partition = &part;
  if (part.rank() != 0) o.quiet = true;  // progress and summary from rank 0 only
  io::install_signal_cleanup();
  int code = cli::ok;
  std::string message;
  try {
    code = run(o);
  } catch (...) {
    code = sdesim_mpi_exit_code(message);
    part.fail();  // does nothing if this rank already took part in the failure agreement
  }
  const auto outcome = part.outcome(code);
  if (outcome.reporter == part.rank() && !message.empty()) {
    if (part.size() > 1) message += " (MPI rank " + std::to_string(part.rank()) + " of " + std::to_string(part.size()) + ")";
    std::fprintf(stderr, "%s\n", message.c_str());
  }
  return outcome.code;
}

}  // namespace

int main_mpi(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);  // OpenMP threads make no MPI calls
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int rc = 0;
  if (size == 1) {
    rc = main_program(argc, argv);  // one process: the serial program, every option included
  } else {
    mpi::MpiPartition part(MPI_COMM_WORLD);
    rc = sdesim_mpi_run(argc, argv, part);
  }
  MPI_Finalize();
  return rc;
}

}  // namespace sdescore::sdesim
