#pragma once
// Shared by the model-file tests: a cache folder in the build tree, example paths, and a helper
// expecting a ConfigError whose message contains given pieces.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "sdescore/modelfile/compile.hpp"

namespace mftest {

inline std::string example(const std::string& name) { return std::string(SDESCORE_TEST_MODELS_DIR) + "/" + name; }

/// Points the model cache at the build tree's test cache (once per process).
inline void use_test_cache() {
  static bool done = [] {
    ::setenv("SDESCORE_CACHE_DIR", SDESCORE_TEST_CACHE_DIR, 1);
    ::unsetenv("CXX");
    return true;
  }();
  (void)done;
}

/// A fresh empty folder under the build tree.
inline std::filesystem::path fresh_dir(const std::string& tag) {
  const auto d = std::filesystem::path(SDESCORE_TEST_CACHE_DIR).parent_path() / ("scratch-" + tag);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline std::string write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

/// The message of the ConfigError thrown by f ("" if none).
template <class F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const sdescore::ConfigError& e) {
    return e.what();
  }
  return "";
}

inline void check_contains(const std::string& msg, std::initializer_list<const char*> parts) {
  CHECK_MESSAGE(!msg.empty(), "expected a ConfigError");
  for (const char* p : parts) CHECK_MESSAGE(msg.find(p) != std::string::npos, "'" << std::string(p) << "' not in: " << msg);
}

}  // namespace mftest
