#include "metadata_parser.h"

#include <doctest/doctest.h>

#include "metadata_source.h"
#include "tests/test_util.h"

using namespace emp;
using emp::test::read_fixture;

namespace {

TaskMeta task_of(std::string_view rel) {
  MetadataParser p;
  TaskMeta t;
  std::string error;
  const std::string body = read_fixture(rel);
  REQUIRE_MESSAGE(p.parse_task(PaddedBody(body), t, error), error);
  return t;
}

TaskStats stats_of(std::string_view rel) {
  MetadataParser p;
  TaskStats s;
  std::string error;
  const std::string body = read_fixture(rel);
  REQUIRE_MESSAGE(p.parse_stats(PaddedBody(body), s, error), error);
  return s;
}

const ContainerStats& by_id(const TaskStats& s, std::string_view id) {
  for (const auto& c : s.containers)
    if (c.docker_id == id) return c;
  FAIL("no stats for " << id);
  return s.containers.front();
}

}  // namespace

TEST_CASE("parser: Fargate /task (ecs_exporter capture)") {
  TaskMeta t = task_of("ecs_exporter/fargate-awsvpc-cgroupv1.task.json");
  CHECK(t.family == "prom-ecs-exporter-sandbox-main-fargate");
  CHECK(t.revision == "9");
  CHECK(t.launch_type == "FARGATE");
  CHECK(t.availability_zone == "us-east-1a");
  CHECK(t.cpu_limit_vcpu == 0.25);
  CHECK(t.memory_limit_mib == 512);
  CHECK(t.ephemeral_utilized_mib == 427);
  CHECK(t.ephemeral_reserved_mib == 20496);
  REQUIRE(t.pull_started_at);
  CHECK(*t.pull_started_at == doctest::Approx(1740632763.714437592));
  REQUIRE(t.containers.size() == 3);
  CHECK(t.containers[0].name == "nonessential");
  CHECK(t.containers[0].known_status == "STOPPED");
  CHECK(t.containers[0].network_mode == "awsvpc");
  CHECK(t.containers[0].cpu_units == 2);          // Fargate's `{"CPU":2}`
  CHECK_FALSE(t.containers[0].memory_limit_mib);  // no Memory key
  CHECK(identity_of(t).task_id == "bae32def0ab64f06818e8862e58f8d6d");
  CHECK(identity_of(t).cluster == "prom-ecs-exporter-sandbox");
}

TEST_CASE("parser: EC2 /task without task Limits") {
  TaskMeta t = task_of("ecs_exporter/ec2-bridge-cgroupv2.task.json");
  CHECK_FALSE(t.cpu_limit_vcpu);
  CHECK_FALSE(t.memory_limit_mib);
  REQUIRE(t.containers.size() == 3);
  CHECK(t.containers[1].name == "ecs-exporter");
  CHECK(t.containers[1].cpu_units == 128);
  CHECK(t.containers[1].memory_limit_mib == 256);
  CHECK(t.containers[1].network_mode == "bridge");
}

TEST_CASE("parser: stopped containers are null or {} in /task/stats") {
  TaskStats fargate = stats_of("ecs_exporter/fargate-awsvpc-cgroupv1.stats.json");
  CHECK_FALSE(by_id(fargate, "bae32def0ab64f06818e8862e58f8d6d-1585788040").present);  // null
  TaskStats ec2 = stats_of("ecs_exporter/ec2-bridge-cgroupv2.stats.json");
  CHECK_FALSE(by_id(ec2, "213e1203f4bb72af185724d937e698d2724acf35b57ec2dd5f3c963adbd2d38c").present);  // {}
}

TEST_CASE("parser: cgroup v1 memory uses stats.cache, cgroup v2 stats.inactive_file") {
  TaskStats v1 = stats_of("ecs_exporter/fargate-awsvpc-cgroupv1.stats.json");
  const auto& p = by_id(v1, "bae32def0ab64f06818e8862e58f8d6d-1819985369");
  CHECK(p.memory_usage == 127934464);
  CHECK(p.memory_cache == 85426176);
  CHECK(p.name == "prometheus");

  TaskStats v2 = stats_of("ecs_exporter/ec2-bridge-cgroupv2.stats.json");
  const auto& e = by_id(v2, "01cf1f3208005cda71d5ac936ded65d2ecc0a8cc8ff8a82d2e00410bf4fbbd6d");
  CHECK(e.memory_usage == 65249280);
  CHECK(e.memory_cache == 17641472);
  // The Docker name keeps its leading slash in the body; we drop it.
  CHECK(e.name == "ecs-prom-ecs-exporter-sandbox-main-ec2-13-ecs-exporter-e2aeb1e6be8998c72300");
}

TEST_CASE("parser: blkio sums every device, any op case; null lists are no figure") {
  TaskStats v1 = stats_of("ecs_exporter/fargate-awsvpc-cgroupv1.stats.json");
  const auto& p = by_id(v1, "bae32def0ab64f06818e8862e58f8d6d-1819985369");
  CHECK(p.has_blkio_bytes);
  CHECK(p.blkio_read_bytes == 23793664.0 + 65409024.0);  // devices 259:1 and 259:0
  TaskStats v2 = stats_of("ecs_exporter/ec2-bridge-cgroupv2.stats.json");
  const auto& e = by_id(v2, "01cf1f3208005cda71d5ac936ded65d2ecc0a8cc8ff8a82d2e00410bf4fbbd6d");
  CHECK(e.has_blkio_bytes);
  CHECK(e.blkio_read_bytes == 60960768);  // lower-case "read" on cgroup v2
  CHECK(e.blkio_write_bytes == 57344);
  CHECK_FALSE(e.has_blkio_ops);  // io_serviced_recursive is null
}

TEST_CASE("parser: old `network` key and no `networks` key") {
  TaskStats t = stats_of("telegraf/awsvpc-pause-cgroupv1-2018.stats.json");
  size_t with_interfaces = 0;
  for (const auto& c : t.containers) with_interfaces += !c.interfaces.empty();
  CHECK(with_interfaces == 1);  // only the pause entry has `networks`; the app has `"network": {}`
  TaskStats v3 = stats_of("mackerel_container_agent/v3-fargate-awsvpc-pause.stats.json");
  for (const auto& c : v3.containers) CHECK(c.interfaces.empty());
}

TEST_CASE("parser: Windows stats") {
  TaskStats w = stats_of("datadog_ecs_fargate/windows-2021-edited.stats.json");
  REQUIRE(w.containers.size() == 1);
  const auto& c = w.containers[0];
  CHECK(c.windows);
  CHECK(c.cpu_seconds == doctest::Approx(17.03125));
  CHECK(c.memory_usage == 210485248);
  CHECK(*c.memory_usage - *c.memory_cache == 140673024);  // the private working set
  CHECK(c.has_blkio_bytes);                               // blkio lists are "None": storage_stats instead
  CHECK(c.blkio_read_bytes == 248714240);
  CHECK(c.blkio_write_ops == 774);
  REQUIRE(c.interfaces.size() == 1);
  CHECK(c.interfaces[0].name == "Ethernet 3");
}

TEST_CASE("parser: uint64-max memory limit and duplicate keys") {
  TaskStats mi = stats_of("otel_awsecscontainermetrics/managed-instances-daemon-trimmed.stats.json");
  CHECK(mi.containers[0].memory_limit == 18446744073709551615.0);
  TaskStats dup = stats_of("vector/fragment-blkio-with-empty-and-null-dupkey.stats.json");
  size_t same_key = 0;
  for (const auto& c : dup.containers) same_key += c.docker_id == "123456789";
  CHECK(same_key == 2);  // both kept here; the collector decides
}

TEST_CASE("parser: malformed JSON names the byte offset") {
  MetadataParser p;
  TaskMeta t;
  std::string error;
  std::string body = std::string(R"({"TaskARN": "x", "Family": "f",})");
  CHECK_FALSE(p.parse_task(PaddedBody(body), t, error));
  CHECK(error.find("at byte 31") != std::string::npos);

  const std::string whole = read_fixture("ecs_exporter/fargate-awsvpc-cgroupv1.task.json");
  body = std::string(std::string_view(whole).substr(0, 1000));
  CHECK_FALSE(p.parse_task(PaddedBody(body), t, error));
  CHECK(error.find("at byte 1000 of 1000") != std::string::npos);

  body = std::string("[1,2]");
  CHECK_FALSE(p.parse_task(PaddedBody(body), t, error));
  CHECK(error == "task body is not a JSON object");

  body = std::string(R"({"Family": "f"})");
  CHECK_FALSE(p.parse_task(PaddedBody(body), t, error));
  CHECK(error == "task body has no TaskARN");

  TaskStats s;
  body = std::string("\x00\xff garbage");
  CHECK_FALSE(p.parse_stats(PaddedBody(body), s, error));
  CHECK(error.find("stats body is malformed JSON at byte 0") != std::string::npos);
}

TEST_CASE("parser: a numeric Revision (older agents) becomes text") {
  MetadataParser p;
  TaskMeta t;
  std::string error;
  std::string body = std::string(R"({"TaskARN":"arn:aws:ecs:r:1:task/c/abc","Family":"f","Revision":7})");
  REQUIRE(p.parse_task(PaddedBody(body), t, error));
  CHECK(t.revision == "7");
  CHECK(t.containers.empty());
}
