#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# Hub throughput (docs/benchmarks.md, "Hub throughput"): consultations per
# second through `carrefour hub` to one provider, next to the same load
# generator straight to that provider (one hop) and through nginx as a
# mutual-TLS reverse proxy to it (the peer baseline); then all three again in
# an open loop at half the hub's maximum rate, for latency.
#
#   bench/hub_load/run.sh [--connections N] [--duration S] [--warmup S] [--rounds N]
#                         [--build DIR] [--no-build] [--hub-data DIR] [--hub-store URL]
#                         [--no-nginx] [--no-install] [--keep] [--out FILE]
#                         [--wrk] [--wrk-connections "32 256"] [--batch-size N]
#                         [--audit-cost] [--persons N]
#
# With --audit-cost a second hub runs beside the first with its audit log
# made unverifiable (`--bench-unverifiable-audit`: records chained and
# durable as ever, but no Merkle tree, person index or signed checkpoint),
# and the closed-loop rounds interleave it as (u): what the verifiable log
# costs in consultations/s and CPU. With --persons N the consultations of
# (a), (u) and the open loop go to N persons in turn (each integrated
# first) instead of one: the person index's costlier case.
#
# With --wrk, wrk (Debian package; installed when missing and run as root)
# also drives the hub and nginx in one interleaved closed-loop run at each
# --wrk-connections count, through an LD_PRELOAD shim that gives it the
# requester's client certificate (wrk_client_cert.c), then the batch endpoint
# (docs/api.md 4.5) with --batch-size consultations per request; the open loop
# then runs at half the hub's wrk rate. Front CPU per request (the hub alone,
# nginx alone: the provider is not counted) comes from /proc.
#
# Everything runs on 127.0.0.1 in a fresh temporary folder (certificates,
# network definition, hub data) and every process started here is stopped on
# exit, failure included. Manual: CI does not run it.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$ROOT/build/release"
CONNECTIONS=32
DURATION=10
WARMUP=2
ROUNDS=3
LOADGEN_THREADS=1
HUB_DATA_PARENT=""
HUB_STORE=""
HUB_THREADS=""
DO_BUILD=1
USE_NGINX=1
INSTALL_NGINX=1
KEEP=0
OUT=""
USE_WRK=0
WRK_CONNECTIONS="32 256"
BATCH_SIZE=100
AUDIT_COST=0
PERSONS=1

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --connections N   connections of the generator, in every run (default 32)
  --duration S      seconds measured per run, after the warmup (default 10)
  --warmup S        seconds of load before each measurement (default 2)
  --rounds N        rounds of (a), (b), (c), interleaved; the median round of
                    each is reported (default 3; 1 for a quick look)
  --loadgen-threads N  the generator's client threads (default 1)
  --build DIR       build folder (default build/release, configured with the
                    "release" preset when missing)
  --no-build        use the binaries already in the build folder
  --hub-data DIR    put the hub's data folder (SQLite store, audit log) in a
                    fresh folder under DIR, e.g. /dev/shm to take the disk's
                    fsync out of the picture (diagnostic: not durable)
  --hub-store URL   the hub's store instead of SQLite in its data folder, e.g.
                    a PostgreSQL URL (docs/scale-out.md); an empty database
  --no-nginx        skip the nginx baseline (c)
  --no-install      do not apt-get install nginx when it is missing: skip (c)
  --keep            keep the temporary folder (logs, certificates, results)
  --out FILE        also write every run's result as a JSON line to FILE
  --wrk             also measure with wrk (closed loop, hub and nginx interleaved)
  --wrk-connections "N M"  connection counts of the wrk runs (default "32 256")
  --batch-size N    consultations per POST /v1/consultations/batch (default 100)
  --audit-cost      also run (u): a second hub whose audit log is not verifiable
  --persons N       consult N persons in turn instead of one (default 1)
  --hub-threads N   the hub's --threads (its API event loop's threads;
                    default: the hub's own default)
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --connections) CONNECTIONS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --loadgen-threads) LOADGEN_THREADS=$2; shift 2 ;;
    --hub-threads) HUB_THREADS=$2; shift 2 ;;
    --build) BUILD=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --hub-data) HUB_DATA_PARENT=$2; shift 2 ;;
    --hub-store) HUB_STORE=$2; shift 2 ;;
    --no-nginx) USE_NGINX=0; shift ;;
    --no-install) INSTALL_NGINX=0; shift ;;
    --keep) KEEP=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    --wrk) USE_WRK=1; shift ;;
    --wrk-connections) WRK_CONNECTIONS=$2; shift 2 ;;
    --batch-size) BATCH_SIZE=$2; shift 2 ;;
    --audit-cost) AUDIT_COST=1; shift ;;
    --persons) PERSONS=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --rounds must be a positive integer" >&2; exit 2; }
[[ "$PERSONS" =~ ^[1-9][0-9]*$ && $PERSONS -le 1000000 ]] ||
  { echo "run.sh: --persons must be an integer from 1 to 1000000" >&2; exit 2; }

BENCH_NAME=run.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# --- processes we start, stopped on any exit -----------------------------------
WORK=""
HUB_DATA=""
cleanup() {
  local status=$?
  stop_started
  if [[ -n "$WORK" ]]; then
    if [[ $status -ne 0 && $status -ne 130 ]]; then
      for log in "$WORK"/provider.log "$WORK"/hub.log "$WORK"/nginx/error.log; do
        [[ -s "$log" ]] && { say "--- last lines of $log"; tail -n 20 "$log" >&2; }
      done
    fi
    # A failure keeps the files for diagnosis; an interruption does not.
    if [[ $KEEP -eq 1 || ($status -ne 0 && $status -ne 130) ]]; then
      say "run.sh: files kept in $WORK${HUB_DATA_PARENT:+ and $HUB_DATA}"
    else
      rm -rf "$WORK"
      [[ -n "$HUB_DATA" ]] && rm -rf "$HUB_DATA"
    fi
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nobody listens on (for nginx, which cannot report a port 0).
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 30000))
    if [[ -z $(ss -Htln "sport = :$port" 2>/dev/null) ]]; then echo "$port"; return 0; fi
  done
  return 1
}

# A field of a loadgen's flat JSON line: field LINE KEY.
field() { sed -n "s/.*\"$2\": \"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1"; }

# The line of FILE (JSON lines) whose KEY is the median (the lower one of two).
median_line() {
  local file=$1 key=$2 n pick
  n=$(wc -l <"$file")
  pick=$(awk -v k="\"$key\": " '{ i = index($0, k); v = substr($0, i + length(k)); sub(/[,}].*/, "", v); print v "\t" NR }' "$file" |
    sort -g | sed -n "$(((n + 1) / 2))p" | cut -f2)
  sed -n "${pick}p" "$file"
}

# What the given processes (and their children: nginx's workers) have used
# so far: "CPU_TICKS CONTEXT_SWITCHES" (user + system time in clock ticks;
# voluntary + involuntary switches summed over their threads).
CLK_TCK=$(getconf CLK_TCK)
server_usage() {
  local ticks=0 switches=0 pid proc t
  for pid in "$@"; do
    for proc in "$pid" $(pgrep -P "$pid" 2>/dev/null || true); do
      t=$(awk '{ print $14 + $15 }' "/proc/$proc/stat" 2>/dev/null || echo 0)
      ticks=$((ticks + t))
      t=$(cat "/proc/$proc"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { n += $2 } END { print n + 0 }')
      switches=$((switches + t))
    done
  done
  echo "$ticks $switches"
}

# --- build -----------------------------------------------------------------------
if [[ $DO_BUILD -eq 1 ]]; then
  if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
    if [[ "$BUILD" == "$ROOT/build/release" ]]; then
      (cd "$ROOT" && cmake --preset release >/dev/null) || die "cmake --preset release failed"
    else
      cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
        die "configuring $BUILD failed"
    fi
  fi
  say "building carrefour, carrefour_loadgen, carrefour_bench_provider in $BUILD ..."
  cmake --build "$BUILD" --target carrefour carrefour_loadgen carrefour_bench_provider -j2 >&2 ||
    die "build failed"
fi
CARREFOUR="$BUILD/apps/carrefour/carrefour"
LOADGEN="$BUILD/bench/loadgen/carrefour_loadgen"
PROVIDER="$BUILD/bench/loadgen/carrefour_bench_provider"
for binary in "$CARREFOUR" "$LOADGEN" "$PROVIDER"; do
  [[ -x "$binary" ]] || die "$binary is missing (build it, or drop --no-build)"
done

# --- nginx, for the peer baseline ---------------------------------------------------
NGINX=""
NGINX_NOTE=""
if [[ $USE_NGINX -eq 1 ]]; then
  NGINX=$(command -v nginx || true)
  [[ -z "$NGINX" && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
  if [[ -z "$NGINX" && $INSTALL_NGINX -eq 1 && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "nginx is missing: apt-get install nginx (--no-install skips the nginx baseline instead) ..."
    if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx >/dev/null 2>&1; then
      NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    fi
  fi
  if [[ -z "$NGINX" || ! -x "$NGINX" ]]; then
    NGINX=""
    NGINX_NOTE="skipped: nginx is not installed (Debian: apt-get install nginx), so no peer baseline"
  fi
else
  NGINX_NOTE="skipped (--no-nginx)"
fi
[[ -n "$NGINX_NOTE" ]] && say "(c) nginx: $NGINX_NOTE"

# --- a network on 127.0.0.1 ------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/carrefour-hub-load.XXXXXX")
if [[ -n "$HUB_DATA_PARENT" ]]; then
  HUB_DATA=$(mktemp -d "$HUB_DATA_PARENT/carrefour-hub-load-data.XXXXXX") ||
    die "cannot create a folder under $HUB_DATA_PARENT"
else
  HUB_DATA="$WORK/data"
fi
PKI="$WORK/pki"
"$CARREFOUR" pki init --dir "$PKI" >/dev/null || die "pki init failed"
for name in hub nr mut-100 proxy; do
  "$CARREFOUR" pki issue --dir "$PKI" --name "$name" --host 127.0.0.1 >/dev/null ||
    die "pki issue $name failed"
done

start_provider provider "$PROVIDER" nr

# One provider (the national register holds every person's address) and one
# requester (a health insurer, authorized for three of the four fields).
cat >"$WORK/network.toml" <<EOF
[[institution_type]]
id = "national-register"
capacities = ["registered"]

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution]]
id = "nr"
type = "national-register"
name = "National Register (benchmark provider)"
endpoint = "https://127.0.0.1:$PROVIDER_PORT"

[[institution]]
id = "mut-100"
type = "mutuality"
name = "Health insurer 100"

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality", "country"]

[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
fields = ["street", "postal_code", "municipality"]
legal_basis = "ISC/24/001"
from = 2020-01-01
EOF

# With --wrk the hub counts its heap allocations (count_allocs.c: one
# relaxed increment per malloc, on per-thread cache lines).
HUB_PRELOAD=()
ALLOCS_FILE=""
if [[ $USE_WRK -eq 1 ]] &&
  cc -shared -fPIC -O2 -o "$WORK/count_allocs.so" "$ROOT/bench/hub_load/count_allocs.c" -lpthread 2>"$WORK/count_allocs.log"; then
  ALLOCS_FILE="$WORK/hub.allocations"
  HUB_PRELOAD=(env "COUNT_ALLOCS_FILE=$ALLOCS_FILE" "LD_PRELOAD=$WORK/count_allocs.so")
fi
HUB_LAUNCHER=("${HUB_PRELOAD[@]}")
start_hub hub --data "$HUB_DATA" ${HUB_STORE:+--store "$HUB_STORE"} ${HUB_THREADS:+--threads "$HUB_THREADS"}
HUB_LAUNCHER=()

NISS=85073003328
MUT=(--cert "$PKI/mut-100.crt" --key "$PKI/mut-100.key" --ca "$PKI/ca.crt")
"$LOADGEN" --once --url "https://127.0.0.1:$HUB_PORT" --expect-cn hub "${MUT[@]}" \
  --target /v1/directory/entries \
  --body "{\"entries\": [{\"action\": \"add\", \"niss\": \"$NISS\", \"capacity\": \"insured\", \"from\": \"2020-01-01\", \"to\": null}]}" \
  >"$WORK/integrate.out" 2>&1 || die "integrating the person failed: $(cat "$WORK/integrate.out")"
grep -q '"status":"ok"\|"status": "ok"' "$WORK/integrate.out" ||
  die "integrating the person was rejected: $(cat "$WORK/integrate.out")"

# What the requester sends to the hub, and what the hub then sends to the
# provider (the same provide request, for the baselines).
printf '{"data_type": "person.address", "niss": "%s"}' "$NISS" >"$WORK/consult.json"
CONSULT="$WORK/consult.json"

# --persons N: N valid national numbers (born in the 1980s, serials 1-997),
# their consultations one per line, and their integration in batches.
if [[ $PERSONS -gt 1 ]]; then
  awk -v n="$PERSONS" 'BEGIN { for (i = 0; i < n; i++) { d = int(i / 997); s = i % 997 + 1;
    first = sprintf("%02d%02d%02d%03d", 89 - int(d / 336), 1 + int(d / 28) % 12, 1 + d % 28, s);
    printf "%s%02d\n", first, 97 - (first % 97) } }' >"$WORK/persons"
  awk '{ printf "{\"data_type\": \"person.address\", \"niss\": \"%s\"}\n", $1 }' "$WORK/persons" >"$WORK/consult.lines"
  CONSULT="$WORK/consult.lines"
fi
# Integrates the --persons persons through the hub listening on port $1.
integrate_persons() {
  [[ $PERSONS -gt 1 ]] || return 0
  local port=$1 batch
  rm -f "$WORK"/persons.batch.*
  split -l 2000 "$WORK/persons" "$WORK/persons.batch."
  for batch in "$WORK"/persons.batch.*; do
    awk 'BEGIN { printf "{\"entries\": [" } { printf "%s{\"action\": \"add\", \"niss\": \"%s\", \"capacity\": \"insured\", \"from\": \"2020-01-01\", \"to\": null}", (NR > 1 ? ", " : ""), $1 } END { print "]}" }' \
      "$batch" >"$batch.json"
    "$LOADGEN" --once --url "https://127.0.0.1:$port" --expect-cn hub "${MUT[@]}" \
      --target /v1/directory/entries --body-file "$batch.json" >"$WORK/integrate-many.out" 2>&1 ||
      die "integrating the persons failed: $(head -c 300 "$WORK/integrate-many.out")"
  done
  rm -f "$WORK"/persons.batch.*
}
integrate_persons "$HUB_PORT"
today=$(date +%F)
printf '{"request_id": "bench-0001", "data_type": "person.address", "niss": "%s", "period": {"from": "%s", "to": "%s"}, "fields": ["street", "postal_code", "municipality"], "requester": "mut-100", "legal_basis": "ISC/24/001"}' \
  "$NISS" "$today" "$today" >"$WORK/provide.json"

"$LOADGEN" --once --url "https://127.0.0.1:$HUB_PORT" --expect-cn hub "${MUT[@]}" \
  --target /v1/consultations --body-file "$WORK/consult.json" >"$WORK/consult.out" 2>&1 ||
  die "a first consultation failed: $(cat "$WORK/consult.out")"
grep -q 'Rue Haute' "$WORK/consult.out" || die "the first consultation brought no data: $(cat "$WORK/consult.out")"

# --- (u): the same hub with an unverifiable audit log (--audit-cost) -------------------
if [[ $AUDIT_COST -eq 1 ]]; then
  HUBU_DATA="$HUB_DATA/unverifiable-hub"
  mkdir -p "$HUBU_DATA"
  main_hub=("$HUB_PID" "$HUB_PORT" "$HUB_ADMIN_PORT")
  start_hub hub-u --data "$HUBU_DATA" ${HUB_STORE:+--store "$HUB_STORE" --node hub-u} --bench-unverifiable-audit \
    ${HUB_THREADS:+--threads "$HUB_THREADS"}
  HUBU_PID=$HUB_PID HUBU_PORT=$HUB_PORT HUBU_ADMIN_PORT=$HUB_ADMIN_PORT
  HUB_PID=${main_hub[0]} HUB_PORT=${main_hub[1]} HUB_ADMIN_PORT=${main_hub[2]}
  if [[ -z "$HUB_STORE" ]]; then  # its own store: the person too
    "$LOADGEN" --once --url "https://127.0.0.1:$HUBU_PORT" --expect-cn hub "${MUT[@]}" \
      --target /v1/directory/entries \
      --body "{\"entries\": [{\"action\": \"add\", \"niss\": \"$NISS\", \"capacity\": \"insured\", \"from\": \"2020-01-01\", \"to\": null}]}" \
      >"$WORK/integrate-u.out" 2>&1 || die "integrating the person on (u) failed: $(cat "$WORK/integrate-u.out")"
  fi
  integrate_persons "$HUBU_PORT"
  "$LOADGEN" --once --url "https://127.0.0.1:$HUBU_PORT" --expect-cn hub "${MUT[@]}" \
    --target /v1/consultations --body-file "$WORK/consult.json" >"$WORK/consult-u.out" 2>&1 ||
    die "a first consultation through (u) failed: $(cat "$WORK/consult-u.out")"
  grep -q 'Rue Haute' "$WORK/consult-u.out" || die "(u) brought no data: $(cat "$WORK/consult-u.out")"
fi

# --- nginx as a mutual-TLS reverse proxy to the provider -------------------------------
NGINX_PID=""
NGINX_PORT=""
if [[ -n "$NGINX" ]]; then
  mkdir -p "$WORK/nginx/tmp"
  NGINX_PORT=$(free_port) || die "no free port for nginx"
  NGINX_KEEPALIVE=$((CONNECTIONS > 64 ? CONNECTIONS : 64))
  cat >"$WORK/nginx/nginx.conf" <<EOF
# The peer baseline: what a well-tuned generic proxy costs for the same hop
# (client mTLS in, kept-alive mTLS out, the provider's CN verified).
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;

  upstream provider {
    server 127.0.0.1:$PROVIDER_PORT;
    # Idle upstream connections kept per worker: as many as the generator
    # has, so that none is ever closed and re-handshaken under load.
    keepalive $NGINX_KEEPALIVE;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $PKI/proxy.crt;
    ssl_certificate_key $PKI/proxy.key;
    ssl_client_certificate $PKI/ca.crt;
    ssl_verify_client on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    location / {
      proxy_pass https://provider;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Client-Dn \$ssl_client_s_dn;
      proxy_ssl_certificate $PKI/proxy.crt;
      proxy_ssl_certificate_key $PKI/proxy.key;
      proxy_ssl_trusted_certificate $PKI/ca.crt;
      proxy_ssl_verify on;
      proxy_ssl_name nr;
      # TLS 1.3 like the hub's client (nginx 1.22 would offer 1.2 at most).
      # No resumption: net::Server issues TLS 1.2 tickets but refuses them
      # with an internal_error alert (no session id context), and kept-alive
      # connections make resumption pointless here anyway.
      proxy_ssl_protocols TLSv1.2 TLSv1.3;
      proxy_ssl_session_reuse off;
    }
  }
}
EOF
  "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' 2>>"$WORK/nginx/error.log" &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  up=0
  for _ in $(seq 100); do
    if "$LOADGEN" --once --url "https://127.0.0.1:$NGINX_PORT" --expect-cn proxy "${MUT[@]}" \
      --timeout-ms 2000 --target /v1/provide --body-file "$WORK/provide.json" >"$WORK/nginx.out" 2>&1; then
      up=1; break
    fi
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ $up -eq 1 ]] || die "nginx did not start or does not proxy: $(cat "$WORK/nginx.out")"
fi

# --- measurements --------------------------------------------------------------------
RESULTS="$WORK/results"
mkdir -p "$RESULTS"
[[ -n "$OUT" ]] && : >"$OUT"
# run NAME PHASE URL CN TARGET BODY_FILE "SERVER_PIDS" [loadgen options...]
# Appends the loadgen's JSON line, plus the CPU the servers used per answered
# request (warmup included), to $RESULTS/NAME.PHASE.
run() {
  local name=$1 phase=$2 url=$3 cn=$4 target=$5 body=$6 servers=$7
  shift 7
  local result before after answered usage
  say "  $name ($phase) ..."
  # shellcheck disable=SC2086  # $servers is a list of pids
  before=$(server_usage $servers)
  local body_option=--body-file
  [[ $body == *.lines ]] && body_option=--bodies-file  # one body per line, in turn
  result=$("$LOADGEN" --json --label "$name" --url "$url" --expect-cn "$cn" "$@" \
    --target "$target" "$body_option" "$body" --connections "$CONNECTIONS" \
    --duration "$DURATION" --warmup "$WARMUP" --threads "$LOADGEN_THREADS") ||
    die "$name failed: $result"
  # shellcheck disable=SC2086
  after=$(server_usage $servers)
  answered=$(field "$result" answered_with_warmup)
  usage=$(awk -v b="$before" -v a="$after" -v hz="$CLK_TCK" -v n="$answered" 'BEGIN {
    split(b, x, " "); split(a, y, " "); if (n < 1) n = 1;
    printf "\"server_cpu_us_per_request\": %.1f, \"server_context_switches_per_request\": %.2f",
      (y[1] - x[1]) * 1e6 / hz / n, (y[2] - x[2]) / n }')
  result="${result%\}}, $usage, \"phase\": \"$phase\"}"
  printf '%s\n' "$result" >>"$RESULTS/$name.$phase"
  if [[ -n "$OUT" ]]; then printf '%s\n' "$result" >>"$OUT"; fi
  return 0
}
# The baseline (b) calls the provider as the hub does (with the hub's
# certificate); the hub and nginx are called by the health insurer.
AS_HUB=(--cert "$PKI/hub.crt" --key "$PKI/hub.key" --ca "$PKI/ca.crt")
HUB_URL="https://127.0.0.1:$HUB_PORT"
PROVIDER_URL="https://127.0.0.1:$PROVIDER_PORT"
NGINX_URL="https://127.0.0.1:$NGINX_PORT"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# "RECORDS COMMITS" of a hub's audit log (its /metrics on the admin
# listener); empty when it cannot be read.
audit_counts() {
  [[ -n "$1" ]] && command -v curl >/dev/null || return 0
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '
    /^carrefour_audit_records / { r = $2 } /^carrefour_audit_commits_total / { c = $2 }
    END { if (c != "") print r + 0, c + 0 }'
}
AUDIT_A_BEFORE="" AUDIT_U_BEFORE=""
if [[ $AUDIT_COST -eq 1 ]]; then
  AUDIT_A_BEFORE=$(audit_counts "$HUB_ADMIN_PORT")
  AUDIT_U_BEFORE=$(audit_counts "$HUBU_ADMIN_PORT")
fi

say "closed loop, $CONNECTIONS connections, ${DURATION} s after ${WARMUP} s of warmup, $ROUNDS round(s):"
for _ in $(seq "$ROUNDS"); do
  run a closed "$HUB_URL" hub /v1/consultations "$CONSULT" "$HUB_PID $PROVIDER_PID" "${MUT[@]}"
  if [[ $AUDIT_COST -eq 1 ]]; then
    run u closed "https://127.0.0.1:$HUBU_PORT" hub /v1/consultations "$CONSULT" \
      "$HUBU_PID $PROVIDER_PID" "${MUT[@]}"
  fi
  run b closed "$PROVIDER_URL" nr /v1/provide "$WORK/provide.json" "$PROVIDER_PID" "${AS_HUB[@]}"
  if [[ -n "$NGINX" ]]; then
    run c closed "$NGINX_URL" proxy /v1/provide "$WORK/provide.json" "$NGINX_PID $PROVIDER_PID" "${MUT[@]}"
  fi
done
if [[ $AUDIT_COST -eq 1 ]]; then
  AUDIT_A_AFTER=$(audit_counts "$HUB_ADMIN_PORT")
  AUDIT_U_AFTER=$(audit_counts "$HUBU_ADMIN_PORT")
fi
A=$(median_line "$RESULTS/a.closed" requests_per_second)
RATE=$(awk -v r="$(field "$A" requests_per_second)" 'BEGIN { printf "%d", r / 2 }')

# --- wrk: the hub and nginx, interleaved, at each connection count -----------------
WRK_NOTE=""
if [[ $USE_WRK -eq 1 ]]; then
  WRK=$(command -v wrk || true)
  if [[ -z "$WRK" && $INSTALL_NGINX -eq 1 && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "wrk is missing: apt-get install wrk ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 || true
    WRK=$(command -v wrk || true)
  fi
  [[ -n "$WRK" ]] || WRK_NOTE="skipped: wrk is not installed (Debian: apt-get install wrk)"
  SHIM="$WORK/wrk_client_cert.so"
  if [[ -z "$WRK_NOTE" ]] && ! cc -shared -fPIC -o "$SHIM" "$ROOT/bench/hub_load/wrk_client_cert.c" -ldl -lssl 2>"$WORK/shim.log"; then
    WRK_NOTE="skipped: the client-certificate shim does not build: $(cat "$WORK/shim.log")"
  fi
fi
if [[ $USE_WRK -eq 1 && -z "$WRK_NOTE" ]]; then
  cat >"$WORK/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = io.open(os.getenv("WRK_BODY_FILE"))
wrk.body = file:read("*a")
file:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
EOF
  {
    printf '{"consultations": ['
    for i in $(seq "$BATCH_SIZE"); do
      [[ $i -gt 1 ]] && printf ', '
      printf '{"data_type": "person.address", "niss": "%s"}' "$NISS"
    done
    printf ']}'
  } >"$WORK/batch.json"
  # wrk_run NAME CONNECTIONS URL BODY_FILE "SERVER_PIDS" [ITEMS_PER_REQUEST]: a
  # warmup, then the measured run; appends a JSON line to $RESULTS/w.NAME.CONNECTIONS.
  wrk_run() {
    local name=$1 conns=$2 url=$3 body=$4 servers=$5 items=${6:-1} before after out line
    local threads=$((conns < 2 ? 1 : 2))
    say "  wrk $name, $conns connections ..."
    WRK_BODY_FILE=$body WRK_CLIENT_CERT=$PKI/mut-100.crt WRK_CLIENT_KEY=$PKI/mut-100.key LD_PRELOAD=$SHIM \
      "$WRK" -t"$threads" -c"$conns" -d"${WARMUP}s" -s "$WORK/post.lua" "$url" >/dev/null 2>&1 || true
    local allocs_before=0 allocs_after=0
    if [[ -n "$ALLOCS_FILE" && $name != nginx ]]; then sleep 0.3; allocs_before=$(cat "$ALLOCS_FILE"); fi
    # shellcheck disable=SC2086
    before=$(server_usage $servers)
    out=$(WRK_BODY_FILE=$body WRK_CLIENT_CERT=$PKI/mut-100.crt WRK_CLIENT_KEY=$PKI/mut-100.key LD_PRELOAD=$SHIM \
      "$WRK" -t"$threads" -c"$conns" -d"${DURATION}s" -s "$WORK/post.lua" "$url" 2>&1) || die "wrk $name failed: $out"
    # shellcheck disable=SC2086
    after=$(server_usage $servers)
    if [[ -n "$ALLOCS_FILE" && $name != nginx ]]; then sleep 0.3; allocs_after=$(cat "$ALLOCS_FILE"); fi
    line=$(sed -n 's/^WRKJSON //p' <<<"$out")
    [[ -n "$line" ]] || die "wrk $name gave no summary: $out"
    line=$(awk -v l="$line" -v b="$before" -v a="$after" -v hz="$CLK_TCK" -v items="$items" -v n="$name" -v c="$conns" -v ab="$allocs_before" -v aa="$allocs_after" 'BEGIN {
      split(b, x, " "); split(a, y, " ");
      r = l; sub(/.*"requests": /, "", r); sub(/,.*/, "", r); r += 0;
      d = l; sub(/.*"duration_us": /, "", d); sub(/,.*/, "", d); d += 0;
      if (r < 1) r = 1;
      sub(/}$/, "", l);
      printf "%s, \"label\": \"%s\", \"connections\": %d, \"requests_per_second\": %.1f, \"consultations_per_second\": %.1f, \"front_cpu_us_per_request\": %.1f, \"front_cpu_us_per_consultation\": %.1f, \"front_context_switches_per_request\": %.2f, \"allocations_per_request\": %.1f}\n",
        l, n, c, r * 1e6 / d, r * items * 1e6 / d, (y[1] - x[1]) * 1e6 / hz / r, (y[1] - x[1]) * 1e6 / hz / r / items, (y[2] - x[2]) / r, (aa - ab) / r }')
    printf '%s\n' "$line" >>"$RESULTS/w.$name.$conns"
    if [[ -n "$OUT" ]]; then printf '%s\n' "$line" >>"$OUT"; fi
  }
  say "wrk closed loop, ${DURATION} s after ${WARMUP} s of warmup, $ROUNDS round(s), connections: $WRK_CONNECTIONS:"
  for _ in $(seq "$ROUNDS"); do
    for conns in $WRK_CONNECTIONS; do
      wrk_run hub "$conns" "$HUB_URL/v1/consultations" "$WORK/consult.json" "$HUB_PID"
      if [[ -n "$NGINX" ]]; then
        wrk_run nginx "$conns" "$NGINX_URL/v1/provide" "$WORK/provide.json" "$NGINX_PID"
      fi
    done
    wrk_run batch 8 "$HUB_URL/v1/consultations/batch" "$WORK/batch.json" "$HUB_PID" "$BATCH_SIZE"
  done
  first=${WRK_CONNECTIONS%% *}
  W=$(median_line "$RESULTS/w.hub.$first" requests_per_second)
  RATE=$(awk -v r="$(field "$W" requests_per_second)" 'BEGIN { printf "%d", r / 2 }')
fi
[[ $RATE -ge 1 ]] || die "the hub answered nothing in the closed loop"

say "open loop at $RATE requests/s (half the hub's median maximum), $ROUNDS round(s):"
for _ in $(seq "$ROUNDS"); do
  run a open "$HUB_URL" hub /v1/consultations "$CONSULT" "$HUB_PID $PROVIDER_PID" "${MUT[@]}" --rate "$RATE"
  run b open "$PROVIDER_URL" nr /v1/provide "$WORK/provide.json" "$PROVIDER_PID" "${AS_HUB[@]}" --rate "$RATE"
  if [[ -n "$NGINX" ]]; then
    run c open "$NGINX_URL" proxy /v1/provide "$WORK/provide.json" "$NGINX_PID $PROVIDER_PID" "${MUT[@]}" --rate "$RATE"
  fi
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
# CPU/req and cs/req: CPU time and context switches of the servers of each
# scenario (a: hub + provider; b: provider; c: nginx + provider) per answered
# request. Unlike requests/s, they hardly depend on what else the machine runs.

# --- report ------------------------------------------------------------------------------
spread() {  # min-max of KEY over FILE's lines
  awk -v k="\"$2\": " '{ i = index($0, k); v = substr($0, i + length(k)); sub(/[,}].*/, "", v); v += 0;
    if (NR == 1 || v < lo) lo = v; if (NR == 1 || v > hi) hi = v } END { printf "%.0f-%.0f", lo, hi }' "$1"
}
failed() { echo $(($(field "$1" errors) + $(field "$1" non_2xx))); }
NAMES=(a b c)
LABELS=("(a) hub" "(b) provider" "(c) nginx mTLS")
echo
echo "Hub throughput: $(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r)"
echo "generator, hub, provider and nginx share these cores; load average $LOAD_BEFORE before, $LOAD_AFTER after"
echo "$CONNECTIONS connections, ${DURATION} s measured after ${WARMUP} s of warmup, median of $ROUNDS round(s), consultations of $PERSONS person(s) in turn"
echo "hub data: $HUB_DATA ($(df -PT "$HUB_DATA" | awk 'NR == 2 { print $2 }'))${HUB_STORE:+, store ${HUB_STORE%%://*}}"
echo
echo "Closed loop (maximum rate)"
printf '  %-15s %9s %11s %8s %8s %7s %11s %9s\n' "" "req/s" "(rounds)" "p50 ms" "p99 ms" "failed" "CPU/req" "cs/req"
for i in 0 1 2; do
  file="$RESULTS/${NAMES[$i]}.closed"
  if [[ ! -s "$file" ]]; then printf '  %-15s %s\n' "${LABELS[$i]}" "$NGINX_NOTE"; continue; fi
  line=$(median_line "$file" requests_per_second)
  printf '  %-15s %9s %11s %8s %8s %7s %8s us %9s\n' "${LABELS[$i]}" "$(field "$line" requests_per_second)" \
    "$(spread "$file" requests_per_second)" "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" \
    "$(failed "$line")" "$(field "$line" server_cpu_us_per_request)" \
    "$(field "$line" server_context_switches_per_request)"
done
echo
echo "Open loop at $RATE requests/s (latency from the scheduled send time)"
printf '  %-15s %8s %8s %8s %9s %8s %7s\n' "" "p50 ms" "p90 ms" "p99 ms" "p99.9 ms" "max ms" "failed"
for i in 0 1 2; do
  file="$RESULTS/${NAMES[$i]}.open"
  if [[ ! -s "$file" ]]; then printf '  %-15s %s\n' "${LABELS[$i]}" "$NGINX_NOTE"; continue; fi
  line=$(median_line "$file" p99_ms)
  printf '  %-15s %8s %8s %8s %9s %8s %7s\n' "${LABELS[$i]}" "$(field "$line" p50_ms)" "$(field "$line" p90_ms)" \
    "$(field "$line" p99_ms)" "$(field "$line" p999_ms)" "$(field "$line" max_ms)" "$(failed "$line")"
done
echo
A_RPS=$(field "$A" requests_per_second)
if [[ -s "$RESULTS/u.closed" ]]; then
  U=$(median_line "$RESULTS/u.closed" requests_per_second)
  printf '(u) hub, audit log not verifiable: %s req/s (rounds %s), CPU/req %s us (the hub with (a): %s us)\n' \
    "$(field "$U" requests_per_second)" "$(spread "$RESULTS/u.closed" requests_per_second)" \
    "$(field "$U" server_cpu_us_per_request)" "$(field "$A" server_cpu_us_per_request)"
  awk -v a="$A_RPS" -v u="$(field "$U" requests_per_second)" 'BEGIN { d = 100 * (u - a) / u;
    printf "(a)/(u) = %.0f %%: the verifiable audit log (Merkle tree, person index, signed checkpoints) costs %.1f %% of consultations/s (aim: at most 10 %%): %s\n", 100 * a / u, d, (d <= 10 ? "met" : "NOT met") }'
  # Each round runs (a) and then (u) back to back: the ratio within a round
  # is less exposed to the neighbours' load drifting over the whole run
  # than the ratio of the medians; the CPU per request (hub + provider)
  # hardly depends on them.
  per_round() { awk -v k="\"$2\": " '{ i = index($0, k); v = substr($0, i + length(k)); sub(/[,}].*/, "", v); print v + 0 }' "$1"; }
  median_of() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  ratios=$(paste <(per_round "$RESULTS/a.closed" requests_per_second) <(per_round "$RESULTS/u.closed" requests_per_second) |
    awk '{ printf "%.0f\n", 100 * $1 / $2 }')
  printf '(a)/(u) round by round: %s %% (median %s %%)\n' "$(paste -sd' ' <<<"$ratios")" "$(median_of <<<"$ratios")"
  cpu_a=$(per_round "$RESULTS/a.closed" server_cpu_us_per_request | median_of)
  cpu_u=$(per_round "$RESULTS/u.closed" server_cpu_us_per_request | median_of)
  cpu_added=$(paste <(per_round "$RESULTS/a.closed" server_cpu_us_per_request) <(per_round "$RESULTS/u.closed" server_cpu_us_per_request) |
    awk '{ printf "%.1f\n", 100 * ($1 - $2) / $2 }')
  awk -v a="$cpu_a" -v u="$cpu_u" 'BEGIN { printf "hub + provider CPU per request, median of the rounds: (a) %.0f us, (u) %.0f us\n", a, u }'
  printf 'CPU per request the verifiable log adds, round by round: %s %% (median %s %%)\n' \
    "$(paste -sd' ' <<<"$cpu_added")" "$(median_of <<<"$cpu_added")"
  # Records per group commit during the closed loop (the hubs' /metrics):
  # the verifiable log's per-commit cost (two Ed25519 notes) is shared by
  # them.
  per_commit() {
    awk -v b="$1" -v a="$2" 'BEGIN { split(b, x, " "); split(a, y, " ");
      if (y[2] > x[2]) printf "%.1f", (y[1] - x[1]) / (y[2] - x[2]); else printf "n/a" }'
  }
  if [[ -n "$AUDIT_A_BEFORE" && -n "$AUDIT_U_BEFORE" ]]; then
    echo "audit records per group commit in the closed loop: (a) $(per_commit "$AUDIT_A_BEFORE" "$AUDIT_A_AFTER"), (u) $(per_commit "$AUDIT_U_BEFORE" "$AUDIT_U_AFTER")"
  fi
fi
B_RPS=$(field "$(median_line "$RESULTS/b.closed" requests_per_second)" requests_per_second)
awk -v a="$A_RPS" -v b="$B_RPS" 'BEGIN { printf "(a)/(b) = %.0f %% of the one-hop baseline\n", 100 * a / b }'
if [[ -s "$RESULTS/c.closed" ]]; then
  C_RPS=$(field "$(median_line "$RESULTS/c.closed" requests_per_second)" requests_per_second)
  awk -v a="$A_RPS" -v c="$C_RPS" 'BEGIN { r = 100 * a / c; printf "(a)/(c) = %.0f %% of the peer baseline (aim: at least 80 %%): %s\n", r, (r >= 80 ? "met" : "NOT met") }'
else
  echo "(a)/(c) = n/a ($NGINX_NOTE)"
fi
if [[ $USE_WRK -eq 1 ]]; then
  echo
  if [[ -n "$WRK_NOTE" ]]; then
    echo "wrk: $WRK_NOTE"
  else
    echo "wrk closed loop (median of $ROUNDS round(s); front CPU = the hub alone, nginx alone, from /proc)"
    printf '  %-6s %-7s %9s %8s %8s %7s %14s %8s %10s\n' "conns" "" "req/s" "p50 ms" "p99 ms" "failed" "front CPU/req" "cs/req" "allocs/req"
    for conns in $WRK_CONNECTIONS; do
      for name in hub nginx; do
        file="$RESULTS/w.$name.$conns"
        [[ -s "$file" ]] || continue
        line=$(median_line "$file" requests_per_second)
        allocs=$(field "$line" allocations_per_request)
        [[ $name == nginx || -z "$ALLOCS_FILE" ]] && allocs="-"
        printf '  %-6s %-7s %9s %8s %8s %7s %11s us %8s %10s\n' "$conns" "$name" "$(field "$line" requests_per_second)" \
          "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" "$(failed "$line")" \
          "$(field "$line" front_cpu_us_per_request)" "$(field "$line" front_context_switches_per_request)" "$allocs"
      done
      if [[ -s "$RESULTS/w.nginx.$conns" ]]; then
        h=$(median_line "$RESULTS/w.hub.$conns" requests_per_second)
        n=$(median_line "$RESULTS/w.nginx.$conns" requests_per_second)
        awk -v hr="$(field "$h" requests_per_second)" -v nr="$(field "$n" requests_per_second)" \
          -v hc="$(field "$h" front_cpu_us_per_request)" -v nc="$(field "$n" front_cpu_us_per_request)" -v c="$conns" 'BEGIN {
          printf "  %s connections: hub/nginx throughput %.2fx (aim >= 1.0: %s), CPU per request %.2fx (aim <= 1.5: %s)\n",
            c, hr / nr, (hr >= nr ? "met" : "NOT met"), hc / nc, (hc <= 1.5 * nc ? "met" : "NOT met") }'
      fi
    done
    line=$(median_line "$RESULTS/w.batch.8" consultations_per_second)
    single=$(median_line "$RESULTS/w.hub.${WRK_CONNECTIONS%% *}" requests_per_second)
    awk -v b="$(field "$line" consultations_per_second)" -v s="$(field "$single" requests_per_second)" \
      -v cpu="$(field "$line" front_cpu_us_per_consultation)" -v n="$BATCH_SIZE" -v f="$(failed "$line")" 'BEGIN {
      printf "  batch endpoint, %d per request, 8 connections: %.0f consultations/s (%.2fx the single endpoint), front CPU %.1f us per consultation, %d failed\n", n, b, b / s, cpu, f }'
    if [[ -s "$RESULTS/c.closed" && -s "$RESULTS/w.nginx.$CONNECTIONS" ]]; then
      awk -v l="$C_RPS" -v w="$(field "$(median_line "$RESULTS/w.nginx.$CONNECTIONS" requests_per_second)" requests_per_second)" 'BEGIN {
        if (w > 1.2 * l) printf "  note: at the same connections wrk drives nginx %.2fx faster than the project'"'"'s loadgen: there, the generator, not the server, is the bottleneck\n", w / l }'
    fi
  fi
fi
AL=$(median_line "$RESULTS/a.open" p99_ms)
awk -v p="$(field "$AL" p99_ms)" -v r="$RATE" 'BEGIN { printf "(a) p99 at %d/s = %.3f ms (aim: under 2 ms): %s\n", r, p, (p < 2 ? "met" : "NOT met") }'
