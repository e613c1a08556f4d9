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

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error"};

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
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || (json && c == 0x7f)) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
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

void configure(LogLevel level, LogFormat format) {
  g_level = level;
  g_format = format;
}

bool enabled(LogLevel level) { return level >= g_level; }

std::string format_line(LogLevel level, LogFormat format, std::string_view ts, std::string_view msg,
                        std::initializer_list<Field> fields) {
  std::string out;
  const std::string_view lvl = kLevelNames[static_cast<int>(level)];
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
    if (needs_quotes(f.value)) append_quoted(out, f.value, false);
    else out += f.value;
  }
  out += '\n';
  return out;
}

void write(LogLevel level, std::string_view msg, std::initializer_list<Field> fields) {
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
