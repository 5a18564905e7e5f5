#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
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

# Only what the demo needs (no browser, no test toolchain): scripts/test.sh
# installs the rest.
scripts/setup.sh --demo
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
have() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]] && echo ON || echo OFF; }
# The tests and benchmarks are configured only when their libraries are there.
cmake --preset release -DCARREFOUR_BUILD_TESTS="$(have libgtest-dev)" \
      -DCARREFOUR_BUILD_BENCH="$(have libbenchmark-dev)" >/dev/null
cmake --build --preset release --target carrefour
exec build/release/apps/carrefour/carrefour demo --data "${CARREFOUR_DEMO_DIR:-build/demo}" "$@"
