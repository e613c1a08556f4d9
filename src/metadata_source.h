// fetch: where the two metadata bodies come from. The endpoint in production;
// files for replaying a capture. Tests swap in their own source here.
#pragma once

#include <memory>
#include <string>

#include "duration.h"
#include "padded_body.h"

namespace emp {

// The raw bodies, kept from cycle to cycle so their buffers are reused.
struct MetadataBodies {
  PaddedBody task;
  PaddedBody stats;
};

// How a fetch ended. The start-up wait retries only transient failures: a
// --once run must not wait half a minute for a 404 or a malformed file.
enum class FetchResult {
  Ok,
  Transient,  // may heal soon: connection refused, timeout, HTTP 5xx or 429
  Permanent,  // will not heal by asking again: HTTP 404, 3xx, 204, a body
              // too large or malformed, anything read from a replay file
};

class MetadataSource {
 public:
  virtual ~MetadataSource() = default;
  // Fills both bodies; on failure a one-line cause in `error`.
  virtual FetchResult fetch(MetadataBodies& out, std::string& error) = 0;
};

struct MetadataOptions {
  std::string url;        // empty: $ECS_CONTAINER_METADATA_URI_V4, then $ECS_CONTAINER_METADATA_URI
  std::string task_file;  // replay: both files instead of the endpoint
  std::string stats_file;
  Duration connect_timeout{1000};
  Duration timeout{5000};
  // ECS task metadata bodies are tens of KiB (the largest bundled capture,
  // with 10 containers, is under 60 KiB; a task definition holds at most 10
  // containers). Peak memory is up to about 16 times the body (the DOM
  // parser, the model, the rendered text; measured in docs/reliability.md),
  // so 1 MiB keeps the worst body far inside a 64 MiB task memory limit.
  size_t max_body = 1u << 20;

  bool replay() const { return !task_file.empty(); }
};

// The endpoint or the replay files, as the options say. nullptr with `error`
// when the endpoint cannot be set up.
std::unique_ptr<MetadataSource> make_metadata_source(const MetadataOptions& options, std::string& error);

}  // namespace emp
