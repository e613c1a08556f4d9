#include "small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace emp {

bool read_small_file(const std::string& path, size_t max_bytes, std::string& out, std::string& error) {
  // O_NONBLOCK: opening a FIFO without a writer must not block; it is then
  // refused as not regular.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    error = fmt::format("cannot read '{}': {}", path, std::strerror(errno));
    return false;
  }
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (!ok) error = fmt::format("'{}' is not a regular file", path);
  out.clear();
  char buf[4096];
  while (ok) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = fmt::format("cannot read '{}': {}", path, std::strerror(errno));
      ok = false;
    } else if (n == 0) {
      break;
    } else if (out.size() + static_cast<size_t>(n) > max_bytes) {
      error = fmt::format("'{}' is larger than {} bytes", path, max_bytes);
      ok = false;
    } else {
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace emp
