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

class MetadataSource {
 public:
  virtual ~MetadataSource() = default;
  // Fills both bodies; on failure returns false with a one-line cause.
  virtual bool fetch(MetadataBodies& out, std::string& error) = 0;
};

struct MetadataOptions {
  std::string url;  // empty: $ECS_CONTAINER_METADATA_URI_V4, then $ECS_CONTAINER_METADATA_URI
  std::string task_file;   // replay: both files instead of the endpoint
  std::string stats_file;
  Duration connect_timeout{1000};
  Duration timeout{5000};
  // ECS task metadata bodies are tens of KiB (the largest bundled capture,
  // with 10 containers, is under 60 KiB): 4 MiB leaves ample headroom while
  // bounding peak memory (docs/reliability.md).
  size_t max_body = 4u << 20;

  bool replay() const { return !task_file.empty(); }
};

// The endpoint or the replay files, as the options say. nullptr with `error`
// when the endpoint cannot be set up.
std::unique_ptr<MetadataSource> make_metadata_source(const MetadataOptions& options, std::string& error);

}  // namespace emp
