#include "protobuf_writer.h"

#include <bit>
#include <cstring>

namespace emp::pb {

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_tag(out, field, LengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

void put_double(std::string& out, uint32_t field, double value) {
  put_tag(out, field, Fixed64);
  uint64_t bits = std::bit_cast<uint64_t>(value);
  char le[8];
  for (char& b : le) {  // little-endian whatever the host
    b = static_cast<char>(bits & 0xff);
    bits >>= 8;
  }
  out.append(le, sizeof le);
}

}  // namespace emp::pb
