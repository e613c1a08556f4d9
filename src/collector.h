// collect: turns one cycle's model (TaskMeta + TaskStats) into the samples of
// a MetricSet, as the metric table in metrics.h describes them.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "metrics.h"
#include "model.h"

namespace emp {

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
