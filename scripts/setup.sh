#!/usr/bin/env bash
# Installs every Debian package carrefour needs to build, test and run.
# Idempotent, and silent when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev openssl
  libsqlite3-dev sqlite3
  libpqxx-dev postgresql
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libexpected-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  curl haproxy python3
  nodejs npm chromium
)

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
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: done"
fi

# The console's browser tests (tests/browser): playwright-core from npm, at
# the version package-lock.json pins; no browser download (Debian's chromium).
browser_tests="$(dirname "$0")/../tests/browser"
if [[ ! -d "$browser_tests/node_modules/playwright-core" ]]; then
  echo "setup: installing the browser tests' node modules"
  (cd "$browser_tests" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
