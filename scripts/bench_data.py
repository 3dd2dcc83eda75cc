"""Fill a dedicated benchmark database with N synthetic published employers, deterministically.

    .venv/bin/python scripts/bench_data.py --count 100000 [--database kmu_atlas_bench_load]

Set-based SQL in batches (one progress step each), seeded with ``setseed`` in one session and
without parallel workers, so the same --count and --seed give the same rows. Employers cluster
around the region's postal-code centres (a normal spread of about 1.5 km), names, sectors and
occupations come in matching trades, head counts lie on a skewed log scale (about half micro,
one in ten large), family criteria, offers, apprenticeship occupations and languages are mixed
in, and transit stops and childcare facilities are generated as layer features around the same
centres. With ``--area state`` the region's centres are copied onto a 5 x 5 grid of the
region's size (about 3.75 x 2.25 degrees, the size of North Rhine-Westphalia), for a
state-sized benchmark.

Triggers are off for the load (``session_replication_role = replica``, as the local cluster's
owner); the map index (migration 0012) is built once, set-based, at the end
(``atlas_map_rebuild()``) and the map cache's generation raised.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from app.config import PROJECT_ROOT, local_database_url

DEFAULT_DATABASE = "kmu_atlas_bench_load"
BATCHES = 20
#: Layer features per kind: roughly the stops and day-care centres of a region of a million.
LAYER_COUNTS = {"transit": 1500, "childcare": 300}
#: Trades: a name, its WZ division and its KldB group (a matching sector and occupation).
TRADES = (
    ("Bäckerei", "10", "29"),
    ("Elektrotechnik", "43", "26"),
    ("Malerbetrieb", "43", "33"),
    ("Pflegedienst", "88", "81"),
    ("IT-Service", "62", "43"),
    ("Spedition", "49", "51"),
    ("Café", "56", "63"),
    ("Steuerberatung", "69", "72"),
    ("Metallbau", "25", "24"),
    ("Autohaus", "45", "25"),
    ("Zahnarztpraxis", "86", "81"),
    ("Gartenbau", "81", "12"),
)
#: The grid of copies of the region's centres per ``--area`` (columns, rows; step in degrees).
AREAS = {"region": (1, 1, 0.0, 0.0), "state": (5, 5, 0.75, 0.45)}
#: Per-postal-code centres, numbered, for a cheap join by number (copied onto the area's grid).
CENTRES = """
CREATE TEMP TABLE bench_centres AS
SELECT row_number() OVER (ORDER BY gx, gy, pc.code) AS n, pc.code,
       ST_X(pc.point) + (gx - (CAST(:columns AS int) - 1) / 2.0) * CAST(:dx AS float8) AS x,
       ST_Y(pc.point) + (gy - (CAST(:rows AS int) - 1) / 2.0) * CAST(:dy AS float8) AS y,
       m.ags, m.name
FROM postal_codes pc JOIN municipalities m ON m.ags = pc.municipality_ags
CROSS JOIN generate_series(0, CAST(:columns AS int) - 1) AS gx
CROSS JOIN generate_series(0, CAST(:rows AS int) - 1) AS gy;
CREATE TEMP TABLE bench_trades (n int PRIMARY KEY, name text, division text, grp text);
"""
#: One batch of employers, ids :first..:last. The centre is skewed towards the first postal
#: codes (random()^1.3), so some towns are denser than others; the offset is normal
#: (Box-Muller) with sigma 0.02 deg longitude, 0.013 deg latitude.
FILL = """
INSERT INTO companies (slug, name, description, street, house_number, postal_code, town,
    municipality_ags, location, website, phone, email, contact_name, contact_email, employees,
    offers_apprenticeships, offers_internships, open_positions, languages, status, source,
    source_ref, version)
SELECT 'bench-' || g.i, t.name || ' ' || c.name || ' ' || g.i,
       'Ein Betrieb der Branche ' || t.name || ' in ' || c.name || ', Nummer ' || g.i,
       'Hauptstraße', (1 + g.i % 200)::text, c.code, c.name, c.ags,
       ST_SetSRID(ST_MakePoint(c.x + g.r * cos(g.a) * 0.02, c.y + g.r * sin(g.a) * 0.013), 4326),
       '', '', '', '', '', g.employees, g.apprentices, g.interns, g.positions, g.languages,
       g.status, 'bench', g.i::text, 1
FROM (
    SELECT i, sqrt(-2 * ln(1 - random())) AS r, 2 * pi() * random() AS a,
           1 + floor((SELECT count(*) FROM bench_centres) * power(random(), 1.3))::int AS centre,
           1 + floor(random() * (SELECT count(*) FROM bench_trades))::int AS trade,
           floor(exp(power(random(), 1.6) * ln(600)))::int AS employees,
           random() < 0.35 AS apprentices, random() < 0.45 AS interns,
           CASE WHEN random() < 0.4 THEN 1 + floor(random() * 5)::int ELSE 0 END AS positions,
           CASE WHEN random() < 0.15 THEN ARRAY['de', 'tr']
                WHEN random() < 0.2 THEN ARRAY['de', 'en'] ELSE ARRAY['de'] END AS languages,
           CASE WHEN random() < 0.92 THEN 'published' ELSE 'pending' END AS status
    FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS i
) g
JOIN bench_centres c ON c.n = g.centre
JOIN bench_trades t ON t.n = g.trade
ORDER BY g.i
"""
#: Sectors and occupations by trade (from the name), a second random division for one in
#: five; family criteria each with its own probability; apprenticeship occupations for those
#: that offer apprenticeships. (``+ 0 * c.id`` keeps a random() condition on the pair: on the
#: small table alone, PostgreSQL would push it down and draw once per criterion.)
LINKS = (
    """INSERT INTO company_sectors (company_id, division_code)
    SELECT c.id, t.division FROM companies c
    JOIN bench_trades t ON c.name LIKE t.name || ' %'""",
    """INSERT INTO company_sectors (company_id, division_code)
    SELECT c.id, d.codes[1 + floor(random() * cardinality(d.codes))::int]
    FROM companies c, (SELECT array_agg(code ORDER BY code) AS codes FROM wz_divisions) d
    WHERE random() < 0.2 ON CONFLICT DO NOTHING""",
    """INSERT INTO company_occupations (company_id, group_code)
    SELECT c.id, t.grp FROM companies c JOIN bench_trades t ON c.name LIKE t.name || ' %'
    WHERE t.grp IN (SELECT code FROM kldb_groups)""",
    """INSERT INTO company_family_criteria (company_id, criterion_key)
    SELECT c.id, f.key FROM companies c
    JOIN (SELECT key, 0.15 + 0.35 * (row_number() OVER (ORDER BY key) % 3) / 2.0 AS p
          FROM family_criteria) f ON random() < f.p + 0 * c.id""",
    """INSERT INTO company_apprenticeships (company_id, code)
    SELECT DISTINCT c.id, a.codes[1 + floor(random() * cardinality(a.codes))::int]
    FROM companies c CROSS JOIN generate_series(1, 2) AS k,
         (SELECT CAST(:codes AS text[]) AS codes) a
    WHERE c.offers_apprenticeships AND (k = 1 OR random() < 0.3 + 0 * c.id)""",
)
#: Transit stops and childcare facilities (:data:`LAYER_COUNTS`, independent of the number of
#: employers, so that a proximity filter keeps its selectivity), around the same centres with a
#: wider spread.
LAYERS = """
INSERT INTO layer_features (kind, name, properties, location, source)
SELECT kind, 'Bench ' || kind || ' ' || i, '{}'::jsonb,
       ST_SetSRID(ST_MakePoint(c.x + r * cos(a) * 0.03, c.y + r * sin(a) * 0.02), 4326), 'bench'
FROM (
    SELECT i, kind, sqrt(-2 * ln(1 - random())) AS r, 2 * pi() * random() AS a,
           1 + floor((SELECT count(*) FROM bench_centres) * random())::int AS centre
    FROM (SELECT i, 'transit' AS kind
          FROM generate_series(1, CAST(:transit AS int)) i
          UNION ALL
          SELECT i, 'childcare'
          FROM generate_series(1, CAST(:childcare AS int)) i) k
) g JOIN bench_centres c ON c.n = g.centre
"""


def bench_url(database: str = DEFAULT_DATABASE) -> URL:
    """The URL of the benchmark database on the project-local PostGIS."""
    return local_database_url(PROJECT_ROOT / "instance", database)


def database_exists(url: URL) -> bool:
    """Whether the database ``url`` names exists and holds a built benchmark (its map index
    generation was raised at the end of :func:`fill`)."""
    admin = create_engine(url.set(database="postgres"))
    with admin.connect() as connection:
        found = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        )
    admin.dispose()
    if not found:
        return False
    engine = create_engine(url)
    with engine.connect() as connection:
        built = connection.scalar(text("SELECT to_regclass('map_generation') IS NOT NULL"))
        built = built and connection.scalar(text("SELECT generation > 1 FROM map_generation"))
    engine.dispose()
    return bool(built)


def recreate_database(url: URL) -> None:
    """Drop and create the database ``url`` names (it must be a benchmark database)."""
    if not url.database.startswith("kmu_atlas_bench"):
        raise SystemExit(f"refusing to recreate {url.database!r}: not a benchmark database")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def migrate(url: URL, *, load_reference_data: bool = True) -> None:
    """Bring the schema up to date; with ``load_reference_data``, also load the taxonomies
    and the region through the app (for a new database: on a filled one, a boundary update
    would recompute every employer's map row)."""
    import flask_migrate

    from app import create_app
    from app.services.reference_data import sync_region, sync_taxonomies

    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url.render_as_string(False)})
    with app.app_context():
        flask_migrate.upgrade()
        if load_reference_data:
            sync_taxonomies()
            sync_region(app.config["REGION"])
        from app.extensions import db

        db.session.commit()
        db.engine.dispose()


def progress(done: int, total: int, started: float, label: str) -> None:
    """Draw a one-line progress bar on stderr."""
    width = 30
    filled = width * done // total
    elapsed = time.perf_counter() - started
    bar = "#" * filled + "-" * (width - filled)
    sys.stderr.write(f"\r{label:<12} [{bar}] {done:>9,}/{total:,} {elapsed:6.1f} s")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def apprenticeship_codes() -> list[str]:
    """The shipped apprenticeship occupation codes, sorted."""
    from app.services import apprenticeships

    return sorted(apprenticeships.codes())


def fill(url: URL, count: int, seed: float, area: str = "region") -> float:
    """Insert ``count`` employers, their links and layer features, then build the map index;
    the seconds it took."""
    started = time.perf_counter()
    engine = create_engine(url)
    columns, rows, dx, dy = AREAS[area]
    grid = {"columns": columns, "rows": rows, "dx": dx, "dy": dy}
    with engine.begin() as connection:
        connection.execute(text("SET max_parallel_workers_per_gather = 0"))
        # No triggers during the load (the map index and the cache generation are built and
        # raised once at the end); the local cluster's owner may do this.
        connection.execute(text("SET session_replication_role = replica"))
        connection.execute(text("SELECT setseed(:seed)"), {"seed": seed})
        for statement in CENTRES.strip().split(";\n"):
            connection.execute(text(statement), grid if ":columns" in statement else {})
        connection.execute(
            text("INSERT INTO bench_trades VALUES (:n, :name, :division, :grp)"),
            [
                {"n": n, "name": t[0], "division": t[1], "grp": t[2]}
                for n, t in enumerate(TRADES, 1)
            ],
        )
        step = max(1, -(-count // BATCHES))
        for first in range(1, count + 1, step):
            last = min(count, first + step - 1)
            connection.execute(text(FILL), {"first": first, "last": last})
            progress(last, count, started, "employers")
        for done, statement in enumerate(LINKS, 1):
            params = {"codes": apprenticeship_codes()} if ":codes" in statement else {}
            connection.execute(text(statement), params)
            progress(done, len(LINKS), started, "links")
        layers = {kind: number * columns * rows for kind, number in LAYER_COUNTS.items()}
        connection.execute(text(LAYERS), layers)
        progress(0, 1, started, "map index")
        connection.execute(text("RESET session_replication_role"))
        connection.execute(text("ANALYZE"))  # plans for the rebuild need statistics
        connection.execute(text("SET max_parallel_workers_per_gather = 2"))
        connection.execute(text("SELECT atlas_map_rebuild()"))
        connection.execute(text("UPDATE map_generation SET generation = generation + 1"))
        progress(1, 1, started, "map index")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def build(database: str, count: int, seed: float, area: str = "region") -> URL:
    """Recreate ``database`` and fill it with ``count`` employers over ``area``; its URL."""
    url = bench_url(database)
    recreate_database(url)
    migrate(url)
    seconds = fill(url, count, seed, area)
    print(f"filled {count:,} employers into {database} in {seconds:.1f} s", file=sys.stderr)
    return url


def main() -> None:
    """Command line: build the benchmark database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="employers to create")
    parser.add_argument("--seed", type=float, default=0.42, help="setseed value (-1 to 1)")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--area", choices=sorted(AREAS), default="region")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    build(args.database, args.count, args.seed, args.area)


if __name__ == "__main__":
    main()
