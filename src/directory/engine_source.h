// SPDX-License-Identifier: EUPL-1.2
#pragma once

// How a service reads the current decision engine: the hub swaps the engine
// atomically when the network definition is reloaded, and every request asks
// for the one in force when it starts (and keeps it to its end).

#include <functional>
#include <memory>

namespace carrefour::directory {

class DecisionEngine;

using EngineSource = std::function<std::shared_ptr<const DecisionEngine>()>;

}  // namespace carrefour::directory
