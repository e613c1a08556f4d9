// scheduler: when the next cycle is due. Ticks lie on a fixed grid
// (first + k × interval), so the rate never drifts however long cycles take;
// a cycle that overruns skips the ticks it missed instead of bursting; the
// grid starts after a random delay so a fleet started together spreads out.
// Pure arithmetic on time points: the caller passes "now", so tests drive it
// with a clock of their own and never sleep.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "duration.h"

namespace emp {

class Scheduler {
 public:
  // `max_jitter` is the largest start delay (0: start at once); `seed` feeds
  // the delay's random draw (tests pass a fixed one).
  Scheduler(Duration interval, Duration max_jitter, uint64_t seed);

  // Anchors the grid: the first tick is now + a uniform delay in [0, max_jitter].
  SteadyTime start(SteadyTime now);
  SteadyTime next_tick() const { return next_; }
  bool due(SteadyTime now) const { return now >= next_; }

  // After the cycle of the current tick ended at `now`: moves to the first
  // grid tick at or after `now` and returns how many ticks were skipped
  // (0 when the cycle fitted in its interval).
  uint64_t advance(SteadyTime now);

  uint64_t skipped_total() const { return skipped_total_; }
  Duration start_delay() const { return start_delay_; }

 private:
  std::chrono::nanoseconds interval_;
  Duration max_jitter_;
  std::mt19937_64 random_;
  SteadyTime next_{};
  Duration start_delay_{0};
  uint64_t skipped_total_ = 0;
};

}  // namespace emp
