// sink: node_exporter's textfile collector (or standard output). The file is
// replaced atomically, so node_exporter never reads half of it.
#pragma once

#include <memory>
#include <string>

#include "sink.h"

namespace emp {

struct TextfileOptions {
  std::string directory;  // writes <directory>/<name>
  std::string name;       // default "ecs_<task_id>.prom"
  std::string path;       // or this exact path; "-" is standard output

  bool enabled() const { return !directory.empty() || !path.empty(); }
};

std::unique_ptr<Sink> make_textfile_sink(const TextfileOptions& options);

// Replaces `path` with `content`: a temporary file in the same directory whose
// name does not end in .prom, fsync, rename, mode 0644. On failure the old
// file is untouched and the temporary file is gone.
bool write_file_atomically(const std::string& path, std::string_view content, std::string& error);

}  // namespace emp
