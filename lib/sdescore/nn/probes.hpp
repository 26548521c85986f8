#pragma once
// Random probes for the Hutchinson divergence v^T (ds/dy) v (E[v v^T] = I).
// Counter-based: entry (b, p, i) of draw number `stream` is a pure function of
// (seed, stream, b, p, i), so probes do not depend on thread count or call order.
#include <cstdint>
#include <string>
#include <string_view>

#include <Eigen/Core>

#include "sdescore/core/error.hpp"
#include "sdescore/nn/detail/rng.hpp"

namespace sdescore::nn {

enum class ProbeKind { rademacher, gaussian };

inline std::string_view probe_kind_name(ProbeKind k) { return k == ProbeKind::rademacher ? "rademacher" : "gaussian"; }
inline ProbeKind parse_probe_kind(std::string_view name) {
  if (name == "rademacher") return ProbeKind::rademacher;
  if (name == "gaussian") return ProbeKind::gaussian;
  throw ConfigError("probe kind '" + std::string(name) + "' is unknown: valid are rademacher, gaussian");
}

class ProbeGenerator {
 public:
  explicit ProbeGenerator(std::uint64_t seed, ProbeKind kind = ProbeKind::rademacher) : seed_(seed), kind_(kind) {}

  /// Probes for a batch: B x (P*d), probe p of sample b in row b, columns [p*d, (p+1)*d)
  /// (the layout Divergence::hutchinson expects).
  Eigen::MatrixXd draw(std::uint64_t stream, Eigen::Index batch, Eigen::Index dim, Eigen::Index per_sample = 1) const {
    if (batch < 1 || dim < 1 || per_sample < 1)
      throw ConfigError("ProbeGenerator::draw: batch = " + std::to_string(batch) + ", dim = " + std::to_string(dim) +
                        ", per_sample = " + std::to_string(per_sample) + ": all must be >= 1");
    // entry (b, c) is variate idx = b * P * d + c of (seed, stream): bit 63 of random_bits for
    // Rademacher probes, standard_normal (= one block of random::normals) for Gaussian ones
    using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    RowMajor v(batch, per_sample * dim);
    if (kind_ == ProbeKind::gaussian) {
      random::normals(seed_, 0, stream, std::span<double>(v.data(), static_cast<std::size_t>(v.size())));
    } else {
      for (Eigen::Index i = 0; i < v.size(); ++i)
        v.data()[i] = (detail::random_bits(seed_, stream, std::uint64_t(i)) >> 63) ? 1.0 : -1.0;
    }
    return v;
  }

  ProbeKind kind() const { return kind_; }
  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
  ProbeKind kind_;
};

}  // namespace sdescore::nn
