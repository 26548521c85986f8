// scorefit on an ensemble of a model file: the model is rebuilt from the text stored in the
// ensemble (no .toml anywhere), dsm applies to a verified-linear file, and a stored text that
// does not match its recorded hash is refused.
#include <doctest/doctest.h>

#include <random>

#include "scorefit_test_support.hpp"
#include "sdescore/io/ensemble_reader.hpp"
#include "sdescore/modelfile/visit.hpp"
#include "sdescore/score/score_file.hpp"

using namespace sdescore;
using namespace sdescore::scorefit_test;

namespace scorefit_model_file_test {  // named and around the whole file: unity batches must not mix files' helpers

const std::string kOuText =
    "name = \"ou_file\"\nvariables = [\"x\"]\nlinear = true\ndrift = [\"-B*(x - mu)\"]\ndiffusion = \"S\"\n"
    "[parameters]\nB = 1.0\nmu = 0.0\nS = 1.0\n";

/// The exact OU ensemble of write_ou_file, recorded as produced by a model file (text stored,
/// the model never loaded in this process before training).
fs::path write_file_model_ensemble(const fs::path& dir, const std::string& text, const std::string& recorded_text) {
  ::setenv("SDESCORE_CACHE_DIR", SDESCORE_TEST_CACHE_DIR, 1);
  const fs::path plain = write_ou_file(dir);
  io::EnsembleReader r(plain.string());
  io::RunInfo info = r.info();
  const std::string hash = modelfile::content_hash(text);
  info.model = "file:ou_file#" + hash.substr(0, 16);
  info.extra["model_file_text"] = recorded_text;
  info.extra["model_file_hash"] = hash;
  const fs::path p = dir / "ou_file.h5";
  io::OutputFile out(p, info);
  io::EnsembleWriter w(out, r.n_paths(), 1);
  for (std::int64_t s = 0; s < r.n_snapshots(); ++s) w.append(r.snapshot(s), r.times()[s], r.steps()[s]);
  out.commit();
  return p;
}


TEST_CASE("scorefit train on a model file's ensemble: rebuilt from the stored text; dsm for linear = true") {
  TempDir dir;
  const fs::path data = write_file_model_ensemble(dir.path, kOuText, kOuText);
  for (const char* objective : {"local-dsm", "dsm"}) {
    auto o = quick_train(data, dir.path / (std::string(objective) + ".h5"));
    o.objective = objective;
    REQUIRE(scorefit::run_train(o) == 0);
    const auto f = score::read_score_file(o.output);
    CHECK(f.data.model == "file:ou_file#" + modelfile::content_hash(kOuText).substr(0, 16));
    CHECK(std::get<std::string>(f.data.extra.at("model_file_text")) == kOuText);
  }
}

TEST_CASE("scorefit: a stored model text that does not match its recorded hash is refused") {
  TempDir dir;
  std::string changed = kOuText;
  changed.replace(changed.find("B = 1.0"), 7, "B = 2.0");  // edited after the run: another model, same name
  const fs::path data = write_file_model_ensemble(dir.path, kOuText, changed);
  auto o = quick_train(data, dir.path / "out.h5");
  CHECK_THROWS_WITH_AS(scorefit::run_train(o), doctest::Contains("does not match the recorded model 'file:ou_file#"), IoError);
  CHECK(!fs::exists(dir.path / "out.h5"));
  // The edited file is a different model: its recorded name differs, so runs are never mixed up.
  CHECK(modelfile::content_hash(changed).substr(0, 16) != modelfile::content_hash(kOuText).substr(0, 16));
}

}  // namespace scorefit_model_file_test
