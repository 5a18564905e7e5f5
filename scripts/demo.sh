#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs what is missing, builds
# carrefour and runs the demo network (`carrefour demo`, docs/demo.md): a
# synthetic population, 8 institutions with their own databases and
# connectors, the hub, and its console — until Ctrl-C.
#
#   scripts/demo.sh                      # 100 000 persons, console on http://127.0.0.1:8080/
#   scripts/demo.sh --persons 20000      # any `carrefour demo` option
#   scripts/demo.sh --scenario           # the scripted scenarios; exit 0 only if all pass
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake --preset release >/dev/null
cmake --build --preset release --target carrefour
exec build/release/apps/carrefour/carrefour demo --data "${CARREFOUR_DEMO_DIR:-build/demo}" "$@"
