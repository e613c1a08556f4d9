// gzip: one reusable zlib deflate stream with the gzip wrapper, shared by the
// Pushgateway sink (compressed pushes) and the scrape endpoint (compressed
// answers when the scraper sends Accept-Encoding: gzip).
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>

namespace emp {

// Level 1: half the CPU of the default level for about 12% more bytes
// (bench/README.md).
class Gzip {
 public:
  Gzip() = default;
  Gzip(const Gzip&) = delete;
  Gzip& operator=(const Gzip&) = delete;
  ~Gzip();
  // False when zlib cannot set up the stream (out of memory).
  bool init();
  // Replaces `out` with the gzip member for `in`; false with `error`.
  bool compress(std::string_view in, std::string& out, std::string& error);

 private:
  z_stream zs_{};
  bool ready_ = false;
};

}  // namespace emp
