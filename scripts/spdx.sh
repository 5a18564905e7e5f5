#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# Every source file of the repository starts with its licence's SPDX
# identifier (EUPL-1.2, LICENSE). Adds the header where it is missing, in the
# comment syntax of the file's language, after a shebang or a doctype line:
#
#   scripts/spdx.sh            # add missing headers (then review and commit)
#   scripts/spdx.sh --check    # list the files without one; exit 1 if any (CTest: spdx_headers)
#
# Files: what git tracks with the extensions below. JSON (no comments) and
# the TOML examples (whose line numbers the tests quote) are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[[ "${1:-}" == "--check" ]] && check=1
tag="SPDX-License-Identifier: EUPL-1.2"

comment_for() {
  case "$1" in
    *.cc|*.h|*.js|*.mjs) echo "// $tag" ;;
    *.css) echo "/* $tag */" ;;
    *.html) echo "<!-- $tag -->" ;;
    *.sh|*.cmake|*CMakeLists.txt|*.py|*.yaml|*.service|*.bash|*/run) echo "# $tag" ;;
    *) return 1 ;;
  esac
}

missing=()
while IFS= read -r file; do
  [[ -f "$file" ]] || continue
  comment=$(comment_for "$file") || continue
  if head -n 5 "$file" | grep -q "SPDX-License-Identifier:"; then continue; fi
  missing+=("$file")
  ((check)) && continue
  first=$(head -n 1 "$file")
  if [[ "$first" == "#!"* || "$first" == "<!DOCTYPE"* || "$first" == "<!doctype"* ]]; then
    { echo "$first"; echo "$comment"; tail -n +2 "$file"; } >"$file.spdx"
  else
    { echo "$comment"; cat "$file"; } >"$file.spdx"
  fi
  chmod --reference="$file" "$file.spdx"
  mv "$file.spdx" "$file"
done < <(git ls-files -- '*.cc' '*.h' '*.js' '*.mjs' '*.css' '*.html' '*.sh' '*.cmake' \
           'CMakeLists.txt' '*/CMakeLists.txt' '*.py' '*.yaml' '*.service' '*.bash' '.ci/run' \
         | grep -v -e '/node_modules/' -e '^examples/')

if ((check)); then
  if ((${#missing[@]})); then
    printf 'spdx: no SPDX-License-Identifier header in %s\n' "${missing[@]}" >&2
    echo "spdx: ${#missing[@]} files; run scripts/spdx.sh to add the headers" >&2
    exit 1
  fi
  echo "spdx: every source file has its header"
else
  echo "spdx: added the header to ${#missing[@]} files"
fi
