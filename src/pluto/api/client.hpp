#pragma once
// A client for a running Pluto-Duck server, used by `pluto-duck query --server URL`.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "pluto/core/error.hpp"

namespace pluto::api {

struct RemoteQuery {
  std::string url;    // http://127.0.0.1:8123
  std::string token;  // bearer token, when the server has one
  std::string sql;
  std::optional<int64_t> timeout_ms;
  std::string format = "json";                   // json | csv | parquet | arrow: the whole result, downloaded
  const std::atomic<bool>* interrupt = nullptr;  // set (e.g. by Ctrl-C) to cancel the run on the server
};

struct RemoteOutcome {
  std::string run_id;
  std::string status;
  std::string error_code;
  std::string error_message;
};

// Submits the query, follows its events until it ends, then streams the stored result in `format`
// to `sink`. A query that fails on the server is an outcome with status "failed", not an Error; an
// Error means the server could not be reached or refused the request.
Result<RemoteOutcome> run_remote_query(const RemoteQuery& query, const std::function<Status(std::string_view)>& sink);

}  // namespace pluto::api
