#include "textfile_sink.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace emp;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/emp-textfile-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TaskIdentity identity() {
  TaskIdentity id;
  id.task_id = "abc123";
  id.task_family = "fam";
  id.task_revision = "3";
  return id;
}

}  // namespace

TEST_CASE("textfile: atomic replace, mode 0644, no temp file left") {
  TempDir d;
  const std::string target = (d.path / "x.prom").string();
  std::string error;
  REQUIRE(write_file_atomically(target, "a 1\n", error));
  REQUIRE(write_file_atomically(target, "a 2\n", error));
  CHECK(slurp(target) == "a 2\n");
  struct stat st {};
  REQUIRE(stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  CHECK(entries(d.path) == 1);
}

TEST_CASE("textfile: a failed write keeps the old file and leaves no temp file") {
  TempDir d;
  const std::string target = (d.path / "x.prom").string();
  std::string error;
  REQUIRE(write_file_atomically(target, "old 1\n", error));
  // The target is a directory: the rename fails after the temp file was written.
  const std::string blocked = (d.path / "dir.prom").string();
  fs::create_directory(blocked);
  fs::create_directory(fs::path(blocked) / "child");
  CHECK_FALSE(write_file_atomically(blocked, "new 1\n", error));
  CHECK(error.find("rename") != std::string::npos);
  CHECK(slurp(target) == "old 1\n");
  CHECK(entries(d.path) == 2);  // x.prom and dir.prom only
  // A directory that does not exist.
  CHECK_FALSE(write_file_atomically((d.path / "missing" / "y.prom").string(), "z 1\n", error));
  CHECK(error.find("No such file or directory") != std::string::npos);
}

namespace {
bool deliver(Sink& sink, const MetricSet& set, const TaskIdentity& id, std::string& error) {
  return sink.deliver({set, id, true, std::chrono::steady_clock::now() + std::chrono::seconds(5)}, error);
}
}  // namespace

TEST_CASE("textfile sink: file named after the task, task identity on every series") {
  TempDir d;
  auto sink = make_textfile_sink({d.path.string(), "", ""});
  MetricSet set;
  uint32_t c = set.new_labels();
  set.append_label(c, "container_name", "app");
  set.add(Metric::ContainerCpuUsage, c, 1);
  set.add(Metric::ExporterSuccess, 0, 1);
  std::string error;
  REQUIRE_MESSAGE(deliver(*sink, set, identity(), error), error);
  const std::string text = slurp(d.path / "ecs_abc123.prom");
  CHECK(text.find("ee_container_cpu_usage_seconds_total{container_name=\"app\",task_id=\"abc123\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("ee_ecs_metrics_exporter_success{task_family=\"fam\",task_revision=\"3\",task_id=\"abc123\"} 1\n") !=
        std::string::npos);
  REQUIRE(sink->remove(identity(), std::chrono::steady_clock::now(), error));
  CHECK(entries(d.path) == 0);
  // Without an identity the default file name cannot be known.
  CHECK_FALSE(deliver(*sink, set, TaskIdentity{}, error));
  CHECK(error.find("task identity not known") != std::string::npos);
}

TEST_CASE("textfile sink: a FIFO or device path is written into, never replaced") {
  TempDir d;
  const fs::path fifo = d.path / "pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  auto sink = make_textfile_sink({"", "", fifo.string()});
  MetricSet set;
  set.add(Metric::ExporterSuccess, 0, 1);
  std::string error;
  REQUIRE_MESSAGE(deliver(*sink, set, identity(), error), error);
  char buf[4096];
  ssize_t n = ::read(reader, buf, sizeof buf);
  ::close(reader);
  REQUIRE(n > 0);
  CHECK(std::string_view(buf, static_cast<size_t>(n)).find("ee_ecs_metrics_exporter_success{") !=
        std::string_view::npos);
  struct stat st {};
  REQUIRE(stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));  // still a FIFO
  CHECK(sink->remove(identity(), std::chrono::steady_clock::now(), error));
  CHECK(fs::exists(fifo));  // --delete-on-exit leaves devices alone
  // A directory in the way is an error, not a rename over it.
  auto into_dir = make_textfile_sink({"", "", d.path.string()});
  CHECK_FALSE(deliver(*into_dir, set, identity(), error));
  CHECK(error.find("not a regular file") != std::string::npos);
}

TEST_CASE("textfile sink: a FIFO nobody reads is refused at once, a stalled reader times out at the deadline") {
  TempDir d;
  const fs::path fifo = d.path / "ecs_abc123.prom";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  auto sink = make_textfile_sink({d.path.string(), "", ""});
  MetricSet set;
  set.add(Metric::ExporterSuccess, 0, 1);
  std::string error;
  // No reader: open(O_NONBLOCK) fails with ENXIO instead of blocking forever.
  CHECK_FALSE(deliver(*sink, set, identity(), error));
  CHECK(error.find("FIFO with no reader") != std::string::npos);
  // A reader that never reads: the pipe fills, the write stops at the deadline.
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  for (int i = 0; i < 20000; ++i) {
    uint32_t c = set.new_labels();
    set.append_label(c, "container_name", std::to_string(i));
    set.add(Metric::ContainerCpuUsage, c, i);
  }
  CHECK_FALSE(
      sink->deliver({set, identity(), true, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)}, error));
  CHECK(error.find("before the cycle's deadline") != std::string::npos);
  ::close(reader);
}

TEST_CASE("textfile: planted symlinks are never followed, no other file changes mode") {
  TempDir d;
  const fs::path victim = d.path / "victim";
  { std::ofstream(victim) << "precious\n"; }
  REQUIRE(chmod(victim.c_str(), 0600) == 0);
  // The name an older version used (pid-based), and the target name itself.
  const fs::path old_tmp = d.path / (".x.prom." + std::to_string(getpid()) + ".tmp");
  fs::create_symlink(victim, old_tmp);
  fs::create_symlink(victim, d.path / "ecs_abc123.prom");
  auto sink = make_textfile_sink({d.path.string(), "", ""});
  MetricSet set;
  set.add(Metric::ExporterSuccess, 0, 1);
  std::string error;
  REQUIRE(write_file_atomically((d.path / "x.prom").string(), "a 1\n", error));
  REQUIRE_MESSAGE(deliver(*sink, set, identity(), error), error);
  CHECK(slurp(victim) == "precious\n");
  struct stat st {};
  REQUIRE(stat(victim.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(lstat((d.path / "ecs_abc123.prom").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));  // the link was replaced, not written through
  CHECK(slurp(d.path / "x.prom") == "a 1\n");
}

TEST_CASE("textfile: leftovers of a killed process are removed, nothing else") {
  TempDir d;
  const std::string target = (d.path / "ecs_t.prom").string();
  auto make = [&](const std::string& name, bool old) {
    const fs::path p = d.path / name;
    { std::ofstream(p) << "x"; }
    if (old) fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::minutes(5));
    return p;
  };
  make(".ecs_t.prom.a1B2c3.tmp", true);   // ours, old: removed
  make(".ecs_t.prom.12345.tmp", true);    // an older version's, old: removed
  make(".ecs_t.prom.Zz9Zz9.tmp", false);  // ours, fresh (a write in progress): kept
  make(".ecs_u.prom.a1B2c3.tmp", true);   // another task's: kept
  make(".ecs_t.prom.a1B2c.tmp", true);    // not our pattern: kept
  make("ecs_t.prom.a1B2c3.tmp", true);    // not our pattern: kept
  const fs::path outside = make("outside", true);
  fs::create_symlink(outside, d.path / ".ecs_t.prom.LINK00.tmp");  // a link: kept, target kept
  fs::create_directory(d.path / ".ecs_t.prom.DIR000.tmp");         // a directory: kept
  const fs::path foreign = make(".ecs_t.prom.nobody.tmp", true);   // another user's: kept
  const bool chowned = chown(foreign.c_str(), 65534, 65534) == 0 && geteuid() != 65534;
  CHECK(remove_stale_temp_files(target, std::chrono::seconds(60)) == (chowned ? 2u : 3u));
  CHECK_FALSE(fs::exists(d.path / ".ecs_t.prom.a1B2c3.tmp"));
  CHECK_FALSE(fs::exists(d.path / ".ecs_t.prom.12345.tmp"));
  CHECK(fs::exists(d.path / ".ecs_t.prom.Zz9Zz9.tmp"));
  CHECK(fs::exists(d.path / ".ecs_u.prom.a1B2c3.tmp"));
  CHECK(fs::is_symlink(d.path / ".ecs_t.prom.LINK00.tmp"));
  CHECK(fs::exists(outside));
  CHECK(fs::is_directory(d.path / ".ecs_t.prom.DIR000.tmp"));
  if (chowned) CHECK(fs::exists(foreign));
  CHECK(entries(d.path) == (chowned ? 8u : 7u));
}

TEST_CASE("textfile: the default name escapes unsafe task ids, refuses unusable ones") {
  std::string name, error;
  REQUIRE(textfile_name_for_task("bae32def0ab64f06818e8862e58f8d6d", name, error));
  CHECK(name == "ecs_bae32def0ab64f06818e8862e58f8d6d.prom");
  REQUIRE(textfile_name_for_task(std::string_view("ab\0c", 4), name, error));
  CHECK(name == "ecs_ab%00c.prom");
  REQUIRE(textfile_name_for_task("..", name, error));
  CHECK(name == "ecs_...prom");
  REQUIRE(textfile_name_for_task("a/../b\n%", name, error));
  CHECK(name == "ecs_a%2F..%2Fb%0A%25.prom");
  CHECK_FALSE(textfile_name_for_task("", name, error));
  CHECK(error.find("task identity not known") != std::string::npos);
  CHECK_FALSE(textfile_name_for_task(std::string(201, 'a'), name, error));
  CHECK(error.find("too long for a file name") != std::string::npos);
  REQUIRE(textfile_name_for_task(std::string(200, 'a'), name, error));
  CHECK_FALSE(textfile_name_for_task(std::string(67, '/'), name, error));  // 201 bytes escaped
}

TEST_CASE("textfile sink: a task id with a NUL byte writes its escaped name, whole") {
  TempDir d;
  auto sink = make_textfile_sink({d.path.string(), "", ""});
  MetricSet set;
  set.add(Metric::ExporterSuccess, 0, 1);
  TaskIdentity id = identity();
  id.task_id = std::string("abc\0def", 7);
  std::string error;
  REQUIRE_MESSAGE(deliver(*sink, set, id, error), error);
  CHECK(fs::exists(d.path / "ecs_abc%00def.prom"));
  CHECK(entries(d.path) == 1);
}
