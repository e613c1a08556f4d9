#include "textfile_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <poll.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "grouping_key.h"
#include "log.h"
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

std::pair<std::string, std::string> split_path(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

bool is_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// ".<base>.<suffix>.tmp" where suffix is what mkostemps makes (6 letters or
// digits) or an older version's pid (digits).
bool is_our_temp_name(std::string_view name, std::string_view base) {
  if (name.size() < base.size() + 7 || name[0] != '.' || name.substr(1, base.size()) != base) return false;
  name.remove_prefix(1 + base.size());
  if (name.front() != '.' || name.substr(name.size() - 4) != ".tmp") return false;
  const std::string_view suffix = name.substr(1, name.size() - 5);
  if (suffix.empty() || suffix.size() > 10) return false;
  const bool digits = std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; });
  return digits || (suffix.size() == 6 && std::all_of(suffix.begin(), suffix.end(), is_alnum));
}

// Into a FIFO or a character device (--textfile.path=/dev/stdout, a
// terminal): never blocks past `deadline`. A FIFO nobody reads is refused at
// open (ENXIO); a reader that stops reading times the write out.
bool write_in_place(const std::string& path, std::string_view content, bool follow_links, SteadyTime deadline,
                    std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (follow_links ? 0 : O_NOFOLLOW));
  if (fd < 0) {
    if (errno == ENXIO)
      error = fmt::format("{} is a FIFO with no reader: skipped (nothing would read the metrics)", path);
    else
      error = fmt::format("open {}: {}", path, std::strerror(errno));
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))) {
    error = fmt::format("{} changed while being opened (no longer a FIFO or device)", path);
    ::close(fd);
    return false;
  }
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLOUT, 0};
      if (left.count() > 0 && ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000))) >= 0) continue;
      error = fmt::format("write {}: the reader took only {} of {} bytes before the cycle's deadline", path, done,
                          content.size());
      ::close(fd);
      return false;
    }
    error = fmt::format("write {}: {}", path, n == 0 ? "no progress" : std::strerror(errno));
    ::close(fd);
    return false;
  }
  ::close(fd);
  return true;
}

}  // namespace

bool write_file_atomically(const std::string& path, std::string_view content, std::string& error) {
  const auto [dir, base] = split_path(path);
  // A dot name ending in ".tmp": node_exporter only reads *.prom. mkostemps
  // opens with O_CREAT|O_EXCL (a symlink or file planted under the name is
  // refused, never followed) and draws the suffix at random, retrying on a
  // collision: no other process can guess the name in advance.
  std::string tmp = fmt::format("{}/.{}.XXXXXX.tmp", dir, base);
  int fd = ::mkostemps(tmp.data(), 4, O_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("create a temporary file in {}: {}", dir, std::strerror(errno));
    return false;
  }
  auto fail = [&](std::string_view what) {
    error = fmt::format("{} {}: {}", what, tmp, std::strerror(errno));
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  };
  // On our own descriptor: never another file's mode.
  if (::fchmod(fd, 0644) != 0) return fail("chmod");
  if (!write_all(fd, content)) return fail("write");
  // No fsync, of the file or the directory: readers see the old or the new
  // file thanks to the rename alone, and durability across a crash of the
  // host buys nothing for a file a running task rewrites every interval (a
  // crashed host has no running task). The two fsyncs were 28% of a cycle's
  // CPU (docs/performance.md).
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
  return true;
}

size_t remove_stale_temp_files(const std::string& path, std::chrono::seconds min_age) {
  const auto [dir, base] = split_path(path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return 0;  // the write itself reports an unusable directory
  DIR* d = ::fdopendir(dfd);
  if (!d) {
    ::close(dfd);
    return 0;
  }
  const time_t cutoff = ::time(nullptr) - static_cast<time_t>(min_age.count());
  size_t removed = 0;
  while (const dirent* e = ::readdir(d)) {
    if (!is_our_temp_name(e->d_name, base)) continue;
    struct stat st {};
    // Not following a link; unlinkat removes the name, never what it points to.
    if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || st.st_mtime > cutoff) continue;
    if (::unlinkat(dfd, e->d_name, 0) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

bool textfile_name_for_task(std::string_view task_id, std::string& name, std::string& error) {
  if (task_id.empty()) {
    error = "task identity not known yet (no successful /task read), so the file name ecs_<task_id>.prom is unknown";
    return false;
  }
  std::string escaped;
  for (char c : task_id) {
    if (is_alnum(c) || c == '.' || c == '_' || c == '-') {
      escaped += c;
    } else {
      fmt::format_to(std::back_inserter(escaped), "%{:02X}", static_cast<unsigned char>(c));
    }
    if (escaped.size() > kMaxEscapedTaskId) {
      error = fmt::format(
          "task id \"{}\" is too long for a file name (over {} bytes with unsafe bytes escaped); set --textfile.name",
          printable(task_id, 60), kMaxEscapedTaskId);
      return false;
    }
  }
  name = fmt::format("ecs_{}.prom", escaped);
  return true;
}

namespace {

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
    clean_up_leftovers(path);
    const bool ok = write_to(path, delivery.deadline, error);
    if (text_.capacity() > kKeepTextUpTo) std::string().swap(text_);  // after an unusually large set
    return ok;
  }

  // Local file operations finish at once; no deadline to watch.
  bool remove(const TaskIdentity& identity, SteadyTime, std::string& error) override {
    if (options_.path == "-") return true;
    std::string path;
    if (!target(identity, path, error)) return false;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
      return true;  // a device: leave it
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      error = fmt::format("remove {}: {}", path, std::strerror(errno));
      return false;
    }
    return true;
  }

 private:
  // Rendered text larger than this is given back after the write.
  static constexpr size_t kKeepTextUpTo = 1u << 20;
  // Leftovers of a killed process are looked for at the first write and then
  // this often; a temp file this old is no write in progress (each takes milliseconds).
  static constexpr std::chrono::minutes kCleanupEvery{10};
  static constexpr std::chrono::seconds kLeftoverAge{60};

  bool write_to(const std::string& path, SteadyTime deadline, std::string& error) {
    // --textfile.path=/dev/stdout, a FIFO, a terminal: write into it. Replacing
    // it with a regular file would destroy the device node. Only an explicit
    // --textfile.path is followed if it is a symlink (/dev/stdout is one); in
    // a (shared) directory a symlink under our name is replaced, never followed.
    const bool follow = !options_.path.empty();
    struct stat st {};
    const int found = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
    if (found == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
      if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return write_in_place(path, text_, follow, deadline, error);
      error = fmt::format("{} exists and is not a regular file", path);
      return false;
    }
    return write_file_atomically(path, text_, error);
  }

  void clean_up_leftovers(const std::string& path) {
    const SteadyTime now = std::chrono::steady_clock::now();
    if (path == cleaned_path_ && now < next_cleanup_) return;
    cleaned_path_ = path;
    next_cleanup_ = now + kCleanupEvery;
    if (size_t n = remove_stale_temp_files(path, kLeftoverAge); n > 0)
      log::info("removed temporary files left by an earlier process", {{"path", path}, {"count", std::to_string(n)}});
  }

  bool target(const TaskIdentity& identity, std::string& path, std::string& error) const {
    if (!options_.path.empty()) {
      path = options_.path;
      return true;
    }
    if (!options_.name.empty()) {
      path = options_.directory + "/" + options_.name;
      return true;
    }
    std::string name;
    if (!textfile_name_for_task(identity.task_id, name, error)) return false;
    path = options_.directory + "/" + name;
    return true;
  }

  TextfileOptions options_;
  std::string cleaned_path_;
  SteadyTime next_cleanup_{};
  std::string text_;
  std::string container_extra_;
  std::string exporter_extra_;
};

}  // namespace

std::unique_ptr<Sink> make_textfile_sink(const TextfileOptions& options) {
  return std::make_unique<TextfileSink>(options);
}

}  // namespace emp
