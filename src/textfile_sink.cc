#include "textfile_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "text_format.h"

namespace emp {

namespace {

// Writes all of `content` to `fd`; false with errno set (ENOSPC for a write
// that made no progress).
bool write_all(int fd, std::string_view content) {
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool write_file_atomically(const std::string& path, std::string_view content, std::string& error) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // A dot name ending in ".tmp": node_exporter only reads *.prom.
  const std::string tmp = fmt::format("{}/.{}.{}.tmp", dir, base, getpid());

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = fmt::format("create {}: {}", tmp, std::strerror(errno));
    return false;
  }
  auto fail = [&](std::string_view what) {
    error = fmt::format("{} {}: {}", what, tmp, std::strerror(errno));
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  };
  if (::fchmod(fd, 0644) != 0) return fail("chmod");
  if (!write_all(fd, content)) return fail("write");
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    error = fmt::format("close {}: {}", tmp, std::strerror(errno));
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = fmt::format("rename {} to {}: {}", tmp, path, std::strerror(errno));
    ::unlink(tmp.c_str());
    return false;
  }
  // Make the rename itself durable; a failure here loses nothing already visible.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

namespace {

bool write_in_place(const std::string& path, std::string_view content, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("open {}: {}", path, std::strerror(errno));
    return false;
  }
  if (!write_all(fd, content)) {
    error = fmt::format("write {}: {}", path, std::strerror(errno));
    ::close(fd);
    return false;
  }
  ::close(fd);
  return true;
}

class TextfileSink final : public Sink {
 public:
  explicit TextfileSink(TextfileOptions o) : options_(std::move(o)) {}

  std::string_view name() const override { return "textfile"; }

  bool deliver(const Delivery& delivery, std::string& error) override {
    const MetricSet& set = delivery.set;
    const TaskIdentity& identity = delivery.identity;
    // Files of many tasks share one node_exporter: every series carries the task id.
    identity_labels(identity, container_extra_, exporter_extra_);
    render_text(set, ExtraLabels{container_extra_, exporter_extra_}, text_);

    if (options_.path == "-") {
      if (std::fwrite(text_.data(), 1, text_.size(), stdout) != text_.size() || std::fflush(stdout) != 0) {
        error = fmt::format("write to standard output: {}", std::strerror(errno));
        return false;
      }
      return true;
    }
    std::string path;
    if (!target(identity, path, error)) return false;
    // --textfile.path=/dev/stdout, a FIFO, a terminal: write into it. Replacing
    // it with a regular file would destroy the device node.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return write_in_place(path, text_, error);
      error = fmt::format("{} exists and is not a regular file", path);
      return false;
    }
    return write_file_atomically(path, text_, error);
  }

  // Local file operations finish at once; no deadline to watch.
  bool remove(const TaskIdentity& identity, SteadyTime, std::string& error) override {
    if (options_.path == "-") return true;
    std::string path;
    if (!target(identity, path, error)) return false;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return true;  // a device: leave it
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      error = fmt::format("remove {}: {}", path, std::strerror(errno));
      return false;
    }
    return true;
  }

 private:
  bool target(const TaskIdentity& identity, std::string& path, std::string& error) const {
    if (!options_.path.empty()) {
      path = options_.path;
      return true;
    }
    if (!options_.name.empty()) {
      path = options_.directory + "/" + options_.name;
      return true;
    }
    if (!identity.known()) {
      error = "task identity not known yet (no successful /task read), so the file name ecs_<task_id>.prom is unknown";
      return false;
    }
    path = fmt::format("{}/ecs_{}.prom", options_.directory, identity.task_id);
    return true;
  }

  TextfileOptions options_;
  std::string text_;
  std::string container_extra_;
  std::string exporter_extra_;
};

}  // namespace

std::unique_ptr<Sink> make_textfile_sink(const TextfileOptions& options) {
  return std::make_unique<TextfileSink>(options);
}

}  // namespace emp
