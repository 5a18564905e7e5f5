// SPDX-License-Identifier: EUPL-1.2
#pragma once

// An extract's output folder (docs/research.md, "The output folder"):
//
//   OUT/<data_type>.csv   the extract, one file per data type   } written when
//   OUT/dictionary.csv    what every column is                  } the extract
//   OUT/report.json       the run's report (last: it means done) } is complete
//   OUT/work/             the resume state, removed at the end:
//     lock                  held by the run in progress (flock)
//     journal               header, then one line per completed batch
//     batch-N.members       the pseudonyms of batch N
//     batch-N.<data_type>.csv   its rows, quasi-identifiers at level 0
//
// Nothing in the folder holds a national number or the key: the journal's
// header names the project and a fingerprint of its key, the rest holds
// pseudonyms.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/result.h"
#include "network/model.h"
#include "research/internal/files.h"
#include "research/research.h"

namespace carrefour::research::internal {

// "project=P": the detail of the audit records of project P's extracts.
std::string ProjectDetail(std::string_view project);

class ExtractFolder {
 public:
  ExtractFolder() = default;

  // Creates OUT and OUT/work, takes the lock and reads the journal (or
  // starts one). invalid-request when OUT holds a complete extract already,
  // or a journal of another project or key; invalid-request too when
  // another process is running an extract into OUT.
  static Result<ExtractFolder> Open(const std::filesystem::path& out, std::string_view project,
                                    std::string_view key_fingerprint);

  // The completed batches, in order.
  const std::vector<size_t>& batches() const { return batches_; }
  size_t NextBatchNumber() const { return batches_.empty() ? 1 : batches_.back() + 1; }
  size_t rows_written() const { return rows_; }

  // The pseudonyms of every completed batch.
  Result<std::unordered_set<std::string>> DonePseudonyms() const;

  std::filesystem::path Part(size_t batch, std::string_view data_type) const;
  std::filesystem::path Members(size_t batch) const;
  std::filesystem::path Final(std::string_view data_type) const;

  // Records batch `batch` as complete (its files must be durable already).
  Status CommitBatch(size_t batch, size_t persons, size_t rows);

  Status WriteDictionary(const network::ResearchProject& project,
                         const ExtractReport& report) const;
  // Written last: its presence means the extract is complete.
  Status WriteReport(const network::ResearchProject& project, std::string_view run_by,
                     const ExtractReport& report) const;
  // Removes OUT/work (best effort: the extract is complete already).
  void RemoveWork();

 private:
  std::filesystem::path out_;
  std::filesystem::path work_;
  std::optional<FileLock> lock_;
  std::vector<size_t> batches_;
  size_t rows_ = 0;
};

}  // namespace carrefour::research::internal
