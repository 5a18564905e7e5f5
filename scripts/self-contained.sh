#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# The repository speaks only of itself: no tracked file points to a document
# that a clone does not have (a folder beside the repository, the original
# contract file, a developer's own paths). The contract lives in docs/api.md
# and docs/openapi.yaml.
#
#   scripts/self-contained.sh     # lists the offending lines; exit 1 if any (CTest: self_contained)
set -euo pipefail
cd "$(dirname "$0")/.."

# Spelt in pieces so that this file does not match itself.
parent='\.\.'
outside="${parent}/sha""red|SP""EC\.md|/wo""rk/(main|wt|sha""red)"
if hits=$(git grep -n -I -E "$outside" -- . ':!**/node_modules/**'); then
  echo "$hits" >&2
  echo "self-contained: $(echo "$hits" | wc -l) lines point outside the repository (the contract is docs/api.md)" >&2
  exit 1
fi
echo "self-contained: no file points outside the repository"
