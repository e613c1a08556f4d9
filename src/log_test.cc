#include "log.h"
#include "options.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using namespace emp;
using emp::log::Field;

TEST_CASE("log: logfmt lines quote only what needs it and escape the rest") {
  CHECK(
      log::format_line(LogLevel::Error, LogFormat::Logfmt, "2024-05-01T10:00:00.000Z", "delivery failed",
                       {{"sink", "pushgateway"}, {"err", "PUT http://p/metrics: 400 \"bad\"\nline"}, {"empty", ""}}) ==
      "ts=2024-05-01T10:00:00.000Z level=error msg=\"delivery failed\" sink=pushgateway "
      "err=\"PUT http://p/metrics: 400 \\\"bad\\\"\\nline\" empty=\"\"\n");
  CHECK(log::format_line(LogLevel::Info, LogFormat::Logfmt, "T", "x", {{"k", "a=b"}, {"path", "C:\\x"}}) ==
        "ts=T level=info msg=\"x\" k=\"a=b\" path=\"C:\\\\x\"\n");
}

TEST_CASE("log: JSON lines are one object with every field a string") {
  CHECK(log::format_line(LogLevel::Warn, LogFormat::Json, "T", "cycle took longer",
                         {{"took", "2.5s"}, {"err", "tab\there \x01"}}) ==
        "{\"ts\":\"T\",\"level\":\"warn\",\"msg\":\"cycle took longer\",\"took\":\"2.5s\","
        "\"err\":\"tab\\there \\u0001\"}\n");
}

TEST_CASE("log: levels filter") {
  log::configure({LogLevel::Warn, LogFormat::Logfmt});
  CHECK_FALSE(log::enabled(LogLevel::Debug));
  CHECK_FALSE(log::enabled(LogLevel::Info));
  CHECK(log::enabled(LogLevel::Warn));
  CHECK(log::enabled(LogLevel::Error));
  log::configure({LogLevel::Debug, LogFormat::Logfmt});
  CHECK(log::enabled(LogLevel::Debug));
  log::configure({LogLevel::Info, LogFormat::Logfmt});
}

TEST_CASE("log: the start-up line carries the configuration, secrets redacted") {
  Options o;
  o.pushgateway.url = "https://pgw.example:9091/prefix";
  o.pushgateway.http.username = "alice";
  o.pushgateway.http.password = "hunter2-secret";
  o.pushgateway.http.headers = {"Authorization: Bearer abc.def.ghi"};
  std::vector<Field> fields;
  const auto config = describe(o);
  for (const auto& [k, v] : config) fields.push_back({k, v});
  const std::string line =
      log::format_line(LogLevel::Info, LogFormat::Logfmt, "T", "starting", std::span<const Field>(fields));
  CHECK(line.find("pushgateway.url=https://pgw.example:9091/prefix") != std::string::npos);
  CHECK(line.find("pushgateway.username=alice") != std::string::npos);
  CHECK(line.find("pushgateway.password=<redacted>") != std::string::npos);
  CHECK(line.find("pushgateway.header=\"Authorization: <redacted>\"") != std::string::npos);
  CHECK(line.find("hunter2") == std::string::npos);
  CHECK(line.find("abc.def") == std::string::npos);
  CHECK(line.find("interval=15s") != std::string::npos);
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
}
