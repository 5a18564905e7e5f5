#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# Starts a throw-away PostgreSQL cluster for the test suite and prints the
# connection URL on stdout:
#
#   url=$(scripts/postgres-test-cluster.sh start DIR)
#   scripts/postgres-test-cluster.sh restart DIR   # pg_ctl restart -m fast (fault tests)
#   scripts/postgres-test-cluster.sh halt DIR      # the server stops, the cluster stays
#   scripts/postgres-test-cluster.sh resume DIR    # ... and starts again, same port
#   scripts/postgres-test-cluster.sh stop DIR
#
# The cluster lives in DIR (created), listens on 127.0.0.1 on a free port and
# trusts local connections. As root, the server runs as the `postgres` user
# (PostgreSQL refuses to run as root).
set -euo pipefail

action=${1:?usage: postgres-test-cluster.sh start|restart|halt|resume|stop DIR}
dir=${2:?usage: postgres-test-cluster.sh start|restart|halt|resume|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x "$bin/initdb" ]] || { echo "postgres-test-cluster: PostgreSQL server binaries not found (run scripts/setup.sh)" >&2; exit 1; }

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U carrefour --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200 -c fsync=on" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "postgresql://carrefour@127.0.0.1:$port/postgres"
    ;;
  restart)
    # Same port and options (pg_ctl keeps them); sessions are terminated,
    # as when an operator restarts the server.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  halt)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    ;;
  resume)
    port=$(cat "$dir/port")
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200 -c fsync=on" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  stop)
    [[ -d "$dir/data" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: postgres-test-cluster.sh start|restart|halt|resume|stop DIR" >&2; exit 2 ;;
esac
