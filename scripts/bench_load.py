"""Server load benchmark: the app under gunicorn (2 workers) on loopback, a bounded load client.

    .venv/bin/python scripts/bench_load.py --count 10000 [--reuse] [--seconds 5]
        [--concurrency 1,8] [--output results.md]

Builds (or, with --reuse, keeps) the database ``kmu_atlas_bench_load_<count>`` with
scripts/bench_data.py, starts gunicorn on a free 127.0.0.1 port against it and loads each
request for --seconds per concurrency level (after a second of warm-up) with wrk (Debian's
package; ``make bench`` installs it), from as many connections as the level says. wrk is a
compiled client on two threads: a Python client's threads took a noticeable part of the two
cores the server shares and added their waits for the interpreter to the latencies. Prints a
Markdown table: p50/p95 latency (wrk's), requests/s, response bytes raw and gzip-compressed
(the app does not compress; gzip level 6 is applied here), features per response and the
database's share of the time. Checks every map response's ``total`` against an independent
SQL count, and that its clusters add up to it.

The app runs with APP_ENV=production (no debug, the production error handling and headers),
a random SECRET_KEY, BASE_URL on the loopback port and API_RATE_LIMIT raised so that the
limiter does not answer 429 under load.

The database's share: pg_stat_statements is not preloaded on the project-local cluster, a
SQLAlchemy event hook cannot see into the gunicorn workers, and ``pg_stat_database.active_time``
reaches the statistics up to 10 s late. So a thread samples ``pg_stat_activity`` every
:data:`SAMPLE_SECONDS` during a scenario and counts the database's backends that are executing
a statement; the share is that mean times the wall time, divided by the time the workers were
busy: the sum of the request latencies, but at most workers × wall time (with more clients than
sync workers, the rest of a latency is queueing). An estimate: the sampler is a Python thread
that competes for the cores.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_data import bench_url, build, database_exists, migrate
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.02
#: The screen the viewports are computed for (pixels).
SCREEN = (1280, 800)
#: Viewports of the issue: zoom and the centre's role.
VIEWPORTS = (("state z6", 6), ("region z9", 9), ("town z12", 12), ("street z16", 16))
#: Filters: label, query parameters and the SQL conditions that select the same employers.
FILTERS = (
    ("no filter", {}, []),
    (
        "sector F",
        {"sector": "F"},
        [
            "EXISTS (SELECT 1 FROM company_sectors s JOIN wz_divisions d ON d.code = "
            "s.division_code WHERE s.company_id = c.id AND d.section_code = 'F')"
        ],
    ),
    (
        "4 filters",
        {"sector": "F", "size": "micro,small", "offers": "jobs", "family": "part_time"},
        [
            "EXISTS (SELECT 1 FROM company_sectors s JOIN wz_divisions d ON d.code = "
            "s.division_code WHERE s.company_id = c.id AND d.section_code = 'F')",
            "c.size_class IN ('micro', 'small')",
            "c.open_positions > 0",
            "EXISTS (SELECT 1 FROM company_family_criteria f WHERE f.company_id = c.id "
            "AND f.criterion_key = 'part_time')",
        ],
    ),
    (
        "transit 500 m",
        {"within": "transit:500"},
        [
            "EXISTS (SELECT 1 FROM layer_features l WHERE l.kind = 'transit' AND "
            "(l.expires_on IS NULL OR l.expires_on >= current_date) AND "
            "ST_DWithin(l.location::geography, c.location::geography, 500))"
        ],
    ),
)


@dataclass
class Scenario:
    """One request to measure; ``sql`` (a count) when its ``total`` must be checked."""

    label: str
    path: str
    sql: str | None = None


@dataclass
class Result:
    """The measurements of one scenario at one concurrency."""

    label: str
    concurrency: int
    p50: float
    p95: float
    rps: float
    raw: int
    gz: int
    features: int | str
    db_share: float | None
    check: str


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    database_url: str,
    port: int,
    workers: int,
    map_cache: bool = False,
    extra_env: dict[str, str] | None = None,
    host: str = "127.0.0.1",
) -> subprocess.Popen:
    """Start gunicorn with the app (its environment plus ``extra_env``) on ``host`` (an IPv4
    address or name) and wait until /healthz answers."""
    env = dict(
        os.environ,
        MAP_CACHE="true" if map_cache else "false",
        APP_ENV="production",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        BASE_URL=f"http://{host}:{port}",
        API_RATE_LIMIT="1000000 per minute",
        # (limits far beyond reach: per-process counting changes nothing here)
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        **(extra_env or {}),
    )
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        f"--workers={workers}",
        f"--bind={host}:{port}",
        "--log-level=warning",
        "app.wsgi:create_wsgi_app()",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own gunicorn)
    wait_until_up(server, f"http://{host}:{port}/healthz", "gunicorn")
    return wait_for_bitmaps(server, f"http://{host}:{port}/healthz")


#: /healthz must say the map's tag bitmaps are loaded this many times in a row before the
#: measurements begin (each worker loads its own; which one answers is up to the kernel).
BITMAPS_READY_ANSWERS = 20


def wait_for_bitmaps(server: subprocess.Popen, url: str) -> subprocess.Popen:
    """Wait (at most 5 minutes) until every worker has loaded its tag bitmaps (until then
    the database answers filters of several tags: the figures would mix both paths)."""
    deadline = time.monotonic() + 300
    ready = 0
    while ready < BITMAPS_READY_ANSWERS:
        if time.monotonic() > deadline:
            server.terminate()
            raise SystemExit("the workers did not load their tag bitmaps within 5 minutes")
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            state = json.load(response).get("map_bitmaps")
        ready = ready + 1 if state in ("loaded", "off") else 0
        if not ready:
            time.sleep(0.5)
    return server


def wait_until_up(server: subprocess.Popen, url: str, name: str) -> subprocess.Popen:
    """Wait (at most 60 s) until ``url`` answers; stop ``server`` and exit if it does not."""
    deadline = time.monotonic() + 60
    last = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"{name} exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 (loopback)
            return server
        except urllib.error.HTTPError as error:  # up, but not ready (e.g. migrations pending)
            last = f"{error.code}: {error.read(500).decode(errors='replace')}"
        except OSError as error:
            last = str(error)
        time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"{name} did not answer {url} within 60 s (last: {last})")


def bbox_for(lon: float, lat: float, zoom: int) -> str:
    """The bbox a SCREEN-sized map shows at ``zoom`` around (lon, lat), Web Mercator-ish."""
    import math

    width = SCREEN[0] * 360 / (256 * 2**zoom)
    height = SCREEN[1] * 360 / (256 * 2**zoom) * math.cos(math.radians(lat))
    return ",".join(
        f"{value:.5f}"
        for value in (lon - width / 2, lat - height / 2, lon + width / 2, lat + height / 2)
    )


def sql_count(conditions: list[str], bbox: str | None = None) -> str:
    """A SQL count of published employers under ``conditions`` (and in ``bbox``)."""
    where = ["c.status = 'published'", *conditions]
    if bbox:
        where.append(f"ST_Intersects(c.location, ST_MakeEnvelope({bbox}, 4326))")
    # Fixed conditions and a bbox of formatted floats: nothing from outside.
    return "SELECT count(*) FROM companies c WHERE " + " AND ".join(where)  # noqa: S608


def radius_condition(postal_code: str, metres: int) -> str:
    """Within ``metres`` of the centre of ``postal_code`` (digits only)."""
    if not postal_code.isdigit():
        raise ValueError(f"not a postal code: {postal_code!r}")
    centre = f"SELECT point::geography FROM postal_codes WHERE code = '{postal_code}'"  # noqa: S608
    return f"ST_DWithin(c.location::geography, ({centre}), {metres})"


def scenarios(engine) -> list[Scenario]:
    """The map viewports × filters as the map page asks for them (``properties=marker``),
    the street view's full answer, one employer's properties (a popup), then the list, a
    radius search, a text search and an employer page."""
    with engine.connect() as connection:
        region = connection.execute(
            text("SELECT avg(ST_X(location)), avg(ST_Y(location)) FROM companies")
        ).one()
        # The town and street views look at the densest place: the centre of the finest
        # stored map cell with the most employers (the mean of a postal code's employers
        # would lie between the towns of a state-sized area, where there are none).
        lon, lat = connection.execute(
            text(
                "SELECT sx / n, sy / n FROM map_cells WHERE band = 13 AND tag = '*' "
                "ORDER BY n DESC, cx, cy LIMIT 1"
            )
        ).one()
        postal_code = connection.scalar(
            text(
                "SELECT postal_code FROM companies WHERE status = 'published' "
                "ORDER BY location <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 1"
            ),
            {"lon": lon, "lat": lat},
        )
        town = (postal_code, lon, lat)
        first_id, slug = connection.execute(
            text("SELECT id, slug FROM companies WHERE status = 'published' ORDER BY id LIMIT 1")
        ).one()
    result = []
    for view, zoom in VIEWPORTS:
        lon, lat = (region[0], region[1]) if zoom < 12 else (town[1], town[2])
        bbox = bbox_for(lon, lat, zoom)
        for label, params, conditions in FILTERS:
            # As the map page asks: only what its markers need (a popup fetches the rest).
            query = urlencode({**params, "bbox": bbox, "zoom": zoom, "properties": "marker"})
            result.append(
                Scenario(
                    f"map {view}, {label}", f"/api/employers?{query}", sql_count(conditions, bbox)
                )
            )
        if zoom == max(z for _, z in VIEWPORTS):  # the public API's full answer, for comparison
            query = urlencode({"bbox": bbox, "zoom": zoom})
            result.append(
                Scenario(
                    f"map {view}, no filter, all properties",
                    f"/api/employers?{query}",
                    sql_count([], bbox),
                )
            )
    result += [
        Scenario("popup: one employer's properties", f"/api/employers/{first_id}"),
        Scenario("list, page 1", "/api/employers/list", sql_count([])),
        Scenario(
            f"radius {town[0]} 10 km, z12",
            f"/api/employers?near={town[0]}&radius_km=10&zoom=12&properties=marker",
            sql_count([radius_condition(town[0], 10_000)]),
        ),
        Scenario("text 'Bäckerei', list", "/api/employers/list?" + urlencode({"q": "Bäckerei"})),
        Scenario("employer page (HTML)", f"/arbeitgeber/{slug}"),
    ]
    return result


def fetch(url: str) -> tuple[float, bytes]:
    """GET ``url``; the seconds it took and the body. Raises on a status other than 200."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (http only)
        body = response.read()
    return time.perf_counter() - started, body


class ActivitySampler(threading.Thread):
    """Counts, every :data:`SAMPLE_SECONDS`, the benchmark database's backends that are
    executing a statement (other than its own)."""

    QUERY = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND state = 'active' AND pid <> pg_backend_pid()"
    )

    def __init__(self, engine):
        super().__init__(daemon=True)
        self.engine = engine
        self.samples: list[int] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            while not self.stopped.is_set():
                self.samples.append(connection.scalar(self.QUERY))
                self.stopped.wait(SAMPLE_SECONDS)

    def mean(self) -> float | None:
        """Stop sampling; the mean number of active backends (None without samples)."""
        self.stopped.set()
        self.join()
        return statistics.fmean(self.samples) if self.samples else None


def features_of(body: bytes) -> tuple[int | str, dict | None]:
    """The number of features (or list items) in a JSON response, and the JSON."""
    try:
        data = json.loads(body)
    except ValueError:
        return "-", None
    return len(data.get("features", data.get("items", []))), data


def check(scenario: Scenario, data: dict | None, engine) -> str:
    """Compare the response's total with the SQL count and the clusters' sum."""
    if scenario.sql is None or data is None:
        return "-"
    with engine.connect() as connection:
        expected = connection.scalar(text(scenario.sql))
    problems = []
    if data.get("total") != expected:
        problems.append(f"total {data.get('total')} != SQL {expected}")
    if "features" in data and not data.get("limited"):
        summed = sum(f["properties"].get("count", 1) for f in data["features"])
        if summed != data["total"]:
            problems.append(f"features sum {summed} != total {data['total']}")
    return "; ".join(problems) or f"ok ({expected:,})"


#: wrk's report of a run, as one line its ``done`` hook writes (latencies in microseconds).
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK_REPORT %.3f %.3f %.3f %d %d %d\\n",
    latency:percentile(50), latency:percentile(95), latency.mean, summary.requests,
    summary.duration, errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
"""


def wrk(url: str, concurrency: int, seconds: float) -> dict:
    """Load ``url`` with wrk (a compiled client: its work takes little of the cores the server
    shares) from ``concurrency`` connections for ``seconds``; latencies in ms. Raises when a
    request failed or answered other than 2xx/3xx."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    try:
        command = [
            "wrk",
            f"--threads={min(concurrency, 2)}",
            f"--connections={concurrency}",
            f"--duration={max(1, round(seconds))}s",
            "--timeout=30s",
            f"--script={script.name}",
            url,
        ]
        # A fixed command: wrk from PATH and a loopback URL this script built.
        out = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, check=True, timeout=120
        )
    finally:
        os.unlink(script.name)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK_REPORT "))
    p50, p95, mean, requests, duration, errors = (float(v) for v in line.split()[1:])
    if errors or requests < 1:
        raise RuntimeError(f"wrk: {int(errors)} failed requests of {int(requests)} for {url}")
    return {
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "mean": mean / 1000,
        "requests": int(requests),
        "seconds": duration / 1e6,
    }


def measure(
    base: str, scenario: Scenario, concurrency: int, seconds: float, workers: int, engine
) -> Result:
    """Load ``scenario`` for ``seconds`` from ``concurrency`` connections (wrk)."""
    url = base + scenario.path
    _, body = fetch(url)
    wrk(url, max(concurrency, workers), 1)  # every worker warm: its caches, its statements
    sampler = ActivitySampler(engine)
    sampler.start()
    run = wrk(url, concurrency, seconds)
    active = sampler.mean()
    count, data = features_of(body)
    return Result(
        scenario.label,
        concurrency,
        run["p50"],
        run["p95"],
        run["requests"] / run["seconds"],
        len(body),
        len(gzip.compress(body, 6)),
        count,
        share(active, run["seconds"], run["requests"] * run["mean"] / 1000, workers),
        check(scenario, data, engine) if concurrency == 1 else "",
    )


def share(active: float | None, wall: float, latencies: float, workers: int) -> float | None:
    """The database's share of the workers' busy time (see the module's description)."""
    if active is None:
        return None
    return min(1.0, active * wall / min(latencies, workers * wall))


def table(results: list[Result], header: str) -> str:
    """The results as a Markdown table."""
    lines = [
        header,
        "",
        "| request | conc. | p50 ms | p95 ms | req/s | bytes | gzip bytes | features "
        "| DB share | count check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        share = f"{r.db_share:.0%}" if r.db_share is not None else "n/a"
        lines.append(
            f"| {r.label} | {r.concurrency} | {r.p50:.1f} | {r.p95:.1f} | {r.rps:.1f} "
            f"| {r.raw:,} | {r.gz:,} | {r.features} | {share} | {r.check} |"
        )
    return "\n".join(lines) + "\n"


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="employers to create")
    parser.add_argument("--seed", type=float, default=0.42)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database when it is built (else build it)"
    )
    parser.add_argument(
        "--map-cache",
        action="store_true",
        help="serve unfiltered map views from the shared cache (off: every request computed)",
    )
    parser.add_argument(
        "--area", choices=("region", "state"), default="region", help="spread of the employers"
    )
    parser.add_argument(
        "--seconds", type=float, default=5, help="load per scenario and level (wrk)"
    )
    parser.add_argument("--concurrency", default="1,8", help="comma-separated levels")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--only", default="", help="only scenarios whose label has this text")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    if args.count < 1 or args.seconds < 1:
        parser.error("--count must be at least 1 and --seconds at least 1")
    return args


def main() -> None:
    """Build or reuse the database, start gunicorn, measure, print the table."""
    args = parse_args()
    database = f"kmu_atlas_bench_load_{args.count}" + ("_state" if args.area == "state" else "")
    url = bench_url(database)
    if args.reuse and database_exists(url):
        migrate(url, load_reference_data=False)  # built before the latest migration
    else:
        url = build(database, args.count, args.seed, args.area)
    engine = create_engine(url)
    with engine.connect() as connection:
        published = connection.scalar(
            text("SELECT count(*) FROM companies WHERE status = 'published'")
        )
    port = free_port()
    server = start_server(url.render_as_string(False), port, args.workers, args.map_cache)
    results = []
    try:
        levels = [int(level) for level in args.concurrency.split(",")]
        for scenario in scenarios(engine):
            if args.only not in scenario.label:
                continue
            for level in levels:
                result = measure(
                    f"http://127.0.0.1:{port}", scenario, level, args.seconds, args.workers, engine
                )
                results.append(result)
                print(f"{result.label} c{level}: p95 {result.p95:.1f} ms", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
        engine.dispose()
    header = (
        f"{published:,} published employers ({args.count:,} generated, {args.area}), "
        f"{os.cpu_count()} cores, "
        f"gunicorn {args.workers} workers, wrk for {args.seconds:g} s per row, "
        f"map cache {'on' if args.map_cache else 'off'}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    output = table(results, header)
    print(output)
    if args.output:
        args.output.write_text(output, encoding="utf-8")


if __name__ == "__main__":
    main()
