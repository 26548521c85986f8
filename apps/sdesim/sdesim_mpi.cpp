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
  } catch (const sim::Cancelled& e) {
    message = std::string("sdesim: ") + e.what();
    return cli::interrupted;
  } catch (...) {
    return cli::current_exit_code("sdesim", message);
  }
}

int sdesim_mpi_run(int argc, char** argv, mpi::MpiPartition& part) {
  CLI::App app{"", "sdesim"};
  Options o;
  setup(app, o);
  // The ranks agree on the command line before anything else: a parse error, --help or a
  // listing on any rank ends every rank (argv may differ per rank: mpirun's MPMD form
  // "-np 1 sdesim A : -np 1 sdesim B"); the lowest such rank prints. Otherwise a rank that
  // returned here would leave the others waiting at their first agreement.
  std::exception_ptr parse_error;
  int status = 0;  // 0: run, 1: stop with exit 0 (--help, listings), 2: usage error
  try {
    app.parse(argc, argv);
    if (o.list_models || !o.describe.empty()) status = 1;
  } catch (const CLI::ParseError& e) {
    parse_error = std::current_exception();
    status = e.get_exit_code() == 0 ? 1 : 2;
  }
  const auto agreed = part.outcome(status);
  if (agreed.code != 0) {
    if (agreed.reporter != part.rank()) return agreed.code == 2 ? cli::usage_error : cli::ok;
    int rc = cli::ok;
    if (parse_error) {
      try {
        std::rethrow_exception(parse_error);
      } catch (const CLI::ParseError& e) {
        rc = app.exit(e) == 0 ? cli::ok : cli::usage_error;
        if (rc != cli::ok && part.size() > 1)
          std::fprintf(stderr, "sdesim: (the error above is MPI rank %d's of %d)\n", part.rank(), part.size());
      }
    } else {
      rc = cli::guarded("sdesim", [&] { return run(o); });  // the listing
    }
    return agreed.code == 2 ? cli::usage_error : rc;
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
