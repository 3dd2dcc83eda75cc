#!/usr/bin/env bash
# The project-local Redis under instance/redis, for rate-limit counters shared by several app
# processes (the tests start two gunicorn servers on it). Like scripts/localdb.sh for PostgreSQL
# it listens only on a Unix socket in that folder (no TCP port), so it never uses or clashes with
# another Redis on the machine. Nothing is written to disk: the counters live in memory only.
#   scripts/localredis.sh start    start it (if it is not running) and print its URL
#   scripts/localredis.sh stop | status | url
# The URL (for RATELIMIT_STORAGE_URI) is redis+unix://<project>/instance/redis/redis.sock?db=0.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
redisdir="$root/instance/redis"
socket="$redisdir/redis.sock"
pidfile="$redisdir/redis.pid"
action=${1:-start}

fail() { echo "localredis: $*" >&2; exit 1; }

[ ${#socket} -lt 100 ] || fail "the path $socket is too long for a Unix socket; move the project to a shorter path."

# As root, run the server as Debian's 'redis' user (never a network service as root).
# shellcheck source=scripts/serveruser.sh
. "$root/scripts/serveruser.sh"
server_user redis

url() { echo "redis+unix://$socket?db=0"; }

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && [ -S "$socket" ]
}

answers() { [ "$(redis-cli -s "$socket" ping 2>/dev/null)" = PONG ]; }

start() {
  command -v redis-server >/dev/null 2>&1 \
    || fail "redis-server is not installed: run scripts/setup.sh test (or make test) first."
  own_folder "$redisdir"
  if ! running; then
    echo "==> Starting the project-local Redis"
    rm -f "$socket" "$pidfile"
    # No TCP port, no snapshots or append-only file; the socket is for the owner (and root).
    as_owner redis-server --port 0 --unixsocket "$socket" --unixsocketperm 700 \
      --daemonize yes --pidfile "$pidfile" --logfile "$redisdir/server.log" \
      --dir "$redisdir" --save "" --appendonly no \
      || fail "the server did not start; see $redisdir/server.log"
  fi
  for _ in $(seq 1 100); do
    answers && { echo "==> Redis on $(url)"; return 0; }
    sleep 0.1
  done
  fail "the server does not answer on $socket; see $redisdir/server.log"
}

stop() {
  if running; then
    local pid
    pid=$(cat "$pidfile")
    kill "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  echo "==> stopped"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) if running && answers; then echo "running ($(url))"; else echo "not running"; exit 3; fi ;;
  url) url ;;
  *) fail "usage: scripts/localredis.sh start | stop | status | url" ;;
esac
