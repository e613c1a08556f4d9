// options: the one configuration surface. Every flag is also an environment
// variable ECS_METRICS_PUSHER_<NAME> (dots and dashes become underscores,
// upper case); a flag given on the command line wins over the environment.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "duration.h"

namespace emp {

// Exit codes of the process (documented in README).
enum ExitCode : int {
  kExitOk = 0,
  kExitConfig = 2,         // bad configuration, found before any I/O
  kExitMetadata = 3,       // --once: the metadata could not be fetched or parsed
  kExitAllSinksFailed = 4, // --once: no sink delivered
  kExitSomeSinksFailed = 5, // --once: at least one sink delivered, another failed
  kExitShutdownTimeout = 6, // the final cycle/clean-up did not finish within --shutdown-timeout
  // A second SIGTERM/SIGINT during shutdown exits at once with 128 + signal (143, 130).
};

enum class LogFormat { Logfmt, Json };
enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

struct Options {
  // metadata
  std::string metadata_url;  // empty: $ECS_CONTAINER_METADATA_URI_V4, then $ECS_CONTAINER_METADATA_URI
  std::string metadata_task_file;
  std::string metadata_stats_file;
  Duration metadata_connect_timeout{1000};
  Duration metadata_timeout{5000};
  size_t metadata_max_body = 16u << 20;

  // which containers
  std::vector<std::string> container_include;
  std::vector<std::string> container_exclude = {"~internal~ecs~pause"};

  // textfile sink
  std::string textfile_directory;
  std::string textfile_name;  // default ecs_<task_id>.prom
  std::string textfile_path;  // a file path, or "-" for stdout

  // Pushgateway sink
  std::string pushgateway_url;
  std::string pushgateway_job = "ecs";
  std::vector<std::string> pushgateway_grouping_labels = {"task_family", "task_revision", "task_id"};
  std::vector<std::pair<std::string, std::string>> pushgateway_static_labels;
  std::string pushgateway_method = "put";
  bool pushgateway_gzip = true;
  std::string pushgateway_username;
  std::string pushgateway_password;  // from the file or the environment, never a flag
  std::string pushgateway_password_file;
  std::string pushgateway_bearer_token;  // likewise
  std::string pushgateway_bearer_token_file;
  std::vector<std::string> pushgateway_headers;
  std::string pushgateway_ca_file;
  std::string pushgateway_cert_file;
  std::string pushgateway_key_file;
  bool pushgateway_insecure_skip_verify = false;
  Duration pushgateway_connect_timeout{2000};
  Duration pushgateway_timeout{5000};
  bool delete_on_exit = false;

  // loop
  bool once = false;
  Duration interval{15000};
  Duration interval_jitter{-1};  // -1: a quarter of the interval
  Duration shutdown_timeout{10000};
  Duration startup_retry{30000};  // how long to retry the metadata before the identity is known

  // logging
  LogLevel log_level = LogLevel::Info;
  LogFormat log_format = LogFormat::Logfmt;

  bool has_textfile() const { return !textfile_directory.empty() || !textfile_path.empty(); }
  bool has_pushgateway() const { return !pushgateway_url.empty(); }
  Duration effective_jitter() const { return interval_jitter.count() < 0 ? interval / 4 : interval_jitter; }
};

enum class ParseOutcome { Run, ExitOk, ExitConfig };

// Reads the environment (`envp`, as from main) then argv into `out`, then
// reads secret files and validates. Writes --help/--version to stdout and
// errors (one line naming the flag) to `error`.
ParseOutcome parse_options(int argc, char** argv, char** envp, Options& out, std::string& error);

// The --help text: every flag with its environment name and default.
std::string help_text();

// Effective configuration as `key=value` pairs for the start-up log line,
// secrets redacted.
std::vector<std::pair<std::string, std::string>> describe(const Options& o);

// ECS_METRICS_PUSHER_<NAME> for a flag name such as "pushgateway.url".
std::string env_name_for(std::string_view flag);

}  // namespace emp
