#pragma once
// Cooperative cancellation shared by jobs, queries, ingestion, dbt and agent runs. Long loops poll
// cancelled(); blocking work registers a callback (e.g. duckdb_interrupt, SIGINT to a child).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace pluto {

enum class CancelReason { none = 0, cancelled = 1, timed_out = 2, shutdown = 3 };

class CancelToken {
 public:
  static std::shared_ptr<CancelToken> create() { return std::make_shared<CancelToken>(); }

  // First call wins; callbacks run once, on the cancelling thread. Returns false if already cancelled.
  bool cancel(CancelReason reason = CancelReason::cancelled) {
    std::map<uint64_t, std::function<void()>> callbacks;
    {
      std::lock_guard lock(mu_);
      if (reason_ != CancelReason::none) return false;
      reason_ = reason;
      flag_.store(true);
      callbacks.swap(callbacks_);
    }
    for (auto& [id, cb] : callbacks) cb();
    return true;
  }
  bool cancelled() const { return flag_.load(std::memory_order_relaxed); }
  CancelReason reason() const {
    std::lock_guard lock(mu_);
    return reason_;
  }

  // Runs `cb` on cancel (immediately if already cancelled). Returns an id for remove().
  uint64_t on_cancel(std::function<void()> cb) {
    {
      std::lock_guard lock(mu_);
      if (reason_ == CancelReason::none) {
        callbacks_[++next_id_] = std::move(cb);
        return next_id_;
      }
    }
    cb();
    return 0;
  }
  void remove(uint64_t id) {
    std::lock_guard lock(mu_);
    callbacks_.erase(id);
  }

 private:
  mutable std::mutex mu_;
  std::atomic<bool> flag_{false};
  CancelReason reason_ = CancelReason::none;
  std::map<uint64_t, std::function<void()>> callbacks_;
  uint64_t next_id_ = 0;
};

// Registers a cancel callback for the lifetime of a scope.
class CancelScope {
 public:
  CancelScope(const std::shared_ptr<CancelToken>& token, std::function<void()> cb) : token_(token) {
    if (token_) id_ = token_->on_cancel(std::move(cb));
  }
  ~CancelScope() {
    if (token_ && id_ != 0) token_->remove(id_);
  }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  std::shared_ptr<CancelToken> token_;
  uint64_t id_ = 0;
};

}  // namespace pluto
