#include "model.h"

#include <doctest/doctest.h>

using namespace emp;

TEST_CASE("model: the task id is the ARN's last non-empty segment") {
  CHECK(last_arn_segment("arn:aws:ecs:us-east-1:1:task/c/abc") == "abc");
  CHECK(last_arn_segment("arn:aws:ecs:us-east-1:1:task/c/abc/") == "abc");
  CHECK(last_arn_segment("arn:aws:ecs:us-east-1:1:task/c/abc//") == "abc");
  CHECK(last_arn_segment("arn:aws:ecs:us-east-1:1:task/abc") == "abc");
  CHECK(last_arn_segment("abc") == "abc");
  CHECK(last_arn_segment("/") == "");
  CHECK(last_arn_segment("arn:aws:ecs:us-east-1:1:task/") == "");
  CHECK(last_arn_segment("arn:aws:ecs:us-east-1:1:task///") == "");
  CHECK(last_arn_segment("") == "");
}
