#pragma once
// The real `pluto-duck serve` as a child process: started without blocking, its port learnt from
// the first stdout line ({"url": …} with --json), stopped with a signal of the test's choosing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace pluto::api_test {

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      (void)wait_exit(std::chrono::seconds(10));
    }
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Spawns `args` (without the program) with stdout/stderr going to files in `log_dir`. The
  // environment is the test's, without any PLUTODUCK_* setting, plus `env`.
  bool spawn(const std::vector<std::string>& args, const std::filesystem::path& log_dir,
             const std::map<std::string, std::string>& env = {}) {
    out_path_ = log_dir / ("stdout-" + std::to_string(++spawn_count_) + ".txt");
    err_path_ = log_dir / ("stderr-" + std::to_string(spawn_count_) + ".txt");
    std::map<std::string, std::string> full;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      const auto eq = kv.find('=');
      if (eq == std::string::npos || kv.rfind("PLUTODUCK_", 0) == 0) continue;
      full[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : env) full[k] = v;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : full) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv{PLUTO_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      ADD_FAILURE() << "cannot start " << PLUTO_BINARY << ": " << std::strerror(rc);
      return false;
    }
    pid_ = pid;
    exit_code_.reset();
    return true;
  }

  // Waits for the first stdout line and parses it as {"url": "http://127.0.0.1:PORT/"}; returns the
  // port, or 0 when the process ended (or printed nothing) first.
  int wait_for_url(std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string out = testing::read_file(out_path_);
      const auto nl = out.find('\n');
      if (nl != std::string::npos) {
        auto j = nlohmann::json::parse(out.substr(0, nl), nullptr, false);
        if (j.is_discarded() || !j.contains("url") || !j["url"].is_string()) {
          ADD_FAILURE() << "first stdout line is not {\"url\":…}: " << out;
          return 0;
        }
        url_ = j["url"].get<std::string>();
        const std::string prefix = "http://127.0.0.1:";
        if (url_.rfind(prefix, 0) != 0 || url_.back() != '/') {
          ADD_FAILURE() << "unexpected url: " << url_;
          return 0;
        }
        return std::stoi(url_.substr(prefix.size()));
      }
      if (poll_exit()) {
        ADD_FAILURE() << "server exited with " << *exit_code_ << " before printing its url; stderr: " << err();
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "server printed no url in time; stderr: " << err();
    return 0;
  }

  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  // Exit code (128+signal when killed), or nullopt when still running after `limit`.
  std::optional<int> wait_exit(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!poll_exit()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exit_code_;
  }

  std::string out() const { return testing::read_file(out_path_); }
  std::string err() const { return testing::read_file(err_path_); }
  const std::string& url() const { return url_; }

 private:
  bool poll_exit() {
    if (exit_code_) return true;
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
  std::string url_;
  int spawn_count_ = 0;
};

}  // namespace pluto::api_test
