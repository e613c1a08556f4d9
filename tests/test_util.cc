#include "test_util.h"

#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "metadata_source.h"

namespace emp::test {

std::string read_fixture(std::string_view rel) {
  const std::string path = std::string(EMP_FIXTURES) + "/" + std::string(rel);
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Parsed collect_pair(std::string_view task_rel, std::string_view stats_rel, ContainerFilter filter) {
  Parsed p;
  MetadataParser parser;
  std::string error;
  const std::string task = read_fixture(task_rel);
  const std::string stats = read_fixture(stats_rel);
  REQUIRE_MESSAGE(parser.parse_task(PaddedBody(task), p.task, error), error);
  REQUIRE_MESSAGE(parser.parse_stats(PaddedBody(stats), p.stats, error), error);
  Collector collector(std::move(filter));
  collector.collect(p.task, p.stats, p.set);
  return p;
}

std::optional<double> value_of(const MetricSet& set, Metric metric, std::string_view labels) {
  std::optional<double> found;
  for (const auto& s : set.samples(metric)) {
    const std::string_view block = set.labels(s.labels);
    bool all = true;
    std::string_view rest = labels;
    while (!rest.empty()) {
      size_t comma = rest.find("\",");
      std::string_view one = comma == std::string_view::npos ? rest : rest.substr(0, comma + 1);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
      if (block.find(one) == std::string_view::npos) all = false;
    }
    if (all) {
      REQUIRE_MESSAGE(!found, "more than one series of " << def(metric).name << " matches " << labels);
      found = s.value;
    }
  }
  return found;
}

}  // namespace emp::test
