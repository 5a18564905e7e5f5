# SPDX-License-Identifier: EUPL-1.2
# What the scripts that test against a running demo share (tests/api/run.sh,
# tests/browser/run.sh). Sourced; uses $CARREFOUR, $WORK and die().

DEMO_PID=""

# start_demo PERSONS: `carrefour demo` of PERSONS persons in $WORK/demo, its
# API and console on free ports, 20 consultations/s and no moves (so that
# what a test compares does not change under it); its output in
# $WORK/demo.out. Sets TOKEN (the admin token) and DEMO_PID.
start_demo() {
  TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  CARREFOUR_ADMIN_TOKEN="$TOKEN" "$CARREFOUR" demo --data "$WORK/demo" --persons "$1" \
    --listen 127.0.0.1:0 --admin 127.0.0.1:0 --rate 20 --move-every 0 >"$WORK/demo.out" 2>&1 &
  DEMO_PID=$!
}

# Waits (120 s at most) until the demo prints its addresses; sets
# CONSOLE_URL (http://HOST:PORT/) and HUB_URL (https://HOST:PORT).
wait_for_demo() {
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
}

# Stops the demo (it stops its connectors and its hub itself); 30 s before
# SIGKILL.
stop_demo() {
  [[ -n "$DEMO_PID" ]] || return 0
  kill -TERM "$DEMO_PID" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$DEMO_PID" 2>/dev/null || true
}
