#include "scheduler.h"

namespace emp {

Scheduler::Scheduler(Duration interval, Duration max_jitter, uint64_t seed)
    : interval_(interval), max_jitter_(max_jitter), random_(seed) {}

SteadyTime Scheduler::start(SteadyTime now) {
  start_delay_ = Duration{0};
  if (max_jitter_.count() > 0) {
    std::uniform_int_distribution<int64_t> delay(0, max_jitter_.count());
    start_delay_ = Duration{delay(random_)};
  }
  next_ = now + start_delay_;
  return next_;
}

uint64_t Scheduler::advance(SteadyTime now) {
  next_ += interval_;
  if (next_ >= now) return 0;
  // Late: whole intervals missed since the tick we just passed are dropped,
  // and the grid (not the end of the late cycle) stays the reference.
  const auto late = now - next_;
  const uint64_t missed = static_cast<uint64_t>((late + interval_ - std::chrono::nanoseconds(1)) / interval_);
  next_ += interval_ * static_cast<int64_t>(missed);
  skipped_total_ += missed;
  return missed;
}

}  // namespace emp
