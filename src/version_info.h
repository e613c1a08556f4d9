// version: what --version prints, in the style of the Prometheus tools.
#pragma once

#include <string>

namespace emp {

// "ecs-metrics-pusher, version 0.2.0 (revision: …)" and the build's date,
// compiler and libraries (libcurl with its TLS library, simdjson, fmt, zlib).
std::string version_text();

}  // namespace emp
