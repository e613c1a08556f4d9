// Helpers shared by the unit tests: read a bundled fixture, run it through
// the pipeline, and pick one sample out of the result.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "collector.h"
#include "metadata_parser.h"
#include "model.h"

namespace emp::test {

// tests/fixtures/<rel>. Fails the test when missing.
std::string read_fixture(std::string_view rel);

struct Parsed {
  TaskMeta task;
  TaskStats stats;
  MetricSet set;
};
// Parses a /task and /task/stats pair (paths under tests/fixtures) and collects it.
Parsed collect_pair(std::string_view task_rel, std::string_view stats_rel, ContainerFilter filter = {});

// The value of `metric` for the series whose label block contains every
// `name="value"` in `labels` (e.g. `container_name="app"`), or nullopt.
std::optional<double> value_of(const MetricSet& set, Metric metric, std::string_view labels);

}  // namespace emp::test
