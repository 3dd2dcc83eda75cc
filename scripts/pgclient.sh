# Shared by scripts/localdb.sh, scripts/backup and scripts/restore (sourced, not run).
#
# postgis_bindir: the bin folder of the newest PostgreSQL version for which PostGIS is
# installed (the project-local cluster's server, and a client new enough for it), or "".
postgis_bindir() {
  local control version bindir=""
  for control in $(ls -d /usr/share/postgresql/*/extension/postgis.control 2>/dev/null | sort -V); do
    version=$(basename "$(dirname "$(dirname "$control")")")
    [ -x "/usr/lib/postgresql/$version/bin/pg_ctl" ] && bindir="/usr/lib/postgresql/$version/bin"
  done
  echo "$bindir"
}

# client_bindir: the folder of pg_dump/pg_restore/psql to use: the PostGIS-enabled version's,
# else the newest installed version's, else the folder of `pg_dump` on the PATH.
client_bindir() {
  local bindir candidate
  bindir=$(postgis_bindir)
  if [ -z "$bindir" ]; then
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
      [ -x "$candidate/pg_dump" ] && bindir="$candidate"
    done
  fi
  if [ -z "$bindir" ] && command -v pg_dump >/dev/null 2>&1; then
    bindir=$(dirname "$(command -v pg_dump)")
  fi
  echo "$bindir"
}
