#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# Installs the Debian packages and node modules carrefour needs. Idempotent,
# and silent when everything is already there.
#
#   scripts/setup.sh          # everything: build, tests, packaging (scripts/test.sh, CI)
#   scripts/setup.sh --demo   # only what building and running the demo needs (scripts/demo.sh)
set -euo pipefail

mode=all
[[ "${1:-}" == "--demo" ]] && mode=demo

# Building carrefour and running it (the demo included).
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev openssl
  libsqlite3-dev sqlite3
  libpqxx-dev libpq-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libexpected-dev
  curl
)
# The tests, benchmarks, browser and API checks, and the Debian package.
if [[ $mode == all ]]; then
  packages+=(
    postgresql
    googletest libgtest-dev libgmock-dev libbenchmark-dev
    haproxy python3 nodejs npm chromium
    help2man dpkg-dev file systemd
    clang-14 libclang-rt-14-dev libfuzzer-14-dev
  )
fi

missing=()
for package in "${packages[@]}"; do
  # A nodejs from elsewhere (NodeSource) ships its own npm, which Debian's
  # npm package would conflict with: what counts is the commands.
  if [[ "$package" == nodejs || "$package" == npm ]] && command -v "${package/nodejs/node}" >/dev/null; then
    continue
  fi
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  echo "setup: apt-get update"
  $sudo apt-get update -qq
  # apt's own progress (one line per package) shows that it works.
  $sudo apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" |
    { grep --line-buffered -E '^(Get:|Unpacking|Setting up)' | sed -u 's/^/setup:   /' || true; }
  echo "setup: done"
fi
[[ $mode == demo ]] && exit 0

# The API description's test (tests/api): swagger-parser and ajv, pinned.
api_tests="$(dirname "$0")/../tests/api"
if [[ ! -d "$api_tests/node_modules/@apidevtools/swagger-parser" ]]; then
  echo "setup: installing the API tests' node modules"
  (cd "$api_tests" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# The console's browser tests (tests/browser): playwright-core from npm, at
# the version package-lock.json pins; no browser download (Debian's chromium).
browser_tests="$(dirname "$0")/../tests/browser"
if [[ ! -d "$browser_tests/node_modules/playwright-core" ]]; then
  echo "setup: installing the browser tests' node modules"
  (cd "$browser_tests" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
