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
DEMO_PID=""
cleanup() {
  local status=$?
  if [[ -n "$DEMO_PID" ]]; then
    # The demo stops its connectors and its hub itself.
    kill -TERM "$DEMO_PID" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DEMO_PID" 2>/dev/null || true
  fi
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

TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
# Traffic keeps the dashboard alive; no moves, so that the mutation queues
# the test compares with the page do not change under it.
CARREFOUR_ADMIN_TOKEN="$TOKEN" "$CARREFOUR" demo --data "$WORK/demo" --persons 3000 \
  --listen 127.0.0.1:0 --admin 127.0.0.1:0 --rate 20 --move-every 0 >"$WORK/demo.out" 2>&1 &
DEMO_PID=$!

CONSOLE_URL=""
for _ in $(seq 1200); do
  kill -0 "$DEMO_PID" 2>/dev/null || { cat "$WORK/demo.out" >&2; die "the demo stopped before the network was up"; }
  CONSOLE_URL=$(sed -n 's/^  console *\(http[^ ]*\).*/\1/p' "$WORK/demo.out")
  [[ -n "$CONSOLE_URL" ]] && break
  sleep 0.1
done
[[ -n "$CONSOLE_URL" ]] || { cat "$WORK/demo.out" >&2; die "the demo was not up within 120 s"; }
HUB_URL=$(sed -n 's/^  hub API *\(https[^ ]*\).*/\1/p' "$WORK/demo.out")
[[ -n "$HUB_URL" ]] || { cat "$WORK/demo.out" >&2; die "the demo did not print its hub API URL"; }
# A few seconds of traffic, so that every page has something to show.
sleep 5
echo "run.sh: console at $CONSOLE_URL; screenshots in $ARTIFACTS"

cd "$HERE"
CONSOLE_URL="$CONSOLE_URL" CONSOLE_TOKEN="$TOKEN" CONSOLE_HUB="$HUB_URL" CONSOLE_PKI="$WORK/demo/pki" \
  ARTIFACTS_DIR="$ARTIFACTS" CHROMIUM="$CHROMIUM" \
  node --test --test-reporter=spec console.test.mjs
