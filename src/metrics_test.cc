// The metric table: one definition per metric, with names Prometheus accepts.
#include "metrics.h"

#include <doctest/doctest.h>

#include <set>

using namespace emp;

TEST_CASE("metric table: one definition per metric, in enum order, Prometheus names") {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kMetricCount; ++i) {
    const MetricDef& d = kMetricDefs[i];
    CHECK(static_cast<size_t>(d.id) == i);
    CHECK(d.name.starts_with("ee_"));
    CHECK(!d.help.empty());
    CHECK(names.insert(d.name).second);
    CHECK((d.type == MetricType::Counter) == d.name.ends_with("_total"));
  }
}
