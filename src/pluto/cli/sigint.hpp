#pragma once
// Ctrl-C for a long-running subcommand: while a SigintGuard lives, SIGINT only raises a flag that
// the command polls (to cancel its job, stop following, …); the previous handler comes back after.
#include <atomic>
#include <csignal>

namespace pluto::cli {

inline std::atomic<bool>& sigint_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

extern "C" inline void pluto_cli_on_sigint(int /*sig*/) {
  sigint_flag().store(true);
}

class SigintGuard {
 public:
  SigintGuard() {
    sigint_flag().store(false);
    struct sigaction sa {};
    sa.sa_handler = pluto_cli_on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_);
  }
  ~SigintGuard() { sigaction(SIGINT, &old_, nullptr); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

  static bool raised() { return sigint_flag().load(); }

 private:
  struct sigaction old_ {};
};

}  // namespace pluto::cli
