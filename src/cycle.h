// cycle: one pass of the pipeline — fetch, parse, collect, deliver to every
// sink — plus the exporter's own metrics, which live as long as the process.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "collector.h"
#include "duration.h"
#include "metadata_parser.h"
#include "metadata_source.h"
#include "model.h"
#include "sink.h"

namespace emp {

struct CycleResult {
  bool metadata_ok = false;
  int sinks_ok = 0;
  int sinks_failed = 0;
};

class Cycle {
 public:
  // `push_interval`: loop mode's --interval, reported so that alerts can tell
  // a silent pusher from a --once run (0: once, not reported).
  Cycle(std::unique_ptr<MetadataSource> source, std::vector<std::unique_ptr<Sink>> sinks, ContainerFilter filter,
        Duration push_interval = Duration(0));

  // Fetches and parses the metadata only (used to learn the identity at
  // start-up). Logs nothing: the caller decides how loud a failure is. A
  // body that cannot be parsed, or names no task, is a permanent failure.
  FetchResult fetch_and_parse(std::string& error);

  enum class Fetch {
    Now,          // fetch and parse first (the normal cycle)
    AlreadyDone,  // use the last fetch_and_parse()'s outcome, good or bad,
                  // when no cycle used it yet (else fetch now)
  };
  // One whole cycle, delivered by `deadline` (every sink's retries stop
  // there). Metadata failures still deliver `success 0` under the last known
  // identity. Each failure is logged once, with its cause. Running out of
  // memory (std::bad_alloc) is such a failure, never an abort.
  CycleResult run(SteadyTime deadline, Fetch fetch = Fetch::Now);
  // Every sink removes what it published, by `deadline`. False when one
  // could not (each failure is logged).
  bool remove_published(SteadyTime deadline);

  const TaskIdentity& identity() const { return identity_; }
  const MetricSet& last_metrics() const { return set_; }
  uint64_t metadata_errors() const { return metadata_errors_; }
  uint64_t sink_errors(size_t sink) const { return sink_errors_[sink]; }
  size_t sink_count() const { return sinks_.size(); }

 private:
  void add_exporter_metrics(bool success);
  FetchResult fetch_and_parse_unguarded(std::string& error);
  bool deliver_to(size_t sink, bool metadata_ok, SteadyTime deadline);
  // Give back the buffers an unusually large body grew (they are kept from
  // cycle to cycle otherwise, so that a steady cycle allocates nothing).
  void release_parse_buffers();  // the bodies and the DOM parser
  void release_model();          // the task and stats model

  std::unique_ptr<MetadataSource> source_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  MetadataParser parser_;
  ContainerFilter filter_;
  Collector collector_;
  MetadataBodies bodies_;
  bool bodies_fresh_ = false;  // bodies_ hold this cycle's good read
  TaskMeta task_;
  TaskStats stats_;
  TaskIdentity identity_;
  TaskIdentity seen_identity_;      // the identity before this fetch
  TaskIdentity replaced_identity_;  // the task that was replaced, until its series are removed
  bool identity_changed_ = false;
  MetricSet set_;
  std::string error_;

  Duration push_interval_;
  uint64_t metadata_errors_ = 0;
  std::vector<uint64_t> sink_errors_;
  // ee_ecs_metrics_exporter_cycle_duration_seconds: the previous cycle's
  // whole duration (fetch → last delivery); in the first cycle, when there is
  // no previous one (always so with --once), this cycle's fetch, parse and
  // collect so far, so that a one-shot run never reports 0.
  std::chrono::steady_clock::time_point started_{};
  double previous_cycle_seconds_ = -1;
  // The last fetch_and_parse() that no cycle used yet, and how it ended.
  bool attempt_pending_ = false;
  FetchResult attempt_ = FetchResult::Ok;
  std::string attempt_error_;
};

// A body larger than this is unusual (real ones are tens of KiB): in a cycle
// that read one, each stage's buffers are given back once the next has what
// it needs (peak memory: docs/reliability.md).
inline constexpr size_t kLargeBody = 256u << 10;

}  // namespace emp
