#include "grouping_key.h"

#include <array>
#include <cstdint>

#include <simdjson.h>

#include <fmt/format.h>

namespace emp {

bool valid_utf8(std::string_view s) {
  // simdjson's validator (SIMD, the same RFC 3629 rules: no overlongs, no
  // surrogates, nothing past U+10FFFF) checks a 13 KB exposition in a few
  // thousand instructions instead of ~75k for the loop below, which stays as
  // the reference the unit tests compare it with.
  return simdjson::validate_utf8(s.data(), s.size());
}

bool valid_utf8_reference(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    // Byte ranges of RFC 3629 §4, which exclude overlongs and surrogates.
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < len) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t i = 2; i < len; ++i)
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    p += len;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool needs_base64(std::string_view value) {
  if (value.empty() || value == "." || value == "..") return true;
  for (char c : value) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '~' || c == '-';
    if (!plain) return true;
  }
  return false;
}

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kDecode = make_decode_table();

}  // namespace

void append_base64url(std::string& out, std::string_view in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size();
  for (; n >= 3; n -= 3, p += 3) {
    const uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (n == 1) {
    const uint32_t v = uint32_t{p[0]} << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
  } else if (n == 2) {
    const uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
}

std::string base64url(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  append_base64url(out, in);
  return out;
}

bool decode_base64url(std::string_view in, std::string& out) {
  out.clear();
  // Up to two '=' of padding, and only where they complete a group of four.
  size_t pad = 0;
  while (!in.empty() && in.back() == '=' && pad < 2) {
    in.remove_suffix(1);
    ++pad;
  }
  if (pad > 0 && (in.size() + pad) % 4 != 0) return false;
  if (in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    const int8_t v = kDecode[static_cast<unsigned char>(ch)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // The leftover bits of a partial group must be zero (canonical encoding).
  return (acc & ((1u << bits) - 1)) == 0;
}

void append_path_label(std::string& out, std::string_view name, std::string_view value) {
  out += '/';
  out += name;
  if (!needs_base64(value)) {
    out += '/';
    out += value;
  } else if (value.empty()) {
    out += "@base64/=";  // the Pushgateway's spelling of an empty value
  } else {
    out += "@base64/";
    append_base64url(out, value);
  }
}

std::string printable(std::string_view s, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < s.size() && i < max_bytes) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      // Copy one whole valid character, if it is one and fits.
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (len > 1 && i + len <= s.size() && i + len <= max_bytes && valid_utf8(s.substr(i, len))) {
        out.append(s.substr(i, len));
        i += len;
        continue;
      }
      if (len > 1 && i + len > max_bytes && i + len <= s.size() && valid_utf8(s.substr(i, len))) break;
    }
    out += fmt::format("\\x{:02x}", c);
    ++i;
  }
  if (i < s.size()) out += "…";
  return out;
}

bool build_grouping_path(std::string_view job, const std::vector<GroupingLabel>& labels, std::string& out,
                         std::string& error) {
  if (job.empty()) {
    error = "grouping key: the job must not be empty";
    return false;
  }
  if (!valid_utf8(job)) {
    error = fmt::format("grouping key: the job \"{}\" is not valid UTF-8", printable(job));
    return false;
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    const GroupingLabel& l = labels[i];
    if (!valid_label_name(l.name)) {
      error =
          fmt::format("grouping key: \"{}\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)",
                      printable(l.name));
      return false;
    }
    if (l.name == "job") {
      error = "grouping key: \"job\" can only be set as the job (--pushgateway.job)";
      return false;
    }
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].name == l.name) {
        error = fmt::format("grouping key: label \"{}\" appears twice", l.name);
        return false;
      }
    }
    if (!valid_utf8(l.value)) {
      error = fmt::format(
          "grouping key: the value of \"{}\" is not valid UTF-8 (\"{}\"); refusing to push, since such a group breaks "
          "the Pushgateway for every client",
          l.name, printable(l.value));
      return false;
    }
  }
  out += "/metrics";
  append_path_label(out, "job", job);
  for (const GroupingLabel& l : labels) append_path_label(out, l.name, l.value);
  return true;
}

}  // namespace emp
