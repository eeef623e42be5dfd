#pragma once
// Minimal JSON string escaping for hot paths (logging, result writers) that should not pull in a
// full JSON library.
#include <string>
#include <string_view>

namespace pluto {

// Appends `s` as a quoted JSON string. Invalid UTF-8 bytes are replaced with U+FFFD.
void append_json_string(std::string& out, std::string_view s);

// Base64 (RFC 4648, with padding).
void append_base64(std::string& out, std::string_view bytes);

}  // namespace pluto
