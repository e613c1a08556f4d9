#include "protobuf_writer.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

namespace pb = emp::pb;

namespace {
std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}
}  // namespace

// Expected bytes from the protobuf encoding guide's own examples.
TEST_CASE("protobuf: varints") {
  std::string out;
  pb::put_varint(out, 1);
  CHECK(hex(out) == "01");
  out.clear();
  pb::put_varint(out, 150);  // the guide's example: 96 01
  CHECK(hex(out) == "9601");
  out.clear();
  pb::put_varint(out, 300);
  CHECK(hex(out) == "ac02");
  out.clear();
  pb::put_varint(out, UINT64_MAX);  // ten bytes
  CHECK(hex(out) == "ffffffffffffffffff01");
}

TEST_CASE("protobuf: fields") {
  std::string out;
  pb::put_int64(out, 2, 1796280360602);  // Sample.timestamp, field 2 varint: tag 0x10
  CHECK(hex(out).starts_with("10"));
  out.clear();
  pb::put_int64(out, 1, -1);  // negative: ten bytes of varint after the tag
  CHECK(out.size() == 11);
  out.clear();
  pb::put_bytes(out, 2, "testing");  // the guide's string example: 12 07 74 65 73 74 69 6e 67
  CHECK(hex(out) == "120774657374696e67");
  out.clear();
  pb::put_double(out, 1, 0.25);  // tag 09, then 0x3fd0000000000000 little-endian
  CHECK(hex(out) == "09000000000000d03f");
  out.clear();
  pb::put_double(out, 1, std::nan(""));
  CHECK(out.size() == 9);
}
