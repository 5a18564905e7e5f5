#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs what is missing, builds
# carrefour and runs it on the shipped example network.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake --preset release >/dev/null
cmake --build --preset release --target carrefour
bin=build/release/apps/carrefour/carrefour

echo "== carrefour niss check 85073003328 17073003384 12345678901"
"$bin" niss check 85073003328 17073003384 12345678901 || true
echo
echo "== carrefour network check examples/network.toml"
"$bin" network check examples/network.toml
