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
DEMO_PID=""
cleanup() {
  local status=$?
  if [[ -n "$DEMO_PID" ]]; then
    kill -TERM "$DEMO_PID" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DEMO_PID" 2>/dev/null || true
  fi
  [[ $status -eq 0 ]] || { tail -n 40 "$WORK/demo.out" >&2 2>/dev/null || true; }
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
CARREFOUR_ADMIN_TOKEN="$TOKEN" "$CARREFOUR" demo --data "$WORK/demo" --persons 1000 \
  --listen 127.0.0.1:0 --admin 127.0.0.1:0 --rate 20 --move-every 0 >"$WORK/demo.out" 2>&1 &
DEMO_PID=$!

ADMIN_URL="" HUB_URL="" PROVIDER_URL=""
for _ in $(seq 1200); do
  kill -0 "$DEMO_PID" 2>/dev/null || { cat "$WORK/demo.out" >&2; die "the demo stopped before the network was up"; }
  ADMIN_URL=$(sed -n 's|^  console *\(http://[^/ ]*\)/.*|\1|p' "$WORK/demo.out")
  [[ -n "$ADMIN_URL" ]] && break
  sleep 0.1
done
[[ -n "$ADMIN_URL" ]] || die "the demo was not up within 120 s"
HUB_URL=$(sed -n 's|^  hub API *\(https://[^ ]*\).*|\1|p' "$WORK/demo.out")
PROVIDER_URL=$(sed -n 's|^  nr  *provide \(https://[^ ]*\).*|\1|p' "$WORK/demo.out")
[[ -n "$HUB_URL" && -n "$PROVIDER_URL" ]] || die "no hub API or nr provide address in the demo's output"
# Until the traffic generator has made an answered consultation.
for _ in $(seq 300); do
  curl -sf -H "Authorization: Bearer $TOKEN" "$ADMIN_URL/v1/admin/audit?kind=consultation&limit=50" |
    grep -q '"outcome":"ok"' && break
  sleep 0.1
done

cd "$HERE"
HUB_URL="$HUB_URL" ADMIN_URL="$ADMIN_URL" PROVIDER_URL="$PROVIDER_URL" PKI_DIR="$WORK/demo/pki" \
  ADMIN_TOKEN="$TOKEN" node --test --test-reporter=spec openapi.test.mjs
