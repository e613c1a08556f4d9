#include "signals.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "log.h"

namespace emp {

bool is_stop_signal(int signal) { return signal == SIGTERM || signal == SIGINT; }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal";
  }
}

namespace {

// What arrived is kept in flags, not in the pipe: the pipe only wakes the
// waiter (one byte is enough; a full pipe already means "wake up").
int g_wake_pipe[2] = {-1, -1};
std::atomic<int> g_stop_signal{0};        // the first stop signal's number
std::atomic<int> g_stop_signals{0};       // how many arrived
std::atomic<int> g_hups{0};               // SIGHUPs not yet reported
std::atomic<int64_t> g_first_stop_ns{0};  // CLOCK_MONOTONIC, the clock of steady_clock on Linux
timer_t g_shutdown_timer{};               // CLOCK_MONOTONIC; fires SIGALRM when the shutdown budget is spent
int64_t g_shutdown_timeout_ns = 0;
int g_timeout_exit_code = 1;
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<int64_t>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

timespec to_timespec(int64_t ns) { return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)}; }

void wake() {
  const unsigned char byte = 1;
  ssize_t ignored = ::write(g_wake_pipe[1], &byte, 1);  // EAGAIN: a wake-up is pending anyway
  (void)ignored;
}

void on_signal(int signal) {
  const int saved_errno = errno;
  if (is_stop_signal(signal)) {
    if (g_stop_signals.fetch_add(1) >= 1) {
      // The user (or ECS) insists: no final cycle, no clean-up.
      log::write_from_signal_handler(LogLevel::Warn, "second stop signal: exiting at once");
      _exit(128 + signal);
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const int64_t now_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
    g_first_stop_ns.store(now_ns);
    g_stop_signal.store(signal);
    // The budget starts now, whatever the main thread is blocked in (a cycle
    // in flight counts against it). timer_settime is async-signal-safe.
    itimerspec when{};
    when.it_value = to_timespec(now_ns + g_shutdown_timeout_ns);
    timer_settime(g_shutdown_timer, TIMER_ABSTIME, &when, nullptr);
  } else if (signal == SIGHUP) {
    g_hups.fetch_add(1);
  }
  wake();
  errno = saved_errno;
}

void on_shutdown_timeout(int) {
  log::write_from_signal_handler(LogLevel::Error,
                                 "shutdown timeout reached before the final cycle finished: exiting now");
  _exit(g_timeout_exit_code);
}

class SignalWaiter final : public Waiter {
 public:
  SteadyTime now() override { return std::chrono::steady_clock::now(); }

  Wake wait_until(SteadyTime deadline) override {
    for (;;) {
      drain();
      // A stop request first: it is never behind any number of SIGHUPs.
      if (const int stop = g_stop_signal.load(); stop != 0 && !stop_reported_) {
        stop_reported_ = true;
        return {stop, SteadyTime(std::chrono::nanoseconds(g_first_stop_ns.load()))};
      }
      if (g_hups.exchange(0) > 0) return {SIGHUP, now()};
      const auto left = deadline - now();
      if (left <= std::chrono::nanoseconds(0)) return {};
      timespec timeout = to_timespec(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count());
      pollfd fd{g_wake_pipe[0], POLLIN, 0};
      ::ppoll(&fd, 1, &timeout, nullptr);  // EINTR or readable: look at the flags again
    }
  }

  // Already armed by the stop signal's handler, from the moment it arrived.
  void arm_shutdown_deadline(SteadyTime) override {}

 private:
  static void drain() {
    unsigned char buf[64];
    while (::read(g_wake_pipe[0], buf, sizeof buf) > 0) {
    }
  }
  bool stop_reported_ = false;
};

}  // namespace

std::unique_ptr<Waiter> install_signal_waiter(Duration shutdown_timeout, int timeout_exit_code, std::string& error) {
  if (g_wake_pipe[0] >= 0) {
    error = "signal handling is already installed";
    return nullptr;
  }
  if (::pipe2(g_wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = fmt::format("signal pipe: {}", std::strerror(errno));
    return nullptr;
  }
  g_shutdown_timeout_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(shutdown_timeout).count();
  g_timeout_exit_code = timeout_exit_code;
  sigevent event{};
  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = SIGALRM;
  if (timer_create(CLOCK_MONOTONIC, &event, &g_shutdown_timer) != 0) {
    error = fmt::format("timer_create: {}", std::strerror(errno));
    return nullptr;
  }
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // libcurl and file writes carry on; the loop looks at the flags
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

}  // namespace emp
