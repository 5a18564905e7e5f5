// SPDX-License-Identifier: EUPL-1.2
#include "core/bounded_text.h"

namespace carrefour {

std::string BoundedText(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  // The marker's size depends on the number it holds; 32 bytes hold any.
  constexpr size_t kMarkerRoom = 32;
  size_t keep = max_bytes > kMarkerRoom ? max_bytes - kMarkerRoom : 0;
  // Back up to the start of a UTF-8 character (continuation bytes are 10xxxxxx).
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  std::string out(text.substr(0, keep));
  out += " ... (";
  out += std::to_string(text.size() - keep);
  out += " more bytes)";
  if (out.size() > max_bytes) out.resize(max_bytes);  // only for absurdly small limits
  return out;
}

}  // namespace carrefour
