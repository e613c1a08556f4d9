#include "http_client.h"

#include <doctest/doctest.h>

#include <limits>
#include <random>

using namespace emp;

TEST_CASE("what is retried: connection errors, 5xx and 429 only") {
  using http_retry::retryable;
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
      const long d = static_cast<long>(http_retry::backoff(attempt, rng).count());
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    CHECK(lo >= ceiling / 2);
    CHECK(hi <= ceiling);
    CHECK(hi - lo > ceiling / 4);  // it does spread
  }
}

TEST_CASE("Retry-After: any value the server sends gives a bounded wait, never an overflow") {
  const Duration backoff(250);
  CHECK(http_retry::next_wait(backoff, 0) == backoff);
  CHECK(http_retry::next_wait(backoff, 2) == Duration(2000));
  // A year-9999 HTTP date comes back from libcurl as ~2.5e11 seconds; a
  // hostile number as up to 2^63-1: both are capped at a day.
  CHECK(http_retry::next_wait(backoff, 253402300799LL) == Duration(86400000));
  CHECK(http_retry::next_wait(backoff, std::numeric_limits<long long>::max()) == Duration(86400000));
  CHECK(http_retry::next_wait(backoff, -5) == backoff);
}

TEST_CASE("redact_url: credentials, queries and fragments never reach a message") {
  CHECK(redact_url("https://pgw.example:9091/prefix") == "https://pgw.example:9091/prefix");
  CHECK(redact_url("https://u:pw@h/x") == "https://<redacted>@h/x");
  CHECK(redact_url("https:/u:pw@h") == "<redacted>@h");                    // a mistyped scheme
  CHECK(redact_url("https://u:p/w@h:1/x") == "https://<redacted>@h:1/x");  // a password holding '/'
  CHECK(redact_url("host/?token=abc") == "host/?<redacted>");              // no scheme at all
  CHECK(redact_url("http://h/p#frag") == "http://h/p#<redacted>");
  CHECK(redact_url("http://169.254.170.2/v4/u:p@x") == "http://<redacted>@x");
  // Pushgateway paths carry "@base64/" segments: not user information.
  CHECK(redact_url("http://h:9091/metrics/job/ecs/service_name@base64/=/task_id/t") ==
        "http://h:9091/metrics/job/ecs/service_name@base64/=/task_id/t");
  CHECK(redact_url("https://u:pw@h/metrics/job@base64/ZQ") == "https://<redacted>@h/metrics/job@base64/ZQ");
}

TEST_CASE("redact: echoed secrets are removed, also base64 basic auth and short ones") {
  HttpClientOptions o = HttpClientOptions::for_flags("pushgateway");
  o.username = "alice";
  o.password = "s3cr3t-pw";
  o.headers = {"X-Api-Key: k3y", "X-Tenant: team-a"};
  std::string error;
  auto client = HttpClient::create(o, error);
  REQUIRE_MESSAGE(client, error);
  // base64("alice:s3cr3t-pw") is what an echoing peer shows of the Authorization header.
  std::string echoed = "Authorization: Basic YWxpY2U6czNjcjN0LXB3 password s3cr3t-pw tenant team-a";
  client->redact(echoed);
  CHECK(echoed == "Authorization: Basic <redacted> password <redacted> tenant <redacted>");
  // A 3-byte secret cannot be cut out of ordinary text: the peer's text is withheld whole.
  std::string short_echo = "header was k3y";
  client->redact(short_echo);
  CHECK(short_echo.find("k3y") == std::string::npos);
}

TEST_CASE("redact: proxy credentials from the environment are secrets too") {
  setenv("HTTPS_PROXY", "http://proxyuser:pr0xy-pass@127.0.0.1:3128", 1);
  std::string error;
  auto client = HttpClient::create(HttpClientOptions::for_flags("pushgateway"), error);
  unsetenv("HTTPS_PROXY");
  REQUIRE(client);
  std::string echoed = "Proxy-Authorization: Basic cHJveHl1c2VyOnByMHh5LXBhc3M= pr0xy-pass";
  client->redact(echoed);
  CHECK(echoed.find("pr0xy-pass") == std::string::npos);
  CHECK(echoed.find("cHJveHl1c2VyOnByMHh5LXBhc3M=") == std::string::npos);
}
