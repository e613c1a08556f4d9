// ecs-metrics-pusher: ECS task metadata → ee_* metrics → Pushgateway / textfile.
// The only place, with options.cc, that knows every stage: it builds each
// from its own settings and hands them to the loop.
#include <curl/curl.h>

#include <random>

#include <fmt/format.h>

#include "cycle.h"
#include "healthcheck.h"
#include "log.h"
#include "loop.h"
#include "options.h"
#include "prune.h"
#include "pushgateway_sink.h"
#include "remote_write_sink.h"
#include "scrape_sink.h"
#include "signals.h"
#include "textfile_sink.h"
#include "version.h"
#include "web_server.h"

extern char** environ;

namespace {

// One line with the effective configuration (secrets redacted by describe()).
void log_start(const emp::Options& options) {
  using emp::log::Field;
  const auto config = emp::describe(options);
  std::vector<Field> fields;
  fields.reserve(config.size() + 2);
  fields.push_back({"version", EMP_VERSION});
  fields.push_back({"mode", options.loop.once ? "once" : "loop"});
  for (const auto& [key, value] : config)
    if (!value.empty()) fields.push_back({key, value});
  emp::log::write(emp::LogLevel::Info, "starting", fields);

  // Cycles never overlap, so a metadata timeout past the interval means a
  // slow endpoint makes cycles skip ticks. (Pushes need no such warning: their
  // retries always end when the next cycle is due.)
  if (!options.loop.once && options.metadata.timeout >= options.loop.interval)
    emp::log::warn("--metadata.timeout is not shorter than --interval; a slow endpoint will make cycles skip ticks",
                   {{"timeout", emp::format_duration(options.metadata.timeout)},
                    {"interval", emp::format_duration(options.loop.interval)}});
}

// `ecs-metrics-pusher prune …`: the janitor (src/prune.h), its own flags.
int prune_main(int argc, char** argv) {
  using namespace emp;
  Options options;
  std::string error;
  switch (parse_prune_options(argc, argv, environ, options, error)) {
    case ParseOutcome::ExitOk:
      return kExitOk;
    case ParseOutcome::ExitConfig:
      fmt::print(stderr, "ecs-metrics-pusher prune: {}\n", error);
      return kExitConfig;
    case ParseOutcome::Run:
      break;
  }
  log::configure(options.log);
  std::unique_ptr<Waiter> waiter = install_signal_waiter(Duration(10000), kExitShutdownTimeout, error);
  if (!waiter) {
    log::error("cannot set up signal handling", {{"err", error}});
    return kExitConfig;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<log::Field> fields = {{"version", EMP_VERSION}, {"mode", options.prune.once ? "once" : "loop"}};
  const auto config = describe_prune(options);
  for (const auto& [key, value] : config)
    if (!value.empty()) fields.push_back({key, value});
  log::write(LogLevel::Info, "starting prune", fields);
  return run_prune(options.prune, *waiter);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace emp;
  if (argc > 1 && std::string_view(argv[1]) == "prune") return prune_main(argc - 1, argv + 1);
  if (argc > 1 && std::string_view(argv[1]) == "healthcheck") return healthcheck_main(argc - 1, argv + 1, environ);
  Options options;
  std::string error;
  // Everything below up to install_signal_waiter() does no network I/O, so a
  // bad configuration always ends here with exit code 2.
  switch (parse_options(argc, argv, environ, options, error)) {
    case ParseOutcome::ExitOk:
      return kExitOk;
    case ParseOutcome::ExitConfig:
      fmt::print(stderr, "ecs-metrics-pusher: {}\n", error);
      return kExitConfig;
    case ParseOutcome::Run:
      break;
  }
  log::configure(options.log);

  std::unique_ptr<Waiter> waiter = install_signal_waiter(options.loop.shutdown_timeout, kExitShutdownTimeout, error);
  if (!waiter) {
    log::error("cannot set up signal handling", {{"err", error}});
    return kExitConfig;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  auto fail_config = [&](const std::string& why) {
    fmt::print(stderr, "ecs-metrics-pusher: {}\n", why);
    return kExitConfig;
  };
  std::unique_ptr<MetadataSource> source = make_metadata_source(options.metadata, error);
  if (!source) return fail_config(error);
  std::vector<std::unique_ptr<Sink>> sinks;
  if (options.textfile.enabled()) sinks.push_back(make_textfile_sink(options.textfile));
  if (options.pushgateway.enabled()) {
    auto pushgateway = make_pushgateway_sink(options.pushgateway, error);
    if (!pushgateway) return fail_config(error);
    sinks.push_back(std::move(pushgateway));
  }
  if (options.remote_write.enabled()) {
    RemoteWriteOptions remote_write = options.remote_write;
    remote_write.interval = options.loop.interval;
    remote_write.once = options.loop.once;
    auto sink = make_remote_write_sink(remote_write, error);
    if (!sink) return fail_config(error);
    sinks.push_back(std::move(sink));
  }
  // The scrape endpoint: a sink like the others (it renders each cycle once),
  // served from its own thread, started after the signal mask is set so the
  // thread inherits it.
  std::unique_ptr<WebServer> web;
  if (options.web.enabled()) {
    auto state = std::make_shared<ScrapeState>();
    sinks.push_back(make_scrape_sink(state, options.web.metadata_passthrough));
    web = start_web_server(options.web, state, error);
    if (!web) return fail_config(error);
  }
  log_start(options);
  if (web)
    log::info("serving metrics for scraping", {{"address", options.web.listen_address},
                                               {"port", std::to_string(web->port())},
                                               {"path", options.web.telemetry_path}});

  Cycle cycle(std::move(source), std::move(sinks), options.containers,
              options.loop.once ? Duration(0) : options.loop.interval);
  LoopSettings settings = options.loop;
  settings.seed = std::random_device{}();
  return settings.once ? run_once(cycle, settings, *waiter) : run_loop(cycle, settings, *waiter);
}
