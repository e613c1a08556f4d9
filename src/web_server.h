// web_server: the scrape endpoint over HTTP(S), on libmicrohttpd (Debian's
// libmicrohttpd12: a small, long-maintained C server with TLS through GnuTLS
// and the limits we need built in; the lean static build has it without TLS,
// see web_tls_available()). One internal polling thread serves
// every connection; it only copies the latest snapshot (scrape_sink.h), so a
// slow or hostile client costs a connection slot, never the loop's time.
//
//   <telemetry path>  the ee_* exposition (gzip when asked for)
//   /-/healthy        200 while the process serves
//   /-/ready          200 after the first cycle whose metadata read succeeded, else 503
//   /task, /stats     the last raw metadata bodies, only with --web.enable-metadata-passthrough
#pragma once

#include <memory>
#include <string>

#include "scrape_sink.h"

namespace emp {

struct WebOptions {
  std::string listen_address;  // empty: no endpoint; ":9546" is the original exporter's port
  std::string telemetry_path = "/metrics";
  std::string config_file;  // exporter-toolkit web config (web_config.h)
  bool metadata_passthrough = false;

  bool enabled() const { return !listen_address.empty(); }
};

// The limits that keep hostile clients bounded (docs/scrape-endpoint.md).
struct WebLimits {
  unsigned connections = 64;                 // in total; more are refused at accept
  unsigned connections_per_ip = 16;          // one address cannot take them all
  unsigned idle_timeout_s = 10;              // a connection silent this long is closed (slowloris)
  size_t memory_per_connection = 32u << 10;  // request line + headers; larger: 431
};

// "host:port", ":port" (every address, IPv6 and IPv4) or "[v6]:port". False with `error`.
bool parse_listen_address(const std::string& address, std::string& host, unsigned& port, std::string& error);

class WebServer {
 public:
  virtual ~WebServer() = default;
  // The port actually bound (useful with port 0).
  virtual unsigned port() const = 0;
};

// Starts serving at once (its own thread). nullptr with `error` when the
// address cannot be bound or the web config cannot be used. Stops when destroyed.
std::unique_ptr<WebServer> start_web_server(const WebOptions& options, std::shared_ptr<const ScrapeState> state,
                                            std::string& error, const WebLimits& limits = {});

// Whether the web config at `path` turns TLS on (for the health check;
// false when it cannot be read).
bool web_config_uses_tls(const std::string& path);

// Whether the endpoint can be built in (meson -Dweb); without it,
// --web.listen-address is a configuration error.
bool web_server_available();

// Whether the endpoint can serve TLS (meson -Dweb_tls: GnuTLS). The lean
// static build cannot: a web config with tls_server_config is refused at start.
bool web_tls_available();

// For --version: the server library and whether it has TLS.
std::string web_server_version();

}  // namespace emp
