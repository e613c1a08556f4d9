// ecs-metrics-pusher: ECS task metadata → ee_* metrics → Pushgateway / textfile.
#include <curl/curl.h>

#include <random>

#include <fmt/format.h>

#include "cycle.h"
#include "log.h"
#include "loop.h"
#include "options.h"
#include "pushgateway_sink.h"
#include "textfile_sink.h"
#include "version.h"

extern char** environ;

namespace {

// One line with the effective configuration (secrets redacted by describe()).
void log_start(const emp::Options& options) {
  using emp::log::Field;
  const auto config = emp::describe(options);
  std::vector<Field> fields;
  fields.reserve(config.size() + 2);
  fields.push_back({"version", EMP_VERSION});
  fields.push_back({"mode", options.once ? "once" : "loop"});
  for (const auto& [key, value] : config)
    if (!value.empty()) fields.push_back({key, value});
  emp::log::write(emp::LogLevel::Info, "starting", fields);

  // Cycles never overlap, so a metadata timeout past the interval means a
  // slow endpoint makes cycles skip ticks. (Pushes need no such warning: their
  // retries always end when the next cycle is due.)
  if (!options.once && options.metadata_timeout >= options.interval)
    emp::log::warn("--metadata.timeout is not shorter than --interval; a slow endpoint will make cycles skip ticks",
                   {{"timeout", emp::format_duration(options.metadata_timeout)},
                    {"interval", emp::format_duration(options.interval)}});
}

}  // namespace

int main(int argc, char** argv) {
  using namespace emp;
  Options options;
  std::string error;
  // Everything below up to install_signal_waiter() does no network I/O, so a
  // bad configuration always ends here with exit code 2.
  switch (parse_options(argc, argv, environ, options, error)) {
    case ParseOutcome::ExitOk: return kExitOk;
    case ParseOutcome::ExitConfig:
      fmt::print(stderr, "ecs-metrics-pusher: {}\n", error);
      return kExitConfig;
    case ParseOutcome::Run: break;
  }
  log::configure(options.log_level, options.log_format);

  std::unique_ptr<Waiter> waiter = install_signal_waiter(options.shutdown_timeout, error);
  if (!waiter) {
    log::error("cannot set up signal handling", {{"err", error}});
    return kExitConfig;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  std::unique_ptr<MetadataSource> source =
      options.metadata_task_file.empty()
          ? make_http_source({options.metadata_url, options.metadata_connect_timeout, options.metadata_timeout,
                              options.metadata_max_body})
          : make_file_source(options.metadata_task_file, options.metadata_stats_file, options.metadata_max_body);
  std::vector<std::unique_ptr<Sink>> sinks;
  if (options.has_textfile())
    sinks.push_back(make_textfile_sink({options.textfile_directory, options.textfile_name, options.textfile_path}));
  if (options.has_pushgateway()) {
    auto pushgateway = make_pushgateway_sink(options, error);
    if (!pushgateway) {
      fmt::print(stderr, "ecs-metrics-pusher: {}\n", error);
      return kExitConfig;
    }
    sinks.push_back(std::move(pushgateway));
  }
  log_start(options);

  ContainerFilter filter{options.container_include, options.container_exclude};
  Cycle cycle(std::move(source), std::move(sinks), std::move(filter));
  const LoopSettings settings = loop_settings(options, std::random_device{}());
  return options.once ? run_once(cycle, settings, *waiter) : run_loop(cycle, settings, *waiter);
}
