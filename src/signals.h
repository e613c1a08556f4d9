// signals: time and signals as the loop sees them. The process uses the
// waiter from install_signal_waiter(); tests use a fake that moves time
// without sleeping.
#pragma once

#include <memory>
#include <string>

#include "duration.h"

namespace emp {

// Why a wait ended: the deadline (signal 0) or a signal, with the time it
// arrived (a stop signal's shutdown budget counts from then, not from when
// the loop got round to it).
struct Wake {
  int signal = 0;
  SteadyTime received{};
};

class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual SteadyTime now() = 0;
  // Returns at `deadline`, or earlier when a signal arrives. A signal that
  // arrived while no one waited (e.g. during a cycle) is returned at once; a
  // stop signal always comes before any number of pending SIGHUPs.
  virtual Wake wait_until(SteadyTime deadline) = 0;
  // Shutdown has begun: if the process is still running at `deadline`, it
  // must end anyway (exit code kExitShutdownTimeout), whatever it is blocked in.
  virtual void arm_shutdown_deadline(SteadyTime deadline) = 0;
};

// SIGTERM and SIGINT stop the process (a second one exits at once, with
// 128 + the signal's number); SIGHUP is reported (the loop logs and ignores
// it); SIGPIPE is ignored so a closed stdout (--textfile.path=-) is an error,
// not death; SIGXFSZ likewise, so a file size limit fails the write.
// Signals coalesce: the handler only sets flags and wakes the waiter, so no
// burst can fill a queue and push a stop request out.
// The first stop signal starts the shutdown budget at once (a timer armed in
// the handler), so a cycle in flight counts against it; when it runs out the
// process exits with `timeout_exit_code`, whatever it is blocked in.
// Call once, before any thread exists. nullptr with `error` when it failed.
std::unique_ptr<Waiter> install_signal_waiter(Duration shutdown_timeout, int timeout_exit_code, std::string& error);

bool is_stop_signal(int signal);
const char* signal_name(int signal);

}  // namespace emp
