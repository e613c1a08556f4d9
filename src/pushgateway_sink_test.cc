#include "pushgateway_sink.h"

#include <curl/curl.h>
#include <doctest/doctest.h>

#include <random>

using namespace emp;

namespace {

Options base_options() {
  Options o;
  o.pushgateway_url = "http://127.0.0.1:9091/prefix/";
  return o;
}

std::string build_error(const Options& o) {
  std::string error;
  auto sink = make_pushgateway_sink(o, error);
  if (sink) return "";
  REQUIRE_FALSE(error.empty());
  return error;
}

}  // namespace

TEST_CASE("what is retried: connection errors, 5xx and 429 only") {
  using push_retry::retryable;
  CHECK(retryable(CURLE_COULDNT_CONNECT, 0));
  CHECK(retryable(CURLE_OPERATION_TIMEDOUT, 0));
  CHECK(retryable(CURLE_GOT_NOTHING, 0));
  CHECK(retryable(CURLE_RECV_ERROR, 0));
  CHECK(retryable(CURLE_OK, 500));
  CHECK(retryable(CURLE_OK, 503));
  CHECK(retryable(CURLE_OK, 429));
  CHECK_FALSE(retryable(CURLE_OK, 400));
  CHECK_FALSE(retryable(CURLE_OK, 401));
  CHECK_FALSE(retryable(CURLE_OK, 404));
  CHECK_FALSE(retryable(CURLE_OK, 301));
  CHECK_FALSE(retryable(CURLE_PEER_FAILED_VERIFICATION, 0));  // a wrong CA does not heal
  CHECK_FALSE(retryable(CURLE_SSL_CERTPROBLEM, 0));
  CHECK_FALSE(retryable(CURLE_URL_MALFORMAT, 0));
}

TEST_CASE("backoff doubles from 250 ms, is capped at 4 s, and jitters within the upper half") {
  std::minstd_rand rng(7);
  const int ceilings[] = {250, 500, 1000, 2000, 4000, 4000, 4000};
  for (int attempt = 1; attempt <= 7; ++attempt) {
    const int ceiling = ceilings[attempt - 1];
    long lo = 1 << 30, hi = 0;
    for (int i = 0; i < 500; ++i) {
      const long d = static_cast<long>(push_retry::backoff(attempt, rng).count());
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    CHECK(lo >= ceiling / 2);
    CHECK(hi <= ceiling);
    CHECK(hi - lo > ceiling / 4);  // it does spread
  }
}

TEST_CASE("a sound configuration builds") {
  Options o = base_options();
  o.pushgateway_static_labels = {{"env", "prod"}, {"path", "/a b/é"}, {"empty", ""}};
  o.pushgateway_headers = {"X-Scope-OrgID: team-a"};
  CHECK(build_error(o).empty());
}

TEST_CASE("bad configurations are refused before any I/O, with the cause") {
  Options o = base_options();
  o.pushgateway_static_labels = {{"k2", "\xFB\xFF"}};
  CHECK(build_error(o).find("value of \"k2\" is not valid UTF-8") != std::string::npos);

  o = base_options();
  o.pushgateway_static_labels = {{"container_id", "x"}};
  CHECK(build_error(o).find("\"container_id\" is a label of the pushed series") != std::string::npos);

  o = base_options();
  o.pushgateway_static_labels = {{"task_family", "x"}};  // also an identity grouping label
  CHECK(build_error(o).find("\"task_family\" appears twice") != std::string::npos);

  o = base_options();
  o.pushgateway_grouping_labels = {"task_id", "task_id"};
  CHECK(build_error(o).find("appears twice") != std::string::npos);

  o = base_options();
  o.pushgateway_job = "j\xC3";
  CHECK(build_error(o).find("not valid UTF-8") != std::string::npos);

  o = base_options();
  o.pushgateway_url = "http://user:s3cr3t-pw@127.0.0.1:9091";
  const std::string e = build_error(o);
  CHECK(e.find("user or password in the URL") != std::string::npos);
  CHECK(e.find("s3cr3t-pw") == std::string::npos);

  o = base_options();
  o.pushgateway_url = "http://127.0.0.1:9091/?x=1";
  CHECK(build_error(o).find("query") != std::string::npos);

  o = base_options();
  o.pushgateway_headers = {"X-Bad\r\nInjected: 1"};
  CHECK(build_error(o).find("--pushgateway.header") != std::string::npos);
}

TEST_CASE("deliver refuses to push without the task identity") {
  std::string error;
  auto sink = make_pushgateway_sink(base_options(), error);
  REQUIRE(sink);
  MetricSet set;
  set.add(Metric::ExporterSuccess, 0, 0);
  CHECK_FALSE(sink->deliver(set, TaskIdentity{}, error));
  CHECK(error.find("task identity not known yet") != std::string::npos);
  // Nothing was pushed under an incomplete key, so there is nothing to remove.
  CHECK(sink->remove(TaskIdentity{}, error));
}
