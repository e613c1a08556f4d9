// http: one owned libcurl easy handle with the setup every HTTP stage shares
// (timeouts, TLS, auth, headers, proxy rules, error text, secret redaction),
// and one request loop with bounded retries. The metadata source and every
// HTTP sink use it; none of them touches libcurl setup of its own.
#pragma once

#include <curl/curl.h>

#include <initializer_list>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duration.h"
#include "padded_body.h"

namespace emp {

// The TLS and authentication block a user sets per peer (--<peer>.ca-file …).
struct HttpClientOptions {
  std::string flag_prefix;  // "pushgateway": names flags in error messages
  Duration connect_timeout{2000};
  Duration timeout{5000};  // one attempt
  std::string username;
  std::string password;  // read from a file or the environment by options
  std::string password_file;
  std::string bearer_token;  // likewise
  std::string bearer_token_file;
  std::vector<std::string> headers;  // "Name: value"; values are secrets for logging purposes
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure_skip_verify = false;
  // The link-local metadata endpoint must never go through a proxy meant for
  // the sinks: false sets NOPROXY=*.
  bool use_proxy = true;
  // Largest response body kept (the rest is read and dropped, or refused
  // when `refuse_larger` is set: the metadata bodies).
  size_t max_response = 4096;
  bool refuse_larger = false;

  static HttpClientOptions for_flags(std::string prefix) {
    HttpClientOptions o;
    o.flag_prefix = std::move(prefix);
    return o;
  }
};

// The owner of a CURL easy handle: move-only, cleans up once.
class CurlHandle {
 public:
  CurlHandle() : handle_(curl_easy_init()) {}
  CurlHandle(const CurlHandle&) = delete;
  CurlHandle& operator=(const CurlHandle&) = delete;
  CurlHandle(CurlHandle&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
  ~CurlHandle() {
    if (handle_) curl_easy_cleanup(handle_);
  }
  CURL* get() const { return handle_; }

 private:
  CURL* handle_;
};

// The owner of a curl_slist header list.
class CurlHeaders {
 public:
  CurlHeaders() = default;
  CurlHeaders(const CurlHeaders&) = delete;
  CurlHeaders& operator=(const CurlHeaders&) = delete;
  CurlHeaders(CurlHeaders&& other) noexcept : list_(other.list_) { other.list_ = nullptr; }
  CurlHeaders& operator=(CurlHeaders&& other) noexcept {
    std::swap(list_, other.list_);
    return *this;
  }
  ~CurlHeaders() { curl_slist_free_all(list_); }
  void add(const std::string& header) { list_ = curl_slist_append(list_, header.c_str()); }
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

struct HttpRequest {
  std::string_view method;  // GET, PUT, POST, DELETE
  const std::string* url;
  std::string_view body;  // sent as is (no body for GET and DELETE)
  // Every header of the request: from HttpClient::headers_with(), which
  // puts the shared ones (auth, --<peer>.header) first.
  curl_slist* headers = nullptr;
};

struct HttpResponse {
  CURLcode code = CURLE_OK;
  long status = 0;
  PaddedBody body;              // at most max_response bytes, ready for the JSON parser
  bool too_large = false;       // refuse_larger and the body was larger
  long long retry_after_s = 0;  // Retry-After, in seconds from now (0: none)
  int attempts = 0;             // set by HttpClient::send()
};

namespace http_retry {
// Whether a failed attempt may succeed if repeated: connection-level errors,
// HTTP 5xx and 429.
bool retryable(CURLcode code, long http_status);
// Delay before attempt `attempt + 1` (attempt ≥ 1): 250 ms doubling per
// attempt, capped at 4 s, with "equal jitter" (a uniform draw from the upper
// half) so that a fleet that failed together does not retry together.
Duration backoff(int attempt, std::minstd_rand& rng);
// The wait before the next attempt: the backoff, or the server's
// Retry-After when longer. Never overflows, whatever the server sent.
Duration next_wait(Duration backoff, long long retry_after_s);
}  // namespace http_retry

// A URL for a log line or an error message: user information, query and
// fragment are replaced by "<redacted>", also in text that is not a valid URL
// (a mistyped scheme, a password holding '/').
std::string redact_url(std::string_view url);

class HttpClient {
 public:
  // Validates the options against libcurl (a usable handle, header syntax).
  // nullptr with `error` (naming the flag) when they cannot work.
  static std::unique_ptr<HttpClient> create(HttpClientOptions options, std::string& error);

  // One attempt, bounded by the options' timeouts and by `deadline`.
  void perform(const HttpRequest& request, SteadyTime deadline, HttpResponse& response);
  // Attempts until one succeeds (2xx), fails for good, or the next retry
  // would not fit before `deadline`. False with a one-line, redacted cause.
  // `what` names the peer in retry log lines ("Pushgateway").
  bool send(const HttpRequest& request, SteadyTime deadline, HttpResponse& response, std::string& error,
            std::string_view what);

  // One line for a failed attempt: the URL, libcurl's error or the status
  // and the peer's own explanation, secrets removed.
  std::string describe_failure(const HttpRequest& request, const HttpResponse& response) const;
  // Removes every secret this client sends (passwords, tokens, header values,
  // the basic auth and proxy credentials, also base64-encoded) from a text
  // that came from the peer or libcurl.
  void redact(std::string& text) const;
  // Adds a secret to redact (e.g. a rotating AWS session token).
  void add_secret(std::string secret);

  // The shared headers followed by `extra`, empty ones left out (built once,
  // kept by the caller).
  CurlHeaders headers_with(std::initializer_list<std::string_view> extra) const;

  // For stage-specific options (e.g. CURLOPT_AWS_SIGV4) on the shared handle.
  CURL* handle() const { return handle_.get(); }
  const HttpClientOptions& options() const { return options_; }

  // Debug detail of the last transfer.
  double last_seconds() const;
  long last_new_connections() const;

 private:
  explicit HttpClient(HttpClientOptions options);
  bool init(std::string& error);
  static size_t on_data(char* data, size_t size, size_t count, void* user);

  HttpClientOptions options_;
  CurlHandle handle_;
  std::vector<std::string> shared_headers_;
  std::vector<std::string> secrets_;
  std::string http_proxy_;  // $HTTP_PROXY, for http:// URLs when $http_proxy is unset
  std::string method_;      // the current request's, kept for CURLOPT_CUSTOMREQUEST
  char curl_error_[CURL_ERROR_SIZE] = {};
  std::minstd_rand rng_;
  HttpResponse* receiving_ = nullptr;
};

}  // namespace emp
