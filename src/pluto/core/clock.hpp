#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace pluto {

using SystemTime = std::chrono::system_clock::time_point;

// RFC 3339 / ISO 8601 in UTC with milliseconds, e.g. 2026-11-24T05:56:09.123Z.
std::string format_rfc3339(SystemTime t);
inline std::string now_rfc3339() {
  return format_rfc3339(std::chrono::system_clock::now());
}
int64_t now_unix_ms();

// A sortable, unique id: 12 hex digits of milliseconds since the epoch, then 8 random hex digits
// (e.g. "0193f1c2a4b1-5e0c9d21"), so ids sort by creation time.
std::string new_id();

}  // namespace pluto
