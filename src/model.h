// The plain model of one ECS task as the metadata endpoint describes it: what
// the parser fills from `/task` and `/task/stats`, and what the collector reads.
// Every field that real captures may lack is optional; nothing here knows JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace emp {

struct ContainerMeta {
  std::string docker_id;
  std::string name;         // ECS container name (`Name`)
  std::string docker_name;  // `DockerName`; on EC2 `ecs-<family>-<rev>-<name>-<hash>`
  std::string image;
  std::string known_status;
  std::string type;                        // NORMAL, CNI_PAUSE, ...
  std::string network_mode;                // first `Networks[].NetworkMode`, empty when absent
  std::optional<double> cpu_units;         // `Limits.CPU`, CPU units (1024 = 1 vCPU)
  std::optional<double> memory_limit_mib;  // `Limits.Memory`
  std::optional<double> restart_count;     // `RestartCount`
  std::optional<double> started_at;        // `StartedAt`, Unix seconds
  std::optional<double> exit_code;         // `ExitCode`, once the container stopped
  std::string health_status;               // `Health.status` when a health check is defined
};

struct TaskMeta {
  std::string cluster;
  std::string task_arn;
  std::string family;
  std::string revision;
  std::string known_status;
  std::string launch_type;
  std::string availability_zone;
  std::string service_name;
  std::optional<double> cpu_limit_vcpu;    // task `Limits.CPU`, vCPU
  std::optional<double> memory_limit_mib;  // task `Limits.Memory`
  std::optional<double> pull_started_at;   // Unix seconds
  std::optional<double> pull_stopped_at;
  std::optional<double> ephemeral_utilized_mib;  // Fargate `EphemeralStorageMetrics`
  std::optional<double> ephemeral_reserved_mib;
  std::vector<ContainerMeta> containers;
};

struct InterfaceCounters {
  std::string name;
  double rx_bytes = 0;
  double tx_bytes = 0;
  double rx_packets = 0;
  double tx_packets = 0;
  double rx_errors = 0;
  double tx_errors = 0;
  double rx_dropped = 0;
  double tx_dropped = 0;
};

// One entry of the `/task/stats` map. `present` is false for `null` and `{}`
// (a stopped or not yet started container): then only docker_id is set.
struct ContainerStats {
  std::string docker_id;
  std::string name;  // stats body `name` without its leading '/', may be empty
  bool present = false;
  bool windows = false;
  std::optional<double> cpu_seconds;
  std::optional<double> memory_usage;
  std::optional<double> memory_cache;      // v1 `stats.cache`, v2 `stats.inactive_file`
  std::optional<double> memory_limit;      // `memory_stats.limit` (may be host memory or 2^64-1)
  std::optional<double> memory_max_usage;  // `memory_stats.max_usage` (cgroup v1 only)
  bool has_throttling = false;             // `cpu_stats.throttling_data` was an object
  double throttling_periods = 0;
  double throttled_periods = 0;
  double throttled_seconds = 0;  // `throttled_time` / 1e9
  std::vector<InterfaceCounters> interfaces;
  bool has_blkio_bytes = false;  // `io_service_bytes_recursive` was a list
  bool has_blkio_ops = false;    // `io_serviced_recursive` was a list
  double blkio_read_bytes = 0;
  double blkio_write_bytes = 0;
  double blkio_read_ops = 0;
  double blkio_write_ops = 0;
};

struct TaskStats {
  std::vector<ContainerStats> containers;
};

// Who the task is: the labels sinks put on what they deliver. Kept across
// cycles so that a failed cycle can still report under the last known identity.
struct TaskIdentity {
  std::string task_id;  // last segment of TaskARN
  std::string task_family;
  std::string task_revision;
  std::string cluster;  // short cluster name (last segment of the ARN)
  std::string service_name;
  std::string availability_zone;
  std::string launch_type;

  bool known() const { return !task_id.empty(); }
  // The value of an identity label by name, or nullptr for an unknown name.
  const std::string* get(std::string_view label) const;
};

TaskIdentity identity_of(const TaskMeta& task);
// The same, into `id` in place: its strings keep their capacity, so a cycle
// that refreshes the identity allocates nothing.
void update_identity(const TaskMeta& task, TaskIdentity& id);

// The last non-empty '/'-separated segment of an ARN (a task id, a short
// cluster name); empty only when the ARN has none ("", "/").
std::string_view last_arn_segment(std::string_view arn);

}  // namespace emp
