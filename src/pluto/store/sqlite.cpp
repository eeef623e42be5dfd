#include "pluto/store/sqlite.hpp"

namespace pluto::store {

namespace {
Error sqlite_error(sqlite3* db, const std::string& what) {
  const int code = sqlite3_errcode(db);
  std::string msg = what + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return Error(ErrorCode::locked, msg, "another process is writing the metadata store; retry");
  }
  if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY || code == SQLITE_PERM || code == SQLITE_IOERR) {
    return Error(ErrorCode::unavailable, msg, "check the permissions of the data dir");
  }
  return Error(ErrorCode::internal, msg);
}
}  // namespace

Result<bool> Statement::step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "metadata store statement failed");
}

Status Statement::run() {
  while (true) {
    PLUTO_ASSIGN_OR_RETURN(bool row, step());
    if (!row) return {};
  }
}

Result<SqliteDb> SqliteDb::open(const std::string& path) {
  SqliteDb db;
  const int rc = sqlite3_open_v2(path.c_str(), &db.db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db.db_ != nullptr ? sqlite3_errmsg(db.db_) : "out of memory";
    return Error(ErrorCode::unavailable, "cannot open metadata store " + path + ": " + msg,
                 "check that the data dir is writable");
  }
  sqlite3_busy_timeout(db.db_, 5000);
  sqlite3_extended_result_codes(db.db_, 1);
  return db;
}

Result<Statement> SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK) {
    return sqlite_error(db_, "cannot prepare metadata statement");
  }
  return Statement(db_, s);
}

Status SqliteDb::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    Error e = sqlite_error(db_, "metadata store");
    e.message = "metadata store: " + msg;
    return e;
  }
  return {};
}

}  // namespace pluto::store
