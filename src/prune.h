// prune: the janitor for tasks that died without cleaning up (SIGKILL after
// stopTimeout, a lost host, an OOM-killed task). `ecs-metrics-pusher prune`
// removes the Pushgateway groups and the node_exporter textfiles whose last
// write is older than --prune.older-than, and nothing it cannot prove stale.
//
// The decisions are pure functions of what was read (the Pushgateway's group
// list with its own clock, a directory listing with the local clock), so each
// rule is unit-tested with hand-worked cases; run_prune() does the I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duration.h"
#include "http_client.h"
#include "padded_body.h"
#include "signals.h"

namespace emp {

struct PruneOptions {
  std::string pushgateway_url;  // "" : no Pushgateway pass
  std::string job = "ecs";      // only groups of this job are ever touched
  // Static NAME=VALUE matchers a group must also carry (--prune.match).
  std::vector<std::pair<std::string, std::string>> match;
  HttpClientOptions http = [] {
    HttpClientOptions h = HttpClientOptions::for_flags("pushgateway");
    h.timeout = Duration(30000);  // serving the group list of a large Pushgateway takes a while
    return h;
  }();
  // The groups of 1,500 tasks are ~21 MiB of JSON (docs/stale-data.md).
  size_t max_body = size_t{256} << 20;
  std::string textfile_directory;  // "" : no textfile pass
  Duration older_than{0};          // required, > 0
  bool dry_run = false;
  bool once = false;
  Duration interval{60000};  // between passes, and the budget of one pass

  bool pushgateway_enabled() const { return !pushgateway_url.empty(); }
  bool textfile_enabled() const { return !textfile_directory.empty(); }
};

// Exit code of `prune --once` when the pass failed (the group list or the
// directory could not be read, or a removal failed). 0: the pass succeeded,
// whatever it removed; 2: bad configuration.
inline constexpr int kExitPruneFailed = 7;

// ---- The Pushgateway ----

// One group of GET /api/v1/metrics, as the janitor needs it. Label values are
// decoded (the API shows "/var/x", never its @base64 form).
struct PushedGroup {
  std::vector<std::pair<std::string, std::string>> labels;  // the grouping key, job included
  std::optional<double> push_time;     // push_time_seconds: last successful push, Pushgateway clock
  std::optional<double> failure_time;  // push_failure_time_seconds: last failed push
  std::string problem;                 // why this entry could not be read ("" when it could)
};

// Reads the body of GET /api/v1/metrics. False with `error` when it is not
// the API's answer at all (then nothing may be removed). An entry that does
// not look like a group is kept with `problem` set, so that it is reported.
bool parse_pushed_groups(const PaddedBody& body, std::vector<PushedGroup>& out, std::string& error);

// The Pushgateway's clock at the time of a response, from its HTTP `Date`
// header (RFC 7231, whole seconds). nullopt when absent or unreadable.
std::optional<double> parse_http_date(std::string_view value);

enum class Verdict {
  Foreign,  // another job, or a --prune.match label differs: never touched
  Fresh,    // pushed within --prune.older-than: kept
  Stale,    // no successful push for longer than --prune.older-than: removed
  Odd,      // ours, but its age cannot be proven (left alone, logged)
};
std::string_view verdict_name(Verdict v);

struct GroupDecision {
  Verdict verdict;
  std::string reason;  // one line for the log
  double age = 0;      // seconds since the last (successful or, if never, failed) push
  std::string path;    // /metrics/job/…: the grouping key to DELETE (Stale only)
};

// The verdict for each group, in order. `pushgateway_now` is the
// Pushgateway's own clock (parse_http_date), so a skewed janitor clock never
// makes a live group look old.
//  - Foreign: `job` differs, or a match label is missing or differs.
//  - Odd: an unreadable entry; no or a non-numeric push_time_seconds; a
//    label that cannot make a grouping key again (build_grouping_path).
//  - Stale: now − push_time > older_than. A group that never had a
//    successful push (push_time 0, it holds no series) is stale when its last
//    failed push is that old too, odd when that time is unknown.
//  - Fresh: otherwise (also a push time ahead of now).
std::vector<GroupDecision> decide_groups(const std::vector<PushedGroup>& groups, double pushgateway_now,
                                         const PruneOptions& options);

// `{job="ecs",task_id="…"}` for log lines (values escaped as in the text format).
std::string describe_labels(const std::vector<std::pair<std::string, std::string>>& labels);

// ---- The textfile directory ----

// Names the textfile sink writes: ecs_<task_id>.prom (node_exporter reads
// them), and its temporary files .ecs_<task_id>.prom.<pid>.tmp (left behind
// only by a kill in mid-write).
bool is_own_textfile_name(std::string_view name);

// The program's own series: a file without one was not written by it.
inline constexpr std::string_view kOwnSeriesPrefix = "ee_ecs_metrics_exporter_";

// What the janitor saw of one directory entry with an own name.
struct TextfileEntry {
  std::string name;
  bool regular = false;     // lstat: a regular file (not a link, FIFO, device, directory)
  double mtime = 0;         // Unix seconds, local clock (the writers' host's)
  bool own_series = false;  // holds a line starting with kOwnSeriesPrefix
  std::string problem;      // could not be read ("" when it could)
};

// Stale when a regular file with our series was last written more than
// older_than before `local_now`; Odd when it is not a regular file, could
// not be read or holds none of our series; Fresh otherwise.
GroupDecision decide_textfile(const TextfileEntry& entry, double local_now, const PruneOptions& options);

// ---- The command ----

// Runs `prune` until a stop signal (or one pass with --once) and returns the
// process exit code. Logs one line per removal (or would-be removal with
// --dry-run) and per group or file left alone as odd, and a summary per pass.
int run_prune(const PruneOptions& options, Waiter& waiter);

}  // namespace emp
