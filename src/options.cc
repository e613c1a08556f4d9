#include "options.h"

#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "grouping_key.h"
#include "http_client.h"
#include "small_file.h"
#include "version_info.h"

namespace emp {

std::string env_name_for(std::string_view flag) {
  std::string out = "ECS_METRICS_PUSHER_";
  for (char c : flag)
    out += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

namespace {

// ---- Reading and showing one value, by the type of the setting it lands in ----

// A list value: comma-separated pieces, each trimmed; empty pieces dropped.
std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view piece = v.substr(0, comma);
    while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    while (!piece.empty() && piece.back() == ' ') piece.remove_suffix(1);
    if (!piece.empty()) out.emplace_back(piece);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// Each parse() returns "" or what is wrong (without the flag's name).
std::string parse(std::string& out, std::string_view v) {
  out = v;
  return "";
}
std::string parse(bool& out, std::string_view v) {
  if (v == "" || v == "true" || v == "1" || v == "yes")
    out = true;
  else if (v == "false" || v == "0" || v == "no")
    out = false;
  else
    return fmt::format("'{}' is not a boolean (true or false)", v);
  return "";
}
std::string parse(Duration& out, std::string_view v) {
  auto d = parse_duration(v);
  if (!d) return fmt::format("'{}' is not a duration (e.g. 250ms, 15s, 1m)", v);
  out = *d;
  return "";
}
std::string parse(size_t& out, std::string_view v) {  // byte counts
  std::string s(v);
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || n < 1024 || n > (1ULL << 32))
    return fmt::format("'{}' is not a byte count from 1024 to 4294967296", v);
  out = static_cast<size_t>(n);
  return "";
}
std::string parse(std::optional<bool>& out, std::string_view v) {  // unset: the stage's default
  bool b = false;
  if (std::string e = parse(b, v); !e.empty()) return e;
  out = b;
  return "";
}
std::string parse(std::vector<std::string>& out, std::string_view v) {  // repeatable: appends
  for (auto& s : split_list(v)) out.push_back(std::move(s));
  return "";
}
std::string parse(LogLevel& out, std::string_view v) {
  for (size_t i = 0; i < std::size(kLogLevelNames); ++i) {
    if (v == kLogLevelNames[i]) {
      out = static_cast<LogLevel>(i);
      return "";
    }
  }
  return fmt::format("'{}' is not one of debug, info, warn, error", v);
}
std::string parse(LogFormat& out, std::string_view v) {
  if (v == "logfmt")
    out = LogFormat::Logfmt;
  else if (v == "json")
    out = LogFormat::Json;
  else
    return fmt::format("'{}' is not logfmt or json", v);
  return "";
}

std::string show(const std::string& v) { return v; }
std::string show(bool v) { return v ? "true" : "false"; }
std::string show(Duration v) { return format_duration(v); }
std::string show(const std::optional<bool>& v) { return v ? show(*v) : "(default)"; }
std::string show(size_t v) { return std::to_string(v); }
std::string show(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, ",")); }
std::string show(LogLevel v) { return std::string(kLogLevelNames[static_cast<int>(v)]); }
std::string show(LogFormat v) { return v == LogFormat::Json ? "json" : "logfmt"; }

enum class Kind { Value, Bool, List };

// How a flag reaches its setting: text in, text out, and how it is written.
struct Binding {
  Kind kind;
  std::string (*apply)(Options&, std::string_view);
  std::string (*show)(const Options&);
  void (*clear)(Options&);  // lists: the first use replaces the default
};

// The setting at the end of a path of members, e.g. Options::pushgateway →
// PushgatewayOptions::http → HttpClientOptions::ca_file.
template <auto... Path>
auto& member(Options& o) {
  return (o.*....*Path);
}

template <auto... Path>
constexpr Binding bind() {
  using T = std::remove_cvref_t<decltype(member<Path...>(std::declval<Options&>()))>;
  constexpr Kind kind = std::is_same_v<T, bool> || std::is_same_v<T, std::optional<bool>> ? Kind::Bool
                        : std::is_same_v<T, std::vector<std::string>>                     ? Kind::List
                                                                                          : Kind::Value;
  return {kind, [](Options& o, std::string_view v) { return parse(member<Path...>(o), v); },
          [](const Options& o) { return show(member<Path...>(const_cast<Options&>(o))); },
          [](Options& o) {
            if constexpr (kind == Kind::List) member<Path...>(o).clear();
          }};
}

// A URL: shown without user information, query or fragment.
template <auto... Path>
constexpr Binding bind_url() {
  Binding b = bind<Path...>();
  b.show = [](const Options& o) { return redact_url(member<Path...>(const_cast<Options&>(o))); };
  return b;
}

// "Name: value" headers: the values are never shown.
template <auto... Path>
constexpr Binding bind_headers() {
  Binding b = bind<Path...>();
  b.show = [](const Options& o) {
    std::string out;
    for (const auto& h : member<Path...>(const_cast<Options&>(o))) {
      if (!out.empty()) out += ',';
      out.append(h, 0, h.find(':')).append(": <redacted>");
    }
    return out;
  };
  return b;
}

constexpr Binding kPushgatewayMethod = {
    Kind::Value,
    [](Options& o, std::string_view v) {
      if (v != "put" && v != "post") return fmt::format("'{}' is not put or post", v);
      o.pushgateway.put = v == "put";
      return std::string();
    },
    [](const Options& o) { return std::string(o.pushgateway.put ? "put" : "post"); }, [](Options&) {}};

constexpr Binding kGroupingLabels = {Kind::Value,
                                     [](Options& o, std::string_view v) {
                                       o.pushgateway.grouping_labels = split_list(v);
                                       return std::string();
                                     },
                                     [](const Options& o) { return show(o.pushgateway.grouping_labels); },
                                     [](Options&) {}};

// Repeatable NAME=VALUE pairs (static labels).
template <auto... Path>
constexpr Binding bind_label_pairs() {
  return {Kind::List,
          [](Options& o, std::string_view v) {
            for (auto& s : split_list(v)) {
              const size_t eq = s.find('=');
              if (eq == std::string::npos || eq == 0) return fmt::format("'{}' is not NAME=VALUE", s);
              member<Path...>(o).emplace_back(s.substr(0, eq), s.substr(eq + 1));
            }
            return std::string();
          },
          [](const Options& o) {
            std::string out;
            for (const auto& [k, v] : member<Path...>(const_cast<Options&>(o)))
              out += fmt::format("{}{}={}", out.empty() ? "" : ",", k, v);
            return out;
          },
          [](Options& o) { member<Path...>(o).clear(); }};
}

constexpr Binding kJitter = {Kind::Value, [](Options& o, std::string_view v) { return parse(o.loop.jitter, v); },
                             [](const Options& o) { return show(o.loop.max_jitter()); }, [](Options&) {}};

struct Flag {
  const char* name;
  const char* default_text;
  const char* help;
  Binding binding;
};

using PG = PushgatewayOptions;
using HC = HttpClientOptions;
using MD = MetadataOptions;
using TF = TextfileOptions;
using LS = LoopSettings;
using WO = WebOptions;
constexpr auto kPG = &Options::pushgateway;
constexpr auto kPGHttp = &PG::http;
using RW = RemoteWriteOptions;
constexpr auto kRW = &Options::remote_write;
constexpr auto kRWHttp = &RW::http;

// One flag, one line: name, default as --help shows it, help, where it lands.
// clang-format off
const Flag kFlags[] = {
  {"metadata.url", "$ECS_CONTAINER_METADATA_URI_V4, else $ECS_CONTAINER_METADATA_URI", "Base URL of the ECS task metadata endpoint; /task and /task/stats are read below it.", bind_url<&Options::metadata, &MD::url>()},
  {"metadata.task-file", "", "Replay: read the /task body from this file instead of the endpoint (needs --metadata.stats-file).", bind<&Options::metadata, &MD::task_file>()},
  {"metadata.stats-file", "", "Replay: read the /task/stats body from this file (needs --metadata.task-file).", bind<&Options::metadata, &MD::stats_file>()},
  {"metadata.connect-timeout", "1s", "Connect timeout for the metadata endpoint.", bind<&Options::metadata, &MD::connect_timeout>()},
  {"metadata.timeout", "5s", "Total timeout for one metadata request.", bind<&Options::metadata, &MD::timeout>()},
  {"metadata.max-body-bytes", "1048576", "Largest metadata body accepted, in bytes (peak memory stays a small multiple of it).", bind<&Options::metadata, &MD::max_body>()},
  {"container.include", "(all)", "Report only containers whose ECS name matches one of these globs (repeatable; comma-separated in the environment).", bind<&Options::containers, &ContainerFilter::include>()},
  {"container.exclude", "~internal~ecs~pause", "Leave out containers whose ECS name matches one of these globs (repeatable; replaces the default; empty for none).", bind<&Options::containers, &ContainerFilter::exclude>()},
  {"textfile.directory", "", "Write a node_exporter textfile into this directory (replaced atomically each cycle).", bind<&Options::textfile, &TF::directory>()},
  {"textfile.name", "ecs_<task_id>.prom", "File name inside --textfile.directory; must end in .prom.", bind<&Options::textfile, &TF::name>()},
  {"textfile.path", "", "Write the metrics to this file path (replaced atomically), or to standard output with '-'.", bind<&Options::textfile, &TF::path>()},
  {"pushgateway.url", "", "Push to this Pushgateway (http:// or https://, a path prefix is kept).", bind_url<kPG, &PG::url>()},
  {"pushgateway.job", "ecs", "The job label of the grouping key.", bind<kPG, &PG::job>()},
  {"pushgateway.grouping-labels", "task_family,task_revision,task_id; with --once: task_family", "Task identity labels in the grouping key, in order: task_id, task_family, task_revision, cluster, service_name, availability_zone, launch_type. Identity labels left out go on the series.", kGroupingLabels},
  {"pushgateway.grouping-label", "", "A static NAME=VALUE added to the grouping key (repeatable; comma-separated in the environment).", bind_label_pairs<&Options::pushgateway, &PG::static_labels>()},
  {"pushgateway.method", "put", "put replaces the whole group each cycle; post replaces only the pushed metric names.", kPushgatewayMethod},
  {"pushgateway.gzip", "true", "Compress the pushed body with gzip (Pushgateway 1.5 and later accept it).", bind<kPG, &PG::gzip>()},
  {"pushgateway.username", "", "Basic auth user name (the password comes from --pushgateway.password-file or $ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD).", bind<kPG, kPGHttp, &HC::username>()},
  {"pushgateway.password-file", "", "File holding the basic auth password.", bind<kPG, kPGHttp, &HC::password_file>()},
  {"pushgateway.bearer-token-file", "", "File holding a bearer token (or $ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN).", bind<kPG, kPGHttp, &HC::bearer_token_file>()},
  {"pushgateway.header", "", "An extra request header 'Name: value' (repeatable; comma-separated in the environment). Values are never logged.", bind_headers<kPG, kPGHttp, &HC::headers>()},
  {"pushgateway.ca-file", "(system CAs)", "CA certificates (PEM) to verify the Pushgateway with.", bind<kPG, kPGHttp, &HC::ca_file>()},
  {"pushgateway.cert-file", "", "Client certificate (PEM) for mutual TLS.", bind<kPG, kPGHttp, &HC::cert_file>()},
  {"pushgateway.key-file", "", "Client private key (PEM) for mutual TLS.", bind<kPG, kPGHttp, &HC::key_file>()},
  {"pushgateway.insecure-skip-verify", "false", "Do not verify the Pushgateway's TLS certificate (logs a warning).", bind<kPG, kPGHttp, &HC::insecure_skip_verify>()},
  {"pushgateway.connect-timeout", "2s", "Connect timeout for the Pushgateway.", bind<kPG, kPGHttp, &HC::connect_timeout>()},
  {"pushgateway.timeout", "5s", "Total timeout for one push attempt (retries stay within the interval).", bind<kPG, kPGHttp, &HC::timeout>()},
  {"remote-write.url", "", "Write to this Prometheus remote-write receiver (Prometheus, Mimir, Thanos, VictoriaMetrics, Amazon Managed Service for Prometheus).", bind_url<kRW, &RW::url>()},
  {"remote-write.job", "ecs", "The job label on every written series.", bind<kRW, &RW::job>()},
  {"remote-write.label", "", "A static NAME=VALUE label on every written series (repeatable; comma-separated in the environment).", bind_label_pairs<kRW, &RW::static_labels>()},
  {"remote-write.buffer", "10m", "How much unsent data to keep while the receiver is unreachable (as cycles: buffer/interval); the oldest goes first.", bind<kRW, &RW::buffer>()},
  {"remote-write.username", "", "Basic auth user name (the password comes from --remote-write.password-file or $ECS_METRICS_PUSHER_REMOTE_WRITE_PASSWORD).", bind<kRW, kRWHttp, &HC::username>()},
  {"remote-write.password-file", "", "File holding the basic auth password.", bind<kRW, kRWHttp, &HC::password_file>()},
  {"remote-write.bearer-token-file", "", "File holding a bearer token (or $ECS_METRICS_PUSHER_REMOTE_WRITE_BEARER_TOKEN).", bind<kRW, kRWHttp, &HC::bearer_token_file>()},
  {"remote-write.header", "", "An extra request header 'Name: value', e.g. 'X-Scope-OrgID: team-a' for a Mimir tenant (repeatable). Values are never logged.", bind_headers<kRW, kRWHttp, &HC::headers>()},
  {"remote-write.ca-file", "(system CAs)", "CA certificates (PEM) to verify the receiver with.", bind<kRW, kRWHttp, &HC::ca_file>()},
  {"remote-write.cert-file", "", "Client certificate (PEM) for mutual TLS.", bind<kRW, kRWHttp, &HC::cert_file>()},
  {"remote-write.key-file", "", "Client private key (PEM) for mutual TLS.", bind<kRW, kRWHttp, &HC::key_file>()},
  {"remote-write.insecure-skip-verify", "false", "Do not verify the receiver's TLS certificate (logs a warning).", bind<kRW, kRWHttp, &HC::insecure_skip_verify>()},
  {"remote-write.connect-timeout", "2s", "Connect timeout for the receiver.", bind<kRW, kRWHttp, &HC::connect_timeout>()},
  {"remote-write.timeout", "10s", "Total timeout for one write attempt (retries stay within the interval).", bind<kRW, kRWHttp, &HC::timeout>()},
  {"remote-write.sigv4.region", "", "Sign requests with AWS SigV4 for this region (Amazon Managed Service for Prometheus); credentials from the environment or the ECS task role.", bind<kRW, &RW::sigv4_region>()},
  {"remote-write.sigv4.service", "aps", "The service name SigV4 signs for.", bind<kRW, &RW::sigv4_service>()},
  {"web.listen-address", "", "Serve the metrics for scraping at this address, e.g. :9546 (the original ecs-metrics-exporter's port; its $ECS_METRICS_EXPORTER_PORT=N also sets :N); off when empty. :port is every IPv6 and IPv4 address.", bind<&Options::web, &WO::listen_address>()},
  {"web.telemetry-path", "/metrics", "Path of the scrape endpoint's metrics page.", bind<&Options::web, &WO::telemetry_path>()},
  {"web.config.file", "", "Prometheus exporter-toolkit web config (YAML) for TLS and basic auth on the scrape endpoint (subset: docs/scrape-endpoint.md).", bind<&Options::web, &WO::config_file>()},
  {"web.enable-metadata-passthrough", "false", "Also serve the last raw metadata bodies at /task and /stats, like the original exporter (they hold ARNs and image names).", bind<&Options::web, &WO::metadata_passthrough>()},
  {"delete-on-exit", "true", "Loop mode: on SIGTERM/SIGINT delete the Pushgateway group, remove the textfile and end the remote-written series with staleness markers, so a stopped task leaves no series (false keeps the last values).", bind<&Options::loop, &LS::delete_on_exit>()},
  {"once", "false", "Run one cycle and exit (scheduled tasks, cron); see the exit codes. The delivery has --shutdown-timeout, retries included.", bind<&Options::loop, &LS::once>()},
  {"interval", "15s", "Time between cycles in loop mode.", bind<&Options::loop, &LS::interval>()},
  {"interval.jitter", "interval/4", "Largest random delay before the first cycle, so a fleet does not push in lockstep.", kJitter},
  {"shutdown-timeout", "10s", "On SIGTERM/SIGINT: time allowed for the final cycle and the clean-up.", bind<&Options::loop, &LS::shutdown_timeout>()},
  {"startup.retry-timeout", "30s", "At start, retry the metadata with a short backoff for this long before reporting failure.", bind<&Options::loop, &LS::startup_retry>()},
  {"log.level", "info", "debug, info, warn or error.", bind<&Options::log, &LogSettings::level>()},
  {"log.format", "logfmt", "logfmt or json, on standard error.", bind<&Options::log, &LogSettings::format>()},
};
// clang-format on

size_t flag_index(std::string_view name) {
  for (size_t i = 0; i < std::size(kFlags); ++i)
    if (name == kFlags[i].name) return i;
  return std::size(kFlags);  // not reached: names are the table's own
}

// Durations that must be greater than 0 (the others may be 0).
struct PositiveDuration {
  const char* flag;
  Duration& (*value)(Options&);
};
const PositiveDuration kPositiveDurations[] = {
    {"metadata.connect-timeout", member<&Options::metadata, &MD::connect_timeout>},
    {"metadata.timeout", member<&Options::metadata, &MD::timeout>},
    {"pushgateway.connect-timeout", member<kPG, kPGHttp, &HC::connect_timeout>},
    {"pushgateway.timeout", member<kPG, kPGHttp, &HC::timeout>},
    {"remote-write.connect-timeout", member<kRW, kRWHttp, &HC::connect_timeout>},
    {"remote-write.timeout", member<kRW, kRWHttp, &HC::timeout>},
    {"remote-write.buffer", member<kRW, &RW::buffer>},
    {"interval", member<&Options::loop, &LS::interval>},
    {"shutdown-timeout", member<&Options::loop, &LS::shutdown_timeout>},
};

// Secrets: from a file named by a flag, else from the environment; never a flag.
struct Secret {
  const char* file_flag;
  const char* env;
  std::string& (*file)(Options&);
  std::string& (*value)(Options&);
};
const Secret kSecrets[] = {
    {"pushgateway.password-file", "ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD", member<kPG, kPGHttp, &HC::password_file>,
     member<kPG, kPGHttp, &HC::password>},
    {"pushgateway.bearer-token-file", "ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN",
     member<kPG, kPGHttp, &HC::bearer_token_file>, member<kPG, kPGHttp, &HC::bearer_token>},
    {"remote-write.password-file", "ECS_METRICS_PUSHER_REMOTE_WRITE_PASSWORD", member<kRW, kRWHttp, &HC::password_file>,
     member<kRW, kRWHttp, &HC::password>},
    {"remote-write.bearer-token-file", "ECS_METRICS_PUSHER_REMOTE_WRITE_BEARER_TOKEN",
     member<kRW, kRWHttp, &HC::bearer_token_file>, member<kRW, kRWHttp, &HC::bearer_token>},
};

// ---- `ecs-metrics-pusher prune`: the janitor's own, smaller flag set ----

using PR = PruneOptions;
constexpr auto kPR = &Options::prune;
constexpr auto kPRHttp = &PR::http;

constexpr Binding kPruneMatch = {Kind::List,
                                 [](Options& o, std::string_view v) {
                                   for (auto& s : split_list(v)) {
                                     const size_t eq = s.find('=');
                                     if (eq == std::string::npos || eq == 0)
                                       return fmt::format("'{}' is not NAME=VALUE", s);
                                     o.prune.match.emplace_back(s.substr(0, eq), s.substr(eq + 1));
                                   }
                                   return std::string();
                                 },
                                 [](const Options& o) {
                                   std::string out;
                                   for (const auto& [k, v] : o.prune.match)
                                     out += fmt::format("{}{}={}", out.empty() ? "" : ",", k, v);
                                   return out;
                                 },
                                 [](Options& o) { o.prune.match.clear(); }};

// clang-format off
const Flag kPruneFlags[] = {
  {"pushgateway.url", "", "Prune this Pushgateway's groups (http:// or https://, a path prefix is kept).", bind_url<kPR, &PR::pushgateway_url>()},
  {"pushgateway.job", "ecs", "Only groups of this job are ever touched (the pushers' --pushgateway.job).", bind<kPR, &PR::job>()},
  {"prune.match", "", "A static NAME=VALUE a group must also carry to be touched (repeatable; comma-separated in the environment).", kPruneMatch},
  {"prune.older-than", "", "Required. Remove what was last written longer ago than this: a group by its last successful push on the Pushgateway's clock, a textfile by its mtime. Make it several --interval of the pushers.", bind<kPR, &PR::older_than>()},
  {"textfile.directory", "", "Prune the ecs_<task_id>.prom files the textfile sink wrote into this directory (regular files holding ee_ecs_metrics_exporter_* series; nothing else is touched).", bind<kPR, &PR::textfile_directory>()},
  {"dry-run", "false", "Only log what would be removed; remove and push nothing.", bind<kPR, &PR::dry_run>()},
  {"once", "false", "Run one pass and exit (ECS scheduled task, cron).", bind<kPR, &PR::once>()},
  {"interval", "1m", "Time between passes; also what one pass may take, retries included (with --once too).", bind<kPR, &PR::interval>()},
  {"prune.max-body-bytes", "268435456", "Largest group list read from the Pushgateway, in bytes (1,500 tasks: about 21 MB).", bind<kPR, &PR::max_body>()},
  {"pushgateway.username", "", "Basic auth user name (the password comes from --pushgateway.password-file or $ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD).", bind<kPR, kPRHttp, &HC::username>()},
  {"pushgateway.password-file", "", "File holding the basic auth password.", bind<kPR, kPRHttp, &HC::password_file>()},
  {"pushgateway.bearer-token-file", "", "File holding a bearer token (or $ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN).", bind<kPR, kPRHttp, &HC::bearer_token_file>()},
  {"pushgateway.header", "", "An extra request header 'Name: value' (repeatable; comma-separated in the environment). Values are never logged.", bind_headers<kPR, kPRHttp, &HC::headers>()},
  {"pushgateway.ca-file", "(system CAs)", "CA certificates (PEM) to verify the Pushgateway with.", bind<kPR, kPRHttp, &HC::ca_file>()},
  {"pushgateway.cert-file", "", "Client certificate (PEM) for mutual TLS.", bind<kPR, kPRHttp, &HC::cert_file>()},
  {"pushgateway.key-file", "", "Client private key (PEM) for mutual TLS.", bind<kPR, kPRHttp, &HC::key_file>()},
  {"pushgateway.insecure-skip-verify", "false", "Do not verify the Pushgateway's TLS certificate.", bind<kPR, kPRHttp, &HC::insecure_skip_verify>()},
  {"pushgateway.connect-timeout", "2s", "Connect timeout for the Pushgateway.", bind<kPR, kPRHttp, &HC::connect_timeout>()},
  {"pushgateway.timeout", "30s", "Total timeout for one request (the group list of a large Pushgateway takes a while).", bind<kPR, kPRHttp, &HC::timeout>()},
  {"log.level", "info", "debug, info, warn or error.", bind<&Options::log, &LogSettings::level>()},
  {"log.format", "logfmt", "logfmt or json, on standard error.", bind<&Options::log, &LogSettings::format>()},
};
// clang-format on

const PositiveDuration kPrunePositiveDurations[] = {
    {"prune.older-than", member<kPR, &PR::older_than>},
    {"interval", member<kPR, &PR::interval>},
    {"pushgateway.connect-timeout", member<kPR, kPRHttp, &HC::connect_timeout>},
    {"pushgateway.timeout", member<kPR, kPRHttp, &HC::timeout>},
};

const Secret kPruneSecrets[] = {
    {"pushgateway.password-file", "ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD", member<kPR, kPRHttp, &HC::password_file>,
     member<kPR, kPRHttp, &HC::password>},
    {"pushgateway.bearer-token-file", "ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN",
     member<kPR, kPRHttp, &HC::bearer_token_file>, member<kPR, kPRHttp, &HC::bearer_token>},
};

bool read_secret(const std::string& path, std::string& out, std::string& error, std::string_view flag) {
  constexpr size_t kMaxSecretBytes = 64 << 10;
  if (!read_small_file(path, kMaxSecretBytes, out, error)) {
    error = fmt::format("--{}: {}", flag, error);
    return false;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return true;
}

// What can only be checked once the secrets are read (they may come from
// the environment).
std::string check_credentials(const HttpClientOptions& h) {
  if (!h.password.empty() && h.username.empty())
    return fmt::format("--{}.username: a password is set but no user name", h.flag_prefix);
  if (!h.username.empty() && !h.bearer_token.empty())
    return fmt::format("--{0}.username and --{0}.bearer-token-file exclude each other", h.flag_prefix);
  return "";
}

std::string load_secrets(std::span<const Secret> secrets, std::span<HttpClientOptions* const> clients, Options& o,
                         char** envp) {
  for (const Secret& s : secrets) {
    if (!s.file(o).empty()) {
      std::string error;
      if (!read_secret(s.file(o), s.value(o), error, s.file_flag)) return error;
    } else {
      s.value(o) = env_value(envp, s.env);
    }
  }
  for (const HttpClientOptions* h : clients)
    if (std::string e = check_credentials(*h); !e.empty()) return e;
  return "";
}

bool has_scheme(std::string_view url) { return url.starts_with("http://") || url.starts_with("https://"); }

// "" or what is wrong with a URL we will send requests to. The URL is shown
// only with its user information, query and fragment redacted.
std::string check_url(std::string_view flag, std::string_view url) {
  if (!has_scheme(url)) return fmt::format("--{}: '{}' has no http:// or https:// scheme", flag, redact_url(url));
  std::string_view rest = url.substr(url.find("//") + 2);
  std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  if (host.empty() || host.front() == ':') return fmt::format("--{}: '{}' has no host", flag, redact_url(url));
  for (unsigned char ch : url)
    if (ch <= ' ' || ch == 0x7f) return fmt::format("--{}: the URL contains a space or control character", flag);
  return "";
}

// user[:password]@ before the host, however the rest is spelled (a password
// may hold '/', a scheme may be mistyped).
bool url_has_userinfo(std::string_view url) {
  return url.substr(0, url.find_first_of("?#")).find('@') != std::string_view::npos;
}

std::string check_metadata(MetadataOptions& m, char** envp) {
  const bool files = !m.task_file.empty() || !m.stats_file.empty();
  if (files && !m.url.empty())
    return "--metadata.url and --metadata.task-file/--metadata.stats-file exclude each other";
  if (files && (m.task_file.empty() || m.stats_file.empty()))
    return "--metadata.task-file and --metadata.stats-file must be given together";
  if (!files && m.url.empty()) {
    m.url = env_value(envp, "ECS_CONTAINER_METADATA_URI_V4");
    if (m.url.empty()) m.url = env_value(envp, "ECS_CONTAINER_METADATA_URI");
    if (m.url.empty())
      return "--metadata.url: no metadata endpoint (not set, and neither $ECS_CONTAINER_METADATA_URI_V4 nor "
             "$ECS_CONTAINER_METADATA_URI is set); outside ECS use --metadata.task-file and --metadata.stats-file";
  }
  if (!m.url.empty())
    if (std::string e = check_url("metadata.url", m.url); !e.empty()) return e;
  while (!m.url.empty() && m.url.back() == '/') m.url.pop_back();
  return "";
}

std::string check_textfile(const TextfileOptions& t) {
  if (!t.directory.empty() && !t.path.empty()) return "--textfile.directory and --textfile.path exclude each other";
  if (!t.name.empty() && t.directory.empty()) return "--textfile.name: needs --textfile.directory";
  if (!t.name.empty() && (t.name.find('/') != std::string::npos || !t.name.ends_with(".prom")))
    return fmt::format("--textfile.name: '{}' must be a plain file name ending in .prom", printable(t.name));
  return "";
}

std::string check_http(const HttpClientOptions& h) {
  const std::string& p = h.flag_prefix;
  if (!h.key_file.empty() && h.cert_file.empty()) return fmt::format("--{}.key-file needs --{}.cert-file", p, p);
  for (const auto& [flag, path] :
       {std::pair{"ca-file", &h.ca_file}, std::pair{"cert-file", &h.cert_file}, std::pair{"key-file", &h.key_file}}) {
    if (!path->empty() && access(path->c_str(), R_OK) != 0)
      return fmt::format("--{}.{}: cannot read '{}': {}", p, flag, *path, std::strerror(errno));
  }
  return "";
}

std::string check_pushgateway(const PushgatewayOptions& g) {
  if (url_has_userinfo(g.url))  // checked first: never echo such a URL
    return "--pushgateway.url: a user name or password in the URL is not allowed (it would be logged); use "
           "--pushgateway.username with --pushgateway.password-file";
  if (std::string e = check_url("pushgateway.url", g.url); !e.empty()) return e;
  if (g.job.empty()) return "--pushgateway.job: must not be empty";
  for (size_t i = 0; i < g.grouping_labels.size(); ++i) {
    const std::string& l = g.grouping_labels[i];
    if (std::find(g.grouping_labels.begin(), g.grouping_labels.begin() + static_cast<long>(i), l) !=
        g.grouping_labels.begin() + static_cast<long>(i))
      return fmt::format("--pushgateway.grouping-labels: '{}' is listed twice", l);
    if (std::find(std::begin(kIdentityLabelNames), std::end(kIdentityLabelNames), l) == std::end(kIdentityLabelNames))
      return fmt::format("--pushgateway.grouping-labels: '{}' is not a task identity label ({})", l,
                         fmt::join(kIdentityLabelNames, ", "));
  }
  return check_http(g.http);
}

std::string check_remote_write(const RemoteWriteOptions& r) {
  if (url_has_userinfo(r.url))  // checked first: never echo such a URL
    return "--remote-write.url: a user name or password in the URL is not allowed (it would be logged); use "
           "--remote-write.username with --remote-write.password-file";
  if (std::string e = check_url("remote-write.url", r.url); !e.empty()) return e;
  if (r.job.empty()) return "--remote-write.job: must not be empty";
  if (!r.sigv4_region.empty() && (!r.http.username.empty() || !r.http.bearer_token_file.empty()))
    return "--remote-write.sigv4.region: SigV4 signs the request itself; it cannot be combined with "
           "--remote-write.username or --remote-write.bearer-token-file";
  if (r.sigv4_service.empty()) return "--remote-write.sigv4.service: must not be empty";
  // libcurl silently skips signing when the request already has an
  // Authorization header, and signs an X-Amz-* header as given.
  if (!r.sigv4_region.empty())
    for (const std::string& h : r.http.headers) {
      std::string name = h.substr(0, h.find(':'));
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      if (name == "authorization" || name.starts_with("x-amz-"))
        return fmt::format("--remote-write.header: '{}' cannot be set with --remote-write.sigv4.region (SigV4 sets it)",
                           printable(name, 60));
    }
  return check_http(r.http);
}

std::string check_web(const WebOptions& w, bool once) {
  const bool web_flag_without_endpoint =
      !w.enabled() && (!w.config_file.empty() || w.metadata_passthrough || w.telemetry_path != "/metrics");
  if (web_flag_without_endpoint)
    return "--web.telemetry-path, --web.config.file and --web.enable-metadata-passthrough need --web.listen-address";
  if (!w.enabled()) return "";
  if (!web_server_available())
    return "--web.listen-address: this build has no scrape endpoint (built with -Dweb=disabled, like the default "
           "image); use the image's -exporter tag";
  if (once) return "--web.listen-address: cannot be used with --once (nothing would be left to scrape)";
  std::string host, error;
  unsigned port = 0;
  if (!parse_listen_address(w.listen_address, host, port, error)) return error;
  const std::string& p = w.telemetry_path;
  if (p.empty() || p.front() != '/' || p == "/-/healthy" || p == "/-/ready" || p == "/task" || p == "/stats")
    return fmt::format(
        "--web.telemetry-path: '{}' must start with '/' and not be /-/healthy, /-/ready, /task or /stats",
        printable(p, 60));
  for (unsigned char ch : p)
    if (ch <= ' ' || ch == 0x7f) return "--web.telemetry-path: contains a space or control character";
  if (!w.config_file.empty() && access(w.config_file.c_str(), R_OK) != 0)
    return fmt::format("--web.config.file: cannot read '{}': {}", w.config_file, std::strerror(errno));
  return "";
}

// Each rule once, before any I/O.
std::string validate(Options& o, char** envp) {
  for (const PositiveDuration& d : kPositiveDurations)
    if (d.value(o).count() <= 0) return fmt::format("--{}: must be greater than 0", d.flag);
  if (std::string e = check_metadata(o.metadata, envp); !e.empty()) return e;
  // The original ecs-metrics-exporter's port variable, so that its task
  // definitions run us with only the image changed (the -exporter image sets
  // it to 9546, the original's default).
  if (std::string port = env_value(envp, "ECS_METRICS_EXPORTER_PORT");
      !port.empty() && !o.web.enabled() && !o.loop.once) {
    std::string host, error;
    unsigned number = 0;
    if (!parse_listen_address(":" + port, host, number, error))
      return fmt::format("$ECS_METRICS_EXPORTER_PORT: '{}' is not a port from 0 to 65535", printable(port, 60));
    o.web.listen_address = ":" + port;
  }
  if (!o.textfile.enabled() && !o.pushgateway.enabled() && !o.remote_write.enabled() && !o.web.enabled())
    return "no sink configured: set --pushgateway.url, --remote-write.url, --textfile.directory, --textfile.path or "
           "--web.listen-address";
  if (std::string e = check_web(o.web, o.loop.once); !e.empty()) return e;
  if (std::string e = check_textfile(o.textfile); !e.empty()) return e;
  if (o.pushgateway.enabled())
    if (std::string e = check_pushgateway(o.pushgateway); !e.empty()) return e;
  if (o.remote_write.enabled())
    if (std::string e = check_remote_write(o.remote_write); !e.empty()) return e;
  if (o.loop.jitter > o.loop.interval) return "--interval.jitter: must not exceed --interval";
  if (o.loop.once && o.loop.delete_on_exit.value_or(false))
    return "--delete-on-exit: cannot be used with --once (the group or file would be removed right after the push)";
  return "";
}

std::string validate_prune(Options& o, char**) {
  PruneOptions& p = o.prune;
  if (p.older_than.count() <= 0) return "--prune.older-than: required (e.g. 10m; several --interval of the pushers)";
  for (const PositiveDuration& d : kPrunePositiveDurations)
    if (d.value(o).count() <= 0) return fmt::format("--{}: must be greater than 0", d.flag);
  if (!p.pushgateway_enabled() && !p.textfile_enabled())
    return "nothing to prune: set --pushgateway.url and/or --textfile.directory";
  if (p.pushgateway_enabled()) {
    PushgatewayOptions g;  // the same URL and job rules as the pusher's
    g.url = p.pushgateway_url;
    g.job = p.job;
    g.grouping_labels.clear();
    g.http = p.http;
    if (std::string e = check_pushgateway(g); !e.empty()) return e;
  }
  for (const auto& [name, value] : p.match) {
    if (!valid_label_name(name) || name == "job")
      return fmt::format("--prune.match: '{}' is not a label name a group can carry besides job", printable(name, 60));
  }
  return "";
}

// One command's flags and rules: the pusher's, and `prune`'s.
struct Command {
  const char* usage;  // --help before the flags
  std::span<const Flag> flags;
  std::span<const Secret> secrets;
  std::vector<HttpClientOptions*> (*http)(Options&);  // each peer's, for the credential rules
  std::string (*validate)(Options&, char**);
  const char* exit_codes;  // --help after the flags
};

const Command kPusher = {
    "Usage: ecs-metrics-pusher [flags]\n\n"
    "Reads the ECS task metadata endpoint (v4) and pushes the task's ee_* metrics to a\n"
    "Prometheus Pushgateway and/or a node_exporter textfile.\n"
    "(ecs-metrics-pusher prune --help: the janitor for tasks killed without cleaning up.)\n\n",
    kFlags,
    kSecrets,
    [](Options& o) {
      return std::vector<HttpClientOptions*>{&o.pushgateway.http, &o.remote_write.http};
    },
    validate,
    "Exit codes: 0 ok (also after a clean shutdown on SIGTERM/SIGINT); 2 bad configuration;\n"
    "with --once: 3 metadata failed, 4 every sink failed, 5 some sinks failed; 6 the shutdown\n"
    "did not finish within --shutdown-timeout; 128+N a second stop signal N (143, 130).\n"};

const Command kPrune = {
    "Usage: ecs-metrics-pusher prune [flags]\n\n"
    "The janitor for tasks that died without removing what they published (SIGKILL,\n"
    "a lost host): removes the Pushgateway groups of --pushgateway.job whose last\n"
    "successful push, on the Pushgateway's own clock, is older than --prune.older-than,\n"
    "and the ecs_<task_id>.prom files in --textfile.directory last written longer ago.\n"
    "What it cannot prove stale is left alone and logged. Its own ee_prune_* metrics go\n"
    "to the Pushgateway (job <job>-prune) or, without one, to\n"
    "<textfile.directory>/ecs-metrics-pusher-prune.prom.\n\n",
    kPruneFlags,
    kPruneSecrets,
    [](Options& o) { return std::vector<HttpClientOptions*>{&o.prune.http}; },
    validate_prune,
    "Exit codes: 0 ok (with --once: the pass succeeded, whatever it removed; also after\n"
    "SIGTERM/SIGINT); 2 bad configuration; 7 (--once) the pass failed: the group list or\n"
    "the directory could not be read, or a removal failed.\n"};

bool is_secret_env(const Command& c, std::string_view name) {
  for (const Secret& s : c.secrets)
    if (name == s.env) return true;
  return false;
}

std::string help_for(const Command& c) {
  std::string out = c.usage;
  out +=
      "Every flag can also be set by the environment variable shown; a flag wins. An empty\n"
      "variable counts as unset (for a list: an empty list). Durations: 250ms, 15s, 1m30s.\n\n";
  for (const Flag& f : c.flags) {
    out += fmt::format("  --{}{}\n      {}\n      env {}", f.name, f.binding.kind == Kind::Bool ? "[=BOOL]" : "=VALUE",
                       f.help, env_name_for(f.name));
    if (*f.default_text) out += fmt::format("  (default: {})", f.default_text);
    out += "\n";
  }
  out +=
      "  --help       show this text\n"
      "  --version    show the version\n\n"
      "Secrets from the environment only (never flags):";
  for (const Secret& s : c.secrets) out += fmt::format(" {}", s.env);
  out += ".\n\n";
  out += c.exit_codes;
  return out;
}

ParseOutcome parse_command(const Command& cmd, int argc, char** argv, char** envp, Options& o, std::string& error) {
  const std::span<const Flag> flags = cmd.flags;
  std::vector<bool> given(flags.size(), false);  // set by the environment or the command line

  // 1. The environment. An empty value counts as unset (task definitions
  // often carry empty variables), except for lists, where it means "none".
  // A variable with our prefix that names no flag is a typo we refuse, rather
  // than silently run with a default.
  constexpr std::string_view kPrefix = "ECS_METRICS_PUSHER_";
  for (char** e = envp; e && *e; ++e) {
    std::string_view entry = *e;
    if (!entry.starts_with(kPrefix)) continue;
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = entry.substr(0, eq);
    const std::string_view value = entry.substr(eq + 1);
    if (is_secret_env(cmd, name)) continue;  // read by load_secrets()
    const Flag* flag = nullptr;
    for (const Flag& f : flags)
      if (env_name_for(f.name) == name) flag = &f;
    if (!flag) {
      error = fmt::format("{}: no such setting (a typo? see --help for every ECS_METRICS_PUSHER_* name)", name);
      return ParseOutcome::ExitConfig;
    }
    if (value.empty() && flag->binding.kind != Kind::List) continue;
    given[static_cast<size_t>(flag - flags.data())] = true;
    flag->binding.clear(o);
    if (std::string err = flag->binding.apply(o, value); !err.empty()) {
      error = fmt::format("{} (--{}): {}", name, flag->name, err);
      return ParseOutcome::ExitConfig;
    }
  }

  // 2. The command line.
  std::vector<option> longopts;
  for (size_t i = 0; i < flags.size(); ++i)
    longopts.push_back({flags[i].name, flags[i].binding.kind == Kind::Bool ? optional_argument : required_argument,
                        nullptr, static_cast<int>(1000 + i)});
  longopts.push_back({"help", no_argument, nullptr, 'h'});
  longopts.push_back({"version", no_argument, nullptr, 'V'});
  longopts.push_back({nullptr, 0, nullptr, 0});
  std::vector<bool> list_seen(flags.size(), false);
  optind = 0;  // glibc: 0 also resets getopt's internal state (tests parse many times)
  opterr = 0;
  for (;;) {
    int index = -1;
    const int at = optind == 0 ? 1 : optind;  // "+": no permutation, so argv[at] is the flag being read
    int c = getopt_long(argc, argv, "+hV", longopts.data(), &index);
    if (c == -1) break;
    // The flag as written, without "--" and "=value".
    std::string_view written = at < argc ? argv[at] : "";
    while (written.starts_with('-')) written.remove_prefix(1);
    written = written.substr(0, written.find('='));
    if (c == '?') {
      if (optopt >= 1000)
        error = fmt::format("--{}: missing value (write --{}=VALUE)", written, written);
      else if (optopt)
        error = fmt::format("-{}: unknown flag (see --help)", static_cast<char>(optopt));
      else
        error = fmt::format("--{}: unknown flag (see --help)", printable(written, 60));
      return ParseOutcome::ExitConfig;
    }
    // getopt_long accepts any unambiguous prefix (--int for --interval); we
    // do not, so that adding a flag never changes what an old command means.
    const char* full = c == 'h' ? "help" : c == 'V' ? "version" : flags[static_cast<size_t>(c - 1000)].name;
    if (written != full && !(written.size() == 1 && (c == 'h' || c == 'V'))) {
      error = fmt::format("--{}: unknown flag (did you mean --{}?)", printable(written, 60), full);
      return ParseOutcome::ExitConfig;
    }
    if (c == 'h') {
      fmt::print("{}", help_for(cmd));
      return ParseOutcome::ExitOk;
    }
    if (c == 'V') {
      fmt::print("{}", version_text());
      return ParseOutcome::ExitOk;
    }
    const size_t i = static_cast<size_t>(c - 1000);
    const Flag& f = flags[i];
    given[i] = true;
    if (!list_seen[i]) {
      f.binding.clear(o);
      list_seen[i] = true;
    }
    if (std::string err = f.binding.apply(o, optarg ? optarg : ""); !err.empty()) {
      error = fmt::format("--{}: {}", f.name, err);
      return ParseOutcome::ExitConfig;
    }
  }
  if (optind < argc) {
    error = fmt::format("unexpected argument '{}' (flags are written --name=value)", printable(argv[optind], 60));
    return ParseOutcome::ExitConfig;
  }

  // 3. Defaults that depend on the mode, then what only makes sense as a
  // whole, then the secrets.
  if (&cmd == &kPusher && o.loop.once && !given[flag_index("pushgateway.grouping-labels")]) {
    o.pushgateway.grouping_labels = {std::string(PG::kOnceGroupingLabel)};
    o.pushgateway.runs_share_group = true;
  }
  error = cmd.validate(o, envp);
  if (error.empty()) error = load_secrets(cmd.secrets, cmd.http(o), o, envp);
  return error.empty() ? ParseOutcome::Run : ParseOutcome::ExitConfig;
}

std::vector<std::pair<std::string, std::string>> describe_command(const Command& cmd, const Options& o) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Flag& f : cmd.flags) out.emplace_back(f.name, f.binding.show(o));
  for (const Secret& s : cmd.secrets) {
    std::string name(s.file_flag);
    name.resize(name.rfind("-file"));
    out.emplace_back(name, s.value(const_cast<Options&>(o)).empty() ? "" : "<redacted>");
  }
  return out;
}

}  // namespace

std::string env_value(char** envp, std::string_view name) {
  for (char** e = envp; e && *e; ++e) {
    std::string_view entry = *e;
    if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
      return std::string(entry.substr(name.size() + 1));
  }
  return {};
}

std::string help_text() { return help_for(kPusher); }
std::string prune_help_text() { return help_for(kPrune); }

ParseOutcome parse_options(int argc, char** argv, char** envp, Options& o, std::string& error) {
  return parse_command(kPusher, argc, argv, envp, o, error);
}
ParseOutcome parse_prune_options(int argc, char** argv, char** envp, Options& o, std::string& error) {
  return parse_command(kPrune, argc, argv, envp, o, error);
}

std::vector<std::pair<std::string, std::string>> describe(const Options& o) { return describe_command(kPusher, o); }
std::vector<std::pair<std::string, std::string>> describe_prune(const Options& o) {
  return describe_command(kPrune, o);
}

}  // namespace emp
