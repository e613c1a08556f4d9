// Built instead of web_server.cc when meson has -Dweb=disabled (the static
// default image goes without libmicrohttpd): the flag is refused with a clear cause.
#include "web_server.h"

namespace emp {

bool web_server_available() { return false; }
bool web_tls_available() { return false; }
std::string web_server_version() { return "not built (-Dweb=disabled)"; }
bool web_config_uses_tls(const std::string&) { return false; }

std::unique_ptr<WebServer> start_web_server(const WebOptions&, std::shared_ptr<const ScrapeState>, std::string& error,
                                            const WebLimits&) {
  error =
      "--web.listen-address: this build has no scrape endpoint (built with -Dweb=disabled, like the default image); "
      "use the image's -exporter tag";
  return nullptr;
}

}  // namespace emp
