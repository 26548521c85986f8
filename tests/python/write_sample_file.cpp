// Writes a small sdescore file with values the Python checker recomputes independently:
//   particles/ensemble/position/value[s, p, d] = s + 0.001 * path[p] + 0.1 * d
//   time[s] = 0.5 * s, step[s] = 10 * s, path[p] = 10 + p (path_first = 10)
//   observables/ensemble: mean[s, d] = s + 0.1 * d, covariance[s] = (1 + s) * I + 0.01,
//   histogram of coordinates {0, 2} with edges linspace(-1, 1, 5) and counts[s, c, b] = s + 10 c + b
// and, if a second path is given, a checkpoint of the last snapshot there.
// Usage: io_write_sample_file <output.h5> [<checkpoint.h5>]   (overwrites)
#include <sdescore/io/io.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::cerr << "usage: " << argv[0] << " <output.h5> [<checkpoint.h5>]\n";
    return 2;
  }
  try {
    namespace io = sdescore::io;
    io::install_signal_cleanup();
    const std::int64_t S = 5, P = 7, D = 3, first = 10;
    io::RunInfo info;
    info.model = "double_well";
    info.model_parameters = {{"a", 1.0}, {"b", 0.25}, {"sigma", 0.5}};
    info.stepper = "euler_maruyama";
    info.dt = 0.05;
    info.seed = 42;
    info.initial_law = "normal(mean=0, std=1)";
    info.save_every = 10;
    info.path_first = first;
    info.path_count = P;
    info.command_line = "io_write_sample_file " + std::string(argv[1]);
    info.author = "sdescore tests";
    info.extra["t_end"] = 2.0;

    io::OutputFile file(argv[1], info, /*overwrite=*/true);
    io::EnsembleOptions eo;
    eo.coordinate_names = {"x", "y", "z"};
    eo.compression = 3;
    io::EnsembleWriter ens(file, P, D, eo);

    io::ObservablesOptions oo;
    oo.n_paths = P;
    io::HistogramSpec h;
    h.coordinates = {0, 2};
    h.bin_edges.resize(2, 5);
    h.bin_edges.row(0).setLinSpaced(-1.0, 1.0);
    h.bin_edges.row(1).setLinSpaced(-1.0, 1.0);
    oo.histogram = h;
    io::ObservablesWriter obs(file, D, oo);

    // The simulator's natural layout: dim-major (structure of arrays).
    std::vector<double> soa(static_cast<std::size_t>(D * P));
    for (std::int64_t s = 0; s < S; ++s) {
      for (std::int64_t d = 0; d < D; ++d)
        for (std::int64_t p = 0; p < P; ++p)
          soa[static_cast<std::size_t>(d * P + p)] = double(s) + 0.001 * double(first + p) + 0.1 * double(d);
      ens.append_dim_major(soa.data(), 0.5 * double(s), 10 * s);

      Eigen::VectorXd mean(D);
      for (std::int64_t d = 0; d < D; ++d) mean(d) = double(s) + 0.1 * double(d);
      Eigen::MatrixXd cov = Eigen::MatrixXd::Constant(D, D, 0.01);
      cov.diagonal().array() += double(1 + s);
      io::CountMatrix counts(2, 4);
      for (int c = 0; c < 2; ++c)
        for (int b = 0; b < 4; ++b) counts(c, b) = s + 10 * c + b;
      obs.append(0.5 * double(s), 10 * s, mean, cov, counts);
    }
    // Generic helper: a named dataset with a named dimension, as other layers use it.
    io::Group extras = file.root().require_group("sample_extras");
    extras.write_array("loss", std::vector<double>{3.0, 2.0, 1.5, 1.25}, {4}, {"epoch"});
    file.commit();

    if (argc == 3) {
      io::Checkpoint ck;
      ck.run = info;
      ck.step = 10 * (S - 1);
      ck.time = 0.5 * double(S - 1);
      ck.positions.resize(P, D);
      for (std::int64_t p = 0; p < P; ++p)
        for (std::int64_t d = 0; d < D; ++d) ck.positions(p, d) = soa[static_cast<std::size_t>(d * P + p)];
      io::write_checkpoint(argv[2], ck, /*overwrite=*/true);
    }
  } catch (const std::exception& e) {
    std::cerr << "io_write_sample_file: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
