"""Print the app's database as libpq environment variables, for scripts/backup and restore.

The database is DATABASE_URL's, or the configured region's project-local database when it is
not set (as the app and the Makefile's LOCAL_DB choose it). The lines are shell assignments
(``PGHOST='…'``) for ``eval``: the password goes to the tools through PGPASSWORD, never onto a
command line where ``ps`` would show it.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import (
    DEFAULT_REGION,
    PROJECT_ROOT,
    ConfigError,
    local_database_name,
    local_database_url,
    parse_database_url,
)
from geodata.regions import RegionError, load_region

#: URL query parameters passed on to libpq as their environment variables.
QUERY_VARIABLES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslpassword": "PGSSLPASSWORD",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}


def database_environment(environ=os.environ) -> dict[str, str]:
    """The libpq variables (PGHOST, PGDATABASE, …) of the app's database."""
    if environ.get("DATABASE_URL"):
        url = parse_database_url(environ["DATABASE_URL"])
    else:
        region = load_region(environ.get("REGION") or DEFAULT_REGION)
        instance = Path(environ.get("INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()
        url = local_database_url(instance, local_database_name(region.key))
    variables = {"PGDATABASE": url.database}
    if url.host:
        variables["PGHOST"] = url.host
    if url.port:
        variables["PGPORT"] = str(url.port)
    if url.username:
        variables["PGUSER"] = url.username
    if url.password:
        variables["PGPASSWORD"] = str(url.password)
    for key, value in url.query.items():
        if key not in QUERY_VARIABLES:
            raise ConfigError(
                f"DATABASE_URL: the parameter {key!r} is not passed on to pg_dump/pg_restore; "
                "remove it or set the matching PG… environment variable instead."
            )
        variables[QUERY_VARIABLES[key]] = value if isinstance(value, str) else value[-1]
    return variables


def main() -> int:
    try:
        variables = database_environment()
    except (ConfigError, RegionError) as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 1
    for name, value in variables.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
