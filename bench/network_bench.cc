// SPDX-License-Identifier: EUPL-1.2
// Loading a network definition of national size (300 institutions, 200 data
// types, 3000 authorizations) against parsing the same TOML alone: the
// difference is what validation and building the model cost on top of
// toml++. Figures in docs/network-definition.md.

#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include "network/loader.h"

namespace {

constexpr int kTypes = 30;
constexpr int kInstitutions = 300;
constexpr int kDataTypes = 200;
constexpr int kAuthorizations = 3000;
constexpr int kFields = 6;

// A valid definition: every reference resolves, every capacity is allowed,
// every subscription is covered by an authorization (k % 5 == 1 below are
// type-wide grants), so that the benchmark measures the whole load.
std::string GenerateDefinition() {
  std::string out;
  for (int t = 0; t < kTypes; ++t) {
    out += fmt::format("[[institution_type]]\nid = \"type-{:02}\"\n"
                       "capacities = [\"cap-a\", \"cap-b\", \"cap-c\"]\n\n",
                       t);
  }
  for (int i = 0; i < kInstitutions; ++i) {
    out += fmt::format("[[institution]]\nid = \"inst-{:03}\"\ntype = \"type-{:02}\"\n"
                       "name = \"Institution {}\"\nendpoint = \"https://127.0.0.1:{}\"\n\n",
                       i, i % kTypes, i, 10000 + i);
  }
  for (int d = 0; d < kDataTypes; ++d) {
    out += fmt::format("[[data_type]]\nid = \"data.type-{:03}\"\nfields = [", d);
    for (int f = 0; f < kFields; ++f) out += fmt::format("{}\"field_{}\"", f ? ", " : "", f);
    out += "]\n\n";
  }
  for (int d = 0; d < kDataTypes; ++d) {
    out += fmt::format("[[availability]]\ndata_type = \"data.type-{:03}\"\n"
                       "provider_type = \"type-{:02}\"\n{}\n",
                       d, d % kTypes, d % 2 == 0 ? "capacity = \"cap-a\"\n" : "");
  }
  // (type, data type) pairs are distinct for k < 30 * 200.
  for (int k = 0; k < kAuthorizations; ++k) {
    int type = k % kTypes;
    int data_type = (k / kTypes) % kDataTypes;
    std::string who = k % 10 == 0
                          ? fmt::format("requester = \"inst-{:03}\"", type + kTypes * (k / 10 % 10))
                          : fmt::format("requester_type = \"type-{:02}\"", type);
    out += fmt::format("[[authorization]]\ndata_type = \"data.type-{:03}\"\n{}\n"
                       "capacity = \"cap-{}\"\n{}legal_basis = \"ISC/24/{:03}\"\n"
                       "from = 2020-01-01\n{}\n",
                       data_type, who, "abc"[k % 3],
                       k % 2 == 0 ? "fields = [\"field_0\", \"field_2\", \"field_4\"]\n" : "",
                       k % 1000, k % 4 == 0 ? "to = 2030-12-31\n" : "");
  }
  for (int k = 1; k < kAuthorizations; k += 5) {
    out += fmt::format("[[subscription]]\ninstitution_type = \"type-{:02}\"\n"
                       "data_type = \"data.type-{:03}\"\ncapacity = \"cap-{}\"\n\n",
                       k % kTypes, (k / kTypes) % kDataTypes, "abc"[k % 3]);
  }
  return out;
}

const std::string& Definition() {
  static const std::string text = GenerateDefinition();
  return text;
}

// Baseline: toml++ alone, building its DOM of the same text.
void BM_TomlParseOnly(benchmark::State& state) {
  const std::string& text = Definition();
  for (auto _ : state) {
    toml::table table = toml::parse(text, std::string_view("bench.toml"));
    benchmark::DoNotOptimize(table);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_TomlParseOnly)->Unit(benchmark::kMillisecond);

// The whole load: parse, validate, build the Definition and its indexes.
void BM_ParseDefinition(benchmark::State& state) {
  const std::string& text = Definition();
  for (auto _ : state) {
    carrefour::Result<carrefour::network::Definition> definition =
        carrefour::network::ParseDefinition(text, "bench.toml");
    if (!definition) {
      state.SkipWithError(definition.error().message().substr(0, 500).c_str());
      break;
    }
    benchmark::DoNotOptimize(definition);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["authorizations"] = kAuthorizations;
}
BENCHMARK(BM_ParseDefinition)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
