#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# The web console's browser tests (CTest: browser_console, label "browser"):
# brings up the demo network (`carrefour demo`: a synthetic population, the
# 8 institutions' connectors, the hub with an admin token, live traffic) and
# runs console.test.mjs in headless Chromium against its console URL.
# Screenshots go to the artifacts folder; on failure the demo's logs too.
#
#   tests/browser/run.sh --carrefour BUILD/apps/carrefour/carrefour [--artifacts DIR]
#
# Needs node, /usr/bin/chromium (or $CHROMIUM) and tests/browser/node_modules:
# scripts/setup.sh installs all three. Everything listens on 127.0.0.1 only.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CARREFOUR=""
ARTIFACTS="$PWD/browser-artifacts"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --carrefour) CARREFOUR=$2; shift 2 ;;
    --artifacts) ARTIFACTS=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
die() { echo "run.sh: $*" >&2; exit 1; }
[[ -x "$CARREFOUR" ]] || die "--carrefour must name the built carrefour binary"
command -v node >/dev/null || die "node is missing: run scripts/setup.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM is missing: run scripts/setup.sh (Debian package chromium)"
[[ -d "$HERE/node_modules/playwright-core" ]] || die "tests/browser/node_modules is missing: run scripts/setup.sh (npm ci)"

mkdir -p "$ARTIFACTS"
ARTIFACTS=$(cd "$ARTIFACTS" && pwd)
rm -f "$ARTIFACTS"/*.png "$ARTIFACTS"/*.log
WORK=$(mktemp -d /tmp/carrefour-browser.XXXXXX)
# shellcheck source=tests/lib/demo.sh
source "$HERE/../lib/demo.sh"
cleanup() {
  local status=$?
  stop_demo
  if [[ $status -ne 0 ]]; then
    cp "$WORK/demo.out" "$ARTIFACTS/demo.out" 2>/dev/null || true
    cp "$WORK"/demo/logs/*.log "$ARTIFACTS/" 2>/dev/null || true
    echo "run.sh: failed; logs in $ARTIFACTS" >&2
  fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Traffic keeps the dashboard alive; no moves, so that the mutation queues
# the test compares with the page do not change under it.
start_demo 3000
wait_for_demo
# A few seconds of traffic, so that every page has something to show.
sleep 5
echo "run.sh: console at $CONSOLE_URL; screenshots in $ARTIFACTS"

cd "$HERE"
CONSOLE_URL="$CONSOLE_URL" CONSOLE_TOKEN="$TOKEN" CONSOLE_HUB="$HUB_URL" CONSOLE_PKI="$WORK/demo/pki" \
  ARTIFACTS_DIR="$ARTIFACTS" CHROMIUM="$CHROMIUM" \
  node --test --test-reporter=spec console.test.mjs
