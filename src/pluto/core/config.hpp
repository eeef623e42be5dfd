#pragma once
// Settings: defaults < <data_dir>/config.toml < PLUTODUCK_<SECTION>__<KEY> < command-line flags.
// Every setting is declared once in config.cpp (kSpecs) with its type, default and help.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto {

enum class SettingSource { default_value, file, env, flag };

struct SettingValue {
  std::string value;
  SettingSource source = SettingSource::default_value;
  std::string origin;  // "config.toml", "PLUTODUCK_QUERY__TIMEOUT_SECONDS", "--timeout"…
};

struct SettingInfo {
  std::string key;  // "section.key"
  std::string help;
  bool secret = false;
};

struct ConfigLoadOptions {
  std::optional<std::filesystem::path> data_dir;      // --data-dir
  std::map<std::string, std::string> flag_overrides;  // "query.timeout_seconds" -> "5"
  std::map<std::string, std::string> flag_origins;    // key -> "--timeout" (for config show)
  // Environment lookup; defaults to getenv and the process environment. Tests inject a map.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::function<std::vector<std::string>()> env_names;  // names of all PLUTODUCK_* variables
  bool create_data_dir = true;
};

class Config {
 public:
  static Result<Config> load(const ConfigLoadOptions& options);

  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::filesystem::path config_file() const { return data_dir_ / "config.toml"; }

  const std::string& get(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const SettingValue& setting(const std::string& key) const;
  const std::map<std::string, SettingValue>& all() const { return values_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Declared settings, in declaration order.
  static std::vector<SettingInfo> settings();
  static bool is_secret(const std::string& key);
  static std::string env_name(const std::string& key);  // warehouse.path -> PLUTODUCK_WAREHOUSE__PATH

 private:
  std::filesystem::path data_dir_;
  std::map<std::string, SettingValue> values_;
  std::vector<std::string> warnings_;
};

std::string_view to_string(SettingSource source);

// Resolves the data dir: --data-dir, else PLUTODUCK_DATA_DIR, else ~/.pluto-duck.
std::filesystem::path resolve_data_dir(const ConfigLoadOptions& options);

// Creates the data dir layout of ARCHITECTURE.md (logs/, secrets/ 0700, dbt/, results/, imports/).
Status ensure_data_dir_layout(const std::filesystem::path& data_dir);

}  // namespace pluto
