#include "collector.h"

#include <fnmatch.h>

#include <algorithm>

namespace emp {

bool ContainerFilter::accepts(std::string_view name) const {
  // fnmatch needs a terminated string; names are short.
  char buf[512];
  size_t len = std::min(name.size(), sizeof buf - 1);
  name.copy(buf, len);
  buf[len] = '\0';
  for (const auto& pattern : exclude)
    if (fnmatch(pattern.c_str(), buf, 0) == 0) return false;
  if (include.empty()) return true;
  for (const auto& pattern : include)
    if (fnmatch(pattern.c_str(), buf, 0) == 0) return true;
  return false;
}

std::string_view Collector::short_container_id(std::string_view id) {
  if (id.size() != 64) return id;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return id;
  return id.substr(0, 12);
}

bool Collector::shares_network(const TaskMeta& task) {
  for (const auto& c : task.containers) {
    if (c.network_mode.empty()) continue;
    return c.network_mode == "awsvpc" || c.network_mode == "host";
  }
  // No container lists its network (v3 bodies, Managed Instances): Fargate and
  // Managed Instances only run awsvpc; EC2 defaults to bridge.
  return task.launch_type == "FARGATE" || task.launch_type == "MANAGED_INSTANCES";
}

Collector::Retained& Collector::retained_for(const std::string& docker_id) {
  auto it = retained_index_.find(docker_id);
  if (it != retained_index_.end()) return retained_[it->second];
  retained_index_.emplace(docker_id, retained_.size());
  retained_.emplace_back();
  retained_.back().docker_id = docker_id;
  return retained_.back();
}

// A sorted vector rather than a hash map: it keeps its capacity from cycle to
// cycle, so indexing allocates nothing in steady state (a hash map allocates a
// node per key on every rebuild). The agent writes the stats map with Go's
// encoding/json, which sorts the keys, so the sort usually finds them in order.
void Collector::index_stats(const TaskStats& stats) {
  stats_index_.clear();
  for (size_t i = 0; i < stats.containers.size(); ++i) stats_index_.push_back({stats.containers[i].docker_id, i});
  std::sort(stats_index_.begin(), stats_index_.end());
}

// A key seen twice yields the first entry that has data (one real capture has
// `{}` then `null` under one key).
size_t Collector::find_stats(const TaskStats& stats, std::string_view docker_id) const {
  auto it = std::lower_bound(stats_index_.begin(), stats_index_.end(), std::pair{docker_id, size_t{0}});
  if (it == stats_index_.end() || it->first != docker_id) return kNoStats;
  for (auto same = it; same != stats_index_.end() && same->first == docker_id; ++same)
    if (stats.containers[same->second].present) return same->second;
  return it->second;
}

namespace {

constexpr double kMiB = 1048576.0;

void add_stats_rows(MetricSet& out, uint32_t labels, const ContainerStats& s) {
  if (s.cpu_seconds) out.add(Metric::ContainerCpuUsage, labels, *s.cpu_seconds);
  if (s.memory_usage) {
    out.add(Metric::ContainerMemoryUsage, labels, *s.memory_usage);
    double without = *s.memory_usage - s.memory_cache.value_or(0);
    out.add(Metric::ContainerMemoryUsageWithoutCache, labels, without > 0 ? without : 0);
  }
  if (!s.interfaces.empty()) {
    double rx = 0, tx = 0;
    for (const auto& i : s.interfaces) {
      rx += i.rx_bytes;
      tx += i.tx_bytes;
    }
    out.add(Metric::ContainerNetworkRx, labels, rx);
    out.add(Metric::ContainerNetworkTx, labels, tx);
  }
  if (s.has_blkio_bytes) {
    out.add(Metric::ContainerBlockReadBytes, labels, s.blkio_read_bytes);
    out.add(Metric::ContainerBlockWriteBytes, labels, s.blkio_write_bytes);
  }
  // cgroup v2 hosts often send `io_serviced_recursive: null`: no figure, not 0.
  if (s.has_blkio_ops) {
    out.add(Metric::ContainerBlockReadOps, labels, s.blkio_read_ops);
    out.add(Metric::ContainerBlockWriteOps, labels, s.blkio_write_ops);
  }
}

}  // namespace

void Collector::collect(const TaskMeta& task, const TaskStats& stats, MetricSet& out) {
  auto container_labels = [&](std::string_view name, std::string_view id) {
    uint32_t b = out.new_labels();
    out.append_label(b, "container_name", name);
    out.append_label(b, "container_id", id);
    out.append_label(b, "task_family", task.family);
    out.append_label(b, "task_revision", task.revision);
    return b;
  };

  index_stats(stats);
  stats_used_.assign(stats.containers.size(), 0);
  double memory_sum = 0, memory_without_sum = 0;
  bool any_memory = false;
  std::optional<double> last_started;

  auto record = [&](const ContainerStats& s) {
    Retained& r = retained_for(s.docker_id);
    r.reported = true;
    if (s.cpu_seconds) {
      r.has_cpu = true;
      r.cpu_seconds = *s.cpu_seconds;
    }
    if (s.has_blkio_bytes) {
      r.has_blkio_bytes = true;
      r.blkio[0] = s.blkio_read_bytes;
      r.blkio[1] = s.blkio_write_bytes;
    }
    if (s.has_blkio_ops) {
      r.has_blkio_ops = true;
      r.blkio[2] = s.blkio_read_ops;
      r.blkio[3] = s.blkio_write_ops;
    }
    if (!s.interfaces.empty()) r.interfaces = s.interfaces;
    if (s.memory_usage) {
      any_memory = true;
      memory_sum += *s.memory_usage;
      double without = *s.memory_usage - s.memory_cache.value_or(0);
      memory_without_sum += without > 0 ? without : 0;
    }
  };

  // 1. Plan the container rows: every /task container that is reported, then
  // the stats of containers that /task does not list (named from the stats body).
  rows_.clear();
  for (const ContainerMeta& c : task.containers) {
    const ContainerStats* s = nullptr;
    if (size_t i = find_stats(stats, c.docker_id); i != kNoStats) {
      s = &stats.containers[i];
      stats_used_[i] = 1;  // even when filtered out: it must not come back as "stats only"
    }
    if (!filter_.accepts(c.name)) continue;
    if (c.started_at && (!last_started || *c.started_at > *last_started)) last_started = c.started_at;
    const bool running = s && s->present;
    if (!running && c.known_status == "STOPPED") continue;
    rows_.push_back({c.name, short_container_id(c.docker_id), &c, running ? s : nullptr, false});
  }
  for (size_t i = 0; i < stats.containers.size(); ++i) {
    const ContainerStats& s = stats.containers[i];
    if (stats_used_[i] || !s.present || find_stats(stats, s.docker_id) != i) continue;
    std::string_view name = s.name.empty() ? std::string_view(s.docker_id) : std::string_view(s.name);
    if (!filter_.accepts(name)) continue;
    rows_.push_back({name, short_container_id(s.docker_id), nullptr, &s, false});
  }

  // 2. One row per (container_name, container_id): a body that lists a
  // container twice must not give duplicate series (the Pushgateway refuses
  // the whole push) nor count its memory twice. Found by fuzz_pipeline.
  // Sorting keeps this O(n log n) for tasks with a thousand containers.
  row_order_.resize(rows_.size());
  for (size_t i = 0; i < rows_.size(); ++i) row_order_[i] = i;
  std::sort(row_order_.begin(), row_order_.end(), [&](size_t a, size_t b) {
    if (rows_[a].name != rows_[b].name) return rows_[a].name < rows_[b].name;
    if (rows_[a].id != rows_[b].id) return rows_[a].id < rows_[b].id;
    return a < b;  // the first listed wins
  });
  for (size_t k = 1; k < row_order_.size(); ++k) {
    const Row& prev = rows_[row_order_[k - 1]];
    Row& row = rows_[row_order_[k]];
    if (row.name == prev.name && row.id == prev.id) row.duplicate = true;
  }

  // 3. Emit them, in the order of the bodies.
  for (const Row& row : rows_) {
    if (row.duplicate || (row.name == "_task_" && row.id == "_task_")) continue;
    uint32_t labels = container_labels(row.name, row.id);
    if (const ContainerMeta* c = row.meta) {
      if (c->cpu_units) out.add(Metric::ContainerCpuLimit, labels, *c->cpu_units / 1024.0);
      if (c->memory_limit_mib) out.add(Metric::ContainerMemoryLimit, labels, *c->memory_limit_mib * kMiB);
      else if (task.memory_limit_mib) out.add(Metric::ContainerMemoryLimit, labels, *task.memory_limit_mib * kMiB);
      if (c->restart_count) out.add(Metric::ContainerRestarts, labels, *c->restart_count);
    }
    if (row.stats) {
      add_stats_rows(out, labels, *row.stats);
      record(*row.stats);
    }
  }

  // The task row.
  uint32_t task_labels = container_labels("_task_", "_task_");
  uint32_t info = out.new_labels();
  out.append_label(info, "container_name", "_task_");
  out.append_label(info, "container_id", "_task_");
  out.append_label(info, "task_family", task.family);
  out.append_label(info, "task_revision", task.revision);
  out.append_label(info, "cluster", last_arn_segment(task.cluster));
  out.append_label(info, "task_arn", task.task_arn);
  out.append_label(info, "launch_type", task.launch_type);
  out.append_label(info, "availability_zone", task.availability_zone);
  out.append_label(info, "service_name", task.service_name);
  out.append_label(info, "known_status", task.known_status);
  out.add(Metric::TaskInfo, info, 1);

  if (task.cpu_limit_vcpu) out.add(Metric::TaskCpuLimit, task_labels, *task.cpu_limit_vcpu);
  if (task.memory_limit_mib) out.add(Metric::TaskMemoryLimit, task_labels, *task.memory_limit_mib * kMiB);
  if (task.ephemeral_utilized_mib) out.add(Metric::TaskEphemeralUtilized, task_labels, *task.ephemeral_utilized_mib * kMiB);
  if (task.ephemeral_reserved_mib) out.add(Metric::TaskEphemeralReserved, task_labels, *task.ephemeral_reserved_mib * kMiB);
  if (task.pull_started_at) out.add(Metric::TaskPullStartedAt, task_labels, *task.pull_started_at);
  if (task.pull_stopped_at) out.add(Metric::TaskPullStoppedAt, task_labels, *task.pull_stopped_at);
  if (last_started) out.add(Metric::ContainerLastStartedAt, task_labels, *last_started);

  // Counters: every container seen while the process lives, with its last
  // values, so that a container that stops does not make the sum fall.
  double cpu = 0, blkio[4] = {0, 0, 0, 0}, rx = 0, tx = 0;
  bool any_net = false, any_blkio_bytes = false, any_blkio_ops = false, any_cpu = false;
  const bool shared = shares_network(task);
  task_interfaces_.clear();
  for (const Retained& r : retained_) {
    if (!r.reported) continue;
    any_cpu |= r.has_cpu;
    any_blkio_bytes |= r.has_blkio_bytes;
    any_blkio_ops |= r.has_blkio_ops;
    cpu += r.cpu_seconds;
    for (int k = 0; k < 4; ++k) blkio[k] += r.blkio[k];
    for (const auto& i : r.interfaces) {
      any_net = true;
      if (!shared) {
        rx += i.rx_bytes;
        tx += i.tx_bytes;
        continue;
      }
      auto t = std::find_if(task_interfaces_.begin(), task_interfaces_.end(),
                            [&](const InterfaceCounters& x) { return x.name == i.name; });
      if (t == task_interfaces_.end()) {
        task_interfaces_.push_back(i);
      } else {
        t->rx_bytes = std::max(t->rx_bytes, i.rx_bytes);
        t->tx_bytes = std::max(t->tx_bytes, i.tx_bytes);
      }
    }
  }
  for (const auto& i : task_interfaces_) {
    rx += i.rx_bytes;
    tx += i.tx_bytes;
  }
  if (any_cpu) out.add(Metric::ContainerCpuUsage, task_labels, cpu);
  if (any_memory) {
    out.add(Metric::ContainerMemoryUsage, task_labels, memory_sum);
    out.add(Metric::ContainerMemoryUsageWithoutCache, task_labels, memory_without_sum);
  }
  if (any_net) {
    out.add(Metric::ContainerNetworkRx, task_labels, rx);
    out.add(Metric::ContainerNetworkTx, task_labels, tx);
  }
  if (any_blkio_bytes) {
    out.add(Metric::ContainerBlockReadBytes, task_labels, blkio[0]);
    out.add(Metric::ContainerBlockWriteBytes, task_labels, blkio[1]);
  }
  if (any_blkio_ops) {
    out.add(Metric::ContainerBlockReadOps, task_labels, blkio[2]);
    out.add(Metric::ContainerBlockWriteOps, task_labels, blkio[3]);
  }
}

}  // namespace emp
