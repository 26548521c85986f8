#pragma once
// Exceptions and OpenMP regions: no exception may leave a parallel region (that calls
// std::terminate). Loops whose body can throw (a failed factorisation of a user's sample, a
// stepper refusing a state) run each item through ParallelErrors::run: the exception is
// recorded with the item's index, the loop goes on (or skips the rest), and after the region
// rethrow() raises the error of the lowest index, with a context naming that item
// (file, snapshot, path, sample) prefixed to its message. The type (ConfigError, IoError,
// NumericalError) is kept, so the apps still map it to its exit code.
//
//   ParallelErrors errs;
//   #pragma omp parallel for
//   for (int j = 0; j < n; ++j) errs.run(j, [&] { work(j); });
//   errs.rethrow([&](std::int64_t j) { return "sample " + std::to_string(j); });
//
// Header-only and free of OpenMP (a mutex guards the record), so the numeric core may use it.
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <new>
#include <string>

#include "sdescore/core/error.hpp"

namespace sdescore {

class ParallelErrors {
 public:
  /// Runs f() for item `index`; an exception is recorded instead of propagating. Returns false
  /// if f threw.
  template <class F>
  bool run(std::int64_t index, F&& f) noexcept {
    try {
      f();
      return true;
    } catch (...) {
      capture(index);
      return false;
    }
  }

  /// Records the exception in flight (call inside a catch block) for item `index`; of several,
  /// the one of the lowest index is kept, so the report does not depend on the schedule.
  void capture(std::int64_t index) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    ++count_;
    failed_.store(true, std::memory_order_relaxed);
    if (index < index_) {
      index_ = index;
      error_ = std::current_exception();
    }
  }

  /// True once any item failed (cheap: loops may skip the remaining work).
  bool any() const noexcept { return failed_.load(std::memory_order_relaxed); }
  std::int64_t count() const noexcept { return count_; }
  std::int64_t first_index() const noexcept { return index_; }

  /// After the region: throws the recorded error of the lowest index (if any), its message
  /// prefixed with context(index) + ": " when a context is given. Errors of the library's
  /// types keep their type; std::bad_alloc is rethrown as is; anything else becomes a
  /// NumericalError (it came out of numerical work on that item).
  void rethrow(const std::function<std::string(std::int64_t)>& context = {}) const {
    if (!error_) return;
    const std::string pre = context ? context(index_) + ": " : std::string();
    const std::string more = count_ > 1 ? " (" + std::to_string(count_) + " items failed; the first is reported)" : "";
    try {
      std::rethrow_exception(error_);
    } catch (const ConfigError& e) {
      throw ConfigError(pre + e.what() + more);
    } catch (const IoError& e) {
      throw IoError(pre + e.what() + more);
    } catch (const NumericalError& e) {
      throw NumericalError(pre + e.what() + more);
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      throw NumericalError(pre + e.what() + more);
    } catch (...) {
      throw NumericalError(pre + "unknown error" + more);
    }
  }

 private:
  mutable std::mutex mutex_;
  std::atomic<bool> failed_{false};
  std::int64_t count_ = 0;
  std::int64_t index_ = std::numeric_limits<std::int64_t>::max();
  std::exception_ptr error_;
};

}  // namespace sdescore
