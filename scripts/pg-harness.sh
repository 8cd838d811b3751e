#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the store tests.
#   scripts/pg-harness.sh start DIR   installs postgresql if missing, starts a cluster in DIR,
#                                     prints `export JPKIPILOT_TEST_PG=...`
#   scripts/pg-harness.sh stop DIR    stops it and removes DIR
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data directory}
port=${JPKIPILOT_PG_PORT:-54329}

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

case "$cmd" in
start)
  if [ -z "$(bindir)" ]; then
    echo "pg-harness: installing postgresql" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
  fi
  bin=$(bindir)
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >&2 ||
    { cat "$dir/server.log" >&2; exit 1; }
  echo "export JPKIPILOT_TEST_PG=postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  bin=$(bindir)
  if [ -n "$bin" ] && [ -d "$dir/data" ]; then
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    else "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true; fi
  fi
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
