# SPDX-License-Identifier: EUPL-1.2
# What the benchmark scripts share (bench/hub_load/run.sh,
# bench/mutations/run.sh, bench/research_bench.sh). Sourced after the script
# sets BENCH_NAME (its name in messages); the functions that start processes
# add them to PIDS, which stop_started stops, and read $CARREFOUR, $PKI
# (hub.crt, hub.key, ca.crt) and $WORK.

say() { printf '%s\n' "$*" >&2; }
die() { say "$BENCH_NAME: $*"; exit 1; }

PIDS=()

# Stops every process in PIDS: SIGTERM to all, then each has 10 s before
# SIGKILL.
stop_started() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# Waits (at most $3 seconds) for a line matching $2 in file $1; prints it.
wait_for_line() {
  local file=$1 pattern=$2 limit=$3 line
  for _ in $(seq $((limit * 10))); do
    line=$(grep -m1 -E "$pattern" "$file" 2>/dev/null || true)
    if [[ -n "$line" ]]; then printf '%s\n' "$line"; return 0; fi
    sleep 0.1
  done
  return 1
}

# start_process NAME PATTERN SECONDS COMMAND...: runs COMMAND in the
# background, its output in $WORK/NAME.out and NAME.log, and waits (at most
# SECONDS) for a line matching PATTERN in its output. Sets STARTED_PID (also
# added to PIDS) and STARTED_LINE (the line).
start_process() {
  local name=$1 pattern=$2 limit=$3
  shift 3
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  STARTED_LINE=$(wait_for_line "$WORK/$name.out" "$pattern" "$limit") || die "$name did not start"
}

# start_provider NAME PROVIDER_BINARY INSTITUTION [OPTION...]: starts a
# benchmark provider (bench/loadgen/provider_server.h) with the
# institution's certificate. Sets PROVIDER_PID and PROVIDER_PORT.
start_provider() {
  local name=$1 binary=$2 institution=$3
  shift 3
  start_process "$name" 'provider on .*\(port [0-9]+\)' 30 \
    "$binary" --cert "$PKI/$institution.crt" --key "$PKI/$institution.key" --ca "$PKI/ca.crt" "$@"
  PROVIDER_PID=$STARTED_PID
  PROVIDER_PORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' <<<"$STARTED_LINE")
}

# start_hub NAME [HUB OPTION...]: starts `carrefour hub` on
# $WORK/network.toml with the hub's certificate, its API and admin listener
# on free ports. The options give at least --data. HUB_LAUNCHER (an array),
# when set, is run in front of it (env VAR=... for instance). Sets HUB_PID,
# HUB_PORT and HUB_ADMIN_PORT.
start_hub() {
  local name=$1
  shift
  start_process "$name" 'API on .*\(port [0-9]+\)' 60 \
    ${HUB_LAUNCHER[@]+"${HUB_LAUNCHER[@]}"} "$CARREFOUR" hub --network "$WORK/network.toml" \
    --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
    --cert "$PKI/hub.crt" --key "$PKI/hub.key" --ca "$PKI/ca.crt" "$@"
  HUB_PID=$STARTED_PID
  HUB_PORT=$(sed -n 's/.*API on .*(port \([0-9]*\)), admin.*/\1/p' <<<"$STARTED_LINE")
  [[ -n "$HUB_PORT" ]] || die "cannot read the port of hub $name from: $STARTED_LINE"
  HUB_ADMIN_PORT=$(sed -n 's/.*admin on .*(port \([0-9]*\)).*/\1/p' <<<"$STARTED_LINE")
}
