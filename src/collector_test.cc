// The collector over real captures. Every expected figure below was worked out
// by hand from the JSON bodies in tests/fixtures (the arithmetic is in the
// comments), not copied from the program's output.
#include "collector.h"

#include <doctest/doctest.h>

#include <set>

#include <fmt/format.h>

#include "metadata_parser.h"
#include "tests/test_util.h"

using namespace emp;
using emp::test::collect_pair;
using emp::test::read_fixture;
using emp::test::value_of;

namespace {
constexpr std::string_view kTask = R"(container_name="_task_",container_id="_task_")";
}

TEST_CASE("collect: Fargate awsvpc, cgroup v1, a stopped container (ecs_exporter capture)") {
  auto p =
      collect_pair("ecs_exporter/fargate-awsvpc-cgroupv1.task.json", "ecs_exporter/fargate-awsvpc-cgroupv1.stats.json");
  const auto& s = p.set;
  // Fargate ids `<task id>-<digits>` share 12 leading characters: kept whole.
  const std::string prom = R"(container_name="prometheus",container_id="bae32def0ab64f06818e8862e58f8d6d-1819985369")";
  const std::string exp = R"(container_name="ecs-exporter",container_id="bae32def0ab64f06818e8862e58f8d6d-4159844948")";

  // Task limits: CPU 0.25 vCPU; Memory 512 MiB = 512 * 1048576.
  CHECK(value_of(s, Metric::TaskCpuLimit, kTask) == 0.25);
  CHECK(value_of(s, Metric::TaskMemoryLimit, kTask) == 536870912);
  // EphemeralStorageMetrics 427 / 20496 MiB.
  CHECK(value_of(s, Metric::TaskEphemeralUtilized, kTask) == 427.0 * 1048576);
  CHECK(value_of(s, Metric::TaskEphemeralReserved, kTask) == 20496.0 * 1048576);

  // CPU: total_usage 932439492 ns and 322633383 ns.
  CHECK(value_of(s, Metric::ContainerCpuUsage, prom) == 0.932439492);
  CHECK(value_of(s, Metric::ContainerCpuUsage, exp) == 0.322633383);
  CHECK(*value_of(s, Metric::ContainerCpuUsage, kTask) == doctest::Approx(1.255072875));

  // Memory: usage − cache: 127934464 − 85426176 = 42508288; 84111360 − 42442752 = 41668608.
  CHECK(value_of(s, Metric::ContainerMemoryUsage, prom) == 127934464);
  CHECK(value_of(s, Metric::ContainerMemoryUsageWithoutCache, prom) == 42508288);
  CHECK(value_of(s, Metric::ContainerMemoryUsageWithoutCache, exp) == 41668608);
  CHECK(value_of(s, Metric::ContainerMemoryUsage, kTask) == 127934464.0 + 84111360.0);
  CHECK(value_of(s, Metric::ContainerMemoryUsageWithoutCache, kTask) == 42508288.0 + 41668608.0);

  // Network: both containers see the task's eth1 (awsvpc): rx 129045374 and
  // 129046293 (a later read). The task counts eth1 once: the larger value,
  // not the sum 258091667 that the original exporter reports.
  CHECK(value_of(s, Metric::ContainerNetworkRx, prom) == 129045374);
  CHECK(value_of(s, Metric::ContainerNetworkRx, exp) == 129046293);
  CHECK(value_of(s, Metric::ContainerNetworkRx, kTask) == 129046293);
  CHECK(value_of(s, Metric::ContainerNetworkTx, kTask) == 348223);

  // Block I/O over both devices 259:1 and 259:0: prometheus reads
  // 23793664 + 65409024 = 89202688 bytes; ecs-exporter 28639232 + 14655488 = 43294720.
  CHECK(value_of(s, Metric::ContainerBlockReadBytes, prom) == 89202688);
  CHECK(value_of(s, Metric::ContainerBlockReadBytes, exp) == 43294720);
  CHECK(value_of(s, Metric::ContainerBlockReadBytes, kTask) == 89202688.0 + 43294720.0);
  CHECK(value_of(s, Metric::ContainerBlockWriteBytes, exp) == 4096);

  // Limits: container CPU 2 units is what Fargate reports when the task
  // definition sets none (a cpu.shares weight, not a cap): no series. No
  // container Memory, so the task's.
  CHECK_FALSE(value_of(s, Metric::ContainerCpuLimit, prom));
  CHECK(value_of(s, Metric::ContainerMemoryLimit, prom) == 536870912);

  // The stopped container (stats null, KnownStatus STOPPED, ExitCode 0) has
  // its status and exit code, and no usage or limit series.
  const std::string stopped = R"(container_name="nonessential")";
  CHECK(value_of(s, Metric::ContainerStatus, stopped + R"(,status="STOPPED")") == 1);
  CHECK(value_of(s, Metric::ContainerExitCode, stopped) == 0);
  for (size_t m = 0; m < kMetricCount; ++m) {
    const auto metric = static_cast<Metric>(m);
    if (metric == Metric::ContainerStatus || metric == Metric::ContainerExitCode) continue;
    CHECK_FALSE(value_of(s, metric, stopped));
  }
  CHECK(value_of(s, Metric::ContainerStatus, prom + R"(,status="RUNNING")") == 1);
  CHECK_FALSE(value_of(s, Metric::ContainerExitCode, prom));
  CHECK_FALSE(value_of(s, Metric::ContainerHealthStatus, prom));  // no health check defined

  // memory_stats.max_usage (cgroup v1): 128557056 and 84238336.
  CHECK(value_of(s, Metric::ContainerMemoryMaxUsage, prom) == 128557056);
  CHECK(value_of(s, Metric::ContainerMemoryMaxUsage, exp) == 84238336);
  // throttling_data is present and all zeros on this Fargate platform.
  CHECK(value_of(s, Metric::ContainerCpuThrottlingPeriods, prom) == 0);
  CHECK(value_of(s, Metric::ContainerCpuThrottledPeriods, prom) == 0);
  CHECK(value_of(s, Metric::ContainerCpuThrottledSeconds, exp) == 0);

  // The task's eth1, once: the larger of the two containers' reads of each
  // counter: rx_bytes max(129045374, 129046293), rx_packets max(88933, 88938),
  // tx_bytes max(347839, 348223), tx_packets max(3501, 3507); errors and drops 0.
  const std::string eth1 = std::string(kTask) + R"(,interface="eth1")";
  CHECK(value_of(s, Metric::TaskNetworkRxBytes, eth1) == 129046293);
  CHECK(value_of(s, Metric::TaskNetworkRxPackets, eth1) == 88938);
  CHECK(value_of(s, Metric::TaskNetworkTxBytes, eth1) == 348223);
  CHECK(value_of(s, Metric::TaskNetworkTxPackets, eth1) == 3507);
  CHECK(value_of(s, Metric::TaskNetworkRxErrors, eth1) == 0);
  CHECK(value_of(s, Metric::TaskNetworkTxDropped, eth1) == 0);

  // Pull times; latest StartedAt is ecs-exporter's 2025-02-27T05:06:19.394790... (checked against the file)
  CHECK(*value_of(s, Metric::TaskPullStoppedAt, kTask) == doctest::Approx(1740632778.599126545));
  CHECK(value_of(s, Metric::TaskInfo,
                 R"(cluster="prom-ecs-exporter-sandbox",launch_type="FARGATE",availability_zone="us-east-1a")") == 1);
}

TEST_CASE("collect: EC2 bridge, cgroup v2, no task Limits (ecs_exporter capture)") {
  auto p = collect_pair("ecs_exporter/ec2-bridge-cgroupv2.task.json", "ecs_exporter/ec2-bridge-cgroupv2.stats.json");
  const auto& s = p.set;
  // The ECS name, not the Docker name /ecs-<family>-13-ecs-exporter-<hash>; 12-character id.
  const std::string exp = R"(container_name="ecs-exporter",container_id="01cf1f320800")";
  const std::string prom = R"(container_name="prometheus",container_id="6b80adab0733")";

  CHECK_FALSE(value_of(s, Metric::TaskCpuLimit, kTask));
  CHECK_FALSE(value_of(s, Metric::TaskMemoryLimit, kTask));
  // Container limits CPU 128 units = 0.125 vCPU, Memory 256 MiB.
  CHECK(value_of(s, Metric::ContainerCpuLimit, exp) == 0.125);
  CHECK(value_of(s, Metric::ContainerMemoryLimit, exp) == 268435456);

  CHECK(value_of(s, Metric::ContainerCpuUsage, exp) == 0.331125);
  CHECK(*value_of(s, Metric::ContainerCpuUsage, kTask) == doctest::Approx(0.331125 + 0.56606));
  // cgroup v2: usage − inactive_file: 65249280 − 17641472 = 47607808; 60981248 − 11046912 = 49934336.
  CHECK(value_of(s, Metric::ContainerMemoryUsageWithoutCache, exp) == 47607808);
  CHECK(value_of(s, Metric::ContainerMemoryUsageWithoutCache, prom) == 49934336);
  CHECK(value_of(s, Metric::ContainerMemoryUsageWithoutCache, kTask) == 47607808.0 + 49934336.0);
  // Bridge: each container its own eth0; the task sums them: 101869 + 45368, 43958 + 13532.
  CHECK(value_of(s, Metric::ContainerNetworkRx, kTask) == 147237);
  CHECK(value_of(s, Metric::ContainerNetworkTx, kTask) == 57490);
  // Lower-case ops on cgroup v2: read 60960768 + 99926016, write 57344 + 274432.
  CHECK(value_of(s, Metric::ContainerBlockReadBytes, kTask) == 160886784);
  CHECK(value_of(s, Metric::ContainerBlockWriteBytes, kTask) == 331776);
  // io_serviced_recursive is null: no ops series rather than a false 0.
  CHECK(s.samples(Metric::ContainerBlockReadOps).empty());
  // The stopped container ({} stats) has no series.
  CHECK_FALSE(value_of(s, Metric::ContainerCpuLimit, R"(container_name="nonessential")"));
}

TEST_CASE("collect: Managed Instances, cgroup v2, uint64-max limit (otel capture)") {
  auto p = collect_pair("otel_awsecscontainermetrics/managed-instances-daemon-trimmed.task.json",
                        "otel_awsecscontainermetrics/managed-instances-daemon-trimmed.stats.json");
  const auto& s = p.set;
  const std::string c = R"(container_name="monitor-agent")";
  CHECK(value_of(s, Metric::ContainerCpuUsage, c) == 9.097974);
  CHECK(value_of(s, Metric::ContainerMemoryUsage, c) == 66203648);
  // The memory limit is the task's 512 MiB, not memory_stats.limit (2^64 − 1).
  CHECK(value_of(s, Metric::ContainerMemoryLimit, c) == 536870912);
  // No Networks listed; Managed Instances run awsvpc: eth0 counted once.
  CHECK(value_of(s, Metric::ContainerNetworkRx, kTask) == 5035147);
  CHECK(value_of(s, Metric::ContainerNetworkTx, kTask) == 7564495);
  CHECK(value_of(s, Metric::ContainerBlockWriteBytes, c) == 520192);
}

TEST_CASE("collect: v3-era Fargate body with the pause container (mackerel capture)") {
  auto p = collect_pair("mackerel_container_agent/v3-fargate-awsvpc-pause.task.json",
                        "mackerel_container_agent/v3-fargate-awsvpc-pause.stats.json");
  const auto& s = p.set;
  const std::string c = R"(container_name="mackerel-container-agent",container_id="ffffffffffff")";
  CHECK(value_of(s, Metric::TaskCpuLimit, kTask) == 0.25);
  CHECK(value_of(s, Metric::TaskMemoryLimit, kTask) == 268435456);
  CHECK(value_of(s, Metric::ContainerCpuUsage, c) == 3.940101032);
  // usage − cache: 83554304 − 71987200.
  CHECK(value_of(s, Metric::ContainerMemoryUsageWithoutCache, c) == 11567104);
  CHECK(value_of(s, Metric::ContainerBlockReadOps, c) == 5933);
  // The pause container is left out by default, from its rows and the task sums.
  CHECK(value_of(s, Metric::ContainerCpuUsage, kTask) == 3.940101032);
  CHECK_FALSE(value_of(s, Metric::ContainerCpuUsage, R"(container_name="~internal~ecs~pause")"));
  // No `networks` key anywhere: no network series (not zeros).
  CHECK(s.samples(Metric::ContainerNetworkRx).empty());
  // CPU 0 means "no limit" (before 2021): no series.
  CHECK_FALSE(value_of(s, Metric::ContainerCpuLimit, c));
}

TEST_CASE("collect: include/exclude globs") {
  ContainerFilter only_pause{{"~internal~*"}, {}};
  auto p = collect_pair("mackerel_container_agent/v3-fargate-awsvpc-pause.task.json",
                        "mackerel_container_agent/v3-fargate-awsvpc-pause.stats.json", only_pause);
  CHECK(value_of(p.set, Metric::ContainerCpuUsage, R"(container_name="~internal~ecs~pause")") == 0.031119747);
  CHECK(value_of(p.set, Metric::ContainerCpuUsage, kTask) == 0.031119747);
  CHECK_FALSE(value_of(p.set, Metric::ContainerCpuUsage, R"(container_name="mackerel-container-agent")"));
}

TEST_CASE("collect: task counters never go backwards when a container stops") {
  auto p = collect_pair("ecs_exporter/ec2-bridge-cgroupv2.task.json", "ecs_exporter/ec2-bridge-cgroupv2.stats.json");
  Collector collector;
  MetricSet first, second;
  collector.collect(p.task, p.stats, first);
  // Next cycle: prometheus (6b80…) has stopped; its stats entry is now null.
  for (auto& c : p.stats.containers)
    if (c.docker_id.starts_with("6b80adab0733")) c.present = false;
  collector.collect(p.task, p.stats, second);
  CHECK(value_of(second, Metric::ContainerCpuUsage, kTask) == value_of(first, Metric::ContainerCpuUsage, kTask));
  CHECK(value_of(second, Metric::ContainerNetworkRx, kTask) == 147237);
  CHECK(value_of(second, Metric::ContainerBlockReadBytes, kTask) == 160886784);
  // Memory is a gauge: only what runs now (ecs-exporter's 65249280).
  CHECK(value_of(second, Metric::ContainerMemoryUsage, kTask) == 65249280);
  CHECK_FALSE(value_of(second, Metric::ContainerCpuUsage, R"(container_name="prometheus")"));
}

TEST_CASE("collect: stats for a container /task does not list are named from the stats body") {
  // The AWS docs' stats example comes from another task than its /task example.
  auto p = collect_pair("aws_docs/ec2-awsvpc-pause-2020.task.json", "aws_docs/ec2-awsvpc-pause-2020.stats.json");
  size_t rows = p.set.samples(Metric::ContainerCpuUsage).size();
  CHECK(rows >= 2);  // the stats-only containers, plus the task row
  CHECK(value_of(p.set, Metric::ContainerCpuUsage, R"(container_name="ecs-curltest-26-curl-c2e5f6e0cf91b0bead01")"));
}

TEST_CASE("collect: a duplicated stats key keeps the entry with data") {
  TaskMeta task;
  task.task_arn = "arn:aws:ecs:r:1:task/c/t";
  TaskStats stats;
  stats.containers.resize(2);
  stats.containers[0].docker_id = stats.containers[1].docker_id = "123";
  stats.containers[0].present = true;
  stats.containers[0].cpu_seconds = 4;
  stats.containers[0].name = "a";
  MetricSet set;
  Collector().collect(task, stats, set);
  CHECK(value_of(set, Metric::ContainerCpuUsage, R"(container_name="a")") == 4);
  CHECK(set.samples(Metric::ContainerCpuUsage).size() == 2);  // the container and the task row
}

TEST_CASE("short_container_id") {
  CHECK(Collector::short_container_id("01cf1f3208005cda71d5ac936ded65d2ecc0a8cc8ff8a82d2e00410bf4fbbd6d") ==
        "01cf1f320800");
  CHECK(Collector::short_container_id("bae32def0ab64f06818e8862e58f8d6d-1819985369") ==
        "bae32def0ab64f06818e8862e58f8d6d-1819985369");
  CHECK(Collector::short_container_id("abc") == "abc");
}

namespace {
// A synthetic variant of a real capture: `from` replaced by `to` in the body.
std::string edited(std::string body, std::string_view from, std::string_view to) {
  const size_t at = body.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, "not in the capture: " << from);
  return body.replace(at, from.size(), to);
}
TaskStats stats_of(const std::string& body) {
  MetadataParser parser;
  TaskStats stats;
  std::string error;
  REQUIRE_MESSAGE(parser.parse_stats(PaddedBody(body), stats, error), error);
  return stats;
}
TaskMeta task_of(const std::string& body) {
  MetadataParser parser;
  TaskMeta task;
  std::string error;
  REQUIRE_MESSAGE(parser.parse_task(PaddedBody(body), task, error), error);
  return task;
}
constexpr const char* kFargateTask = "ecs_exporter/fargate-awsvpc-cgroupv1.task.json";
constexpr const char* kFargateStats = "ecs_exporter/fargate-awsvpc-cgroupv1.stats.json";
}  // namespace

TEST_CASE("collect: a container restarted in place keeps the task row growing") {
  // Cycle 1: the capture. Cycle 2: prometheus restarted by the ECS restart
  // policy (same DockerId, RestartCount 1): its cgroup counters start again,
  // total_usage 932439492 → 100000000 ns, its block reads from 89202688 bytes
  // to the second device's 4096 alone.
  const std::string task_body = read_fixture(kFargateTask);
  const std::string stats_body = read_fixture(kFargateStats);
  const TaskMeta task = task_of(task_body);
  // (The first "value" of each number is its device's Read entry.)
  std::string restarted = edited(stats_body, "\"total_usage\": 932439492", "\"total_usage\": 100000000");
  restarted = edited(restarted, "\"value\": 23793664", "\"value\": 0");
  restarted = edited(restarted, "\"value\": 65409024", "\"value\": 4096");
  Collector collector;
  MetricSet first, second;
  collector.collect(task, stats_of(stats_body), first);
  collector.collect(task, stats_of(restarted), second);
  const std::string prom = R"(container_name="prometheus")";
  // The container's own series resets: that is what a restart is.
  CHECK(value_of(second, Metric::ContainerCpuUsage, prom) == 0.1);
  CHECK(value_of(second, Metric::ContainerBlockReadBytes, prom) == 4096);
  // The task row keeps the usage before the restart: 0.932439492 carried +
  // 0.1 + ecs-exporter's 0.322633383 = 1.355072875 (was 1.255072875).
  CHECK(*value_of(first, Metric::ContainerCpuUsage, kTask) == doctest::Approx(1.255072875));
  CHECK(*value_of(second, Metric::ContainerCpuUsage, kTask) == doctest::Approx(1.355072875));
  // Block reads: 89202688 carried + 4096 + 43294720 = 132501504.
  CHECK(value_of(second, Metric::ContainerBlockReadBytes, kTask) == 89202688.0 + 4096 + 43294720);
  // A third cycle at the restarted values: nothing carried twice.
  MetricSet third;
  collector.collect(task, stats_of(restarted), third);
  CHECK(value_of(third, Metric::ContainerCpuUsage, kTask) == value_of(second, Metric::ContainerCpuUsage, kTask));
}

TEST_CASE("collect: CPU throttling when the platform reports it (synthetic variant of the capture)") {
  // The capture's throttling_data is all zeros (as AWS reports on many
  // platforms); the first one (prometheus) is given real-looking values.
  const std::string body =
      edited(read_fixture(kFargateStats),
             "\"throttling_data\": {\n        \"periods\": 0,\n        \"throttled_periods\": 0,\n"
             "        \"throttled_time\": 0",
             R"("throttling_data": {"periods": 1200, "throttled_periods": 31, "throttled_time": 2500000000)");
  Collector collector;
  MetricSet set;
  collector.collect(task_of(read_fixture(kFargateTask)), stats_of(body), set);
  const std::string prom = R"(container_name="prometheus")";
  CHECK(value_of(set, Metric::ContainerCpuThrottlingPeriods, prom) == 1200);
  CHECK(value_of(set, Metric::ContainerCpuThrottledPeriods, prom) == 31);
  CHECK(value_of(set, Metric::ContainerCpuThrottledSeconds, prom) == 2.5);  // 2500000000 ns
}

TEST_CASE("collect: health status where a health check is defined (datadog capture)") {
  // datadog-agent: Health.status HEALTHY; log_router has no health check.
  const TaskMeta task = task_of(read_fixture("datadog_agent/ec2-awsvpc-2023-edited-taskwithtags.task.json"));
  Collector collector;
  MetricSet set;
  collector.collect(task, TaskStats{}, set);
  CHECK(value_of(set, Metric::ContainerHealthStatus, R"(container_name="datadog-agent",status="HEALTHY")") == 1);
  CHECK_FALSE(value_of(set, Metric::ContainerHealthStatus, R"(container_name="log_router")"));
  CHECK(value_of(set, Metric::ContainerStatus, R"(container_name="log_router",status="RUNNING")") == 1);
}

TEST_CASE("collect: bridge network per interface sums the containers' own eth0") {
  // ecs-exporter eth0 rx 101869 (284 packets), prometheus eth0 rx 45368 (132).
  auto p = collect_pair("ecs_exporter/ec2-bridge-cgroupv2.task.json", "ecs_exporter/ec2-bridge-cgroupv2.stats.json");
  const std::string eth0 = std::string(kTask) + R"(,interface="eth0")";
  CHECK(value_of(p.set, Metric::TaskNetworkRxBytes, eth0) == 101869 + 45368);
  CHECK(value_of(p.set, Metric::TaskNetworkRxPackets, eth0) == 284 + 132);
  CHECK(value_of(p.set, Metric::ContainerNetworkRx, kTask) == 147237);
}

TEST_CASE("collect: 100k interfaces in one body are combined in O(n log n), values exact") {
  // A hostile stats body: the capture's first entry with 100000 interfaces
  // if0..if99999, interface i receiving i bytes; the awsvpc task counts each once.
  std::string nets = "\"networks\": {";
  for (int i = 0; i < 100000; ++i)
    nets += fmt::format("{}\"if{}\": {{\"rx_bytes\": {}, \"tx_bytes\": 1}}", i ? "," : "", i, i);
  nets += "}, \"unused\": {";
  const std::string body = edited(read_fixture(kFargateStats), "\"networks\": {", nets);
  Collector collector;
  MetricSet set;
  collector.collect(task_of(read_fixture(kFargateTask)), stats_of(body), set);
  // Task rx: the sum 0 + 1 + … + 99999 = 4999950000 over the hostile entry's
  // interfaces, plus ecs-exporter's eth1 (129046293); prometheus's own eth1 moved
  // into "unused".
  CHECK(value_of(set, Metric::ContainerNetworkRx, kTask) == 4999950000.0 + 129046293);
  CHECK(value_of(set, Metric::TaskNetworkRxBytes, std::string(kTask) + R"(,interface="if99999")") == 99999);
  CHECK(set.samples(Metric::TaskNetworkRxBytes).size() == 100001);  // if0..if99999 and eth1
}

TEST_CASE("collect: memory stays bounded when container ids change every cycle") {
  // Each cycle the capture's two running containers get new DockerIds (as a
  // crash-looping task whose containers are replaced would show): what the
  // old ones counted stays in the task row, but only a bounded number are remembered.
  const std::string task_body = read_fixture(kFargateTask);
  const std::string stats_body = read_fixture(kFargateStats);
  const std::string prom_id = "bae32def0ab64f06818e8862e58f8d6d-1819985369";
  const std::string exp_id = "bae32def0ab64f06818e8862e58f8d6d-4159844948";
  Collector collector;
  double last_cpu = 0;
  for (int cycle = 0; cycle < 500; ++cycle) {
    std::string t = task_body, s = stats_body;
    for (std::string* body : {&t, &s}) {
      for (const std::string& id : {prom_id, exp_id}) {
        const std::string fresh = fmt::format("{}-{}", id.substr(0, id.size() - 6), cycle);
        for (size_t at = body->find(id); at != std::string::npos; at = body->find(id, at))
          body->replace(at, id.size(), fresh);
      }
    }
    MetricSet set;
    collector.collect(task_of(t), stats_of(s), set);
    const double cpu = *value_of(set, Metric::ContainerCpuUsage, kTask);
    CHECK(cpu >= last_cpu);  // never backwards, also across folding
    last_cpu = cpu;
    CHECK(collector.retained_count() <= 3 + 3 + Collector::kSpareRetained);
  }
  // 500 cycles × (0.932439492 + 0.322633383) s, every container counted once.
  CHECK(last_cpu == doctest::Approx(500 * 1.255072875));
}

TEST_CASE("collect: include/exclude globs see the whole name, however long") {
  ContainerFilter filter{{"*-tail"}, {}};
  const std::string long_name = std::string(1000, 'x') + "-tail";
  CHECK(filter.accepts(long_name));
  CHECK_FALSE(filter.accepts(std::string(1000, 'x') + "-other"));
}
