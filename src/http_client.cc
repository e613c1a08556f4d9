#include "http_client.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "grouping_key.h"
#include "log.h"
#include "version.h"

namespace emp {

namespace http_retry {

bool retryable(CURLcode code, long http_status) {
  switch (code) {
    case CURLE_OK:
      return http_status == 429 || (http_status >= 500 && http_status <= 599);
    // The peer (or a proxy, or the network) is not there yet or went away
    // mid-request. TLS verification and setup errors are not here: they do
    // not heal within a cycle.
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_PROXY:
      return true;
    default:
      return false;
  }
}

Duration backoff(int attempt, std::minstd_rand& rng) {
  constexpr int64_t kFirstMs = 250, kCapMs = 4000;
  int64_t ceiling = kFirstMs;
  for (int i = 1; i < attempt && ceiling < kCapMs; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, kCapMs);
  std::uniform_int_distribution<int64_t> half(ceiling / 2, ceiling);
  return Duration(half(rng));
}

Duration next_wait(Duration backoff, long long retry_after_s) {
  // A day is far past any cycle's budget; clamping first keeps the
  // multiplication below from overflowing (a year-9999 HTTP date, 2^63 s).
  constexpr long long kMaxSeconds = 86400;
  const long long seconds = std::clamp(retry_after_s, 0LL, kMaxSeconds);
  return std::max(backoff, Duration(seconds * 1000));
}

}  // namespace http_retry

std::string redact_url(std::string_view url) {
  std::string out;
  // Query and fragment may carry tokens.
  const size_t query = url.find_first_of("?#");
  std::string_view head = url.substr(0, query);
  // User information ends at the last '@' before the query, whatever the
  // scheme looks like ("https:/u:pw@h", a password holding '/'); an '@' that
  // starts a Pushgateway "@base64/" path segment (after "/metrics/") is not
  // one — but "https://u:pw@base64/" is (fuzz/regressions/url_secrets).
  const size_t grouping = head.find("/metrics/");
  size_t at = head.rfind('@');
  while (at != std::string_view::npos && grouping != std::string_view::npos && at > grouping &&
         head.substr(at).starts_with("@base64/"))
    at = head.rfind('@', at - 1);
  if (at != std::string_view::npos) {
    const size_t scheme_end = head.find("://");
    size_t user_start = 0;
    if (scheme_end != std::string_view::npos && scheme_end < at) user_start = scheme_end + 3;
    out.append(head.substr(0, user_start)).append("<redacted>@").append(head.substr(at + 1));
  } else {
    out.append(head);
  }
  if (query != std::string_view::npos) out.append(1, url[query]).append("<redacted>");
  return printable(out);
}

namespace {

constexpr Duration kMinAttempt{100};       // no attempt starts with less time than this
constexpr size_t kMaxResponseShown = 512;  // enough for "… is not a GAUGE"-style endings

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == '\n' || s.front() == '\r' || s.front() == ' ')) s.remove_prefix(1);
  return s;
}

bool valid_header(std::string_view h) {
  const size_t colon = h.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (char c : h.substr(0, colon)) {
    const bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!token) return false;
  }
  for (char c : h.substr(colon + 1))
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    for (int shift : {18, 12, 6}) out += kAlphabet[(n >> shift) & 63];
    out += '=';
  }
  return out;
}

// The user information of a proxy URL from the environment, if any.
std::string proxy_userinfo(const char* variable) {
  const char* v = std::getenv(variable);
  if (!v) return "";
  std::string_view url = v;
  const size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  const size_t at = url.substr(0, url.find_first_of("/?#")).rfind('@');
  return at == std::string_view::npos ? "" : std::string(url.substr(0, at));
}

}  // namespace

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)), rng_(std::random_device{}()) {}

std::unique_ptr<HttpClient> HttpClient::create(HttpClientOptions options, std::string& error) {
  std::unique_ptr<HttpClient> client(new HttpClient(std::move(options)));
  if (!client->init(error)) return nullptr;
  return client;
}

bool HttpClient::init(std::string& error) {
  const HttpClientOptions& o = options_;
  CURL* c = handle_.get();
  if (!c) {
    error = fmt::format("--{}.url: libcurl could not be initialised", o.flag_prefix);
    return false;
  }
  for (const std::string& h : o.headers) {
    if (!valid_header(h)) {
      error = fmt::format("--{}.header: '{}' is not 'Name: value' (a token, a colon, no line breaks)", o.flag_prefix,
                          // Only up to a colon or blank: the value may be a secret.
                          printable(std::string_view(h).substr(0, std::min(h.find_first_of(": \t"), size_t{40}))));
      return false;
    }
    shared_headers_.push_back(h);
    add_secret(std::string(trim(std::string_view(h).substr(h.find(':') + 1))));
  }
  if (!o.bearer_token.empty()) {
    shared_headers_.push_back("Authorization: Bearer " + o.bearer_token);
    add_secret(o.bearer_token);
  }
  if (!o.password.empty()) {
    add_secret(o.password);
    add_secret(base64(o.username + ":" + o.password));  // what the Authorization header carries
  }
  for (const char* variable : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"}) {
    if (std::string userinfo = proxy_userinfo(variable); !userinfo.empty()) {
      add_secret(base64(userinfo));
      const size_t colon = userinfo.find(':');
      if (colon != std::string::npos) add_secret(userinfo.substr(colon + 1));
    }
  }

  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "ecs-metrics-pusher/" EMP_VERSION);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error_);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &HttpClient::on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  // Redirects are not followed: a PUT must not silently land elsewhere.
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  if (o.refuse_larger) curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_response));
  if (!o.username.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(c, CURLOPT_USERNAME, o.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, o.password.c_str());
  }
  if (!o.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file.c_str());
  if (!o.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, o.cert_file.c_str());
  if (!o.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, o.key_file.c_str());
  if (o.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!o.use_proxy) {
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  } else if (!std::getenv("http_proxy")) {
    // libcurl reads https_proxy/HTTPS_PROXY, all_proxy and no_proxy/NO_PROXY
    // itself, but for http:// only the lower-case http_proxy. Users (and Go
    // tools) expect HTTP_PROXY to work too; NO_PROXY still applies to a proxy
    // given this way. It is set per request, for http:// URLs only.
    if (const char* p = std::getenv("HTTP_PROXY"); p && *p) http_proxy_ = p;
  }
  return true;
}

CurlHeaders HttpClient::headers_with(std::initializer_list<std::string_view> extra) const {
  CurlHeaders out;
  for (const std::string& h : shared_headers_) out.add(h);
  for (std::string_view h : extra)
    if (!h.empty()) out.add(std::string(h));
  return out;
}

void HttpClient::add_secret(std::string secret) {
  if (secret.empty()) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end()) secrets_.push_back(std::move(secret));
}

size_t HttpClient::on_data(char* data, size_t size, size_t count, void* user) {
  auto* self = static_cast<HttpClient*>(user);
  HttpResponse* r = self->receiving_;
  const size_t n = size * count;
  const size_t max = self->options_.max_response;
  if (r->body.size() + n > max) {
    if (self->options_.refuse_larger) {
      r->too_large = true;
      return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
    }
    r->body.append(data, max - std::min(max, r->body.size()));  // the start says what went wrong
    return n;
  }
  r->body.append(data, n);
  return n;
}

void HttpClient::perform(const HttpRequest& request, SteadyTime deadline, HttpResponse& response) {
  CURL* c = handle_.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url->c_str());
  if (!http_proxy_.empty()) {
    const bool plain = request.url->starts_with("http://");
    curl_easy_setopt(c, CURLOPT_PROXY, plain ? http_proxy_.c_str() : nullptr);
  }
  method_.assign(request.method);
  if (request.method == "GET" || request.method == "DELETE") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  }
  // GET and POST are what the options above select; the others are named.
  const bool named = request.method != "GET" && request.method != "POST";
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, named ? method_.c_str() : nullptr);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, request.headers);

  // Each attempt gets the per-attempt timeout, cut to what is left before the
  // deadline, but never less than kMinAttempt (even when --*.timeout is shorter).
  const auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
  const Duration attempt = std::min(options_.timeout, std::max(left, kMinAttempt));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(attempt.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(options_.connect_timeout, attempt).count()));

  response.body.clear();
  response.status = 0;
  response.too_large = false;
  response.retry_after_s = 0;
  curl_error_[0] = '\0';
  receiving_ = &response;
  response.code = curl_easy_perform(c);
  receiving_ = nullptr;
  if (response.code == CURLE_FILESIZE_EXCEEDED) response.too_large = true;
  if (response.code == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    curl_off_t retry_after = 0;
    if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
      response.retry_after_s = static_cast<long long>(retry_after);
  }
}

bool HttpClient::send(const HttpRequest& request, SteadyTime deadline, HttpResponse& response, std::string& error,
                      std::string_view what) {
  using Clock = std::chrono::steady_clock;
  for (int attempt = 1;; ++attempt) {
    perform(request, deadline, response);
    response.attempts = attempt;
    if (response.code == CURLE_OK && response.status >= 200 && response.status <= 299) return true;
    error = describe_failure(request, response);
    // With TLS 1.3 a refused client certificate shows up as a receive error
    // carrying the server's alert: a verdict, not a network hiccup.
    const bool tls_alert = (response.code == CURLE_RECV_ERROR || response.code == CURLE_SEND_ERROR) &&
                           std::string_view(curl_error_).find(" alert ") != std::string_view::npos;
    if (tls_alert || response.too_large || !http_retry::retryable(response.code, response.status)) {
      if (attempt > 1) error += fmt::format(" (attempt {})", attempt);
      return false;
    }
    const Duration wait = http_retry::next_wait(http_retry::backoff(attempt, rng_), response.retry_after_s);
    const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    if (wait + kMinAttempt > left) {
      if (response.retry_after_s > 0 && Duration(std::min(response.retry_after_s, 86400LL) * 1000) + kMinAttempt > left)
        error += fmt::format(" (gave up after {} attempt{}: Retry-After {}s is past this cycle's budget)", attempt,
                             attempt == 1 ? "" : "s", response.retry_after_s);
      else
        error += fmt::format(" (gave up after {} attempt{}: the next cycle is due)", attempt, attempt == 1 ? "" : "s");
      return false;
    }
    log::debug(fmt::format("{} request failed, retrying", what),
               {{"attempt", std::to_string(attempt)}, {"retry_in", format_duration(wait)}, {"err", error}});
    std::this_thread::sleep_for(wait);
  }
}

std::string HttpClient::describe_failure(const HttpRequest& request, const HttpResponse& response) const {
  const std::string url = redact_url(*request.url);
  std::string error;
  if (response.too_large) {
    error = fmt::format("{} {}: body larger than {} bytes", request.method, url, options_.max_response);
  } else if (response.code != CURLE_OK) {
    std::string cause = printable(curl_error_[0] ? curl_error_ : curl_easy_strerror(response.code));
    redact(cause);
    error = fmt::format("{} {}: {}", request.method, url, cause);
    // mbedTLS (the lean build) reports a server that refuses a missing client
    // certificate as a broken pipe, without the server's alert.
    const bool closed = response.code == CURLE_SSL_CONNECT_ERROR || response.code == CURLE_SEND_ERROR ||
                        response.code == CURLE_RECV_ERROR;
    if (closed && request.url->starts_with("https://") && options_.cert_file.empty() &&
        cause.find(" alert ") == std::string::npos)
      error += fmt::format(
          " (the TLS server closed the connection; if it requires a client certificate, set --{0}.cert-file and "
          "--{0}.key-file)",
          options_.flag_prefix);
  } else {
    error = fmt::format("{} {}: HTTP {}", request.method, url, response.status);
    const long s = response.status;
    if (s == 401)
      error += fmt::format(" Unauthorized (check --{}.username and the password, or the bearer token)",
                           options_.flag_prefix);
    else if (s == 403)
      error += " Forbidden";
    else if (s >= 300 && s <= 399)
      error += fmt::format(" (a redirect; redirects are not followed: check --{}.url)", options_.flag_prefix);
    // One line: peers list several errors on separate lines.
    std::string flat(response.body.view());
    for (char& ch : flat)
      if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    std::string_view body = trim(flat);
    if (!body.empty() && s != 401) {
      std::string shown;
      if (body.size() <= kMaxResponseShown) {
        shown = printable(body, kMaxResponseShown);
      } else {
        // Peers say what is wrong at the start (which push) and why at the
        // end ("... with a different type"): keep both ends.
        size_t tail = body.size() - kMaxResponseShown / 2;
        while (tail < body.size() && (static_cast<unsigned char>(body[tail]) & 0xC0) == 0x80) ++tail;
        shown = printable(body.substr(0, kMaxResponseShown / 2), kMaxResponseShown / 2) + " … " +
                printable(body.substr(tail), kMaxResponseShown / 2);
      }
      redact(shown);
      error += ": " + shown;
    }
  }
  return error;
}

void HttpClient::redact(std::string& s) const {
  // libcurl does not print credentials, but a proxy or the server may echo a
  // request header back. Secrets of 4 bytes and more are cut out; a shorter
  // one cannot be told from ordinary text, so a peer's text holding it is
  // withheld whole.
  for (const std::string& secret : secrets_) {
    if (secret.size() < 4) {
      if (s.find(secret) != std::string::npos) {
        s = "<withheld: the peer's text may echo a request secret>";
        return;
      }
      continue;
    }
    for (size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at))
      s.replace(at, secret.size(), "<redacted>");
  }
}

double HttpClient::last_seconds() const {
  double seconds = 0;
  curl_easy_getinfo(handle_.get(), CURLINFO_TOTAL_TIME, &seconds);
  return seconds;
}

long HttpClient::last_new_connections() const {
  long connects = 0;
  curl_easy_getinfo(handle_.get(), CURLINFO_NUM_CONNECTS, &connects);
  return connects;
}

}  // namespace emp
