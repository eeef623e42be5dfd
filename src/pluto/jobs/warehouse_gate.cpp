#include "pluto/jobs/warehouse_gate.hpp"

#include <algorithm>

namespace pluto::jobs {

void WarehouseGate::Grant::release() {
  if (gate_ != nullptr) gate_->release(access_);
  gate_ = nullptr;
}

std::string WarehouseGate::wait_reason(Access access) const {
  return exclusive_                    ? "waiting for an exclusive job (e.g. a dbt run) to release the warehouse"
         : access == Access::exclusive ? "waiting for " + std::to_string(shared_) + " running job(s) to finish"
                                       : "waiting behind a queued exclusive job";
}

Result<WarehouseGate::Grant> WarehouseGate::acquire(Access access, const std::shared_ptr<CancelToken>& token,
                                                    const std::function<void(const std::string&)>& on_wait,
                                                    std::optional<std::chrono::milliseconds> max_wait) {
  if (access == Access::none) return Grant();
  std::unique_lock lock(mu_);
  const uint64_t ticket = next_ticket_++;
  queue_.push_back(ticket);
  auto can_go = [&] {
    if (queue_.front() != ticket) return false;
    return access == Access::shared ? !exclusive_ : (!exclusive_ && shared_ == 0);
  };
  // Wake this waiter when its token is cancelled.
  CancelScope wake(token, [this] {
    std::lock_guard l(mu_);
    cv_.notify_all();
  });
  if (!can_go() && on_wait) {
    const std::string reason = wait_reason(access);
    lock.unlock();
    on_wait(reason);
    lock.lock();
  }
  auto done = [&] { return can_go() || (token && token->cancelled()); };
  bool in_time = true;
  if (max_wait) {
    in_time = cv_.wait_for(lock, *max_wait, done);
  } else {
    cv_.wait(lock, done);
  }
  if (!in_time) {
    const std::string reason = wait_reason(access);
    queue_.erase(std::find(queue_.begin(), queue_.end(), ticket));
    cv_.notify_all();
    return Error(ErrorCode::unavailable,
                 "the warehouse stayed busy for " + std::to_string(max_wait->count() / 1000) + " s (" + reason + ")",
                 "retry when the running job has finished (see GET /api/v1/jobs)");
  }
  queue_.erase(std::find(queue_.begin(), queue_.end(), ticket));
  if (token && token->cancelled()) {
    cv_.notify_all();
    return Error(ErrorCode::cancelled, "cancelled while waiting for the warehouse");
  }
  if (access == Access::shared) {
    ++shared_;
  } else {
    exclusive_ = true;
  }
  cv_.notify_all();  // the next in line may be a shared request that can go too
  return Grant(this, access);
}

void WarehouseGate::release(Access access) {
  {
    std::lock_guard lock(mu_);
    if (access == Access::shared) {
      --shared_;
    } else if (access == Access::exclusive) {
      exclusive_ = false;
    }
  }
  cv_.notify_all();
}

int WarehouseGate::shared_holders() const {
  std::lock_guard lock(mu_);
  return shared_;
}

bool WarehouseGate::exclusive_held() const {
  std::lock_guard lock(mu_);
  return exclusive_;
}

}  // namespace pluto::jobs
