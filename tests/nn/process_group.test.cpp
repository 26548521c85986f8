// nn::ProcessGroup (process_group.hpp) and Trainer::share_with: a training step shared by several
// processes gives the single process's bits. The processes here are threads sharing memory
// (support/thread_group.hpp); tests/mpi/test_mpi_scorefit.py checks the same over MPI.
#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "nn_test_support.hpp"
#include "support/thread_group.hpp"
#include "sdescore/nn/trainer.hpp"

using namespace sdescore;
using namespace sdescore::nn;

namespace nn_process_group_test {  // named and around the whole file: unity batches must not mix files' helpers

using test::Board;
using test::ThreadGroup;

Architecture small_arch(int d) {
  Architecture a;
  a.input_dim = a.output_dim = d;
  a.hidden = {24, 24};
  a.time.n_frequencies = 2;
  return a;
}

TrainerOptions small_options() {
  TrainerOptions o;
  o.schedule = LrSchedule::warmup_cosine(3e-3, 2, 20, 1e-5);
  o.seed = 7;
  o.threads = 1;
  o.chunk_size = 64;  // a batch of 200: chunks of 64, 64, 64, 8
  return o;
}

enum class Kind { regression, ism_exact, ism_hutchinson };

/// The parameters, Adam moments and EMA after `steps` steps of each process of a group of n
/// (n = 0: one process alone, no group); every process's result is returned.
std::vector<std::vector<float>> train(int n, Kind kind, int steps = 6) {
  const int B = 200, d = 2;
  auto one = [&](ProcessGroup* g) {
    Trainer tr(small_arch(d), small_options());
    tr.share_with(g);
    for (int k = 0; k < steps; ++k) {
      const Eigen::MatrixXd y = nn_test::random_matrix(B, d, 100 + k);
      const Eigen::VectorXd t = nn_test::random_vector(B, 200 + k, 0.1, 1);
      if (kind == Kind::regression)
        tr.step_regression(y, t, -y, LossWeights::scalar(nn_test::random_vector(B, 300 + k, 0.5, 2)));
      else
        tr.step_ism(y, t, kind == Kind::ism_exact ? DivergenceKind::exact : DivergenceKind::hutchinson);
    }
    return sdescore::test::trainer_state(tr);
  };
  if (n == 0) return {one(nullptr)};
  Board board(n);
  std::vector<std::vector<float>> res(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      ThreadGroup g(board, r);
      res[static_cast<std::size_t>(r)] = one(&g);
    });
  for (auto& t : threads) t.join();
  return res;
}

TEST_CASE("share: consecutive parts in rank order that cover the items") {
  for (int n : {1, 2, 3, 7})
    for (std::int64_t items : {0, 1, 4, 5, 64, 1000}) {
      std::int64_t next = 0;
      for (int r = 0; r < n; ++r) {
        const auto [a, b] = share(items, r, n);
        CHECK(a == next);
        CHECK(b >= a);
        CHECK(b - a <= items / n + 1);
        next = b;
      }
      CHECK(next == items);
    }
}

TEST_CASE("allgather_varying: every process's values, of any count (none too), in rank order on every process") {
  for (int n : {1, 2, 3, 4}) {
    Board board(n);
    std::vector<std::vector<double>> got(static_cast<std::size_t>(n));
    std::vector<std::vector<std::int64_t>> counts(static_cast<std::size_t>(n));
    std::vector<std::thread> threads;
    for (int r = 0; r < n; ++r)
      threads.emplace_back([&, r] {
        ThreadGroup g(board, r);
        std::vector<double> mine(static_cast<std::size_t>(r == 1 ? 0 : 2 * r + 1));  // rank 1 sends nothing
        for (std::size_t k = 0; k < mine.size(); ++k) mine[k] = 100.0 * r + static_cast<double>(k);
        got[static_cast<std::size_t>(r)] = allgather_varying(g, mine, counts[static_cast<std::size_t>(r)]);
      });
    for (auto& t : threads) t.join();
    std::vector<double> expect;
    std::vector<std::int64_t> expect_counts;
    for (int r = 0; r < n; ++r) {
      const int c = r == 1 ? 0 : 2 * r + 1;
      expect_counts.push_back(c);
      for (int k = 0; k < c; ++k) expect.push_back(100.0 * r + k);
    }
    for (int r = 0; r < n; ++r) {
      CAPTURE(n);
      CAPTURE(r);
      CHECK(got[static_cast<std::size_t>(r)] == expect);
      CHECK(counts[static_cast<std::size_t>(r)] == expect_counts);
    }
  }
}

TEST_CASE("Trainer::share_with: 1, 2, 3 and 4 processes take the single process's steps, bit for bit") {
  for (Kind kind : {Kind::regression, Kind::ism_exact, Kind::ism_hutchinson}) {
    const auto alone = train(0, kind)[0];
    for (int n : {1, 2, 3, 4}) {
      const auto shared = train(n, kind);
      for (int r = 0; r < n; ++r) {
        CAPTURE(static_cast<int>(kind));
        CAPTURE(n);
        CAPTURE(r);
        REQUIRE(shared[static_cast<std::size_t>(r)].size() == alone.size());
        CHECK(std::memcmp(shared[static_cast<std::size_t>(r)].data(), alone.data(), alone.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("Trainer::share_with: a partial sum per process would not be the same bits (the test can fail)") {
  // The chunk gradients summed in another grouping, ((g0 + g1) + (g2 + g3)) instead of
  // (((g0 + g1) + g2) + g3), differ in the last bits for this batch: gathering partial sums per
  // process would break the guarantee the test above checks.
  const int B = 200, d = 2;
  Trainer tr(small_arch(d), small_options());
  const Eigen::MatrixXd y = nn_test::random_matrix(B, d, 100);
  const Eigen::VectorXd t = nn_test::random_vector(B, 200, 0.1, 1);
  Mlp<float>::Vector g[4];
  for (int c = 0; c < 4; ++c) {
    const int r0 = 64 * c, m = std::min(64, B - r0);
    Workspace<float> ws(64);
    tr.model().forward(y.middleRows(r0, m), t.segment(r0, m), Eigen::VectorXd(), Divergence::exact(), ws, 1);
    const Eigen::MatrixXd dl = ws.s() / B;
    tr.model().backward(dl, Eigen::VectorXd::Constant(m, 2.0 / B), ws, g[c], 1);
  }
  const Mlp<float>::Vector in_order = ((g[0] + g[1]).eval() + g[2]).eval() + g[3];
  const Mlp<float>::Vector pairs = (g[0] + g[1]).eval() + (g[2] + g[3]).eval();
  CHECK(std::memcmp(in_order.data(), pairs.data(), static_cast<std::size_t>(in_order.size()) * sizeof(float)) != 0);
}

}  // namespace nn_process_group_test
