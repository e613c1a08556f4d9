#include "options.h"

#include <getopt.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "version.h"

namespace emp {
namespace {

enum class Kind { Value, Bool, List };

struct Flag {
  const char* name;
  Kind kind;
  const char* default_text;
  const char* help;
  // Sets the option from text; returns "" or an error (without the flag name).
  std::string (*apply)(Options&, std::string_view);
  // The effective value for the start-up log line (secrets redacted).
  std::string (*show)(const Options&);
  bool secret_file = false;
};

std::string set_duration(Duration& out, std::string_view v, bool allow_zero) {
  auto d = parse_duration(v);
  if (!d) return fmt::format("'{}' is not a duration (e.g. 250ms, 15s, 1m)", v);
  if (!allow_zero && d->count() == 0) return "must be greater than 0";
  out = *d;
  return "";
}

std::string set_bool(bool& out, std::string_view v) {
  if (v == "" || v == "true" || v == "1" || v == "yes") out = true;
  else if (v == "false" || v == "0" || v == "no") out = false;
  else return fmt::format("'{}' is not a boolean (true or false)", v);
  return "";
}

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

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

constexpr const char* kLevelNames[] = {"debug", "info", "warn", "error"};

std::string show_bool(bool b) { return b ? "true" : "false"; }

// clang-format off
const Flag kFlags[] = {
  {"metadata.url", Kind::Value, "$ECS_CONTAINER_METADATA_URI_V4, else $ECS_CONTAINER_METADATA_URI",
   "Base URL of the ECS task metadata endpoint; /task and /task/stats are read below it.",
   [](Options& o, std::string_view v) { o.metadata_url = v; return std::string(); },
   [](const Options& o) { return o.metadata_url; }},
  {"metadata.task-file", Kind::Value, "",
   "Replay: read the /task body from this file instead of the endpoint (needs --metadata.stats-file).",
   [](Options& o, std::string_view v) { o.metadata_task_file = v; return std::string(); },
   [](const Options& o) { return o.metadata_task_file; }},
  {"metadata.stats-file", Kind::Value, "",
   "Replay: read the /task/stats body from this file (needs --metadata.task-file).",
   [](Options& o, std::string_view v) { o.metadata_stats_file = v; return std::string(); },
   [](const Options& o) { return o.metadata_stats_file; }},
  {"metadata.connect-timeout", Kind::Value, "1s", "Connect timeout for the metadata endpoint.",
   [](Options& o, std::string_view v) { return set_duration(o.metadata_connect_timeout, v, false); },
   [](const Options& o) { return format_duration(o.metadata_connect_timeout); }},
  {"metadata.timeout", Kind::Value, "5s", "Total timeout for one metadata request.",
   [](Options& o, std::string_view v) { return set_duration(o.metadata_timeout, v, false); },
   [](const Options& o) { return format_duration(o.metadata_timeout); }},
  {"metadata.max-body-bytes", Kind::Value, "16777216", "Largest metadata body accepted, in bytes.",
   [](Options& o, std::string_view v) {
     char* end = nullptr;
     std::string s(v);
     unsigned long long n = std::strtoull(s.c_str(), &end, 10);
     if (s.empty() || *end != '\0' || n < 1024 || n > (1ULL << 32)) return fmt::format("'{}' is not a byte count from 1024 to 4294967296", v);
     o.metadata_max_body = static_cast<size_t>(n);
     return std::string();
   },
   [](const Options& o) { return std::to_string(o.metadata_max_body); }},
  {"container.include", Kind::List, "(all)",
   "Report only containers whose ECS name matches one of these globs (repeatable; comma-separated in the environment).",
   [](Options& o, std::string_view v) { for (auto& s : split_list(v)) o.container_include.push_back(s); return std::string(); },
   [](const Options& o) { return join(o.container_include); }},
  {"container.exclude", Kind::List, "~internal~ecs~pause",
   "Leave out containers whose ECS name matches one of these globs (repeatable; replaces the default; empty for none).",
   [](Options& o, std::string_view v) { for (auto& s : split_list(v)) o.container_exclude.push_back(s); return std::string(); },
   [](const Options& o) { return join(o.container_exclude); }},
  {"textfile.directory", Kind::Value, "",
   "Write a node_exporter textfile into this directory (replaced atomically each cycle).",
   [](Options& o, std::string_view v) { o.textfile_directory = v; return std::string(); },
   [](const Options& o) { return o.textfile_directory; }},
  {"textfile.name", Kind::Value, "ecs_<task_id>.prom", "File name inside --textfile.directory; must end in .prom.",
   [](Options& o, std::string_view v) { o.textfile_name = v; return std::string(); },
   [](const Options& o) { return o.textfile_name; }},
  {"textfile.path", Kind::Value, "",
   "Write the metrics to this file path (replaced atomically), or to standard output with '-'.",
   [](Options& o, std::string_view v) { o.textfile_path = v; return std::string(); },
   [](const Options& o) { return o.textfile_path; }},
  {"pushgateway.url", Kind::Value, "",
   "Push to this Pushgateway (http:// or https://, a path prefix is kept).",
   [](Options& o, std::string_view v) { o.pushgateway_url = v; return std::string(); },
   [](const Options& o) { return o.pushgateway_url; }},
  {"pushgateway.job", Kind::Value, "ecs", "The job label of the grouping key.",
   [](Options& o, std::string_view v) { o.pushgateway_job = v; return std::string(); },
   [](const Options& o) { return o.pushgateway_job; }},
  {"pushgateway.grouping-labels", Kind::Value, "task_family,task_revision,task_id",
   "Task identity labels in the grouping key, in order: task_id, task_family, task_revision, cluster, service_name, availability_zone, launch_type.",
   [](Options& o, std::string_view v) { o.pushgateway_grouping_labels = split_list(v); return std::string(); },
   [](const Options& o) { return join(o.pushgateway_grouping_labels); }},
  {"pushgateway.grouping-label", Kind::List, "",
   "A static NAME=VALUE added to the grouping key (repeatable; comma-separated in the environment).",
   [](Options& o, std::string_view v) {
     for (auto& s : split_list(v)) {
       size_t eq = s.find('=');
       if (eq == std::string::npos || eq == 0) return fmt::format("'{}' is not NAME=VALUE", s);
       o.pushgateway_static_labels.emplace_back(s.substr(0, eq), s.substr(eq + 1));
     }
     return std::string();
   },
   [](const Options& o) {
     std::string out;
     for (const auto& [k, v] : o.pushgateway_static_labels) {
       if (!out.empty()) out += ',';
       out.append(k).append("=").append(v);
     }
     return out;
   }},
  {"pushgateway.method", Kind::Value, "put", "put replaces the whole group each cycle; post replaces only the pushed metric names.",
   [](Options& o, std::string_view v) {
     if (v != "put" && v != "post") return fmt::format("'{}' is not put or post", v);
     o.pushgateway_method = v;
     return std::string();
   },
   [](const Options& o) { return o.pushgateway_method; }},
  {"pushgateway.gzip", Kind::Bool, "true", "Compress the pushed body with gzip (Pushgateway 1.5 and later accept it).",
   [](Options& o, std::string_view v) { return set_bool(o.pushgateway_gzip, v); },
   [](const Options& o) { return show_bool(o.pushgateway_gzip); }},
  {"pushgateway.username", Kind::Value, "", "Basic auth user name (the password comes from --pushgateway.password-file or $ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD).",
   [](Options& o, std::string_view v) { o.pushgateway_username = v; return std::string(); },
   [](const Options& o) { return o.pushgateway_username; }},
  {"pushgateway.password-file", Kind::Value, "", "File holding the basic auth password.",
   [](Options& o, std::string_view v) { o.pushgateway_password_file = v; return std::string(); },
   [](const Options& o) { return o.pushgateway_password_file; }, true},
  {"pushgateway.bearer-token-file", Kind::Value, "", "File holding a bearer token (or $ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN).",
   [](Options& o, std::string_view v) { o.pushgateway_bearer_token_file = v; return std::string(); },
   [](const Options& o) { return o.pushgateway_bearer_token_file; }, true},
  {"pushgateway.header", Kind::List, "", "An extra request header 'Name: value' (repeatable; comma-separated in the environment). Values are never logged.",
   [](Options& o, std::string_view v) {
     for (auto& s : split_list(v)) {
       size_t colon = s.find(':');
       if (colon == std::string::npos || colon == 0) return std::string("a header is not 'Name: value' (its text is not shown: it may hold a secret)");
       o.pushgateway_headers.push_back(s);
     }
     return std::string();
   },
   [](const Options& o) {
     std::string out;
     for (const auto& h : o.pushgateway_headers) {
       if (!out.empty()) out += ',';
       out.append(h, 0, h.find(':')).append(": <redacted>");
     }
     return out;
   }},
  {"pushgateway.ca-file", Kind::Value, "(system CAs)", "CA certificates (PEM) to verify the Pushgateway with.",
   [](Options& o, std::string_view v) { o.pushgateway_ca_file = v; return std::string(); },
   [](const Options& o) { return o.pushgateway_ca_file; }},
  {"pushgateway.cert-file", Kind::Value, "", "Client certificate (PEM) for mutual TLS.",
   [](Options& o, std::string_view v) { o.pushgateway_cert_file = v; return std::string(); },
   [](const Options& o) { return o.pushgateway_cert_file; }},
  {"pushgateway.key-file", Kind::Value, "", "Client private key (PEM) for mutual TLS.",
   [](Options& o, std::string_view v) { o.pushgateway_key_file = v; return std::string(); },
   [](const Options& o) { return o.pushgateway_key_file; }},
  {"pushgateway.insecure-skip-verify", Kind::Bool, "false", "Do not verify the Pushgateway's TLS certificate (logs a warning).",
   [](Options& o, std::string_view v) { return set_bool(o.pushgateway_insecure_skip_verify, v); },
   [](const Options& o) { return show_bool(o.pushgateway_insecure_skip_verify); }},
  {"pushgateway.connect-timeout", Kind::Value, "2s", "Connect timeout for the Pushgateway.",
   [](Options& o, std::string_view v) { return set_duration(o.pushgateway_connect_timeout, v, false); },
   [](const Options& o) { return format_duration(o.pushgateway_connect_timeout); }},
  {"pushgateway.timeout", Kind::Value, "5s", "Total timeout for one push attempt (retries stay within the interval).",
   [](Options& o, std::string_view v) { return set_duration(o.pushgateway_timeout, v, false); },
   [](const Options& o) { return format_duration(o.pushgateway_timeout); }},
  {"delete-on-exit", Kind::Bool, "false", "On shutdown, delete the Pushgateway group and remove the textfile.",
   [](Options& o, std::string_view v) { return set_bool(o.delete_on_exit, v); },
   [](const Options& o) { return show_bool(o.delete_on_exit); }},
  {"once", Kind::Bool, "false", "Run one cycle and exit (scheduled tasks, cron); see the exit codes.",
   [](Options& o, std::string_view v) { return set_bool(o.once, v); },
   [](const Options& o) { return show_bool(o.once); }},
  {"interval", Kind::Value, "15s", "Time between cycles in loop mode.",
   [](Options& o, std::string_view v) { return set_duration(o.interval, v, false); },
   [](const Options& o) { return format_duration(o.interval); }},
  {"interval.jitter", Kind::Value, "interval/4", "Largest random delay before the first cycle, so a fleet does not push in lockstep.",
   [](Options& o, std::string_view v) { return set_duration(o.interval_jitter, v, true); },
   [](const Options& o) { return format_duration(o.effective_jitter()); }},
  {"shutdown-timeout", Kind::Value, "10s", "On SIGTERM/SIGINT: time allowed for the final cycle and the clean-up.",
   [](Options& o, std::string_view v) { return set_duration(o.shutdown_timeout, v, false); },
   [](const Options& o) { return format_duration(o.shutdown_timeout); }},
  {"startup.retry-timeout", Kind::Value, "30s", "At start, retry the metadata with a short backoff for this long before reporting failure.",
   [](Options& o, std::string_view v) { return set_duration(o.startup_retry, v, true); },
   [](const Options& o) { return format_duration(o.startup_retry); }},
  {"log.level", Kind::Value, "info", "debug, info, warn or error.",
   [](Options& o, std::string_view v) {
     if (v == "debug") o.log_level = LogLevel::Debug;
     else if (v == "info") o.log_level = LogLevel::Info;
     else if (v == "warn") o.log_level = LogLevel::Warn;
     else if (v == "error") o.log_level = LogLevel::Error;
     else return fmt::format("'{}' is not one of debug, info, warn, error", v);
     return std::string();
   },
   [](const Options& o) { return std::string(kLevelNames[static_cast<int>(o.log_level)]); }},
  {"log.format", Kind::Value, "logfmt", "logfmt or json, on standard error.",
   [](Options& o, std::string_view v) {
     if (v == "logfmt") o.log_format = LogFormat::Logfmt;
     else if (v == "json") o.log_format = LogFormat::Json;
     else return fmt::format("'{}' is not logfmt or json", v);
     return std::string();
   },
   [](const Options& o) { return std::string(o.log_format == LogFormat::Json ? "json" : "logfmt"); }},
};
// clang-format on
constexpr size_t kFlagCount = std::size(kFlags);

void clear_list(Options& o, std::string_view name) {
  if (name == "container.include") o.container_include.clear();
  else if (name == "container.exclude") o.container_exclude.clear();
  else if (name == "pushgateway.grouping-label") o.pushgateway_static_labels.clear();
  else if (name == "pushgateway.header") o.pushgateway_headers.clear();
}

bool read_secret(const std::string& path, std::string& out, std::string& error, std::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("--{}: cannot read '{}': {}", flag, path, std::strerror(errno));
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return true;
}

bool has_scheme(std::string_view url) { return url.starts_with("http://") || url.starts_with("https://"); }

// "" or what is wrong with a URL we will send requests to.
std::string check_url(std::string_view flag, std::string_view url) {
  if (!has_scheme(url)) return fmt::format("--{}: '{}' has no http:// or https:// scheme", flag, url);
  std::string_view rest = url.substr(url.find("//") + 2);
  std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  if (host.empty() || host.front() == ':') return fmt::format("--{}: '{}' has no host", flag, url);
  for (unsigned char ch : url)
    if (ch <= ' ' || ch == 0x7f) return fmt::format("--{}: the URL contains a space or control character", flag);
  return "";
}

// user[:password]@ before the host.
bool url_has_userinfo(std::string_view url) {
  if (size_t scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  return url.substr(0, url.find_first_of("/?#")).find('@') != std::string_view::npos;
}

std::string validate(Options& o, char** envp) {
  auto env = [&](const char* name) -> std::string {
    size_t len = std::strlen(name);
    for (char** e = envp; e && *e; ++e)
      if (std::strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
    return {};
  };
  const bool files = !o.metadata_task_file.empty() || !o.metadata_stats_file.empty();
  if (files && !o.metadata_url.empty())
    return "--metadata.url and --metadata.task-file/--metadata.stats-file exclude each other";
  if (files && (o.metadata_task_file.empty() || o.metadata_stats_file.empty()))
    return "--metadata.task-file and --metadata.stats-file must be given together";
  if (!files && o.metadata_url.empty()) {
    o.metadata_url = env("ECS_CONTAINER_METADATA_URI_V4");
    if (o.metadata_url.empty()) o.metadata_url = env("ECS_CONTAINER_METADATA_URI");
    if (o.metadata_url.empty())
      return "--metadata.url: no metadata endpoint (not set, and neither $ECS_CONTAINER_METADATA_URI_V4 nor "
             "$ECS_CONTAINER_METADATA_URI is set); outside ECS use --metadata.task-file and --metadata.stats-file";
  }
  if (!o.metadata_url.empty())
    if (std::string e = check_url("metadata.url", o.metadata_url); !e.empty()) return e;
  while (!o.metadata_url.empty() && o.metadata_url.back() == '/') o.metadata_url.pop_back();

  if (!o.has_textfile() && !o.has_pushgateway())
    return "no sink configured: set --pushgateway.url, --textfile.directory or --textfile.path";
  if (!o.textfile_directory.empty() && !o.textfile_path.empty())
    return "--textfile.directory and --textfile.path exclude each other";
  if (!o.textfile_name.empty() && o.textfile_directory.empty())
    return "--textfile.name: needs --textfile.directory";
  if (!o.textfile_name.empty()) {
    if (o.textfile_name.find('/') != std::string::npos || !o.textfile_name.ends_with(".prom"))
      return fmt::format("--textfile.name: '{}' must be a plain file name ending in .prom", o.textfile_name);
  }
  if (o.has_pushgateway() && url_has_userinfo(o.pushgateway_url))  // checked first: never echo such a URL
    return "--pushgateway.url: a user name or password in the URL is not allowed (it would be logged); use "
           "--pushgateway.username with --pushgateway.password-file";
  if (o.has_pushgateway())
    if (std::string e = check_url("pushgateway.url", o.pushgateway_url); !e.empty()) return e;
  if (o.pushgateway_job.empty()) return "--pushgateway.job: must not be empty";
  for (size_t i = 0; i < o.pushgateway_grouping_labels.size(); ++i) {
    const std::string& l = o.pushgateway_grouping_labels[i];
    for (size_t j = 0; j < i; ++j)
      if (o.pushgateway_grouping_labels[j] == l)
        return fmt::format("--pushgateway.grouping-labels: '{}' is listed twice", l);
    static constexpr std::string_view kKnown[] = {"task_id", "task_family", "task_revision", "cluster",
                                                  "service_name", "availability_zone", "launch_type"};
    if (std::find(std::begin(kKnown), std::end(kKnown), l) == std::end(kKnown))
      return fmt::format("--pushgateway.grouping-labels: '{}' is not a task identity label (task_id, task_family, "
                         "task_revision, cluster, service_name, availability_zone, launch_type)", l);
  }

  if (!o.pushgateway_password_file.empty()) {
    std::string error;
    if (!read_secret(o.pushgateway_password_file, o.pushgateway_password, error, "pushgateway.password-file"))
      return error;
  } else {
    o.pushgateway_password = env("ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD");
  }
  if (!o.pushgateway_bearer_token_file.empty()) {
    std::string error;
    if (!read_secret(o.pushgateway_bearer_token_file, o.pushgateway_bearer_token, error,
                     "pushgateway.bearer-token-file"))
      return error;
  } else {
    o.pushgateway_bearer_token = env("ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN");
  }
  if (!o.pushgateway_password.empty() && o.pushgateway_username.empty())
    return "--pushgateway.username: a password is set but no user name";
  if (!o.pushgateway_username.empty() && !o.pushgateway_bearer_token.empty())
    return "--pushgateway.username and --pushgateway.bearer-token-file exclude each other";
  if (o.pushgateway_key_file.size() && o.pushgateway_cert_file.empty())
    return "--pushgateway.key-file needs --pushgateway.cert-file";
  for (const auto& f : {std::pair{"pushgateway.ca-file", &o.pushgateway_ca_file},
                        std::pair{"pushgateway.cert-file", &o.pushgateway_cert_file},
                        std::pair{"pushgateway.key-file", &o.pushgateway_key_file}}) {
    if (!f.second->empty() && access(f.second->c_str(), R_OK) != 0)
      return fmt::format("--{}: cannot read '{}': {}", f.first, *f.second, std::strerror(errno));
  }
  if (o.interval_jitter > o.interval) return "--interval.jitter: must not exceed --interval";
  if (o.once && o.delete_on_exit)
    return "--delete-on-exit: cannot be used with --once (the group or file would be removed right after the push)";
  return "";
}

}  // namespace

std::string env_name_for(std::string_view flag) {
  std::string out = "ECS_METRICS_PUSHER_";
  for (char c : flag) out += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string help_text() {
  std::string out =
      "Usage: ecs-metrics-pusher [flags]\n\n"
      "Reads the ECS task metadata endpoint (v4) and pushes the task's ee_* metrics to a\n"
      "Prometheus Pushgateway and/or a node_exporter textfile.\n\n"
      "Every flag can also be set by the environment variable shown; a flag wins. An empty\n"
      "variable counts as unset (for a list: an empty list). Durations: 250ms, 15s, 1m30s.\n\n";
  for (const Flag& f : kFlags) {
    out += fmt::format("  --{}{}\n      {}\n      env {}", f.name, f.kind == Kind::Bool ? "[=BOOL]" : "=VALUE", f.help,
                       env_name_for(f.name));
    if (*f.default_text) out += fmt::format("  (default: {})", f.default_text);
    out += "\n";
  }
  out +=
      "  --help       show this text\n"
      "  --version    show the version\n\n"
      "Secrets from the environment only (never flags): ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD,\n"
      "ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN.\n\n"
      "Exit codes: 0 ok (also after a clean shutdown on SIGTERM/SIGINT); 2 bad configuration;\n"
      "with --once: 3 metadata failed, 4 every sink failed, 5 some sinks failed; 6 the shutdown\n"
      "did not finish within --shutdown-timeout; 128+N a second stop signal N (143, 130).\n";
  return out;
}

ParseOutcome parse_options(int argc, char** argv, char** envp, Options& o, std::string& error) {
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
    if (name == "ECS_METRICS_PUSHER_PUSHGATEWAY_PASSWORD" || name == "ECS_METRICS_PUSHER_PUSHGATEWAY_BEARER_TOKEN")
      continue;  // secrets, read in validate()
    const Flag* flag = nullptr;
    for (const Flag& f : kFlags)
      if (env_name_for(f.name) == name) flag = &f;
    if (!flag) {
      error = fmt::format("{}: no such setting (a typo? see --help for every ECS_METRICS_PUSHER_* name)", name);
      return ParseOutcome::ExitConfig;
    }
    if (value.empty() && flag->kind != Kind::List) continue;
    if (flag->kind == Kind::List) clear_list(o, flag->name);
    std::string err = flag->apply(o, value);
    if (!err.empty()) {
      error = fmt::format("{} (--{}): {}", name, flag->name, err);
      return ParseOutcome::ExitConfig;
    }
  }

  // 2. The command line.
  std::vector<option> longopts;
  for (size_t i = 0; i < kFlagCount; ++i)
    longopts.push_back({kFlags[i].name, kFlags[i].kind == Kind::Bool ? optional_argument : required_argument, nullptr,
                        static_cast<int>(1000 + i)});
  longopts.push_back({"help", no_argument, nullptr, 'h'});
  longopts.push_back({"version", no_argument, nullptr, 'V'});
  longopts.push_back({nullptr, 0, nullptr, 0});
  std::vector<bool> list_seen(kFlagCount, false);
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
      if (optopt >= 1000) error = fmt::format("--{}: missing value (write --{}=VALUE)", written, written);
      else if (optopt) error = fmt::format("-{}: unknown flag (see --help)", static_cast<char>(optopt));
      else error = fmt::format("--{}: unknown flag (see --help)", written);
      return ParseOutcome::ExitConfig;
    }
    // getopt_long accepts any unambiguous prefix (--int for --interval); we
    // do not, so that adding a flag never changes what an old command means.
    const char* full = c == 'h' ? "help" : c == 'V' ? "version" : kFlags[c - 1000].name;
    if (written != full && !(written.size() == 1 && (c == 'h' || c == 'V'))) {
      error = fmt::format("--{}: unknown flag (did you mean --{}?)", written, full);
      return ParseOutcome::ExitConfig;
    }
    if (c == 'h') {
      fmt::print("{}", help_text());
      return ParseOutcome::ExitOk;
    }
    if (c == 'V') {
      fmt::print("ecs-metrics-pusher {}\n", EMP_VERSION);
      return ParseOutcome::ExitOk;
    }
    const size_t i = static_cast<size_t>(c - 1000);
    const Flag& f = kFlags[i];
    if (f.kind == Kind::List && !list_seen[i]) {
      clear_list(o, f.name);
      list_seen[i] = true;
    }
    std::string err = f.apply(o, optarg ? optarg : "");
    if (!err.empty()) {
      error = fmt::format("--{}: {}", f.name, err);
      return ParseOutcome::ExitConfig;
    }
  }
  if (optind < argc) {
    error = fmt::format("unexpected argument '{}' (flags are written --name=value)", argv[optind]);
    return ParseOutcome::ExitConfig;
  }

  // 3. What only makes sense as a whole.
  error = validate(o, envp);
  return error.empty() ? ParseOutcome::Run : ParseOutcome::ExitConfig;
}

std::vector<std::pair<std::string, std::string>> describe(const Options& o) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Flag& f : kFlags) out.emplace_back(f.name, f.show(o));
  out.emplace_back("pushgateway.password", o.pushgateway_password.empty() ? "" : "<redacted>");
  out.emplace_back("pushgateway.bearer-token", o.pushgateway_bearer_token.empty() ? "" : "<redacted>");
  return out;
}

}  // namespace emp
