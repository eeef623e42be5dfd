#pragma once
// Where files may be read from when a request comes over HTTP: only under ingest.allowed_dirs.
// Symlinks and `..` are resolved before the check, so neither can lead outside.
#include <filesystem>
#include <string_view>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::ingest {

// The resolved path when it lies inside one of `allowed_dirs` (also resolved), else
// ErrorCode::permission_denied naming the path. A relative path is taken relative to the first
// allowed directory. The path need not exist (its existing prefix is resolved).
Result<std::filesystem::path> check_allowed_path(const std::filesystem::path& path,
                                                 const std::vector<std::filesystem::path>& allowed_dirs);

// Parses the ingest.allowed_dirs setting: ':'-separated directories, `~` meaning $HOME.
std::vector<std::filesystem::path> parse_allowed_dirs(std::string_view setting);

}  // namespace pluto::ingest
