// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test and benchmark support: the names a Belgian BIS register sees, and
// reproducible draws from them (bis register_test, bench/bis_bench.cc).

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace carrefour::bis::testing {

// Reproducible draws (the standard distributions differ between libraries).
class Draw {
 public:
  explicit Draw(uint64_t seed) : engine_(seed) {}
  size_t Below(size_t n) { return static_cast<size_t>(engine_() % n); }
  bool Chance(int percent) { return Below(100) < static_cast<size_t>(percent); }
  template <typename T>
  const T& Pick(const std::vector<T>& values) { return values[Below(values.size())]; }

 private:
  std::mt19937_64 engine_;
};

// Belgian and foreign surnames as a BIS register sees them: particles,
// accents, compound names, transliterations.
inline const std::vector<std::string> kSurnames = {
    "Van den Bossche", "De Smet", "Vandenberghe", "Van Damme", "Dubois", "Lefèvre", "Lemaire",
    "Müller", "Schröder", "Çelik", "Yılmaz", "Öztürk", "El Amrani", "Benali", "Nowak",
    "Wiśniewski", "Kowalczyk", "Popescu", "Ionescu", "Rossi", "Esposito", "García López",
    "Nguyễn", "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Clercq", "Van de Velde", "Verhaegen", "Dumont", "Leclercq", "Lambert",
    "Dupont", "Martin", "Simon", "Laurent", "Schmitz", "Weber", "Wagner", "Becker", "Hoffmann",
    "Bakker", "Visser", "Smit", "Meijer", "De Vries", "Van der Linden", "Mohammadi", "Haddad",
    "Bouzid", "Ait Ouali", "Kaya", "Demir", "Şahin", "Kovács", "Horváth", "Novák", "Dvořák",
    "Silva", "Santos", "Ferreira", "Pereira", "Fernández", "González", "Rodríguez", "Okafor",
    "Mensah", "Diallo", "Traoré", "Kamara", "Petrov", "Ivanova", "Zieliński", "Lewandowski",
    "D'Hondt", "Op de Beeck", "Van Hoof", "Vermeulen", "De Backer", "Ben Salah", "Abdallah",
    "Vanderstraeten", "Lejeune", "Delacroix"};
inline const std::vector<std::string> kMen = {
    "Jean", "Pierre", "Luc", "Marc", "Jan", "Pieter", "Johannes", "Mohamed", "Ahmed", "Youssef",
    "Karim", "Mehmet", "Mustafa", "Ali", "Piotr", "Krzysztof", "Andrei", "Ion", "Giuseppe",
    "Marco", "José", "João", "Carlos", "Thomas", "Lukas", "Jonas", "Noah", "Kevin", "Dirk",
    "Koen", "Bart", "Wim", "Hans", "Stefan", "Mamadou", "Ibrahim", "Oleksandr", "Dmitri",
    "Tomasz", "François"};
inline const std::vector<std::string> kWomen = {
    "Marie", "Maria", "Fatima", "Khadija", "Aïcha", "Ayşe", "Zeynep", "Elif", "Anna",
    "Katarzyna", "Agnieszka", "Elena", "Ioana", "Giulia", "Francesca", "Ana", "Inês", "Sofia",
    "Emma", "Laura", "Julie", "Sarah", "Lotte", "Els", "Sophie", "Nathalie", "Isabelle",
    "Chantal", "Aminata", "Fatoumata", "Olena", "Natalia", "Hélène", "Céline", "Mireille",
    "Ingrid", "Greet", "Hanne", "Amélie", "Beatrix"};
inline const std::vector<std::string> kNationalities = {"MA", "TR", "PL", "RO", "IT", "ES", "PT", "NL",
                                                 "FR", "DE", "CD", "GN", "UA", "VN", "SN", ""};

}  // namespace carrefour::bis::testing
