#pragma once
// The score network s_theta(y, t): an MLP on [y; phi(t)] with hand-derived reverse mode, exact
// and Hutchinson divergences by forward-mode tangents, and the parameter gradient of those
// divergences (docs/nn.md has the formulas).
//
// Data layout: activations are (width x batch) column-major so every layer is one GEMM. The batch
// is cut into fixed chunks of `Workspace::chunk_size()` samples; OpenMP runs chunks in parallel,
// each with its own buffers and its own gradient, and the chunk gradients are summed in chunk
// order. Results therefore depend on the seed and the chunk size, never on the thread count.
//
// Public batch interfaces take double (points n x d, one sample per row) and cast to T.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "sdescore/core/error.hpp"
#include "sdescore/nn/activation.hpp"
#include "sdescore/nn/architecture.hpp"
#include "sdescore/nn/detail/gemm.hpp"
#include "sdescore/nn/detail/rng.hpp"

namespace sdescore::nn {

template <class T>
using MatX = detail::MatX<T>;
template <class T>
using VecX = detail::VecX<T>;

enum class DivergenceKind {
  none,        ///< no divergence
  exact,       ///< sum_j ds_j/dy_j, one forward tangent per coordinate of y
  hutchinson,  ///< (1/P) sum_p v_p^T (ds/dy) v_p with caller-supplied probes v_p
};

/// What the forward pass should compute besides s.
struct Divergence {
  DivergenceKind kind = DivergenceKind::none;
  /// Hutchinson probes, B x (P*d): probe p of sample b is row b, columns [p*d, (p+1)*d).
  Eigen::MatrixXd probes;

  static Divergence none() { return {}; }
  static Divergence exact() { return {DivergenceKind::exact, {}}; }
  static Divergence hutchinson(Eigen::MatrixXd probes) { return {DivergenceKind::hutchinson, std::move(probes)}; }
};

template <class T>
class Mlp;

/// Buffers of one batch (activations, tangents, per-chunk gradients) kept between forward() and
/// backward(). Reuse one workspace across steps: buffers are allocated once.
template <class T>
class Workspace {
 public:
  static constexpr Eigen::Index default_chunk_size = 256;

  explicit Workspace(Eigen::Index chunk_size = default_chunk_size) : chunk_(chunk_size) {
    if (chunk_size < 1)
      throw ConfigError("workspace: chunk_size = " + std::to_string(chunk_size) + " is invalid: it must be >= 1");
  }

  Eigen::Index chunk_size() const { return chunk_; }
  /// s of the last forward, batch x output_dim.
  const Eigen::MatrixXd& s() const { return s_; }
  /// Divergence (exact or Hutchinson estimate) of the last forward, batch; empty if none requested.
  const Eigen::VectorXd& divergence() const { return div_; }

 private:
  friend class Mlp<T>;
  struct Chunk {
    Eigen::Index begin = 0, m = 0;
    MatX<T> x;                          // network input, n0 x m
    std::vector<MatX<T>> z, h, d1, d2;  // per hidden layer, w x m
    MatX<T> o;                          // output before scaling, out x m
    VecX<T> c;                          // output scale 1/sigma_bar, m
    MatX<T> u;                          // Hutchinson probes, d x (K m)
    std::vector<MatX<T>> zt, ht;        // tangents per hidden layer, w x (K m)
    MatX<T> ot;                         // output tangents, out x (K m)
    MatX<T> dout, dot;                  // output adjoints (primal, tangent)
    std::vector<MatX<T>> inj;           // second-derivative injection into the primal adjoint
    MatX<T> g, g2, gt, gt2;             // ping-pong adjoint buffers
    VecX<T> grad;                       // this chunk's parameter gradient
  };
  Eigen::Index chunk_;
  std::vector<Chunk> chunks_;
  Eigen::Index batch_ = -1;
  Eigen::Index n_parameters_ = -1;
  Eigen::Index n_tangents_ = 0;
  DivergenceKind kind_ = DivergenceKind::none;
  bool has_backward_state_ = false;
  Eigen::MatrixXd s_;
  Eigen::VectorXd div_;
};

template <class T = float>
class Mlp {
 public:
  using Scalar = T;
  using Vector = VecX<T>;

  /// Builds the network and initialises its parameters from `seed` (deterministic).
  explicit Mlp(Architecture arch, std::uint64_t seed = 0, Init init = Init::xavier_uniform)
      : arch_(std::move(arch)) {
    arch_.validate();
    if (arch_.hidden.empty())
      throw ConfigError("architecture: hidden is empty: the network needs at least one hidden layer");
    theta_.resize(arch_.num_parameters());
    initialize(seed, init);
  }

  const Architecture& architecture() const { return arch_; }
  Eigen::Index num_parameters() const { return theta_.size(); }

  /// Flat parameter vector: for each affine layer l = 0..n_layers-1, W_l (out x in, column-major)
  /// then b_l. Layer 0's first input_dim columns act on y, the rest on the time features.
  const Vector& parameters() const { return theta_; }
  Vector& parameters() { return theta_; }
  void set_parameters(const Eigen::Ref<const Vector>& theta) {
    check_size(theta.size(), "set_parameters");
    theta_ = theta;
  }
  /// Parameters as float32, the storage format (HDF5 writers use this with architecture()).
  std::vector<float> flat_parameters() const {
    std::vector<float> v(static_cast<std::size_t>(theta_.size()));
    for (Eigen::Index i = 0; i < theta_.size(); ++i) v[static_cast<std::size_t>(i)] = static_cast<float>(theta_[i]);
    return v;
  }
  void set_flat_parameters(std::span<const float> v) {
    check_size(static_cast<Eigen::Index>(v.size()), "set_flat_parameters");
    for (Eigen::Index i = 0; i < theta_.size(); ++i) theta_[i] = static_cast<T>(v[static_cast<std::size_t>(i)]);
  }

  /// Re-draws all weights from (seed, init); biases are set to zero.
  void initialize(std::uint64_t seed, Init init = Init::xavier_uniform) {
    for (int l = 0; l < arch_.n_layers(); ++l) {
      const int in = arch_.layer_in(l), out = arch_.layer_out(l);
      const double a = init == Init::xavier_uniform ? std::sqrt(6.0 / (in + out)) : std::sqrt(3.0 / in);
      T* w = theta_.data() + arch_.weight_offset(l);
      for (std::int64_t i = 0; i < std::int64_t(in) * out; ++i)
        w[i] = static_cast<T>(a * (2.0 * detail::uniform01(detail::random_bits(seed, std::uint64_t(l), std::uint64_t(i))) - 1.0));
      T* b = theta_.data() + arch_.bias_offset(l);
      for (int i = 0; i < out; ++i) b[i] = T(0);
    }
  }

  /// Weight of affine layer l (layer_out x layer_in) and bias (layer_out), views into parameters().
  Eigen::Map<const MatX<T>> weight(int l) const {
    return {theta_.data() + arch_.weight_offset(l), arch_.layer_out(l), arch_.layer_in(l)};
  }
  Eigen::Map<const VecX<T>> bias(int l) const { return {theta_.data() + arch_.bias_offset(l), arch_.layer_out(l)}; }

  /// s_theta at n points (n x d, one per row) and times (n): returns n x output_dim.
  /// sigma_bar (n or empty): per-sample output preconditioning s = NN / sigma_bar.
  /// threads <= 0: omp_get_max_threads(). Thread-safe (const, own buffers).
  Eigen::MatrixXd evaluate(const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
                           const Eigen::Ref<const Eigen::VectorXd>& sigma_bar = Eigen::VectorXd(), int threads = 0,
                           Eigen::Index chunk_size = Workspace<T>::default_chunk_size) const {
    return evaluate_impl(points, times, sigma_bar, Divergence::none(), threads, chunk_size).first;
  }
  /// Exact divergence div_y s_theta at n points (needs output_dim == input_dim).
  Eigen::VectorXd divergence(const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
                             const Eigen::Ref<const Eigen::VectorXd>& sigma_bar = Eigen::VectorXd(), int threads = 0,
                             Eigen::Index chunk_size = Workspace<T>::default_chunk_size) const {
    return evaluate_impl(points, times, sigma_bar, Divergence::exact(), threads, chunk_size).second;
  }

  /// Training forward pass over a batch; results in ws.s() and ws.divergence(), activations kept
  /// in ws for backward().
  void forward(const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
               const Eigen::Ref<const Eigen::VectorXd>& sigma_bar, const Divergence& div, Workspace<T>& ws,
               int threads = 0) const {
    const Eigen::Index B = points.rows();
    const Eigen::Index K = check_inputs(points, times, sigma_bar, div);
    if (B == 0) throw ConfigError("Mlp::forward: the batch is empty: it needs at least one sample");
    ws.has_backward_state_ = false;
    ws.n_parameters_ = num_parameters();
    ws.batch_ = B;
    ws.kind_ = div.kind;
    ws.n_tangents_ = K;
    ws.s_.resize(B, arch_.output_dim);
    ws.div_.resize(div.kind == DivergenceKind::none ? 0 : B);
    const Eigen::Index n_chunks = (B + ws.chunk_ - 1) / ws.chunk_;
    ws.chunks_.resize(static_cast<std::size_t>(n_chunks));
    const int nt = resolve_threads(threads, n_chunks);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (Eigen::Index c = 0; c < n_chunks; ++c) {
      auto& ch = ws.chunks_[static_cast<std::size_t>(c)];
      ch.begin = c * ws.chunk_;
      ch.m = std::min(ws.chunk_, B - ch.begin);
      forward_chunk(ch, points, times, sigma_bar, div, true, ws.s_, ws.div_);
    }
    ws.has_backward_state_ = true;
  }

  /// Reverse pass after forward(): given dL/ds (batch x output_dim) and, if the forward computed a
  /// divergence, dL/d(div) (batch; empty = 0), writes dL/dtheta to grad (resized to num_parameters()).
  void backward(const Eigen::Ref<const Eigen::MatrixXd>& dL_ds, const Eigen::Ref<const Eigen::VectorXd>& dL_ddiv,
                Workspace<T>& ws, Vector& grad, int threads = 0) const {
    if (!ws.has_backward_state_)
      throw ConfigError("Mlp::backward: the workspace holds no forward pass: call forward() first");
    if (ws.n_parameters_ != num_parameters())
      throw ConfigError("Mlp::backward: the workspace holds a forward pass of a network with " +
                        std::to_string(ws.n_parameters_) + " parameters, this one has " + std::to_string(num_parameters()));
    if (dL_ds.rows() != ws.batch_ || dL_ds.cols() != arch_.output_dim)
      throw ConfigError("Mlp::backward: dL/ds is " + std::to_string(dL_ds.rows()) + " x " + std::to_string(dL_ds.cols()) +
                        ": it must be batch x output_dim = " + std::to_string(ws.batch_) + " x " +
                        std::to_string(arch_.output_dim));
    const bool with_div = dL_ddiv.size() > 0;
    if (with_div && ws.kind_ == DivergenceKind::none)
      throw ConfigError("Mlp::backward: dL/d(div) given but the forward pass computed no divergence");
    if (with_div && dL_ddiv.size() != ws.batch_)
      throw ConfigError("Mlp::backward: dL/d(div) has size " + std::to_string(dL_ddiv.size()) +
                        ": it must be empty or the batch size " + std::to_string(ws.batch_));
    const Eigen::Index n_chunks = static_cast<Eigen::Index>(ws.chunks_.size());
    const Eigen::Index P = num_parameters(), block = 2048, n_blocks = (P + block - 1) / block;
    grad.resize(P);
    const int nt = resolve_threads(threads, n_chunks);
#pragma omp parallel num_threads(nt)
    {
#pragma omp for schedule(static)
      for (Eigen::Index c = 0; c < n_chunks; ++c)
        backward_chunk(ws.chunks_[static_cast<std::size_t>(c)], dL_ds, with_div ? &dL_ddiv : nullptr, ws.kind_,
                       ws.n_tangents_);
      // (implicit barrier) Sum chunk gradients in chunk order: deterministic for any thread count.
#pragma omp for schedule(static)
      for (Eigen::Index blk = 0; blk < n_blocks; ++blk) {
        const Eigen::Index i0 = blk * block, n = std::min(block, P - i0);
        grad.segment(i0, n) = ws.chunks_[0].grad.segment(i0, n);
        for (Eigen::Index c = 1; c < n_chunks; ++c)
          grad.segment(i0, n) += ws.chunks_[static_cast<std::size_t>(c)].grad.segment(i0, n);
      }
    }
  }

 private:
  Architecture arch_;
  Vector theta_;

  void check_size(Eigen::Index n, const char* what) const {
    if (n != theta_.size())
      throw ConfigError(std::string("Mlp::") + what + ": got " + std::to_string(n) + " parameters but the architecture needs " +
                        std::to_string(theta_.size()));
  }

  static int resolve_threads(int threads, Eigen::Index work_items) {
    int t = threads > 0 ? threads : omp_get_max_threads();
    return static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(t, work_items)));
  }

  /// Validates a batch; returns the number of tangents per sample.
  Eigen::Index check_inputs(const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
                            const Eigen::Ref<const Eigen::VectorXd>& sigma_bar, const Divergence& div) const {
    const Eigen::Index B = points.rows(), d = arch_.input_dim;
    if (points.cols() != d)
      throw ConfigError("Mlp: points have " + std::to_string(points.cols()) + " columns: they must have input_dim = " +
                        std::to_string(d) + " (one sample per row)");
    if (times.size() != B)
      throw ConfigError("Mlp: times has size " + std::to_string(times.size()) + ": it must equal the number of points " +
                        std::to_string(B));
    if (sigma_bar.size() != 0 && sigma_bar.size() != B)
      throw ConfigError("Mlp: sigma_bar has size " + std::to_string(sigma_bar.size()) +
                        ": it must be empty (no preconditioning) or the number of points " + std::to_string(B));
    for (Eigen::Index b = 0; b < B; ++b) {
      if (!std::isfinite(times[b]))
        throw NumericalError("Mlp: times[" + std::to_string(b) + "] = " + sdescore::detail::fmt_double(times[b]) + " is not finite");
      for (Eigen::Index j = 0; j < d; ++j)
        if (!std::isfinite(points(b, j)))
          throw NumericalError("Mlp: points(" + std::to_string(b) + ", " + std::to_string(j) +
                               ") = " + sdescore::detail::fmt_double(points(b, j)) + " is not finite");
      if (sigma_bar.size() && !(sigma_bar[b] > 0 && std::isfinite(sigma_bar[b])))
        throw NumericalError("Mlp: sigma_bar[" + std::to_string(b) + "] = " + sdescore::detail::fmt_double(sigma_bar[b]) +
                             " is invalid: it must be finite and > 0");
      if (arch_.time.scale == TimeScale::log && !(times[b] > 0))
        throw NumericalError("Mlp: times[" + std::to_string(b) + "] = " + sdescore::detail::fmt_double(times[b]) +
                             " is invalid for the log time scale: it must be > 0");
    }
    if (div.kind == DivergenceKind::none) return 0;
    if (arch_.output_dim != d)
      throw ConfigError("Mlp: a divergence needs output_dim == input_dim, got output_dim = " +
                        std::to_string(arch_.output_dim) + ", input_dim = " + std::to_string(d));
    if (div.kind == DivergenceKind::exact) return d;
    if (div.probes.rows() != B || div.probes.cols() < d || div.probes.cols() % d != 0)
      throw ConfigError("Mlp: Hutchinson probes are " + std::to_string(div.probes.rows()) + " x " +
                        std::to_string(div.probes.cols()) + ": they must be batch x (P * input_dim) = " +
                        std::to_string(B) + " x (P * " + std::to_string(d) + "), P >= 1");
    return div.probes.cols() / d;
  }

  std::pair<Eigen::MatrixXd, Eigen::VectorXd> evaluate_impl(const Eigen::Ref<const Eigen::MatrixXd>& points,
                                                            const Eigen::Ref<const Eigen::VectorXd>& times,
                                                            const Eigen::Ref<const Eigen::VectorXd>& sigma_bar,
                                                            const Divergence& div, int threads, Eigen::Index chunk) const {
    if (chunk < 1) throw ConfigError("Mlp::evaluate: chunk_size = " + std::to_string(chunk) + " must be >= 1");
    check_inputs(points, times, sigma_bar, div);
    const Eigen::Index n = points.rows();
    Eigen::MatrixXd s(n, arch_.output_dim);
    Eigen::VectorXd dv(div.kind == DivergenceKind::none ? 0 : n);
    const Eigen::Index n_chunks = (n + chunk - 1) / chunk;
    const int nt = resolve_threads(threads, n_chunks);
#pragma omp parallel num_threads(nt)
    {
      typename Workspace<T>::Chunk ch;
#pragma omp for schedule(static)
      for (Eigen::Index c = 0; c < n_chunks; ++c) {
        ch.begin = c * chunk;
        ch.m = std::min(chunk, n - ch.begin);
        forward_chunk(ch, points, times, sigma_bar, div, false, s, dv);
      }
    }
    return {std::move(s), std::move(dv)};
  }

  using Chunk = typename Workspace<T>::Chunk;
  using Ref = Eigen::Ref<MatX<T>>;

  Eigen::Map<MatX<T>> grad_weight(VecX<T>& g, int l) const {
    return {g.data() + arch_.weight_offset(l), arch_.layer_out(l), arch_.layer_in(l)};
  }
  Eigen::Map<VecX<T>> grad_bias(VecX<T>& g, int l) const { return {g.data() + arch_.bias_offset(l), arch_.layer_out(l)}; }

  void forward_chunk(Chunk& ch, const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
                     const Eigen::Ref<const Eigen::VectorXd>& sigma_bar, const Divergence& div, bool for_backward,
                     Eigen::MatrixXd& s_out, Eigen::VectorXd& div_out) const {
    using detail::gemm;
    using detail::Op;
    const Eigen::Index m = ch.m, b0 = ch.begin, d = arch_.input_dim, n0 = arch_.network_input_dim();
    const int L = static_cast<int>(arch_.hidden.size());
    const bool tangents = div.kind != DivergenceKind::none;
    const bool want_d1 = for_backward || tangents, want_d2 = for_backward && tangents;
    const Eigen::Index K = div.kind == DivergenceKind::exact ? d : (tangents ? div.probes.cols() / d : 0);
    const Eigen::Index Km = K * m;

    ch.x.resize(n0, m);
    for (Eigen::Index j = 0; j < m; ++j) {
      for (Eigen::Index i = 0; i < d; ++i) ch.x(i, j) = static_cast<T>(points(b0 + j, i));
      arch_.time.compute(times[b0 + j], ch.x.col(j).data() + d);
    }
    ch.c.resize(m);
    if (sigma_bar.size())
      for (Eigen::Index j = 0; j < m; ++j) ch.c[j] = static_cast<T>(1.0 / sigma_bar[b0 + j]);
    else
      ch.c.setOnes();

    ch.z.resize(L);
    ch.h.resize(L);
    ch.d1.resize(L);
    ch.d2.resize(L);
    for (int l = 0; l < L; ++l) {
      const Eigen::Index w = arch_.hidden[l];
      ch.z[l].resize(w, m);
      ch.h[l].resize(w, m);
      ch.z[l].colwise() = bias(l);  // fused bias: the GEMM accumulates onto it
      gemm<T>(ch.z[l], weight(l), Op::none, l == 0 ? ch.x : ch.h[l - 1], Op::none, T(1), true);
      if (want_d1) ch.d1[l].resize(w, m);
      if (want_d2) ch.d2[l].resize(w, m);
      activate<T>(arch_.activation, w * m, ch.z[l].data(), ch.h[l].data(), want_d1 ? ch.d1[l].data() : nullptr,
                  want_d2 ? ch.d2[l].data() : nullptr);
    }
    ch.o.resize(arch_.output_dim, m);
    ch.o.colwise() = bias(L);
    gemm<T>(ch.o, weight(L), Op::none, ch.h[L - 1], Op::none, T(1), true);
    for (Eigen::Index j = 0; j < m; ++j)
      for (Eigen::Index i = 0; i < arch_.output_dim; ++i) s_out(b0 + j, i) = static_cast<double>(ch.o(i, j) * ch.c[j]);

    if (!tangents) return;
    // Forward-mode tangents: zt_0 = W_0[:, :d] u_k, ht_l = act'(z_l) * zt_l, zt_{l+1} = W_{l+1} ht_l.
    ch.zt.resize(L);
    ch.ht.resize(L);
    ch.zt[0].resize(arch_.hidden[0], Km);
    const auto W0 = weight(0);
    if (div.kind == DivergenceKind::exact) {
      for (Eigen::Index k = 0; k < K; ++k) ch.zt[0].middleCols(k * m, m).colwise() = W0.col(k);
    } else {
      ch.u.resize(d, Km);
      for (Eigen::Index k = 0; k < K; ++k)
        for (Eigen::Index j = 0; j < m; ++j)
          for (Eigen::Index i = 0; i < d; ++i) ch.u(i, k * m + j) = static_cast<T>(div.probes(b0 + j, k * d + i));
      gemm<T>(ch.zt[0], W0.leftCols(d), Op::none, ch.u, Op::none);
    }
    for (int l = 0; l < L; ++l) {
      const Eigen::Index w = arch_.hidden[l];
      if (l > 0) {
        ch.zt[l].resize(w, Km);
        gemm<T>(ch.zt[l], weight(l), Op::none, ch.ht[l - 1], Op::none);
      }
      ch.ht[l].resize(w, Km);
      for (Eigen::Index k = 0; k < K; ++k)
        ch.ht[l].middleCols(k * m, m).array() = ch.d1[l].array() * ch.zt[l].middleCols(k * m, m).array();
    }
    ch.ot.resize(arch_.output_dim, Km);
    gemm<T>(ch.ot, weight(L), Op::none, ch.ht[L - 1], Op::none);
    for (Eigen::Index j = 0; j < m; ++j) {
      T q(0);
      if (div.kind == DivergenceKind::exact) {
        for (Eigen::Index k = 0; k < K; ++k) q += ch.ot(k, k * m + j);
      } else {
        for (Eigen::Index k = 0; k < K; ++k) q += ch.u.col(k * m + j).dot(ch.ot.col(k * m + j));
        q /= static_cast<T>(K);
      }
      div_out[b0 + j] = static_cast<double>(q * ch.c[j]);
    }
  }

  void backward_chunk(Chunk& ch, const Eigen::Ref<const Eigen::MatrixXd>& dL_ds, const Eigen::Ref<const Eigen::VectorXd>* dL_ddiv,
                      DivergenceKind kind, Eigen::Index K) const {
    using detail::gemm;
    using detail::Op;
    const Eigen::Index m = ch.m, b0 = ch.begin, d = arch_.input_dim, Km = K * m;
    const int L = static_cast<int>(arch_.hidden.size());
    ch.grad.setZero(num_parameters());

    ch.inj.resize(L);
    if (dL_ddiv) {
      // Reverse through the tangent computation. alpha_j = dL/d(div_j) * c_j.
      ch.dot.setZero(arch_.output_dim, Km);
      for (Eigen::Index j = 0; j < m; ++j) {
        const T alpha = static_cast<T>((*dL_ddiv)[b0 + j]) * ch.c[j];
        if (kind == DivergenceKind::exact)
          for (Eigen::Index k = 0; k < K; ++k) ch.dot(k, k * m + j) = alpha;
        else
          for (Eigen::Index k = 0; k < K; ++k) ch.dot.col(k * m + j) = ch.u.col(k * m + j) * (alpha / static_cast<T>(K));
      }
      gemm<T>(grad_weight(ch.grad, L), ch.dot, Op::none, ch.ht[L - 1], Op::transpose, T(1), true);
      ch.gt.resize(arch_.hidden[L - 1], Km);
      gemm<T>(ch.gt, weight(L), Op::transpose, ch.dot, Op::none);
      for (int l = L - 1; l >= 0; --l) {
        // gt = dL/d(ht_l). Injection into dL/dz_l: sum_k act''(z_l) * zt_l^k * gt^k.
        ch.inj[l].resize(arch_.hidden[l], m);
        ch.inj[l].array() = ch.zt[l].leftCols(m).array() * ch.gt.leftCols(m).array();
        for (Eigen::Index k = 1; k < K; ++k)
          ch.inj[l].array() += ch.zt[l].middleCols(k * m, m).array() * ch.gt.middleCols(k * m, m).array();
        ch.inj[l].array() *= ch.d2[l].array();
        // gt <- dL/d(zt_l) = act'(z_l) * gt
        for (Eigen::Index k = 0; k < K; ++k) ch.gt.middleCols(k * m, m).array() *= ch.d1[l].array();
        if (l > 0) {
          gemm<T>(grad_weight(ch.grad, l), ch.gt, Op::none, ch.ht[l - 1], Op::transpose, T(1), true);
          ch.gt2.resize(arch_.hidden[l - 1], Km);
          gemm<T>(ch.gt2, weight(l), Op::transpose, ch.gt, Op::none);
          std::swap(ch.gt, ch.gt2);
        } else if (kind == DivergenceKind::exact) {
          auto gW0 = grad_weight(ch.grad, 0);
          for (Eigen::Index k = 0; k < K; ++k) gW0.col(k) += ch.gt.middleCols(k * m, m).rowwise().sum();
        } else {
          gemm<T>(grad_weight(ch.grad, 0).leftCols(d), ch.gt, Op::none, ch.u, Op::transpose, T(1), true);
        }
      }
    }

    // Primal reverse pass: delta_out = c * dL/ds, delta_l = act'(z_l) * W_{l+1}^T delta_{l+1} (+ injection).
    ch.dout.resize(arch_.output_dim, m);
    for (Eigen::Index j = 0; j < m; ++j)
      for (Eigen::Index i = 0; i < arch_.output_dim; ++i) ch.dout(i, j) = static_cast<T>(dL_ds(b0 + j, i)) * ch.c[j];
    gemm<T>(grad_weight(ch.grad, L), ch.dout, Op::none, ch.h[L - 1], Op::transpose, T(1), true);
    grad_bias(ch.grad, L) += ch.dout.rowwise().sum();
    ch.g.resize(arch_.hidden[L - 1], m);
    gemm<T>(ch.g, weight(L), Op::transpose, ch.dout, Op::none);
    for (int l = L - 1; l >= 0; --l) {
      if (dL_ddiv)
        ch.g.array() = ch.g.array() * ch.d1[l].array() + ch.inj[l].array();
      else
        ch.g.array() *= ch.d1[l].array();
      gemm<T>(grad_weight(ch.grad, l), ch.g, Op::none, l == 0 ? ch.x : ch.h[l - 1], Op::transpose, T(1), true);
      grad_bias(ch.grad, l) += ch.g.rowwise().sum();
      if (l > 0) {
        ch.g2.resize(arch_.hidden[l - 1], m);
        gemm<T>(ch.g2, weight(l), Op::transpose, ch.g, Op::none);
        std::swap(ch.g, ch.g2);
      }
    }
  }
};

extern template class Mlp<float>;
extern template class Mlp<double>;

}  // namespace sdescore::nn
