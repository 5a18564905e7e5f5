// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test-only: the fixture of the services' tests (mutations, BIS) on both
// engines (store/testing/): a store on a manual clock, the decision engine
// of a network definition and an audit log, which the test's services are
// built on.

#include <memory>
#include <string_view>

#include <gtest/gtest.h>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "directory/decision.h"
#include "network/loader.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::mutations::testing {

// SetUp opens the engine's test store on clock_, the decision engine of
// `network` (a TOML text that must outlive the fixture) and an audit log of
// node "test"; a subclass's SetUp calls it first and returns on a skip or a
// fatal failure. TearDown closes them; a subclass resets what it built on
// them before calling it.
class ServiceFixture : public store::testing::StoreTest {
 protected:
  ServiceFixture(std::string_view network, Date today) : network_(network), clock_(today) {}

  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = OpenTestStore(clock_);
    ASSERT_NE(store_, nullptr);
    Result<network::Definition> definition = network::ParseDefinition(network_, "test.toml");
    ASSERT_TRUE(definition.has_value()) << definition.error().ToString();
    engine_ = std::make_shared<directory::DecisionEngine>(
        std::make_shared<const network::Definition>(std::move(*definition)));
    Result<std::unique_ptr<audit::AuditLog>> audit =
        audit::AuditLog::Open(store_->audit(), {.node = "test"}, clock_);
    ASSERT_TRUE(audit.has_value()) << audit.error().ToString();
    audit_ = std::move(*audit);
  }
  void TearDown() override {
    audit_.reset();
    store_.reset();
    StoreTest::TearDown();
  }

 private:
  std::string_view network_;

 protected:
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const directory::DecisionEngine> engine_;
  std::unique_ptr<audit::AuditLog> audit_;
};

}  // namespace carrefour::mutations::testing
