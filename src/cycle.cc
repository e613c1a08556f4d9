#include "cycle.h"

#include <fmt/format.h>

#include <new>

#include "grouping_key.h"
#include "log.h"
#include "version.h"

namespace emp {

Cycle::Cycle(std::unique_ptr<MetadataSource> source, std::vector<std::unique_ptr<Sink>> sinks, ContainerFilter filter,
             Duration push_interval)
    : source_(std::move(source)),
      sinks_(std::move(sinks)),
      filter_(std::move(filter)),
      collector_(filter_),
      push_interval_(push_interval),
      sink_errors_(sinks_.size()) {}

FetchResult Cycle::fetch_and_parse(std::string& error) {
  started_ = std::chrono::steady_clock::now();
  try {
    attempt_ = fetch_and_parse_unguarded(error);
  } catch (const std::bad_alloc&) {
    const size_t task_bytes = bodies_.task.size(), stats_bytes = bodies_.stats.size();
    release_parse_buffers();
    release_model();
    error = fmt::format("out of memory reading the metadata (bodies of {} and {} bytes)", task_bytes, stats_bytes);
    attempt_ = FetchResult::Permanent;  // the same body would fail the same way
  }
  attempt_pending_ = true;
  attempt_error_ = error;
  return attempt_;
}

FetchResult Cycle::fetch_and_parse_unguarded(std::string& error) {
  const FetchResult fetched = source_->fetch(bodies_, error);
  if (fetched != FetchResult::Ok) return fetched;
  if (!parser_.parse_task(bodies_.task, task_, error)) return FetchResult::Permanent;
  if (!parser_.parse_stats(bodies_.stats, stats_, error)) return FetchResult::Permanent;
  // Without a task id nothing can be named (the textfile, the grouping key):
  // keep the last known identity and say which ARN had none.
  if (last_arn_segment(task_.task_arn).empty()) {
    error =
        fmt::format("TaskARN \"{}\" has no task id (no non-empty segment after a '/')", printable(task_.task_arn, 200));
    return FetchResult::Permanent;
  }
  const bool had_identity = identity_.known();
  if (had_identity) seen_identity_ = identity_;  // string assignments: no allocation once warm
  update_identity(task_, identity_);
  if (had_identity && identity_.task_id != seen_identity_.task_id) {
    // Another task behind the same endpoint (the sidecar outlived its task,
    // or a replay switched captures): the old task's group and file must not
    // stay behind showing `success 1`, and its containers must not count in
    // the new task's rows.
    std::swap(replaced_identity_, seen_identity_);
    identity_changed_ = true;
    collector_ = Collector(filter_);
  }
  return FetchResult::Ok;
}

void Cycle::release_parse_buffers() {
  bodies_.task.shrink();
  bodies_.stats.shrink();
  parser_ = MetadataParser();
}

void Cycle::release_model() {
  task_ = TaskMeta();
  stats_ = TaskStats();
}

void Cycle::add_exporter_metrics(bool success) {
  set_.add(Metric::ExporterSuccess, 0, success ? 1 : 0);
  uint32_t version = set_.new_labels();
  set_.append_label(version, "version", EMP_VERSION);
  set_.append_label(version, "revision", EMP_REVISION);
  set_.add(Metric::ExporterBuildInfo, version, 1);
  const double seconds = previous_cycle_seconds_ >= 0
                             ? previous_cycle_seconds_
                             : std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  set_.add(Metric::ExporterCycleDuration, 0, seconds);
  set_.add(Metric::ExporterMetadataErrors, 0, static_cast<double>(metadata_errors_));
  for (size_t i = 0; i < sinks_.size(); ++i) {
    uint32_t sink = set_.new_labels();
    set_.append_label(sink, "sink", sinks_[i]->name());
    set_.add(Metric::ExporterPushErrors, sink, static_cast<double>(sink_errors_[i]));
    sinks_[i]->add_own_metrics(set_);
  }
  if (push_interval_.count() > 0)
    set_.add(Metric::ExporterInterval, 0, std::chrono::duration<double>(push_interval_).count());
}

CycleResult Cycle::run(SteadyTime deadline, Fetch fetch) {
  CycleResult result;
  set_.clear();
  // A start-up attempt is used once, whatever its outcome (a --once run logs
  // its failure once, and never reads a replay file twice); else fetch now.
  if (fetch == Fetch::AlreadyDone && attempt_pending_) {
    error_ = attempt_error_;
  } else {
    fetch_and_parse(error_);
  }
  attempt_pending_ = false;
  result.metadata_ok = attempt_ == FetchResult::Ok;
  // After an unusually large body each stage's memory is given back before
  // the next stage grows its own, so that the peak is the largest stage, not
  // their sum: the bodies and the DOM once the model is built, the model
  // once the metrics are collected.
  const bool large = bodies_.task.size() > kLargeBody || bodies_.stats.size() > kLargeBody;
  if (large) release_parse_buffers();
  bodies_fresh_ = result.metadata_ok && !large;
  if (result.metadata_ok) {
    try {
      collector_.collect(task_, stats_, set_);
    } catch (const std::bad_alloc&) {
      set_.clear();
      result.metadata_ok = false;
      error_ = fmt::format("out of memory collecting the metrics ({} containers)", task_.containers.size());
    }
  }
  if (large) release_model();
  if (!result.metadata_ok) {
    ++metadata_errors_;
    log::error("metadata unavailable", {{"err", error_}});
  }
  add_exporter_metrics(result.metadata_ok);
  if (identity_changed_) {
    identity_changed_ = false;
    log::info("task identity changed: removing the old task's series; the new task's counters start afresh",
              {{"old_task_id", replaced_identity_.task_id}, {"task_id", identity_.task_id}});
    for (auto& sink : sinks_)
      if (!sink->remove(replaced_identity_, deadline, error_))
        log::error("removing the old task's series failed", {{"sink", sink->name()}, {"err", error_}});
  }

  for (size_t i = 0; i < sinks_.size(); ++i) {
    if (deliver_to(i, result.metadata_ok, deadline)) {
      ++result.sinks_ok;
    } else {
      ++result.sinks_failed;
      ++sink_errors_[i];
      log::error("delivery failed", {{"sink", sinks_[i]->name()}, {"err", error_}});
    }
  }
  previous_cycle_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  return result;
}

bool Cycle::deliver_to(size_t sink, bool metadata_ok, SteadyTime deadline) {
  try {
    return sinks_[sink]->deliver({set_, identity_, metadata_ok, deadline, bodies_fresh_ ? &bodies_ : nullptr}, error_);
  } catch (const std::bad_alloc&) {
    error_ = fmt::format("out of memory rendering {} samples", set_.size());
    return false;
  }
}

bool Cycle::remove_published(SteadyTime deadline) {
  bool all_ok = true;
  for (auto& sink : sinks_) {
    if (!sink->remove(identity_, deadline, error_)) {
      all_ok = false;
      log::error("removing published metrics failed", {{"sink", sink->name()}, {"err", error_}});
    }
  }
  return all_ok;
}

}  // namespace emp
