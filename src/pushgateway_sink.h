// sink: a Prometheus Pushgateway, over HTTP(S) (http_client.h).
//
// Each cycle PUTs the whole text exposition, gzip-compressed, to
// /metrics/job/<job>/<grouping key…>, over one kept-alive connection.
// Connection errors, 5xx and 429 are retried until the delivery's deadline;
// other statuses fail at once with the Pushgateway's own explanation.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http_client.h"
#include "sink.h"

namespace emp {

// The task identity labels a grouping key may name, in the order of --help.
inline constexpr std::string_view kIdentityLabelNames[] = {
    "task_id", "task_family", "task_revision", "cluster", "service_name", "availability_zone", "launch_type"};

struct PushgatewayOptions {
  std::string url;
  std::string job = "ecs";
  std::vector<std::string> grouping_labels = {"task_family", "task_revision", "task_id"};
  // With --once, unless --pushgateway.grouping-labels is given: the runs of a
  // scheduled task share one group, which each run replaces (its task id is
  // a label on the series), instead of adding a group per run forever.
  static constexpr std::string_view kOnceGroupingLabel = "task_family";
  bool runs_share_group = false;  // set for that --once default: no warning about it
  std::vector<std::pair<std::string, std::string>> static_labels;
  bool put = true;  // PUT replaces the group; POST only the pushed names
  bool gzip = true;
  HttpClientOptions http = HttpClientOptions::for_flags("pushgateway");

  bool enabled() const { return !url.empty(); }
};

// nullptr with `error` set when the options cannot work (a static grouping
// label that is not valid UTF-8 or collides with a label of the series, a
// reserved label name, credentials inside the URL). Logs a warning once when
// TLS verification is off or credentials would travel over plain http.
std::unique_ptr<Sink> make_pushgateway_sink(const PushgatewayOptions& options, std::string& error);

}  // namespace emp
