"""Benchmark the public employer queries on a scratch database; prints figures, asserts nothing.

    .venv/bin/python scripts/bench_search.py [--count 100000] [--repeat 5]

Creates (or reuses, with --reuse) the database ``kmu_atlas_bench`` on the project-local PostGIS
(or the server in BENCH_DATABASE_URL), fills it with synthetic published employers spread over
the region, and times each request through the app: median and worst of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
from sqlalchemy import create_engine, text

from app import create_app
from app.config import PROJECT_ROOT, local_database_url, parse_database_url
from app.extensions import db
from app.services.reference_data import sync_region, sync_taxonomies

FILL = """
INSERT INTO companies (slug, name, description, street, house_number, postal_code, town,
    municipality_ags, location, website, phone, email, contact_name, contact_email, employees,
    offers_apprenticeships, offers_internships, open_positions, languages, status, source,
    source_ref, version)
SELECT 'bench-' || i,
       (ARRAY['Bäckerei', 'Elektrotechnik', 'Malerbetrieb', 'Pflegedienst', 'IT-Service',
              'Spedition', 'Café', 'Steuerberatung'])[1 + i % 8] || ' ' || i,
       'Ein Betrieb in der Region, Nummer ' || i,
       'Hauptstraße', (1 + i % 200)::text, pc.code, m.name, m.ags,
       ST_SetSRID(ST_MakePoint(ST_X(pc.point) + (random() - 0.5) * 0.06,
                               ST_Y(pc.point) + (random() - 0.5) * 0.04), 4326),
       '', '', '', '', '',
       1 + floor(random() * random() * 400)::int,
       random() < 0.4, random() < 0.5, floor(random() * 4)::int,
       CASE WHEN random() < 0.2 THEN ARRAY['de', 'tr'] ELSE ARRAY['de'] END,
       CASE WHEN random() < 0.9 THEN 'published' ELSE 'pending' END,
       'bench', i::text, 1
FROM generate_series(1, :count) AS i
JOIN LATERAL (SELECT code, point, municipality_ags FROM postal_codes
              ORDER BY code OFFSET (i % (SELECT count(*) FROM postal_codes)) LIMIT 1) pc ON true
JOIN municipalities m ON m.ags = pc.municipality_ags
"""
LINKS = """
INSERT INTO company_sectors (company_id, division_code)
SELECT id, (SELECT array_agg(code ORDER BY code) FROM wz_divisions)[1 + id % 88] FROM companies;
INSERT INTO company_occupations (company_id, group_code)
SELECT id, (SELECT array_agg(code ORDER BY code) FROM kldb_groups)[1 + id % 37] FROM companies;
INSERT INTO company_family_criteria (company_id, criterion_key)
SELECT c.id, f.key FROM companies c JOIN family_criteria f ON random() < 0.25;
ANALYZE;
"""
#: Layer features for the proximity filters: one transit stop or childcare facility for every
#: 50 employers, spread over the region.
LAYERS = """
INSERT INTO layer_features (kind, name, properties, location, source)
SELECT (ARRAY['transit', 'childcare'])[1 + i % 2], 'Bench ' || i, '{}'::jsonb,
       ST_SetSRID(ST_MakePoint(6.8 + random() * 0.7, 51.45 + random() * 0.35), 4326), 'bench'
FROM generate_series(1, greatest(:count / 50, 10)) AS i;
ANALYZE layer_features;
"""
REQUESTS = [
    ("whole region, zoom 10 (clusters)", "/api/employers?zoom=10&bbox=6.75,51.43,7.55,51.82"),
    ("town view, zoom 14", "/api/employers?zoom=14&bbox=7.17,51.60,7.23,51.63"),
    ("street view, zoom 17 (points)", "/api/employers?zoom=17&bbox=7.195,51.612,7.200,51.615"),
    ("sector F, zoom 10", "/api/employers?sector=F&zoom=10&bbox=6.75,51.43,7.55,51.82"),
    ("text 'Bäckerei', zoom 10", "/api/employers?q=B%C3%A4ckerei&zoom=10"),
    ("near Marl 5 km, zoom 12", "/api/employers?near=Marl&radius_km=5&zoom=12"),
    ("family all-of two, zoom 10", "/api/employers?family=part_time,home_office&zoom=10"),
    (
        "five filters combined",
        "/api/employers?sector=F,C&size=micro,small&offers=jobs"
        "&language=tr&near=45657&radius_km=25&zoom=11",
    ),
    ("list page 1 by name", "/api/employers/list"),
    ("list page 50 by name", "/api/employers/list?page=50"),
    ("list by distance", "/api/employers/list?near=45657&radius_km=25"),
    ("list with text", "/api/employers/list?q=Elektro"),
    ("text with a typo 'Bäkerei' (fallback), zoom 10", "/api/employers?q=B%C3%A4kerei&zoom=10"),
    ("list with a typo, with suggestion", "/api/employers/list?q=Elektrotecknik"),
    ("list with a typo in one name", "/api/employers/list?q=B%C3%A4kerei%204711"),
    ("list, nothing similar", "/api/employers/list?q=xqzvwj"),
    ("transit stop within 500 m, zoom 10", "/api/employers?within=transit:500&zoom=10"),
    (
        "transit 500 m + childcare 1000 m + sector",
        "/api/employers?within=transit:500,childcare:1000&sector=F&zoom=10",
    ),
    ("list, transit stop within 300 m", "/api/employers/list?within=transit:300"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="employers to create")
    parser.add_argument("--repeat", type=int, default=5, help="runs per request")
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench database")
    args = parser.parse_args()
    if args.count < 1 or args.repeat < 1:
        parser.error("--count and --repeat must be at least 1")

    if os.environ.get("BENCH_DATABASE_URL"):
        url = parse_database_url(os.environ["BENCH_DATABASE_URL"])
    else:
        url = local_database_url(PROJECT_ROOT / "instance", "kmu_atlas_bench")
    if not args.reuse:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()

    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url.render_as_string(False)})
    with app.app_context():
        if not args.reuse:
            started = time.perf_counter()
            flask_migrate.upgrade()
            sync_taxonomies()
            sync_region(app.config["REGION"])
            db.session.execute(text(FILL), {"count": args.count})
            for statement in LINKS.strip().split(";\n"):
                db.session.execute(text(statement))
            for statement in LAYERS.strip().split(";\n"):
                db.session.execute(text(statement), {"count": args.count})
            db.session.commit()
            print(f"filled {args.count:,} employers in {time.perf_counter() - started:.1f} s")
        published = db.session.scalar(
            text("SELECT count(*) FROM companies WHERE status = 'published'")
        )
    print(f"{published:,} published employers; {args.repeat} runs per request\n")
    print(f"{'request':<40} {'median ms':>10} {'worst ms':>10} {'total':>9} {'features':>9}")
    client = app.test_client()
    for label, path in REQUESTS:
        times, body = [], None
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(
                    f"{path} answered {response.status_code}: {response.get_data(as_text=True)}"
                )
            body = response.get_json()
        size = len(body.get("features", body.get("items", [])))
        print(
            f"{label:<40} {statistics.median(times):>10.1f} {max(times):>10.1f} "
            f"{body['total']:>9,} {size:>9,}"
        )
    print_plan(app, "/api/employers?within=transit:500,childcare:1000")
    # A typo in one name (the synthetic names share eight words: for "Bäkerei" alone, one
    # employer in eight matches and a sequential scan is the better plan).
    print_plan(
        app, "/api/employers?q=B%C3%A4kerei%204711", "ix_companies_name_trigram", "name search"
    )


def print_plan(
    app,
    path: str,
    index: str = "ix_layer_features_location_geography",
    condition: str = "proximity",
) -> None:
    """The database's plan for the employers a request matches, and whether the ``condition``
    uses ``index`` (by default: the proximity condition, the layer features' geography)."""
    from app.blueprints.filtering import request_filter
    from app.features import pipeline
    from app.features.employers import EMPLOYERS
    from app.models import Company

    with app.test_request_context(path):
        query = pipeline.matching(EMPLOYERS, request_filter()).with_only_columns(Company.id)
        sql = query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        # As the driver's own SQL: the compiled "%%" of an operator such as pg_trgm's "%>>"
        # becomes "%" again.
        plan = db.session.connection().exec_driver_sql(f"EXPLAIN {sql}", ()).scalars().all()
    print(f"\nquery plan for {path}:")
    for line in plan:
        print(f"  {line}")
    backed = any(index in line for line in plan)
    print(f"{condition} condition index-backed: {'yes' if backed else 'NO'}")


if __name__ == "__main__":
    main()
