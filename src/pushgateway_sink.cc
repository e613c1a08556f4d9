#include "pushgateway_sink.h"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "grouping_key.h"
#include "log.h"
#include "text_format.h"
#include "version.h"

namespace emp {

namespace push_retry {

bool retryable(int curl_code, long http_status) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OK: return http_status == 429 || (http_status >= 500 && http_status <= 599);
    // The Pushgateway (or a proxy, or the network) is not there yet or went
    // away mid-request. TLS verification and setup errors are not here: they
    // do not heal within a cycle.
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
    case CURLE_PROXY: return true;
    default: return false;
  }
}

std::chrono::milliseconds backoff(int attempt, std::minstd_rand& rng) {
  constexpr int64_t kFirstMs = 250, kCapMs = 4000;
  int64_t ceiling = kFirstMs;
  for (int i = 1; i < attempt && ceiling < kCapMs; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, kCapMs);
  std::uniform_int_distribution<int64_t> half(ceiling / 2, ceiling);
  return std::chrono::milliseconds(half(rng));
}

}  // namespace push_retry

namespace {

using Clock = std::chrono::steady_clock;

// No attempt is started with less time than this left before the deadline.
constexpr std::chrono::milliseconds kMinAttempt{100};
// The Pushgateway's error texts are one line; anything longer is cut here.
constexpr size_t kMaxResponseKept = 4096;
constexpr size_t kMaxResponseShown = 512;  // enough for "… is not a GAUGE"-style endings

// Series in the body are told apart by these labels; a static grouping label
// of the same name would overwrite them all with one value and make the push
// a list of duplicates (400).
constexpr std::string_view kBodyLabels[] = {"container_name", "container_id", "sink"};

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

class PushgatewaySink final : public Sink {
 public:
  explicit PushgatewaySink(const Options& o)
      : job_(o.pushgateway_job),
        identity_labels_(o.pushgateway_grouping_labels),
        static_labels_(o.pushgateway_static_labels),
        put_(o.pushgateway_method != "post"),
        gzip_(o.pushgateway_gzip),
        connect_timeout_(o.pushgateway_connect_timeout),
        timeout_(o.pushgateway_timeout),
        push_budget_(std::max<Duration>(kMinAttempt, o.interval * 4 / 5)),
        remove_budget_(o.pushgateway_timeout),
        rng_(std::random_device{}()) {}

  ~PushgatewaySink() override {
    if (curl_) curl_easy_cleanup(curl_);
    curl_slist_free_all(push_headers_);
    curl_slist_free_all(delete_headers_);
    if (zlib_ready_) deflateEnd(&zs_);
  }

  bool init(const Options& o, std::string& error) {
    if (!init_url(o.pushgateway_url, error)) return false;
    if (!check_static_labels(error)) return false;

    curl_ = curl_easy_init();
    if (!curl_) {
      error = "--pushgateway.url: libcurl could not be initialised";
      return false;
    }
    if (gzip_) {
      zs_ = {};
      // Level 1: half the CPU of the default level for about 12% more bytes;
      // compression is the largest CPU cost of a cycle (bench/README.md).
      if (deflateInit2(&zs_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16 /* gzip wrapper */, 8, Z_DEFAULT_STRATEGY) !=
          Z_OK) {
        error = "--pushgateway.gzip: zlib could not be initialised";
        return false;
      }
      zlib_ready_ = true;
    }

    // Headers: shared ones on both lists; the body's only on the push list.
    auto add = [](curl_slist*& list, const std::string& h) { list = curl_slist_append(list, h.c_str()); };
    for (const std::string& h : o.pushgateway_headers) {
      if (!valid_header(h)) {
        error = fmt::format("--pushgateway.header: '{}' is not 'Name: value' (a token, a colon, no line breaks)",
                            // Only up to a colon or blank: the value may be a secret.
                            printable(h.substr(0, std::min(h.find_first_of(": \t"), size_t{40}))));
        return false;
      }
      add(push_headers_, h);
      add(delete_headers_, h);
      const size_t colon = h.find(':');
      std::string value(trim(std::string_view(h).substr(colon + 1)));
      if (!value.empty()) secrets_.push_back(std::move(value));
    }
    if (!o.pushgateway_bearer_token.empty()) {
      const std::string h = "Authorization: Bearer " + o.pushgateway_bearer_token;
      add(push_headers_, h);
      add(delete_headers_, h);
      secrets_.push_back(o.pushgateway_bearer_token);
    }
    add(push_headers_, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
    if (gzip_) add(push_headers_, "Content-Encoding: gzip");
    // No "Expect: 100-continue" round trip before each body.
    add(push_headers_, "Expect:");
    if (!o.pushgateway_password.empty()) secrets_.push_back(o.pushgateway_password);

    CURL* c = curl_;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ecs-metrics-pusher/" EMP_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error_);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &PushgatewaySink::on_response);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response_);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    // Redirects are not followed: a PUT must not silently land elsewhere.
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (!o.pushgateway_username.empty()) {
      curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(c, CURLOPT_USERNAME, o.pushgateway_username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, o.pushgateway_password.c_str());
    }
    if (!o.pushgateway_ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.pushgateway_ca_file.c_str());
    if (!o.pushgateway_cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, o.pushgateway_cert_file.c_str());
    if (!o.pushgateway_key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, o.pushgateway_key_file.c_str());
    if (o.pushgateway_insecure_skip_verify) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    // Proxies: libcurl reads https_proxy/HTTPS_PROXY, all_proxy and
    // no_proxy/NO_PROXY itself, but for http:// only the lower-case
    // http_proxy. Users (and Go tools) expect HTTP_PROXY to work too; NO_PROXY
    // still applies to a proxy given this way.
    if (base_.starts_with("http://") && !std::getenv("http_proxy")) {
      if (const char* p = std::getenv("HTTP_PROXY"); p && *p) curl_easy_setopt(c, CURLOPT_PROXY, p);
    }

    if (o.pushgateway_insecure_skip_verify && base_.starts_with("https://"))
      log::warn("TLS certificate verification of the Pushgateway is OFF (--pushgateway.insecure-skip-verify)");
    if (base_.starts_with("http://") && (!o.pushgateway_password.empty() || !o.pushgateway_bearer_token.empty()))
      log::warn("Pushgateway credentials will be sent over plain http; use an https:// URL");
    if (std::find(identity_labels_.begin(), identity_labels_.end(), "task_id") == identity_labels_.end() &&
        !identity_labels_.empty())
      log::warn("the Pushgateway grouping key has no task_id: tasks with the same key replace each other's group",
                {{"grouping_labels", fmt::format("{}", fmt::join(identity_labels_, ","))}});
    for (const auto& [name, value] : static_labels_) {
      if (value.empty())
        log::warn("static grouping label with an empty value: for Prometheus it is the same as no label, so this "
                  "group's series equal those of a group without it",
                  {{"label", name}});
    }
    return true;
  }

  std::string_view name() const override { return "pushgateway"; }

  void set_deadline(Clock::time_point deadline) override {
    deadline_ = deadline;
    has_deadline_ = true;
  }

  bool deliver(const MetricSet& set, const TaskIdentity& identity, std::string& error) override {
    const Clock::time_point deadline = take_deadline(push_budget_);
    if (!build_url(identity, error)) return false;
    // The Pushgateway adds the grouping labels to every series itself.
    render_text(set, ExtraLabels{}, text_);
    if (!valid_utf8(text_)) {
      error = "the metrics text is not valid UTF-8 (a label value from the metadata?); not pushing, since the "
              "Pushgateway would store a group it cannot expose";
      return false;
    }
    // PUT replaces the group, so a container that went away disappears. But a
    // cycle whose metadata read failed only knows `success 0`: POST it, so the
    // last good container series stay instead of vanishing for one cycle.
    const auto& success = set.samples(Metric::ExporterSuccess);
    const bool metadata_failed = !success.empty() && success.front().value == 0;
    const char* method = put_ && !metadata_failed ? "PUT" : "POST";

    std::string_view payload = text_;
    if (gzip_) {
      if (!compress(error)) return false;
      payload = gzipped_;
    }
    return transfer(method, payload, deadline, error);
  }

  bool remove(const TaskIdentity& identity, std::string& error) override {
    const Clock::time_point deadline = take_deadline(remove_budget_);
    if (needs_identity() && !identity.known()) return true;  // nothing was ever pushed under a complete key
    if (!build_url(identity, error)) return false;
    return transfer("DELETE", {}, deadline, error);
  }

 private:
  bool needs_identity() const { return !identity_labels_.empty(); }

  Clock::time_point take_deadline(Duration budget) {
    if (has_deadline_) {
      has_deadline_ = false;
      return deadline_;
    }
    return Clock::now() + budget;
  }

  bool init_url(const std::string& url, std::string& error) {
    CURLU* u = curl_url();
    const CURLUcode rc = curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
    bool ok = rc == CURLUE_OK;
    char* part = nullptr;
    if (ok) {
      // Never echo a URL that may hold credentials.
      if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK || curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
        error = "--pushgateway.url: user or password in the URL is not allowed (it would end up in logs); use "
                "--pushgateway.username with --pushgateway.password-file";
        ok = false;
      } else if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
                 curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
        error = "--pushgateway.url: a query or fragment cannot be part of the Pushgateway's base URL";
        ok = false;
      }
      curl_free(part);
    } else {
      error = fmt::format("--pushgateway.url: not a valid URL ({})", curl_url_strerror(rc));
    }
    curl_url_cleanup(u);
    if (!ok) return false;
    base_ = url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    return true;
  }

  bool check_static_labels(std::string& error) {
    for (const auto& [name, value] : static_labels_) {
      for (std::string_view body : kBodyLabels) {
        if (name == body) {
          error = fmt::format(
              "--pushgateway.grouping-label: \"{}\" is a label of the pushed series; as a grouping label it would "
              "overwrite it and make the series collide",
              name);
          return false;
        }
      }
    }
    // The whole key with stand-in identity values: names, duplicates, UTF-8.
    TaskIdentity sample;
    sample.task_id = sample.task_family = sample.task_revision = sample.cluster = sample.service_name =
        sample.availability_zone = sample.launch_type = "x";
    return build_url(sample, error);
  }

  // url_ = base + "/metrics/job/<job>/…" for this identity (buffers reused).
  bool build_url(const TaskIdentity& identity, std::string& error) {
    if (needs_identity() && !identity.known()) {
      error = "task identity not known yet (no successful /task read): not pushing, since a grouping key without "
              "the task's labels would name the wrong group";
      return false;
    }
    labels_.clear();
    for (const std::string& name : identity_labels_) {
      const std::string* value = identity.get(name);
      labels_.push_back({name, value ? std::string_view(*value) : std::string_view()});
    }
    for (const auto& [name, value] : static_labels_) labels_.push_back({name, value});
    url_.assign(base_);
    return build_grouping_path(job_, labels_, url_, error);
  }

  bool compress(std::string& error) {
    deflateReset(&zs_);
    gzipped_.resize(deflateBound(&zs_, static_cast<uLong>(text_.size())));
    zs_.next_in = reinterpret_cast<Bytef*>(text_.data());
    zs_.avail_in = static_cast<uInt>(text_.size());
    zs_.next_out = reinterpret_cast<Bytef*>(gzipped_.data());
    zs_.avail_out = static_cast<uInt>(gzipped_.size());
    if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) {
      error = fmt::format("gzip of the {} byte body failed: {}", text_.size(), zs_.msg ? zs_.msg : "deflate error");
      return false;
    }
    gzipped_.resize(zs_.total_out);
    return true;
  }

  static size_t on_response(char* data, size_t size, size_t count, void* user) {
    auto* body = static_cast<std::string*>(user);
    const size_t n = size * count;
    if (body->size() < kMaxResponseKept) body->append(data, std::min(n, kMaxResponseKept - body->size()));
    return n;
  }

  // One request with retries until `deadline`. `method` is PUT, POST or DELETE.
  bool transfer(const char* method, std::string_view payload, Clock::time_point deadline, std::string& error) {
    CURL* c = curl_;
    curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
    if (std::string_view(method) == "DELETE") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, delete_headers_);
    } else {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.data());
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, std::string_view(method) == "POST" ? nullptr : method);
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, push_headers_);
    }

    for (int attempt = 1;; ++attempt) {
      const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
      const Duration attempt_timeout = std::clamp(left, Duration(kMinAttempt), timeout_);
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(attempt_timeout.count()));
      curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                       static_cast<long>(std::min(connect_timeout_, attempt_timeout).count()));
      response_.clear();
      curl_error_[0] = '\0';
      const CURLcode rc = curl_easy_perform(c);
      long status = 0;
      if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
      if (rc == CURLE_OK && status >= 200 && status <= 299) {
        if (log::enabled(LogLevel::Debug)) log_success(method, payload.size(), status, attempt);
        return true;
      }

      describe_failure(method, rc, status, error);
      // With TLS 1.3 a refused client certificate shows up as a receive error
      // carrying the server's alert: a verdict, not a network hiccup.
      const bool tls_alert = (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) &&
                             std::string_view(curl_error_).find(" alert ") != std::string_view::npos;
      if (tls_alert || !push_retry::retryable(rc, status)) {
        if (attempt > 1) error += fmt::format(" (attempt {})", attempt);
        return false;
      }
      auto delay = push_retry::backoff(attempt, rng_);
      curl_off_t retry_after = 0;
      if (rc == CURLE_OK && curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
        delay = std::max(delay, std::chrono::milliseconds(retry_after * 1000));
      if (Clock::now() + delay + kMinAttempt > deadline) {
        error += fmt::format(" (gave up after {} attempt{}: the next cycle is due)", attempt, attempt == 1 ? "" : "s");
        return false;
      }
      log::debug("Pushgateway request failed, retrying",
                 {{"attempt", std::to_string(attempt)},
                  {"retry_in", fmt::format("{}ms", delay.count())},
                  {"err", error}});
      std::this_thread::sleep_for(delay);
    }
  }

  void describe_failure(const char* method, CURLcode rc, long status, std::string& error) {
    if (rc != CURLE_OK) {
      error = fmt::format("{} {}: {}", method, url_, printable(curl_error_[0] ? curl_error_ : curl_easy_strerror(rc)));
    } else {
      // One line: the Pushgateway lists several errors on separate lines.
      for (char& ch : response_)
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
      std::string_view body = trim(response_);
      error = fmt::format("{} {}: HTTP {}", method, url_, status);
      if (status == 401) error += " Unauthorized (check --pushgateway.username and the password, or the bearer token)";
      else if (status == 403) error += " Forbidden";
      else if (status >= 300 && status <= 399) error += " (a redirect; redirects are not followed: check --pushgateway.url)";
      if (!body.empty() && status != 401) {
        error += ": ";
        if (body.size() <= kMaxResponseShown) {
          error += printable(body, kMaxResponseShown);
        } else {
          // The Pushgateway says what is wrong at the start (which push) and
          // why at the end ("... with a different type"): keep both ends.
          size_t tail = body.size() - kMaxResponseShown / 2;
          while (tail < body.size() && (static_cast<unsigned char>(body[tail]) & 0xC0) == 0x80) ++tail;
          error += printable(body.substr(0, kMaxResponseShown / 2), kMaxResponseShown / 2);
          error += " … ";
          error += printable(body.substr(tail), kMaxResponseShown / 2);
        }
      }
    }
    redact(error);
  }

  // Belt and braces: libcurl does not print credentials, but a proxy or the
  // server might echo a header back.
  void redact(std::string& s) const {
    for (const std::string& secret : secrets_) {
      if (secret.size() < 4) continue;  // too short to tell from ordinary text
      for (size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at))
        s.replace(at, secret.size(), "<redacted>");
    }
  }

  void log_success(const char* method, size_t bytes, long status, int attempt) {
    double seconds = 0;
    long connects = 0;
    curl_easy_getinfo(curl_, CURLINFO_TOTAL_TIME, &seconds);
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &connects);
    log::debug("pushed", {{"method", method},
                          {"url", url_},
                          {"status", std::to_string(status)},
                          {"body_bytes", std::to_string(text_.size())},
                          {"sent_bytes", std::to_string(bytes)},
                          {"seconds", fmt::format("{:.6f}", seconds)},
                          {"new_connections", std::to_string(connects)},
                          {"attempts", std::to_string(attempt)}});
  }

  std::string base_;
  std::string job_;
  std::vector<std::string> identity_labels_;
  std::vector<std::pair<std::string, std::string>> static_labels_;
  bool put_;
  bool gzip_;
  Duration connect_timeout_;
  Duration timeout_;
  Duration push_budget_;
  Duration remove_budget_;
  std::vector<std::string> secrets_;

  CURL* curl_ = nullptr;
  curl_slist* push_headers_ = nullptr;
  curl_slist* delete_headers_ = nullptr;
  char curl_error_[CURL_ERROR_SIZE] = {};
  z_stream zs_{};
  bool zlib_ready_ = false;
  std::minstd_rand rng_;

  Clock::time_point deadline_{};
  bool has_deadline_ = false;

  // Reused from cycle to cycle.
  std::vector<GroupingLabel> labels_;
  std::string url_;
  std::string text_;
  std::string gzipped_;
  std::string response_;
};

}  // namespace

std::unique_ptr<Sink> make_pushgateway_sink(const Options& options, std::string& error) {
  auto sink = std::make_unique<PushgatewaySink>(options);
  if (!sink->init(options, error)) return nullptr;
  return sink;
}

}  // namespace emp
