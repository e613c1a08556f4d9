#include "gzip.h"

#include <fmt/format.h>

namespace emp {

Gzip::~Gzip() {
  if (ready_) deflateEnd(&zs_);
}

// memLevel 4: a 4 KiB hash table instead of 64 KiB, which deflateReset
// clears before every push (that memset was 8% of a cycle's instructions);
// for a 10–15 KB exposition it costs a few per cent of compression.
bool Gzip::init() {
  if (ready_) return true;
  ready_ = deflateInit2(&zs_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16 /* gzip wrapper */, 4, Z_DEFAULT_STRATEGY) == Z_OK;
  return ready_;
}

bool Gzip::compress(std::string_view in, std::string& out, std::string& error) {
  if (!ready_ && !init()) {
    error = "zlib could not be initialised";
    return false;
  }
  deflateReset(&zs_);
  out.resize(deflateBound(&zs_, static_cast<uLong>(in.size())));
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs_.avail_in = static_cast<uInt>(in.size());
  zs_.next_out = reinterpret_cast<Bytef*>(out.data());
  zs_.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) {
    error = fmt::format("gzip of the {} byte body failed: {}", in.size(), zs_.msg ? zs_.msg : "deflate error");
    return false;
  }
  out.resize(zs_.total_out);
  return true;
}

}  // namespace emp
