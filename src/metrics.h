// metrics: the one place that lists every ee_* metric (name, type, help,
// formula), and the set of samples a cycle produces (collector.h fills it).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model.h"

namespace emp {

enum class MetricType : uint8_t { Gauge, Counter };

// Which labels a metric's series carry before a sink adds its own.
//  Container: container_name, container_id, task_family, task_revision (+ extras)
//  Exporter:  only its own extras; sinks add the task identity
enum class MetricScope : uint8_t { Container, Exporter };

enum class Metric : uint8_t {
  ExporterSuccess,
  ExporterBuildInfo,
  ExporterCycleDuration,
  ExporterMetadataErrors,
  ExporterPushErrors,
  ExporterInterval,
  // The remote-write sink's own (remote_write_sink.h); only with --remote-write.url.
  RemoteWritePendingSamples,
  RemoteWriteDroppedSamples,
  RemoteWriteRejectedSamples,
  TaskInfo,
  TaskCpuLimit,
  TaskMemoryLimit,
  TaskEphemeralUtilized,
  TaskEphemeralReserved,
  TaskPullStartedAt,
  TaskPullStoppedAt,
  ContainerLastStartedAt,
  ContainerCpuLimit,
  ContainerMemoryLimit,
  ContainerRestarts,
  ContainerCpuUsage,
  ContainerMemoryUsage,
  ContainerMemoryUsageWithoutCache,
  ContainerNetworkRx,
  ContainerNetworkTx,
  ContainerBlockReadBytes,
  ContainerBlockWriteBytes,
  ContainerBlockReadOps,
  ContainerBlockWriteOps,
  ContainerMemoryMaxUsage,
  ContainerCpuThrottlingPeriods,
  ContainerCpuThrottledPeriods,
  ContainerCpuThrottledSeconds,
  ContainerStatus,
  ContainerExitCode,
  ContainerHealthStatus,
  // The task's interfaces, in InterfaceCounters' order (collector.cc relies on it).
  TaskNetworkRxBytes,
  TaskNetworkTxBytes,
  TaskNetworkRxPackets,
  TaskNetworkTxPackets,
  TaskNetworkRxErrors,
  TaskNetworkTxErrors,
  TaskNetworkRxDropped,
  TaskNetworkTxDropped,
  // The janitor's own (`ecs-metrics-pusher prune`, src/prune.h); never in a pusher's set.
  PruneLastRunSuccess,
  PruneLastRunDuration,
  PruneGroupsRemoved,
  PruneGroupsStale,
  PruneGroupsKept,
  PruneGroupsSkipped,
  Count
};
inline constexpr size_t kMetricCount = static_cast<size_t>(Metric::Count);

struct MetricDef {
  Metric id;
  std::string_view name;
  MetricType type;
  MetricScope scope;
  std::string_view help;
  std::string_view per_container;  // formula for a container's row, "" when there is none
  std::string_view task_row;       // formula for the `_task_` row (or the exporter's series)
};

// Every label name a series of the table may carry before a sink adds its
// own. A static label of a sink must not reuse one: it would overwrite the
// real value (tests check that collect() writes no other name).
inline constexpr std::string_view kSeriesLabelNames[] = {
    "container_name", "container_id",      "task_family",  "task_revision", "cluster", "task_arn",
    "launch_type",    "availability_zone", "service_name", "known_status",  "version", "revision",
    "sink",           "interface",         "status"};

// The metric table, in output order. README's metric table is written from it
// (and a test checks the two agree).
extern const std::array<MetricDef, kMetricCount> kMetricDefs;
inline const MetricDef& def(Metric m) { return kMetricDefs[static_cast<size_t>(m)]; }

// All samples of one cycle. Label sets are stored once, already escaped and
// joined (`a="x",b="y"`), and reused from cycle to cycle with their capacity,
// so that a steady-state cycle does not allocate.
class MetricSet {
 public:
  struct Sample {
    uint32_t labels;  // index into label blocks; 0 is the empty block
    double value;
  };

  void clear();
  // Starts a new label block and returns it, empty, for the caller to fill
  // with append_label(); its index is returned by the next add() calls.
  uint32_t new_labels();
  void append_label(uint32_t block, std::string_view name, std::string_view value);
  void add(Metric m, uint32_t labels, double value) { samples_[static_cast<size_t>(m)].push_back({labels, value}); }

  const std::vector<Sample>& samples(Metric m) const { return samples_[static_cast<size_t>(m)]; }
  std::string_view labels(uint32_t block) const { return blocks_[block]; }
  size_t size() const;

 private:
  std::vector<std::string> blocks_ = {std::string()};
  size_t used_blocks_ = 1;
  std::array<std::vector<Sample>, kMetricCount> samples_;
};

// Appends `value` to `out` escaped as a Prometheus label value.
void append_escaped_label_value(std::string& out, std::string_view value);

}  // namespace emp
