// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstddef>
#include <vector>

namespace carrefour::directory::internal {

// Asks for transparent huge pages under a large table read at random (the
// person directory, the grant table): with 4 KiB pages every random read
// in a table of many megabytes also misses the TLB and walks the page
// tables (more cache misses); with 2 MiB pages the walks mostly hit.
// Advice only: without it (another system, THP off) only the speed changes.
// Call it on a buffer before first touching it, so that its pages are
// faulted in huge.
void AdviseHugePages(const void* data, size_t bytes);

// `vector` resized to `size` copies of `value`, its buffer advised first.
template <typename T>
void AssignOnHugePages(std::vector<T>* vector, size_t size, const T& value) {
  std::vector<T> fresh;
  fresh.reserve(size);
  AdviseHugePages(fresh.data(), size * sizeof(T));
  fresh.assign(size, value);
  vector->swap(fresh);
}

}  // namespace carrefour::directory::internal
