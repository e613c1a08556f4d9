// The exposition line checker (fuzz/exposition_check.h) that the fuzzers trust:
// it must accept what Prometheus accepts from us and refuse each kind of damage.
#include <doctest/doctest.h>

#include "fuzz/exposition_check.h"
#include "test_util.h"
#include "text_format.h"

using emp::exposition::check;

namespace {
const char* kGood =
    "# HELP ee_a Help with \\\\ and \\n.\n"
    "# TYPE ee_a gauge\n"
    "ee_a{container_name=\"x\\\"y\\\\z\\nw\",container_id=\"1\"} 1\n"
    "ee_a{container_name=\"h\xc3\xa9llo\",container_id=\"2\"} -1.5e-07\n"
    "# HELP ee_b b\n"
    "# TYPE ee_b counter\n"
    "ee_b NaN\n"
    "ee_c +Inf\n";
}

TEST_CASE("the checker accepts well-formed text and reads label values back unescaped") {
  std::vector<std::string> values;
  auto r = check(kGood, [&](const emp::exposition::Sample& s) {
    if (!s.labels.empty()) values.push_back(s.labels[0].value);
  });
  CHECK_MESSAGE(r.ok, r.why);
  CHECK(r.samples == 4);
  CHECK(r.families == 3);
  REQUIRE(values.size() == 2);
  CHECK(values[0] == "x\"y\\z\nw");
  CHECK(values[1] == "h\xc3\xa9llo");
}

TEST_CASE("the checker refuses each kind of damage") {
  const char* bad[] = {
      "ee_a 1",                              // no final newline
      "ee_a 1\n\nee_b 2\n",                  // blank line
      "ee_a{x=\"a\\tb\"} 1\n",               // escape Prometheus does not know
      "ee_a{x=\"a\"b\"} 1\n",                // unescaped quote
      "ee_a{x=\"\xff\"} 1\n",                // not UTF-8
      "ee_a{x=\"\xed\xa0\x80\"} 1\n",        // UTF-16 surrogate
      "ee_a{x=\"a\",x=\"b\"} 1\n",           // duplicate label
      "ee_a{x=\"a\"} 1\nee_a{x=\"a\"} 2\n",  // duplicate series
      "ee_a 1 1700000000000\n",              // timestamp
      "ee_a one\n",                          // bad value
      "ee_a Inf\n",                          // spelled unlike Prometheus
      "1ee 1\n",                             // bad name
      "ee_a{1x=\"a\"} 1\n",                  // bad label name
      "# TYPE ee_a gauge\n# TYPE ee_a gauge\nee_a 1\n",
      "ee_a 1\nee_b 1\nee_a 2\n",  // family split in two
      "# HELP ee_a a\\q\n",        // bad HELP escape
      "# TYPE ee_a gauges\n",
      "# random comment\n",
  };
  for (const char* text : bad) {
    INFO("text: " << text);
    CHECK_FALSE(check(text).ok);
  }
}

TEST_CASE("render_text output of a real capture passes the checker") {
  auto p = emp::test::collect_pair("ecs_exporter/fargate-awsvpc-cgroupv1.task.json",
                                   "ecs_exporter/fargate-awsvpc-cgroupv1.stats.json");
  std::string text;
  emp::render_text(p.set, emp::ExtraLabels{"task_id=\"abc\"", ""}, text);
  auto r = check(text);
  CHECK_MESSAGE(r.ok, "line " << r.line << ": " << r.why);
  CHECK(r.samples > 20);
}
