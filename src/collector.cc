#include "collector.h"

#include <fnmatch.h>

#include <algorithm>

namespace emp {

bool ContainerFilter::accepts(std::string_view name) const {
  // fnmatch needs a terminated string: the whole name, however long, in a
  // buffer that keeps its capacity (no allocation once warm).
  thread_local std::string buf;
  buf.assign(name);
  for (const auto& pattern : exclude)
    if (fnmatch(pattern.c_str(), buf.c_str(), 0) == 0) return false;
  if (include.empty()) return true;
  for (const auto& pattern : include)
    if (fnmatch(pattern.c_str(), buf.c_str(), 0) == 0) return true;
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

namespace {

constexpr double InterfaceCounters::*kInterfaceFields[Collector::kInterfaceCounters] = {
    &InterfaceCounters::rx_bytes,   &InterfaceCounters::tx_bytes,  &InterfaceCounters::rx_packets,
    &InterfaceCounters::tx_packets, &InterfaceCounters::rx_errors, &InterfaceCounters::tx_errors,
    &InterfaceCounters::rx_dropped, &InterfaceCounters::tx_dropped};

}  // namespace

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

void Collector::record(const ContainerStats& s) {
  Retained& r = retained_for(s.docker_id);
  r.seen = true;
  if (s.cpu_seconds) {
    r.has_cpu = true;
    r.cpu.update(*s.cpu_seconds);
  }
  if (s.has_blkio_bytes) {
    r.has_blkio_bytes = true;
    r.blkio[0].update(s.blkio_read_bytes);
    r.blkio[1].update(s.blkio_write_bytes);
  }
  if (s.has_blkio_ops) {
    r.has_blkio_ops = true;
    r.blkio[2].update(s.blkio_read_ops);
    r.blkio[3].update(s.blkio_write_ops);
  }
  if (s.interfaces.empty()) return;
  // Both lists sorted by name and merged: linear after the sort, whatever the
  // number of interfaces (a hostile body may list 100k).
  sorted_interfaces_.assign(s.interfaces.begin(), s.interfaces.end());
  std::sort(sorted_interfaces_.begin(), sorted_interfaces_.end(),
            [](const InterfaceCounters& a, const InterfaceCounters& b) { return a.name < b.name; });
  std::vector<RetainedInterface>& mine = r.interfaces;
  size_t k = 0;
  for (size_t i = 0; i < sorted_interfaces_.size(); ++i) {
    const InterfaceCounters& now = sorted_interfaces_[i];
    if (i > 0 && now.name == sorted_interfaces_[i - 1].name) continue;  // listed twice: the first
    while (k < mine.size() && mine[k].name < now.name) ++k;
    if (k == mine.size() || mine[k].name != now.name) {
      mine.insert(mine.begin() + static_cast<long>(k), RetainedInterface{now.name, {}});
    }
    for (size_t f = 0; f < kInterfaceCounters; ++f) mine[k].counters[f].update(now.*kInterfaceFields[f]);
  }
}

void Collector::combine_interfaces(std::vector<InterfaceTotal>& totals, bool shared) {
  std::sort(totals.begin(), totals.end(),
            [](const InterfaceTotal& a, const InterfaceTotal& b) { return a.name < b.name; });
  size_t out = 0;
  for (size_t i = 0; i < totals.size(); ++i) {
    if (out > 0 && totals[out - 1].name == totals[i].name) {
      for (size_t f = 0; f < kInterfaceCounters; ++f) {
        double& into = totals[out - 1].counters[f];
        into = shared ? std::max(into, totals[i].counters[f]) : into + totals[i].counters[f];
      }
    } else {
      totals[out++] = totals[i];
    }
  }
  totals.resize(out);
}

// Containers in neither body this cycle are kept while there are few of them
// (one may come back: a stopped container stays listed, a body may briefly
// miss one); past kSpareRetained they are folded into the remainder, which
// keeps what they counted, and forgotten. One that came back after that would
// be counted again from its own total: the price of bounded memory, and only
// after 64 other containers came and went.
void Collector::fold_gone(size_t live, bool shared) {
  if (retained_.size() <= live + kSpareRetained) return;
  size_t kept = 0;
  for (size_t i = 0; i < retained_.size(); ++i) {
    Retained& r = retained_[i];
    if (r.seen) {
      if (kept != i) retained_[kept] = std::move(r);
      ++kept;
      continue;
    }
    remainder_.has_cpu |= r.has_cpu;
    remainder_.has_blkio_bytes |= r.has_blkio_bytes;
    remainder_.has_blkio_ops |= r.has_blkio_ops;
    remainder_.cpu += r.cpu.total();
    for (int b = 0; b < 4; ++b) remainder_.blkio[b] += r.blkio[b].total();
    for (const RetainedInterface& ri : r.interfaces) {
      RemainderInterface* into = nullptr;
      for (auto& x : remainder_interfaces_)
        if (x.name == ri.name) into = &x;
      if (!into) {
        remainder_interfaces_.push_back({ri.name, {}});
        into = &remainder_interfaces_.back();
      }
      // A shared namespace's counters are the task's (the largest seen);
      // a bridge container's own are added up.
      for (size_t f = 0; f < kInterfaceCounters; ++f) {
        const double v = ri.counters[f].total();
        into->counters[f] = shared ? std::max(into->counters[f], v) : into->counters[f] + v;
      }
    }
  }
  retained_.resize(kept);
  retained_index_.clear();
  for (size_t i = 0; i < retained_.size(); ++i) retained_index_.emplace(retained_[i].docker_id, i);
}

namespace {

constexpr double kMiB = 1048576.0;
constexpr double kUnsetCpuShares = 2;

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
  if (s.memory_max_usage) out.add(Metric::ContainerMemoryMaxUsage, labels, *s.memory_max_usage);
  if (s.has_throttling) {
    out.add(Metric::ContainerCpuThrottlingPeriods, labels, s.throttling_periods);
    out.add(Metric::ContainerCpuThrottledPeriods, labels, s.throttled_periods);
    out.add(Metric::ContainerCpuThrottledSeconds, labels, s.throttled_seconds);
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

  auto add_memory = [&](const ContainerStats& s) {
    if (!s.memory_usage) return;
    any_memory = true;
    memory_sum += *s.memory_usage;
    const double without = *s.memory_usage - s.memory_cache.value_or(0);
    memory_without_sum += without > 0 ? without : 0;
  };
  for (Retained& r : retained_) r.seen = false;

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
    if (auto it = retained_index_.find(c.docker_id); it != retained_index_.end()) retained_[it->second].seen = true;
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
      if (!c->known_status.empty()) {
        uint32_t status = container_labels(row.name, row.id);
        out.append_label(status, "status", c->known_status);
        out.add(Metric::ContainerStatus, status, 1);
      }
      if (!c->health_status.empty()) {
        uint32_t health = container_labels(row.name, row.id);
        out.append_label(health, "status", c->health_status);
        out.add(Metric::ContainerHealthStatus, health, 1);
      }
      if (c->known_status == "STOPPED") {
        // A stopped container: how it ended, and nothing else (its last usage
        // stays in the task row).
        if (c->exit_code) out.add(Metric::ContainerExitCode, labels, *c->exit_code);
        continue;
      }
      // ECS container CPU is a cpu.shares weight, not a cap; 2 (the kernel's
      // minimum) is what ECS reports when the task definition sets none.
      if (c->cpu_units && *c->cpu_units > kUnsetCpuShares)
        out.add(Metric::ContainerCpuLimit, labels, *c->cpu_units / 1024.0);
      if (c->memory_limit_mib)
        out.add(Metric::ContainerMemoryLimit, labels, *c->memory_limit_mib * kMiB);
      else if (task.memory_limit_mib)
        out.add(Metric::ContainerMemoryLimit, labels, *task.memory_limit_mib * kMiB);
      if (c->restart_count) out.add(Metric::ContainerRestarts, labels, *c->restart_count);
    }
    if (row.stats) {
      add_stats_rows(out, labels, *row.stats);
      add_memory(*row.stats);
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
  if (task.ephemeral_utilized_mib)
    out.add(Metric::TaskEphemeralUtilized, task_labels, *task.ephemeral_utilized_mib * kMiB);
  if (task.ephemeral_reserved_mib)
    out.add(Metric::TaskEphemeralReserved, task_labels, *task.ephemeral_reserved_mib * kMiB);
  if (task.pull_started_at) out.add(Metric::TaskPullStartedAt, task_labels, *task.pull_started_at);
  if (task.pull_stopped_at) out.add(Metric::TaskPullStoppedAt, task_labels, *task.pull_stopped_at);
  if (last_started) out.add(Metric::ContainerLastStartedAt, task_labels, *last_started);

  // Counters: every container remembered, with its last values and what it
  // counted before restarts, plus the remainder of those folded away, so that
  // a container that stops or restarts never makes the sum fall.
  const bool shared = shares_network(task);
  fold_gone(task.containers.size() + stats.containers.size(), shared);
  double cpu = remainder_.cpu, blkio[4];
  for (int k = 0; k < 4; ++k) blkio[k] = remainder_.blkio[k];
  bool any_cpu = remainder_.has_cpu, any_blkio_bytes = remainder_.has_blkio_bytes,
       any_blkio_ops = remainder_.has_blkio_ops;
  task_interfaces_.clear();
  for (const RemainderInterface& ri : remainder_interfaces_) {
    InterfaceTotal t{ri.name, {}};
    std::copy(std::begin(ri.counters), std::end(ri.counters), t.counters);
    task_interfaces_.push_back(t);
  }
  for (const Retained& r : retained_) {
    any_cpu |= r.has_cpu;
    any_blkio_bytes |= r.has_blkio_bytes;
    any_blkio_ops |= r.has_blkio_ops;
    cpu += r.cpu.total();
    for (int k = 0; k < 4; ++k) blkio[k] += r.blkio[k].total();
    for (const RetainedInterface& ri : r.interfaces) {
      InterfaceTotal t{ri.name, {}};
      for (size_t f = 0; f < kInterfaceCounters; ++f) t.counters[f] = ri.counters[f].total();
      task_interfaces_.push_back(t);
    }
  }
  // awsvpc/host: every container sees the task's interfaces, so each counts
  // once (the largest value seen); bridge: each container has its own.
  combine_interfaces(task_interfaces_, shared);
  double rx = 0, tx = 0;
  for (const InterfaceTotal& t : task_interfaces_) {
    rx += t.counters[0];
    tx += t.counters[1];
    uint32_t labels = container_labels("_task_", "_task_");
    out.append_label(labels, "interface", t.name);
    for (size_t f = 0; f < kInterfaceCounters; ++f)
      out.add(static_cast<Metric>(static_cast<size_t>(Metric::TaskNetworkRxBytes) + f), labels, t.counters[f]);
  }
  if (any_cpu) out.add(Metric::ContainerCpuUsage, task_labels, cpu);
  if (any_memory) {
    out.add(Metric::ContainerMemoryUsage, task_labels, memory_sum);
    out.add(Metric::ContainerMemoryUsageWithoutCache, task_labels, memory_without_sum);
  }
  if (!task_interfaces_.empty()) {
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
