#pragma once
// What the command-line apps share: documented exit codes, one error-to-exit-code mapping,
// and a progress line (rate, ETA) shown on a terminal and silent in scripts.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>

#include "sdescore/core/error.hpp"

namespace sdescore::cli {

/// Exit codes (docs/cli.md).
enum ExitCode : int {
  ok = 0,
  usage_error = 2,      ///< bad command line or configuration (ConfigError, CLI11 parse errors)
  io_error = 3,         ///< file missing, unreadable, unwritable, wrong layout, refused overwrite
  numerical_error = 4,  ///< non-finite state or loss, failed factorisation
  interrupted = 130,    ///< SIGINT: partial output removed
  internal_error = 70,  ///< anything else (a bug: please report)
};

/// The exit code of the exception being handled (call it inside a catch block) and the line
/// that reports it ("<app>: error: <message>"). The one error-to-exit-code mapping: guarded
/// prints the line; the MPI apps pass it to rank 0 after catching their own kinds first.
inline int current_exit_code(const char* app, std::string& message) {
  try {
    throw;
  } catch (const ConfigError& e) {
    message = std::string(app) + ": error: " + e.what();
    return usage_error;
  } catch (const IoError& e) {
    message = std::string(app) + ": error: " + e.what();
    return io_error;
  } catch (const NumericalError& e) {
    message = std::string(app) + ": numerical error: " + e.what();
    return numerical_error;
  } catch (const std::exception& e) {
    message = std::string(app) + ": internal error: " + e.what();
    return internal_error;
  }
}

/// Runs body(), printing "<app>: error: <message>" on failure and returning the exit code.
inline int guarded(const char* app, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception&) {
    std::string message;
    const int code = current_exit_code(app, message);
    std::fprintf(stderr, "%s\n", message.c_str());
    return code;
  }
}

/// A one-line progress display on stderr: shown only when stderr is a terminal (and not quiet),
/// redrawn at most every 0.2 s, finished with a newline.
class Progress {
 public:
  /// `first`: units already done before this run (a resumed job); the rate counts only new ones.
  Progress(std::string label, double total, bool quiet, double first = 0)
      : label_(std::move(label)), total_(total), first_(first), enabled_(!quiet && ::isatty(STDERR_FILENO)),
        start_(std::chrono::steady_clock::now()) {}
  ~Progress() { finish(); }

  bool enabled() const { return enabled_; }

  /// done: units completed so far; extra: text appended (e.g. the current loss).
  void update(double done, const std::string& extra = "") {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? (done - first_) / secs : 0;
    const double eta = rate > 0 ? (total_ - done) / rate : 0;
    std::fprintf(stderr, "\r%s %5.1f%%  %.3g/s  ETA %s%s%s\033[K", label_.c_str(), 100.0 * done / total_, rate,
                 format_seconds(eta).c_str(), extra.empty() ? "" : "  ", extra.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (enabled_ && drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

  static std::string format_seconds(double s) {
    char buf[32];
    if (s < 60)
      std::snprintf(buf, sizeof buf, "%.0fs", s);
    else if (s < 3600)
      std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
    else
      std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
    return buf;
  }

 private:
  std::string label_;
  double total_;
  double first_ = 0;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_{};
};

/// The full command line as one string (stored in every output file).
inline std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

}  // namespace sdescore::cli
