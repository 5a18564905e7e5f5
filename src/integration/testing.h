// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test-only: the fixture of the integration tests that read a network
// definition and write to a store, on both engines (store/testing/).

#include <memory>
#include <string_view>

#include <gtest/gtest.h>

#include "network/loader.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::integration::testing {

// SetUp parses `network` (a TOML text that must outlive the fixture) into
// definition_ and opens the engine's test store in store_.
class NetworkStoreTest : public store::testing::StoreTest {
 protected:
  explicit NetworkStoreTest(std::string_view network) : network_(network) {}

  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Result<network::Definition> definition = network::ParseDefinition(network_, "test.toml");
    ASSERT_TRUE(definition.has_value()) << definition.error().ToString();
    definition_ = *std::move(definition);
    store_ = OpenTestStore();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    StoreTest::TearDown();
  }

  network::Definition definition_;
  std::unique_ptr<store::Store> store_;

 private:
  std::string_view network_;
};

}  // namespace carrefour::integration::testing
