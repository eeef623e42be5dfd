#include "pluto/transform/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <system_error>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace pluto::transform {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// strerror is not thread-safe; dbt runs on job threads.
std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// Closes file descriptors on scope exit.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Splits a byte stream into lines; a final line without '\n' is flushed at the end.
class LineSplitter {
 public:
  LineSplitter(OutputStream which, const LineFn& fn) : which_(which), fn_(fn) {}
  void feed(const char* data, size_t n) {
    buf_.append(data, n);
    size_t start = 0;
    while (true) {
      const auto nl = buf_.find('\n', start);
      if (nl == std::string::npos) break;
      emit(std::string_view(buf_).substr(start, nl - start));
      start = nl + 1;
    }
    buf_.erase(0, start);
  }
  void flush() {
    if (!buf_.empty()) emit(buf_);
    buf_.clear();
  }

 private:
  void emit(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (fn_) fn_(which_, line);
  }
  OutputStream which_;
  const LineFn& fn_;
  std::string buf_;
};

std::vector<std::string> build_env(const ProcessSpec& spec) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string_view::npos) env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  for (const auto& k : spec.env_unset) env.erase(k);
  for (const auto& [k, v] : spec.env_set) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(std::string(k).append("=").append(v));
  return out;
}

Result<ProcessOutcome> run_impl(const ProcessSpec& spec, const LineFn& on_line,
                                const std::shared_ptr<CancelToken>& stop, std::chrono::milliseconds grace,
                                std::optional<Clock::time_point> deadline) {
  if (spec.argv.empty()) return Error(ErrorCode::internal, "run_process needs a program");
  const auto program = find_executable(spec.argv[0]);
  if (!program) {
    return Error(ErrorCode::unavailable, "cannot find the program '" + spec.argv[0] + "'",
                 "check that it is installed and executable");
  }

  std::array<int, 2> out_pipe{-1, -1};
  std::array<int, 2> err_pipe{-1, -1};
  // O_CLOEXEC: processes spawned concurrently by other threads must not inherit these ends.
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) {
    return Error(ErrorCode::internal, std::string("pipe failed: ") + errno_text(errno));
  }
  Fd out_r(out_pipe[0]);
  Fd out_w(out_pipe[1]);
  if (::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    return Error(ErrorCode::internal, std::string("pipe failed: ") + errno_text(errno));
  }
  Fd err_r(err_pipe[0]);
  Fd err_w(err_pipe[1]);

  std::vector<std::string> args = spec.argv;
  std::vector<char*> cargv;
  cargv.reserve(args.size() + 1);
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  auto env_strings = build_env(spec);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  const std::string cwd = spec.cwd.string();
  const std::string path = program->string();

  // The child reports a failed chdir/exec through this pipe; it closes on a successful exec.
  std::array<int, 2> status_pipe{-1, -1};
  if (::pipe2(status_pipe.data(), O_CLOEXEC) != 0) {
    return Error(ErrorCode::internal, std::string("pipe failed: ") + errno_text(errno));
  }
  Fd status_r(status_pipe[0]);
  Fd status_w(status_pipe[1]);
  const pid_t parent = ::getpid();
  // fork + exec rather than posix_spawn: only here can the child ask to be killed when we die
  // (PR_SET_PDEATHSIG), so a pluto-duck that crashes or is killed never leaves dbt holding the
  // warehouse. Between fork and exec the child calls async-signal-safe functions only.
  const pid_t pid = ::fork();
  if (pid < 0) return Error(ErrorCode::unavailable, std::string("cannot start a process: ") + errno_text(errno));
  if (pid == 0) {
    auto fail = [&](int err) {
      (void)!::write(status_w.get(), &err, sizeof err);
      ::_exit(127);
    };
    // Its own process group, so signals reach dbt and its children but not us.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    // Default signal dispositions and an empty mask, so SIGINT works even if we ignore or block it.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP}) ::sigaction(sig, &dfl, nullptr);
    sigset_t empty;
    sigemptyset(&empty);
    ::pthread_sigmask(SIG_SETMASK, &empty, nullptr);
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(out_w.get(), 1) < 0 || ::dup2(err_w.get(), 2) < 0) fail(errno);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) fail(errno);
    ::execve(path.c_str(), cargv.data(), envp.data());
    fail(errno);
  }
  status_w.reset();
  out_w.reset();
  err_w.reset();
  int child_errno = 0;
  ssize_t got = 0;
  do {
    got = ::read(status_r.get(), &child_errno, sizeof child_errno);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof child_errno)) {
    int ignored = 0;
    ::waitpid(pid, &ignored, 0);
    return Error(
        ErrorCode::unavailable, "cannot start " + path + ": " + errno_text(child_errno),
        cwd.empty() ? "check that it is executable" : "check that it is executable and that " + cwd + " exists");
  }
  for (int fd : {out_r.get(), err_r.get()}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  ProcessOutcome outcome;
  LineSplitter out_lines(OutputStream::out, on_line);
  LineSplitter err_lines(OutputStream::err, on_line);
  std::array<pollfd, 2> fds{pollfd{out_r.get(), POLLIN, 0}, pollfd{err_r.get(), POLLIN, 0}};
  std::array<LineSplitter*, 2> splitters{&out_lines, &err_lines};
  std::array<char, 65536> buf{};

  // Reads what is available on one descriptor; returns false at end of file.
  auto drain = [&](size_t i) {
    while (fds[i].fd >= 0) {
      const ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
      if (n > 0) {
        splitters[i]->feed(buf.data(), static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      fds[i].fd = -1;  // end of file (or an error, which ends the stream all the same)
    }
  };

  std::optional<Clock::time_point> stop_at;
  bool term_sent = false;
  bool kill_sent = false;
  int status = 0;
  bool reaped = false;
  while (!reaped) {
    const auto now = Clock::now();
    if (!stop_at && ((stop && stop->cancelled()) || (deadline && now >= *deadline))) {
      stop_at = now;
      outcome.stop_requested = true;
      ::kill(-pid, SIGINT);
      outcome.signals_sent.emplace_back("SIGINT");
    }
    if (stop_at && !term_sent && now - *stop_at >= grace) {
      term_sent = true;
      ::kill(-pid, SIGTERM);
      outcome.signals_sent.emplace_back("SIGTERM");
    }
    if (stop_at && !kill_sent && now - *stop_at >= 2 * grace) {
      kill_sent = true;
      ::kill(-pid, SIGKILL);
      outcome.signals_sent.emplace_back("SIGKILL");
    }
    const bool any_open = fds[0].fd >= 0 || fds[1].fd >= 0;
    if (any_open) {
      const int pr = ::poll(fds.data(), fds.size(), 50);
      if (pr > 0) {
        for (size_t i = 0; i < fds.size(); ++i) {
          if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) drain(i);
        }
      }
    }
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid || (w < 0 && errno == ECHILD)) {
      reaped = true;
    } else if (!any_open) {
      ::usleep(20000);
    }
  }
  // What the child wrote just before it exited; a grandchild holding the pipe open must not
  // block us, so read only what is there now.
  drain(0);
  drain(1);
  out_lines.flush();
  err_lines.flush();
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.term_signal = WTERMSIG(status);
  }
  return outcome;
}

}  // namespace

std::optional<fs::path> find_executable(const std::string& name) {
  auto runnable = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (runnable(name)) return fs::path(name);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): nothing here calls setenv
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    auto next = dirs.find(':', pos);
    if (next == std::string_view::npos) next = dirs.size();
    const auto dir = dirs.substr(pos, next - pos);
    if (!dir.empty()) {
      fs::path candidate = fs::path(dir) / name;
      if (runnable(candidate)) return candidate;
    }
    pos = next + 1;
  }
  return std::nullopt;
}

Result<ProcessOutcome> run_process(const ProcessSpec& spec, const LineFn& on_line,
                                   const std::shared_ptr<CancelToken>& stop, std::chrono::milliseconds grace) {
  return run_impl(spec, on_line, stop, grace, std::nullopt);
}

Result<std::string> capture_output(const ProcessSpec& spec, std::chrono::milliseconds timeout) {
  std::string out;
  std::string err;
  LineFn collect = [&](OutputStream which, std::string_view line) {
    auto& dst = which == OutputStream::out ? out : err;
    dst.append(line);
    dst.push_back('\n');
  };
  PLUTO_ASSIGN_OR_RETURN(auto outcome,
                         run_impl(spec, collect, nullptr, std::chrono::milliseconds(500), Clock::now() + timeout));
  const std::string what = spec.argv.empty() ? std::string("command") : spec.argv[0];
  if (outcome.stop_requested) {
    return Error(ErrorCode::timed_out, what + " did not answer within " + std::to_string(timeout.count()) + " ms");
  }
  if (outcome.exit_code != 0) {
    std::string msg = what + " failed";
    msg += outcome.term_signal != 0 ? " (signal " + std::to_string(outcome.term_signal) + ")"
                                    : " (exit code " + std::to_string(outcome.exit_code) + ")";
    if (!err.empty()) msg += ": " + err.substr(0, 2000);
    return Error(ErrorCode::unavailable, msg);
  }
  return out;
}

}  // namespace pluto::transform
