// The driver with time and signals under the test's control: a fake waiter
// moves time only when the loop waits or a cycle "takes" time, so hours of
// loop run in microseconds and every instant is exact.
#include "loop.h"

#include <doctest/doctest.h>

#include <signal.h>

#include <deque>
#include <functional>

#include "tests/test_util.h"

using namespace emp;
using namespace std::chrono_literals;

namespace {

const SteadyTime kT0 = SteadyTime(1000000s);
constexpr const char* kTask = "ecs_exporter/fargate-awsvpc-cgroupv1.task.json";
constexpr const char* kStats = "ecs_exporter/fargate-awsvpc-cgroupv1.stats.json";
constexpr const char* kTaskId = "bae32def0ab64f06818e8862e58f8d6d";

class FakeWaiter final : public Waiter {
 public:
  SteadyTime t = kT0;
  std::deque<std::pair<SteadyTime, int>> signals;  // in time order
  std::vector<SteadyTime> waits;                   // each deadline asked for
  std::optional<SteadyTime> armed;

  SteadyTime now() override { return t; }
  Wake wait_until(SteadyTime deadline) override {
    waits.push_back(deadline);
    if (!signals.empty() && signals.front().first <= std::max(t, deadline)) {
      auto [at, sig] = signals.front();
      signals.pop_front();
      t = std::max(t, at);
      return {sig, at};
    }
    t = std::max(t, deadline);
    return {};
  }
  void arm_shutdown_deadline(SteadyTime deadline) override { armed = deadline; }
  void signal_at(Duration after_t0, int sig) { signals.emplace_back(kT0 + after_t0, sig); }
  Duration elapsed() const { return std::chrono::duration_cast<Duration>(t - kT0); }
};

// The ECS endpoint, replaying a real capture; each fetch takes `cost` of fake
// time and fails when `fails(n)` says so (n counts fetches from 0).
class ReplaySource final : public MetadataSource {
 public:
  ReplaySource(FakeWaiter& w, Duration cost, std::function<bool(int)> fails)
      : waiter_(w),
        cost_(cost),
        fails_(std::move(fails)),
        task_(test::read_fixture(kTask)),
        stats_(test::read_fixture(kStats)) {}
  std::vector<Duration>* fetch_times = nullptr;
  FetchResult failure = FetchResult::Transient;  // how a failing fetch fails

  FetchResult fetch(MetadataBodies& out, std::string& error) override {
    if (fetch_times) fetch_times->push_back(waiter_.elapsed());
    waiter_.t += cost_;
    if (fails_(n_++)) {
      error = "GET http://169.254.170.2/v4/x/task: connection refused";
      return failure;
    }
    out.task.assign(task_);
    out.stats.assign(stats_);
    return FetchResult::Ok;
  }

 private:
  FakeWaiter& waiter_;
  Duration cost_;
  std::function<bool(int)> fails_;
  int n_ = 0;
  std::string task_, stats_;
};

struct Delivered {
  Duration at;
  double success;
  std::string task_id;
  double metadata_errors;
  size_t samples;
};

// Records what each cycle delivered, and when.
class RecordingSink final : public Sink {
 public:
  RecordingSink(FakeWaiter& w, std::vector<Delivered>& log, std::vector<Duration>& removals, bool fail)
      : waiter_(w), log_(log), removals_(removals), fail_(fail) {}
  std::string_view name() const override { return fail_ ? "broken" : "recording"; }
  bool deliver(const Delivery& d, std::string& error) override {
    const MetricSet& set = d.set;
    const TaskIdentity& id = d.identity;
    deadlines.push_back(std::chrono::duration_cast<Duration>(d.deadline - kT0));
    log_.push_back({waiter_.elapsed(), set.samples(Metric::ExporterSuccess).at(0).value, id.task_id,
                    set.samples(Metric::ExporterMetadataErrors).at(0).value, set.size()});
    if (fail_) error = "no space left on device";
    return !fail_;
  }
  bool remove(const TaskIdentity&, SteadyTime deadline, std::string&) override {
    deadlines.push_back(std::chrono::duration_cast<Duration>(deadline - kT0));
    removals_.push_back(waiter_.elapsed());
    return true;
  }
  std::vector<Duration> deadlines;

 private:
  FakeWaiter& waiter_;
  std::vector<Delivered>& log_;
  std::vector<Duration>& removals_;
  bool fail_;
};

struct Rig {
  FakeWaiter waiter;
  std::vector<Delivered> deliveries;
  std::vector<Duration> removals;
  std::vector<Duration> fetches;
  std::unique_ptr<Cycle> cycle;
  LoopSettings settings;
  Sink* sink = nullptr;  // the first one
  ReplaySource* source = nullptr;

  explicit Rig(
      Duration fetch_cost = Duration(0), std::function<bool(int)> fails = [](int) { return false; },
      std::vector<bool> sink_fails = {false}) {
    auto source = std::make_unique<ReplaySource>(waiter, fetch_cost, std::move(fails));
    source->fetch_times = &fetches;
    this->source = source.get();
    std::vector<std::unique_ptr<Sink>> sinks;
    for (bool f : sink_fails) sinks.push_back(std::make_unique<RecordingSink>(waiter, deliveries, removals, f));
    sink = sinks.front().get();
    cycle = std::make_unique<Cycle>(std::move(source), std::move(sinks), ContainerFilter{});
    settings.interval = Duration(1000);
    settings.jitter = Duration(0);
    settings.shutdown_timeout = Duration(5000);
    settings.startup_retry = Duration(3000);
    settings.delete_on_exit = false;  // most cases look at the final cycle
  }
  std::vector<Duration> delivery_times() const {
    std::vector<Duration> out;
    for (const auto& d : deliveries) out.push_back(d.at);
    return out;
  }
};

std::vector<Duration> ms(std::initializer_list<int> v) {
  std::vector<Duration> out;
  for (int x : v) out.emplace_back(x);
  return out;
}

std::string str(const std::vector<Duration>& v) {
  std::string out;
  for (auto d : v) out += std::to_string(d.count()) + "ms ";
  return out;
}

}  // namespace

TEST_CASE("loop: fixed-rate cycles, then SIGTERM runs one final cycle and exits 0") {
  Rig rig(Duration(300));  // each fetch takes 300 ms
  rig.waiter.signal_at(Duration(3500), SIGTERM);
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  // Start-up probe at 0 (reused by the first cycle, which starts at 300 ms when it ends),
  // then the grid 1.3, 2.3, 3.3 s; SIGTERM at 3.5 s arrives during the 3.3 s cycle, so
  // the final cycle follows it at 3.6 s.
  CHECK(str(rig.fetches) == str(ms({0, 1300, 2300, 3300, 3600})));
  CHECK(str(rig.delivery_times()) == str(ms({300, 1600, 2600, 3600, 3900})));
  for (const auto& d : rig.deliveries) {
    CHECK(d.success == 1);
    CHECK(d.task_id == kTaskId);
  }
  REQUIRE(rig.waiter.armed);
  CHECK(*rig.waiter.armed == kT0 + 3500ms + 5000ms);  // the budget counts from the signal
  CHECK(rig.removals.empty());
  // Each push must end before the next cycle is due; the final one 1 s (a fifth of 5 s) before the hard end.
  auto* sink = dynamic_cast<RecordingSink*>(rig.sink);
  REQUIRE(sink);
  CHECK(str(sink->deadlines) == str(ms({1300, 2300, 3300, 4300, 7500})));
}

TEST_CASE("loop: a cycle longer than the interval skips ticks and never overlaps") {
  Rig rig(Duration(2500));  // 2.5 s fetches against a 1 s interval
  rig.waiter.signal_at(Duration(9000), SIGINT);
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  // Probe 0–2.5 s; first cycle at 2.5 s reuses it. Grid from 2.5 s: ticks 3.5 … are
  // missed while a cycle runs, so cycles start at 2.5, 3.5 (first real fetch, ends 6.0),
  // 6.5 (ends 9.0); SIGINT at 9.0 → final cycle at 9.0.
  CHECK(str(rig.fetches) == str(ms({0, 3500, 6500, 9000})));
  CHECK(str(rig.delivery_times()) == str(ms({2500, 6000, 9000, 11500})));
  // Each cycle started after the previous one ended.
  for (size_t i = 1; i < rig.fetches.size(); ++i) CHECK(rig.fetches[i] >= rig.deliveries[i - 1].at);
}

TEST_CASE("loop: the metadata flaps — success 1 → 0 → 1 under the same identity, errors counted") {
  // Fetch 0 is the probe; cycles fetch from 1 on. Cycles 2 and 3 (fetches 2, 3) fail.
  Rig rig(Duration(0), [](int n) { return n == 2 || n == 3; });
  rig.waiter.signal_at(Duration(4500), SIGTERM);
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  REQUIRE(rig.deliveries.size() == 6);  // 0, 1, 2, 3, 4 s and the final one
  const double success[] = {1, 1, 0, 0, 1, 1};
  const double errors[] = {0, 0, 1, 2, 2, 2};
  for (size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    CHECK(rig.deliveries[i].success == success[i]);
    CHECK(rig.deliveries[i].metadata_errors == errors[i]);
    CHECK(rig.deliveries[i].task_id == kTaskId);  // the last known identity, even when failing
  }
  // A failed cycle carries only the exporter's own series, not stale container values.
  CHECK(rig.deliveries[2].samples < rig.deliveries[1].samples);
  CHECK(rig.deliveries[4].samples == rig.deliveries[1].samples);
}

TEST_CASE("loop: at start-up the metadata is retried with a short backoff, then the loop begins") {
  Rig rig(Duration(0), [](int n) { return n < 4; });  // answers from the 5th try
  rig.waiter.signal_at(Duration(2000), SIGTERM);
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  // Backoff 100, 200, 400, 800 ms: tries at 0, 0.1, 0.3, 0.7, 1.5 s; the 5th answers and
  // the first cycle uses it; the next cycle is one interval later; SIGTERM at 2 s.
  CHECK(str(std::vector<Duration>(rig.fetches.begin(), rig.fetches.begin() + 5)) == str(ms({0, 100, 300, 700, 1500})));
  CHECK(str(rig.delivery_times()) == str(ms({1500, 2000})));
  CHECK(rig.deliveries.front().success == 1);
  CHECK(rig.deliveries.front().metadata_errors == 0);  // start-up tries are not cycles
}

TEST_CASE("loop: start-up gives up after --startup.retry-timeout and reports success 0 each cycle") {
  Rig rig(Duration(0), [](int) { return true; });
  rig.settings.startup_retry = Duration(1000);
  rig.waiter.signal_at(Duration(2500), SIGTERM);
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  // Tries at 0, 0.1, 0.3, 0.7 and, capped by the budget, 1.0 s; then cycles at 1.0, 2.0 s + final.
  CHECK(str(std::vector<Duration>(rig.fetches.begin(), rig.fetches.begin() + 5)) == str(ms({0, 100, 300, 700, 1000})));
  CHECK(str(rig.delivery_times()) == str(ms({1000, 2000, 2500})));
  for (const auto& d : rig.deliveries) {
    CHECK(d.success == 0);
    CHECK(d.task_id.empty());
  }
  CHECK(rig.deliveries.back().metadata_errors == 3);
}

TEST_CASE("loop: the backoff is capped") {
  Rig rig(Duration(0), [](int) { return true; });
  rig.settings.startup_retry = Duration(10000);
  rig.waiter.signal_at(Duration(9000), SIGTERM);
  run_loop(*rig.cycle, rig.settings, rig.waiter);
  // 0, .1, .3, .7, 1.5, 3.1, then every 2 s: 5.1, 7.1; SIGTERM at 9 s during the wait.
  CHECK(str(std::vector<Duration>(rig.fetches.begin(), rig.fetches.begin() + 8)) ==
        str(ms({0, 100, 300, 700, 1500, 3100, 5100, 7100})));
}

TEST_CASE("loop: SIGHUP is ignored — no extra cycle, the grid holds") {
  Rig rig;
  rig.waiter.signal_at(Duration(1500), SIGHUP);
  rig.waiter.signal_at(Duration(1600), SIGHUP);
  rig.waiter.signal_at(Duration(3000), SIGTERM);
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  // A signal and a tick at the same instant: the signal wins, so 3 s is the final cycle.
  CHECK(str(rig.delivery_times()) == str(ms({0, 1000, 2000, 3000})));
}

TEST_CASE("loop: by default a stop removes what was published instead of a final push") {
  Rig rig;
  rig.settings.delete_on_exit.reset();
  CHECK(rig.settings.deletes_on_exit());
  rig.waiter.signal_at(Duration(1500), SIGTERM);
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  CHECK(str(rig.delivery_times()) == str(ms({0, 1000})));
  CHECK(rig.removals == ms({1500}));
}

TEST_CASE("loop: --delete-on-exit removes what was published instead of a final push") {
  Rig rig;
  rig.settings.delete_on_exit = true;
  rig.waiter.signal_at(Duration(1500), SIGTERM);
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  CHECK(str(rig.delivery_times()) == str(ms({0, 1000})));
  CHECK(rig.removals == ms({1500}));
  CHECK(*rig.waiter.armed == kT0 + 6500ms);
}

TEST_CASE("loop: a stop signal that arrived during a cycle is honoured when it ends, budget from arrival") {
  Rig rig(Duration(800));
  rig.waiter.signal_at(Duration(1200), SIGTERM);  // while waiting for the 1.8 s tick
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  // Probe 0–0.8 s, first cycle at 0.8 s (reused). Next tick 1.8 s; SIGTERM at 1.2 s wakes the wait.
  CHECK(str(rig.fetches) == str(ms({0, 1200})));
  CHECK(*rig.waiter.armed == kT0 + 1200ms + 5000ms);

  Rig busy(Duration(800));
  busy.waiter.signal_at(Duration(2000), SIGTERM);  // while the cycle of 1.8 s fetches (until 2.6 s)
  CHECK(run_loop(*busy.cycle, busy.settings, busy.waiter) == kExitOk);
  CHECK(str(busy.fetches) == str(ms({0, 1800, 2600})));
  CHECK(*busy.waiter.armed == kT0 + 2000ms + 5000ms);
}

TEST_CASE("loop: SIGTERM during the start-up wait stops without waiting for the metadata") {
  Rig rig(Duration(0), [](int) { return true; });
  rig.waiter.signal_at(Duration(250), SIGTERM);
  CHECK(run_loop(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
  CHECK(rig.waiter.elapsed() == Duration(250));
  CHECK(str(rig.fetches) == str(ms({0, 100, 250})));  // two tries, then the final cycle's own
}

TEST_CASE("once: one fetch, one delivery, exit codes by outcome") {
  SUBCASE("success → 0, the probe's bodies are not fetched twice") {
    Rig rig;
    CHECK(run_once(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
    CHECK(rig.fetches.size() == 1);
    REQUIRE(rig.deliveries.size() == 1);
    CHECK(rig.deliveries[0].success == 1);
  }
  SUBCASE("metadata down past the start-up retry → 3, success 0 still delivered") {
    Rig rig(Duration(0), [](int) { return true; });
    rig.settings.startup_retry = Duration(0);
    CHECK(run_once(*rig.cycle, rig.settings, rig.waiter) == kExitMetadata);
    REQUIRE(rig.deliveries.size() == 1);
    CHECK(rig.deliveries[0].success == 0);
  }
  SUBCASE("a failure that cannot heal (404, malformed, a replay file) → 3 at once, fetched once") {
    Rig rig(Duration(0), [](int) { return true; });
    rig.source->failure = FetchResult::Permanent;
    CHECK(run_once(*rig.cycle, rig.settings, rig.waiter) == kExitMetadata);
    CHECK(str(rig.fetches) == str(ms({0})));
    CHECK(rig.waiter.elapsed() == Duration(0));
    REQUIRE(rig.deliveries.size() == 1);
    CHECK(rig.deliveries[0].success == 0);
  }
  SUBCASE("transient failures are retried for --startup.retry-timeout, the last attempt is the cycle's") {
    Rig rig(Duration(0), [](int) { return true; });
    rig.settings.startup_retry = Duration(1000);
    CHECK(run_once(*rig.cycle, rig.settings, rig.waiter) == kExitMetadata);
    CHECK(str(rig.fetches) == str(ms({0, 100, 300, 700, 1000})));
    CHECK(rig.deliveries.size() == 1);
  }
  SUBCASE("metadata late but within the start-up retry → 0") {
    Rig rig(Duration(0), [](int n) { return n < 2; });
    CHECK(run_once(*rig.cycle, rig.settings, rig.waiter) == kExitOk);
    CHECK(str(rig.fetches) == str(ms({0, 100, 300})));
  }
  SUBCASE("the only sink fails → 4") {
    Rig rig(Duration(0), [](int) { return false; }, {true});
    CHECK(run_once(*rig.cycle, rig.settings, rig.waiter) == kExitAllSinksFailed);
  }
  SUBCASE("one of two sinks fails → 5") {
    Rig rig(Duration(0), [](int) { return false; }, {true, false});
    CHECK(run_once(*rig.cycle, rig.settings, rig.waiter) == kExitSomeSinksFailed);
    CHECK(rig.deliveries.size() == 2);  // the failing one did not stop the other
  }
}

TEST_CASE("cycle: cycle_duration_seconds is never 0, even in the first (or only) cycle") {
  Rig rig;
  rig.cycle->run(rig.waiter.now() + Duration(1000));
  const double first = rig.cycle->last_metrics().samples(Metric::ExporterCycleDuration).at(0).value;
  CHECK(first > 0);
  CHECK(first < 5);
  rig.cycle->run(rig.waiter.now() + Duration(1000));
  CHECK(rig.cycle->last_metrics().samples(Metric::ExporterCycleDuration).at(0).value > 0);
}
