#include "remote_write_sink.h"

#include <doctest/doctest.h>

#include <cmath>

using emp::remote_write::is_stale_nan;
using emp::remote_write::parse_label_block;
using emp::remote_write::stale_nan;

TEST_CASE("remote write: label blocks are unescaped") {
  std::vector<std::pair<std::string, std::string>> labels;
  parse_label_block(R"(container_name="app",image="a\"b\\c\nd")", labels);
  REQUIRE(labels.size() == 2);
  CHECK(labels[0] == std::pair<std::string, std::string>{"container_name", "app"});
  CHECK(labels[1].second == "a\"b\\c\nd");
  labels.clear();
  parse_label_block("", labels);
  CHECK(labels.empty());
  parse_label_block(R"(a="",b="x,y=\"z\"")", labels);
  REQUIRE(labels.size() == 2);
  CHECK(labels[0].second.empty());
  CHECK(labels[1].second == "x,y=\"z\"");
}

TEST_CASE("remote write: the staleness marker is Prometheus' own NaN") {
  const double s = stale_nan();
  CHECK(std::isnan(s));
  CHECK(is_stale_nan(s));
  CHECK_FALSE(is_stale_nan(std::nan("")));  // an ordinary NaN is a value, not an end
  CHECK_FALSE(is_stale_nan(0.0));
}

TEST_CASE("remote write: options refused at creation") {
  std::string error;
  emp::RemoteWriteOptions o;
  o.url = "http://127.0.0.1:1/api/v1/write";
  o.static_labels = {{"task_id", "x"}};
  CHECK_FALSE(emp::make_remote_write_sink(o, error));
  CHECK(error.find("would overwrite") != std::string::npos);
  o.static_labels = {{"__meta", "x"}};
  CHECK_FALSE(emp::make_remote_write_sink(o, error));
  o.static_labels = {{"env", "prod"}};
  CHECK(emp::make_remote_write_sink(o, error));
}
