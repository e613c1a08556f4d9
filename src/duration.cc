#include "duration.h"

#include <cstdint>

namespace emp {

// Prometheus's model.ParseDuration grammar: units in decreasing order, each at
// most once: y w d h m s ms.
std::optional<Duration> parse_duration(std::string_view s) {
  if (s == "0") return Duration{0};
  if (s.empty()) return std::nullopt;
  struct Unit {
    std::string_view name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 86400000},
                                    {"w", 7LL * 86400000},
                                    {"d", 86400000},
                                    {"h", 3600000},
                                    {"m", 60000},
                                    {"s", 1000},
                                    {"ms", 1}};
  int64_t total = 0;
  size_t next_unit = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    int64_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      n = n * 10 + (s[i] - '0');
      if (n > 1'000'000'000'000LL) return std::nullopt;
      ++i;
    }
    size_t start = i;
    while (i < s.size() && !(s[i] >= '0' && s[i] <= '9')) ++i;
    std::string_view unit = s.substr(start, i - start);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].name != unit) ++u;
    if (u == std::size(kUnits)) return std::nullopt;
    // Checked before multiplying: "999991999y" would overflow int64 (found by fuzz_duration).
    constexpr int64_t kLimit = 100LL * 365 * 86400000;
    if (n > (kLimit - total) / kUnits[u].ms) return std::nullopt;
    total += n * kUnits[u].ms;
    next_unit = u + 1;
  }
  return Duration{total};
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  struct Unit {
    const char* name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
  for (const auto& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.name;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace emp
