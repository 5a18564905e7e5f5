// SPDX-License-Identifier: EUPL-1.2
// How many national numbers one core validates per second, next to two
// baselines measured in the same run: the bare mod-97 arithmetic on numbers
// already held as integers, and strtoull of the 11 digits plus that
// arithmetic. The gap is what Parse's rules (separators, month, day,
// century, the Number it builds) cost. Figures: docs/identification.md.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "niss/niss.h"

namespace carrefour::niss {
namespace {

constexpr int kSetSize = 4096;

Date Today() { return *Date::FromCivil(2026, 11, 28); }

// A fixed mix: half National Register, half BIS, from one seed.
const std::vector<Number>& Numbers() {
  static const std::vector<Number> numbers = [] {
    Generator generator(42, Today());
    std::vector<Number> out;
    for (int i = 0; i < kSetSize; ++i)
      out.push_back(i % 2 ? generator.NextBis() : generator.Next());
    return out;
  }();
  return numbers;
}

// The set's numbers as `text` writes them (digits only, or formatted).
template <typename Text>
std::vector<std::string> Inputs(Text text) {
  std::vector<std::string> inputs;
  for (const Number& number : Numbers()) inputs.push_back(text(number));
  return inputs;
}

// Runs `work` on the items in turn, one per iteration.
template <typename Item, typename Work>
void OverSet(benchmark::State& state, const std::vector<Item>& items, Work work) {
  size_t i = 0;
  for (auto _ : state) {
    auto result = work(items[i++ % kSetSize]);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_ParseBare(benchmark::State& state) {
  const Date today = Today();
  OverSet(state, Inputs([](const Number& n) { return n.digits; }),
          [today](const std::string& input) { return Parse(input, today); });
}
BENCHMARK(BM_ParseBare);

void BM_ParseSeparated(benchmark::State& state) {
  const Date today = Today();
  OverSet(state, Inputs([](const Number& n) { return n.Formatted(); }),
          [today](const std::string& input) { return Parse(input, today); });
}
BENCHMARK(BM_ParseSeparated);

// Without an injected day: the system clock is read only for births in the
// 2000s (about a quarter of this set).
void BM_ParseSystemClock(benchmark::State& state) {
  OverSet(state, Inputs([](const Number& n) { return n.digits; }),
          [](const std::string& input) { return Parse(input); });
}
BENCHMARK(BM_ParseSystemClock);

// An invalid number: the error path builds a message.
void BM_ParseWrongCheckDigits(benchmark::State& state) {
  const Date today = Today();
  for (auto _ : state) {
    Result<Number> number = Parse("85073003329", today);
    benchmark::DoNotOptimize(number);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseWrongCheckDigits);

bool CheckDigitsHold(uint64_t value) {
  const uint64_t body = value / 100;
  const uint64_t check = value % 100;
  return check == 97 - body % 97 || check == 97 - (2'000'000'000 + body) % 97;
}

// Baseline 1: only the arithmetic, on integers parsed beforehand.
void BM_BaselineMod97(benchmark::State& state) {
  std::vector<uint64_t> values;
  for (const std::string& digits : Inputs([](const Number& n) { return n.digits; }))
    values.push_back(std::strtoull(digits.c_str(), nullptr, 10));
  OverSet(state, values, CheckDigitsHold);
}
BENCHMARK(BM_BaselineMod97);

// Baseline 2: strtoull of the 11 digits, then the arithmetic: the least a
// validator that only checks digits could do.
void BM_BaselineStrtoull(benchmark::State& state) {
  OverSet(state, Inputs([](const Number& n) { return n.digits; }), [](const std::string& input) {
    return CheckDigitsHold(std::strtoull(input.c_str(), nullptr, 10));
  });
}
BENCHMARK(BM_BaselineStrtoull);

void BM_GeneratorNext(benchmark::State& state) {
  Generator generator(1, Today());
  for (auto _ : state) {
    Number number = generator.Next();
    benchmark::DoNotOptimize(number);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
// Fixed iterations: the generator remembers every number it gave.
BENCHMARK(BM_GeneratorNext)->Iterations(200'000);

}  // namespace
}  // namespace carrefour::niss

BENCHMARK_MAIN();
