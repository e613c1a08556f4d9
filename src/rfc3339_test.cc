#include "rfc3339.h"

#include <doctest/doctest.h>

using emp::parse_rfc3339;

TEST_CASE("rfc3339: the agent's nanosecond UTC form") {
  // 2025-02-27 is day 20146 since 1970-01-01: 20146*86400 + 5*3600 + 6*60 + 3 = 1740632763.
  auto t = parse_rfc3339("2025-02-27T05:06:03.714437592Z");
  REQUIRE(t);
  CHECK(*t == doctest::Approx(1740632763.714437592).epsilon(1e-15));
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0.0);
  CHECK(parse_rfc3339("1970-01-01T00:00:01.5Z") == 1.5);
}

TEST_CASE("rfc3339: numeric offsets move the instant") {
  CHECK(parse_rfc3339("1970-01-01T01:00:00+01:00") == 0.0);
  CHECK(parse_rfc3339("1969-12-31T23:00:00-01:00") == 0.0);
}

TEST_CASE("rfc3339: Go's zero time and malformed text are absent values") {
  CHECK_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339(""));
  CHECK_FALSE(parse_rfc3339("2025-02-27"));
  CHECK_FALSE(parse_rfc3339("2025-02-30T00:00:00Z"));  // no such day
  CHECK_FALSE(parse_rfc3339("2025-02-27T25:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2025-02-27T05:06:03.Z"));
  CHECK_FALSE(parse_rfc3339("2025-02-27T05:06:03"));  // no zone
  CHECK_FALSE(parse_rfc3339("2025-02-27T05:06:03Zjunk"));
}
