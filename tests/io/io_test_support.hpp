#pragma once
// Shared helpers for the io tests: a self-removing temporary directory and file bytes.
#include <sdescore/io/run_info.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <unistd.h>

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("sdescore-io-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path, ec);
  }
  /// Files in the directory (names), to check that no temporary is left behind.
  std::size_t count() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path), {}));
  }
};

inline void write_text(const std::filesystem::path& p, const std::string& s) { std::ofstream(p) << s; }
inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline sdescore::io::RunInfo sample_run_info() {
  sdescore::io::RunInfo info;
  info.model = "double_well";
  info.model_parameters = {{"a", 1.0}, {"b", 0.1}, {"sigma", 0.7}};
  info.stepper = "euler_maruyama";
  info.dt = 1e-3;
  info.seed = 12345678901234567890ull;
  info.initial_law = "normal(mean=0, std=1)";
  info.save_every = 10;
  info.path_first = 100;
  info.command_line = "sdesim --model double_well --paths 5 --seed 12345678901234567890";
  info.author = "tester";
  info.extra["t_end"] = 2.5;
  info.extra["n_steps"] = std::int64_t{2500};
  return info;
}
