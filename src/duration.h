// Durations written as Prometheus writes them: "250ms", "15s", "1m30s", "1h".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace emp {

using Duration = std::chrono::milliseconds;
// The clock every deadline and wait in the program is measured on.
using SteadyTime = std::chrono::steady_clock::time_point;

// nullopt for anything else, including negative values and a bare number
// (except "0", which Prometheus also accepts).
std::optional<Duration> parse_duration(std::string_view text);
std::string format_duration(Duration d);

}  // namespace emp
