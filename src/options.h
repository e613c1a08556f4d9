// options: the one configuration surface, and the only place (with main.cc)
// that knows every stage. Each stage owns its settings struct, with its
// defaults, next to its code; Options only puts them side by side. Every flag
// is also an environment variable ECS_METRICS_PUSHER_<NAME> (dots and dashes
// become underscores, upper case); a flag given on the command line wins.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector.h"
#include "log.h"
#include "loop.h"
#include "metadata_source.h"
#include "prune.h"
#include "pushgateway_sink.h"
#include "remote_write_sink.h"
#include "textfile_sink.h"
#include "web_server.h"

namespace emp {

struct Options {
  MetadataOptions metadata;
  ContainerFilter containers;
  TextfileOptions textfile;
  PushgatewayOptions pushgateway;
  RemoteWriteOptions remote_write;
  WebOptions web;
  LoopSettings loop;
  LogSettings log;
  PruneOptions prune;  // `ecs-metrics-pusher prune` only
};

enum class ParseOutcome { Run, ExitOk, ExitConfig };

// Reads the environment (`envp`, as from main) then argv into `out`,
// validates the whole, then reads the secrets (files or environment). Writes
// --help/--version to stdout and errors (one line naming the flag) to `error`.
ParseOutcome parse_options(int argc, char** argv, char** envp, Options& out, std::string& error);

// The --help text: every flag with its environment name and default.
std::string help_text();

// The same three for `ecs-metrics-pusher prune` (argv starts at "prune"),
// which has its own flag set: the janitor's settings land in Options::prune
// (and Options::log).
ParseOutcome parse_prune_options(int argc, char** argv, char** envp, Options& out, std::string& error);
std::string prune_help_text();
std::vector<std::pair<std::string, std::string>> describe_prune(const Options& o);

// Effective configuration as `key=value` pairs for the start-up log line,
// secrets and URL credentials redacted.
std::vector<std::pair<std::string, std::string>> describe(const Options& o);

// The value of the variable `name` in `envp` (as from main), "" when unset.
std::string env_value(char** envp, std::string_view name);

// ECS_METRICS_PUSHER_<NAME> for a flag name such as "pushgateway.url".
std::string env_name_for(std::string_view flag);

}  // namespace emp
