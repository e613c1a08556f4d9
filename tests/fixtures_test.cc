// Every bundled capture parses; every truncation of it is an error, never a crash.
#include <doctest/doctest.h>

#include <filesystem>

#include "collector.h"
#include "metadata_parser.h"
#include "metadata_source.h"
#include "tests/test_util.h"
#include "text_format.h"

using namespace emp;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> fixture_files() {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(EMP_FIXTURES))
    if (e.path().extension() == ".json") out.push_back(fs::relative(e.path(), EMP_FIXTURES).string());
  std::sort(out.begin(), out.end());
  return out;
}
bool is_task(const std::string& rel) { return rel.ends_with(".task.json"); }
}  // namespace

TEST_CASE("fixtures: every bundled body parses as what it is") {
  const auto files = fixture_files();
  CHECK(files.size() >= 40);
  MetadataParser parser;
  size_t tasks = 0, stats = 0;
  for (const auto& rel : files) {
    if (rel.find("container-stats") != std::string::npos) continue;  // a single-container /stats body
    CAPTURE(rel);
    const std::string body = emp::test::read_fixture(rel);
    std::string error;
    if (is_task(rel)) {
      TaskMeta t;
      CHECK_MESSAGE(parser.parse_task(PaddedBody(body), t, error), error);
      CHECK(!identity_of(t).task_id.empty());
      ++tasks;
    } else {
      TaskStats s;
      CHECK_MESSAGE(parser.parse_stats(PaddedBody(body), s, error), error);
      ++stats;
    }
  }
  CHECK(tasks >= 18);
  CHECK(stats >= 18);
}

TEST_CASE("fixtures: every task body collects and renders with any stats body") {
  // Mismatched pairs are what a confused endpoint might send; they must still work.
  const auto files = fixture_files();
  MetadataParser parser;
  std::string text;
  size_t pairs = 0;
  for (const auto& task_rel : files) {
    if (!is_task(task_rel)) continue;
    const std::string task_body = emp::test::read_fixture(task_rel);
    TaskMeta t;
    std::string error;
    REQUIRE(parser.parse_task(PaddedBody(task_body), t, error));
    for (const auto& stats_rel : files) {
      if (is_task(stats_rel) || stats_rel.find("container-stats") != std::string::npos) continue;
      const std::string stats_body = emp::test::read_fixture(stats_rel);
      TaskStats s;
      REQUIRE(parser.parse_stats(PaddedBody(stats_body), s, error));
      MetricSet set;
      Collector().collect(t, s, set);
      render_text(set, ExtraLabels{}, text);
      CHECK(text.ends_with("\n"));
      ++pairs;
    }
  }
  CHECK(pairs > 300);
}

TEST_CASE("fixtures: truncated and corrupted bodies are errors, not crashes") {
  MetadataParser parser;
  size_t cases = 0;
  for (const auto& rel : fixture_files()) {
    const std::string whole = emp::test::read_fixture(rel);
    const size_t step = std::max<size_t>(1, whole.size() / 97);
    for (size_t cut = 0; cut < whole.size(); cut += step) {
      std::string body(std::string_view(whole).substr(0, cut));
      std::string error;
      TaskMeta t;
      TaskStats s;
      bool ok =
          is_task(rel) ? parser.parse_task(PaddedBody(body), t, error) : parser.parse_stats(PaddedBody(body), s, error);
      // A prefix of a JSON object is never a complete object (except the whole).
      CHECK_FALSE(ok);
      CHECK(error.find("at byte") != std::string::npos);
      // Flip one byte into something JSON cannot contain.
      body = whole;
      body[cut] = '\x01';
      ok =
          is_task(rel) ? parser.parse_task(PaddedBody(body), t, error) : parser.parse_stats(PaddedBody(body), s, error);
      if (!ok) CHECK(!error.empty());
      cases += 2;
    }
  }
  CHECK(cases > 4000);
}
