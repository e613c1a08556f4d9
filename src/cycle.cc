#include "cycle.h"

#include <fmt/format.h>

#include "log.h"
#include "version.h"

namespace emp {

Cycle::Cycle(std::unique_ptr<MetadataSource> source, std::vector<std::unique_ptr<Sink>> sinks, ContainerFilter filter)
    : source_(std::move(source)), sinks_(std::move(sinks)), collector_(std::move(filter)), sink_errors_(sinks_.size()) {}

bool Cycle::fetch_and_parse(std::string& error) {
  if (!source_->fetch(bodies_, error)) return false;
  if (!parser_.parse_task(padded(bodies_.task), task_, error)) return false;
  if (!parser_.parse_stats(padded(bodies_.stats), stats_, error)) return false;
  identity_ = identity_of(task_);
  return true;
}

void Cycle::add_exporter_metrics(bool success) {
  set_.add(Metric::ExporterSuccess, 0, success ? 1 : 0);
  uint32_t version = set_.new_labels();
  set_.append_label(version, "version", EMP_VERSION);
  set_.add(Metric::ExporterBuildInfo, version, 1);
  set_.add(Metric::ExporterCycleDuration, 0, last_cycle_seconds_);
  set_.add(Metric::ExporterMetadataErrors, 0, static_cast<double>(metadata_errors_));
  for (size_t i = 0; i < sinks_.size(); ++i) {
    uint32_t sink = set_.new_labels();
    set_.append_label(sink, "sink", sinks_[i]->name());
    set_.add(Metric::ExporterPushErrors, sink, static_cast<double>(sink_errors_[i]));
  }
}

CycleResult Cycle::run() {
  const auto start = std::chrono::steady_clock::now();
  CycleResult result;
  set_.clear();
  result.metadata_ok = fetch_and_parse(error_);
  if (result.metadata_ok) {
    collector_.collect(task_, stats_, set_);
  } else {
    ++metadata_errors_;
    log::error("metadata unavailable", {{"err", error_}});
  }
  add_exporter_metrics(result.metadata_ok);

  for (size_t i = 0; i < sinks_.size(); ++i) {
    if (sinks_[i]->deliver(set_, identity_, error_)) {
      ++result.sinks_ok;
    } else {
      ++result.sinks_failed;
      ++sink_errors_[i];
      log::error("delivery failed", {{"sink", sinks_[i]->name()}, {"err", error_}});
    }
  }
  last_cycle_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void Cycle::remove_published() {
  for (auto& sink : sinks_) {
    if (!sink->remove(identity_, error_))
      log::error("removing published metrics failed", {{"sink", sink->name()}, {"err", error_}});
  }
}

}  // namespace emp
