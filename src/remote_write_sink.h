// sink: Prometheus Remote Write 1.0 (Prometheus, Mimir, Thanos Receive,
// VictoriaMetrics, Amazon Managed Service for Prometheus), over HTTP(S)
// (http_client.h).
//
// Each cycle POSTs one snappy-compressed protobuf WriteRequest holding every
// series of the cycle, stamped with the cycle's wall-clock time. Requests the
// receiver could not take (down, 5xx, 429) wait in a bounded buffer and go
// out oldest first once it is back; a 4xx other than 429 is final (logged,
// counted, dropped). On shutdown, and for series that went away, Prometheus
// staleness markers end the series at once. With --remote-write.sigv4.region
// every request is signed with AWS Signature V4 (aws_credentials.h).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "duration.h"
#include "http_client.h"
#include "sink.h"

namespace emp {

struct RemoteWriteOptions {
  std::string url;
  std::string job = "ecs";  // the `job` label on every series
  std::vector<std::pair<std::string, std::string>> static_labels;
  // How long unsent cycles are kept (as a number of cycles: buffer/interval).
  Duration buffer{std::chrono::minutes(10)};
  Duration interval{std::chrono::seconds(15)};  // the loop's, set by main
  bool once = false;                            // --once: nothing is kept for later
  std::string sigv4_region;                     // sign with SigV4 when set
  std::string sigv4_service = "aps";
  HttpClientOptions http = remote_write_http_defaults();

  bool enabled() const { return !url.empty(); }
  static HttpClientOptions remote_write_http_defaults() {
    HttpClientOptions h = HttpClientOptions::for_flags("remote-write");
    h.timeout = Duration(std::chrono::seconds(10));
    return h;
  }
};

// nullptr with `error` set when the options cannot work (a bad URL, a static
// label that collides with a series label, no AWS credentials source with
// SigV4).
std::unique_ptr<Sink> make_remote_write_sink(const RemoteWriteOptions& options, std::string& error);

// Exposed for tests: the WriteRequest of one cycle, uncompressed.
namespace remote_write {
// The label pairs of an escaped label block (`a="x",b="y\""`), unescaped.
void parse_label_block(std::string_view block, std::vector<std::pair<std::string, std::string>>& out);
// The special NaN Prometheus uses as a staleness marker.
double stale_nan();
bool is_stale_nan(double v);
}  // namespace remote_write

}  // namespace emp
