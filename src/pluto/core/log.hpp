#pragma once
// Structured logging: JSON lines to <data_dir>/logs/pluto-duck.log (rotated) and readable text to
// stderr. Fields are typed key/value pairs so call sites stay cheap to compile (no JSON header).
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "pluto/core/error.hpp"

namespace pluto::log {

enum class Level { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

using FieldValue = std::variant<std::string_view, std::string, int64_t, double, bool>;
struct Field {
  std::string_view key;
  FieldValue value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};
using Fields = std::initializer_list<Field>;

struct Options {
  std::filesystem::path file;  // empty: no file log
  Level file_level = Level::info;
  Level stderr_level = Level::warn;
  size_t max_file_bytes = 10u << 20U;
  size_t max_files = 5;
};

Result<Level> parse_level(std::string_view name);
Status init(const Options& options);
void shutdown();
bool enabled(Level level);
void write(Level level, std::string_view message, Fields fields = {});

inline void trace(std::string_view m, Fields f = {}) {
  write(Level::trace, m, f);
}
inline void debug(std::string_view m, Fields f = {}) {
  write(Level::debug, m, f);
}
inline void info(std::string_view m, Fields f = {}) {
  write(Level::info, m, f);
}
inline void warn(std::string_view m, Fields f = {}) {
  write(Level::warn, m, f);
}
inline void error(std::string_view m, Fields f = {}) {
  write(Level::error, m, f);
}

// Renders one JSON log line (without newline); exposed for tests.
std::string render_json(Level level, std::string_view message, Fields fields, std::string_view ts);

}  // namespace pluto::log
