// tests/ensemble/stats.test.cpp - StatsPartials and merge_partials: the partials of consecutive
// path ranges starting on kStatsChunk boundaries merge to the bits of one accumulator over all
// paths (what sdescore::mpi relies on to reduce statistics across processes).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "sdescore/ensemble/stats.hpp"

using namespace sdescore::ensemble;

namespace ensemble_stats_test {  // named and around the whole file: unity batches must not mix files' helpers

StateMatrix stats_test_state(int dim, std::int64_t n) {
  StateMatrix s(dim, n);
  for (int d = 0; d < dim; ++d)
    for (std::int64_t p = 0; p < n; ++p) s(d, p) = std::sin(0.37 * static_cast<double>(p) + d) * (1.0 + d) + 1e-3 * p;
  return s;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}


TEST_CASE("merge_partials of consecutive chunk-aligned parts equals one accumulator, bit for bit") {
  const int D = 3;
  const std::int64_t n = 300;  // 5 chunks of 64, the last one 44
  const StateMatrix all = stats_test_state(D, n);
  StatsOptions opt;
  opt.enabled = true;
  opt.histograms = {HistogramSpec{0, {-2.0, -1.0, 0.0, 1.0, 2.0}}, HistogramSpec{2, {-3.0, 0.0, 3.0, 4.0, 5.0}}};
  const EnsembleStats one = compute_stats(all.view(), opt);

  // parts of 64, 128 and 108 paths (the way 3 processes split 300 paths)
  StatsPartials merged;
  for (const auto [first, count] : {std::pair<std::int64_t, std::int64_t>{0, 64}, {64, 128}, {192, 108}}) {
    const StateMatrix part = all.slice(first, count);
    StatsAccumulator acc(D, count, opt, 2);
    acc.add_range(part.view(), 0, 64, 1);
    acc.add_range(part.view(), 64, count, 0);
    const StatsPartials p = acc.partials();
    merged.chunks.insert(merged.chunks.end(), p.chunks.begin(), p.chunks.end());
    if (merged.hist.empty()) merged.hist.assign(p.hist.size(), 0);
    REQUIRE(p.hist.size() == merged.hist.size());
    for (std::size_t i = 0; i < p.hist.size(); ++i) merged.hist[i] += p.hist[i];
  }
  const EnsembleStats m = merge_partials(D, opt, merged);
  CHECK(m.n == n);
  CHECK(same_bits(m.mean_data, one.mean_data));
  CHECK(same_bits(m.cov_data, one.cov_data));
  REQUIRE(m.histograms.size() == 2);
  for (std::size_t h = 0; h < 2; ++h) {
    CHECK(m.histograms[h].counts == one.histograms[h].counts);
    CHECK(m.histograms[h].underflow == one.histograms[h].underflow);
    CHECK(m.histograms[h].overflow == one.histograms[h].overflow);
  }
  // the merge is not trivially right: known values of a tiny case
  StateMatrix tiny(1, 3);
  tiny(0, 0) = 1;
  tiny(0, 1) = 2;
  tiny(0, 2) = 6;
  StatsOptions plain;
  plain.enabled = true;
  const EnsembleStats t = merge_partials(1, plain, [&] {
    StatsAccumulator acc(1, 3, plain, 1);
    acc.add_range(tiny.view(), 0, 3, 0);
    return acc.partials();
  }());
  CHECK(t.mean_data[0] == doctest::Approx(3.0));
  CHECK(t.cov_data[0] == doctest::Approx(7.0));  // ((1-3)^2 + (2-3)^2 + (6-3)^2) / 2
}

TEST_CASE("merge_partials refuses histogram counts that do not match the options") {
  StatsOptions opt;
  opt.histograms = {HistogramSpec{0, {0.0, 1.0, 2.0}}};
  StatsPartials p;
  p.hist = {1, 2};  // needs 2 bins + 3
  CHECK_THROWS_AS(merge_partials(1, opt, p), sdescore::ConfigError);
}

}  // namespace ensemble_stats_test
