#include "pluto/ingest/source.hpp"

#include <array>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace pluto::ingest {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPostgres = "postgres://";
constexpr std::string_view kPostgresql = "postgresql://";
constexpr std::string_view kSqlite = "sqlite:";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view s, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Error(ErrorCode::invalid_argument,
                   "bad percent-encoding in the " + std::string(what) + " of a PostgreSQL URI",
                   "encode special characters as %XX (e.g. %40 for @)");
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// libpq keyword values: single-quoted, with \ and ' escaped by a backslash.
std::string libpq_quote(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string expand_home(std::string_view path) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home != nullptr && *home != '\0') return std::string(home) + std::string(path.substr(1));
  }
  return std::string(path);
}

bool starts_with_sqlite_header(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return false;
  std::ifstream in(p, std::ios::binary);
  std::array<char, 16> head{};
  if (!in.read(head.data(), head.size())) return false;
  return std::string_view(head.data(), head.size()) == std::string_view("SQLite format 3\0", 16);
}

}  // namespace

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4U];
      out += kHex[c & 15U];
    }
  }
  return out;
}

std::string_view to_string(SourceKind kind) {
  switch (kind) {
    case SourceKind::files: return "files";
    case SourceKind::postgres: return "postgres";
    case SourceKind::sqlite: return "sqlite";
  }
  return "files";
}

Result<SourceKind> parse_source_kind(std::string_view name) {
  for (auto k : {SourceKind::files, SourceKind::postgres, SourceKind::sqlite}) {
    if (to_string(k) == name) return k;
  }
  return Error(ErrorCode::invalid_argument, "unknown source kind '" + std::string(name) + "'",
               "use files, postgres or sqlite");
}

std::string SourceRef::display() const {
  if (saved_name.empty()) return location;
  return saved_name + " (" + location + ")";
}

std::string PostgresTarget::uri() const {
  std::string out = "postgresql://";
  if (!user.empty()) {
    out += percent_encode(user);
    out += '@';
  }
  out += host;
  if (!port.empty()) {
    out += ':';
    out += port;
  }
  out += '/';
  out += percent_encode(database);
  char sep = '?';
  for (const auto& [k, v] : params) {
    out += sep;
    out += percent_encode(k);
    out += '=';
    out += percent_encode(v);
    sep = '&';
  }
  return out;
}

std::string PostgresTarget::keyword_string(int connect_timeout_seconds) const {
  std::string out;
  auto add = [&](std::string_view k, std::string_view v) {
    if (v.empty()) return;
    if (!out.empty()) out += ' ';
    out += std::string(k) + "=" + libpq_quote(v);
  };
  add("host", host);
  add("port", port);
  add("user", user);
  add("dbname", database);
  bool has_timeout = false;
  for (const auto& [k, v] : params) {
    add(k, v);
    has_timeout = has_timeout || k == "connect_timeout";
  }
  if (!has_timeout && connect_timeout_seconds > 0) add("connect_timeout", std::to_string(connect_timeout_seconds));
  return out;
}

bool is_postgres_uri(std::string_view source) {
  return source.rfind(kPostgres, 0) == 0 || source.rfind(kPostgresql, 0) == 0;
}

bool is_sqlite_source(std::string_view source) {
  return source.rfind(kSqlite, 0) == 0;
}

Result<PostgresTarget> parse_postgres_uri(std::string_view uri, std::string* password) {
  std::string_view rest;
  if (uri.rfind(kPostgresql, 0) == 0) {
    rest = uri.substr(kPostgresql.size());
  } else if (uri.rfind(kPostgres, 0) == 0) {
    rest = uri.substr(kPostgres.size());
  } else {
    return Error(ErrorCode::invalid_argument, "not a PostgreSQL URI (expected postgresql://…)",
                 "write it as postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE");
  }
  PostgresTarget t;
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest;
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string_view user = userinfo;
    if (const auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      PLUTO_ASSIGN_OR_RETURN(std::string pw, percent_decode(userinfo.substr(colon + 1), "password"));
      if (password != nullptr) *password = std::move(pw);
    }
    PLUTO_ASSIGN_OR_RETURN(t.user, percent_decode(user, "user"));
  }
  // host, [ipv6], host:port, or a comma-separated host list (kept as libpq reads it).
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return Error(ErrorCode::invalid_argument, "unterminated [IPv6] host in a PostgreSQL URI",
                   "write the host as [::1]");
    }
    t.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') t.port = std::string(authority.substr(close + 2));
  } else if (const auto colon = authority.rfind(':');
             colon != std::string_view::npos && authority.find(',') == std::string_view::npos) {
    t.host = std::string(authority.substr(0, colon));
    t.port = std::string(authority.substr(colon + 1));
  } else {
    PLUTO_ASSIGN_OR_RETURN(t.host, percent_decode(authority, "host"));
  }
  for (char c : t.port) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0 && c != ',') {
      return Error(ErrorCode::invalid_argument, "bad port '" + t.port + "' in a PostgreSQL URI",
                   "the port is a number, e.g. postgresql://user@localhost:5432/db");
    }
  }
  PLUTO_ASSIGN_OR_RETURN(t.database, percent_decode(path, "database"));
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    const auto eq = kv.find('=');
    PLUTO_ASSIGN_OR_RETURN(std::string key, percent_decode(kv.substr(0, eq), "parameters"));
    std::string value;
    if (eq != std::string_view::npos) {
      PLUTO_ASSIGN_OR_RETURN(value, percent_decode(kv.substr(eq + 1), "parameters"));
    }
    for (char c : key) {
      if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') {
        return Error(ErrorCode::invalid_argument, "bad parameter name in a PostgreSQL URI",
                     "parameters are libpq keywords such as sslmode or application_name");
      }
    }
    if (key == "password") {
      if (password != nullptr) *password = std::move(value);
    } else if (key == "host") {
      t.host = value;
    } else if (key == "port") {
      t.port = value;
    } else if (key == "user") {
      t.user = value;
    } else if (key == "dbname") {
      t.database = value;
    } else {
      t.params.emplace_back(std::move(key), std::move(value));
    }
  }
  if (t.host.empty()) t.host = "localhost";
  return t;
}

Result<SourceRef> parse_source(std::string_view source) {
  if (source.empty()) {
    return Error(ErrorCode::invalid_argument, "no source given",
                 "give a file path or glob, a postgresql:// URI, sqlite:PATH, or a saved source name");
  }
  SourceRef ref;
  if (is_postgres_uri(source)) {
    ref.kind = SourceKind::postgres;
    PLUTO_ASSIGN_OR_RETURN(PostgresTarget t, parse_postgres_uri(source, &ref.password));
    ref.location = t.uri();
    return ref;
  }
  if (is_sqlite_source(source)) {
    const std::string path = expand_home(source.substr(kSqlite.size()));
    if (path.empty()) {
      return Error(ErrorCode::invalid_argument, "sqlite: needs a file path", "write it as sqlite:/path/to/file.db");
    }
    ref.kind = SourceKind::sqlite;
    ref.location = fs::absolute(path).lexically_normal().string();
    return ref;
  }
  const std::string path = expand_home(source);
  ref.location = fs::absolute(path).lexically_normal().string();
  // A path ending in '/' keeps it: lexically_normal drops nothing but "." parts.
  ref.kind = starts_with_sqlite_header(ref.location) ? SourceKind::sqlite : SourceKind::files;
  return ref;
}

std::string redact_source(std::string_view source) {
  if (!is_postgres_uri(source)) return std::string(source);
  auto t = parse_postgres_uri(source, nullptr);
  if (t.ok()) return t.value().uri();
  // Unparseable: keep only the scheme, which cannot hold a secret.
  return std::string(source.substr(0, source.find("://") + 3)) + "…";
}

Status check_source_name(std::string_view name) {
  auto bad = [&](const std::string& why) -> Status {
    return Error(ErrorCode::invalid_argument, "invalid source name '" + std::string(name) + "': " + why,
                 "use a letter followed by letters, digits or '_' (at most 63), e.g. crm or shop_db");
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > 63) return bad("it is longer than 63 characters");
  if (std::isalpha(static_cast<unsigned char>(name.front())) == 0) return bad("it must start with a letter");
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') {
      return bad("it may hold only letters, digits and '_'");
    }
  }
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* reserved : {"memory", "system", "temp", "main", "information_schema", "pg_catalog"}) {
    if (lower == reserved) return bad("it is a name DuckDB reserves");
  }
  return {};
}

}  // namespace pluto::ingest
