// The fuzz targets' bodies, header-only so that the same code runs inside the
// libFuzzer binaries (fuzz/fuzz_<name>.cc) and inside the unit test that
// replays every saved crash input (tests/fuzz_regressions_test.cc) in the
// normal and the sanitizer builds. Each returns 0; a broken property calls
// fail(), which prints why and aborts, so libFuzzer saves the input.
#pragma once

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/exposition_check.h"
#include "src/cycle.h"
#include "src/duration.h"
#include "src/grouping_key.h"
#include "src/http_client.h"
#include "src/metadata_parser.h"
#include "src/metadata_source.h"
#include "src/metrics.h"
#include "src/options.h"
#include "src/rfc3339.h"
#include "src/text_format.h"
#include "src/textfile_sink.h"

namespace emp::fuzz {

// Separates the /task body from the /task/stats body in a pipeline input;
// fuzz/run.sh writes the seeds as <task> MARKER <stats>.
inline constexpr std::string_view kStatsMarker = "\n@@STATS@@\n";

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz property broken: %.*s\n%.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void require(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

// Small, deterministic reader of fuzz bytes (FuzzedDataProvider is not in
// the normal build's include path, and the regression test must not need clang).
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : p_(data), left_(size) {}
  uint8_t byte() {
    if (left_ == 0) return 0;
    --left_;
    return *p_++;
  }
  std::string_view take(size_t n) {
    n = std::min(n, left_);
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    left_ -= n;
    return s;
  }
  // A length-prefixed string (one length byte).
  std::string_view str() { return take(byte()); }
  double number() {
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = bits << 8 | byte();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  size_t left() const { return left_; }

 private:
  const uint8_t* p_;
  size_t left_;
};

// Checks an exposition and that every label value came through escaping intact
// (valid UTF-8 in, the same bytes out).
inline void check_exposition(std::string_view text) {
  const exposition::Result r = exposition::check(text);
  if (!r.ok) fail("exposition line " + std::to_string(r.line) + ": " + r.why, text);
}

// --- metadata_parser: one body, parsed as /task and as /task/stats ---
inline int metadata_parser(const uint8_t* data, size_t size) {
  static MetadataParser parser;  // kept across inputs, as the process keeps it
  const PaddedBody body(std::string_view(reinterpret_cast<const char*>(data), size));
  std::string error;
  TaskMeta task;
  TaskStats stats;
  if (!parser.parse_task(body, task, error)) require(!error.empty(), "task parse failed without a cause");
  error.clear();
  if (!parser.parse_stats(body, stats, error)) require(!error.empty(), "stats parse failed without a cause");
  return 0;
}

// --- the whole cycle: two bodies → parse → collect → render → line checker ---
class MemorySource final : public MetadataSource {
 public:
  std::string_view task, stats;
  FetchResult fetch(MetadataBodies& out, std::string&) override {
    out.task.assign(task);
    out.stats.assign(stats);
    return FetchResult::Ok;
  }
};

// Renders as the textfile sink does (task identity labels added) and checks.
class CheckingSink final : public Sink {
 public:
  std::string_view name() const override { return "textfile"; }
  bool deliver(const Delivery& d, std::string&) override {
    std::string container, exporter;
    identity_labels(d.identity, container, exporter);
    render_text(d.set, ExtraLabels{container, exporter}, text);
    check_exposition(text);
    ++delivered;
    return true;
  }
  bool remove(const TaskIdentity&, SteadyTime, std::string&) override { return true; }
  std::string text;
  int delivered = 0;
};

inline int pipeline(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t cut = in.find(kStatsMarker);
  auto source = std::make_unique<MemorySource>();
  MemorySource* src = source.get();
  if (cut == std::string_view::npos) {
    src->task = src->stats = in;
  } else {
    src->task = in.substr(0, cut);
    src->stats = in.substr(cut + kStatsMarker.size());
  }
  auto sink = std::make_unique<CheckingSink>();
  CheckingSink* checking = sink.get();
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(sink));
  Cycle cycle(std::move(source), std::move(sinks), ContainerFilter{});
  const SteadyTime deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const CycleResult first = cycle.run(deadline);
  // The exporter's own success gauge must tell the truth.
  const auto& success = cycle.last_metrics().samples(Metric::ExporterSuccess);
  require(success.size() == 1 && success[0].value == (first.metadata_ok ? 1 : 0), "success gauge lies");
  // A second cycle in which every container has stopped: the task counters are
  // then carried from retained values, a separate code path.
  src->stats = "{}";
  cycle.run(deadline);
  require(checking->delivered == 2, "a cycle did not deliver");
  return 0;
}

// --- text format: fuzzed label values and sample values, read back ---
inline int text_format(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  MetricSet set;
  std::vector<std::pair<std::string, double>> expected;  // label value, sample value
  const int n = in.byte() % 8 + 1;
  for (int i = 0; i < n && in.left() > 0; ++i) {
    std::string value(in.str());
    if (!exposition::utf8_ok(value)) continue;  // label values are UTF-8 (simdjson validates JSON strings)
    const double v = in.number();
    const uint32_t b = set.new_labels();
    set.append_label(b, "container_name", value);
    set.append_label(b, "container_id", std::to_string(i));  // keeps series distinct
    set.add(Metric::ContainerMemoryUsage, b, v);
    expected.emplace_back(std::move(value), v);
  }
  std::string text;
  render_text(set, ExtraLabels{"task_id=\"t\"", ""}, text);
  size_t k = 0;
  const exposition::Result r = exposition::check(text, [&](const exposition::Sample& s) {
    require(k < expected.size(), "more samples than added", text);
    require(s.labels.size() == 3 && s.labels[0].value == expected[k].first, "label value changed", text);
    const double back = std::strtod(s.value_text.c_str(), nullptr);
    const double want = expected[k].second;
    require(std::isnan(want) ? std::isnan(back) : back == want, "value does not read back", s.value_text);
    ++k;
  });
  if (!r.ok) fail("exposition line " + std::to_string(r.line) + ": " + r.why, text);
  require(k == expected.size(), "samples lost", text);
  return 0;
}

// --- RFC 3339: never crashes; what it accepts agrees with timegm(3) ---
inline int rfc3339(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  const std::optional<double> t = parse_rfc3339(s);
  if (!t) return 0;
  require(std::isfinite(*t), "non-finite time", s);
  // Accepted text starts YYYY-MM-DDTHH:MM:SS (checked by the parser itself).
  std::tm tm{};
  tm.tm_year = std::atoi(std::string(s.substr(0, 4)).c_str()) - 1900;
  tm.tm_mon = std::atoi(std::string(s.substr(5, 2)).c_str()) - 1;
  tm.tm_mday = std::atoi(std::string(s.substr(8, 2)).c_str());
  tm.tm_hour = std::atoi(std::string(s.substr(11, 2)).c_str());
  tm.tm_min = std::atoi(std::string(s.substr(14, 2)).c_str());
  tm.tm_sec = std::atoi(std::string(s.substr(17, 2)).c_str());
  double reference = static_cast<double>(timegm(&tm));
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    double frac = std::strtod(
        std::string("0").append(s.substr(pos, s.find_first_not_of("0123456789", pos + 1) - pos)).c_str(), nullptr);
    reference += frac;
    pos = s.find_first_not_of("0123456789", pos + 1);
  }
  if (s[pos] == '+' || s[pos] == '-') {
    const int off = std::atoi(std::string(s.substr(pos + 1, 2)).c_str()) * 3600 +
                    std::atoi(std::string(s.substr(pos + 4, 2)).c_str()) * 60;
    reference += s[pos] == '+' ? -off : off;
  }
  require(std::fabs(*t - reference) < 1e-3, "disagrees with timegm", s);
  return 0;
}

// --- durations: what parses formats back to the same value ---
inline int duration(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  const std::optional<Duration> d = parse_duration(s);
  if (!d) return 0;
  require(d->count() >= 0, "negative duration", s);
  const std::string text = format_duration(*d);
  const std::optional<Duration> back = parse_duration(text);
  require(back && *back == *d, "format_duration does not parse back", text);
  return 0;
}

// --- grouping key: base64url round trip, UTF-8 validation, whole path ---
inline bool path_segment_ok(std::string_view seg) {
  if (seg.empty() || seg == "." || seg == "..") return false;
  for (char c : seg) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '~' || c == '-' || c == '@' || c == '=';
    if (!plain) return false;
  }
  return true;
}

inline int grouping_key(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const std::string_view job = in.str();
  std::vector<std::string> names, values;
  const int n = in.byte() % 6;
  for (int i = 0; i < n; ++i) {
    names.emplace_back(in.str());
    values.emplace_back(in.str());
  }
  const std::string_view rest = in.take(in.left());

  // Every value: base64url round-trips, using only its alphabet; the UTF-8
  // check agrees with an independent one; printable() is safe for a log line.
  for (std::string_view v : {job, rest}) {
    const std::string enc = base64url(v);
    for (char c : enc)
      require((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_',
              "base64url alphabet", enc);
    std::string dec;
    require(decode_base64url(enc, dec) && dec == v, "base64url round trip", enc);
    require(valid_utf8(v) == exposition::utf8_ok(v), "valid_utf8 disagrees", v);
    const std::string shown = printable(v, 40);
    require(exposition::utf8_ok(shown), "printable() output not UTF-8", shown);
    for (unsigned char c : shown) require(c >= 0x20 && c != 0x7f, "printable() let a control byte through", shown);
    std::string any;
    if (decode_base64url(v, any)) {
      // Accepted input is canonical: re-encoding gives it back (padding aside).
      std::string_view unpadded = v;
      while (!unpadded.empty() && unpadded.back() == '=') unpadded.remove_suffix(1);
      require(base64url(any) == unpadded, "decode accepted a non-canonical encoding", v);
    }
  }

  std::vector<GroupingLabel> labels;
  for (int i = 0; i < n; ++i) labels.push_back({names[i], values[i]});
  std::string path, error;
  if (!build_grouping_path(job, labels, path, error)) {
    require(!error.empty() && exposition::utf8_ok(error), "refusal without a printable cause", error);
    return 0;
  }
  // Read the path back as the Pushgateway would and compare.
  require(path.rfind("/metrics/", 0) == 0, "path prefix", path);
  std::vector<std::string_view> segs;
  std::string_view p = std::string_view(path).substr(9);
  while (!p.empty()) {
    const size_t slash = p.find('/');
    segs.push_back(p.substr(0, slash));
    p = slash == std::string_view::npos ? std::string_view() : p.substr(slash + 1);
  }
  require(segs.size() == 2 * (labels.size() + 1), "segment count", path);
  for (size_t i = 0; i < segs.size(); i += 2) {
    std::string_view name = segs[i];
    std::string value(segs[i + 1]);
    require(path_segment_ok(segs[i + 1]), "unsafe path segment", path);
    if (name.size() > 7 && name.substr(name.size() - 7) == "@base64") {
      name.remove_suffix(7);
      std::string dec;
      require(value == "=" ? true : decode_base64url(value, dec), "undecodable @base64 value", path);
      value = dec;
    }
    const std::string_view want_name = i == 0 ? std::string_view("job") : labels[i / 2 - 1].name;
    const std::string_view want_value = i == 0 ? job : labels[i / 2 - 1].value;
    require(name == want_name && value == want_value, "grouping key does not read back", path);
  }
  return 0;
}

// --- retry_after: a Retry-After header value, as libcurl reads it, through
// http_retry::next_wait: never overflows (UBSan) and never waits past a day ---
inline int retry_after(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const Duration backoff((in.byte() << 8 | in.byte()) % 4001);  // what http_retry::backoff can give
  long long raw = 0;
  for (int i = 0; i < 8; ++i) raw = static_cast<long long>(static_cast<unsigned long long>(raw) << 8 | in.byte());
  const std::string value(in.take(in.left()));
  auto check = [&](long long seconds, std::string_view what) {
    const Duration wait = http_retry::next_wait(backoff, seconds);
    require(wait >= backoff, "next_wait shorter than the backoff", what);
    require(wait <= std::max(backoff, Duration(86400000)), "next_wait longer than a day", what);
  };
  check(raw, "raw seconds");
  // libcurl (lib/http.c): a number of seconds (saturating), else an HTTP date
  // (curl_getdate, the parser libcurl itself uses) minus now.
  const char* p = value.c_str();
  while (*p == ' ' || *p == '\t') ++p;
  if (*p >= '0' && *p <= '9') {
    errno = 0;
    long long n = std::strtoll(p, nullptr, 10);
    if (errno == ERANGE) n = LLONG_MAX;
    check(n, value);
  } else if (std::memchr(value.data(), 0, value.size()) == nullptr) {
    const time_t when = curl_getdate(value.c_str(), nullptr);
    const time_t now = std::time(nullptr);
    if (when != -1 && !(when < 0 && now > LLONG_MAX + when)) check(static_cast<long long>(when) - now, value);
  }
  return 0;
}

// --- url_secrets: a secret placed in a URL's user information, query or
// fragment never reaches redact_url's output, an option error or the
// start-up line's configuration ---
inline bool printable_utf8(std::string_view s) {
  if (!exposition::utf8_ok(s)) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

inline int url_secrets(const uint8_t* data, size_t size) {
  static constexpr std::string_view kSecret = "ZZZZ";  // 'Z' is removed from the fuzzed parts
  Bytes in(data, size);
  const uint8_t which = in.byte();
  auto part = [](std::string_view s) {
    std::string out;
    for (char c : s)
      if (c != 'Z' && c != '\0') out += c;  // argv cannot carry NUL
    return out;
  };
  const std::string before = part(in.str());
  const std::string after = part(in.take(in.left()));
  const std::string url = before + std::string(kSecret) + after;
  const size_t secret_at = before.size();

  // Where the contract says the secret is hidden: after the first '?' or '#',
  // or before the last '@' ahead of them (not one starting a Pushgateway
  // "@base64/" path segment after "/metrics/") and not inside a "scheme://".
  const size_t query = url.find_first_of("?#");
  const std::string_view head = std::string_view(url).substr(0, query);
  const size_t grouping = head.find("/metrics/");
  size_t at = head.rfind('@');
  while (at != std::string_view::npos && grouping != std::string_view::npos && at > grouping &&
         head.substr(at).starts_with("@base64/"))
    at = head.rfind('@', at - 1);
  const size_t scheme = head.find("://");
  const bool in_query = query != std::string::npos && query < secret_at;
  const bool in_userinfo = at != std::string_view::npos && secret_at + kSecret.size() <= at &&
                           (scheme == std::string_view::npos || scheme + 3 <= secret_at);
  const bool hidden = in_query || in_userinfo;

  const std::string shown = redact_url(url);
  require(printable_utf8(shown), "redact_url output not printable", shown);
  if (hidden) require(shown.find(kSecret) == std::string::npos, "redact_url leaked a secret", url);
  const bool redacted = shown.find(kSecret) == std::string::npos;

  // The option checks and the start-up line never show more than redact_url.
  const std::string flag = which % 2 ? "--pushgateway.url=" : "--metadata.url=";
  std::string arg = flag + url;
  std::string meta = "--metadata.url=http://127.0.0.1:1/v4";
  std::vector<char*> argv = {const_cast<char*>("ecs-metrics-pusher"), const_cast<char*>("--once"), arg.data()};
  if (which % 2) argv.push_back(meta.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  Options options;
  std::string error;
  const ParseOutcome outcome = parse_options(static_cast<int>(argv.size() - 1), argv.data(), envp, options, error);
  if (redacted) require(error.find(kSecret) == std::string::npos, "an option error leaked a secret", error);
  if (outcome == ParseOutcome::Run) {
    for (const auto& [key, value] : describe(options))
      if (redacted) require(value.find(kSecret) == std::string::npos, "the start-up line leaked a secret", value);
  }
  return 0;
}

// --- textfile_name: any task id (from any ARN) gives a safe file name that
// maps back to exactly that id, or a refusal with a printable cause ---
inline int textfile_name(const uint8_t* data, size_t size) {
  const std::string_view arn(reinterpret_cast<const char*>(data), size);
  const std::string_view id = last_arn_segment(arn);
  require(id.find('/') == std::string_view::npos, "task id holds '/'", arn);
  if (!id.empty()) require(arn.find(id) != std::string_view::npos, "task id not from the ARN", arn);
  if (arn.find_first_not_of('/') != std::string_view::npos && arn.find('/') == std::string_view::npos)
    require(id == arn, "an ARN without '/' is its own id", arn);
  std::string name, error;
  if (!textfile_name_for_task(id, name, error)) {
    require(!error.empty() && exposition::utf8_ok(error), "refusal without a printable cause", error);
    return 0;
  }
  require(name.size() <= 4 + kMaxEscapedTaskId + 5 && name.size() <= 255, "name too long", name);
  require(name.starts_with("ecs_") && name.ends_with(".prom"), "name shape", name);
  std::string back;
  const std::string_view middle = std::string_view(name).substr(4, name.size() - 9);
  for (size_t i = 0; i < middle.size(); ++i) {
    const char c = middle[i];
    const bool safe =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (safe) {
      back += c;
      continue;
    }
    require(c == '%' && i + 2 < middle.size(), "unsafe byte or truncated escape in the name", name);
    auto hex = [&](char h) {
      require((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F'), "escape is not %XX", name);
      return h <= '9' ? h - '0' : h - 'A' + 10;
    };
    back += static_cast<char>(hex(middle[i + 1]) << 4 | hex(middle[i + 2]));
    i += 2;
  }
  require(back == id, "the name does not map back to the task id", name);
  return 0;
}

}  // namespace emp::fuzz
