#include "pushgateway_sink.h"

#include <doctest/doctest.h>

using namespace emp;

namespace {

PushgatewayOptions base_options() {
  PushgatewayOptions o;
  o.url = "http://127.0.0.1:9091/prefix/";
  return o;
}

std::string build_error(const PushgatewayOptions& o) {
  std::string error;
  auto sink = make_pushgateway_sink(o, error);
  if (sink) return "";
  REQUIRE_FALSE(error.empty());
  return error;
}

}  // namespace

TEST_CASE("a sound configuration builds") {
  PushgatewayOptions o = base_options();
  o.static_labels = {{"env", "prod"}, {"path", "/a b/é"}, {"empty", ""}};
  o.http.headers = {"X-Scope-OrgID: team-a"};
  CHECK(build_error(o).empty());
}

TEST_CASE("bad configurations are refused before any I/O, with the cause") {
  PushgatewayOptions o = base_options();
  o.static_labels = {{"k2", "\xFB\xFF"}};
  CHECK(build_error(o).find("value of \"k2\" is not valid UTF-8") != std::string::npos);

  o = base_options();
  o.static_labels = {{"container_id", "x"}};
  CHECK(build_error(o).find("\"container_id\" is a label of the pushed series") != std::string::npos);

  o = base_options();
  o.static_labels = {{"task_family", "x"}};  // also an identity grouping label
  CHECK(build_error(o).find("\"task_family\" appears twice") != std::string::npos);

  o = base_options();
  o.grouping_labels = {"task_id", "task_id"};
  CHECK(build_error(o).find("appears twice") != std::string::npos);

  o = base_options();
  o.job = "j\xC3";
  CHECK(build_error(o).find("not valid UTF-8") != std::string::npos);

  o = base_options();
  o.url = "http://user:s3cr3t-pw@127.0.0.1:9091";
  const std::string e = build_error(o);
  CHECK(e.find("user or password in the URL") != std::string::npos);
  CHECK(e.find("s3cr3t-pw") == std::string::npos);

  o = base_options();
  o.url = "http://127.0.0.1:9091/?x=1";
  CHECK(build_error(o).find("query") != std::string::npos);

  o = base_options();
  o.http.headers = {"X-Bad\r\nInjected: 1"};
  CHECK(build_error(o).find("--pushgateway.header") != std::string::npos);
}

TEST_CASE("deliver refuses to push without the task identity") {
  std::string error;
  auto sink = make_pushgateway_sink(base_options(), error);
  REQUIRE(sink);
  MetricSet set;
  set.add(Metric::ExporterSuccess, 0, 0);
  const TaskIdentity unknown;
  CHECK_FALSE(sink->deliver({set, unknown, true, std::chrono::steady_clock::now()}, error));
  CHECK(error.find("task identity not known yet") != std::string::npos);
  // Nothing was pushed under an incomplete key, so there is nothing to remove.
  CHECK(sink->remove(unknown, std::chrono::steady_clock::now(), error));
}

TEST_CASE("a static grouping label may not overwrite a label the series carry") {
  PushgatewayOptions o = base_options();
  for (const char* name : {"cluster", "version", "known_status", "launch_type", "sink"}) {
    o.static_labels = {{name, "x"}};
    CHECK_MESSAGE(build_error(o).find("is a label of the pushed series") != std::string::npos, name);
  }
  o.static_labels = {{"env", "prod"}};
  CHECK(build_error(o).empty());
}
