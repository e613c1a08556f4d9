#include "prune.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "grouping_key.h"
#include "log.h"
#include "metrics.h"
#include "text_format.h"
#include "textfile_sink.h"

namespace emp {

// ---- Reading the Pushgateway's answer ----

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// The value of a Pushgateway meta metric (push_time_seconds …) of one group:
// {"metrics":[{"labels":…,"value":"1.79e+09"}],…}. The API writes sample
// values as strings.
std::optional<double> meta_value(const object& group, std::string_view name) {
  array metrics;
  if (group.at_key(name).at_key("metrics").get_array().get(metrics)) return std::nullopt;
  element first;
  if (metrics.at(0).get(first)) return std::nullopt;
  std::string_view text;
  if (first.at_key("value").get_string().get(text)) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

bool parse_pushed_groups(const PaddedBody& body, std::vector<PushedGroup>& out, std::string& error) {
  out.clear();
  simdjson::dom::parser parser;
  element root;
  if (auto e = parser.parse(body.padded()).get(root)) {
    error = fmt::format("the group list is not JSON: {}", simdjson::error_message(e));
    return false;
  }
  std::string_view status;
  array data;
  if (root.at_key("status").get_string().get(status) || status != "success" ||
      root.at_key("data").get_array().get(data)) {
    error = "the group list is not the Pushgateway's /api/v1/metrics answer (no status \"success\" with a data list)";
    return false;
  }
  for (element entry : data) {
    PushedGroup& g = out.emplace_back();
    object group;
    object labels;
    if (entry.get_object().get(group) || group.at_key("labels").get_object().get(labels)) {
      g.problem = "an entry without a labels object";
      continue;
    }
    for (auto [name, value] : labels) {
      std::string_view text;
      if (value.get_string().get(text)) {
        g.problem = fmt::format("label {} is not a string", printable(name, 60));
        break;
      }
      g.labels.emplace_back(name, text);
    }
    g.push_time = meta_value(group, "push_time_seconds");
    g.failure_time = meta_value(group, "push_failure_time_seconds");
  }
  return true;
}

std::optional<double> parse_http_date(std::string_view value) {
  // libcurl's date parser reads the three HTTP date forms; by hand would be a
  // second, less tested copy.
  if (value.empty() || value.size() > 64) return std::nullopt;
  const time_t t = curl_getdate(std::string(value).c_str(), nullptr);
  if (t <= 0) return std::nullopt;
  return static_cast<double>(t);
}

// ---- Decisions ----

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Foreign:
      return "foreign";
    case Verdict::Fresh:
      return "fresh";
    case Verdict::Stale:
      return "stale";
    case Verdict::Odd:
      return "odd";
  }
  return "?";
}

std::string describe_labels(const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += printable(name, 60);
    out += "=\"";
    append_escaped_label_value(out, printable(value, 120));
    out += '"';
  }
  out += '}';
  return out;
}

namespace {

const std::string* label_value(const PushedGroup& g, std::string_view name) {
  for (const auto& [n, v] : g.labels)
    if (n == name) return &v;
  return nullptr;
}

GroupDecision by_age(double now, double since, const PruneOptions& o, std::string_view what) {
  const double age = now - since;
  const double limit = std::chrono::duration<double>(o.older_than).count();
  if (age > limit)
    return {
        Verdict::Stale, fmt::format("{} {:.1f}s ago, more than {}", what, age, format_duration(o.older_than)), age, {}};
  return {Verdict::Fresh, fmt::format("{} {:.1f}s ago", what, age), age, {}};
}

}  // namespace

std::vector<GroupDecision> decide_groups(const std::vector<PushedGroup>& groups, double now, const PruneOptions& o) {
  std::vector<GroupDecision> out;
  out.reserve(groups.size());
  for (const PushedGroup& g : groups) {
    if (!g.problem.empty()) {
      out.push_back({Verdict::Odd, g.problem, 0, {}});
      continue;
    }
    const std::string* job = label_value(g, "job");
    if (!job) {
      out.push_back({Verdict::Odd, "the group has no job label", 0, {}});
      continue;
    }
    if (*job != o.job) {
      out.push_back({Verdict::Foreign, "another job", 0, {}});
      continue;
    }
    bool matches = true;
    for (const auto& [name, value] : o.match) {
      const std::string* v = label_value(g, name);
      if (!v || *v != value) matches = false;
    }
    if (!matches) {
      out.push_back({Verdict::Foreign, "a --prune.match label differs", 0, {}});
      continue;
    }
    GroupDecision d;
    if (!g.push_time) {
      d = {Verdict::Odd, "no readable push_time_seconds", 0, {}};
    } else if (*g.push_time > 0) {
      d = by_age(now, *g.push_time, o, "last successful push");
    } else if (g.failure_time && *g.failure_time > 0) {
      // Only failed pushes ever reached it: it holds no series, but a pusher
      // still trying must not see its group vanish under it.
      d = by_age(now, *g.failure_time, o, "never pushed successfully; last failed push");
    } else {
      d = {Verdict::Odd, "never pushed successfully and no time of a failed push", 0, {}};
    }
    // The DELETE must name exactly this group: the same labels, each value
    // encoded again (@base64 when needed).
    std::vector<GroupingLabel> key;
    for (const auto& [name, value] : g.labels)
      if (name != "job") key.push_back({name, value});
    std::string error;
    if (!build_grouping_path(*job, key, d.path, error)) {
      d = {Verdict::Odd, fmt::format("its labels cannot name it in a DELETE: {}", error), d.age, {}};
    }
    if (d.verdict != Verdict::Stale) d.path.clear();
    out.push_back(std::move(d));
  }
  return out;
}

bool is_own_textfile_name(std::string_view name) {
  // ecs_<task id>.prom: task ids are hex or UUIDs.
  auto is_task_file = [](std::string_view n) {
    if (!n.starts_with("ecs_") || !n.ends_with(".prom") || n.size() <= 9) return false;
    for (char c : n.substr(4, n.size() - 9))
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) return false;
    return true;
  };
  if (is_task_file(name)) return true;
  // .ecs_<task id>.prom.<pid>.tmp (write_file_atomically).
  if (!name.starts_with('.') || !name.ends_with(".tmp")) return false;
  std::string_view inner = name.substr(1, name.size() - 5);  // ecs_<id>.prom.<pid>
  const size_t dot = inner.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == inner.size()) return false;
  for (char c : inner.substr(dot + 1))
    if (c < '0' || c > '9') return false;
  return is_task_file(inner.substr(0, dot));
}

GroupDecision decide_textfile(const TextfileEntry& e, double local_now, const PruneOptions& o) {
  if (!e.problem.empty()) return {Verdict::Odd, e.problem, 0, {}};
  if (!e.regular) return {Verdict::Odd, "not a regular file (a link, FIFO, device or directory)", 0, {}};
  if (!e.own_series)
    return {
        Verdict::Odd, fmt::format("holds no {}* series: not written by ecs-metrics-pusher", kOwnSeriesPrefix), 0, {}};
  GroupDecision d = by_age(local_now, e.mtime, o, "last written");
  return d;
}

// ---- The command ----

namespace {

constexpr size_t kTextfileHead = 64 * 1024;  // our series come first in the file
constexpr double kSkewWarning = 60;          // seconds
constexpr Duration kOwnMetricsMinBudget{2000};
constexpr std::string_view kOwnMetricsFile = "ecs-metrics-pusher-prune.prom";  // not an own task file name

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

double mtime_of(const struct stat& st) {
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
}

// Counts of one pass for one sink.
struct Tally {
  int stale = 0, removed = 0, kept = 0, skipped = 0, foreign = 0;
  bool read_ok = false;
  bool removals_ok = true;
  void count(Verdict v) {
    if (v == Verdict::Stale)
      ++stale;
    else if (v == Verdict::Fresh)
      ++kept;
    else if (v == Verdict::Odd)
      ++skipped;
    else
      ++foreign;
  }
};

std::string seconds_text(double s) { return fmt::format("{:.1f}s", s); }

class Janitor {
 public:
  Janitor(const PruneOptions& o, Waiter& waiter) : o_(o), waiter_(waiter) {}

  bool init(std::string& error) {
    if (!o_.pushgateway_enabled()) return true;
    HttpClientOptions http = o_.http;
    http.max_response = o_.max_body;
    http.refuse_larger = true;  // a cut group list could hide nothing, but is not JSON either
    client_ = HttpClient::create(std::move(http), error);
    if (!client_) return false;
    base_ = o_.pushgateway_url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    list_url_ = base_ + "/api/v1/metrics";
    get_headers_ = client_->headers_with({"Accept: application/json"});
    delete_headers_ = client_->headers_with({});
    put_headers_ = client_->headers_with({"Content-Type: text/plain; version=0.0.4; charset=utf-8", "Expect:"});
    std::vector<GroupingLabel> key;
    for (const auto& [name, value] : o_.match) key.push_back({name, value});
    own_group_url_ = base_;
    if (!build_grouping_path(o_.job + "-prune", key, own_group_url_, error)) {
      error = "--prune.match: " + error;
      return false;
    }
    return true;
  }

  int run() {
    for (;;) {
      const SteadyTime start = waiter_.now();
      // A pass, retries included, ends before the next is due (--once: the same budget).
      const bool ok = pass(start + o_.interval);
      if (o_.once) return ok ? 0 : kExitPruneFailed;
      if (stopping_) return 0;
      for (;;) {
        const Wake w = waiter_.wait_until(start + o_.interval);
        if (is_stop_signal(w.signal)) return 0;
        if (w.signal == 0) break;  // SIGHUP: nothing to reload
      }
    }
  }

 private:
  bool stop_requested() {
    if (!stopping_ && is_stop_signal(waiter_.wait_until(waiter_.now()).signal)) {
      stopping_ = true;
      log::info("stop signal: ending the pass early");
    }
    return stopping_;
  }

  bool pass(SteadyTime deadline) {
    const SteadyTime start = waiter_.now();
    Tally pushgateway, textfile;
    if (o_.pushgateway_enabled()) prune_pushgateway(deadline, pushgateway);
    if (o_.textfile_enabled() && !stopping_) prune_textfiles(textfile);
    const bool ok = (!o_.pushgateway_enabled() || (pushgateway.read_ok && pushgateway.removals_ok)) &&
                    (!o_.textfile_enabled() || (textfile.read_ok && textfile.removals_ok));
    const double seconds = std::chrono::duration<double>(waiter_.now() - start).count();
    if (!o_.dry_run) report(ok, seconds, pushgateway, textfile, deadline);
    return ok;
  }

  // ---- Pushgateway groups ----

  void prune_pushgateway(SteadyTime deadline, Tally& t) {
    std::string error;
    const HttpRequest list{"GET", &list_url_, {}, get_headers_.get()};
    if (!client_->send(list, deadline, response_, error, "Pushgateway")) {
      log::error("cannot read the Pushgateway's groups; removing nothing", {{"err", error}});
      return;
    }
    // The Pushgateway's clock: its Date header, written as it sends this list.
    curl_header* date = nullptr;
    std::optional<double> now;
    const CURLHcode got = curl_easy_header(client_->handle(), "Date", 0, CURLH_HEADER, -1, &date);
    if (got == CURLHE_OK) now = parse_http_date(date->value);
    if (got == CURLHE_NOT_BUILT_IN) {
      log::error(
          "this libcurl was built without its headers API (--disable-headers-api), so the Pushgateway's Date "
          "cannot be read; removing nothing");
      return;
    }
    if (!now) {
      log::error(
          "the Pushgateway's answer has no readable Date header, so no group's age can be known; removing nothing",
          {{"url", redact_url(list_url_)}});
      return;
    }
    const double skew = unix_now() - *now;
    if (std::fabs(skew) > kSkewWarning)
      log::warn("this host's clock differs from the Pushgateway's; group ages are judged by the Pushgateway's clock",
                {{"clock_skew", seconds_text(skew)}});
    if (!parse_pushed_groups(response_.body, groups_, error)) {
      log::error("cannot read the Pushgateway's groups; removing nothing", {{"err", error}});
      return;
    }
    t.read_ok = true;
    const std::vector<GroupDecision> decisions = decide_groups(groups_, *now, o_);
    for (size_t i = 0; i < groups_.size(); ++i) {
      const GroupDecision& d = decisions[i];
      t.count(d.verdict);
      const std::string group = describe_labels(groups_[i].labels);
      if (d.verdict == Verdict::Odd) {
        log::warn("left a group alone: its age cannot be proven", {{"group", group}, {"why", d.reason}});
      } else if (d.verdict == Verdict::Foreign && log::enabled(LogLevel::Debug)) {
        log::debug("not ours", {{"group", group}, {"why", d.reason}});
      } else if (d.verdict == Verdict::Stale) {
        if (o_.dry_run) {
          log::info("would remove stale group (dry run)", {{"group", group}, {"why", d.reason}});
          continue;
        }
        if (stop_requested()) break;
        url_ = base_ + d.path;
        const HttpRequest del{"DELETE", &url_, {}, delete_headers_.get()};
        if (client_->send(del, deadline, response_, error, "Pushgateway")) {
          ++t.removed;
          ++removed_total_pushgateway_;
          log::info("removed stale group", {{"group", group}, {"why", d.reason}});
        } else {
          t.removals_ok = false;
          log::error("cannot remove stale group", {{"group", group}, {"err", error}});
        }
      }
    }
    log::info(o_.dry_run ? "pushgateway pass (dry run)" : "pushgateway pass",
              {{"job", o_.job},
               {"stale", std::to_string(t.stale)},
               {"removed", std::to_string(t.removed)},
               {"kept", std::to_string(t.kept)},
               {"skipped", std::to_string(t.skipped)},
               {"other_groups", std::to_string(t.foreign)},
               {"clock_skew", seconds_text(skew)}});
  }

  // ---- Textfiles ----

  // What one entry is, read without following links or blocking on a FIFO.
  TextfileEntry inspect(int dir, const char* name, struct stat& seen) {
    TextfileEntry e;
    e.name = name;
    if (::fstatat(dir, name, &seen, AT_SYMLINK_NOFOLLOW) != 0) {
      e.problem = fmt::format("stat: {}", std::strerror(errno));
      return e;
    }
    if (!S_ISREG(seen.st_mode)) return e;
    const int fd = ::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != seen.st_ino) {
      e.problem = fd < 0 ? fmt::format("open: {}", std::strerror(errno)) : "replaced while being read";
      if (fd >= 0) ::close(fd);
      return e;
    }
    e.regular = true;
    e.mtime = mtime_of(st);
    head_.resize(kTextfileHead);
    size_t got = 0;
    while (got < head_.size()) {
      const ssize_t n = ::read(fd, head_.data() + got, head_.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    const std::string_view text(head_.data(), got);
    e.own_series = text.starts_with(kOwnSeriesPrefix) ||
                   text.find(fmt::format("\n{}", kOwnSeriesPrefix)) != std::string_view::npos;
    seen = st;
    return e;
  }

  void prune_textfiles(Tally& t) {
    const std::string& path = o_.textfile_directory;
    const int dir = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* listing = dir >= 0 ? ::fdopendir(::dup(dir)) : nullptr;
    if (!listing) {
      log::error("cannot read the textfile directory; removing nothing",
                 {{"dir", path}, {"err", std::strerror(errno)}});
      if (dir >= 0) ::close(dir);
      return;
    }
    t.read_ok = true;
    const double now = unix_now();
    std::vector<std::string> names;
    while (dirent* d = ::readdir(listing))
      if (is_own_textfile_name(d->d_name)) names.emplace_back(d->d_name);
    ::closedir(listing);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      struct stat seen {};
      const TextfileEntry e = inspect(dir, name.c_str(), seen);
      GroupDecision d = decide_textfile(e, now, o_);
      if (d.verdict == Verdict::Stale && !o_.dry_run) {
        // The task may have written it again since: only the file we judged goes.
        struct stat again {};
        if (::fstatat(dir, name.c_str(), &again, AT_SYMLINK_NOFOLLOW) != 0 || again.st_ino != seen.st_ino ||
            mtime_of(again) != mtime_of(seen))
          d = {Verdict::Fresh, "written again during the pass", 0, {}};
      }
      t.count(d.verdict);
      if (d.verdict == Verdict::Odd) {
        log::warn("left a textfile alone", {{"file", printable(name)}, {"why", d.reason}});
      } else if (d.verdict == Verdict::Stale) {
        if (o_.dry_run) {
          log::info("would remove stale textfile (dry run)", {{"file", printable(name)}, {"why", d.reason}});
        } else if (::unlinkat(dir, name.c_str(), 0) == 0 || errno == ENOENT) {
          ++t.removed;
          ++removed_total_textfile_;
          log::info("removed stale textfile", {{"file", printable(name)}, {"why", d.reason}});
        } else {
          t.removals_ok = false;
          log::error("cannot remove stale textfile", {{"file", printable(name)}, {"err", std::strerror(errno)}});
        }
      }
    }
    ::close(dir);
    log::info(o_.dry_run ? "textfile pass (dry run)" : "textfile pass", {{"dir", path},
                                                                         {"stale", std::to_string(t.stale)},
                                                                         {"removed", std::to_string(t.removed)},
                                                                         {"kept", std::to_string(t.kept)},
                                                                         {"skipped", std::to_string(t.skipped)}});
  }

  // ---- The janitor's own metrics ----

  // To the Pushgateway under job=<job>-prune (plus the --prune.match labels,
  // so janitors of different scopes do not overwrite each other) when one is
  // pruned, else into the textfile directory under a name it never prunes.
  void report(bool ok, double seconds, const Tally& pushgateway, const Tally& textfile, SteadyTime deadline) {
    set_.clear();
    set_.add(Metric::PruneLastRunSuccess, 0, ok ? 1 : 0);
    set_.add(Metric::PruneLastRunDuration, 0, seconds);
    auto per_sink = [&](std::string_view sink, const Tally& t, uint64_t removed_total) {
      const uint32_t labels = set_.new_labels();
      set_.append_label(labels, "sink", sink);
      set_.add(Metric::PruneGroupsRemoved, labels, static_cast<double>(removed_total));
      if (!t.read_ok) return;  // unknown: no sample rather than a false 0
      set_.add(Metric::PruneGroupsStale, labels, t.stale);
      set_.add(Metric::PruneGroupsKept, labels, t.kept);
      set_.add(Metric::PruneGroupsSkipped, labels, t.skipped);
    };
    if (o_.pushgateway_enabled()) per_sink("pushgateway", pushgateway, removed_total_pushgateway_);
    if (o_.textfile_enabled()) per_sink("textfile", textfile, removed_total_textfile_);
    render_text(set_, ExtraLabels{}, text_);
    std::string error;
    if (o_.pushgateway_enabled()) {
      const HttpRequest put{"PUT", &own_group_url_, text_, put_headers_.get()};
      // What is left of the pass, but a fair chance even when the pass used it all.
      if (!client_->send(put, std::max(deadline, waiter_.now() + kOwnMetricsMinBudget), response_, error,
                         "Pushgateway"))
        log::warn("cannot push the janitor's own metrics", {{"err", error}});
    } else if (!write_file_atomically(fmt::format("{}/{}", o_.textfile_directory, kOwnMetricsFile), text_, error)) {
      log::warn("cannot write the janitor's own metrics", {{"err", error}});
    }
  }

  const PruneOptions& o_;
  Waiter& waiter_;
  bool stopping_ = false;
  std::unique_ptr<HttpClient> client_;
  std::string base_, list_url_, own_group_url_, url_;
  CurlHeaders get_headers_, delete_headers_, put_headers_;
  HttpResponse response_;
  std::vector<PushedGroup> groups_;
  std::string head_;
  MetricSet set_;
  std::string text_;
  uint64_t removed_total_pushgateway_ = 0;
  uint64_t removed_total_textfile_ = 0;
};

}  // namespace

int run_prune(const PruneOptions& options, Waiter& waiter) {
  Janitor janitor(options, waiter);
  std::string error;
  if (!janitor.init(error)) {
    log::error("cannot start the janitor", {{"err", error}});
    return 2;
  }
  return janitor.run();
}

}  // namespace emp
