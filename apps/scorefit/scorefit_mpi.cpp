// scorefit under MPI (docs/distributed.md): `mpirun -np N scorefit train ...` is one
// data-parallel training run over the N processes (sdescore::mpi::MpiGroup): each computes its
// chunks of every batch, all take the same steps, process 0 writes the file; one error message,
// one exit code on every process. The other subcommands run in one process.
#include <mpi.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "apps/common/cli.hpp"
#include "scorefit.hpp"
#include "sdescore/core/limits.hpp"
#include "sdescore/io/atomic.hpp"
#include "sdescore/mpi/training.hpp"
#include "sdescore/sim/simulation.hpp"  // sim::PartnerFailed

namespace sdescore::scorefit {
namespace {

/// The exit code of the current exception and its message as cli::guarded prints it.
int scorefit_mpi_exit_code(std::string& message) {
  try {
    throw;
  } catch (const sim::PartnerFailed&) {
    return cli::ok;  // another process reports its error
  } catch (...) {
    return cli::current_exit_code("scorefit", message);
  }
}

int scorefit_mpi_run(int argc, char** argv, mpi::MpiGroup& group) {
  CLI::App app{"scorefit: learn, evaluate and export time-dependent scores of SDE ensembles", "scorefit"};
  Options o;
  setup(app, o);
  // The processes agree on the command line first (argv may differ per process: mpirun's MPMD
  // form "-np 1 scorefit A : -np 1 scorefit B"): a parse error, --help or a subcommand other
  // than train on any process ends every process; the lowest such process prints.
  std::exception_ptr parse_error;
  int status = 0;  // 0: train, 1: stop with exit 0 (--help), 2: usage error
  bool not_train = false;
  try {
    app.parse(argc, argv);
    finish_training_flags(o);
    if (!o.train_cmd->parsed()) {
      not_train = true;
      status = 2;
    }
  } catch (const CLI::ParseError& e) {
    parse_error = std::current_exception();
    status = e.get_exit_code() == 0 ? 1 : 2;
  }
  const auto agreed = group.outcome(status);
  if (agreed.code != 0) {
    const int rc = agreed.code == 2 ? cli::usage_error : cli::ok;
    if (agreed.reporter != group.rank()) return rc;
    if (parse_error) {
      try {
        std::rethrow_exception(parse_error);
      } catch (const CLI::ParseError& e) {
        if (app.exit(e) != 0)
          std::fprintf(stderr, "scorefit: (the error above is MPI rank %d's of %d)\n", group.rank(), group.size());
      }
    } else if (not_train) {
      std::fprintf(stderr,
                   "scorefit: error: only `scorefit train` runs over several MPI processes; run the other subcommands "
                   "in one process (without mpirun, or mpirun -np 1) (MPI rank %d of %d)\n",
                   group.rank(), group.size());
    }
    return rc;
  }
  TrainOptions t = o.train;
  t.command_line = cli::command_line(argc, argv);
  for (const CLI::Option* opt : o.train_cmd->get_options())
    if (opt->count() > 0 && !opt->get_lnames().empty()) t.given_flags.push_back("--" + opt->get_lnames().front());
  t.steps_given = o.train_cmd->count("--steps") > 0;
  t.group = &group;
  if (group.rank() != 0) t.quiet = true;  // progress and summary from process 0 only
  io::install_signal_cleanup();
  int code = cli::ok;
  std::string message;
  try {
    check_threads("--threads", t.threads);
    code = run_train(t);
  } catch (...) {
    code = scorefit_mpi_exit_code(message);
    group.fail();  // does nothing if this process already took part in the failure agreement
  }
  const auto outcome = group.outcome(code);
  if (outcome.reporter == group.rank() && !message.empty()) {
    message += " (MPI rank " + std::to_string(group.rank()) + " of " + std::to_string(group.size()) + ")";
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
    rc = main_program(argc, argv);  // one process: the serial program, every subcommand
  } else {
    mpi::MpiGroup group(MPI_COMM_WORLD);
    rc = scorefit_mpi_run(argc, argv, group);
  }
  MPI_Finalize();
  return rc;
}

}  // namespace sdescore::scorefit
