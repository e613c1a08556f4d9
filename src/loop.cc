#include "loop.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <time.h>

#include <fmt/format.h>

#include "log.h"

namespace emp {

const char* signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "signal";
  }
}

namespace {

bool is_stop(int signal) { return signal == SIGTERM || signal == SIGINT; }

std::string seconds_text(std::chrono::nanoseconds d) {
  return fmt::format("{:.3f}s", std::chrono::duration<double>(d).count());
}

// ---- The process's signals: a self-pipe, so that a wait wakes at once. ----

int g_signal_pipe[2] = {-1, -1};
timer_t g_shutdown_timer{};  // CLOCK_MONOTONIC; fires SIGALRM when the shutdown budget is spent
int64_t g_shutdown_timeout_ns = 0;
std::atomic<int> g_stop_signals{0};
std::atomic<int64_t> g_first_stop_ns{0};  // CLOCK_MONOTONIC, the clock of steady_clock on Linux
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<int64_t>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

timespec to_timespec(int64_t ns) { return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)}; }

void on_signal(int signal) {
  const int saved_errno = errno;
  if (is_stop(signal)) {
    if (g_stop_signals.fetch_add(1) >= 1) {
      // The user (or ECS) insists: no final cycle, no clean-up.
      log::write_from_signal_handler(LogLevel::Warn, "second stop signal: exiting at once");
      _exit(128 + signal);
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const int64_t now_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
    g_first_stop_ns.store(now_ns);
    // The budget starts now, whatever the main thread is blocked in (a cycle
    // in flight counts against it). timer_settime is async-signal-safe.
    itimerspec when{};
    when.it_value = to_timespec(now_ns + g_shutdown_timeout_ns);
    timer_settime(g_shutdown_timer, TIMER_ABSTIME, &when, nullptr);
  }
  const unsigned char byte = static_cast<unsigned char>(signal);
  ssize_t ignored = ::write(g_signal_pipe[1], &byte, 1);  // full pipe: a wake-up is pending anyway
  (void)ignored;
  errno = saved_errno;
}

void on_shutdown_timeout(int) {
  log::write_from_signal_handler(LogLevel::Error, "shutdown timeout reached before the final cycle finished: exiting now");
  _exit(kExitShutdownTimeout);
}

class SignalWaiter final : public Waiter {
 public:
  SteadyTime now() override { return std::chrono::steady_clock::now(); }

  Wake wait_until(SteadyTime deadline) override {
    for (;;) {
      unsigned char byte = 0;
      if (::read(g_signal_pipe[0], &byte, 1) == 1) {
        Wake wake{byte, now()};
        if (is_stop(byte)) wake.received = SteadyTime(std::chrono::nanoseconds(g_first_stop_ns.load()));
        return wake;
      }
      const auto left = deadline - now();
      if (left <= std::chrono::nanoseconds(0)) return {};
      timespec timeout = to_timespec(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count());
      pollfd fd{g_signal_pipe[0], POLLIN, 0};
      ::ppoll(&fd, 1, &timeout, nullptr);  // EINTR or readable: look at the pipe again
    }
  }

  // Already armed by the stop signal's handler, from the moment it arrived.
  void arm_shutdown_deadline(SteadyTime) override {}
};

// ---- The driver ----

// Waits until `deadline`; SIGHUP is logged and the wait goes on. Returns the
// stop signal's wake, or signal 0 at the deadline.
Wake wait_ignoring_hup(Waiter& waiter, SteadyTime deadline) {
  for (;;) {
    Wake wake = waiter.wait_until(deadline);
    if (wake.signal == SIGHUP) {
      log::info("SIGHUP ignored: nothing to reload (configuration comes from flags and environment)");
      continue;
    }
    if (wake.signal == 0 || is_stop(wake.signal)) return wake;
  }
}

// Before the task identity is known there is nothing useful to push, and on
// a task that is just starting the endpoint may not answer yet: retry with a
// short backoff for a bounded time. Returns a stop signal's wake if one came.
Wake await_metadata(Cycle& cycle, const LoopSettings& s, Waiter& waiter, bool& fetched) {
  const SteadyTime start = waiter.now();
  const SteadyTime give_up = start + s.startup_retry;
  Duration backoff = kStartupBackoffFirst;
  std::string error;
  for (int attempt = 1;; ++attempt) {
    fetched = cycle.fetch_and_parse(error);
    const SteadyTime now = waiter.now();
    if (fetched) {
      if (attempt > 1)
        log::info("metadata available", {{"attempts", std::to_string(attempt)}, {"after", seconds_text(now - start)}});
      return {};
    }
    if (now >= give_up) {
      log::error("metadata unavailable at start-up; going on, each cycle reports success 0 until it answers",
                 {{"attempts", std::to_string(attempt)}, {"err", error}});
      return {};
    }
    if (attempt == 1)
      log::warn("metadata not available yet; retrying",
                {{"for", format_duration(s.startup_retry)}, {"err", error}});
    else
      log::debug("metadata still not available", {{"attempt", std::to_string(attempt)}, {"err", error}});
    Wake wake = wait_ignoring_hup(waiter, std::min(now + backoff, give_up));
    if (wake.signal != 0) return wake;
    backoff = std::min(backoff * 2, kStartupBackoffMax);
  }
}

// The sinks stop retrying a little before the hard deadline, so that the
// process ends by itself (exit 0, a last log line) rather than by the timer.
Duration shutdown_margin(Duration timeout) { return std::min(Duration(250), timeout / 10); }

int shut_down(Cycle& cycle, const LoopSettings& s, Waiter& waiter, const Wake& stop) {
  const SteadyTime deadline = stop.received + s.shutdown_timeout;
  waiter.arm_shutdown_deadline(deadline);
  cycle.set_deadline(deadline - shutdown_margin(s.shutdown_timeout));
  log::info("stopping", {{"signal", signal_name(stop.signal)}, {"timeout", format_duration(s.shutdown_timeout)},
                         {"delete_on_exit", s.delete_on_exit ? "true" : "false"}});
  if (s.delete_on_exit) {
    // A final push would be deleted a moment later, before anyone could
    // scrape it: spend the budget on the deletion alone.
    cycle.remove_published();
  } else {
    // The last values land; each failure was logged by the cycle.
    cycle.run();
  }
  log::info("stopped", {{"took", seconds_text(waiter.now() - stop.received)}});
  return kExitOk;
}

}  // namespace

std::unique_ptr<Waiter> install_signal_waiter(Duration shutdown_timeout, std::string& error) {
  if (g_signal_pipe[0] >= 0) {
    error = "signal handling is already installed";
    return nullptr;
  }
  if (::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = fmt::format("signal pipe: {}", std::strerror(errno));
    return nullptr;
  }
  g_shutdown_timeout_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(shutdown_timeout).count();
  sigevent event{};
  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = SIGALRM;
  if (timer_create(CLOCK_MONOTONIC, &event, &g_shutdown_timer) != 0) {
    error = fmt::format("timer_create: {}", std::strerror(errno));
    return nullptr;
  }
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // libcurl and file writes carry on; the loop looks at the pipe
  sa.sa_handler = on_shutdown_timeout;
  if (sigaction(SIGALRM, &sa, nullptr) != 0) {
    error = fmt::format("sigaction SIGALRM: {}", std::strerror(errno));
    return nullptr;
  }
  sa.sa_handler = on_signal;
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) {
    if (sigaction(signal, &sa, nullptr) != 0) {
      error = fmt::format("sigaction {}: {}", signal_name(signal), std::strerror(errno));
      return nullptr;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  // A file size limit (RLIMIT_FSIZE) must fail the write with EFBIG, which the
  // textfile sink reports, rather than kill the process (tests/fault_textfile.sh).
  ::signal(SIGXFSZ, SIG_IGN);
  return std::make_unique<SignalWaiter>();
}

LoopSettings loop_settings(const Options& o, uint64_t seed) {
  LoopSettings s;
  s.interval = o.interval;
  s.max_jitter = o.effective_jitter();
  s.shutdown_timeout = o.shutdown_timeout;
  s.startup_retry = o.startup_retry;
  s.delete_on_exit = o.delete_on_exit;
  s.seed = seed;
  return s;
}

int exit_code_of(const CycleResult& r) {
  if (!r.metadata_ok) return kExitMetadata;
  if (r.sinks_ok == 0) return kExitAllSinksFailed;
  if (r.sinks_failed > 0) return kExitSomeSinksFailed;
  return kExitOk;
}

int run_loop(Cycle& cycle, const LoopSettings& s, Waiter& waiter) {
  bool fetched = false;
  Wake stop = await_metadata(cycle, s, waiter, fetched);
  if (stop.signal != 0) return shut_down(cycle, s, waiter, stop);
  const SteadyTime fetched_at = waiter.now();

  Scheduler scheduler(s.interval, s.max_jitter, s.seed);
  scheduler.start(waiter.now());
  constexpr Duration kOverrunLogEvery{60000};
  SteadyTime last_overrun_log{};
  uint64_t overruns = 0, skipped_total = 0;
  log::debug("first cycle scheduled", {{"delay", format_duration(scheduler.start_delay())}});
  for (;;) {
    stop = wait_ignoring_hup(waiter, scheduler.next_tick());
    if (stop.signal != 0) return shut_down(cycle, s, waiter, stop);

    // The start-up probe's bodies are still fresh after a short start delay
    // (ECS refreshes stats about every 10 s): no second fetch for the first cycle.
    const bool reuse = fetched && waiter.now() - fetched_at <= kReuseProbeFor;
    const SteadyTime began = waiter.now();
    // Pushes (retries included) end before the next cycle is due: no pile-up.
    cycle.set_deadline(scheduler.next_tick() + s.interval);
    cycle.run(reuse ? Cycle::Fetch::AlreadyDone : Cycle::Fetch::Now);
    fetched = false;

    const SteadyTime ended = waiter.now();
    if (uint64_t skipped = scheduler.advance(ended); skipped > 0) {
      // On a starved host every cycle may overrun: one line a minute, with a count.
      ++overruns;
      skipped_total += skipped;
      if (last_overrun_log == SteadyTime{} || ended - last_overrun_log >= kOverrunLogEvery) {
        log::warn("cycle took longer than the interval; skipped ticks instead of catching up",
                  {{"took", seconds_text(ended - began)}, {"interval", format_duration(s.interval)},
                   {"overruns", std::to_string(overruns)}, {"skipped", std::to_string(skipped_total)}});
        last_overrun_log = ended;
        overruns = skipped_total = 0;
      }
    }
  }
}

int run_once(Cycle& cycle, const LoopSettings& s, Waiter& waiter) {
  bool fetched = false;
  // A stop signal during the wait for the metadata: go straight to the one
  // cycle (it is the final one), bounded by the shutdown timeout.
  Wake stop = await_metadata(cycle, s, waiter, fetched);
  if (stop.signal != 0) {
    waiter.arm_shutdown_deadline(stop.received + s.shutdown_timeout);
    cycle.set_deadline(stop.received + s.shutdown_timeout - shutdown_margin(s.shutdown_timeout));
  }
  CycleResult result = cycle.run(fetched ? Cycle::Fetch::AlreadyDone : Cycle::Fetch::Now);
  return exit_code_of(result);
}

}  // namespace emp
