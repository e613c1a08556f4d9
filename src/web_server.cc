#include "web_server.h"

#include <arpa/inet.h>
#if EMP_WEB_TLS
#include <gnutls/gnutls.h>
#endif
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string_view>

#include <fmt/format.h>

#include "log.h"
#include "web_config.h"

namespace emp {

bool web_server_available() { return true; }
bool web_tls_available() { return EMP_WEB_TLS != 0; }

std::string web_server_version() {
#if EMP_WEB_TLS
  return fmt::format("libmicrohttpd {} (HTTP and HTTPS, GnuTLS {})", MHD_get_version(), gnutls_check_version(nullptr));
#else
  return fmt::format("libmicrohttpd {} (HTTP only)", MHD_get_version());
#endif
}

bool web_config_uses_tls(const std::string& path) {
  WebConfig config;
  std::string error;
  return load_web_config(path, config, error) && config.tls();
}

namespace {

constexpr const char* kTextType = "text/plain; version=0.0.4; charset=utf-8";

// Whether an Accept-Encoding value accepts gzip: a "gzip" (or "*") token
// whose q is not 0.
bool accepts_gzip(const char* header) {
  if (!header) return false;
  std::string_view v = header;
  while (!v.empty()) {
    const size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    const size_t semi = item.find(';');
    std::string_view token = item.substr(0, semi);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (token.size() != 4 || strncasecmp(token.data(), "gzip", 4) != 0) continue;
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      const size_t q = params.find("q=");
      if (q != std::string_view::npos) {
        std::string_view n = params.substr(q + 2);
        // q=0, q=0.0, q=0.000: refused
        bool zero = !n.empty() && n.front() == '0';
        for (size_t i = 1; zero && i < n.size() && n[i] != ' ' && n[i] != ';'; ++i)
          if (n[i] != '.' && n[i] != '0') zero = false;
        if (zero) return false;
      }
    }
    return true;
  }
  return false;
}

class MhdServer final : public WebServer {
 public:
  MhdServer(const WebOptions& options, std::shared_ptr<const ScrapeState> state)
      : options_(options), state_(std::move(state)) {}
  ~MhdServer() override {
    if (daemon_) MHD_stop_daemon(daemon_);
  }

  bool start(const WebLimits& limits, std::string& error) {
    if (!options_.config_file.empty() && !load_web_config(options_.config_file, config_, error)) {
      error = fmt::format("--web.config.file: {}: {}", options_.config_file, error);
      return false;
    }
    if (config_.tls() && !web_tls_available()) {
      error = fmt::format(
          "--web.config.file: {}: tls_server_config needs TLS, which this build lacks (the lean static image serves "
          "plain HTTP; use the Debian build, or terminate TLS in front of it)",
          options_.config_file);
      return false;
    }
    std::string host;
    unsigned port = 0;
    if (!parse_listen_address(options_.listen_address, host, port, error)) return false;
    if (host.empty()) {
      // ":port": every address. One IPv6 socket that also takes IPv4
      // (dual stack); a kernel without IPv6 gets the IPv4 wildcard.
      if (listen(limits, "::", port, MHD_USE_DUAL_STACK, error)) return true;
      error.clear();
      last_error_.clear();
      return listen(limits, "", port, 0, error);
    }
    return listen(limits, host, port, 0, error);
  }

  unsigned port() const override { return port_; }

 private:
  // Binds host:port ("" = IPv4 wildcard) and starts the polling thread.
  bool listen(const WebLimits& limits, const std::string& host, unsigned port, unsigned extra_flags,
              std::string& error) {
    sockaddr_storage addr{};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG | extra_flags;
    if (host.find(':') != std::string::npos) {
      auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(static_cast<uint16_t>(port));
      if (inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) != 1) {
        error = fmt::format("--web.listen-address: '{}' is not an IP address", host);
        return false;
      }
      flags |= MHD_USE_IPv6;
    } else {
      auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
      a4->sin_family = AF_INET;
      a4->sin_port = htons(static_cast<uint16_t>(port));
      if (host.empty()) {
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
      } else if (host == "localhost") {
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      } else if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) {
        error = fmt::format("--web.listen-address: '{}' is not an IP address (or localhost)", host);
        return false;
      }
    }
    MHD_OptionItem ops[16];
    size_t n = 0;
    ops[n++] = {MHD_OPTION_SOCK_ADDR, 0, &addr};
    ops[n++] = {MHD_OPTION_CONNECTION_LIMIT, limits.connections, nullptr};
    ops[n++] = {MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.connections_per_ip, nullptr};
    ops[n++] = {MHD_OPTION_CONNECTION_TIMEOUT, limits.idle_timeout_s, nullptr};
    ops[n++] = {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(limits.memory_per_connection), nullptr};
    ops[n++] = {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&MhdServer::mhd_log), this};
    if (config_.tls()) {
      flags |= MHD_USE_TLS;
      ops[n++] = {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(config_.cert_pem.c_str())};
      ops[n++] = {MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(config_.key_pem.c_str())};
      if (!config_.client_ca_pem.empty())
        ops[n++] = {MHD_OPTION_HTTPS_MEM_TRUST, 0, const_cast<char*>(config_.client_ca_pem.c_str())};
    }
    ops[n++] = {MHD_OPTION_END, 0, nullptr};
    daemon_ =
        MHD_start_daemon(flags, 0, nullptr, nullptr, &MhdServer::handle, this, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
    if (!daemon_) {
      error = fmt::format("--web.listen-address: cannot serve on '{}'{}", options_.listen_address,
                          last_error_.empty() ? " (address in use, or a TLS file unusable?)" : ": " + last_error_);
      return false;
    }
    const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    port_ = info ? info->port : port;
    return true;
  }

  static void mhd_log(void* cls, const char* fmt, va_list ap) {
    char line[512];
    std::vsnprintf(line, sizeof line, fmt, ap);
    std::string_view text = line;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    auto* self = static_cast<MhdServer*>(cls);
    if (!self->daemon_) self->last_error_ = text;  // start-up: becomes the error
    // Per-connection trouble (a client that went away, a bad request) is the
    // client's business: debug only, so a hostile client cannot flood the log.
    log::write(LogLevel::Debug, "web server", {{"detail", text}});
  }

  static MHD_Result handle(void* cls, MHD_Connection* c, const char* url, const char* method, const char*, const char*,
                           size_t* upload_size, void** con_cls) {
    auto* self = static_cast<MhdServer*>(cls);
    // The first call only sees the headers; answering then makes MHD close
    // the connection, so wait for the second (the request is complete) and
    // keep Prometheus's connection alive. A GET with a body: the body is
    // dropped within the per-connection memory limit.
    // A request with a body (never wanted) is answered at once, unread:
    // MHD then closes the connection.
    static int seen;
    const std::string_view m = method;
    if (*con_cls == nullptr && (m == "GET" || m == "HEAD") && !has_body(c)) {
      *con_cls = &seen;
      return MHD_YES;
    }
    (void)upload_size;
    return self->respond(c, url, method);
  }

  static bool has_body(MHD_Connection* c) {
    const char* length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return (length && std::string_view(length) != "0") ||
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != nullptr;
  }

  static MHD_Result send_text(MHD_Connection* c, unsigned status, std::string_view text,
                              const char* type = "text/plain; charset=utf-8") {
    MHD_Response* r =
        MHD_create_response_from_buffer(text.size(), const_cast<char*>(text.data()), MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    const MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
  }

  // Serves a part of the snapshot without copying it: the response holds a
  // reference until MHD has sent it.
  static MHD_Result send_snapshot(MHD_Connection* c, std::shared_ptr<const ScrapeSnapshot> snap,
                                  const std::string& body, const char* type, bool gzipped) {
    auto* hold = new std::shared_ptr<const ScrapeSnapshot>(std::move(snap));
    MHD_Response* r = MHD_create_response_from_buffer_with_free_callback_cls(
        body.size(), const_cast<char*>(body.data()),
        [](void* p) { delete static_cast<std::shared_ptr<const ScrapeSnapshot>*>(p); }, hold);
    if (!r) {
      delete hold;
      return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (gzipped) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    const MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
  }

  bool client_cert_ok(MHD_Connection* c) const {
    if (config_.client_auth == ClientAuth::None) return true;
#if EMP_WEB_TLS
    const MHD_ConnectionInfo* ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session) return false;
    auto session = static_cast<gnutls_session_t>(ci->tls_session);
    unsigned count = 0;
    if (!gnutls_certificate_get_peers(session, &count) || count == 0)
      return config_.client_auth == ClientAuth::VerifyIfGiven;
    unsigned status = 0;
    return gnutls_certificate_verify_peers2(session, &status) == GNUTLS_E_SUCCESS && status == 0;
#else
    (void)c;
    return false;  // never reached: start() refuses TLS in this build
#endif
  }

  bool password_ok(MHD_Connection* c) {
    if (config_.users.empty()) return true;
    char* password = nullptr;
    char* user = MHD_basic_auth_get_username_password(c, &password);
    bool ok = false;
    if (user && password) {
      std::string u = user, p = password;
      if (auto it = config_.users.find(u); it != config_.users.end()) {
        // bcrypt at cost 10 takes tens of ms: remember the last password that
        // matched per user, so a scrape every few seconds pays it once.
        {
          std::lock_guard<std::mutex> lock(cache_mutex_);
          auto hit = verified_.find(u);
          ok = hit != verified_.end() && hit->second == p;
        }
        if (!ok && bcrypt_matches(p, it->second)) {
          ok = true;
          std::lock_guard<std::mutex> lock(cache_mutex_);
          verified_[u] = p;
        }
      }
    }
    if (user) MHD_free(user);
    if (password) MHD_free(password);
    return ok;
  }

  MHD_Result respond(MHD_Connection* c, std::string_view url, std::string_view method) {
    if (method != "GET" && method != "HEAD") {
      MHD_Response* r = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
      MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
      const MHD_Result ok = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
      MHD_destroy_response(r);
      return ok;
    }
    // The health checks carry nothing worth protecting and are probed by the
    // binary itself (healthcheck), which holds no password nor client
    // certificate; they are still served over TLS when TLS is on.
    if (url == "/-/healthy") return send_text(c, MHD_HTTP_OK, "Healthy\n");
    if (url == "/-/ready")
      return state_->ready()
                 ? send_text(c, MHD_HTTP_OK, "Ready\n")
                 : send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "Not ready: no successful metadata read yet\n");
    // The handshake asked for a certificate; a missing or unverified one is
    // refused here (exporter-toolkit refuses it in the handshake).
    if (config_.tls() && !client_cert_ok(c)) return send_text(c, MHD_HTTP_FORBIDDEN, "client certificate required\n");
    if (!password_ok(c)) {
      MHD_Response* r =
          MHD_create_response_from_buffer(13, const_cast<char*>("Unauthorized\n"), MHD_RESPMEM_PERSISTENT);
      const MHD_Result ok = MHD_queue_basic_auth_fail_response(c, "ecs-metrics-pusher", r);
      MHD_destroy_response(r);
      return ok;
    }
    const bool metrics = url == options_.telemetry_path;
    const bool passthrough = options_.metadata_passthrough && (url == "/task" || url == "/stats");
    if (!metrics && !passthrough) return send_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n");
    auto snap = state_->current();
    if (!snap) return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no cycle has run yet\n");
    if (passthrough) {
      const std::string& body = url == "/task" ? snap->task_body : snap->stats_body;
      if (body.empty()) return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no successful metadata read yet\n");
      return send_snapshot(c, snap, body, "application/json", false);
    }
    const bool gzip =
        !snap->gzipped.empty() && accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
    const std::string& body = gzip ? snap->gzipped : snap->text;
    return send_snapshot(c, snap, body, kTextType, gzip);
  }

  WebOptions options_;
  std::shared_ptr<const ScrapeState> state_;
  WebConfig config_;
  MHD_Daemon* daemon_ = nullptr;
  unsigned port_ = 0;
  std::string last_error_;
  std::mutex cache_mutex_;
  std::map<std::string, std::string, std::less<>> verified_;
};

}  // namespace

std::unique_ptr<WebServer> start_web_server(const WebOptions& options, std::shared_ptr<const ScrapeState> state,
                                            std::string& error, const WebLimits& limits) {
  auto server = std::make_unique<MhdServer>(options, std::move(state));
  if (!server->start(limits, error)) return nullptr;
  return server;
}

}  // namespace emp
