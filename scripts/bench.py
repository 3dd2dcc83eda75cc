"""The benchmark of issue 16, in one run: server load, browser timings and the folium
reference for each size, written to docs/benchmarks.md.

    .venv/bin/python scripts/bench.py [--counts 10000,100000] [--state-from 1000000]
        [--seconds 5] [--reuse] [--output docs/benchmarks.md]

For each count: build (or, with --reuse, keep when it is there and built)
``kmu_atlas_bench_load_<count>`` (counts from --state-from on over a state-sized area,
``…_state``), start gunicorn (2 workers) with the map
cache off and measure every scenario of scripts/bench_load.py at concurrency 1 and 8 (each map
total checked against an independent SQL count); then the unfiltered map views again with the
shared cache on; then the map page in headless Chromium (first markers, filter redraw). At the
smallest count the naive folium page (every published employer in a MarkerCluster) is built
and timed the same way. The slowest map request is run once more in-process and its slowest
statement explained (EXPLAIN (ANALYZE, BUFFERS)). Nothing here is part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from urllib.parse import parse_qs, urlsplit

import bench_browser
import bench_tipg
from bench_data import bench_url, build, database_exists, migrate
from bench_load import free_port, measure, scenarios, start_server, table
from sqlalchemy import create_engine, event, text

ROOT = Path(__file__).resolve().parent.parent
#: The targets of issue 16 (server side, concurrency 8, p95 in ms; browser in ms).
TARGETS = {100_000: 50, 1_000_000: 100}
BROWSER_TARGETS = {"first_markers_ms": 1500, "redraw_ms": 500}


def database_for(count: int, state_from: int) -> tuple[str, str]:
    """The benchmark database's name and area for ``count`` employers."""
    area = "state" if count >= state_from else "region"
    return f"kmu_atlas_bench_load_{count}" + ("_state" if area == "state" else ""), area


def slowest_statement(url, path: str) -> tuple[float, str, str]:
    """Run ``path`` in-process against ``url``; the slowest SQL statement's milliseconds, its
    text and its EXPLAIN (ANALYZE, BUFFERS)."""
    from app import create_app
    from app.extensions import db

    app = create_app(
        {"APP_ENV": "testing", "DATABASE_URL": url.render_as_string(False), "MAP_CACHE": False}
    )
    timings: list[tuple[float, str, object]] = []
    with app.app_context():

        @event.listens_for(db.engine, "before_cursor_execute")
        def started(conn, cursor, statement, parameters, context, executemany):
            conn.info["bench_started"] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def finished(conn, cursor, statement, parameters, context, executemany):
            elapsed = time.perf_counter() - conn.info.pop("bench_started")
            timings.append((elapsed * 1000, statement, parameters))

        client = app.test_client()
        client.get(path)  # warm: plans and caches
        timings.clear()
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        event.remove(db.engine, "before_cursor_execute", started)
        event.remove(db.engine, "after_cursor_execute", finished)
        millis, statement, parameters = max(timings, key=lambda item: item[0])
        with db.engine.connect() as connection:
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).scalars()
            explained = "\n".join(plan)
        db.engine.dispose()
    return millis, statement, explained


def folium_rows(engine, limit: int) -> tuple[list[tuple], tuple[float, float]]:
    """(name, lon, lat) of up to ``limit`` published employers, and their mean position."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT name, ST_X(location), ST_Y(location) FROM companies "
                "WHERE status = 'published' ORDER BY id LIMIT :limit"
            ),
            {"limit": limit},
        ).all()
    centre = (statistics.fmean(r[1] for r in rows), statistics.fmean(r[2] for r in rows))
    return [tuple(r) for r in rows], centre


def run_count(count: int, args) -> dict:
    """Everything measured for one count."""
    database, area = database_for(count, args.state_from)
    url = bench_url(database)
    if args.reuse and database_exists(url):
        migrate(url, load_reference_data=False)  # built before the latest migration
    else:
        url = build(database, count, args.seed, area)
    engine = create_engine(url)
    with engine.connect() as connection:
        published = connection.scalar(
            text("SELECT count(*) FROM companies WHERE status = 'published'")
        )
    found = scenarios(engine)
    result = {"count": count, "area": area, "published": published}
    for cached in (False, True):
        port = free_port()
        server = start_server(url.render_as_string(False), port, args.workers, cached)
        base = f"http://127.0.0.1:{port}"
        rows = []
        try:
            for scenario in found:
                if cached and not scenario.label.endswith("no filter"):
                    continue
                for level in (1, 8) if not cached else (8,):
                    row = measure(base, scenario, level, args.seconds, args.workers, engine)
                    if cached:
                        row.label += " (cache)"
                    rows.append(row)
                    print(f"{count:,} {row.label} c{level}: p95 {row.p95:.1f} ms", file=sys.stderr)
            if not cached:
                result["browser"] = bench_browser.map_timings(base, args.runs)
                print(f"{count:,} browser: {result['browser']}", file=sys.stderr)
        finally:
            server.terminate()
            server.wait(timeout=30)
        result["cached" if cached else "rows"] = rows
    result["tipg"] = tipg_reference(url, engine, found, args.reference_requests)
    maps = [r for r in result["rows"] if r.label.startswith("map") and r.concurrency == 1]
    slowest = max(maps, key=lambda r: r.p50)
    path = next(s.path for s in found if s.label == slowest.label)
    result["slowest"] = (slowest.label, *slowest_statement(url, path))
    if count == min(args.counts) and count <= 10_000:
        rows, centre = folium_rows(engine, 10_000)
        result["folium"] = {**bench_browser.folium_reference(rows, centre), "markers": len(rows)}
        print(f"{count:,} folium: {result['folium']}", file=sys.stderr)
    engine.dispose()
    return result


def tipg_reference(url, engine, found, requests: int) -> list[dict]:
    """Reference (b): tipg's vector tiles for the unfiltered map viewports."""
    bench_tipg.create_view(engine)
    port = free_port()
    server = bench_tipg.start(url, port)
    rows = []
    try:
        for scenario in found:
            if not (scenario.label.startswith("map") and scenario.label.endswith("no filter")):
                continue
            query = parse_qs(urlsplit(scenario.path).query)
            rows += bench_tipg.measure(
                f"http://127.0.0.1:{port}",
                scenario.label,
                query["bbox"][0],
                int(query["zoom"][0]),
                requests,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def tipg_table(result: dict) -> list[str]:
    """Ours against tipg per unfiltered viewport (p95, ms)."""
    ours = {(r.label, r.concurrency): r for r in result["rows"]}
    lines = [
        "**Reference (b): tipg** (vector tiles, WebMercatorQuad, the same published rows; the",
        "sum over the tiles that cover the view, fetched one after the other):",
        "",
        "| view | conc. | tiles | tile bytes | tipg p50 | tipg p95 | ours p95 | ours / tipg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["tipg"]:
        mine = ours[(row["label"], row["concurrency"])]
        lines.append(
            f"| {row['label']} | {row['concurrency']} | {row['tiles']} | {row['bytes']:,} "
            f"| {row['p50']:.1f} | {row['p95']:.1f} | {mine.p95:.1f} "
            f"| {mine.p95 / row['p95']:.2f} |"
        )
    return [*lines, ""]


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(results: list[dict], args, *, header: bool = True) -> str:
    """docs/benchmarks.md (without its header: sections to append)."""
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (scripts/bench.py); do not edit by hand. Issue 16's",
        "benchmark: synthetic published employers (scripts/bench_data.py, seeded), the app under",
        f"gunicorn ({args.workers} sync workers) on loopback, wrk as the load client on the same",
        "machine (two threads; it competes for the same cores), headless Chromium for the browser.",
        "",
        f"- Date: {now}",
        f"- Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}",
        f"- Each row: a second of warm-up, then wrk for {args.seconds:g} s from as many"
        f" connections as `conc.` says ({args.reference_requests} requests per tipg row, from"
        " Python); p50/p95 in ms; the",
        "  app does not compress yet (issue 17): `gzip bytes` is what gzip level 6 would send.",
        "- `count check`: the map answer's `total` against an independent SQL count of the",
        "  same filter and bbox, and its clusters and points adding up to it.",
        "- The bounded load test (50 visitors, 20 questionnaires at once; `make load-test`) writes",
        "  its own file, [load-test.md](load-test.md).",
        "",
    ]
    if not header:
        lines = [f"Appended {now}.", ""]
    for result in results:
        lines += [
            f"## {result['count']:,} employers ({result['area']}: "
            f"{result['published']:,} published)",
            "",
            table(result["rows"] + result["cached"], "Server, map cache off (and on: `(cache)`)")
            .rstrip("\n")
            .replace("Server, map cache off", "Server, map cache off", 1),
            "",
        ]
        target = TARGETS.get(result["count"])
        if target:
            # The map page's requests (the public API's full answer is shown for comparison).
            views = [
                r
                for r in result["rows"]
                if r.label.startswith("map")
                and r.concurrency == 8
                and not r.label.endswith("all properties")
            ]
            over = [r for r in views if r.p95 > target]
            listed = ", ".join(f"{r.label} {r.p95:.0f} ms" for r in over)
            lines += [
                f"Target: every map view × filter ≤ {target} ms p95 at concurrency 8: "
                f"{verdict(not over)}"
                + (f" ({len(over)} of {len(views)} over: {listed})." if over else "."),
                "",
            ]
        browser = result["browser"]
        lines += [
            "Browser (Chromium, 1366×800, median of "
            f"{args.runs}): first markers {browser['first_markers_ms']:.0f} ms, filter "
            f"redraw {browser['redraw_ms']:.0f} ms.",
            "",
        ]
        if result["count"] == 100_000:
            lines += [
                "Targets at 100,000: first markers ≤ 1,500 ms "
                f"({verdict(browser['first_markers_ms'] <= 1500)}), redraw ≤ 500 ms "
                f"({verdict(browser['redraw_ms'] <= 500)}).",
                "",
            ]
        if "folium" in result:
            reference = result["folium"]
            ratio = reference["first_markers_ms"] / browser["first_markers_ms"]
            lines += [
                f"**Reference (a): the naive folium page** with all {reference['markers']:,} "
                "employers inlined in a MarkerCluster (folium "
                f"{_folium_version()}): HTML {reference['html_bytes']:,} bytes, first markers "
                f"{reference['first_markers_ms']:.0f} ms: the map page is {ratio:.1f}× faster "
                f"to first markers (target ≥ 10×: {verdict(ratio >= 10)}). The floor: a page "
                f"with only Leaflet and one marker, served the same way, shows it after "
                f"{reference['floor_ms']:.0f} ms (folium's time ÷ 10 would be "
                f"{reference['first_markers_ms'] / 10:.0f} ms).",
                "",
            ]
        lines += tipg_table(result)
        label, millis, statement, plan = result["slowest"]
        lines += [
            f"Slowest map request at concurrency 1: {label}. Its slowest statement "
            f"({millis:.1f} ms in-process):",
            "",
            "```sql",
            statement.strip(),
            "```",
            "",
            "```",
            plan,
            "```",
            "",
        ]
    return "\n".join(lines)


def _folium_version() -> str:
    import folium

    return folium.__version__


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--state-from", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=5, help="load per row and level (wrk)")
    parser.add_argument(
        "--reference-requests",
        type=int,
        default=10,
        help="per tipg view and level (tipg takes seconds per view at 1,000,000)",
    )
    parser.add_argument("--runs", type=int, default=5, help="browser runs per count")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=float, default=0.42)
    parser.add_argument("--reuse", action="store_true", help="keep databases that are built")
    parser.add_argument("--output", type=Path, default=ROOT / "docs/benchmarks.md")
    parser.add_argument(
        "--append", action="store_true", help="add the counts' sections to --output"
    )
    args = parser.parse_args()
    try:
        args.counts = [int(value) for value in args.counts.split(",")]
    except ValueError:
        parser.error("--counts takes whole numbers separated by commas, e.g. 10000,100000")
    if min(args.counts) < 1 or args.seconds < 1 or args.reference_requests < 2:
        parser.error("counts must be at least 1, --seconds 1 and --reference-requests 2")
    results = [run_count(count, args) for count in args.counts]
    if args.append and args.output.exists():
        existing = args.output.read_text(encoding="utf-8").rstrip("\n")
        text_out = existing + "\n\n" + report(results, args, header=False)
    else:
        text_out = report(results, args)
    args.output.write_text(text_out, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
