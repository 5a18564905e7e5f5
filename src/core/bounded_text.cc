// SPDX-License-Identifier: EUPL-1.2
#include "core/bounded_text.h"

namespace carrefour {

namespace {

// The length of the UTF-8 character at the start of `text`, 0 when it is not
// one.
size_t Utf8Length(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    size_t length = Utf8Length(text);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      length = 1;
    } else {
      out.append(text.substr(0, length));
    }
    text.remove_prefix(length);
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  while (!text.empty()) {
    size_t length = Utf8Length(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

std::string BoundedText(std::string_view raw, size_t max_bytes) {
  const std::string valid = ValidUtf8(raw);
  const std::string_view text = valid;
  if (text.size() <= max_bytes) return valid;
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
