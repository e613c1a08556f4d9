#include "text_format.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace emp;

namespace {
std::string value_text(double v) {
  std::string s;
  append_value(s, v);
  return s;
}
}  // namespace

TEST_CASE("text: values as Prometheus writes them") {
  CHECK(value_text(0) == "0");
  CHECK(value_text(536870912) == "536870912");
  CHECK(value_text(-3) == "-3");
  CHECK(value_text(0.25) == "0.25");
  CHECK(value_text(0.932439492) == "0.932439492");
  CHECK(value_text(1.0 / 3) == "0.3333333333333333");  // shortest round trip
  CHECK(value_text(9223372036854771712.0) == "9223372036854771712");
  CHECK(value_text(18446744073709551615.0) == "1.8446744073709552e+19");  // 2^64: not an exact uint64
  CHECK(value_text(std::nan("")) == "NaN");
  CHECK(value_text(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(value_text(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(value_text(1e-7) == "1e-07");
}

TEST_CASE("text: label values and HELP are escaped") {
  std::string s;
  append_escaped_label_value(s, "a\\b\"c\nd");
  CHECK(s == R"(a\\b\"c\nd)");
  s.clear();
  append_escaped_help(s, "x\\y\nz\"");
  CHECK(s == R"(x\\y\nz")");
}

TEST_CASE("text: families, HELP/TYPE once, extra labels, final newline") {
  MetricSet set;
  uint32_t a = set.new_labels();
  set.append_label(a, "container_name", "app \"1\"");
  set.append_label(a, "container_id", "abc");
  uint32_t b = set.new_labels();
  set.append_label(b, "container_name", "_task_");
  set.add(Metric::ContainerCpuUsage, a, 1.5);
  set.add(Metric::ContainerCpuUsage, b, 2);
  set.add(Metric::ExporterSuccess, 0, 1);
  std::string out;
  render_text(set, ExtraLabels{R"(task_id="t1")", R"(task_id="t1")"}, out);
  CHECK(
      out ==
      "# HELP ee_ecs_metrics_exporter_success 1 when the last cycle fetched and parsed both metadata bodies, else 0.\n"
      "# TYPE ee_ecs_metrics_exporter_success gauge\n"
      "ee_ecs_metrics_exporter_success{task_id=\"t1\"} 1\n"
      "# HELP ee_container_cpu_usage_seconds_total CPU time consumed in seconds.\n"
      "# TYPE ee_container_cpu_usage_seconds_total counter\n"
      "ee_container_cpu_usage_seconds_total{container_name=\"app \\\"1\\\"\",container_id=\"abc\",task_id=\"t1\"} 1.5\n"
      "ee_container_cpu_usage_seconds_total{container_name=\"_task_\",task_id=\"t1\"} 2\n");
  render_text(set, ExtraLabels{}, out);
  CHECK(out.find("ee_ecs_metrics_exporter_success 1\n") != std::string::npos);

  set.clear();
  render_text(set, ExtraLabels{}, out);
  CHECK(out.empty());
}
