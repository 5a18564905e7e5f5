#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# docs/openapi.yaml against real answers (CTest: api_openapi): lints the file,
# then brings up the demo network (`carrefour demo`: hub with an admin token,
# 8 connectors, live traffic) and runs openapi.test.mjs against its hub API,
# its admin listener and one connector.
#
#   tests/api/run.sh --carrefour BUILD/apps/carrefour/carrefour
#
# Needs node and tests/api/node_modules (scripts/setup.sh installs both).
# Everything listens on 127.0.0.1 only.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CARREFOUR=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --carrefour) CARREFOUR=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
die() { echo "run.sh: $*" >&2; exit 1; }
[[ -x "$CARREFOUR" ]] || die "--carrefour must name the built carrefour binary"
command -v node >/dev/null || die "node is missing: run scripts/setup.sh"
[[ -d "$HERE/node_modules/@apidevtools/swagger-parser" ]] || die "tests/api/node_modules is missing: run scripts/setup.sh (npm ci)"

WORK=$(mktemp -d /tmp/carrefour-api.XXXXXX)
# shellcheck source=tests/lib/demo.sh
source "$HERE/../lib/demo.sh"
cleanup() {
  local status=$?
  stop_demo
  [[ $status -eq 0 ]] || { tail -n 40 "$WORK/demo.out" >&2 2>/dev/null || true; }
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_demo 1000
wait_for_demo
ADMIN_URL=${CONSOLE_URL%/}
PROVIDER_URL=$(sed -n 's|^  nr  *provide \(https://[^ ]*\).*|\1|p' "$WORK/demo.out")
[[ -n "$PROVIDER_URL" ]] || die "no nr provide address in the demo's output"
# Until the traffic generator has made an answered consultation.
for _ in $(seq 300); do
  curl -sf -H "Authorization: Bearer $TOKEN" "$ADMIN_URL/v1/admin/audit?kind=consultation&limit=50" |
    grep -q '"outcome":"ok"' && break
  sleep 0.1
done

cd "$HERE"
HUB_URL="$HUB_URL" ADMIN_URL="$ADMIN_URL" PROVIDER_URL="$PROVIDER_URL" PKI_DIR="$WORK/demo/pki" \
  ADMIN_TOKEN="$TOKEN" node --test --test-reporter=spec openapi.test.mjs
