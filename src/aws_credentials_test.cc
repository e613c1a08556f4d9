#include "aws_credentials.h"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using emp::AwsKeys;
namespace aws = emp::aws;

TEST_CASE("aws: a task role answer") {
  // The shape the ECS agent serves at 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI.
  AwsKeys k;
  std::string error;
  REQUIRE(aws::parse_credentials(
      R"({"RoleArn":"arn:aws:iam::123456789012:role/r","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"s3cr3t",)"
      R"("Token":"tok","Expiration":"2026-12-03T07:00:00Z"})",
      k, error));
  CHECK(k.access_key_id == "ASIAEXAMPLE");
  CHECK(k.secret_access_key == "s3cr3t");
  CHECK(k.session_token == "tok");
  REQUIRE(k.expiration);
  // 2026-12-03T07:00:00Z
  CHECK(std::chrono::duration_cast<std::chrono::seconds>(k.expiration->time_since_epoch()).count() == 1796281200);
}

TEST_CASE("aws: bad answers name what is missing, never the body") {
  AwsKeys k;
  std::string error;
  CHECK_FALSE(aws::parse_credentials("not json s3cr3t", k, error));
  CHECK(error.find("s3cr3t") == std::string::npos);
  CHECK_FALSE(aws::parse_credentials(R"({"SecretAccessKey":"s3cr3t"})", k, error));
  CHECK(error.find("AccessKeyId") != std::string::npos);
  CHECK(error.find("s3cr3t") == std::string::npos);
  CHECK_FALSE(aws::parse_credentials(R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"soon"})", k, error));
}

TEST_CASE("aws: refresh half-way for short keys, 5 minutes early for long ones") {
  const aws::WallTime t0{};
  CHECK(aws::refresh_time(t0, t0 + 6s) == t0 + 3s);
  CHECK(aws::refresh_time(t0, t0 + 6h) == t0 + 6h - 5min);
  CHECK(aws::refresh_time(t0 + 10s, t0) == t0 + 10s);  // already expired: now
}

TEST_CASE("aws: which full credential URIs may be plain http") {
  CHECK(aws::full_uri_allowed("https://creds.example.com/x"));
  CHECK(aws::full_uri_allowed("http://127.0.0.1:8080/creds"));
  CHECK(aws::full_uri_allowed("http://localhost/creds"));
  CHECK(aws::full_uri_allowed("http://169.254.170.2/v2/credentials/x"));
  CHECK(aws::full_uri_allowed("http://169.254.170.23/v1/credentials"));
  CHECK(aws::full_uri_allowed("http://[::1]:9/c"));
  CHECK_FALSE(aws::full_uri_allowed("http://10.0.0.1/creds"));
  CHECK_FALSE(aws::full_uri_allowed("http://127.0.0.1.evil.example/creds"));
  CHECK_FALSE(aws::full_uri_allowed("ftp://127.0.0.1/"));
}
