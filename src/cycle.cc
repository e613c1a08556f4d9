#include "cycle.h"

#include <fmt/format.h>

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

bool Cycle::fetch_and_parse(std::string& error) {
  started_ = std::chrono::steady_clock::now();
  fetched_ = false;
  if (!source_->fetch(bodies_, error)) return false;
  if (!parser_.parse_task(bodies_.task, task_, error)) return false;
  if (!parser_.parse_stats(bodies_.stats, stats_, error)) return false;
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
  fetched_ = true;
  return true;
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
  }
  if (push_interval_.count() > 0)
    set_.add(Metric::ExporterInterval, 0, std::chrono::duration<double>(push_interval_).count());
}

CycleResult Cycle::run(SteadyTime deadline, Fetch fetch) {
  CycleResult result;
  set_.clear();
  // A prefetch is used once; without a good one, fetch now.
  result.metadata_ok = fetch == Fetch::AlreadyDone && fetched_ ? true : fetch_and_parse(error_);
  fetched_ = false;
  if (result.metadata_ok) {
    collector_.collect(task_, stats_, set_);
  } else {
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
    if (sinks_[i]->deliver({set_, identity_, result.metadata_ok, deadline}, error_)) {
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
