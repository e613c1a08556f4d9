#include "metadata_parser.h"

#include <fmt/format.h>

#include "rfc3339.h"

namespace emp {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::optional<double> number_at(const object& o, std::string_view key) {
  element e;
  double d;
  if (o.at_key(key).get(e) || e.get_double().get(d)) return std::nullopt;
  return d;
}

double number_or_zero(const object& o, std::string_view key) { return number_at(o, key).value_or(0); }

std::string_view string_at(const object& o, std::string_view key) {
  std::string_view s;
  if (o.at_key(key).get_string().get(s)) return {};
  return s;
}

// `Revision` is a string in every capture we have, but older agents wrote a number.
void assign_string_or_number(const object& o, std::string_view key, std::string& out) {
  element e;
  if (o.at_key(key).get(e)) return out.clear();
  std::string_view s;
  if (!e.get_string().get(s)) return (void)out.assign(s);
  double d;
  if (!e.get_double().get(d)) return (void)(out = fmt::format("{}", d));
  out.clear();
}

bool object_at(const object& o, std::string_view key, object& out) { return !o.at_key(key).get_object().get(out); }

std::optional<double> time_at(const object& o, std::string_view key) {
  std::string_view s = string_at(o, key);
  if (s.empty()) return std::nullopt;
  return parse_rfc3339(s);
}

// A positive limit, or nullopt: ECS writes 0 for "no limit".
std::optional<double> limit_at(const object& o, std::string_view key) {
  auto v = number_at(o, key);
  if (v && *v > 0) return v;
  return std::nullopt;
}

// `Limits.CPU` and `Limits.Memory` of a task or a container; absent when the
// object or the key is missing, or the value is 0.
void read_limits(const object& parent, std::optional<double>& cpu, std::optional<double>& memory) {
  object limits;
  const bool found = object_at(parent, "Limits", limits);
  cpu = found ? limit_at(limits, "CPU") : std::nullopt;
  memory = found ? limit_at(limits, "Memory") : std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Sums the Read and Write entries of one blkio list over every device. The
// list may be an array, null, or the string "None" (Windows): only an array counts.
bool sum_blkio(const object& blkio, std::string_view key, double& read, double& write) {
  array list;
  if (blkio.at_key(key).get_array().get(list)) return false;
  for (element entry : list) {
    object e;
    if (entry.get_object().get(e)) continue;
    std::string_view op = string_at(e, "op");
    if (iequals(op, "read"))
      read += number_or_zero(e, "value");
    else if (iequals(op, "write"))
      write += number_or_zero(e, "value");
  }
  return true;
}

void parse_container(const object& c, ContainerMeta& out) {
  out.docker_id.assign(string_at(c, "DockerId"));
  out.name.assign(string_at(c, "Name"));
  out.docker_name.assign(string_at(c, "DockerName"));
  out.image.assign(string_at(c, "Image"));
  out.known_status.assign(string_at(c, "KnownStatus"));
  out.type.assign(string_at(c, "Type"));
  out.network_mode.clear();
  array networks;
  if (!c.at_key("Networks").get_array().get(networks)) {
    for (element n : networks) {
      object no;
      if (n.get_object().get(no)) continue;
      out.network_mode.assign(string_at(no, "NetworkMode"));
      if (!out.network_mode.empty()) break;
    }
  }
  read_limits(c, out.cpu_units, out.memory_limit_mib);
  out.restart_count = number_at(c, "RestartCount");
  out.started_at = time_at(c, "StartedAt");
  out.exit_code = number_at(c, "ExitCode");
  object health;
  out.health_status.clear();
  if (object_at(c, "Health", health)) out.health_status.assign(string_at(health, "status"));
}

void parse_stats_entry(const object& s, ContainerStats& out) {
  std::string_view name = string_at(s, "name");
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  out.name.assign(name);

  object cpu, usage;
  if (object_at(s, "cpu_stats", cpu) && object_at(cpu, "cpu_usage", usage)) {
    auto total = number_at(usage, "total_usage");
    if (total) out.cpu_seconds = *total / 1e9;
  }
  object throttling;
  if (object_at(s, "cpu_stats", cpu) && object_at(cpu, "throttling_data", throttling)) {
    out.has_throttling = true;
    out.throttling_periods = number_or_zero(throttling, "periods");
    out.throttled_periods = number_or_zero(throttling, "throttled_periods");
    out.throttled_seconds = number_or_zero(throttling, "throttled_time") / 1e9;
  }

  object memory, memory_stats;
  if (object_at(s, "memory_stats", memory)) {
    out.memory_usage = number_at(memory, "usage");
    out.memory_limit = number_at(memory, "limit");
    out.memory_max_usage = number_at(memory, "max_usage");
    if (out.memory_max_usage && *out.memory_max_usage <= 0) out.memory_max_usage.reset();  // cgroup v2 writes 0
    auto private_working_set = number_at(memory, "privateworkingset");
    if (private_working_set) {
      out.windows = true;
      // Windows has no page cache figure; the private working set is what the
      // container holds on its own, the counterpart of usage without cache.
      if (out.memory_usage) out.memory_cache = *out.memory_usage - *private_working_set;
    } else if (object_at(memory, "stats", memory_stats)) {
      out.memory_cache = number_at(memory_stats, "cache");                                 // cgroup v1
      if (!out.memory_cache) out.memory_cache = number_at(memory_stats, "inactive_file");  // cgroup v2
    }
  }

  object networks;
  if (object_at(s, "networks", networks)) {
    for (auto [iface, counters] : networks) {
      object co;
      if (counters.get_object().get(co)) continue;
      out.interfaces.push_back({std::string(iface), number_or_zero(co, "rx_bytes"), number_or_zero(co, "tx_bytes"),
                                number_or_zero(co, "rx_packets"), number_or_zero(co, "tx_packets"),
                                number_or_zero(co, "rx_errors"), number_or_zero(co, "tx_errors"),
                                number_or_zero(co, "rx_dropped"), number_or_zero(co, "tx_dropped")});
    }
  } else if (object_at(s, "network", networks) && number_at(networks, "rx_bytes")) {
    // Docker API before 1.21: one unnamed interface.
    out.interfaces.push_back({"eth0", number_or_zero(networks, "rx_bytes"), number_or_zero(networks, "tx_bytes"),
                              number_or_zero(networks, "rx_packets"), number_or_zero(networks, "tx_packets"),
                              number_or_zero(networks, "rx_errors"), number_or_zero(networks, "tx_errors"),
                              number_or_zero(networks, "rx_dropped"), number_or_zero(networks, "tx_dropped")});
  }

  object blkio;
  if (object_at(s, "blkio_stats", blkio)) {
    out.has_blkio_bytes = sum_blkio(blkio, "io_service_bytes_recursive", out.blkio_read_bytes, out.blkio_write_bytes);
    out.has_blkio_ops = sum_blkio(blkio, "io_serviced_recursive", out.blkio_read_ops, out.blkio_write_ops);
  }
  object storage;
  if (!out.has_blkio_bytes && !out.has_blkio_ops && object_at(s, "storage_stats", storage) &&
      number_at(storage, "read_size_bytes")) {
    out.has_blkio_bytes = out.has_blkio_ops = true;
    out.blkio_read_bytes = number_or_zero(storage, "read_size_bytes");
    out.blkio_write_bytes = number_or_zero(storage, "write_size_bytes");
    out.blkio_read_ops = number_or_zero(storage, "read_count_normalized");
    out.blkio_write_ops = number_or_zero(storage, "write_count_normalized");
  }
}

bool parse_error(std::string_view body, simdjson::error_code code, std::string_view what, std::string& error) {
  size_t at = locate_json_error(body);
  if (at == std::string_view::npos)
    error = fmt::format("{} body is not usable JSON: {}", what, simdjson::error_message(code));
  else
    error = fmt::format("{} body is malformed JSON at byte {} of {}: {}", what, at, body.size(),
                        simdjson::error_message(code));
  return false;
}

}  // namespace

bool MetadataParser::parse_object(const PaddedBody& body, std::string_view what, simdjson::dom::object& out,
                                  std::string& error) {
  element root;
  if (auto code = parser_.parse(body.padded()).get(root)) return parse_error(body.view(), code, what, error);
  if (root.get_object().get(out)) {
    error = fmt::format("{} body is not a JSON object", what);
    return false;
  }
  return true;
}

bool MetadataParser::parse_task(const PaddedBody& body, TaskMeta& out, std::string& error) {
  object task;
  if (!parse_object(body, "task", task, error)) return false;
  out.cluster.assign(string_at(task, "Cluster"));
  out.task_arn.assign(string_at(task, "TaskARN"));
  assign_string_or_number(task, "Family", out.family);
  assign_string_or_number(task, "Revision", out.revision);
  out.known_status.assign(string_at(task, "KnownStatus"));
  out.launch_type.assign(string_at(task, "LaunchType"));
  out.availability_zone.assign(string_at(task, "AvailabilityZone"));
  out.service_name.assign(string_at(task, "ServiceName"));
  read_limits(task, out.cpu_limit_vcpu, out.memory_limit_mib);
  out.pull_started_at = time_at(task, "PullStartedAt");
  out.pull_stopped_at = time_at(task, "PullStoppedAt");
  object ephemeral;
  if (object_at(task, "EphemeralStorageMetrics", ephemeral)) {
    out.ephemeral_utilized_mib = number_at(ephemeral, "Utilized");
    out.ephemeral_reserved_mib = number_at(ephemeral, "Reserved");
  } else {
    out.ephemeral_utilized_mib.reset();
    out.ephemeral_reserved_mib.reset();
  }

  // Resize rather than clear so that the containers' strings keep their capacity.
  size_t n = 0;
  array containers;
  if (!task.at_key("Containers").get_array().get(containers)) {
    for (element c : containers) {
      object co;
      if (c.get_object().get(co)) continue;
      if (n == out.containers.size()) out.containers.emplace_back();
      parse_container(co, out.containers[n++]);
    }
  }
  out.containers.resize(n);
  if (out.task_arn.empty()) {
    error = "task body has no TaskARN";
    return false;
  }
  return true;
}

bool MetadataParser::parse_stats(const PaddedBody& body, TaskStats& out, std::string& error) {
  object map;
  if (!parse_object(body, "stats", map, error)) return false;
  size_t n = 0;
  for (auto [docker_id, entry] : map) {
    if (n == out.containers.size()) out.containers.emplace_back();
    ContainerStats& s = out.containers[n++];
    s.docker_id.assign(docker_id);
    s.name.clear();
    s.present = false;
    s.windows = false;
    s.cpu_seconds.reset();
    s.memory_usage.reset();
    s.memory_cache.reset();
    s.memory_limit.reset();
    s.memory_max_usage.reset();
    s.has_throttling = false;
    s.throttling_periods = s.throttled_periods = s.throttled_seconds = 0;
    s.interfaces.clear();
    s.has_blkio_bytes = s.has_blkio_ops = false;
    s.blkio_read_bytes = s.blkio_write_bytes = s.blkio_read_ops = s.blkio_write_ops = 0;
    object so;
    if (entry.get_object().get(so) || so.size() == 0) continue;  // null or {}: not running
    s.present = true;
    parse_stats_entry(so, s);
  }
  out.containers.resize(n);
  return true;
}

}  // namespace emp
