// SPDX-License-Identifier: EUPL-1.2
#include "bis/names.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace carrefour::bis {
namespace {

// Latin-1 Supplement to Latin Extended-B (U+00C0-U+024F) and Latin Extended
// Additional (U+1E00-U+1EFF): the base letter of each code point, as Unicode
// decomposes it (generated with Python's unicodedata). '*' marks a
// ligature spelled out by Ligature(); '?' what is not a letter to fold.
constexpr std::string_view kLatin =
    "aaaaaa*ceeeeiiiidnooooo?ouuuuy**"  // U+00C0
    "aaaaaa*ceeeeiiiidnooooo?ouuuuy*y"  // U+00E0
    "aaaaaaccccccccddddeeeeeeeeeegggg"  // U+0100
    "gggghhhhiiiiiiiiii??jjkkklllllll"  // U+0120
    "lllnnnnnnnnnoooooo??rrrrrrssssss"  // U+0140
    "ssttttttuuuuuuuuuuuuwwyyyzzzzzzs"  // U+0160
    "bbbb???cc?ddd????ffg?*?ikkl??nno"  // U+0180
    "oo**pp?????ttttuu?vyyzz?????????"  // U+01A0
    "????*d**l**n*aaiioouuuuuuuuuu?aa"  // U+01C0
    "aa**ggggkkoooo??j*d*gg??nnaa**oo"  // U+01E0
    "aaaaeeeeiiiioooorrrruuuusstt??hh"  // U+0200
    "nd**zzaaeeooooooooyylnti**acclts"  // U+0220
    "z??bu?eejj?qrryy";  // U+0240
constexpr std::string_view kLatinExtendedAdditional =
    "aabbbbbbccddddddddddeeeeeeeeeeff"  // U+1E00
    "gghhhhhhhhhhiiiikkkkkkllllllllmm"  // U+1E20
    "mmmmnnnnnnnnoooooooopppprrrrrrrr"  // U+1E40
    "ssssssssssttttttttuuuuuuuuuuvvvv"  // U+1E60
    "wwwwwwwwwwxxxxyyzzzzzzhtwyasss*?"  // U+1E80
    "aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeee"  // U+1EA0
    "eeeeeeeeiiiioooooooooooooooooooo"  // U+1EC0
    "oooouuuuuuuuuuuuuuyyyyyyyy????yy";  // U+1EE0

std::string_view Ligature(char32_t c) {
  switch (c) {
    case 0xC6: case 0xE6: case 0x1E2: case 0x1E3: case 0x1FC: case 0x1FD: return "ae";
    case 0xDE: case 0xFE: return "th";
    case 0xDF: case 0x1E9E: return "ss";
    case 0x132: case 0x133: return "ij";
    case 0x152: case 0x153: return "oe";
    case 0x1A2: case 0x1A3: return "oi";
    case 0x195: return "hv";
    case 0x1C4: case 0x1C5: case 0x1C6: case 0x1F1: case 0x1F2: case 0x1F3: return "dz";
    case 0x1C7: case 0x1C8: case 0x1C9: return "lj";
    case 0x1CA: case 0x1CB: case 0x1CC: return "nj";
    case 0x222: case 0x223: return "ou";
    case 0x238: return "db";
    case 0x239: return "qp";
  }
  return {};
}

// Decodes one UTF-8 code point at `i`, advancing it; U+FFFD for a malformed
// sequence (the JSON parser already refuses those; the CLI may not).
char32_t Decode(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i++]);
  if (c < 0x80) return c;
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (extra < 0) return 0xFFFD;
  char32_t value = c & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    value = (value << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return value;
}

bool IsApostrophe(char32_t c) { return c == '\'' || c == '`' || c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0xB4; }
bool IsSeparator(char32_t c) {
  return c == ' ' || c == '\t' || c == '-' || c == '.' || c == ',' || c == 0xA0 ||
         (c >= 0x2010 && c <= 0x2015) || c == 0xD7 || c == 0xF7;
}
bool IsCombiningMark(char32_t c) { return c >= 0x300 && c <= 0x36F; }

std::string Describe(char32_t c) {
  if (c >= '0' && c <= '9') return fmt::format("the digit '{}'", static_cast<char>(c));
  if (c >= 0x21 && c < 0x7F) return fmt::format("'{}'", static_cast<char>(c));
  return fmt::format("U+{:04X}", static_cast<uint32_t>(c));
}

bool IsVowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y'; }

// Longest first, so that "vanden" wins over "van" + "den". No one-letter
// particles: "d'", "l'" and "t'" are written as part of the name and compact
// with it ("dhondt"), and stripping "d" would take the D of every "Dubois".
// Nor "des", "der", "den" or "dela" on their own, and one particle only: in
// Belgium "Desmet", "Derycke" and "Delanghe" are De Smet, De Rycke and De
// Langhe far more often than not (so "De la Croix" keeps "lacroix").
constexpr std::string_view kParticles[] = {"vanden", "vander", "vande", "van", "von", "vom",
                                           "ten",    "ter",    "zum",   "zur", "de",  "du",
                                           "da",     "di",     "le",    "la",  "zu",  "op"};
constexpr size_t kMinCore = 3;

std::vector<std::string> SplitWords(std::string_view folded) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start < folded.size()) {
    size_t space = folded.find(' ', start);
    if (space == std::string_view::npos) space = folded.size();
    if (space > start) words.emplace_back(folded.substr(start, space - start));
    start = space + 1;
  }
  return words;
}

}  // namespace

std::string FoldName(std::string_view utf8, std::string* problem) {
  if (problem) problem->clear();
  std::string out;
  out.reserve(utf8.size());
  bool pending_space = false;
  auto letters = [&](std::string_view text) {
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += text;
  };
  size_t i = 0;
  while (i < utf8.size()) {
    char32_t c = Decode(utf8, i);
    if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
    if (c >= 'a' && c <= 'z') {
      char letter = static_cast<char>(c);
      letters(std::string_view(&letter, 1));
    } else if (IsSeparator(c)) {
      pending_space = true;
    } else if (IsApostrophe(c) || IsCombiningMark(c)) {
      // "D'Hondt" is one name; a combining accent (NFD input) just goes.
    } else if (std::string_view ligature = Ligature(c); !ligature.empty()) {
      letters(ligature);
    } else if (c >= 0xC0 && c < 0xC0 + kLatin.size() && kLatin[c - 0xC0] != '?') {
      letters(kLatin.substr(c - 0xC0, 1));
    } else if (c >= 0x1E00 && c < 0x1E00 + kLatinExtendedAdditional.size() &&
               kLatinExtendedAdditional[c - 0x1E00] != '?') {
      letters(kLatinExtendedAdditional.substr(c - 0x1E00, 1));
    } else if (problem && problem->empty()) {
      *problem = Describe(c);
    }
  }
  return out;
}

std::string Compact(std::string_view folded) {
  std::string out;
  out.reserve(folded.size());
  for (char c : folded) {
    if (c != ' ') out += c;
  }
  return out;
}

std::string StripParticles(std::string_view compact) {
  for (std::string_view particle : kParticles) {
    if (compact.size() >= particle.size() + kMinCore && compact.starts_with(particle)) {
      return std::string(compact.substr(particle.size()));
    }
  }
  return std::string(compact);
}

std::string PhoneticKey(std::string_view w) {
  std::string out;
  const size_t n = w.size();
  auto at = [&](size_t k) -> char { return k < n ? w[k] : '\0'; };
  // Repeated codes count once, also across vowels: "Bossche" and "Bos" are
  // one key, as are "Mohammed" and "Mohamed".
  auto emit = [&](char code) {
    if (out.empty() || out.back() != code) out += code;
  };
  bool first = true;
  size_t i = 0;
  while (i < n) {
    const char c = w[i];
    const char next = at(i + 1);
    size_t length = 1;
    // A "j" after a vowel is part of it: Dutch "ij" ("Meijer" = "Meyer").
    if (IsVowel(c) || (c == 'j' && i > 0 && IsVowel(w[i - 1]))) {
      if (first) emit('A');
    } else {
      switch (c) {
        case 'b':
          if (next == 'v') {  // "Lefebvre" = "Lefevre"
            emit('F');
            length = 2;
          } else {
            emit('B');
          }
          break;
        case 'c':
          if (next == 'h') {
            // "Christiaens" = "Kristiaens"; otherwise the Dutch/German velar
            // ("Verachtert") or the French "ch", each spelled consistently.
            char after = at(i + 2);
            emit(after == 'r' || after == 'l' ? 'K' : 'G');
            length = 2;
          } else if (next == 'k') {
            emit('K');
            length = 2;
          } else {
            emit(next == 'e' || next == 'i' || next == 'y' ? 'S' : 'K');
          }
          break;
        case 'd':
          emit('T');
          if (next == 't') length = 2;
          break;
        case 'f': case 'v': emit('F'); break;
        case 'w': emit('V'); break;
        case 'g':
          emit('G');
          if (next == 'h') length = 2;
          break;
        case 'h': break;  // silent, or part of a digraph handled above
        case 'j': emit('J'); break;
        case 'k': emit('K'); break;
        case 'q':
          emit('K');
          if (next == 'u') length = 2;
          break;
        case 'p':
          emit(next == 'h' ? 'F' : 'P');
          if (next == 'h') length = 2;
          break;
        case 's':
          emit('S');
          if (next == 'c' && at(i + 2) == 'h') length = 3;  // "Schmidt" = "Smit"
          break;
        case 't':
          if (next == 'h') {
            emit('T');
            length = 2;
          } else if (next == 'z' || next == 's') {  // "Schmitz" = "Schmits"
            emit('S');
            length = 2;
          } else {
            emit('T');
          }
          break;
        case 'x':
          emit('K');
          emit('S');
          break;
        case 'z': emit('S'); break;
        default:
          if (c >= 'a' && c <= 'z') emit(static_cast<char>(c - 'a' + 'A'));
          break;
      }
    }
    if (c != 'h') first = false;
    i += length;
  }
  return out;
}

double JaroWinkler(std::string_view a, std::string_view b) {
  if (a.empty() && b.empty()) return 1.0;
  if (a.empty() || b.empty()) return 0.0;
  if (a == b) return 1.0;
  const size_t window = std::max<size_t>(std::max(a.size(), b.size()) / 2, 1) - 1;
  // Names are short: fixed buffers, no allocation.
  std::array<bool, 64> a_match{}, b_match{};
  if (a.size() > a_match.size()) a = a.substr(0, a_match.size());
  if (b.size() > b_match.size()) b = b.substr(0, b_match.size());
  size_t matches = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    size_t from = i > window ? i - window : 0;
    size_t to = std::min(i + window + 1, b.size());
    for (size_t j = from; j < to; ++j) {
      if (b_match[j] || a[i] != b[j]) continue;
      a_match[i] = b_match[j] = true;
      ++matches;
      break;
    }
  }
  if (matches == 0) return 0.0;
  size_t transpositions = 0;
  for (size_t i = 0, j = 0; i < a.size(); ++i) {
    if (!a_match[i]) continue;
    while (!b_match[j]) ++j;
    if (a[i] != b[j]) ++transpositions;
    ++j;
  }
  const double m = static_cast<double>(matches);
  const double jaro = (m / static_cast<double>(a.size()) + m / static_cast<double>(b.size()) +
                       (m - static_cast<double>(transpositions) / 2.0) / m) /
                      3.0;
  size_t prefix = 0;
  while (prefix < 4 && prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  return jaro + static_cast<double>(prefix) * 0.1 * (1.0 - jaro);
}

NameForms LastNameForms(std::string_view utf8) {
  NameForms forms;
  forms.folded = FoldName(utf8);
  forms.compact = Compact(forms.folded);
  forms.core = StripParticles(forms.compact);
  forms.key = PhoneticKey(forms.core);
  forms.tokens = SplitWords(forms.folded);
  return forms;
}

NameForms FirstNamesForms(std::string_view utf8) {
  NameForms forms;
  forms.folded = FoldName(utf8);
  forms.compact = Compact(forms.folded);
  forms.core = forms.compact;
  forms.tokens = SplitWords(forms.folded);
  for (const std::string& token : forms.tokens) forms.token_keys.push_back(PhoneticKey(token));
  forms.key = forms.token_keys.empty() ? std::string() : forms.token_keys.front();
  return forms;
}

}  // namespace carrefour::bis
