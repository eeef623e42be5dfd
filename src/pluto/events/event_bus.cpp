#include "pluto/events/event_bus.hpp"

#include <array>

#include "pluto/core/clock.hpp"
#include "pluto/core/log.hpp"
#include "pluto/store/store.hpp"

namespace pluto::events {
namespace {

constexpr std::array kMigrations = {
    store::Migration{1, "event streams", R"sql(
CREATE TABLE event_streams (
  stream  TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL,
  closed  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE events (
  stream TEXT NOT NULL,
  id     INTEGER NOT NULL,
  type   TEXT NOT NULL,
  ts     TEXT NOT NULL,
  data   TEXT NOT NULL,
  PRIMARY KEY (stream, id)
) WITHOUT ROWID;
)sql"},
};

// Closed streams stay in memory this long for fast replay, then are read from the store.
constexpr auto kKeepClosed = std::chrono::minutes(5);

Event row_to_event(const store::Statement& st, const std::string& stream) {
  Event e;
  e.stream = stream;
  e.id = st.int64(0);
  e.type = st.text(1);
  e.ts = st.text(2);
  e.data = nlohmann::json::parse(st.text(3), nullptr, /*allow_exceptions=*/false);
  if (e.data.is_discarded()) e.data = nlohmann::json::object();
  return e;
}

}  // namespace

nlohmann::json Event::envelope() const {
  return nlohmann::json{{"id", id}, {"stream", stream}, {"type", type}, {"ts", ts}, {"data", data}};
}

EventBus::EventBus(store::Store* store) : store_(store) {}

Status EventBus::migrate(store::Store& store) {
  return store.migrate("events", kMigrations);
}

Event EventBus::publish(const std::string& stream, const std::string& type, nlohmann::json data, bool final) {
  Event e;
  {
    std::lock_guard lock(mu_);
    auto& s = streams_[stream];
    if (s.last_id == 0 && store_ != nullptr) {
      // A stream this process has not written yet may exist in the store (ids continue from there).
      (void)store_->with_db([&](store::SqliteDb& db) -> Status {
        PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("SELECT last_id, closed FROM event_streams WHERE stream = ?"));
        st.bind(1, stream);
        PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
        if (row) {
          s.last_id = st.int64(0);
          s.closed = st.int64(1) != 0;
        }
        return {};
      });
    }
    if (s.closed) {
      if (!s.events.empty()) return s.events.back();
      e.stream = stream;
      e.id = s.last_id;
      return e;
    }
    e.id = ++s.last_id;
    e.stream = stream;
    e.type = type;
    e.ts = now_rfc3339();
    e.data = std::move(data);
    s.events.push_back(e);
    if (final) {
      s.closed = true;
      s.closed_at = std::chrono::steady_clock::now();
    }
    if (store_ != nullptr) {
      const std::string payload = e.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      auto st = store_->with_db(
          [&](store::SqliteDb& db) -> Status {
            PLUTO_ASSIGN_OR_RETURN(
                auto ins, db.prepare("INSERT INTO events (stream, id, type, ts, data) VALUES (?, ?, ?, ?, ?)"));
            ins.bind(1, e.stream).bind(2, e.id).bind(3, e.type).bind(4, e.ts).bind(5, payload);
            PLUTO_TRY(ins.run());
            PLUTO_ASSIGN_OR_RETURN(auto up, db.prepare("INSERT INTO event_streams (stream, last_id, closed) VALUES "
                                                       "(?1, ?2, ?3) ON CONFLICT (stream) DO UPDATE SET last_id = ?2, "
                                                       "closed = ?3"));
            up.bind(1, e.stream).bind(2, e.id).bind(3, final ? 1 : 0);
            return up.run();
          },
          /*transaction=*/true);
      if (!st.ok()) log::warn("cannot store event", {{"stream", stream}, {"error", st.error().message}});
    }
    evict_locked();
  }
  cv_.notify_all();
  log::debug("event", {{"stream", stream}, {"type", type}, {"id", e.id}});
  return e;
}

void EventBus::evict_locked() {
  if (store_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = streams_.begin(); it != streams_.end();) {
    it = it->second.closed && now - it->second.closed_at > kKeepClosed ? streams_.erase(it) : std::next(it);
  }
}

ReadResult EventBus::read(const std::string& stream, int64_t after_id, size_t limit) {
  ReadResult out;
  {
    std::lock_guard lock(mu_);
    auto it = streams_.find(stream);
    if (it != streams_.end() && (it->second.events.empty() || it->second.events.front().id <= after_id + 1)) {
      const auto& s = it->second;
      for (const auto& e : s.events) {
        if (e.id > after_id && out.events.size() < limit) out.events.push_back(e);
      }
      out.exists = s.last_id > 0;
      out.closed = s.closed && (out.events.empty() || out.events.back().id == s.last_id);
      return out;
    }
  }
  if (store_ == nullptr) return out;
  (void)store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto ss, db.prepare("SELECT last_id, closed FROM event_streams WHERE stream = ?"));
    ss.bind(1, stream);
    PLUTO_ASSIGN_OR_RETURN(bool found, ss.step());
    if (!found) return {};
    out.exists = true;
    const int64_t last_id = ss.int64(0);
    const bool closed = ss.int64(1) != 0;
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("SELECT id, type, ts, data FROM events WHERE stream = ? AND id > ? "
                                               "ORDER BY id LIMIT ?"));
    st.bind(1, stream).bind(2, after_id).bind(3, static_cast<int64_t>(limit));
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.events.push_back(row_to_event(st, stream));
    }
    out.closed = closed && (out.events.empty() ? after_id >= last_id : out.events.back().id == last_id);
    return {};
  });
  return out;
}

ReadResult EventBus::wait(const std::string& stream, int64_t after_id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto r = read(stream, after_id);
    if (!r.events.empty() || r.closed) return r;
    std::unique_lock lock(mu_);
    if (shutdown_) return r;
    const bool local = streams_.count(stream) > 0;
    // Streams written by this process wake us; others (another process) are polled.
    const auto step =
        local ? deadline : std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    cv_.wait_until(lock, step, [&] {
      if (shutdown_) return true;
      auto it = streams_.find(stream);
      return it != streams_.end() && (it->second.last_id > after_id || it->second.closed);
    });
    if (shutdown_ || std::chrono::steady_clock::now() >= deadline) {
      lock.unlock();
      return read(stream, after_id);
    }
  }
}

void EventBus::shutdown() {
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

}  // namespace pluto::events
