// SPDX-License-Identifier: EUPL-1.2
#include "demo/internal/lists.h"

namespace carrefour::demo::internal {
namespace {

using SV = std::string_view;

// --- Names --------------------------------------------------------------------
// Common surnames and given names of each origin, particles and accents as
// they are written ("Van den Bossche", "de Smet", "Lemaître", "Yılmaz").

constexpr SV kFlemishLast[] = {
    "Peeters",    "Janssens",  "Maes",           "Jacobs",       "Mertens",    "Willems",
    "Claes",      "Goossens",  "Wouters",        "De Smet",      "de Smet",    "Van den Bossche",
    "Vermeulen",  "Van Damme", "De Clercq",      "Verhoeven",    "Hermans",    "Aerts",
    "Michiels",   "Desmet",    "Lambrechts",     "Van de Velde", "De Backer",  "Vandenberghe",
    "Verstraete", "Smets",     "Coppens",        "Van Dyck",     "Claeys",     "Vermeersch",
    "De Wilde",   "Martens",   "Declercq",       "Pauwels",      "Segers",     "De Vos",
    "Van Acker",  "Verbeke",   "Van Hoof",       "Vanderlinden", "Geerts",     "Stevens",
    "Dewulf",     "Van Impe",  "Hendrickx",      "Leemans",      "Cuypers",    "Baert",
    "Van Hecke",  "De Meyer",  "Bogaerts",       "Van Aken",     "Sterckx",    "Vervoort",
    "Wuyts",      "Nijs",      "Van der Auwera", "van Gorp",     "D'Hondt",    "Van Daele",
    "De Coninck", "Vercammen", "Dierickx",       "Op de Beeck",  "Van Rompuy", "Sels",
};
constexpr SV kFlemishMale[] = {
    "Jan",     "Pieter", "Luc",    "Marc",   "Dirk",  "Koen",  "Bart",    "Tom",   "Wim",
    "Geert",   "Stijn",  "Jens",   "Lars",   "Arne",  "Wout",  "Lucas",   "Noah",  "Liam",
    "Finn",    "Seppe",  "Jef",    "Frans",  "Jozef", "Karel", "Willem",  "Thijs", "Ruben",
    "Jonas",   "Senne",  "Mathis", "Jasper", "Kobe",  "Rik",   "Hendrik", "Gust",  "Staf",
    "Maarten", "Joris",  "Wannes", "Lowie",  "Warre", "Remi",
};
constexpr SV kFlemishFemale[] = {
    "An",        "Els",   "Inge",  "Katrien", "Sofie", "Lien",  "Marie", "Lotte",
    "Emma",      "Julie", "Sara",  "Lore",    "Hanne", "Fien",  "Nora",  "Marieke",
    "Griet",     "Hilde", "Mieke", "Veerle",  "Ilse",  "Elise", "Leen",  "Jana",
    "Amber",     "Febe",  "Noor",  "Zoë",     "Mila",  "Lisa",  "Nele",  "Liesbeth",
    "Godelieve", "Maria", "Rita",  "Linda",   "Ine",   "Kaat",  "Roos",  "Ellen",
};
constexpr SV kFrenchLast[] = {
    "Dubois",   "Lambert",  "Dupont",   "Martin",  "Simon",     "Laurent",  "Lejeune",  "Renard",
    "Leclercq", "Dumont",   "François", "Lemaire", "Henry",     "Collard",  "Denis",    "Gilson",
    "Lefèvre",  "Mathieu",  "Thiry",    "Lecomte", "Noël",      "Michaux",  "Delvaux",  "Bodart",
    "Massart",  "Hubert",   "Piron",    "Marchal", "Gérard",    "Jacquet",  "Lemaître", "Dethier",
    "Leroy",    "Charlier", "Goffin",   "Pirard",  "de Lannoy", "Dupuis",   "Wathelet", "Fontaine",
    "Bertrand", "Mercier",  "Poncelet", "Remacle", "Rousseau",  "Hennuy",   "Ledent",   "Evrard",
    "Gillet",   "Dessart",  "Baudoux",  "Closset", "Thonon",    "de Ligne", "Lhoest",   "Dufrasne",
    "Defossé",  "Degrève",  "Delhaye",  "Wéry",    "Struelens", "Wauthier",
};
constexpr SV kFrenchMale[] = {
    "Jean",     "Pierre",  "Michel",  "Philippe", "Luc",      "André",     "Jacques", "Benoît",
    "François", "Olivier", "Nicolas", "Julien",   "Thomas",   "Maxime",    "Hugo",    "Louis",
    "Arthur",   "Nathan",  "Théo",    "Noé",      "Jérôme",   "Cédric",    "Grégory", "Sébastien",
    "Frédéric", "Loïc",    "Raphaël", "Jules",    "Émile",    "Léon",      "Gaston",  "Marcel",
    "René",     "Noël",    "Adrien",  "Quentin",  "Baudouin", "Guillaume", "Xavier",  "Gilles",
};
constexpr SV kFrenchFemale[] = {
    "Marie",  "Anne",    "Isabelle",  "Nathalie", "Catherine", "Sophie",   "Céline",
    "Hélène", "Valérie", "Caroline",  "Aurélie",  "Julie",     "Camille",  "Léa",
    "Manon",  "Chloé",   "Emma",      "Louise",   "Alice",     "Juliette", "Zoé",
    "Anaïs",  "Maëlle",  "Élodie",    "Mélanie",  "Françoise", "Monique",  "Jacqueline",
    "Simone", "Renée",   "Geneviève", "Béatrice", "Mathilde",  "Inès",     "Margaux",
    "Lucie",  "Agnès",   "Thérèse",   "Clémence", "Noémie",
};
constexpr SV kGermanLast[] = {
    "Schmitz", "Müller", "Kessler", "Heinen",   "Cremer",  "Pauels",      "Schröder", "Lenz",
    "Hilgers", "Brüll",  "Maraite", "Mreyen",   "Jousten", "Radermacher", "Weber",    "Förster",
    "Krings",  "Langer", "Thelen",  "Margraff", "Küpper",  "Gennen",      "Keutgen",  "Velz",
};
constexpr SV kGermanMale[] = {"Jürgen", "Klaus",  "Stefan", "Andreas", "Thomas", "Michael",
                              "Lukas",  "Jonas",  "Leon",   "Felix",   "Paul",   "Matthias",
                              "Günter", "Helmut", "Dieter", "Josef",   "Jörg",   "Tobias"};
constexpr SV kGermanFemale[] = {"Ursula", "Monika",   "Petra", "Sabine", "Andrea", "Claudia",
                                "Anna",   "Lena",     "Lea",   "Hannah", "Sophie", "Marie",
                                "Gisela", "Brigitte", "Jutta", "Käthe",  "Renate", "Birgit"};
constexpr SV kNetherlandsLast[] = {"de Jong", "Jansen",   "de Vries", "van den Berg", "van Dijk",
                                   "Bakker",  "Visser",   "Smit",     "Meijer",       "de Boer",
                                   "Mulder",  "de Groot", "Bos",      "Vos",          "Hendriks"};
constexpr SV kItalianLast[] = {"Rossi",    "Russo",      "Esposito", "Romano",   "Colombo",
                               "Ricci",    "Marino",     "Greco",    "Bruno",    "Gallo",
                               "Conti",    "De Luca",    "Costa",    "Giordano", "Mancini",
                               "Lombardi", "Di Stefano", "Lo Bue"};
constexpr SV kItalianMale[] = {"Giuseppe",   "Giovanni",  "Antonio",   "Mario",
                               "Luigi",      "Francesco", "Salvatore", "Marco",
                               "Alessandro", "Luca",      "Matteo",    "Lorenzo"};
constexpr SV kItalianFemale[] = {"Maria",  "Anna",     "Giuseppina", "Rosa",
                                 "Angela", "Giovanna", "Francesca",  "Chiara",
                                 "Giulia", "Sofia",    "Martina",    "Alessia"};
constexpr SV kMaghrebLast[] = {"El Amrani", "Benali",    "El Idrissi", "Bouzid",      "Ait Ouali",
                               "Boukhari",  "Haddouchi", "Azzouzi",    "El Khattabi", "Mansouri",
                               "Chahid",    "Tahiri",    "Ben Ahmed",  "El Ouardi",   "Lahlou"};
constexpr SV kMaghrebMale[] = {"Mohamed", "Ahmed", "Youssef", "Mehdi", "Karim", "Rachid", "Saïd",
                               "Hamza",   "Bilal", "Ayoub",   "Omar",  "Ilyas", "Adam",   "Anas"};
constexpr SV kMaghrebFemale[] = {"Fatima", "Khadija", "Samira",  "Nadia", "Leïla",
                                 "Amina",  "Salma",   "Yasmina", "Imane", "Sara",
                                 "Malika", "Hanane",  "Nour",    "Lina"};
constexpr SV kTurkishLast[] = {"Yılmaz", "Kaya",   "Demir", "Şahin",  "Çelik",
                               "Yıldız", "Öztürk", "Aydın", "Arslan", "Doğan"};
constexpr SV kTurkishMale[] = {"Mehmet", "Mustafa", "Ahmet", "Ali",   "Hüseyin", "Hasan",
                               "Emre",   "Burak",   "Murat", "Yusuf", "Can",     "Kerem"};
constexpr SV kTurkishFemale[] = {"Ayşe",  "Fatma", "Emine", "Hatice", "Zeynep", "Elif",
                                 "Merve", "Büşra", "Esra",  "Özlem",  "Derya",  "Ecrin"};
constexpr SV kPolishLast[] = {"Nowak", "Wójcik", "Kowalczyk", "Mazur",  "Krawczyk",
                              "Zając", "Król",   "Wieczorek", "Pawlak", "Michalak"};
constexpr SV kPolishMale[] = {"Piotr",  "Krzysztof", "Tomasz", "Paweł",  "Marcin",
                              "Michał", "Łukasz",    "Jakub",  "Kacper", "Wojciech"};
constexpr SV kPolishFemale[] = {"Anna",   "Katarzyna", "Małgorzata", "Agnieszka", "Magdalena",
                                "Joanna", "Zofia",     "Julia",      "Natalia",   "Aleksandra"};
constexpr SV kRomanianLast[] = {"Popescu",  "Ionescu", "Popa",     "Dumitru",    "Stan",  "Stoica",
                                "Gheorghe", "Rusu",    "Munteanu", "Constantin", "Marin", "Tudor"};
constexpr SV kRomanianMale[] = {"Ion",        "Gheorghe", "Andrei", "Mihai",  "Alexandru",
                                "Constantin", "Vasile",   "Ștefan", "Florin", "Bogdan"};
constexpr SV kRomanianFemale[] = {"Maria",   "Elena",    "Ioana",     "Ana",      "Mihaela",
                                  "Andreea", "Cristina", "Alexandra", "Gabriela", "Daniela"};

const NameLists kFlemish{kFlemishLast, kFlemishMale, kFlemishFemale};
const NameLists kFrench{kFrenchLast, kFrenchMale, kFrenchFemale};
const NameLists kGerman{kGermanLast, kGermanMale, kGermanFemale};
const NameLists kNetherlands{kNetherlandsLast, kFlemishMale, kFlemishFemale};
const NameLists kItalian{kItalianLast, kItalianMale, kItalianFemale};
const NameLists kMaghreb{kMaghrebLast, kMaghrebMale, kMaghrebFemale};
const NameLists kTurkish{kTurkishLast, kTurkishMale, kTurkishFemale};
const NameLists kPolish{kPolishLast, kPolishMale, kPolishFemale};
const NameLists kRomanian{kRomanianLast, kRomanianMale, kRomanianFemale};

// --- Places ---------------------------------------------------------------------

constexpr Region B = Region::kBrussels;
constexpr Region F = Region::kFlanders;
constexpr Region W = Region::kWallonia;
constexpr Language NL = Language::kDutch;
constexpr Language FR = Language::kFrench;
constexpr Language DE = Language::kGerman;

// The 19 municipalities of the Brussels region (under their French names),
// and a selection of Flemish and Walloon ones (the German-speaking ones
// included), weighted by their size.
constexpr Municipality kMunicipalities[] = {
    {"Bruxelles", "1000", B, FR, 188},
    {"Schaerbeek", "1030", B, FR, 133},
    {"Etterbeek", "1040", B, FR, 48},
    {"Ixelles", "1050", B, FR, 87},
    {"Saint-Gilles", "1060", B, FR, 50},
    {"Anderlecht", "1070", B, FR, 122},
    {"Molenbeek-Saint-Jean", "1080", B, FR, 98},
    {"Koekelberg", "1081", B, FR, 22},
    {"Berchem-Sainte-Agathe", "1082", B, FR, 25},
    {"Ganshoren", "1083", B, FR, 25},
    {"Jette", "1090", B, FR, 53},
    {"Evere", "1140", B, FR, 43},
    {"Woluwe-Saint-Pierre", "1150", B, FR, 42},
    {"Auderghem", "1160", B, FR, 34},
    {"Watermael-Boitsfort", "1170", B, FR, 25},
    {"Uccle", "1180", B, FR, 84},
    {"Forest", "1190", B, FR, 57},
    {"Woluwe-Saint-Lambert", "1200", B, FR, 58},
    {"Saint-Josse-ten-Noode", "1210", B, FR, 27},
    {"Antwerpen", "2000", F, NL, 530},
    {"Gent", "9000", F, NL, 265},
    {"Brugge", "8000", F, NL, 119},
    {"Leuven", "3000", F, NL, 102},
    {"Mechelen", "2800", F, NL, 87},
    {"Aalst", "9300", F, NL, 89},
    {"Hasselt", "3500", F, NL, 80},
    {"Kortrijk", "8500", F, NL, 78},
    {"Sint-Niklaas", "9100", F, NL, 80},
    {"Oostende", "8400", F, NL, 72},
    {"Genk", "3600", F, NL, 67},
    {"Roeselare", "8800", F, NL, 64},
    {"Turnhout", "2300", F, NL, 46},
    {"Vilvoorde", "1800", F, NL, 45},
    {"Dendermonde", "9200", F, NL, 46},
    {"Lier", "2500", F, NL, 37},
    {"Geel", "2440", F, NL, 41},
    {"Sint-Truiden", "3800", F, NL, 41},
    {"Ieper", "8900", F, NL, 35},
    {"Oudenaarde", "9700", F, NL, 32},
    {"Halle", "1500", F, NL, 40},
    {"Schoten", "2900", F, NL, 35},
    {"Diest", "3290", F, NL, 24},
    {"Knokke-Heist", "8300", F, NL, 33},
    {"Ninove", "9400", F, NL, 39},
    {"Aarschot", "3200", F, NL, 30},
    {"Herentals", "2200", F, NL, 28},
    {"Deinze", "9800", F, NL, 44},
    {"Tongeren-Borgloon", "3700", F, NL, 41},
    {"Dilbeek", "1700", F, NL, 43},
    {"Pelt", "3900", F, NL, 33},
    {"Ronse", "9600", F, NL, 26},
    {"Zaventem", "1930", F, NL, 34},
    {"Mortsel", "2640", F, NL, 26},
    {"Geraardsbergen", "9500", F, NL, 33},
    {"Maasmechelen", "3630", F, NL, 38},
    {"Beveren-Kruibeke-Zwijndrecht", "9120", F, NL, 70},
    {"Liège", "4000", W, FR, 197},
    {"Charleroi", "6000", W, FR, 203},
    {"Namur", "5000", W, FR, 113},
    {"Mons", "7000", W, FR, 96},
    {"La Louvière", "7100", W, FR, 81},
    {"Tournai", "7500", W, FR, 69},
    {"Verviers", "4800", W, FR, 55},
    {"Seraing", "4100", W, FR, 64},
    {"Wavre", "1300", W, FR, 35},
    {"Nivelles", "1400", W, FR, 29},
    {"Ottignies-Louvain-la-Neuve", "1340", W, FR, 32},
    {"Braine-l'Alleud", "1420", W, FR, 40},
    {"Mouscron", "7700", W, FR, 59},
    {"Arlon", "6700", W, FR, 30},
    {"Marche-en-Famenne", "6900", W, FR, 18},
    {"Dinant", "5500", W, FR, 13},
    {"Huy", "4500", W, FR, 21},
    {"Bastogne", "6600", W, FR, 16},
    {"Andenne", "5300", W, FR, 27},
    {"Châtelet", "6200", W, FR, 36},
    {"Libramont-Chevigny", "6800", W, FR, 11},
    {"Flémalle", "4400", W, FR, 26},
    {"Tubize", "1480", W, FR, 27},
    {"Ath", "7800", W, FR, 30},
    {"Waremme", "4300", W, FR, 15},
    {"Thuin", "6530", W, FR, 14},
    {"Sambreville", "5060", W, FR, 28},
    {"Eupen", "4700", W, DE, 20},
    {"Sankt Vith", "4780", W, DE, 10},
    {"Raeren", "4730", W, DE, 11},
    {"Kelmis", "4720", W, DE, 11},
    {"Bütgenbach", "4750", W, DE, 6},
};

constexpr ForeignTown kForeignTowns[] = {
    {"Lille", "59000", "FR", FR, Flavour::kFrench},
    {"Maubeuge", "59600", "FR", FR, Flavour::kFrench},
    {"Valenciennes", "59300", "FR", FR, Flavour::kFrench},
    {"Longwy", "54400", "FR", FR, Flavour::kFrench},
    {"Tourcoing", "59200", "FR", FR, Flavour::kFrench},
    {"Maastricht", "6211", "NL", NL, Flavour::kNetherlands},
    {"Breda", "4811", "NL", NL, Flavour::kNetherlands},
    {"Terneuzen", "4531", "NL", NL, Flavour::kNetherlands},
    {"Eindhoven", "5611", "NL", NL, Flavour::kNetherlands},
    {"Aachen", "52062", "DE", DE, Flavour::kGerman},
    {"Luxembourg", "L-1118", "LU", FR, Flavour::kFrench},
    {"Esch-sur-Alzette", "L-4002", "LU", FR, Flavour::kFrench},
};

constexpr SV kDutchStreets[] = {
    "Kerkstraat",       "Stationsstraat", "Dorpsstraat",    "Molenstraat",      "Nieuwstraat",
    "Schoolstraat",     "Kapelstraat",    "Beekstraat",     "Veldstraat",       "Lindenlaan",
    "Kasteeldreef",     "Grote Markt",    "Steenweg",       "Hoogstraat",       "Koning Albertlaan",
    "Sint-Jorisstraat", "Bergstraat",     "Zandstraat",     "Boomgaardstraat",  "Leopoldlaan",
    "Populierenlaan",   "Smidsestraat",   "Pastorijstraat", "Vlaanderenstraat", "Brugsesteenweg",
};
constexpr SV kFrenchStreets[] = {
    "Rue de la Station",
    "Rue de l'Église",
    "Rue du Moulin",
    "Rue des Écoles",
    "Place communale",
    "Rue Haute",
    "Rue Neuve",
    "Rue du Château",
    "Avenue des Tilleuls",
    "Rue de la Gare",
    "Chaussée de Bruxelles",
    "Rue Saint-Martin",
    "Rue du Try",
    "Avenue Albert Ier",
    "Rue de Namur",
    "Rue des Alliés",
    "Rue Émile Vandervelde",
    "Rue du Marché",
    "Rue de la Paix",
    "Avenue de la Reine",
    "Rue des Fusillés",
    "Chaussée de Waterloo",
    "Rue Royale",
    "Rue de Fiennes",
    "Avenue Brugmann",
};
constexpr SV kGermanStreets[] = {
    "Kirchstraße",   "Bahnhofstraße", "Hauptstraße", "Aachener Straße",
    "Gospertstraße", "Klosterstraße", "Neustraße",   "Schulstraße",
    "Am Marktplatz", "Mühlenweg",     "Bergstraße",  "Lindenallee",
};

// --- Employers --------------------------------------------------------------------

constexpr Sector kSectors[] = {
    {124, 85, "Bouwbedrijf {L}", "Construction {L}", "Bauunternehmen {L}", 10},
    {111, 70, "Metaalwerken {L}", "Ateliers {L}", "Metallbau {L}", 6},
    {118, 60, "Bakkerij {L}", "Boulangerie {L}", "Bäckerei {L}", 5},
    {311, 10, "Supermarkt {C}", "Magasin {L}", "Supermarkt {C}", 8},
    {302, 60, "Brasserie {C}", "Restaurant {L}", "Gasthof {L}", 7},
    {140, 75, "Transport {L}", "Transports {L}", "Spedition {L}", 6},
    {330, 5, "AZ Sint-{S}", "Clinique Saint-{S}", "Klinik St. {S}", 8},
    {121, 95, "Schoonmaak {C}", "Nettoyage {C}", "Reinigung {C}", 4},
    {322, 50, "Interim {C}", "Intérim {C}", "Zeitarbeit {C}", 4},
    {200, 0, "{L} & Partners", "Fiduciaire {L}", "Büro {L}", 20},
    {310, 0, "Spaarbank {C}", "Banque de {C}", "Sparkasse {C}", 3},
    {200, 0, "{C} Software", "{C} Digital", "{C} Software", 6},
    {152, 5, "Sint-{S}-college", "Institut Saint-{S}", "Schule St. {S}", 5},
};

constexpr SV kSaints[] = {"Jan",      "Jozef",  "Lucas", "Maarten", "Elisabeth", "Vincent",
                          "Augustin", "Pieter", "Rita",  "Michel",  "Luc",       "Anna"};

}  // namespace

const NameLists& Names(Flavour flavour) {
  switch (flavour) {
    case Flavour::kFlemish:
      return kFlemish;
    case Flavour::kFrench:
      return kFrench;
    case Flavour::kGerman:
      return kGerman;
    case Flavour::kNetherlands:
      return kNetherlands;
    case Flavour::kItalian:
      return kItalian;
    case Flavour::kMaghreb:
      return kMaghreb;
    case Flavour::kTurkish:
      return kTurkish;
    case Flavour::kPolish:
      return kPolish;
    case Flavour::kRomanian:
      return kRomanian;
  }
  return kFlemish;
}

std::span<const Municipality> Municipalities() { return kMunicipalities; }
std::span<const ForeignTown> ForeignTowns() { return kForeignTowns; }

std::span<const std::string_view> Streets(Language language) {
  switch (language) {
    case Language::kDutch:
      return kDutchStreets;
    case Language::kFrench:
      return kFrenchStreets;
    case Language::kGerman:
      return kGermanStreets;
  }
  return kDutchStreets;
}

std::span<const Sector> Sectors() { return kSectors; }
std::span<const std::string_view> Saints() { return kSaints; }

std::string_view LegalForm(Language language, bool large) {
  switch (language) {
    case Language::kDutch:
      return large ? "NV" : "BV";
    case Language::kFrench:
      return large ? "SA" : "SRL";
    case Language::kGerman:
      return large ? "AG" : "GmbH";
  }
  return "BV";
}

}  // namespace carrefour::demo::internal
