#pragma once
// Credentials of saved sources: one file per source under <data_dir>/secrets/ (directory 0700,
// files 0600), or an environment variable named when the source was saved. Nothing here logs a
// value; scrub() removes known secrets from any text (DuckDB and libpq messages) before it leaves.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::ingest {

class SecretStore {
 public:
  explicit SecretStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Writes the password of source `name` (atomically, 0600; the directory is made 0700).
  Status put(const std::string& name, std::string_view value);
  // The stored password, or nullopt when there is none.
  Result<std::optional<std::string>> get(const std::string& name) const;
  Status remove(const std::string& name);
  std::filesystem::path file_for(const std::string& name) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  Status ensure_dir() const;
  std::filesystem::path dir_;
};

// Replaces every occurrence of each secret (and its percent-encoded form) in `text` with "***".
std::string scrub(std::string text, const std::vector<std::string>& secrets);
Error scrub(Error error, const std::vector<std::string>& secrets);

}  // namespace pluto::ingest
