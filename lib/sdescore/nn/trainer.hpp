#pragma once
// Trainer-facing API: one network, its Adam optimiser, learning-rate schedule, EMA of the weights
// and a probe generator, behind one call per training step. Evaluation uses the EMA weights.
//
//   nn::Trainer tr(nn::Architecture::score_model(2), opt);
//   for (...) tr.step_regression(y, t, target, nn::LossWeights::scalar(w));   // DSM / local-DSM
//   for (...) tr.step_ism(y, t, nn::DivergenceKind::exact);                    // ISM
//   Eigen::MatrixXd s = tr.evaluate(y_eval, t_eval);
//
// Any other objective: step_custom(y, t, sigma_bar, divergence, loss) with loss(s, div) returning
// a LossGradient (value, dL/ds, dL/d(div)).
//
// Data parallel over processes (share_with(group), process_group.hpp): every process is given
// the whole batch, computes the network pass and the gradient of its own chunks only, and the
// outputs and chunk gradients are gathered in chunk order; the loss and the sum of the chunk
// gradients are then formed on every process as one process forms them, so the step (and the
// weights) are the single process's bits for any number of processes.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "sdescore/core/parallel.hpp"

#include "sdescore/nn/adam.hpp"
#include "sdescore/nn/architecture.hpp"
#include "sdescore/nn/ema.hpp"
#include "sdescore/nn/loss.hpp"
#include "sdescore/nn/mlp.hpp"
#include "sdescore/nn/probes.hpp"
#include "sdescore/nn/process_group.hpp"
#include "sdescore/nn/schedule.hpp"

namespace sdescore::nn {

struct TrainerOptions {
  AdamOptions adam{};
  LrSchedule schedule{};
  EmaOptions ema{};
  std::uint64_t seed = 0;  ///< parameter init and Hutchinson probes
  Init init = Init::xavier_uniform;
  ProbeKind probe_kind = ProbeKind::rademacher;
  int probes_per_sample = 1;  ///< Hutchinson probes per sample
  int threads = 0;            ///< <= 0: omp_get_max_threads(); results do not depend on it
  Eigen::Index chunk_size = Workspace<float>::default_chunk_size;  ///< results do depend on it
};

struct StepStats {
  double loss = 0;
  double grad_norm = 0;  ///< before clipping
  double lr = 0;
  std::int64_t step = 0;  ///< steps taken so far, this one included
};

class Trainer {
 public:
  using Net = Mlp<float>;

  explicit Trainer(Architecture arch, TrainerOptions opt = {})
      : opt_(opt), net_(std::move(arch), opt.seed, opt.init), adam_(net_.num_parameters(), opt.adam), ema_(opt.ema),
        probes_(opt.seed ^ 0x5bd1e9955bd1e995ull, opt.probe_kind), ws_(opt.chunk_size) {
    opt_.schedule.validate();
    if (opt_.probes_per_sample < 1)
      throw ConfigError("trainer: probes_per_sample = " + std::to_string(opt_.probes_per_sample) +
                        " is invalid: it must be >= 1");
    ema_.update(net_.parameters());
  }

  /// Generic step: forward with the requested divergence, loss(s, div) -> LossGradient, backward,
  /// clipped Adam step at the scheduled learning rate, EMA update.
  template <class LossFn>
  StepStats step_custom(const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
                        const Eigen::Ref<const Eigen::VectorXd>& sigma_bar, const Divergence& div, LossFn&& loss) {
    if (group_) return step_shared(points, times, sigma_bar, div, loss);
    net_.forward(points, times, sigma_bar, div, ws_, opt_.threads);
    const LossGradient lg = loss(ws_.s(), ws_.divergence());
    net_.backward(lg.dL_ds, lg.dL_ddiv, ws_, grad_, opt_.threads);
    return apply_gradient(lg.value);
  }

  /// Regression on targets (B x d): the weighted squared loss (DSM, local-DSM).
  StepStats step_regression(const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
                            const Eigen::Ref<const Eigen::MatrixXd>& targets,
                            const LossWeights& weights = LossWeights::uniform(),
                            const Eigen::Ref<const Eigen::VectorXd>& sigma_bar = Eigen::VectorXd()) {
    return step_custom(points, times, sigma_bar, Divergence::none(),
                       [&](const Eigen::MatrixXd& s, const Eigen::VectorXd&) { return weighted_squared_loss(s, targets, weights); });
  }

  /// ISM step, L = (1/B) sum w_b (|s_b|^2 + 2 div s_b), with the exact or a Hutchinson divergence
  /// (probes from the trainer's own counter-based generator, stream = step number).
  StepStats step_ism(const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
                     DivergenceKind kind = DivergenceKind::exact,
                     const Eigen::Ref<const Eigen::VectorXd>& weights = Eigen::VectorXd(),
                     const Eigen::Ref<const Eigen::VectorXd>& sigma_bar = Eigen::VectorXd()) {
    Divergence div;
    if (kind == DivergenceKind::exact)
      div = Divergence::exact();
    else if (kind == DivergenceKind::hutchinson)
      div = Divergence::hutchinson(probes_.draw(static_cast<std::uint64_t>(adam_.steps()), points.rows(),
                                                net_.architecture().input_dim, opt_.probes_per_sample));
    else
      throw ConfigError("trainer: step_ism needs a divergence: exact or hutchinson, not none");
    return step_custom(points, times, sigma_bar, div,
                       [&](const Eigen::MatrixXd& s, const Eigen::VectorXd& dv) { return ism_loss(s, dv, weights); });
  }

  /// s at n points with the EMA weights (n x d).
  Eigen::MatrixXd evaluate(const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
                           const Eigen::Ref<const Eigen::VectorXd>& sigma_bar = Eigen::VectorXd()) const {
    return ema_model().evaluate(points, times, sigma_bar, opt_.threads);
  }

  /// The network with the EMA weights (for saving or evaluation).
  Net ema_model() const {
    Net m = net_;
    m.set_parameters(ema_.average());
    return m;
  }
  /// The network with the raw (last optimiser step) weights.
  const Net& model() const { return net_; }
  Net& model() { return net_; }
  const Adam<float>& optimizer() const { return adam_; }
  const Ema<float>& ema() const { return ema_; }
  Ema<float>& ema() { return ema_; }
  const TrainerOptions& options() const { return opt_; }
  std::int64_t steps() const { return adam_.steps(); }
  /// Resumes from a checkpoint: raw weights, Adam moments and step count, EMA average and its
  /// update count (what model(), optimizer() and ema() expose). Training then continues exactly
  /// as if it had not been interrupted (the probe stream is keyed by the step count).
  void restore(const Eigen::Ref<const Net::Vector>& parameters, const Eigen::Ref<const Net::Vector>& adam_m,
               const Eigen::Ref<const Net::Vector>& adam_v, std::int64_t steps,
               const Eigen::Ref<const Net::Vector>& ema_average, std::int64_t ema_updates) {
    if (ema_average.size() != net_.num_parameters())
      throw ConfigError("trainer: restore got an EMA of size " + std::to_string(ema_average.size()) +
                        ": the network has " + std::to_string(net_.num_parameters()) + " parameters");
    net_.set_parameters(parameters);
    adam_.set_state(adam_m, adam_v, steps);
    ema_.set_average(ema_average, ema_updates);
  }

  /// Gradient of the last step (after clipping).
  const Net::Vector& last_gradient() const { return grad_; }

  /// Takes the following steps together with the other processes of `group` (data parallel,
  /// see above); nullptr: alone. The group must outlive the steps.
  void share_with(ProcessGroup* group) { group_ = group; }
  ProcessGroup* group() const { return group_; }

 private:
  /// The optimiser step from grad_ (Adam at the scheduled rate, then the EMA), reported with the
  /// batch loss: the end of every training step, in one process or shared.
  StepStats apply_gradient(double loss) {
    StepStats st;
    st.loss = loss;
    st.lr = opt_.schedule(adam_.steps());
    st.grad_norm = adam_.step(net_.parameters(), grad_, st.lr);
    ema_.update(net_.parameters());
    st.step = adam_.steps();
    return st;
  }

  /// step_custom over a process group: this process's chunks of the batch, the rest gathered.
  template <class LossFn>
  StepStats step_shared(const Eigen::Ref<const Eigen::MatrixXd>& points, const Eigen::Ref<const Eigen::VectorXd>& times,
                        const Eigen::Ref<const Eigen::VectorXd>& sigma_bar, const Divergence& div, LossFn& loss) {
    const Eigen::Index B = points.rows(), C = ws_.chunk_size(), n_chunks = (B + C - 1) / C;
    if (B == 0) throw ConfigError("trainer: the batch is empty: it needs at least one sample");
    const int n_proc = group_->size(), me = group_->rank();
    const auto own = share(n_chunks, me, n_proc);
    const Eigen::Index c0 = own.first, c1 = own.second;
    const Eigen::Index out = net_.architecture().output_dim, P = net_.num_parameters();
    const bool with_div = div.kind != DivergenceKind::none;
    const Eigen::Index width = out + (with_div ? 1 : 0);  // per sample: s, then div s
    std::vector<std::int64_t> row_values(static_cast<std::size_t>(n_proc)), grad_values(row_values.size());
    for (int r = 0; r < n_proc; ++r) {
      const auto [a, b] = share(n_chunks, r, n_proc);
      row_values[static_cast<std::size_t>(r)] = (std::min(b * C, B) - std::min(a * C, B)) * width;
      grad_values[static_cast<std::size_t>(r)] = (b - a) * P;
    }
    // The network pass of each own chunk, as a batch of its own: the same chunk (same samples,
    // same size) as in the whole batch's pass, so the same bits.
    const auto rows = [&](Eigen::Index c) { return std::pair<Eigen::Index, Eigen::Index>{c * C, std::min(C, B - c * C)}; };
    const Eigen::Index mine = c1 - c0;
    if (static_cast<Eigen::Index>(chunk_ws_.size()) < mine) chunk_ws_.resize(static_cast<std::size_t>(mine), Workspace<float>(C));
    Eigen::MatrixXd values(width, B);  // one column per sample: a process's samples are contiguous
    const int nt = static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(opt_.threads > 0 ? opt_.threads : omp_get_max_threads(), mine)));
    ParallelErrors errors;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (Eigen::Index k = 0; k < mine; ++k) errors.run(c0 + k, [&] {
      const auto [r0, m] = rows(c0 + k);
      auto& w = chunk_ws_[static_cast<std::size_t>(k)];
      const Divergence dk = div.kind == DivergenceKind::hutchinson ? Divergence::hutchinson(div.probes.middleRows(r0, m)) : div;
      net_.forward(points.middleRows(r0, m), times.segment(r0, m), sigma_bar.size() ? Eigen::VectorXd(sigma_bar.segment(r0, m)) : Eigen::VectorXd(),
                   dk, w, 1);
      values.block(0, r0, out, m) = w.s().transpose();
      if (with_div) values.block(out, r0, 1, m) = w.divergence().transpose();
    });
    errors.rethrow([&](std::int64_t c) { return "batch chunk " + std::to_string(c) + " (samples from " + std::to_string(c * C) + ")"; });
    group_->sync();
    group_->allgather(std::span<double>(values.data(), static_cast<std::size_t>(values.size())), row_values);
    const Eigen::MatrixXd s = values.topRows(out).transpose();
    const Eigen::VectorXd dv = with_div ? Eigen::VectorXd(values.row(out).transpose()) : Eigen::VectorXd();
    const LossGradient lg = loss(s, dv);  // on every process, from the same values: the same loss and dL/ds
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic> grads(P, n_chunks);  // one column per chunk
#pragma omp parallel for num_threads(nt) schedule(static)
    for (Eigen::Index k = 0; k < mine; ++k) errors.run(c0 + k, [&] {
      const auto [r0, m] = rows(c0 + k);
      Net::Vector g;
      net_.backward(lg.dL_ds.middleRows(r0, m), lg.dL_ddiv.size() ? Eigen::VectorXd(lg.dL_ddiv.segment(r0, m)) : Eigen::VectorXd(),
                    chunk_ws_[static_cast<std::size_t>(k)], g, 1);
      grads.col(c0 + k) = g;
    });
    errors.rethrow([&](std::int64_t c) { return "batch chunk " + std::to_string(c) + " (samples from " + std::to_string(c * C) + ")"; });
    group_->sync();
    group_->allgather(std::span<float>(grads.data(), static_cast<std::size_t>(grads.size())), grad_values);
    grad_ = grads.col(0);  // the chunk gradients summed in chunk order, as Mlp::backward sums them
    for (Eigen::Index c = 1; c < n_chunks; ++c) grad_ += grads.col(c);
    return apply_gradient(lg.value);
  }

  TrainerOptions opt_;
  Net net_;
  Adam<float> adam_;
  Ema<float> ema_;
  ProbeGenerator probes_;
  Workspace<float> ws_;
  Net::Vector grad_;
  ProcessGroup* group_ = nullptr;
  std::vector<Workspace<float>> chunk_ws_;  // data parallel: one workspace per own chunk
};

}  // namespace sdescore::nn
