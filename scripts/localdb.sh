#!/usr/bin/env bash
# The project-local PostGIS cluster under instance/postgres. It listens only on a Unix socket in
# that folder (no TCP port), so it never clashes with another PostgreSQL server on the machine.
#   scripts/localdb.sh start [DBNAME...]   initialise if needed, start, create the databases
#   scripts/localdb.sh stop | status
# With DATABASE_URL set the app uses that server instead, and `start` does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
pgdir="$root/instance/postgres"
data="$pgdir/data"
superuser=kmu_atlas
action=${1:-start}
shift || true
databases=${*:-kmu_atlas}

fail() { echo "localdb: $*" >&2; exit 1; }

if [ "$action" = start ] && [ -n "${DATABASE_URL:-}" ]; then
  echo "==> DATABASE_URL is set: using that server, not the project-local database."
  exit 0
fi

# The newest PostgreSQL version for which PostGIS is installed.
# shellcheck source=scripts/pgclient.sh
. "$root/scripts/pgclient.sh"
bindir=$(postgis_bindir)
[ -n "$bindir" ] || fail "PostgreSQL with PostGIS is not installed: run scripts/setup.sh (or make run) first."

# initdb and postgres refuse to run as root: as root, run the server as the 'postgres' user.
# shellcheck source=scripts/serveruser.sh
. "$root/scripts/serveruser.sh"
server_user postgres

socket="$pgdir/.s.PGSQL.5432"
[ ${#socket} -lt 100 ] || fail "the path $pgdir is too long for a Unix socket; move the project to a shorter path or set DATABASE_URL."

psql_admin() { "$bindir/psql" -h "$pgdir" -U "$superuser" -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

running() { as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
  own_folder "$pgdir"
  if [ ! -f "$data/PG_VERSION" ]; then
    echo "==> Creating the project-local PostGIS cluster in $data"
    as_owner "$bindir/initdb" -D "$data" -U "$superuser" --auth=trust -E UTF8 \
      --locale=C.UTF-8 --locale-provider=icu --icu-locale=de-DE >/dev/null
    cat >> "$data/postgresql.conf" <<CONF
# KMU-Atlas project-local cluster: Unix socket only.
listen_addresses = ''
unix_socket_directories = '$pgdir'
port = 5432
CONF
  fi
  if ! running; then
    echo "==> Starting the project-local PostGIS"
    as_owner "$bindir/pg_ctl" -D "$data" -l "$pgdir/server.log" -w -t 60 start >/dev/null \
      || fail "the server did not start; see $pgdir/server.log"
  fi
  for database in $databases; do
    if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
      psql_admin -c "CREATE DATABASE \"$database\""
    fi
  done
}

case "$action" in
  start) start ;;
  stop) running && as_owner "$bindir/pg_ctl" -D "$data" -w stop >/dev/null; echo "==> stopped" ;;
  status) if running; then echo "running (socket in $pgdir)"; else echo "not running"; exit 3; fi ;;
  *) fail "usage: scripts/localdb.sh start [DBNAME...] | stop | status" ;;
esac
