// protobuf_writer: the protobuf wire-format primitives the remote-write
// request needs (varint, fixed64, length-delimited fields). Written by hand:
// the request is four tiny messages written once per cycle, never read, and
// Debian's protobuf-lite would add a code generator to the build and ~1 MB
// to the static binary (docs/remote-write.md has the figures).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace emp::pb {

enum WireType : uint8_t { Varint = 0, Fixed64 = 1, LengthDelimited = 2 };

void put_varint(std::string& out, uint64_t value);
inline void put_tag(std::string& out, uint32_t field, WireType type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | type);
}
// A string, bytes or embedded message field.
void put_bytes(std::string& out, uint32_t field, std::string_view bytes);
// A double field (fixed64, little-endian IEEE 754).
void put_double(std::string& out, uint32_t field, double value);
// An int64 or enum field (varint; a negative value takes ten bytes).
inline void put_int64(std::string& out, uint32_t field, int64_t value) {
  put_tag(out, field, Varint);
  put_varint(out, static_cast<uint64_t>(value));
}

}  // namespace emp::pb
