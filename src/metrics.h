// metrics: the one place that lists every ee_* metric (name, type, help,
// formula), the set of samples a cycle produces, and the collector that turns
// the model into those samples.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
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
  void add(Metric m, uint32_t labels, double value) {
    samples_[static_cast<size_t>(m)].push_back({labels, value});
  }

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

// Which containers are reported: fnmatch(3) globs on the ECS container name.
struct ContainerFilter {
  std::vector<std::string> include;  // empty: all
  std::vector<std::string> exclude = {"~internal~ecs~pause"};
  bool accepts(std::string_view name) const;
};

// Turns one cycle's model into samples. It keeps, for the life of the
// process, the last cumulative values of every container it has seen, so that
// the task's counters never go backwards when a container stops.
class Collector {
 public:
  explicit Collector(ContainerFilter filter = {}) : filter_(std::move(filter)) {}

  void collect(const TaskMeta& task, const TaskStats& stats, MetricSet& out);

  // The id as `docker ps` shows it: 12 characters of a 64-hex id; Fargate's
  // `<task id>-<digits>` ids share their first 12 characters, so they stay whole.
  static std::string_view short_container_id(std::string_view docker_id);
  // awsvpc and host tasks share one network namespace: every container sees the
  // task's interfaces, so the task row must count each interface once.
  static bool shares_network(const TaskMeta& task);

 private:
  struct Retained {
    std::string docker_id;
    bool reported = false;  // passes the filter
    bool has_cpu = false;
    bool has_blkio_bytes = false;
    bool has_blkio_ops = false;
    double cpu_seconds = 0;
    double blkio[4] = {0, 0, 0, 0};
    std::vector<InterfaceCounters> interfaces;
  };
  Retained& retained_for(const std::string& docker_id);

  ContainerFilter filter_;
  std::vector<Retained> retained_;
  std::unordered_map<std::string, size_t> retained_index_;
  // This cycle's stats by DockerId, sorted: (docker_id, index into stats.containers).
  void index_stats(const TaskStats& stats);
  static constexpr size_t kNoStats = size_t(-1);
  size_t find_stats(const TaskStats& stats, std::string_view docker_id) const;
  std::vector<std::pair<std::string_view, size_t>> stats_index_;
  std::vector<uint8_t> stats_used_;
  // This cycle's container rows, planned before any is written so that a
  // container listed twice is written once (see collect()).
  struct Row {
    std::string_view name;
    std::string_view id;
    const ContainerMeta* meta;    // nullptr for a container only the stats body has
    const ContainerStats* stats;  // nullptr when it has no running stats
    bool duplicate;
  };
  std::vector<Row> rows_;
  std::vector<size_t> row_order_;
  std::vector<InterfaceCounters> task_interfaces_;
};

}  // namespace emp
