#include "log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include <fmt/format.h>

namespace emp::log {
namespace {

LogLevel g_level = LogLevel::Info;
LogFormat g_format = LogFormat::Logfmt;

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  return false;
}

void append_quoted(std::string& out, std::string_view v, bool json) {
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || (json && c == 0x7f))
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  out += '"';
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms));
}

}  // namespace

void configure(const LogSettings& settings) {
  g_level = settings.level;
  g_format = settings.format;
}

bool enabled(LogLevel level) { return level >= g_level; }

std::string format_line(LogLevel level, LogFormat format, std::string_view ts, std::string_view msg,
                        std::span<const Field> fields) {
  std::string out;
  const std::string_view lvl = kLogLevelNames[static_cast<int>(level)];
  if (format == LogFormat::Json) {
    out += "{\"ts\":";
    append_quoted(out, ts, true);
    out += ",\"level\":";
    append_quoted(out, lvl, true);
    out += ",\"msg\":";
    append_quoted(out, msg, true);
    for (const Field& f : fields) {
      out += ',';
      append_quoted(out, f.key, true);
      out += ':';
      append_quoted(out, f.value, true);
    }
    out += "}\n";
    return out;
  }
  out += "ts=";
  out += ts;
  out += " level=";
  out += lvl;
  out += " msg=";
  append_quoted(out, msg, false);
  for (const Field& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    if (needs_quotes(f.value))
      append_quoted(out, f.value, false);
    else
      out += f.value;
  }
  out += '\n';
  return out;
}

void write(LogLevel level, std::string_view msg, std::span<const Field> fields) {
  if (!enabled(level)) return;
  const std::string line = format_line(level, g_format, now_rfc3339(), msg, fields);
  // One write(2) per line, so that lines from a signal-time shutdown never interleave.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace emp::log

namespace emp::log {
namespace {

// Async-signal-safe pieces for write_from_signal_handler(): fixed buffer,
// clock_gettime (on POSIX's safe list) and integer civil-date arithmetic
// instead of gmtime_r/strftime, which are not safe in a handler.
struct FixedBuffer {
  char data[512];
  size_t size = 0;
  void put(const char* s) {
    while (*s && size < sizeof data) data[size++] = *s++;
  }
  void put_digits(long long v, int width) {
    char tmp[24];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v > 0 || n < width);
    while (n > 0 && size < sizeof data) data[size++] = tmp[--n];
  }
};

void put_timestamp(FixedBuffer& b) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  long long days = ts.tv_sec / 86400;
  long long secs = ts.tv_sec % 86400;
  // Howard Hinnant's civil_from_days.
  days += 719468;
  const long long era = days / 146097;
  const long long doe = days - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long long mp = (5 * doy + 2) / 153;
  const long long day = doy - (153 * mp + 2) / 5 + 1;
  const long long month = mp < 10 ? mp + 3 : mp - 9;
  const long long year = yoe + era * 400 + (month <= 2);
  b.put_digits(year, 4);
  b.put("-");
  b.put_digits(month, 2);
  b.put("-");
  b.put_digits(day, 2);
  b.put("T");
  b.put_digits(secs / 3600, 2);
  b.put(":");
  b.put_digits(secs / 60 % 60, 2);
  b.put(":");
  b.put_digits(secs % 60, 2);
  b.put(".");
  b.put_digits(ts.tv_nsec / 1000000, 3);
  b.put("Z");
}

}  // namespace

void write_from_signal_handler(LogLevel level, const char* msg) noexcept {
  if (!enabled(level)) return;
  FixedBuffer b;
  const char* lvl = kLogLevelNames[static_cast<int>(level)].data();
  if (g_format == LogFormat::Json) {
    b.put("{\"ts\":\"");
    put_timestamp(b);
    b.put("\",\"level\":\"");
    b.put(lvl);
    b.put("\",\"msg\":\"");
    b.put(msg);
    b.put("\"}\n");
  } else {
    b.put("ts=");
    put_timestamp(b);
    b.put(" level=");
    b.put(lvl);
    b.put(" msg=\"");
    b.put(msg);
    b.put("\"\n");
  }
  ssize_t ignored = ::write(STDERR_FILENO, b.data, b.size);
  (void)ignored;
}

}  // namespace emp::log
