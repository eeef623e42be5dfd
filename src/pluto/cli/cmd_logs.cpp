// `pluto-duck logs [-n N] [--follow] [--level L] [--grep TEXT]`: the structured log of the data dir
// (logs/pluto-duck.log and its rotated predecessors), as readable lines or, with --json, the JSON
// lines as they are stored. --follow keeps printing what the server writes, across rotations, until
// Ctrl-C. Reads files only: it never opens the warehouse, so it works next to a running server.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "pluto/cli/context.hpp"
#include "pluto/cli/sigint.hpp"
#include "pluto/core/config.hpp"
#include "pluto/core/log.hpp"

namespace pluto::cli {
namespace {

namespace fs = std::filesystem;

struct LogsOptions {
  int lines = 50;
  bool follow = false;
  std::string level;
  std::string grep;
};

// Which stored lines to print. Lines that are not JSON (hand edits, truncation) pass through as-is.
class LineFilter {
 public:
  explicit LineFilter(const LogsOptions& o) : grep_(o.grep) {
    if (!o.level.empty()) min_level_ = static_cast<int>(log::parse_level(o.level).value());
  }
  bool keep(const std::string& line) const {
    if (!grep_.empty() && line.find(grep_) == std::string::npos) return false;
    if (min_level_ <= 0) return true;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("level") || !j["level"].is_string()) return true;
    auto level = log::parse_level(j["level"].get<std::string>());
    return !level.ok() || static_cast<int>(level.value()) >= min_level_;
  }

 private:
  std::string grep_;
  int min_level_ = 0;
};

// "2026-11-24T10:01:02.123Z info  server listening url=http://…"; the stored line under --json.
std::string render(const std::string& line, bool json) {
  if (json) return line;
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return line;
  auto str = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  std::string level = str("level");
  level.resize(std::max<size_t>(level.size(), 5), ' ');
  std::string out = str("ts") + " " + level + " " + str("msg");
  for (const auto& [key, value] : j.items()) {
    if (key == "ts" || key == "level" || key == "msg") continue;
    const std::string v = value.is_string() ? value.get<std::string>() : value.dump();
    const bool quote = v.empty() || v.find_first_of(" \t\"") != std::string::npos;
    out += " " + key + "=" + (quote ? nlohmann::json(v).dump() : v);
  }
  return out;
}

void print(const std::string& line, bool json) {
  const std::string out = render(line, json) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

// spdlog's rotation: pluto-duck.log is the newest, then pluto-duck.1.log, pluto-duck.2.log, …
std::vector<fs::path> log_files_oldest_first(const fs::path& current) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (int i = 1;; ++i) {
    fs::path rotated =
        current.parent_path() / (current.stem().string() + "." + std::to_string(i) + current.extension().string());
    if (!fs::exists(rotated, ec)) break;
    files.insert(files.begin(), rotated);
  }
  if (fs::exists(current, ec)) files.push_back(current);
  return files;
}

// The last `n` kept lines over all files (0: none), reading the newest file only up to `limit`
// bytes (where following it starts).
std::deque<std::string> tail(const std::vector<fs::path>& files, const LineFilter& filter, size_t n, off_t limit) {
  std::deque<std::string> last;
  if (n == 0) return last;
  for (size_t i = 0; i < files.size(); ++i) {
    std::ifstream file(files[i], std::ios::binary);
    std::string text;
    if (i + 1 == files.size()) {
      text.resize(static_cast<size_t>(limit));
      file.read(text.data(), limit);
      text.resize(static_cast<size_t>(file.gcount()));
    } else {
      text.assign(std::istreambuf_iterator<char>(file), {});
    }
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || !filter.keep(line)) continue;
      last.push_back(std::move(line));
      if (last.size() > n) last.pop_front();
    }
  }
  return last;
}

// Prints complete lines appended to `path` from `offset` on; starts over when the file was rotated
// away (another inode) or truncated. Returns when Ctrl-C is pressed.
void follow(const fs::path& path, off_t offset, ino_t inode, const LineFilter& filter, bool json) {
  std::string partial;
  while (!SigintGuard::raised()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (st.st_ino != inode || st.st_size < offset) {
      inode = st.st_ino;
      offset = 0;
      partial.clear();
    }
    if (st.st_size > offset) {
      std::ifstream in(path, std::ios::binary);
      in.seekg(offset);
      std::string chunk(static_cast<size_t>(st.st_size - offset), '\0');
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      chunk.resize(static_cast<size_t>(in.gcount()));
      offset += static_cast<off_t>(chunk.size());
      partial += chunk;
      size_t start = 0;
      for (size_t nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n', start)) {
        std::string line = partial.substr(start, nl - start);
        start = nl + 1;
        if (!line.empty() && filter.keep(line)) print(line, json);
      }
      partial.erase(0, start);
      std::fflush(stdout);
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

int run_logs(Context& ctx, const LogsOptions& o) {
  auto cfg = ctx.config();
  if (!cfg.ok()) return ctx.fail(cfg.error());
  const fs::path current = cfg.value()->data_dir() / "logs" / "pluto-duck.log";
  const LineFilter filter(o);
  // Ctrl-C is caught before the first read so that a follow started now misses nothing.
  SigintGuard sigint;
  struct stat st {};
  const bool exists = ::stat(current.c_str(), &st) == 0;
  const auto files = log_files_oldest_first(current);
  if (files.empty() && !o.follow) {
    return ctx.fail(Error(ErrorCode::not_found, "no log yet at " + current.string(),
                          "the log is written by commands that use the data dir (serve, query, ingest…); "
                          "check --data-dir"));
  }
  const off_t limit = exists ? st.st_size : 0;
  for (const auto& line : tail(files, filter, static_cast<size_t>(o.lines), limit)) print(line, ctx.json());
  std::fflush(stdout);
  if (!o.follow) return kExitOk;
  follow(current, limit, exists ? st.st_ino : 0, filter, ctx.json());
  return kExitInterrupted;
}

}  // namespace

void setup_logs(CLI::App& app, Context& ctx, Runner& run) {
  auto o = std::make_shared<LogsOptions>();
  auto* sub = app.add_subcommand("logs", "show the log (logs/pluto-duck.log of the data dir)");
  sub->add_option("-n,--lines", o->lines, "how many of the last lines (default 50; 0 with --follow: only new ones)")
      ->check(CLI::Range(0, 1000000));
  sub->add_flag("-f,--follow", o->follow, "keep printing new lines until Ctrl-C");
  sub->add_option("--level", o->level, "only lines at this level or above")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  sub->add_option("--grep", o->grep, "only lines containing TEXT")->type_name("TEXT");
  sub->callback([&ctx, &run, o] { run = [&ctx, o] { return run_logs(ctx, *o); }; });
}

}  // namespace pluto::cli
