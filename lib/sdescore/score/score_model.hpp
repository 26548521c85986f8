#pragma once
// A learned score model: what `scorefit train` writes and every evaluation reads. It loads and
// saves itself (score_file.hpp layout), evaluates the score s(y, t), the diffusion-weighted
// score D s and the probability-flow velocity v = f - div D - D s with the diffusion of the
// model it was trained on (any noise kind), and carries its training configuration.
#include <filesystem>
#include <memory>
#include <string>

#include <Eigen/Dense>

#include "sdescore/nn/mlp.hpp"
#include "sdescore/score/score_file.hpp"
#include "sdescore/score/training_config.hpp"

namespace sdescore::score {

class ScoreModel {
 public:
  /// A model from a file record (checks that the weights fit the architecture).
  explicit ScoreModel(ScoreModelFile record);
  /// Reads a score model file; IoError naming the file when it is not one.
  static ScoreModel load(const std::filesystem::path& path);
  /// Writes atomically; IoError when the target exists and !overwrite (nothing is written then).
  void save(const std::filesystem::path& path, bool overwrite = false) const;

  const ScoreModelFile& record() const { return rec_; }
  /// The training configuration saved with the model (IoError when the file lacks a setting).
  TrainingConfig config() const;
  /// The state a resumed run continues from (weights, Adam moments, schedule, curve);
  /// IoError when the file holds no optimiser state.
  std::shared_ptr<FitState> fit_state() const;

  const std::string& model_name() const { return rec_.data.model; }
  int dim() const { return rec_.arch.input_dim; }
  double t_min() const { return rec_.t_min; }
  double t_max() const { return rec_.t_max; }
  /// The network with the EMA weights (what evaluation uses).
  const nn::Mlp<float>& network() const { return *net_; }

  /// s(y_i, t_i) for the rows of y (n x d) and times t (n): n x d. ConfigError on wrong shapes
  /// or non-finite times. threads <= 0: all.
  Eigen::MatrixXd score(const Eigen::MatrixXd& y, const Eigen::VectorXd& t, int threads = 0) const;
  /// D(y_i, t_i) s(y_i, t_i), D = G G^T / 2 of the model the score was trained on.
  Eigen::MatrixXd diffusion_score(const Eigen::MatrixXd& y, const Eigen::VectorXd& t, int threads = 0) const;
  /// The probability-flow velocity v = f - div D - D s (method.md 1), for any noise kind.
  Eigen::MatrixXd velocity(const Eigen::MatrixXd& y, const Eigen::VectorXd& t, int threads = 0) const;

  /// A BatchScore (eval/model_fields.hpp) over this model's network.
  auto batch_score(int threads = 0) const {
    return [this, threads](const Eigen::MatrixXd& y, const Eigen::VectorXd& t) { return score(y, t, threads); };
  }

 private:
  void check_points(const Eigen::MatrixXd& y, const Eigen::VectorXd& t) const;
  ScoreModelFile rec_;
  std::shared_ptr<const nn::Mlp<float>> net_;
};

}  // namespace sdescore::score
