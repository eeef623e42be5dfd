#include "pluto/core/config.hpp"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>

extern char** environ;  // NOLINT(readability-redundant-declaration)

#ifndef PLUTO_DEFAULT_EXTENSION_DIR
#define PLUTO_DEFAULT_EXTENSION_DIR ""
#endif

namespace pluto {
namespace fs = std::filesystem;

namespace {

enum class Kind { string, path, integer, boolean, choice, memory };

struct Spec {
  const char* key;
  Kind kind;
  const char* default_value;  // "{data_dir}" is replaced by the data dir
  const char* help;
  int64_t min = 0;
  int64_t max = INT64_MAX;
  const char* choices = "";  // for Kind::choice, '|'-separated
  bool secret = false;
};

// The one list of settings. Add new ones here; `config show`, validation and env names follow.
const Spec kSpecs[] = {
    {"warehouse.path", Kind::path, "{data_dir}/warehouse.duckdb", "DuckDB file holding the user's data"},
    {"warehouse.memory_limit", Kind::memory, "",
     "DuckDB memory limit, e.g. 4GB or 50% (empty: DuckDB's default, 80% of RAM)"},
    {"warehouse.threads", Kind::integer, "0", "DuckDB worker threads (0: one per core)", 0, 1024},
    {"warehouse.pool_size", Kind::integer, "4", "DuckDB connections for concurrent queries", 1, 256},
    {"warehouse.extension_directory", Kind::path, PLUTO_DEFAULT_EXTENSION_DIR,
     "where DuckDB extensions (postgres, sqlite) are loaded from; nothing is downloaded"},
    {"query.timeout_seconds", Kind::integer, "30", "a query is interrupted after this many seconds", 1, 86400 * 7},
    {"query.max_rows", Kind::integer, "10000", "rows returned inline by a query (the rest is paged)", 1, 100000000},
    {"query.results_max_mb", Kind::integer, "2048", "query results kept for paging and downloads, in total", 1,
     1 << 22},
    {"query.results_max_age_hours", Kind::integer, "24", "query results older than this are deleted", 1, 24 * 365},
    {"server.host", Kind::string, "127.0.0.1", "address the HTTP server listens on"},
    {"server.port", Kind::integer, "8123", "port the HTTP server listens on", 0, 65535},
    {"server.api_token", Kind::string, "", "bearer token required on /api when set (needed off loopback)", 0, 0, "",
     true},
    {"dbt.executable", Kind::path, "", "dbt CLI (empty: the .venv/bin/dbt of scripts/setup, else dbt on PATH)"},
    {"dbt.project_dir", Kind::path, "{data_dir}/dbt", "dbt project (the starter project is copied here on first use)"},
    {"dbt.timeout_seconds", Kind::integer, "3600", "a dbt run is stopped after this many seconds", 1, 86400 * 7},
    {"dbt.threads", Kind::integer, "4", "dbt threads (models built at once)", 1, 64},
    {"dbt.cancel_grace_seconds", Kind::integer, "10", "seconds from SIGINT to SIGTERM (and to SIGKILL) of dbt", 1, 600},
    {"dbt.keep_runs", Kind::integer, "50", "artifact folders of past dbt runs kept (dbt/target/runs)", 1, 100000},
    {"ingest.allowed_dirs", Kind::string, "{data_dir}/imports:~",
     "directories the HTTP API may read files from (':'-separated, ~ is $HOME; symlinks and .. are resolved first)"},
    {"ingest.connect_timeout_seconds", Kind::integer, "10",
     "a database source that does not answer in this many seconds fails", 1, 3600},
    {"llm.provider", Kind::choice, "offline", "who writes agent SQL", 0, 0, "offline|mock|openai|anthropic"},
    {"llm.model", Kind::string, "", "model (empty: gpt-4o-mini for openai, claude-sonnet-4-5 for anthropic)"},
    {"llm.base_url", Kind::string, "", "API base URL (empty: the provider's; Ollama: http://127.0.0.1:11434/v1)"},
    {"llm.api_key_env", Kind::string, "", "variable holding the API key (empty: OPENAI_API_KEY / ANTHROPIC_API_KEY)"},
    {"llm.timeout_seconds", Kind::integer, "120", "a model request (streaming too) is abandoned after this", 1, 3600},
    {"llm.connect_timeout_seconds", Kind::integer, "10", "time to connect to the model's server", 1, 600},
    {"llm.idle_timeout_seconds", Kind::integer, "60", "a reply that sends nothing for this long times out", 1, 3600},
    {"llm.max_retries", Kind::integer, "3", "retries after 429, 5xx, timeouts or a broken reply", 0, 10},
    {"llm.retry_backoff_ms", Kind::integer, "500", "first wait before a retry; doubles (retry-after wins)", 1, 600000},
    {"llm.max_retry_wait_seconds", Kind::integer, "60", "a longer retry-after fails the run instead", 0, 3600},
    {"llm.max_tokens", Kind::integer, "2048", "most tokens a model may write in one reply", 16, 1000000},
    {"agent.max_steps", Kind::integer, "40", "graph steps an agent run may take", 5, 1000},
    {"agent.max_sql_attempts", Kind::integer, "3", "SQL attempts (first try + retries) before giving up", 1, 20},
    {"agent.max_rows", Kind::integer, "200", "rows of a result the agent keeps and shows", 1, 100000},
    {"agent.max_result_kb", Kind::integer, "256", "size cap of the rows the agent keeps (KiB)", 1, 1048576},
    {"agent.query_timeout_seconds", Kind::integer, "30", "each agent query is interrupted after this", 1, 86400},
    {"agent.run_timeout_seconds", Kind::integer, "600", "a whole agent run is stopped after this", 1, 86400},
    {"agent.llm_data_rows", Kind::integer, "20", "data rows a remote model may see; 0: none", 0, 100000},
    {"agent.llm_sample_values", Kind::boolean, "true", "show a remote model the values of small categorical columns"},
    {"agent.max_tool_calls", Kind::integer, "8", "catalog tool calls a model may make per SQL attempt", 0, 100},
    {"agent.max_tables", Kind::integer, "8", "candidate tables explored and described per question", 1, 1000},
    {"log.level", Kind::choice, "info", "level written to logs/pluto-duck.log", 0, 0,
     "trace|debug|info|warn|error|off"},
    {"log.max_file_mb", Kind::integer, "10", "log file size before it is rotated", 1, 4096},
    {"log.max_files", Kind::integer, "5", "rotated log files kept", 1, 100},
};

const Spec* find_spec(const std::string& key) {
  for (const auto& s : kSpecs) {
    if (key == s.key) return &s;
  }
  return nullptr;
}

std::string known_keys() {
  std::string out;
  for (const auto& s : kSpecs) {
    if (!out.empty()) out += ", ";
    out += s.key;
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string describe_allowed(const Spec& s) {
  switch (s.kind) {
    case Kind::integer: {
      std::ostringstream o;
      o << "a whole number from " << s.min << " to " << s.max;
      return o.str();
    }
    case Kind::boolean: return "true or false";
    case Kind::choice: return std::string("one of ") + s.choices;
    case Kind::memory: return "a size such as 512MB, 4GB, 1.5GiB or a percentage such as 50%";
    case Kind::path: return "a file system path";
    case Kind::string: return "text";
  }
  return "";
}

// Returns the normalised value or an error naming key, value and what is allowed.
Result<std::string> validate(const Spec& s, const std::string& raw, const std::string& origin) {
  auto bad = [&](const std::string& why = {}) {
    std::string msg = "invalid value '" + raw + "' for " + s.key + " (from " + origin + ")";
    if (!why.empty()) msg += ": " + why;
    return Error(ErrorCode::invalid_config, msg, "expected " + describe_allowed(s));
  };
  switch (s.kind) {
    case Kind::integer: {
      int64_t v = 0;
      const auto* end = raw.data() + raw.size();
      auto [p, ec] = std::from_chars(raw.data(), end, v);
      if (raw.empty() || ec != std::errc{} || p != end) return bad();
      if (v < s.min || v > s.max) return bad("out of range");
      return std::to_string(v);
    }
    case Kind::boolean: {
      const auto v = lower(raw);
      if (v == "true" || v == "1" || v == "yes" || v == "on") return std::string("true");
      if (v == "false" || v == "0" || v == "no" || v == "off") return std::string("false");
      return bad();
    }
    case Kind::choice: {
      const auto v = lower(raw);
      std::string_view choices = s.choices;
      size_t pos = 0;
      while (pos <= choices.size()) {
        auto next = choices.find('|', pos);
        if (next == std::string_view::npos) next = choices.size();
        if (choices.substr(pos, next - pos) == v) return v;
        pos = next + 1;
      }
      return bad();
    }
    case Kind::memory: {
      if (raw.empty()) return raw;
      static const std::regex re(R"(^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB|%)\s*$)", std::regex::icase);
      if (!std::regex_match(raw, re)) return bad();
      return raw;
    }
    case Kind::path:
    case Kind::string: return raw;
  }
  return raw;
}

std::string toml_scalar_to_string(const toml::node& node) {
  if (auto v = node.value<std::string>()) return *v;
  if (auto v = node.value_exact<int64_t>()) return std::to_string(*v);
  if (auto v = node.value_exact<bool>()) return *v ? "true" : "false";
  if (auto v = node.value_exact<double>()) {
    std::ostringstream o;
    o << *v;
    return o.str();
  }
  // Arrays and tables are not valid setting values; validate() reports them with the key.
  return node.is_array() ? "<array>" : "<table>";
}

std::optional<std::string> process_getenv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::vector<std::string> process_env_names() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv = *e;
    if (kv.rfind("PLUTODUCK_", 0) == 0) out.emplace_back(kv.substr(0, kv.find('=')));
  }
  return out;
}

}  // namespace

std::string_view to_string(SettingSource source) {
  switch (source) {
    case SettingSource::default_value: return "default";
    case SettingSource::file: return "file";
    case SettingSource::env: return "env";
    case SettingSource::flag: return "flag";
  }
  return "default";
}

std::string Config::env_name(const std::string& key) {
  std::string out = "PLUTODUCK_";
  for (char c : key) {
    if (c == '.') {
      out += "__";
    } else {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::vector<SettingInfo> Config::settings() {
  std::vector<SettingInfo> out;
  for (const auto& s : kSpecs) out.push_back({s.key, s.help, s.secret});
  return out;
}

bool Config::is_secret(const std::string& key) {
  const auto* s = find_spec(key);
  return s != nullptr && s->secret;
}

fs::path resolve_data_dir(const ConfigLoadOptions& options) {
  if (options.data_dir && !options.data_dir->empty()) return fs::absolute(*options.data_dir).lexically_normal();
  auto getenv = options.getenv ? options.getenv : process_getenv;
  if (auto v = getenv("PLUTODUCK_DATA_DIR"); v && !v->empty()) return fs::absolute(*v).lexically_normal();
  auto home = getenv("HOME");
  return fs::path(home && !home->empty() ? *home : std::string("/tmp")) / ".pluto-duck";
}

Status ensure_data_dir_layout(const fs::path& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    return Error(ErrorCode::unavailable, "cannot create data dir " + data_dir.string() + ": " + ec.message(),
                 "choose a writable location with --data-dir or PLUTODUCK_DATA_DIR");
  }
  if (::access(data_dir.c_str(), W_OK) != 0) {
    return Error(ErrorCode::unavailable, "data dir " + data_dir.string() + " is not writable: " + std::strerror(errno),
                 "fix its permissions or choose another with --data-dir or PLUTODUCK_DATA_DIR");
  }
  for (const char* sub : {"logs", "dbt", "results", "imports", "secrets"}) {
    fs::create_directories(data_dir / sub, ec);
    if (ec) {
      return Error(ErrorCode::unavailable, "cannot create " + (data_dir / sub).string() + ": " + ec.message(),
                   "check the permissions of the data dir");
    }
  }
  fs::permissions(data_dir / "secrets", fs::perms::owner_all, fs::perm_options::replace, ec);
  return {};
}

Result<Config> Config::load(const ConfigLoadOptions& options) {
  Config cfg;
  cfg.data_dir_ = resolve_data_dir(options);
  auto getenv = options.getenv ? options.getenv : process_getenv;
  auto env_names = options.env_names ? options.env_names : process_env_names;

  for (const auto& s : kSpecs) {
    std::string v = s.default_value;
    if (auto pos = v.find("{data_dir}"); pos != std::string::npos) v.replace(pos, 10, cfg.data_dir_.string());
    cfg.values_[s.key] = SettingValue{v, SettingSource::default_value, "default"};
  }

  if (options.create_data_dir) PLUTO_TRY(ensure_data_dir_layout(cfg.data_dir_));

  // 1. config.toml
  const auto file = cfg.config_file();
  std::error_code ec;
  if (fs::exists(file, ec)) {
    toml::table tbl;
    try {
      tbl = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
      std::ostringstream o;
      o << "cannot parse " << file.string() << " at line " << e.source().begin.line << ": " << e.description();
      return Error(ErrorCode::invalid_config, o.str(), "fix the TOML syntax of the config file");
    }
    for (const auto& [section, node] : tbl) {
      const auto* sub = node.as_table();
      if (sub == nullptr) {
        cfg.warnings_.push_back("unknown setting '" + std::string(section.str()) + "' in " + file.string() +
                                " (settings live in sections such as [query]; known: " + known_keys() + ")");
        continue;
      }
      for (const auto& [k, v] : *sub) {
        const std::string key = std::string(section.str()) + "." + std::string(k.str());
        const auto* spec = find_spec(key);
        if (spec == nullptr) {
          cfg.warnings_.push_back("unknown setting '" + key + "' in " + file.string() + " (ignored)");
          continue;
        }
        auto valid = validate(*spec, toml_scalar_to_string(v), file.string());
        if (!valid.ok()) return valid.take_error();
        cfg.values_[key] = SettingValue{valid.value(), SettingSource::file, file.string()};
      }
    }
  }

  // 2. environment
  for (const auto& name : env_names()) {
    if (name == "PLUTODUCK_DATA_DIR") continue;
    const auto sep = name.find("__");
    const std::string key =
        sep == std::string::npos ? "" : lower(name.substr(10, sep - 10)) + "." + lower(name.substr(sep + 2));
    const auto* spec = key.empty() ? nullptr : find_spec(key);
    if (spec == nullptr) {
      cfg.warnings_.push_back("unknown environment variable " + name + " (ignored; settings are named like " +
                              env_name("query.timeout_seconds") + ")");
      continue;
    }
    auto raw = getenv(name);
    if (!raw) continue;
    auto valid = validate(*spec, *raw, name);
    if (!valid.ok()) return valid.take_error();
    cfg.values_[key] = SettingValue{valid.value(), SettingSource::env, name};
  }

  // 3. flags
  for (const auto& [key, raw] : options.flag_overrides) {
    const auto* spec = find_spec(key);
    if (spec == nullptr) {
      return Error(ErrorCode::invalid_config, "unknown setting '" + key + "'", "known settings: " + known_keys());
    }
    auto it = options.flag_origins.find(key);
    const std::string origin = it != options.flag_origins.end() ? it->second : "--set " + key;
    auto valid = validate(*spec, raw, origin);
    if (!valid.ok()) return valid.take_error();
    cfg.values_[key] = SettingValue{valid.value(), SettingSource::flag, origin};
  }
  return cfg;
}

const SettingValue& Config::setting(const std::string& key) const {
  auto it = values_.find(key);
  assert(it != values_.end() && "undeclared setting: add it to kSpecs");
  return it->second;
}

const std::string& Config::get(const std::string& key) const {
  return setting(key).value;
}

int64_t Config::get_int(const std::string& key) const {
  // Validated at load, so this parse cannot fail.
  return std::stoll(get(key));
}

bool Config::get_bool(const std::string& key) const {
  return get(key) == "true";
}

}  // namespace pluto
