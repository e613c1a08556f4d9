// The listen address syntax, shared by the server and its stub (web_disabled.cc)
// so that a build without the server still validates the flag the same way.
#include <charconv>

#include <fmt/format.h>

#include "grouping_key.h"
#include "web_server.h"

namespace emp {

bool parse_listen_address(const std::string& address, std::string& host, unsigned& port, std::string& error) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    error = fmt::format("--web.listen-address: '{}' has no :port (e.g. :9546)", printable(address, 60));
    return false;
  }
  host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view p = std::string_view(address).substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value > 65535) {
    error = fmt::format("--web.listen-address: '{}' is not a port from 0 to 65535", printable(p, 60));
    return false;
  }
  port = value;
  return true;
}

}  // namespace emp
