// loop: the driver. Loop mode (a sidecar for the task's whole life) and once
// mode (a scheduled task), the start-up wait for the metadata endpoint, and
// the shutdown on SIGTERM/SIGINT. Single-threaded: a cycle runs to its end
// (bounded by the metadata and push timeouts) before anything else happens,
// so two cycles never overlap.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cycle.h"
#include "duration.h"
#include "options.h"
#include "scheduler.h"

namespace emp {

// Why a wait ended: the deadline (signal 0) or a signal, with the time it
// arrived (a stop signal's shutdown budget counts from then, not from when
// the loop got round to it).
struct Wake {
  int signal = 0;
  SteadyTime received{};
};

// Time and signals as the loop sees them. The process uses the one from
// install_signal_waiter(); tests use a fake that moves time without sleeping.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual SteadyTime now() = 0;
  // Returns at `deadline`, or earlier when a signal arrives. A signal that
  // arrived while no one waited (e.g. during a cycle) is returned at once.
  virtual Wake wait_until(SteadyTime deadline) = 0;
  // Shutdown has begun: if the process is still running at `deadline`, it
  // must end anyway (exit code kExitShutdownTimeout), whatever it is blocked in.
  virtual void arm_shutdown_deadline(SteadyTime deadline) = 0;
};

// SIGTERM and SIGINT stop the process (a second one exits at once, with
// 128 + the signal's number); SIGHUP is logged and ignored (there is nothing
// to reload: the configuration is flags and environment); SIGPIPE is ignored
// so a closed stdout (--textfile.path=-) is an error, not death.
// The first stop signal starts the shutdown budget at once (a timer armed in
// the handler), so a cycle in flight counts against it; when it runs out the
// process exits with kExitShutdownTimeout, whatever it is blocked in.
// Call once, before any thread exists. nullptr with `error` when it failed.
std::unique_ptr<Waiter> install_signal_waiter(Duration shutdown_timeout, std::string& error);

struct LoopSettings {
  Duration interval{15000};
  Duration max_jitter{0};
  Duration shutdown_timeout{10000};
  Duration startup_retry{30000};
  bool delete_on_exit = false;
  uint64_t seed = 0;  // for the start delay
};
LoopSettings loop_settings(const Options& options, uint64_t seed);

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
// kExitSomeSinksFailed).
int run_once(Cycle& cycle, const LoopSettings& settings, Waiter& waiter);

// The exit code of a --once cycle.
int exit_code_of(const CycleResult& result);

const char* signal_name(int signal);

}  // namespace emp
