// ecs-metrics-pusher: ECS task metadata → ee_* metrics → Pushgateway / textfile.
#include <curl/curl.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "cycle.h"
#include "log.h"
#include "options.h"
#include "pushgateway_sink.h"
#include "textfile_sink.h"

extern char** environ;

int main(int argc, char** argv) {
  using namespace emp;
  Options options;
  std::string error;
  switch (parse_options(argc, argv, environ, options, error)) {
    case ParseOutcome::ExitOk: return kExitOk;
    case ParseOutcome::ExitConfig:
      fmt::print(stderr, "ecs-metrics-pusher: {}\n", error);
      return kExitConfig;
    case ParseOutcome::Run: break;
  }
  log::configure(options.log_level, options.log_format);
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
  ContainerFilter filter{options.container_include, options.container_exclude};
  Cycle cycle(std::move(source), std::move(sinks), std::move(filter));

  if (options.once) {
    CycleResult r = cycle.run();
    if (!r.metadata_ok) return kExitMetadata;
    if (r.sinks_ok == 0) return kExitAllSinksFailed;
    if (r.sinks_failed > 0) return kExitSomeSinksFailed;
    return kExitOk;
  }
  for (;;) {
    cycle.run();
    std::this_thread::sleep_for(options.interval);
  }
}
