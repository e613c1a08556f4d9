#include "loop.h"

#include <signal.h>

#include <algorithm>

#include <fmt/format.h>

#include "log.h"

namespace emp {

namespace {

std::string seconds_text(std::chrono::nanoseconds d) {
  return fmt::format("{:.3f}s", std::chrono::duration<double>(d).count());
}

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
    if (wake.signal == 0 || is_stop_signal(wake.signal)) return wake;
  }
}

// Before the task identity is known there is nothing useful to push, and on
// a task that is just starting the endpoint may not answer yet: retry
// transient failures (connection refused, timeouts, 5xx, 429) with a short
// backoff for at most --startup.retry-timeout. A failure that asking again
// cannot heal (404, 3xx, 204, a malformed body, a replay file) ends the wait
// at once. Returns a stop signal's wake if one came. In once mode the failure
// is left for the one cycle to log (one error line for one failure).
Wake await_metadata(Cycle& cycle, const LoopSettings& s, Waiter& waiter, bool& fetched) {
  const SteadyTime start = waiter.now();
  const SteadyTime give_up = start + s.startup_retry;
  Duration backoff = kStartupBackoffFirst;
  std::string error;
  for (int attempt = 1;; ++attempt) {
    const FetchResult result = cycle.fetch_and_parse(error);
    fetched = result == FetchResult::Ok;
    const SteadyTime now = waiter.now();
    if (fetched) {
      if (attempt > 1)
        log::info("metadata available", {{"attempts", std::to_string(attempt)}, {"after", seconds_text(now - start)}});
      return {};
    }
    if (result == FetchResult::Permanent || now >= give_up) {
      if (!s.once) {
        log::error(result == FetchResult::Permanent
                       ? "metadata unusable at start-up (asking again will not help); going on, each cycle reports "
                         "success 0 until it is fixed"
                       : "metadata unavailable at start-up; going on, each cycle reports success 0 until it answers",
                   {{"attempts", std::to_string(attempt)}, {"err", error}});
      }
      return {};
    }
    if (attempt == 1)
      log::warn("metadata not available yet; retrying", {{"for", format_duration(s.startup_retry)}, {"err", error}});
    else
      log::debug("metadata still not available", {{"attempt", std::to_string(attempt)}, {"err", error}});
    Wake wake = wait_ignoring_hup(waiter, std::min(now + backoff, give_up));
    if (wake.signal != 0) return wake;
    backoff = std::min(backoff * 2, kStartupBackoffMax);
  }
}

// The sinks stop retrying a while before the hard deadline, so that the
// process ends by itself (exit 0, a last log line) rather than by the timer:
// a fifth of the budget, at most 1 s. (250 ms was too thin for a last
// attempt and the exit on a starved 2-core machine under ASan.)
Duration shutdown_margin(Duration timeout) { return std::min(Duration(1000), timeout / 5); }

int shut_down(Cycle& cycle, const LoopSettings& s, Waiter& waiter, const Wake& stop) {
  const SteadyTime deadline = stop.received + s.shutdown_timeout;
  waiter.arm_shutdown_deadline(deadline);
  const SteadyTime sinks_deadline = deadline - shutdown_margin(s.shutdown_timeout);
  log::info("stopping", {{"signal", signal_name(stop.signal)},
                         {"timeout", format_duration(s.shutdown_timeout)},
                         {"delete_on_exit", s.deletes_on_exit() ? "true" : "false"}});
  if (s.deletes_on_exit()) {
    // A final push would be deleted a moment later, before anyone could
    // scrape it: spend the budget on the deletion alone.
    cycle.remove_published(sinks_deadline);
  } else {
    // The last values land; each failure was logged by the cycle.
    cycle.run(sinks_deadline);
  }
  log::info("stopped", {{"took", seconds_text(waiter.now() - stop.received)}});
  return kExitOk;
}

}  // namespace

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

  Scheduler scheduler(s.interval, s.max_jitter(), s.seed);
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
    const SteadyTime tick = scheduler.next_tick();
    const SteadyTime began = waiter.now();
    // Pushes (retries included) end before the next cycle is due: no pile-up.
    cycle.run(scheduler.next_tick() + s.interval, reuse ? Cycle::Fetch::AlreadyDone : Cycle::Fetch::Now);
    fetched = false;

    const SteadyTime ended = waiter.now();
    if (uint64_t skipped = scheduler.advance(ended); skipped > 0) {
      // On a starved host every cycle may overrun: one line a minute, with a count.
      ++overruns;
      skipped_total += skipped;
      if (last_overrun_log == SteadyTime{} || ended - last_overrun_log >= kOverrunLogEvery) {
        // The overrun is the cycle's own time, or (SIGSTOP, a starved host)
        // the time between the tick and the moment the process woke up.
        const bool cycle_slow = ended - began >= s.interval;
        log::warn(cycle_slow ? "cycle took longer than the interval; skipped ticks instead of catching up"
                             : "woke up late (the process was paused or starved); skipped ticks instead of catching up",
                  {{"took", seconds_text(ended - began)},
                   {"late", seconds_text(began - tick)},
                   {"interval", format_duration(s.interval)},
                   {"overruns", std::to_string(overruns)},
                   {"skipped", std::to_string(skipped_total)}});
        last_overrun_log = ended;
        overruns = skipped_total = 0;
      }
    }
  }
}

int run_once(Cycle& cycle, const LoopSettings& s, Waiter& waiter) {
  bool fetched = false;  // (the cycle keeps the attempt's outcome itself)
  // A stop signal during the wait for the metadata: go straight to the one
  // cycle (it is the final one), bounded by the shutdown timeout.
  Wake stop = await_metadata(cycle, s, waiter, fetched);
  // The one cycle is a final cycle: it has the shutdown budget, counted from
  // a stop signal if one came, else from now.
  const SteadyTime from = stop.signal != 0 ? stop.received : waiter.now();
  if (stop.signal != 0) waiter.arm_shutdown_deadline(from + s.shutdown_timeout);
  const SteadyTime deadline = from + s.shutdown_timeout - shutdown_margin(s.shutdown_timeout);
  // The wait's last attempt is the cycle's fetch, good or bad: a failure is
  // logged once and a replay file read once.
  CycleResult result = cycle.run(deadline, Cycle::Fetch::AlreadyDone);
  return exit_code_of(result);
}

}  // namespace emp
