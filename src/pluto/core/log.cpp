#include "pluto/core/log.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>

#include "pluto/core/clock.hpp"
#include "pluto/core/json_escape.hpp"

namespace pluto::log {
namespace {

struct State {
  std::mutex mu;
  std::shared_ptr<spdlog::sinks::sink> file;
  std::shared_ptr<spdlog::sinks::sink> err;
  std::atomic<int> file_level{static_cast<int>(Level::off)};
  std::atomic<int> stderr_level{static_cast<int>(Level::warn)};
};

State& state() {
  static State s;
  return s;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
    case Level::off: return "off";
  }
  return "info";
}

spdlog::level::level_enum to_spd(Level l) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(l));
}

void append_value(std::string& out, const FieldValue& v, bool json) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, std::string>) {
          if (json) {
            append_json_string(out, x);
          } else {
            const bool quote = x.find(' ') != std::string_view::npos || x.empty();
            if (quote) out += '"';
            out += x;
            if (quote) out += '"';
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.17g", x);
          out += buf;
        } else {
          out += std::to_string(x);
        }
      },
      v);
}

std::string render_text(Level level, std::string_view message, Fields fields) {
  std::string out = "pluto-duck ";
  out += level_name(level);
  out += ": ";
  out += message;
  for (const auto& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    append_value(out, f.value, false);
  }
  return out;
}

void emit(spdlog::sinks::sink& sink, Level level, const std::string& line) {
  spdlog::details::log_msg msg(spdlog::string_view_t("pluto"), to_spd(level),
                               spdlog::string_view_t(line.data(), line.size()));
  sink.log(msg);
}

}  // namespace

Result<Level> parse_level(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Level::off); ++i) {
    if (name == level_name(static_cast<Level>(i))) return static_cast<Level>(i);
  }
  return Error(ErrorCode::invalid_argument, "unknown log level '" + std::string(name) + "'",
               "use trace, debug, info, warn, error or off");
}

std::string render_json(Level level, std::string_view message, Fields fields, std::string_view ts) {
  std::string out = "{\"ts\":";
  append_json_string(out, ts);
  out += ",\"level\":";
  append_json_string(out, level_name(level));
  out += ",\"msg\":";
  append_json_string(out, message);
  for (const auto& f : fields) {
    out += ',';
    append_json_string(out, f.key);
    out += ':';
    append_value(out, f.value, true);
  }
  out += '}';
  return out;
}

Status init(const Options& options) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (!options.file.empty()) {
    try {
      auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(options.file.string(), options.max_file_bytes,
                                                                         options.max_files);
      sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
      s.file = sink;
    } catch (const spdlog::spdlog_ex& e) {
      return Error(ErrorCode::unavailable, "cannot open log file " + options.file.string() + ": " + e.what(),
                   "check that the data dir's logs/ folder is writable");
    }
  } else {
    s.file.reset();
  }
  auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  err->set_formatter(std::make_unique<spdlog::pattern_formatter>("%^%v%$"));
  s.err = err;
  s.file_level = static_cast<int>(options.file.empty() ? Level::off : options.file_level);
  s.stderr_level = static_cast<int>(options.stderr_level);
  return {};
}

void shutdown() {
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (s.file) s.file->flush();
  s.file.reset();
  s.err.reset();
}

bool enabled(Level level) {
  const auto& s = state();
  const int l = static_cast<int>(level);
  return l >= s.file_level.load() || l >= s.stderr_level.load();
}

void write(Level level, std::string_view message, Fields fields) {
  auto& s = state();
  const int l = static_cast<int>(level);
  if (level == Level::off) return;
  std::shared_ptr<spdlog::sinks::sink> file;
  std::shared_ptr<spdlog::sinks::sink> err;
  {
    std::lock_guard lock(s.mu);
    file = s.file;
    err = s.err;
  }
  if (file && l >= s.file_level.load()) {
    emit(*file, level, render_json(level, message, fields, now_rfc3339()));
    // Every line reaches the file at once: `logs --follow` shows it, and a crash loses nothing.
    file->flush();
  }
  if (l >= s.stderr_level.load()) {
    const auto line = render_text(level, message, fields);
    if (err) {
      emit(*err, level, line);
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  }
}

}  // namespace pluto::log
