#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# The research extract benchmark on the demo network (issue: research
# extracts): `carrefour demo` with N persons (default 100 000) runs its hub
# and its 8 connectors; then `carrefour research extract` runs the example
# network's project rp-employment-2025 (cohort: everybody with an `employee`
# file at the contribution collector; person.identity and person.address from
# the national register's connector, employment.wages from the collector's)
# against those connectors, and prints its wall time, rows per second and the
# time split it reports. The demo is stopped at the end.
#
#   bench/research_demo.sh [BUILD_DIR] [PERSONS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
PERSONS=${2:-100000}
BIN=$BUILD/apps/carrefour/carrefour
[[ -x "$BIN" ]] || { echo "research_demo.sh: build $BIN first" >&2; exit 2; }
WORK=$(mktemp -d /tmp/carrefour-research-demo.XXXXXX)
DEMO_PID=""
cleanup() {
  [[ -n "$DEMO_PID" ]] && kill -TERM "$DEMO_PID" 2>/dev/null && wait "$DEMO_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" demo --data "$WORK/demo" --persons "$PERSONS" --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
  --rate 0 --move-every 0 >"$WORK/demo.out" 2>&1 &
DEMO_PID=$!
for _ in $(seq 1800); do
  grep -q "carrefour demo is running" "$WORK/demo.out" && break
  kill -0 "$DEMO_PID" 2>/dev/null || { cat "$WORK/demo.out" >&2; exit 1; }
  sleep 0.2
done
grep -q "carrefour demo is running" "$WORK/demo.out" || { echo "the demo did not come up" >&2; exit 1; }

echo "== research extract rp-employment-2025 on the demo network ($PERSONS persons)"
start=$(date +%s.%N)
"$BIN" research extract --project rp-employment-2025 --as univ-leuven \
  --network "$WORK/demo/network.toml" --data "$WORK/demo/hub" --out "$WORK/extract" \
  --cert "$WORK/demo/pki/hub.crt" --key "$WORK/demo/pki/hub.key" --ca "$WORK/demo/pki/ca.crt"
end=$(date +%s.%N)
echo "wall: $(echo "$end - $start" | bc) s"
ls -la "$WORK/extract"
[[ -f "$WORK/extract/report.json" ]] && cat "$WORK/extract/report.json"
