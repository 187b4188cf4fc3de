// HandoverGroup: a step's token events wake their consumers in groups no older than the window,
// every owed wake-up happens by the step's end, once per token, in push order.
#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

#include "engine/handover_group.h"

namespace agentserve {
namespace {

using Clock = HandoverGroup::Clock;
using std::chrono::microseconds;

EngineEvent token_event() {
  EngineEvent e;
  e.kind = EngineEvent::Kind::kToken;
  return e;
}

// Channels whose notify hooks record, in one shared log, which channel was woken.
struct Hooked {
  std::vector<std::unique_ptr<EventChannel>> channels;
  std::vector<int> woken;
  explicit Hooked(int n) {
    for (int i = 0; i < n; ++i) {
      channels.push_back(std::make_unique<EventChannel>());
      channels.back()->set_notify([this, i] { woken.push_back(i); });
    }
  }
  EventChannel* operator[](int i) { return channels[static_cast<size_t>(i)].get(); }
};

TEST(HandoverGroup, WindowZeroWakesEachTokenAsItIsAdded) {
  Hooked h(3);
  HandoverGroup g(microseconds(0));
  for (int i = 0; i < 3; ++i) {
    g.add(h[i], h[i]->push(token_event(), false));
    EXPECT_EQ(h.woken.size(), static_cast<size_t>(i + 1));
  }
  g.end_step();
  EXPECT_EQ(h.woken, (std::vector<int>{0, 1, 2}));
}

TEST(HandoverGroup, AGroupWakesOnceItsOldestTokenHasWaitedTheWindow) {
  Hooked h(5);
  HandoverGroup g(microseconds(100));
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 5; ++i) h[i]->push(token_event(), false);
  g.add(h[0], t0);
  g.add(h[1], t0 + microseconds(50));
  g.add(h[2], t0 + microseconds(99));
  EXPECT_TRUE(h.woken.empty()) << "within the window nothing is woken";
  g.add(h[3], t0 + microseconds(100));
  EXPECT_EQ(h.woken, (std::vector<int>{0, 1, 2, 3})) << "the group is woken together, in push order";
  // The next group starts at its own first token.
  g.add(h[4], t0 + microseconds(150));
  EXPECT_EQ(h.woken.size(), 4u);
  g.end_step();
  EXPECT_EQ(h.woken, (std::vector<int>{0, 1, 2, 3, 4}));
  g.end_step();  // nothing owed: nothing woken twice
  EXPECT_EQ(h.woken.size(), 5u);
}

TEST(HandoverGroup, AGroupDestroyedWithoutEndStepStillWakesEverythingItOwes) {
  Hooked h(2);
  {
    HandoverGroup g(microseconds(900));
    g.add(h[0], h[0]->push(token_event(), false));
    g.add(h[1], h[1]->push(token_event(), false));
    g.add(h[0], h[0]->push(token_event(), false));  // a channel twice: woken twice, in order
    EXPECT_TRUE(h.woken.empty());
  }  // destroyed without end_step(): still wakes what it owes
  EXPECT_EQ(h.woken, (std::vector<int>{0, 1, 0}));
}

TEST(HandoverGroup, AReaderBlockedInPopIsWokenByTheDeferredWakeUp) {
  EventChannel ch;
  std::promise<void> reading;
  auto got = std::async(std::launch::async, [&] {
    reading.set_value();
    return ch.pop().has_value();
  });
  reading.get_future().wait();
  // Let the reader reach its wait: an event queued before it looks would be taken without any
  // wake-up, and the test would pass whether or not the deferred wake-up reaches pop().
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  HandoverGroup g(microseconds(900));
  g.add(&ch, ch.push(token_event(), false));
  g.end_step();
  const bool woken = got.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!woken) ch.push(token_event());  // release the reader, so the failure does not hang
  EXPECT_TRUE(woken) << "the deferred wake-up did not reach the reader blocked in pop()";
  EXPECT_TRUE(got.get());
}

TEST(HandoverGroup, PushWithoutNotifyLeavesTheHookUncalledUntilNotified) {
  EventChannel ch;
  int calls = 0;
  ch.set_notify([&] { ++calls; });
  const Clock::time_point before = Clock::now();
  const Clock::time_point stamped = ch.push(token_event(), false);
  EXPECT_GE(stamped, before);
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(ch.consumer_lagging());
  ch.notify_consumer();
  EXPECT_EQ(calls, 1);
  auto e = ch.try_pop();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->produced_at, stamped);
  ch.push(token_event());  // the default wakes at once
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace agentserve
