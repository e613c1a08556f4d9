// Replays every saved fuzz input (fuzz/regressions/<target>/*) through the same
// target code the fuzzers run (fuzz/targets.h), in the normal and the sanitizer
// builds, so a fixed crash stays fixed. Also runs every bundled capture pair
// through the whole-cycle target, which checks the output line by line.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "fuzz/targets.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const fs::path kRoot = fs::path(EMP_FIXTURES).parent_path().parent_path();

using Target = int (*)(const uint8_t*, size_t);
const std::map<std::string, Target> kTargets = {
    {"metadata_parser", emp::fuzz::metadata_parser},
    {"pipeline", emp::fuzz::pipeline},
    {"text_format", emp::fuzz::text_format},
    {"rfc3339", emp::fuzz::rfc3339},
    {"duration", emp::fuzz::duration},
    {"grouping_key", emp::fuzz::grouping_key},
    {"retry_after", emp::fuzz::retry_after},
    {"url_secrets", emp::fuzz::url_secrets},
    {"textfile_name", emp::fuzz::textfile_name},
};

int run(Target t, const std::string& s) { return t(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

}  // namespace

TEST_CASE("every saved fuzz input replays without breaking a property") {
  const fs::path dir = kRoot / "fuzz" / "regressions";
  REQUIRE(fs::is_directory(dir));
  int replayed = 0;
  for (const auto& target_dir : fs::directory_iterator(dir)) {
    const std::string name = target_dir.path().filename();
    INFO("target " << name);
    REQUIRE_MESSAGE(kTargets.count(name), "fuzz/regressions/" << name << " names no fuzz target");
    for (const auto& f : fs::directory_iterator(target_dir.path())) {
      INFO("input " << f.path());
      CHECK(run(kTargets.at(name), slurp(f.path())) == 0);  // a broken property aborts
      ++replayed;
    }
  }
  CHECK(replayed >= 1);
}

TEST_CASE("duration overflow found by fuzzing is refused, not wrapped") {
  CHECK_FALSE(emp::parse_duration("999991999y918").has_value());
  CHECK_FALSE(emp::parse_duration("9223372036854775807ms").has_value());
  CHECK_FALSE(emp::parse_duration("101y").has_value());
  CHECK(emp::parse_duration("100y") == emp::Duration(100LL * 365 * 86400000));
}

TEST_CASE("every bundled capture pair goes through the whole cycle and the line checker") {
  int pairs = 0;
  for (const auto& src : fs::directory_iterator(EMP_FIXTURES)) {
    if (!src.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(src.path())) {
      const std::string p = f.path().string();
      if (p.size() < 10 || p.substr(p.size() - 10) != ".task.json") continue;
      const std::string stats = p.substr(0, p.size() - 10) + ".stats.json";
      if (!fs::exists(stats)) continue;
      INFO("pair " << p);
      const std::string input = slurp(p) + std::string(emp::fuzz::kStatsMarker) + slurp(stats);
      CHECK(run(emp::fuzz::pipeline, input) == 0);
      ++pairs;
    }
  }
  CHECK(pairs >= 15);
}

TEST_CASE("a /task body listing one container twice gives one row and counts it once (found by fuzz_pipeline)") {
  using namespace emp;
  auto once = test::collect_pair("ecs_exporter/fargate-awsvpc-cgroupv1.task.json",
                                 "ecs_exporter/fargate-awsvpc-cgroupv1.stats.json");
  TaskMeta twice = once.task;
  twice.containers.push_back(twice.containers[1]);  // "prometheus" again
  MetricSet set;
  Collector collector;
  collector.collect(twice, once.stats, set);
  // value_of fails the test when two series match.
  CHECK(test::value_of(set, Metric::ContainerMemoryUsage, "container_name=\"prometheus\"") ==
        test::value_of(once.set, Metric::ContainerMemoryUsage, "container_name=\"prometheus\""));
  CHECK(test::value_of(set, Metric::ContainerMemoryUsage, "container_name=\"_task_\"") ==
        test::value_of(once.set, Metric::ContainerMemoryUsage, "container_name=\"_task_\""));
  std::string text;
  render_text(set, ExtraLabels{}, text);
  const auto r = exposition::check(text);
  CHECK_MESSAGE(r.ok, "line " << r.line << ": " << r.why);
}
