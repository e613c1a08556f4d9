// log: one line per event on standard error, logfmt (default) or JSON.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace emp {

enum class LogFormat { Logfmt, Json };
enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

// The names of the levels, in the order of LogLevel: the flag's values and
// what each line says.
inline constexpr std::string_view kLogLevelNames[] = {"debug", "info", "warn", "error"};

struct LogSettings {
  LogLevel level = LogLevel::Info;
  LogFormat format = LogFormat::Logfmt;
};

}  // namespace emp

namespace emp::log {

struct Field {
  std::string_view key;
  std::string_view value;
};

void configure(const LogSettings& settings);
bool enabled(LogLevel level);
void write(LogLevel level, std::string_view msg, std::span<const Field> fields);
inline void write(LogLevel level, std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(level, msg, std::span<const Field>(fields.begin(), fields.size()));
}

inline void debug(std::string_view msg, std::initializer_list<Field> f = {}) { write(LogLevel::Debug, msg, f); }
inline void info(std::string_view msg, std::initializer_list<Field> f = {}) { write(LogLevel::Info, msg, f); }
inline void warn(std::string_view msg, std::initializer_list<Field> f = {}) { write(LogLevel::Warn, msg, f); }
inline void error(std::string_view msg, std::initializer_list<Field> f = {}) { write(LogLevel::Error, msg, f); }

// Formats one line without writing it (tests, and the start-up line).
std::string format_line(LogLevel level, LogFormat format, std::string_view ts, std::string_view msg,
                        std::span<const Field> fields);
inline std::string format_line(LogLevel level, LogFormat format, std::string_view ts, std::string_view msg,
                               std::initializer_list<Field> fields) {
  return format_line(level, format, ts, msg, std::span<const Field>(fields.begin(), fields.size()));
}

// Appends, with a single write(2), a line that may be written from a signal
// handler: no allocation, no locks, no clock; `msg` must need no escaping.
void write_from_signal_handler(LogLevel level, const char* msg) noexcept;

}  // namespace emp::log
