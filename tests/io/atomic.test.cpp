#include <doctest/doctest.h>
#include <sdescore/core/error.hpp>
#include <sdescore/io/atomic.hpp>
#include "io/io_test_support.hpp"

#include <csignal>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <unistd.h>

using namespace sdescore::io;
namespace fs = std::filesystem;

TEST_CASE("atomic: temporary is a hidden sibling with a fixed-length name, new on each call") {
  auto t = temp_path_for("/some/dir/out.h5");
  CHECK(t.parent_path() == fs::path("/some/dir"));
  const auto name = t.filename().string();
  CHECK(name.rfind(".tmp-", 0) == 0);
  CHECK(name.size() == 21);
  CHECK(name.find_first_not_of("0123456789abcdef", 5) == std::string::npos);
  CHECK(temp_path_for("/some/dir/out.h5") != t);
  CHECK(temp_path_for("/some/dir/" + std::string(255, 'x')).filename().string().size() == 21);
}

TEST_CASE("regression: a target name of 255 bytes is written (the temporary's name no longer exceeds NAME_MAX)") {
  TempDir dir;
  for (std::size_t len : {245u, 250u, 255u}) {
    const auto target = dir.path / std::string(len, 'n');
    AtomicFile f(target, false);
    f.root().set_attr("x", 1.0);
    f.commit();
    CHECK(fs::is_regular_file(target));
  }
}

TEST_CASE("atomic: --force replaces regular files only: FIFOs, devices and symlinks are refused and kept") {
  TempDir dir;
  const auto fifo = dir.path / "fifo.h5";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(check_writable_target(fifo, true), doctest::Contains("special file"), sdescore::IoError);
  CHECK_THROWS_WITH_AS(AtomicFile(fifo, true), doctest::Contains("special file"), sdescore::IoError);
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  CHECK_THROWS_WITH_AS(check_writable_target("/dev/null", true), doctest::Contains("special file"), sdescore::IoError);
  const auto real = dir.path / "real.h5";
  { std::ofstream(real) << "keep"; }
  const auto link = dir.path / "link.h5";
  fs::create_symlink(real, link);
  CHECK_THROWS_WITH_AS(check_writable_target(link, true), doctest::Contains("symbolic link"), sdescore::IoError);
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  fs::create_symlink(dir.path / "nowhere", dir.path / "dangling.h5");
  CHECK_THROWS_WITH_AS(check_writable_target(dir.path / "dangling.h5", true), doctest::Contains("dangling"), sdescore::IoError);
  CHECK_NOTHROW(check_writable_target(real, true));  // a regular file is replaced with the flag
  CHECK(dir.count() == 4);                             // no temporary left behind
}

TEST_CASE("atomic: an input and an output resolving to the same file are refused") {
  TempDir dir;
  const auto a = dir.path / "a.h5";
  { std::ofstream(a) << "input"; }
  CHECK_THROWS_WITH_AS(check_distinct_files(a, a, "--data"), doctest::Contains("same file as --data"), sdescore::IoError);
  fs::create_hard_link(a, dir.path / "hard.h5");
  CHECK_THROWS_AS(check_distinct_files(a, dir.path / "hard.h5", "--data"), sdescore::IoError);
  fs::create_symlink(a, dir.path / "sym.h5");
  CHECK_THROWS_AS(check_distinct_files(dir.path / "sym.h5", a, "--data"), sdescore::IoError);
  CHECK_THROWS_AS(check_distinct_files(a, dir.path / "." / "a.h5", "--data"), sdescore::IoError);
  CHECK_NOTHROW(check_distinct_files(a, dir.path / "b.h5", "--data"));  // b does not exist
  { std::ofstream(dir.path / "c.h5") << "other"; }
  CHECK_NOTHROW(check_distinct_files(a, dir.path / "c.h5", "--data"));
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
