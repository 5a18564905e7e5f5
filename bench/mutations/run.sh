#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# Change notifications (docs/api.md 4.3) through a running hub's mutual-TLS API
# beside Redis Streams with appendfsync always, in the same run; SQLite, then
# PostgreSQL beside a raw COPY of the same rows (docs/mutations.md,
# "Performance"). Drives bench/mutations/mutations_load.cc.
#
#   bench/mutations/run.sh [--mutations N] [--rounds N] [--trickle-seconds S]
#                          [--trickle-rate R] [--persons N] [--random-ids]
#                          [--no-sqlite] [--no-postgres] [--build DIR]
#                          [--no-build] [--keep]
#
# Installs redis-server and libhiredis-dev (Debian) when missing, starts
# Redis on a temporary folder (appendonly yes, appendfsync always), a hub on
# SQLite and, unless --no-postgres, a throw-away PostgreSQL cluster
# (scripts/postgres-test-cluster.sh) with a hub on it; everything started
# here is stopped on exit. Manual: CI does not run it. Short by default
# (30 000 mutations, 3 rounds, 5 s of trickle per system): the machine is
# shared.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$ROOT/build/release"
DO_BUILD=1
KEEP=0
SQLITE=1
POSTGRES=1
LOAD_ARGS=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    --mutations|--rounds|--trickle-seconds|--trickle-rate|--persons) LOAD_ARGS+=("$1" "$2"); shift 2 ;;
    --random-ids) LOAD_ARGS+=("$1"); shift ;;
    --no-sqlite) SQLITE=0; shift ;;
    --no-postgres) POSTGRES=0; shift ;;
    --build) BUILD=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

BENCH_NAME=run.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

WORK=""
PG_DIR=""
cleanup() {
  local status=$?
  stop_started
  [[ -n "$PG_DIR" ]] && "$ROOT/scripts/postgres-test-cluster.sh" stop "$PG_DIR" || true
  if [[ -n "$WORK" ]]; then
    if [[ $status -ne 0 && $status -ne 130 ]]; then
      for log in "$WORK"/*.log; do
        [[ -s "$log" ]] && { say "--- last lines of $log"; tail -n 20 "$log" >&2; }
      done
    fi
    if [[ $KEEP -eq 1 || ($status -ne 0 && $status -ne 130) ]]; then
      say "run.sh: files kept in $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Redis and hiredis ---------------------------------------------------------------
REDIS_SERVER=$(command -v redis-server || true)
if [[ -z "$REDIS_SERVER" || ! -f /usr/include/hiredis/hiredis.h ]]; then
  [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null ||
    die "redis-server and libhiredis-dev are needed (Debian: apt-get install redis-server libhiredis-dev)"
  say "installing redis-server and libhiredis-dev ..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server libhiredis-dev \
    >/dev/null 2>&1 || die "apt-get install redis-server libhiredis-dev failed"
  REDIS_SERVER=$(command -v redis-server)
fi

# --- build ------------------------------------------------------------------------
if [[ $DO_BUILD -eq 1 ]]; then
  # Configure again: the bench target exists only once hiredis is found.
  if [[ "$BUILD" == "$ROOT/build/release" ]]; then
    (cd "$ROOT" && cmake --preset release >/dev/null) || die "cmake --preset release failed"
  else
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
      die "configuring $BUILD failed"
  fi
  say "building carrefour and carrefour_mutations_load in $BUILD ..."
  cmake --build "$BUILD" --target carrefour carrefour_mutations_load -j2 >&2 || die "build failed"
fi
CARREFOUR="$BUILD/apps/carrefour/carrefour"
LOAD="$BUILD/bench/carrefour_mutations_load"
for binary in "$CARREFOUR" "$LOAD"; do
  [[ -x "$binary" ]] || die "$binary is missing (build it, or drop --no-build)"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/carrefour-mutations.XXXXXX")
PKI="$WORK/pki"
"$CARREFOUR" pki init --dir "$PKI" >/dev/null || die "pki init failed"
for name in hub nr mut-100 mut-200 mut-300; do
  "$CARREFOUR" pki issue --dir "$PKI" --name "$name" --host 127.0.0.1 >/dev/null ||
    die "pki issue $name failed"
done

# The national register is the source of addresses; three mutualities
# subscribe to them and are authorized for three of the five fields.
{
  cat <<'EOF'
[[institution_type]]
id = "national-register"
capacities = []

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution]]
id = "nr"
type = "national-register"
name = "National register"
endpoint = "https://127.0.0.1:1"
EOF
  for m in 100 200 300; do
    printf '\n[[institution]]\nid = "mut-%s"\ntype = "mutuality"\nname = "Mutuality %s"\nendpoint = "https://127.0.0.1:1"\n' "$m" "$m"
  done
  cat <<'EOF'

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality", "country", "since"]

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

[[subscription]]
institution_type = "mutuality"
data_type = "person.address"
capacity = "insured"
EOF
} >"$WORK/network.toml"

# Redis on a temporary folder: every write fsynced before its reply.
mkdir -p "$WORK/redis"
REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes \
  --appendfsync always --save '' --daemonize no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_for_line "$WORK/redis.log" 'Ready to accept connections' 30 >/dev/null || die "redis did not start"
say "redis $("$REDIS_SERVER" --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$REDIS_PORT (appendfsync always)"

stop_hub() { kill -TERM "$HUB_PID" 2>/dev/null || true; wait "$HUB_PID" 2>/dev/null || true; }

if [[ $SQLITE -eq 1 ]]; then
  start_hub hub-sqlite --data "$WORK/hub-sqlite"
  "$LOAD" --hub "https://127.0.0.1:$HUB_PORT" --pki "$PKI" --redis "127.0.0.1:$REDIS_PORT" \
    --label sqlite --hub-pids "$HUB_PID" --redis-pids "$REDIS_PID" "${LOAD_ARGS[@]}"
  stop_hub
fi

if [[ $POSTGRES -eq 1 ]]; then
  PG_DIR="$WORK/pg"
  chmod 755 "$WORK"  # the cluster runs as the postgres user (as root: runuser)
  url=$("$ROOT/scripts/postgres-test-cluster.sh" start "$PG_DIR") || die "no PostgreSQL cluster"
  base=${url%/*}
  psql "$url" -qc "CREATE DATABASE hub" -c "CREATE DATABASE raw" >/dev/null || die "createdb failed"
  POSTMASTER=$(head -n1 "$PG_DIR/data/postmaster.pid")
  start_hub hub-postgres --data "$WORK/hub-postgres" --store "$base/hub"
  "$LOAD" --hub "https://127.0.0.1:$HUB_PORT" --pki "$PKI" --redis "127.0.0.1:$REDIS_PORT" \
    --raw-postgres "$base/raw" --label postgresql --hub-pids "$HUB_PID" \
    --postgres-pid "$POSTMASTER" --redis-pids "$REDIS_PID" "${LOAD_ARGS[@]}"
  stop_hub
fi
