// loop: the driver. Loop mode (a sidecar for the task's whole life) and once
// mode (a scheduled task), the start-up wait for the metadata endpoint, and
// the shutdown on SIGTERM/SIGINT. Single-threaded: a cycle runs to its end
// (bounded by the metadata and push timeouts) before anything else happens,
// so two cycles never overlap.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cycle.h"
#include "duration.h"
#include "scheduler.h"
#include "signals.h"

namespace emp {

// Exit codes of the process (docs/configuration.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitConfig = 2,           // bad configuration, found before any I/O
  kExitMetadata = 3,         // --once: the metadata could not be fetched or parsed
  kExitAllSinksFailed = 4,   // --once: no sink delivered
  kExitSomeSinksFailed = 5,  // --once: at least one sink delivered, another failed
  kExitShutdownTimeout = 6,  // the final cycle/clean-up did not finish within --shutdown-timeout
  // A second SIGTERM/SIGINT during shutdown exits at once with 128 + signal (143, 130).
};

struct LoopSettings {
  bool once = false;
  Duration interval{15000};
  Duration jitter{-1};  // largest start delay; -1: a quarter of the interval
  Duration shutdown_timeout{10000};
  Duration startup_retry{30000};  // how long to retry the metadata before the identity is known
  // Loop mode: on SIGTERM/SIGINT remove what the sinks published (the
  // Pushgateway group, the textfile), so a stopped task leaves no series
  // behind. Unset means yes; --delete-on-exit=false keeps the last values.
  // Not used by --once (its group is replaced by the next run's).
  std::optional<bool> delete_on_exit;
  uint64_t seed = 0;  // for the start delay

  bool deletes_on_exit() const { return delete_on_exit.value_or(true); }

  Duration max_jitter() const { return jitter.count() < 0 ? interval / 4 : jitter; }
};

// Start-up backoff while the identity was never learned: 100ms, 200ms, …, capped.
inline constexpr Duration kStartupBackoffFirst{100};
inline constexpr Duration kStartupBackoffMax{2000};
// The first cycle uses the start-up probe's bodies when it starts within this.
inline constexpr Duration kReuseProbeFor{1000};

// Loop mode: cycles until SIGTERM/SIGINT, then the final cycle (or, with
// --delete-on-exit, the removal) within the shutdown timeout. Returns the
// process exit code (kExitOk after a clean shutdown).
int run_loop(Cycle& cycle, const LoopSettings& settings, Waiter& waiter);

// Once mode: waits for the metadata like the loop's start-up, runs one cycle
// and returns its exit code (kExitOk, kExitMetadata, kExitAllSinksFailed,
// kExitSomeSinksFailed). The delivery has --shutdown-timeout, retries
// included: a one-shot run is a final cycle.
int run_once(Cycle& cycle, const LoopSettings& settings, Waiter& waiter);

// The exit code of a --once cycle.
int exit_code_of(const CycleResult& result);

}  // namespace emp
