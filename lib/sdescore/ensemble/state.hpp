#pragma once
/// \file
/// Ensemble state in structure-of-arrays layout: one contiguous row of n_paths doubles per
/// coordinate (dimension-major), data[d * n_paths + p].
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "sdescore/core/error.hpp"

namespace sdescore::ensemble {

/// Read-only view of a SoA state (what snapshot sinks receive).
struct StateView {
  int dim = 0;
  std::int64_t n_paths = 0;
  const double* data = nullptr;  ///< dim rows of n_paths doubles
  const double* coord(int d) const { return data + static_cast<std::ptrdiff_t>(d) * n_paths; }
  double operator()(int d, std::int64_t p) const { return coord(d)[p]; }
};

/// Owning SoA state of an ensemble: dim x n_paths, dimension-major.
class StateMatrix {
 public:
  StateMatrix() = default;
  StateMatrix(int dim, std::int64_t n_paths, double value = 0.0)
      : dim_(dim), n_(n_paths), data_(static_cast<std::size_t>(dim) * static_cast<std::size_t>(n_paths), value) {
    if (dim < 1 || n_paths < 0)
      throw ConfigError("StateMatrix: dim = " + std::to_string(dim) + ", n_paths = " + std::to_string(n_paths) +
                        " is invalid: need dim >= 1 and n_paths >= 0");
  }
  int dim() const { return dim_; }
  std::int64_t n_paths() const { return n_; }
  double* coord(int d) { return data_.data() + static_cast<std::ptrdiff_t>(d) * n_; }
  const double* coord(int d) const { return data_.data() + static_cast<std::ptrdiff_t>(d) * n_; }
  double& operator()(int d, std::int64_t p) { return coord(d)[p]; }
  double operator()(int d, std::int64_t p) const { return coord(d)[p]; }
  std::vector<double>& data() { return data_; }
  const std::vector<double>& data() const { return data_; }
  StateView view() const { return {dim_, n_, data_.data()}; }
  /// State of path p as a column vector.
  Eigen::VectorXd path(std::int64_t p) const {
    Eigen::VectorXd y(dim_);
    for (int d = 0; d < dim_; ++d) y(d) = (*this)(d, p);
    return y;
  }
  /// Copy of paths [first, first + count) (e.g. to compare with a path-range replay).
  StateMatrix slice(std::int64_t first, std::int64_t count) const {
    StateMatrix s(dim_, count);
    for (int d = 0; d < dim_; ++d)
      for (std::int64_t p = 0; p < count; ++p) s(d, p) = (*this)(d, first + p);
    return s;
  }
  bool operator==(const StateMatrix&) const = default;  ///< exact (bitwise for non-NaN) equality

  /// From a path-major matrix (rows = paths, cols = coordinates), e.g. read from a file.
  static StateMatrix from_rows(const Eigen::Ref<const Eigen::MatrixXd>& rows) {
    StateMatrix s(static_cast<int>(rows.cols()), rows.rows());
    for (int d = 0; d < s.dim(); ++d)
      for (std::int64_t p = 0; p < s.n_paths(); ++p) s(d, p) = rows(p, d);
    return s;
  }
  /// Path-major copy (rows = paths).
  Eigen::MatrixXd to_rows() const {
    Eigen::MatrixXd m(n_, dim_);
    for (int d = 0; d < dim_; ++d)
      for (std::int64_t p = 0; p < n_; ++p) m(p, d) = (*this)(d, p);
    return m;
  }

 private:
  int dim_ = 0;
  std::int64_t n_ = 0;
  std::vector<double> data_;
};

}  // namespace sdescore::ensemble
