#pragma once
// The one event stream: every state change of a query, job, ingestion, dbt or agent run is an
// Event in a named stream ("query/<run_id>", "job/<id>", "agent/<run_id>"). Events are stored, so
// a stream can be replayed after the fact and after a restart; any number of readers may follow a
// stream; ids start at 1 in each stream and rise by 1. Events also go to the log.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::store {
class Store;
}

namespace pluto::events {

struct Event {
  int64_t id = 0;
  std::string stream;
  std::string type;  // "query.started", "job.waiting", "dbt.node_finished"…
  std::string ts;    // RFC 3339
  nlohmann::json data = nlohmann::json::object();

  // The envelope of ARCHITECTURE.md: {"id","stream","type","ts","data"}.
  nlohmann::json envelope() const;
};

struct ReadResult {
  std::vector<Event> events;
  bool closed = false;  // the stream has its final event; nothing more will come
  bool exists = false;  // the stream has at least one event
};

class EventBus {
 public:
  // `store` may be null: events then live in memory only (tests, one-shot CLI runs).
  explicit EventBus(store::Store* store);
  static Status migrate(store::Store& store);

  // Appends an event; `final` closes the stream (readers stop after it). Publishing to a closed
  // stream is ignored and returns the last event.
  Event publish(const std::string& stream, const std::string& type, nlohmann::json data = nlohmann::json::object(),
                bool final = false);

  // Events with id > after_id (at most `limit`), from memory or the store.
  ReadResult read(const std::string& stream, int64_t after_id, size_t limit = 1000);
  // Like read(), but waits up to `timeout` for something new when nothing is there yet.
  ReadResult wait(const std::string& stream, int64_t after_id, std::chrono::milliseconds timeout);

  // Wakes every waiter (server shutdown).
  void shutdown();

 private:
  struct Stream {
    std::vector<Event> events;
    int64_t last_id = 0;
    bool closed = false;
    std::chrono::steady_clock::time_point closed_at;
  };
  Stream* load_locked(const std::string& stream);
  void evict_locked();

  store::Store* store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Stream> streams_;
  bool shutdown_ = false;
};

}  // namespace pluto::events
