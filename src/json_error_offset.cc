#include "json_error_offset.h"

#include <cctype>
#include <string>

namespace emp {

size_t locate_json_error(std::string_view t) {
  size_t i = 0;
  const size_t n = t.size();
  std::string stack;  // open containers: '{' or '['
  auto ws = [&] {
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  };
  auto string_ = [&]() -> bool {  // at '"'
    ++i;
    while (i < n) {
      unsigned char c = static_cast<unsigned char>(t[i]);
      if (c == '"') {
        ++i;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++i >= n) return false;
        char e = t[i];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            if (++i >= n || !isxdigit(static_cast<unsigned char>(t[i]))) return false;
          }
        } else if (!(e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't')) {
          return false;
        }
      }
      ++i;
    }
    return false;
  };
  auto scalar = [&]() -> bool {
    if (i >= n) return false;
    char c = t[i];
    if (c == '"') return string_();
    for (std::string_view lit : {"true", "false", "null"}) {
      if (t.substr(i, lit.size()) == lit) {
        i += lit.size();
        return true;
      }
    }
    size_t start = i;
    if (c == '-') ++i;
    if (i < n && t[i] == '0')
      ++i;
    else if (i < n && t[i] >= '1' && t[i] <= '9')
      while (i < n && isdigit(static_cast<unsigned char>(t[i]))) ++i;
    else {
      i = start;
      return false;
    }
    if (i < n && t[i] == '.') {
      ++i;
      if (i >= n || !isdigit(static_cast<unsigned char>(t[i]))) return false;
      while (i < n && isdigit(static_cast<unsigned char>(t[i]))) ++i;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
      ++i;
      if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
      if (i >= n || !isdigit(static_cast<unsigned char>(t[i]))) return false;
      while (i < n && isdigit(static_cast<unsigned char>(t[i]))) ++i;
    }
    return true;
  };

  ws();
  for (;;) {
    // expecting a value
    ws();
    if (i >= n) return n;
    if (t[i] == '{' || t[i] == '[') {
      stack.push_back(t[i]);
      ++i;
      ws();
      if (i < n && ((stack.back() == '{' && t[i] == '}') || (stack.back() == '[' && t[i] == ']'))) {
        ++i;
        stack.pop_back();
      } else if (stack.back() == '{') {
        if (i >= n) return n;
        if (t[i] != '"' || !string_()) return i < n ? i : n;
        ws();
        if (i >= n) return n;
        if (t[i] != ':') return i;
        ++i;
        continue;
      } else {
        continue;
      }
    } else if (!scalar()) {
      return i < n ? i : n;
    }
    // after a value: close containers or expect a separator
    for (;;) {
      ws();
      if (stack.empty()) {
        if (i == n) return std::string_view::npos;
        return i;
      }
      if (i >= n) return n;
      char close = stack.back() == '{' ? '}' : ']';
      if (t[i] == close) {
        ++i;
        stack.pop_back();
        continue;
      }
      if (t[i] != ',') return i;
      ++i;
      if (stack.back() == '{') {
        ws();
        if (i >= n) return n;
        if (t[i] != '"' || !string_()) return i < n ? i : n;
        ws();
        if (i >= n) return n;
        if (t[i] != ':') return i;
        ++i;
      }
      break;
    }
  }
}

}  // namespace emp
