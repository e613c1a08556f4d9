#include "duration.h"

#include <doctest/doctest.h>

using emp::Duration;
using emp::format_duration;
using emp::parse_duration;

TEST_CASE("duration: Prometheus spellings") {
  CHECK(parse_duration("250ms") == Duration{250});
  CHECK(parse_duration("15s") == Duration{15000});
  CHECK(parse_duration("1m") == Duration{60000});
  CHECK(parse_duration("1m30s") == Duration{90000});
  CHECK(parse_duration("1h") == Duration{3600000});
  CHECK(parse_duration("1d") == Duration{86400000});
  CHECK(parse_duration("0") == Duration{0});
}

TEST_CASE("duration: rejected spellings") {
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("15"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("1.5s"));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("30s1m"));  // units must decrease
  CHECK_FALSE(parse_duration("1x"));
  CHECK_FALSE(parse_duration("99999999999999999999s"));
}

TEST_CASE("duration: formatting round-trips") {
  CHECK(format_duration(Duration{15000}) == "15s");
  CHECK(format_duration(Duration{90000}) == "1m30s");
  CHECK(format_duration(Duration{250}) == "250ms");
  CHECK(format_duration(Duration{0}) == "0s");
  for (auto ms : {1, 999, 1000, 61001, 3600000, 86399999})
    CHECK(parse_duration(format_duration(Duration{ms})) == Duration{ms});
}
