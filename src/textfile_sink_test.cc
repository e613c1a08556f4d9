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
  CHECK(text.find("ee_container_cpu_usage_seconds_total{container_name=\"app\",task_id=\"abc123\"} 1\n") != std::string::npos);
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
  CHECK(std::string_view(buf, static_cast<size_t>(n)).find("ee_ecs_metrics_exporter_success{") != std::string_view::npos);
  struct stat st {};
  REQUIRE(stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));      // still a FIFO
  CHECK(sink->remove(identity(), std::chrono::steady_clock::now(), error));
  CHECK(fs::exists(fifo));          // --delete-on-exit leaves devices alone
  // A directory in the way is an error, not a rename over it.
  auto into_dir = make_textfile_sink({"", "", d.path.string()});
  CHECK_FALSE(deliver(*into_dir, set, identity(), error));
  CHECK(error.find("not a regular file") != std::string::npos);
}
