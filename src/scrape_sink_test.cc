#include "scrape_sink.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include "tests/test_util.h"

using namespace emp;

namespace {

std::string gunzip(const std::string& in) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

constexpr std::string_view kFix = "knziiy_ecs_metrics_exporter/fargate-awsvpc-cgroupv1-edited";

}  // namespace

TEST_CASE("scrape sink: the set with the task identity, plain and gzip; ready after a good cycle") {
  const auto p = test::collect_pair(std::string(kFix) + ".task.json", std::string(kFix) + ".stats.json");
  TaskIdentity id;
  update_identity(p.task, id);
  auto state = std::make_shared<ScrapeState>();
  auto sink = make_scrape_sink(state, false);
  CHECK(state->current() == nullptr);
  CHECK_FALSE(state->ready());

  MetadataBodies bodies;
  bodies.task.assign(R"({"TaskARN":"x"})");
  bodies.stats.assign("{}");
  std::string error;
  // A failed first cycle: served, but not ready.
  REQUIRE(sink->deliver({p.set, id, false, std::chrono::steady_clock::now(), nullptr}, error));
  CHECK_FALSE(state->ready());
  REQUIRE(sink->deliver({p.set, id, true, std::chrono::steady_clock::now(), &bodies}, error));
  CHECK(state->ready());
  auto snap = state->current();
  REQUIRE(snap);
  // Hand-worked from the fixture: containerA memory_stats.usage 30000000 −
  // stats.cache 10000000 = 20000000; the task id is the ARN's last segment.
  CHECK(snap->text.find("ee_container_memory_usage_without_cache_byte{container_name=\"containerA\",container_id="
                        "\"49e756135b1849cf98cd6a12c78bc6ea-1059602171\",task_family=\"taskdef-name-test\","
                        "task_revision=\"123\",task_id=\"49e756135b1849cf98cd6a12c78bc6ea\"} 20000000\n") !=
        std::string::npos);
  CHECK(gunzip(snap->gzipped) == snap->text);
  // Without the passthrough no body is kept.
  CHECK(snap->task_body.empty());
  CHECK(snap->stats_body.empty());
}

TEST_CASE("scrape sink: passthrough keeps the last good bodies across a failed read") {
  MetricSet set;
  TaskIdentity id;
  auto state = std::make_shared<ScrapeState>();
  auto sink = make_scrape_sink(state, true);
  MetadataBodies bodies;
  bodies.task.assign(R"({"TaskARN":"a"})");
  bodies.stats.assign(R"({"c":null})");
  std::string error;
  REQUIRE(sink->deliver({set, id, true, std::chrono::steady_clock::now(), &bodies}, error));
  auto first = state->current();
  CHECK(first->task_body == R"({"TaskARN":"a"})");
  CHECK(first->stats_body == R"({"c":null})");
  REQUIRE(sink->deliver({set, id, false, std::chrono::steady_clock::now(), nullptr}, error));
  auto second = state->current();
  CHECK(second != first);
  CHECK(second->task_body == R"({"TaskARN":"a"})");
  CHECK_FALSE(second->metadata_ok);
  // A scrape still holding the old snapshot keeps it whole.
  CHECK(first->metadata_ok);
  CHECK(sink->remove(id, std::chrono::steady_clock::now(), error));
}
