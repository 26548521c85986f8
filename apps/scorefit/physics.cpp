// scorefit physics: the physics report of eval/physics_report.hpp for a score model file, written
// to HDF5 with a summary table.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "apps/common/cli.hpp"
#include "scorefit.hpp"
#include "sdescore/io/atomic.hpp"

namespace sdescore::scorefit {

int run_physics(const PhysicsOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  io::check_writable_target(o.output, o.force);
  o.validate();
  const auto fit = score::ScoreModel::load(o.model);
  const std::string data_path = o.data.empty() ? fit.record().data_file : o.data;
  const score::TrainingData data = score::load_training_data(data_path, o.ensemble);
  const eval::PhysicsResult r = eval::compute_physics(fit, data, o);
  eval::write_physics(r, o.output, o.force, o.model, data_path, o.command_line);
  if (!o.quiet) {
    const std::size_t nt = r.times.size();
    std::printf("scorefit: wrote %s (%zu times in [%g, %g])\n", o.output.c_str(), nt, r.times.front(), r.times.back());
    std::printf("%10s %14s %14s %12s %14s\n", "t", "Pi(ensemble)", "drift scale", "dS/dt(flow)", "flow outside");
    for (std::size_t i = 0; i < nt; ++i)
      std::printf("%10.4g %14.4g %14.4g %12.4g %13.1f%%\n", r.times[i], r.entropy_production[i], r.drift_scale[i],
                  r.has_flow ? r.flow_entropy_rate[i] : std::nan(""), r.has_flow ? 100 * r.flow_outside_fraction[i] : std::nan(""));
    if (r.has_flow && *std::max_element(r.flow_outside_fraction.begin(), r.flow_outside_fraction.end()) > 0.01)
      std::printf("scorefit: warning: some probability-flow samples left the data's range (column 'flow outside'); they are "
                  "dropped from the /flow averages from then on (a sign of score errors where data are sparse)\n");
  }
  return cli::ok;
}

}  // namespace sdescore::scorefit
