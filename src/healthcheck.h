// healthcheck: `ecs-metrics-pusher healthcheck`, the binary as its own ECS
// container health check (the image has no shell or curl). It GETs the
// local scrape endpoint's /-/healthy (or another path) and exits 0 on a 200,
// 1 otherwise, the contract of an ECS healthCheck command.
#pragma once

#include <string>

#include "duration.h"

namespace emp {

struct HealthcheckOptions {
  std::string url;  // empty: built from the address below
  std::string path = "/-/healthy";
  Duration timeout{3000};
  // From the pusher's own environment (the health check runs in the same
  // container): ECS_METRICS_PUSHER_WEB_LISTEN_ADDRESS, …_WEB_CONFIG_FILE.
  std::string listen_address = ":9546";
  bool tls = false;
};

// The URL probed: --healthcheck.url, else http(s)://<loopback>:<port><path>
// from the listen address (an empty or wildcard host becomes loopback).
std::string healthcheck_url(const HealthcheckOptions& options);

// `argv` starts at "healthcheck". Returns the exit code: 0 healthy, 1 not
// (one line on stderr says why), 2 bad flags.
int healthcheck_main(int argc, char** argv, char** envp);

}  // namespace emp
