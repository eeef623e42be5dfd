#include "pluto/ingest/path_policy.hpp"

#include <cstdlib>
#include <string>

namespace pluto::ingest {
namespace fs = std::filesystem;

namespace {

// True when `p` equals `dir` or lies below it, comparing whole components.
bool is_within(const fs::path& p, const fs::path& dir) {
  auto pi = p.begin();
  for (auto di = dir.begin(); di != dir.end(); ++di, ++pi) {
    if (di->empty()) continue;  // trailing separator of dir
    if (pi == p.end() || *pi != *di) return false;
  }
  return true;
}

fs::path resolve(const fs::path& p) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(p, ec);
  if (ec) out = fs::absolute(p).lexically_normal();
  return out;
}

}  // namespace

Result<fs::path> check_allowed_path(const fs::path& path, const std::vector<fs::path>& allowed_dirs) {
  if (allowed_dirs.empty()) {
    return Error(ErrorCode::permission_denied, "reading " + path.string() + " is not allowed: no directory is allowed",
                 "list directories in the ingest.allowed_dirs setting");
  }
  const fs::path full = path.is_absolute() ? path : allowed_dirs.front() / path;
  const fs::path resolved = resolve(full);
  std::string dirs;
  for (const auto& d : allowed_dirs) {
    if (is_within(resolved, resolve(d))) return resolved;
    if (!dirs.empty()) dirs += ", ";
    dirs += d.string();
  }
  return Error(ErrorCode::permission_denied,
               "reading " + path.string() + " is not allowed: it resolves to " + resolved.string() +
                   ", outside the allowed directories (" + dirs + ")",
               "put the file into one of them (e.g. upload it to imports/), or add its directory to "
               "ingest.allowed_dirs");
}

std::vector<fs::path> parse_allowed_dirs(std::string_view setting) {
  std::vector<fs::path> out;
  size_t pos = 0;
  while (pos <= setting.size()) {
    auto next = setting.find(':', pos);
    if (next == std::string_view::npos) next = setting.size();
    std::string part(setting.substr(pos, next - pos));
    pos = next + 1;
    if (part.empty()) continue;
    if (part == "~" || part.rfind("~/", 0) == 0) {
      const char* home = std::getenv("HOME");
      if (home == nullptr || *home == '\0') continue;
      part = std::string(home) + part.substr(1);
    }
    out.emplace_back(part);
  }
  return out;
}

}  // namespace pluto::ingest
