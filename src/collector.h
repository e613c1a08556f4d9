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

// A cumulative counter of one container as the task row sees it: when the
// container restarts in place (same DockerId, its cgroup counters start again
// near 0) the value before the restart is carried, so the task's sum never
// goes backwards. The container's own series may reset; that is what a
// restart is.
struct Cumulative {
  double last = 0;     // as the container reports it
  double carried = 0;  // what it had counted before its restarts
  void update(double value) {
    if (value < last) carried += last;
    last = value;
  }
  double total() const { return carried + last; }
};

// Turns one cycle's model into samples. It keeps the last cumulative values of
// the containers it has seen, so that the task's counters never go backwards
// when a container stops or restarts; containers gone from both bodies are
// folded into one task-level remainder once there are more than a few, so
// memory stays bounded by the live containers whatever churns.
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
  // Containers remembered beyond those in this cycle's bodies before the
  // oldest are folded into the remainder.
  static constexpr size_t kSpareRetained = 64;
  size_t retained_count() const { return retained_.size(); }

  // The eight counters of an interface, in InterfaceCounters' order.
  static constexpr size_t kInterfaceCounters = 8;

 private:
  struct RetainedInterface {
    std::string name;
    Cumulative counters[kInterfaceCounters];
  };
  struct Retained {
    std::string docker_id;
    bool seen = false;  // in this cycle's bodies
    bool has_cpu = false;
    bool has_blkio_bytes = false;
    bool has_blkio_ops = false;
    Cumulative cpu;
    Cumulative blkio[4];
    std::vector<RetainedInterface> interfaces;  // sorted by name
  };
  // What containers gone for good had counted (see kSpareRetained).
  struct Remainder {
    bool has_cpu = false, has_blkio_bytes = false, has_blkio_ops = false;
    double cpu = 0;
    double blkio[4] = {0, 0, 0, 0};
  };
  struct InterfaceTotal {
    std::string_view name;
    double counters[kInterfaceCounters];
  };
  Retained& retained_for(const std::string& docker_id);
  void record(const ContainerStats& s);
  void fold_gone(size_t live, bool shared);
  // Combines per-name totals sorted by name: max for a shared namespace, else sum.
  static void combine_interfaces(std::vector<InterfaceTotal>& totals, bool shared);

  ContainerFilter filter_;
  std::vector<Retained> retained_;
  std::unordered_map<std::string, size_t> retained_index_;
  Remainder remainder_;
  struct RemainderInterface {
    std::string name;
    double counters[kInterfaceCounters];
  };
  std::vector<RemainderInterface> remainder_interfaces_;
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
  std::vector<InterfaceTotal> task_interfaces_;
  std::vector<InterfaceCounters> sorted_interfaces_;
};

}  // namespace emp
