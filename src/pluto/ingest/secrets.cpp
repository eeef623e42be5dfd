#include "pluto/ingest/secrets.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "pluto/core/clock.hpp"
#include "pluto/ingest/source.hpp"

namespace pluto::ingest {
namespace fs = std::filesystem;

namespace {

void replace_all(std::string& text, const std::string& needle) {
  if (needle.empty()) return;
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), "***");
    pos += 3;
  }
}

}  // namespace

fs::path SecretStore::file_for(const std::string& name) const {
  return dir_ / ("source-" + name + ".password");
}

Status SecretStore::ensure_dir() const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return Error(ErrorCode::unavailable, "cannot create the secrets directory " + dir_.string() + ": " + ec.message(),
                 "check the permissions of the data directory");
  }
  if (::chmod(dir_.c_str(), 0700) != 0) {
    return Error(ErrorCode::unavailable, "cannot make " + dir_.string() + " private (0700): " + std::strerror(errno),
                 "check that you own the data directory");
  }
  return {};
}

Status SecretStore::put(const std::string& name, std::string_view value) {
  PLUTO_TRY(ensure_dir());
  const fs::path target = file_for(name);
  std::string tmp_name = ".";
  tmp_name += target.filename().string();
  tmp_name += '.';
  tmp_name += new_id();
  const fs::path tmp = dir_ / tmp_name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(ErrorCode::unavailable, "cannot write a secret file in " + dir_.string() + ": " + std::strerror(errno),
                 "check the permissions of the secrets directory");
  }
  size_t written = 0;
  bool ok = true;
  while (written < value.size()) {
    const ssize_t n = ::write(fd, value.data() + written, value.size() - written);
    if (n <= 0) {
      ok = false;
      break;
    }
    written += static_cast<size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), target.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Error(ErrorCode::unavailable, "cannot write the secret file " + target.string() + ": " + why,
                 "check the free space and permissions of the secrets directory");
  }
  return {};
}

Result<std::optional<std::string>> SecretStore::get(const std::string& name) const {
  const fs::path file = file_for(name);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::optional<std::string>();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::unavailable, "cannot read the secret file " + file.string(),
                 "check that the file belongs to you and is readable (mode 0600)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

Status SecretStore::remove(const std::string& name) {
  std::error_code ec;
  fs::remove(file_for(name), ec);
  if (ec) {
    return Error(ErrorCode::unavailable,
                 "cannot remove the secret file " + file_for(name).string() + ": " + ec.message(), "remove it by hand");
  }
  return {};
}

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    // The forms a value can take in a message: as is, percent-encoded (URIs), SQL-quoted ('' for ')
    // and libpq-quoted (\' and \\).
    std::string sql_quoted;
    std::string libpq_quoted;
    for (char c : s) {
      sql_quoted += c;
      if (c == '\'') sql_quoted += '\'';
      if (c == '\'' || c == '\\') libpq_quoted += '\\';
      libpq_quoted += c;
    }
    for (const auto& form : {sql_quoted, libpq_quoted, percent_encode(s), s}) replace_all(text, form);
  }
  return text;
}

Error scrub(Error error, const std::vector<std::string>& secrets) {
  error.message = scrub(std::move(error.message), secrets);
  error.hint = scrub(std::move(error.hint), secrets);
  return error;
}

}  // namespace pluto::ingest
