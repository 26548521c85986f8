#include <doctest/doctest.h>
#include <sdescore/core/error.hpp>
#include <sdescore/io/atomic.hpp>
#include "io/io_test_support.hpp"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace sdescore::io;
namespace fs = std::filesystem;

TEST_CASE("atomic: temporary is a hidden sibling named after the target and pid") {
  auto t = temp_path_for("/some/dir/out.h5");
  CHECK(t.parent_path() == fs::path("/some/dir"));
  const auto name = t.filename().string();
  CHECK(name.rfind(".out.h5.tmp-" + std::to_string(::getpid()) + "-", 0) == 0);
  CHECK(temp_path_for("/some/dir/out.h5") != t);
}

TEST_CASE("atomic: commit renames the temporary onto the target") {
  TempDir dir;
  auto target = dir.path / "out.h5";
  AtomicFile f(target, false);
  CHECK(fs::exists(f.temp_path()));
  CHECK_FALSE(fs::exists(target));
  f.root().set_attr("x", 1.0);
  f.commit();
  CHECK(f.committed());
  CHECK(fs::exists(target));
  CHECK_FALSE(fs::exists(f.temp_path()));
  CHECK(dir.count() == 1);
  CHECK(open_file(target).attr_double("x") == 1.0);
  CHECK_THROWS_AS(f.commit(), sdescore::IoError);
}

TEST_CASE("atomic: destruction without commit leaves no file and keeps an existing target") {
  TempDir dir;
  auto target = dir.path / "out.h5";
  {
    AtomicFile f(target, false);
    f.root().set_attr("x", 1.0);
  }
  CHECK(dir.count() == 0);

  write_text(target, "precious bytes");
  try {
    AtomicFile f(target, true);
    f.root().set_attr("x", 2.0);
    throw std::runtime_error("simulated failure");
  } catch (const std::runtime_error&) {
  }
  CHECK(read_bytes(target) == "precious bytes");
  CHECK(dir.count() == 1);
}

TEST_CASE("atomic: refuses to overwrite without the flag and names the path and --force") {
  TempDir dir;
  auto target = dir.path / "exists.h5";
  write_text(target, "old");
  const std::string target_s = target.string();
  CHECK_THROWS_WITH_AS(AtomicFile(target, false), doctest::Contains(target_s.c_str()), sdescore::IoError);
  CHECK_THROWS_WITH_AS(AtomicFile(target, false), doctest::Contains("--force"), sdescore::IoError);
  CHECK(read_bytes(target) == "old");
  {
    AtomicFile f(target, true);
    f.commit();
  }
  CHECK(read_bytes(target) != "old");
  CHECK(dir.count() == 1);
}

TEST_CASE("atomic: unwritable or missing directory is an IoError naming the path") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(AtomicFile(dir.path / "missing" / "out.h5", false), doctest::Contains("missing"),
                       sdescore::IoError);
  if (::geteuid() != 0) {  // root ignores directory permissions
    auto ro = dir.path / "ro";
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    const std::string ro_s = (ro / "out.h5").string();
    CHECK_THROWS_WITH_AS(AtomicFile(ro / "out.h5", false), doctest::Contains(ro_s.c_str()), sdescore::IoError);
    fs::permissions(ro, fs::perms::owner_all);
  }
  CHECK_THROWS_AS(AtomicFile(dir.path, true), sdescore::IoError);  // a directory
}

TEST_CASE("atomic: SIGTERM removes live temporaries and still kills the process") {
  TempDir dir;
  auto target = dir.path / "interrupted.h5";
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGTERM, SIG_DFL);  // doctest's crash handler must not report the child's death
    install_signal_cleanup();
    AtomicFile f(target, false);
    f.root().set_attr("x", 1.0);
    ::raise(SIGTERM);
    ::_exit(0);  // not reached
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(dir.count() == 0);
}

TEST_CASE("atomic: registry removes registered paths on demand") {
  TempDir dir;
  auto p = dir.path / ".x.tmp";
  write_text(p, "tmp");
  register_temp_path(p);
  remove_registered_temp_files();
  CHECK_FALSE(fs::exists(p));
  write_text(p, "tmp");
  register_temp_path(p);
  unregister_temp_path(p);
  remove_registered_temp_files();
  CHECK(fs::exists(p));
}
