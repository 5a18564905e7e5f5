// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstddef>

namespace carrefour::console::internal {

// One file of web/console/, as embed.cmake writes it. The data is followed
// by a NUL that `size` does not count.
struct EmbeddedFile {
  const char* path;  // "/js/app.js"
  const unsigned char* data;
  size_t size;
  const char* sha256;  // hex
};

// Sorted by path (generated: embedded_files.cc in the build folder).
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

}  // namespace carrefour::console::internal
