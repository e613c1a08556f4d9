#include "json_error_offset.h"

#include <doctest/doctest.h>

#include <string_view>

using namespace emp;

TEST_CASE("locate_json_error on small cases") {
  CHECK(locate_json_error(R"({"a":[1,2,{"b":null}]})") == std::string_view::npos);
  CHECK(locate_json_error("") == 0);
  CHECK(locate_json_error("{") == 1);
  CHECK(locate_json_error(R"({"a" 1})") == 5);
  CHECK(locate_json_error("[1,]") == 3);
  CHECK(locate_json_error("[01]") == 2);
  CHECK(locate_json_error("{} x") == 3);
  CHECK(locate_json_error(R"(["\q"])") == 3);
}
