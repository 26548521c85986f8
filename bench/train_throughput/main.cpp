// Training steps per second of the score network used by sdescore:
//   3 inputs (y in R^2, t) -> 128 -> 128 -> 2, SiLU, batch 512, float32,
//   (a) DSM-type weighted squared loss, (b) ISM with the exact divergence,
// each step = forward + backward + clipped Adam + cosine schedule + EMA (nn::Trainer).
// Usage: bench_train_throughput [--threads N] [--seconds S] [--loss dsm|ism|all] [--chunk C]
// Prints one line per configuration: "RESULT <loss> <threads> <steps_per_s> <cpu_use>", where
// cpu_use = process CPU time / (wall time * threads) (< 1 means the machine was shared).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sdescore/nn/nn.hpp"

using namespace sdescore::nn;

namespace {

struct Data {
  std::vector<Eigen::MatrixXd> y, target;
  std::vector<Eigen::VectorXd> t, w;
};

Data make_data(int n_batches, int B) {
  Data d;
  ProbeGenerator g(1, ProbeKind::gaussian);
  for (int k = 0; k < n_batches; ++k) {
    d.y.push_back(g.draw(4 * k, B, 2));
    d.target.push_back(-d.y.back());
    d.t.push_back((g.draw(4 * k + 1, B, 1).array().abs() * 0.3).matrix());
    d.w.push_back((1.0 + g.draw(4 * k + 2, B, 1).array().abs()).matrix());
  }
  return d;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Rate {
  double steps_per_s, cpu_use;
};

Rate run(const std::string& loss, int threads, double seconds, long chunk) {
  const int B = 512;
  Architecture a = Architecture::score_model(2);
  a.time.n_frequencies = 0;  // t itself: 3 inputs
  TrainerOptions o;
  o.threads = threads;
  o.chunk_size = chunk;
  o.schedule = LrSchedule::warmup_cosine(1e-3, 100, 1000000, 1e-5);
  Trainer tr(a, o);
  const Data data = make_data(16, B);
  auto step = [&](int k) {
    const int i = k % 16;
    if (loss == "dsm")
      tr.step_regression(data.y[i], data.t[i], data.target[i], LossWeights::scalar(data.w[i]));
    else
      tr.step_ism(data.y[i], data.t[i], DivergenceKind::exact, data.w[i]);
  };
  for (int k = 0; k < 20; ++k) step(k);  // warm-up
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const double c0 = cpu_seconds();
  int n = 0;
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int k = 0; k < 10; ++k) step(n++);
    elapsed = std::chrono::duration<double>(clock::now() - t0).count();
  }
  return {n / elapsed, (cpu_seconds() - c0) / (elapsed * threads)};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  double seconds = 3.0;
  long chunk = Workspace<float>::default_chunk_size;
  std::vector<std::string> losses = {"dsm", "ism"};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--threads")
      threads = {std::atoi(v.c_str())};
    else if (k == "--seconds")
      seconds = std::atof(v.c_str());
    else if (k == "--chunk")
      chunk = std::atol(v.c_str());
    else if (k == "--loss" && v != "all")
      losses = {v};
    else {
      std::fprintf(stderr, "unknown option %s (valid: --threads N, --seconds S, --loss dsm|ism|all, --chunk C)\n", k.c_str());
      return 2;
    }
  }
  for (const auto& l : losses)
    for (int t : threads) {
      const Rate r = run(l, t, seconds, chunk);
      std::printf("RESULT %s %d %.1f %.2f\n", l.c_str(), t, r.steps_per_s, r.cpu_use);
      std::fflush(stdout);
    }
  return 0;
}
