#include "apps/common/cli.hpp"
#include "scorefit.hpp"

int main(int argc, char** argv) {
  CLI::App app{"scorefit: learn, evaluate and export time-dependent scores of SDE ensembles"};
  sdescore::scorefit::Options opt;
  sdescore::scorefit::setup(app, opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : sdescore::cli::usage_error;
  }
  const std::string cmd = sdescore::cli::command_line(argc, argv);
  opt.train.command_line = opt.score.command_line = opt.grid.command_line = opt.compare.command_line = opt.physics.command_line = cmd;
  return sdescore::cli::guarded("scorefit", [&] { return sdescore::scorefit::run(opt); });
}
