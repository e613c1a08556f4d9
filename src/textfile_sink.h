// sink: node_exporter's textfile collector (or standard output). The file is
// replaced atomically, so node_exporter never reads half of it.
#pragma once

#include <chrono>
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

// Replaces `path` with `content`: a temporary file in the same directory
// (".<name>.XXXXXX.tmp": never ends in .prom, random suffix, created
// exclusively so a planted file or symlink is never opened), mode 0644
// set on our own descriptor, rename (which replaces a symlink at `path`, never
// its target). On failure the old file is untouched and the temporary file is gone.
bool write_file_atomically(const std::string& path, std::string_view content, std::string& error);

// Removes what a killed process left of write_file_atomically(path, …):
// files named ".<name>.<6 letters or digits>.tmp" (or the older
// ".<name>.<pid>.tmp") beside `path` that are regular files (never a link
// followed), owned by this user and last modified more than `min_age` ago.
// Nothing else in a shared directory is touched. Returns how many were removed.
size_t remove_stale_temp_files(const std::string& path, std::chrono::seconds min_age);

// The default file name for a task: "ecs_<task_id>.prom", with every byte of
// the id outside [A-Za-z0-9._-] written as %XX (so '/', NUL, control bytes and
// '%' itself cannot reach the file system, and two ids never share a name).
// False with `error` when the id is empty or its escaped form is longer than
// kMaxEscapedTaskId (a file name is at most 255 bytes).
inline constexpr size_t kMaxEscapedTaskId = 200;
bool textfile_name_for_task(std::string_view task_id, std::string& name, std::string& error);

}  // namespace emp
