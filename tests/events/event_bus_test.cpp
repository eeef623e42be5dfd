#include "pluto/events/event_bus.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "pluto/store/store.hpp"
#include "test_util.hpp"

namespace pluto::events {
namespace {

std::unique_ptr<store::Store> open_store(const testing::TempDir& dir) {
  auto s = store::Store::open(dir / "pluto.sqlite");
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(EventBus::migrate(*s.value()).ok());
  return std::move(s).value();
}

TEST(EventBus, IdsStartAtOneAndRisePerStream) {
  EventBus bus(nullptr);
  EXPECT_EQ(bus.publish("a", "x.one").id, 1);
  EXPECT_EQ(bus.publish("a", "x.two").id, 2);
  EXPECT_EQ(bus.publish("b", "y.one").id, 1);
  auto r = bus.read("a", 0);
  ASSERT_EQ(r.events.size(), 2U);
  EXPECT_EQ(r.events[1].type, "x.two");
  EXPECT_FALSE(r.closed);
  auto env = r.events[0].envelope();
  EXPECT_EQ(env["stream"], "a");
  EXPECT_EQ(env["id"], 1);
  EXPECT_TRUE(env["ts"].get<std::string>().ends_with("Z"));
}

TEST(EventBus, ReadAfterIdAndClose) {
  EventBus bus(nullptr);
  for (int i = 0; i < 5; ++i) bus.publish("s", "t", {{"i", i}});
  bus.publish("s", "t.done", {}, /*final=*/true);
  auto r = bus.read("s", 3);
  ASSERT_EQ(r.events.size(), 3U);
  EXPECT_EQ(r.events[0].id, 4);
  EXPECT_TRUE(r.closed);
  // Publishing after close is ignored.
  bus.publish("s", "late");
  EXPECT_EQ(bus.read("s", 0).events.size(), 6U);
}

TEST(EventBus, WaitWakesOnPublishAndTimesOut) {
  EventBus bus(nullptr);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    bus.publish("w", "hello");
  });
  auto r = bus.wait("w", 0, std::chrono::seconds(10));
  t.join();
  ASSERT_EQ(r.events.size(), 1U);
  EXPECT_EQ(r.events[0].type, "hello");
  auto none = bus.wait("w", 1, std::chrono::milliseconds(20));
  EXPECT_TRUE(none.events.empty());
}

TEST(EventBus, ManyReadersSeeEveryEventInOrder) {
  EventBus bus(nullptr);
  std::vector<std::vector<int64_t>> seen(4);
  std::vector<std::thread> readers;
  for (size_t k = 0; k < seen.size(); ++k) {
    readers.emplace_back([&, k] {
      int64_t after = 0;
      while (true) {
        auto r = bus.wait("m", after, std::chrono::seconds(10));
        for (const auto& e : r.events) seen[k].push_back(e.id);
        if (!r.events.empty()) after = r.events.back().id;
        if (r.closed) break;
      }
    });
  }
  for (int i = 0; i < 200; ++i) bus.publish("m", "tick", {}, i == 199);
  for (auto& t : readers) t.join();
  for (const auto& s : seen) {
    ASSERT_EQ(s.size(), 200U);
    for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i], static_cast<int64_t>(i + 1));
  }
}

TEST(EventBus, StoredStreamsReplayAfterRestartAndContinueIds) {
  testing::TempDir dir;
  {
    auto store = open_store(dir);
    EventBus bus(store.get());
    bus.publish("q/1", "query.started", {{"sql", "SELECT 1"}});
    bus.publish("q/1", "query.succeeded", {{"rows", 1}}, true);
    bus.publish("q/2", "query.started");
  }
  auto store = open_store(dir);
  EventBus bus(store.get());
  auto r = bus.read("q/1", 0);
  ASSERT_EQ(r.events.size(), 2U);
  EXPECT_TRUE(r.exists);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.events[0].data["sql"], "SELECT 1");
  EXPECT_EQ(bus.read("q/1", 1).events.size(), 1U);
  // A stream left open continues with the next id.
  EXPECT_EQ(bus.publish("q/2", "query.interrupted", {}, true).id, 2);
  EXPECT_FALSE(bus.read("nope", 0).exists);
}

}  // namespace
}  // namespace pluto::events
