// fetch: where the two metadata bodies come from. The endpoint in production;
// files for replaying a capture. Tests swap in their own source here.
#pragma once

#include <memory>
#include <string>

#include <simdjson.h>

#include "duration.h"

namespace emp {

// The raw bodies, kept from cycle to cycle so their buffers are reused. Each
// string has at least simdjson::SIMDJSON_PADDING bytes of spare capacity.
struct MetadataBodies {
  std::string task;
  std::string stats;
};

inline simdjson::padded_string_view padded(const std::string& body) {
  return simdjson::padded_string_view(body.data(), body.size(), body.capacity());
}

class MetadataSource {
 public:
  virtual ~MetadataSource() = default;
  // Fills both bodies; on failure returns false with a one-line cause.
  virtual bool fetch(MetadataBodies& out, std::string& error) = 0;
};

struct HttpSourceOptions {
  std::string base_url;
  Duration connect_timeout{1000};
  Duration timeout{5000};
  size_t max_body = 16u << 20;
};

std::unique_ptr<MetadataSource> make_http_source(const HttpSourceOptions& options);
std::unique_ptr<MetadataSource> make_file_source(std::string task_path, std::string stats_path, size_t max_body);

}  // namespace emp
