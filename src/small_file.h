// small_file: reading a small file whole (a secret, a token, a web config),
// with POSIX calls rather than std::ifstream: the iostreams and their locale
// machinery would add ~0.3 MB to the static binary and to its resident pages
// for three reads at start-up (docs/performance.md).
#pragma once

#include <cstddef>
#include <string>

namespace emp {

// Reads the regular file at `path` into `out`. False with `error` ("cannot
// read 'PATH': …", "'PATH' is not a regular file", "'PATH' is larger than
// MAX bytes"). A FIFO or device is refused rather than waited on.
bool read_small_file(const std::string& path, size_t max_bytes, std::string& out, std::string& error);

}  // namespace emp
