// A strict checker for the Prometheus text exposition format 0.0.4 as this
// program writes it. The fuzzers feed every rendered output through it, and
// the unit tests run it over every fixture's output, so "promtool would accept
// it" is checked on millions of inputs without starting promtool each time.
//
// Stricter than Prometheus where our output promises more: a final newline, no
// blank lines, no timestamps, HELP and TYPE once per family and before its
// samples, each family's lines contiguous, no duplicate series, label values
// valid UTF-8 with only the three escapes (\\, \", \n), values spelled as
// Prometheus spells them (NaN, +Inf, -Inf or a decimal float).
// Header-only on purpose: it is shared by fuzz/ and tests/ without a library.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace emp::exposition {

struct Label {
  std::string name;
  std::string value;  // unescaped
};

struct Sample {
  std::string name;
  std::vector<Label> labels;
  std::string value_text;
};

// Well-formed UTF-8 (Unicode Table 3-7: no overlongs, no surrogates, <= U+10FFFF).
// Written independently of src/grouping_key.cc so the fuzzer can compare the two.
inline bool utf8_ok(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < n) {
    const unsigned char c = at(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
      len = 2;
    else if (c == 0xE0)
      len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC)
      len = 3;
    else if (c == 0xED)
      len = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF)
      len = 3;
    else if (c == 0xF0)
      len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
      len = 4;
    else if (c == 0xF4)
      len = 4, hi = 0x8F;
    else
      return false;
    if (i + len > n) return false;
    if (at(i + 1) < lo || at(i + 1) > hi) return false;
    for (size_t k = 2; k < len; ++k)
      if (at(i + k) < 0x80 || at(i + k) > 0xBF) return false;
    i += len;
  }
  return true;
}

inline bool is_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

inline bool is_label_name(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// NaN, +Inf, -Inf, or [-]digits[.digits][e[+-]digits] (what fmt and our
// integer path write; Go's ParseFloat accepts all of these).
inline bool is_value(std::string_view v) {
  if (v == "NaN" || v == "+Inf" || v == "-Inf") return true;
  size_t i = 0;
  if (i < v.size() && v[i] == '-') ++i;
  size_t digits = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i, ++digits;
  if (i < v.size() && v[i] == '.') {
    ++i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    size_t exp = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == v.size();
}

// Parses one sample line; false with `why` on any deviation.
inline bool parse_sample(std::string_view line, Sample& out, std::string& why) {
  out = Sample();
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  out.name.assign(line.substr(0, i));
  if (!is_metric_name(out.name)) return why = "bad metric name", false;
  if (i < line.size() && line[i] == '{') {
    ++i;
    std::set<std::string, std::less<>> seen;
    for (;;) {
      size_t start = i;
      while (i < line.size() && line[i] != '=') ++i;
      Label l;
      l.name.assign(line.substr(start, i - start));
      if (!is_label_name(l.name)) return why = "bad label name '" + l.name + "'", false;
      if (!seen.insert(l.name).second) return why = "duplicate label " + l.name, false;
      if (i + 1 >= line.size() || line[i + 1] != '"') return why = "label value not quoted", false;
      i += 2;
      for (;;) {
        if (i >= line.size()) return why = "unterminated label value", false;
        const char c = line[i];
        if (c == '"') break;
        if (c == '\\') {
          if (i + 1 >= line.size()) return why = "dangling backslash", false;
          const char e = line[i + 1];
          if (e == '\\')
            l.value += '\\';
          else if (e == '"')
            l.value += '"';
          else if (e == 'n')
            l.value += '\n';
          else
            return why = "bad escape in label value", false;
          i += 2;
          continue;
        }
        l.value += c;
        ++i;
      }
      ++i;  // closing quote
      if (!utf8_ok(l.value)) return why = "label value " + l.name + " is not UTF-8", false;
      out.labels.push_back(std::move(l));
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      return why = "expected , or } after a label", false;
    }
  }
  if (i >= line.size() || line[i] != ' ') return why = "no space before the value", false;
  ++i;
  out.value_text.assign(line.substr(i));
  if (out.value_text.find(' ') != std::string::npos) return why = "timestamp or trailing text", false;
  if (!is_value(out.value_text)) return why = "bad value '" + out.value_text + "'", false;
  return true;
}

struct Result {
  bool ok = true;
  size_t line = 0;  // 1-based line of the first problem
  std::string why;
  size_t families = 0;
  size_t samples = 0;
};

// Checks a whole exposition. `on_sample`, when given, sees every parsed sample.
template <typename OnSample = std::nullptr_t>
Result check(std::string_view text, OnSample on_sample = nullptr) {
  Result r;
  auto bad = [&](size_t line, std::string why) {
    r.ok = false;
    r.line = line;
    r.why = std::move(why);
    return r;
  };
  if (text.empty()) return r;
  if (text.back() != '\n') return bad(0, "no final newline");
  std::set<std::string, std::less<>> done_families, series, helped;
  std::string family, family_type;
  size_t lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (line.empty()) return bad(lineno, "blank line");
    auto enter_family = [&](std::string_view name) -> bool {
      if (name == family) return true;
      if (done_families.count(name)) return false;  // family split in two places
      if (!family.empty()) done_families.insert(family);
      family.assign(name);
      family_type.clear();
      ++r.families;
      return true;
    };
    if (line.substr(0, 7) == "# HELP ") {
      const std::string_view rest = line.substr(7);
      const size_t sp = rest.find(' ');
      const std::string_view name = rest.substr(0, sp);
      if (!is_metric_name(name)) return bad(lineno, "bad name in HELP");
      if (!enter_family(name)) return bad(lineno, "family appears twice");
      if (!helped.insert(std::string(name)).second) return bad(lineno, "second HELP");
      if (!family_type.empty()) return bad(lineno, "HELP after TYPE");
      const std::string_view help = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
      for (size_t k = 0; k < help.size(); ++k) {
        if (help[k] != '\\') continue;
        if (k + 1 >= help.size() || (help[k + 1] != '\\' && help[k + 1] != 'n'))
          return bad(lineno, "bad escape in HELP");
        ++k;
      }
      if (!utf8_ok(help)) return bad(lineno, "HELP is not UTF-8");
      continue;
    }
    if (line.substr(0, 7) == "# TYPE ") {
      const std::string_view rest = line.substr(7);
      const size_t sp = rest.find(' ');
      if (sp == std::string_view::npos) return bad(lineno, "TYPE without a type");
      const std::string_view name = rest.substr(0, sp), type = rest.substr(sp + 1);
      if (!is_metric_name(name)) return bad(lineno, "bad name in TYPE");
      if (!enter_family(name)) return bad(lineno, "family appears twice");
      if (!family_type.empty()) return bad(lineno, "second TYPE");
      if (type != "counter" && type != "gauge" && type != "untyped" && type != "summary" && type != "histogram")
        return bad(lineno, "unknown type");
      family_type.assign(type);
      continue;
    }
    if (line[0] == '#') return bad(lineno, "unknown comment line");
    Sample s;
    std::string why;
    if (!parse_sample(line, s, why)) return bad(lineno, why);
    // Our families are counters and gauges: a sample's name is its family's.
    if (s.name != family) {
      if (!enter_family(s.name)) return bad(lineno, "family appears twice");
    } else if (family_type.empty() && helped.count(family)) {
      return bad(lineno, "sample before TYPE");
    }
    std::vector<std::pair<std::string, std::string>> key;
    for (const auto& l : s.labels) key.emplace_back(l.name, l.value);
    std::sort(key.begin(), key.end());
    std::string id = s.name;
    for (const auto& [n, v] : key) {
      id += '\x01';
      id += n;
      id += '\x02';
      id += v;
    }
    if (!series.insert(id).second) return bad(lineno, "duplicate series");
    ++r.samples;
    if constexpr (!std::is_same_v<OnSample, std::nullptr_t>) on_sample(s);
  }
  return r;
}

}  // namespace emp::exposition
