#!/usr/bin/env bash
# A throwaway PostgreSQL and Redis for the tests, on loopback ports of their own.
#   scripts/services.sh start   install them when missing (Debian packages), start them,
#                               print the settings that reach them
#   scripts/services.sh stop    stop them and delete their data
# Data lives in var/services/ (deleted by stop). No Docker needed: the same commands run
# the production stack locally (docs/operations.md).
set -euo pipefail
dir="$(pwd)/var/services"
pg_port="${TEST_POSTGRES_PORT:-55432}"
redis_port="${TEST_REDIS_PORT:-56379}"

install_missing() {
  local missing=()
  command -v redis-server > /dev/null || missing+=(redis-server)
  ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1 || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} (apt-get)..." >&2
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq > /dev/null
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
  fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

# PostgreSQL refuses to run as root: the cluster belongs to the postgres user when we are root.
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start() {
  install_missing
  mkdir -p "$dir"
  if [ ! -f "$dir/pg/PG_VERSION" ]; then
    mkdir -p "$dir/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pg" && chmod 700 "$dir/pg"
    as_owner "$(pg_bin)/initdb" -D "$dir/pg" -U kavak --auth=trust -E UTF8 --no-locale > "$dir/initdb.log"
  fi
  if ! as_owner "$(pg_bin)/pg_ctl" -D "$dir/pg" status > /dev/null 2>&1; then
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/pg" -l "$dir/pg/postgres.log" -w -o \
      "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/pg -c fsync=off -c max_connections=200" start > /dev/null
  fi
  if ! redis-cli -p "$redis_port" ping > /dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
      --daemonize yes --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid"
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping > /dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "TEST_POSTGRES_URL=postgresql+psycopg2://kavak@127.0.0.1:$pg_port/postgres"
  echo "TEST_REDIS_HOST=127.0.0.1"
  echo "TEST_REDIS_PORT=$redis_port"
}

stop() {
  if [ -f "$dir/pg/PG_VERSION" ]; then
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/pg" -m fast stop > /dev/null 2>&1 || true
  fi
  redis-cli -p "$redis_port" shutdown nosave > /dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
