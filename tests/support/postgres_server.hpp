#pragma once
// A real PostgreSQL server for tests and benchmarks: initdb + pg_ctl in a temporary directory, on a
// random free port of 127.0.0.1, with password (scram-sha-256) authentication. As root, the server
// runs as the `postgres` user through runuser (PostgreSQL refuses to run as root). The destructor
// stops it (immediate mode) and removes the directory. Header-only so benchmarks can include it.
//
//   pluto::testing::PostgresServer pg;
//   ASSERT_TRUE(pg.ok()) << pg.error();
//   pg.psql("CREATE TABLE t AS SELECT 1 AS a");
//   pg.uri()  // postgresql://postgres:<password>@127.0.0.1:<port>/postgres
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../test_util.hpp"

namespace pluto::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it after the call).
inline int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Directory of the PostgreSQL server binaries: $PLUTO_PG_BIN, else the newest /usr/lib/postgresql/*/bin.
inline std::filesystem::path postgres_bin_dir() {
  if (const char* env = std::getenv("PLUTO_PG_BIN"); env != nullptr && *env != '\0') return env;
  std::filesystem::path best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin";
    if (!std::filesystem::exists(bin / "initdb")) continue;
    const int version = std::atoi(entry.path().filename().c_str());
    if (version > best_version) {
      best_version = version;
      best = bin;
    }
  }
  return best;
}

class PostgresServer {
 public:
  struct Options {
    std::string password = "pg-test-Secret-7731";
    int start_attempts = 5;  // a port can be taken between picking and binding it
  };

  PostgresServer() : PostgresServer(Options{}) {}
  explicit PostgresServer(Options options) : options_(std::move(options)) { start(); }
  ~PostgresServer() { stop(); }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool ok() const { return running_; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  std::string user() const { return "postgres"; }
  const std::string& password() const { return options_.password; }
  const std::filesystem::path& bin_dir() const { return bin_; }
  // postgresql://postgres:<password>@127.0.0.1:<port>/<db>
  std::string uri(const std::string& db = "postgres") const {
    return "postgresql://" + user() + ":" + password() + "@" + host() + ":" + std::to_string(port_) + "/" + db;
  }
  // The same URI without the password (for sources whose password comes from elsewhere).
  std::string uri_without_password(const std::string& db = "postgres") const {
    return "postgresql://" + user() + "@" + host() + ":" + std::to_string(port_) + "/" + db;
  }

  // Runs SQL with psql (ON_ERROR_STOP, unaligned tuples only); out holds the rows, `|`-separated.
  ProcessResult psql(const std::string& sql, const std::string& db = "postgres") const {
    return run_process({(bin_ / "psql").string(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", host(), "-p",
                        std::to_string(port_), "-U", user(), "-d", db, "-c", sql},
                       client_env());
  }
  ProcessResult createdb(const std::string& db) const {
    return run_process({(bin_ / "createdb").string(), "-h", host(), "-p", std::to_string(port_), "-U", user(), db},
                       client_env());
  }
  // Any client program of the server's bin dir (pgbench, pg_dump…) with host, port and password set.
  ProcessResult client(const std::string& program, std::vector<std::string> args) const {
    args.insert(args.begin(), {(bin_ / program).string(), "-h", host(), "-p", std::to_string(port_), "-U", user()});
    return run_process(args, client_env());
  }
  RunOptions client_env() const {
    RunOptions o;
    o.env["PGPASSWORD"] = password();
    o.env["PGCONNECT_TIMEOUT"] = "10";
    return o;
  }

  void stop() {
    if (running_) {
      (void)as_owner({(bin_ / "pg_ctl").string(), "-D", data_.string(), "-m", "immediate", "-w", "stop"});
      running_ = false;
    }
    if (!root_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(root_, ec);
      root_.clear();
    }
  }

 private:
  // Runs a server-side program as the data directory's owner (the postgres user when we are root).
  ProcessResult as_owner(std::vector<std::string> argv) const {
    if (::geteuid() == 0) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
    return run_process(argv);
  }

  void start() {
    bin_ = postgres_bin_dir();
    if (bin_.empty()) {
      error_ = "no PostgreSQL server binaries (initdb) under /usr/lib/postgresql/*/bin; run scripts/setup";
      return;
    }
    std::random_device rd;
    root_ = std::filesystem::temp_directory_path() / ("pluto-pg-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(root_);
    data_ = root_ / "data";
    const auto pwfile = root_ / "pwfile";
    write_file(pwfile, options_.password + "\n");
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) {
        error_ = "running as root but there is no `postgres` user to run the server as";
        return;
      }
      for (const auto& p : {root_, pwfile}) {
        if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
          error_ = "cannot chown " + p.string() + " to postgres";
          return;
        }
      }
    }
    auto init =
        as_owner({(bin_ / "initdb").string(), "-D", data_.string(), "-U", "postgres", "-A", "scram-sha-256", "--pwfile",
                  pwfile.string(), "-E", "UTF8", "--locale", "C", "--no-sync", "--no-instructions"});
    if (init.exit_code != 0) {
      error_ = "initdb failed: " + init.err + init.out;
      return;
    }
    for (int attempt = 0; attempt < options_.start_attempts && !running_; ++attempt) {
      port_ = free_local_port();
      const std::string server_opts = "-p " + std::to_string(port_) + " -k " + root_.string() +
                                      " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                                      "-c full_page_writes=off -c max_connections=100";
      auto r = as_owner({(bin_ / "pg_ctl").string(), "-D", data_.string(), "-l", (root_ / "server.log").string(), "-o",
                         server_opts, "-w", "-t", "60", "start"});
      if (r.exit_code == 0) {
        running_ = true;
      } else {
        error_ = "pg_ctl start failed: " + r.err + r.out + read_file(root_ / "server.log");
      }
    }
    if (running_) error_.clear();
  }

  Options options_;
  std::filesystem::path bin_;
  std::filesystem::path root_;
  std::filesystem::path data_;
  int port_ = 0;
  bool running_ = false;
  std::string error_;
};

}  // namespace pluto::testing
