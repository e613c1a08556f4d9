#include "metrics.h"

namespace emp {

// clang-format off
const std::array<MetricDef, kMetricCount> kMetricDefs = {{
  {Metric::ExporterSuccess, "ee_ecs_metrics_exporter_success", MetricType::Gauge, MetricScope::Exporter,
   "1 when the last cycle fetched and parsed both metadata bodies, else 0.",
   "", "1 when `/task` and `/task/stats` were fetched and parsed, else 0"},
  {Metric::ExporterBuildInfo, "ee_ecs_metrics_exporter_build_info", MetricType::Gauge, MetricScope::Exporter,
   "Always 1; the version and revision labels say which ecs-metrics-pusher runs.",
   "", "1, labels `version` and `revision` (git commit)"},
  {Metric::ExporterCycleDuration, "ee_ecs_metrics_exporter_cycle_duration_seconds", MetricType::Gauge, MetricScope::Exporter,
   "Wall time of the previous cycle: fetch, parse, collect and deliver.",
   "", "seconds from the start of the previous cycle to the end of its delivery; in the first cycle (always with `--once`), this cycle's fetch, parse and collect"},
  {Metric::ExporterMetadataErrors, "ee_ecs_metrics_exporter_metadata_errors_total", MetricType::Counter, MetricScope::Exporter,
   "Cycles whose metadata fetch or parse failed, since the process started.",
   "", "count of failed metadata cycles"},
  {Metric::ExporterPushErrors, "ee_ecs_metrics_exporter_push_errors_total", MetricType::Counter, MetricScope::Exporter,
   "Deliveries that failed, by sink, since the process started.",
   "", "count of failed deliveries, label `sink` (`pushgateway`, `remote_write`, `textfile`)"},
  {Metric::ExporterInterval, "ee_ecs_metrics_exporter_interval_seconds", MetricType::Gauge, MetricScope::Exporter,
   "Seconds between pushes in loop mode (absent with --once): alerts on a silent pusher compare push_time_seconds with it.",
   "", "`--interval` in seconds; omitted with `--once`"},
  {Metric::RemoteWritePendingSamples, "ee_ecs_metrics_exporter_remote_write_pending_samples", MetricType::Gauge, MetricScope::Exporter,
   "Samples of earlier cycles held in memory because the remote-write receiver did not take them yet.",
   "", "samples in the `--remote-write.buffer`, after this cycle's sends (with `--remote-write.url` only)"},
  {Metric::RemoteWriteDroppedSamples, "ee_ecs_metrics_exporter_remote_write_dropped_samples_total", MetricType::Counter, MetricScope::Exporter,
   "Samples dropped unsent because the remote-write buffer was full (the oldest go first).",
   "", "samples dropped since start (with `--remote-write.url` only)"},
  {Metric::RemoteWriteRejectedSamples, "ee_ecs_metrics_exporter_remote_write_rejected_samples_total", MetricType::Counter, MetricScope::Exporter,
   "Samples the remote-write receiver refused for good (HTTP 4xx other than 429); never retried.",
   "", "samples refused since start (with `--remote-write.url` only)"},
  {Metric::TaskInfo, "ee_task_info", MetricType::Gauge, MetricScope::Container,
   "Always 1; labels describe the task.",
   "", "1, labels `cluster`, `task_arn`, `launch_type`, `availability_zone`, `service_name`, `known_status`"},
  {Metric::TaskCpuLimit, "ee_task_cpu_limit", MetricType::Gauge, MetricScope::Container,
   "Task CPU limit in vCPU.",
   "", "task `Limits.CPU` (vCPU); omitted when absent or 0"},
  {Metric::TaskMemoryLimit, "ee_task_memory_limit_byte", MetricType::Gauge, MetricScope::Container,
   "Task memory limit in bytes.",
   "", "task `Limits.Memory` × 1048576; omitted when absent or 0"},
  {Metric::TaskEphemeralUtilized, "ee_task_ephemeral_storage_utilized_byte", MetricType::Gauge, MetricScope::Container,
   "Ephemeral storage used by the task in bytes (Fargate).",
   "", "`EphemeralStorageMetrics.Utilized` × 1048576; omitted when absent"},
  {Metric::TaskEphemeralReserved, "ee_task_ephemeral_storage_reserved_byte", MetricType::Gauge, MetricScope::Container,
   "Ephemeral storage reserved for the task in bytes (Fargate).",
   "", "`EphemeralStorageMetrics.Reserved` × 1048576; omitted when absent"},
  {Metric::TaskPullStartedAt, "ee_task_pull_started_at_time", MetricType::Gauge, MetricScope::Container,
   "When the task's image pull started, Unix seconds.",
   "", "`PullStartedAt` as Unix seconds; omitted when absent"},
  {Metric::TaskPullStoppedAt, "ee_task_pull_stopped_at_time", MetricType::Gauge, MetricScope::Container,
   "When the task's image pull finished, Unix seconds.",
   "", "`PullStoppedAt` as Unix seconds; omitted when absent"},
  {Metric::ContainerLastStartedAt, "ee_container_last_started_at_time", MetricType::Gauge, MetricScope::Container,
   "Latest container start in the task, Unix seconds.",
   "", "latest `StartedAt` over the reported containers"},
  {Metric::ContainerCpuLimit, "ee_container_cpu_limit", MetricType::Gauge, MetricScope::Container,
   "Container CPU reservation in vCPU: a relative cpu.shares weight, not a cap (the task limit is the cap).",
   "`Limits.CPU` / 1024; omitted when absent or ≤ 2 (ECS reports 2 when the task definition sets none)", ""},
  {Metric::ContainerMemoryLimit, "ee_container_memory_limit_byte", MetricType::Gauge, MetricScope::Container,
   "Container memory limit in bytes (the task's when the container has none).",
   "`Limits.Memory` × 1048576, else the task limit; omitted when neither is set", ""},
  {Metric::ContainerRestarts, "ee_container_restarts_total", MetricType::Counter, MetricScope::Container,
   "Times ECS restarted the container (restart policy).",
   "`RestartCount`; omitted when absent", ""},
  {Metric::ContainerCpuUsage, "ee_container_cpu_usage_seconds_total", MetricType::Counter, MetricScope::Container,
   "CPU time consumed in seconds.",
   "`cpu_stats.cpu_usage.total_usage` / 1e9",
   "sum over containers, keeping the last value of stopped ones"},
  {Metric::ContainerMemoryUsage, "ee_container_memory_usage_byte", MetricType::Gauge, MetricScope::Container,
   "Memory usage in bytes, page cache included.",
   "`memory_stats.usage`", "sum over running containers"},
  {Metric::ContainerMemoryUsageWithoutCache, "ee_container_memory_usage_without_cache_byte", MetricType::Gauge, MetricScope::Container,
   "Memory usage in bytes without the page cache.",
   "usage − `stats.cache` (cgroup v1), usage − `stats.inactive_file` (cgroup v2), `privateworkingset` (Windows); never below 0",
   "sum over running containers"},
  {Metric::ContainerNetworkRx, "ee_container_network_io_rx_bytes", MetricType::Gauge, MetricScope::Container,
   "Bytes received over the network.",
   "sum of `networks.*.rx_bytes`",
   "awsvpc/host: each interface once (largest value seen), summed; bridge: sum over containers"},
  {Metric::ContainerNetworkTx, "ee_container_network_io_tx_bytes", MetricType::Gauge, MetricScope::Container,
   "Bytes sent over the network.",
   "sum of `networks.*.tx_bytes`",
   "as for rx"},
  {Metric::ContainerBlockReadBytes, "ee_container_block_io_read_bytes", MetricType::Gauge, MetricScope::Container,
   "Bytes read from block devices.",
   "sum over all devices of `io_service_bytes_recursive` entries with op Read (any case); Windows: `storage_stats.read_size_bytes`",
   "sum over containers, keeping the last value of stopped ones"},
  {Metric::ContainerBlockWriteBytes, "ee_container_block_io_write_bytes", MetricType::Gauge, MetricScope::Container,
   "Bytes written to block devices.",
   "as read, op Write; Windows: `write_size_bytes`", "as read"},
  {Metric::ContainerBlockReadOps, "ee_container_block_io_read_ops", MetricType::Gauge, MetricScope::Container,
   "Read operations on block devices.",
   "sum over all devices of `io_serviced_recursive` entries with op Read; Windows: `read_count_normalized`", "as read"},
  {Metric::ContainerBlockWriteOps, "ee_container_block_io_write_ops", MetricType::Gauge, MetricScope::Container,
   "Write operations on block devices.",
   "as read ops, op Write; Windows: `write_count_normalized`", "as read"},
  {Metric::ContainerMemoryMaxUsage, "ee_container_memory_max_usage_byte", MetricType::Gauge, MetricScope::Container,
   "Highest memory usage recorded for the container in bytes (cgroup v1 only).",
   "`memory_stats.max_usage`; omitted when absent or 0 (cgroup v2)", ""},
  {Metric::ContainerCpuThrottlingPeriods, "ee_container_cpu_throttling_periods_total", MetricType::Counter, MetricScope::Container,
   "CFS enforcement periods that elapsed while the container was runnable.",
   "`cpu_stats.throttling_data.periods`; omitted when absent (AWS reports 0 on many platforms)", ""},
  {Metric::ContainerCpuThrottledPeriods, "ee_container_cpu_throttled_periods_total", MetricType::Counter, MetricScope::Container,
   "CFS enforcement periods in which the container was throttled.",
   "`cpu_stats.throttling_data.throttled_periods`; omitted when absent", ""},
  {Metric::ContainerCpuThrottledSeconds, "ee_container_cpu_throttled_seconds_total", MetricType::Counter, MetricScope::Container,
   "Time the container was throttled, in seconds.",
   "`cpu_stats.throttling_data.throttled_time` / 1e9; omitted when absent", ""},
  {Metric::ContainerStatus, "ee_container_status", MetricType::Gauge, MetricScope::Container,
   "Always 1; the status label is the container's ECS known status (RUNNING, STOPPED, ...).",
   "1, label `status` = `KnownStatus`; one series per container", ""},
  {Metric::ContainerExitCode, "ee_container_exit_code", MetricType::Gauge, MetricScope::Container,
   "Exit code of a stopped container (137: killed, often out of memory).",
   "`ExitCode` of a container whose `KnownStatus` is STOPPED; omitted otherwise", ""},
  {Metric::ContainerHealthStatus, "ee_container_health_status", MetricType::Gauge, MetricScope::Container,
   "Always 1; the status label is the container's health check status (HEALTHY, UNHEALTHY, UNKNOWN).",
   "1, label `status` = `Health.status`; omitted when the container has no health check", ""},
  {Metric::TaskNetworkRxBytes, "ee_task_network_receive_bytes_total", MetricType::Counter, MetricScope::Container,
   "Bytes received by the task on one interface.",
   "", "per `interface`: awsvpc/host `networks.<if>.rx_bytes` once (largest value seen); bridge: summed over containers"},
  {Metric::TaskNetworkTxBytes, "ee_task_network_transmit_bytes_total", MetricType::Counter, MetricScope::Container,
   "Bytes sent by the task on one interface.", "", "as receive, `tx_bytes`"},
  {Metric::TaskNetworkRxPackets, "ee_task_network_receive_packets_total", MetricType::Counter, MetricScope::Container,
   "Packets received by the task on one interface.", "", "as receive bytes, `rx_packets`"},
  {Metric::TaskNetworkTxPackets, "ee_task_network_transmit_packets_total", MetricType::Counter, MetricScope::Container,
   "Packets sent by the task on one interface.", "", "as receive bytes, `tx_packets`"},
  {Metric::TaskNetworkRxErrors, "ee_task_network_receive_errors_total", MetricType::Counter, MetricScope::Container,
   "Receive errors on one of the task's interfaces.", "", "as receive bytes, `rx_errors`"},
  {Metric::TaskNetworkTxErrors, "ee_task_network_transmit_errors_total", MetricType::Counter, MetricScope::Container,
   "Transmit errors on one of the task's interfaces.", "", "as receive bytes, `tx_errors`"},
  {Metric::TaskNetworkRxDropped, "ee_task_network_receive_dropped_total", MetricType::Counter, MetricScope::Container,
   "Received packets dropped on one of the task's interfaces.", "", "as receive bytes, `rx_dropped`"},
  {Metric::TaskNetworkTxDropped, "ee_task_network_transmit_dropped_total", MetricType::Counter, MetricScope::Container,
   "Packets to send dropped on one of the task's interfaces.", "", "as receive bytes, `tx_dropped`"},
  // The janitor's (`prune`): label `sink` says whether a group is a Pushgateway group or a textfile.
  {Metric::PruneLastRunSuccess, "ee_prune_last_run_success", MetricType::Gauge, MetricScope::Exporter,
   "1 when the janitor's last pass read every group list and directory it prunes and every removal succeeded, else 0.",
   "", "`prune`: 1 when the last pass read everything and every removal succeeded, else 0"},
  {Metric::PruneLastRunDuration, "ee_prune_last_run_duration_seconds", MetricType::Gauge, MetricScope::Exporter,
   "Wall time of the janitor's last pass.",
   "", "`prune`: seconds the last pass took"},
  {Metric::PruneGroupsRemoved, "ee_prune_groups_removed_total", MetricType::Counter, MetricScope::Exporter,
   "Stale groups (Pushgateway groups, textfiles) the janitor removed, since it started.",
   "", "`prune`: count of removals since the process started (with `--once`: in this run), label `sink`"},
  {Metric::PruneGroupsStale, "ee_prune_groups_stale", MetricType::Gauge, MetricScope::Exporter,
   "Groups the janitor's last pass found stale (removed, or only logged with --dry-run).",
   "", "`prune`: groups older than `--prune.older-than` in the last pass, label `sink`"},
  {Metric::PruneGroupsKept, "ee_prune_groups_kept", MetricType::Gauge, MetricScope::Exporter,
   "Groups of the pruned job the janitor's last pass kept because they are fresh.",
   "", "`prune`: fresh groups in the last pass, label `sink`"},
  {Metric::PruneGroupsSkipped, "ee_prune_groups_skipped", MetricType::Gauge, MetricScope::Exporter,
   "Groups the janitor's last pass left alone because it could not prove their age (logged one by one).",
   "", "`prune`: odd groups in the last pass (no push time, unreadable, a link or foreign file), label `sink`"},
}};
// clang-format on

void MetricSet::clear() {
  used_blocks_ = 1;
  for (auto& s : samples_) s.clear();
}

uint32_t MetricSet::new_labels() {
  if (used_blocks_ == blocks_.size()) blocks_.emplace_back();
  blocks_[used_blocks_].clear();
  return static_cast<uint32_t>(used_blocks_++);
}

void append_escaped_label_value(std::string& out, std::string_view value) {
  // Copy the runs between characters that need escaping whole (values rarely
  // contain any); a character-by-character append costs several times more.
  size_t run = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(value.data() + run, i - run);
    out += '\\';
    out += c == '\n' ? 'n' : c;
    run = i + 1;
  }
  out.append(value.data() + run, value.size() - run);
}

void MetricSet::append_label(uint32_t block, std::string_view name, std::string_view value) {
  std::string& b = blocks_[block];
  if (!b.empty()) b += ',';
  b += name;
  b += "=\"";
  append_escaped_label_value(b, value);
  b += '"';
}

size_t MetricSet::size() const {
  size_t n = 0;
  for (const auto& s : samples_) n += s.size();
  return n;
}

}  // namespace emp
