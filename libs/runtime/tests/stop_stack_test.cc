#include "pc/runtime/stop_stack.h"

#include <stdexcept>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pc::runtime {
namespace {

using ::testing::ElementsAre;

TEST(StopStackTest, RunsNewestFirstAndOnlyOnce) {
  std::vector<std::string> ran;
  StopStack stops;
  stops.Add("store", [&] { ran.push_back("store"); });
  stops.Add("producer flush", [&] { ran.push_back("producer flush"); });
  stops.Add("outbox relay", [&] { ran.push_back("outbox relay"); });
  stops.Add("consumers", [&] { ran.push_back("consumers"); });
  stops.RunAll();
  stops.RunAll();
  EXPECT_THAT(ran, ElementsAre("consumers", "outbox relay", "producer flush", "store"));
}

TEST(StopStackTest, AThrowingActionDoesNotStopTheRest) {
  std::vector<std::string> ran;
  StopStack stops;
  stops.Add("store", [&] { ran.push_back("store"); });
  stops.Add("relay", [&] { throw std::runtime_error("relay stuck"); });
  stops.RunAll();
  EXPECT_THAT(ran, ElementsAre("store"));
}

}  // namespace
}  // namespace pc::runtime
