#include "healthcheck.h"

#include <curl/curl.h>

#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "http_client.h"
#include "options.h"
#include "web_server.h"

namespace emp {

namespace {

constexpr const char* kUsage =
    "Usage: ecs-metrics-pusher healthcheck [flags]\n\n"
    "Probes this container's scrape endpoint and exits 0 when it answers 200, else 1\n"
    "(an ECS container healthCheck: [\"CMD\", \"/ecs-metrics-pusher\", \"healthcheck\"]).\n"
    "The address comes from $ECS_METRICS_PUSHER_WEB_LISTEN_ADDRESS, else from\n"
    "$ECS_METRICS_EXPORTER_PORT (default :9546), TLS from $ECS_METRICS_PUSHER_WEB_CONFIG_FILE\n"
    "(the certificate is not verified: it is our own process on the loopback).\n\n"
    "  --healthcheck.url=URL       probe this URL instead\n"
    "  --healthcheck.path=PATH     path to probe (default /-/healthy; /-/ready waits for a good cycle)\n"
    "  --healthcheck.timeout=DUR   give up after this long (default 3s)\n";

}  // namespace

std::string healthcheck_url(const HealthcheckOptions& o) {
  if (!o.url.empty()) return o.url;
  std::string host, error;
  unsigned port = 9546;
  if (!parse_listen_address(o.listen_address, host, port, error)) host.clear();
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return fmt::format("{}://{}:{}{}", o.tls ? "https" : "http", host, port, o.path);
}

int healthcheck_main(int argc, char** argv, char** envp) {
  HealthcheckOptions o;
  if (std::string a = env_value(envp, "ECS_METRICS_PUSHER_WEB_LISTEN_ADDRESS"); !a.empty())
    o.listen_address = a;
  else if (std::string p = env_value(envp, "ECS_METRICS_EXPORTER_PORT"); !p.empty())
    o.listen_address = ":" + p;  // the original exporter's variable (the -exporter image)
  if (std::string c = env_value(envp, "ECS_METRICS_PUSHER_WEB_CONFIG_FILE"); !c.empty()) o.tls = web_config_uses_tls(c);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string_view> {
      if (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=')
        return arg.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", kUsage);
      return 0;
    }
    if (auto v = value("--healthcheck.url")) {
      o.url = *v;
    } else if (auto p = value("--healthcheck.path")) {
      o.path = *p;
    } else if (auto t = value("--healthcheck.timeout")) {
      auto d = parse_duration(*t);
      if (!d || d->count() <= 0) {
        fmt::print(stderr, "ecs-metrics-pusher healthcheck: --healthcheck.timeout: '{}' is not a duration\n", *t);
        return 2;
      }
      o.timeout = *d;
    } else {
      fmt::print(stderr, "ecs-metrics-pusher healthcheck: {}: unknown flag (see --help)\n", arg);
      return 2;
    }
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  HttpClientOptions http = HttpClientOptions::for_flags("healthcheck");
  http.timeout = o.timeout;
  http.connect_timeout = o.timeout;
  http.insecure_skip_verify = true;  // our own process on the loopback, often a self-signed certificate
  http.use_proxy = false;
  std::string error;
  auto client = HttpClient::create(http, error);
  if (!client) {
    fmt::print(stderr, "ecs-metrics-pusher healthcheck: {}\n", error);
    return 1;
  }
  const std::string url = healthcheck_url(o);
  CurlHeaders headers = client->headers_with({});
  HttpRequest request{"GET", &url, {}, headers.get()};
  HttpResponse response;
  client->perform(request, std::chrono::steady_clock::now() + o.timeout, response);
  if (response.code == CURLE_OK && response.status == 200) return 0;
  fmt::print(stderr, "ecs-metrics-pusher healthcheck: {}\n", client->describe_failure(request, response));
  return 1;
}

}  // namespace emp
