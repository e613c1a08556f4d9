#include "scheduler.h"

#include <doctest/doctest.h>

#include <set>

using namespace emp;
using namespace std::chrono_literals;

namespace {
// An arbitrary, not round, origin: the grid must not depend on it.
const SteadyTime kT0 = SteadyTime(123456789ms);
}  // namespace

TEST_CASE("scheduler: without jitter the first tick is now, then one every interval") {
  Scheduler s(Duration(15000), Duration(0), 1);
  CHECK(s.start(kT0) == kT0);
  CHECK(s.start_delay() == 0ms);
  CHECK(s.due(kT0));
  CHECK_FALSE(s.due(kT0 - 1ns));
  // Cycles taking 0 s, 14.999 s and 3 s: the ticks stay at t0 + k·15 s.
  CHECK(s.advance(kT0) == 0);
  CHECK(s.next_tick() == kT0 + 15s);
  CHECK(s.advance(kT0 + 15s + 14999ms) == 0);
  CHECK(s.next_tick() == kT0 + 30s);
  CHECK(s.advance(kT0 + 33s) == 0);
  CHECK(s.next_tick() == kT0 + 45s);
  CHECK(s.skipped_total() == 0);
}

TEST_CASE("scheduler: fixed rate does not drift over a day of slow-ish cycles") {
  Scheduler s(Duration(15000), Duration(0), 1);
  s.start(kT0);
  SteadyTime tick = s.next_tick();
  for (int k = 1; k <= 5760; ++k) {  // 24 h of 15 s ticks, each cycle taking 0.7 s
    s.advance(tick + 700ms);
    tick = s.next_tick();
    REQUIRE(tick == kT0 + k * 15s);
  }
  CHECK(s.skipped_total() == 0);
}

TEST_CASE("scheduler: a cycle ending exactly on the next tick skips nothing") {
  Scheduler s(Duration(1000), Duration(0), 1);
  s.start(kT0);
  CHECK(s.advance(kT0 + 1s) == 0);
  CHECK(s.next_tick() == kT0 + 1s);
  CHECK(s.due(kT0 + 1s));
}

TEST_CASE("scheduler: an overrun skips the missed ticks instead of bursting, and keeps the grid") {
  Scheduler s(Duration(15000), Duration(0), 1);
  s.start(kT0);
  // The first cycle takes 16 s: the tick at 15 s is missed, the next is 30 s (not 16 s, not 31 s).
  CHECK(s.advance(kT0 + 16s) == 1);
  CHECK(s.next_tick() == kT0 + 30s);
  CHECK_FALSE(s.due(kT0 + 16s));
  // A cycle starting at 30 s that hangs for 47 s misses 45, 60 and 75 s; next is 90 s.
  CHECK(s.advance(kT0 + 77s) == 3);
  CHECK(s.next_tick() == kT0 + 90s);
  CHECK(s.skipped_total() == 4);
  // One nanosecond late is late.
  CHECK(s.advance(kT0 + 105s + 1ns) == 1);
  CHECK(s.next_tick() == kT0 + 120s);
  CHECK(s.skipped_total() == 5);
}

TEST_CASE("scheduler: the start delay stays within [0, jitter] and spreads a fleet") {
  const Duration jitter(3750);  // the default: a quarter of 15 s
  std::set<int64_t> delays;
  int64_t lowest = jitter.count(), highest = 0;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    Scheduler s(Duration(15000), jitter, seed);
    const SteadyTime first = s.start(kT0);
    REQUIRE(first >= kT0);
    REQUIRE(first <= kT0 + jitter);
    REQUIRE(first - kT0 == s.start_delay());
    delays.insert(s.start_delay().count());
    lowest = std::min<int64_t>(lowest, s.start_delay().count());
    highest = std::max<int64_t>(highest, s.start_delay().count());
    // After the delay the grid is fixed-rate from the first tick.
    s.advance(first + 1s);
    REQUIRE(s.next_tick() == first + 15s);
  }
  // 2000 tasks over 3751 possible milliseconds: well spread, ends reached.
  CHECK(delays.size() > 1000);
  CHECK(lowest < 50);
  CHECK(highest > jitter.count() - 50);
}

TEST_CASE("scheduler: the same seed gives the same delay; jitter 0 means no delay") {
  Scheduler a(Duration(1000), Duration(1000), 42), b(Duration(1000), Duration(1000), 42);
  CHECK(a.start(kT0) == b.start(kT0));
  Scheduler none(Duration(1000), Duration(0), 42);
  CHECK(none.start(kT0) == kT0);
}
