// RFC 3339 timestamps as the ECS agent writes them (Go's time.RFC3339Nano):
// "2025-02-27T05:06:03.714437592Z", or with a numeric offset.
#pragma once

#include <optional>
#include <string_view>

namespace emp {

// Unix seconds (fractional), or nullopt when `text` is not an RFC 3339 time.
// Go's zero time ("0001-01-01T00:00:00Z"), which the agent writes for "never",
// is also nullopt: it is an absent value, not a date in year 1.
std::optional<double> parse_rfc3339(std::string_view text);

}  // namespace emp
