#pragma once
// Warehouse access for jobs: many shared holders at once, or one exclusive holder with nothing else
// touching the warehouse. Requests are served in arrival order, so an exclusive request is not
// starved by a stream of shared ones, and shared requests behind it wait their turn.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "pluto/core/cancel.hpp"
#include "pluto/core/error.hpp"
#include "pluto/jobs/job.hpp"

namespace pluto::jobs {

class WarehouseGate {
 public:
  class Grant {
   public:
    Grant() = default;
    Grant(WarehouseGate* gate, Access access) : gate_(gate), access_(access) {}
    ~Grant() { release(); }
    Grant(Grant&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)), access_(o.access_) {}
    Grant& operator=(Grant&& o) noexcept {
      if (this != &o) {
        release();
        gate_ = std::exchange(o.gate_, nullptr);
        access_ = o.access_;
      }
      return *this;
    }
    Grant(const Grant&) = delete;
    Grant& operator=(const Grant&) = delete;
    void release();

   private:
    WarehouseGate* gate_ = nullptr;
    Access access_ = Access::none;
  };

  // Waits for access. `on_wait` is called once (before blocking) if access is not free at once,
  // with a description of who holds it. Cancelling the token abandons the wait (ErrorCode::cancelled);
  // so does `max_wait` passing (ErrorCode::unavailable, naming who holds the warehouse).
  Result<Grant> acquire(Access access, const std::shared_ptr<CancelToken>& token,
                        const std::function<void(const std::string& reason)>& on_wait = {},
                        std::optional<std::chrono::milliseconds> max_wait = std::nullopt);

  int shared_holders() const;
  bool exclusive_held() const;

 private:
  void release(Access access);
  std::string wait_reason(Access access) const;  // with mu_ held
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<uint64_t> queue_;
  uint64_t next_ticket_ = 0;
  int shared_ = 0;
  bool exclusive_ = false;
};

}  // namespace pluto::jobs
