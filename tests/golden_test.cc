// Golden outputs: the whole exposition for four real captures (Fargate
// cgroup v1, EC2 bridge cgroup v2, Managed Instances cgroup v2, a v3-era body).
// The key figures in them are checked by hand in src/metrics_test.cc; this test
// pins everything else (order, labels, formatting). After an intended change:
//   EMP_UPDATE_GOLDEN=1 build/tests/unit_tests --source-file='*golden_test.cc'
// and review the diff.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/test_util.h"
#include "text_format.h"

namespace {

void check_golden(std::string_view pair, std::string_view golden) {
  auto p = emp::test::collect_pair(std::string(pair) + ".task.json", std::string(pair) + ".stats.json");
  std::string text;
  emp::render_text(p.set, emp::ExtraLabels{}, text);
  const std::string path = std::string(EMP_GOLDEN) + "/" + std::string(golden);
  if (std::getenv("EMP_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << text;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing golden file " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(text == ss.str());
}

}  // namespace

TEST_CASE("golden: Fargate awsvpc cgroup v1 (ecs_exporter)") {
  check_golden("ecs_exporter/fargate-awsvpc-cgroupv1", "ecs_exporter-fargate.prom");
}
TEST_CASE("golden: EC2 bridge cgroup v2 (ecs_exporter)") {
  check_golden("ecs_exporter/ec2-bridge-cgroupv2", "ecs_exporter-ec2-bridge.prom");
}
TEST_CASE("golden: Managed Instances cgroup v2 (otel)") {
  check_golden("otel_awsecscontainermetrics/managed-instances-daemon-trimmed", "otel-managed-instances.prom");
}
TEST_CASE("golden: v3-era Fargate with pause container (mackerel)") {
  check_golden("mackerel_container_agent/v3-fargate-awsvpc-pause", "mackerel-v3-fargate.prom");
}
