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
  curl
)

missing=()
for package in "${packages[@]}"; do
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
