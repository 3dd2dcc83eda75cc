"""Bounded load test (issue 17): the app under gunicorn on loopback, locust as the users.

    .venv/bin/python scripts/load_test.py [--count 2000] [--reuse] [--duration 120]
        [--users 50] [--businesses 20] [--workers 4] [--output docs/load-test.md]

Builds (or, with --reuse, keeps) the database ``kmu_atlas_bench_loadtest_<count>`` with
scripts/bench_data.py (synthetic published employers and the region's reference data) and
starts gunicorn on a free 127.0.0.1 port with scripts/bench_load.py's helper (APP_ENV=production,
a random SECRET_KEY) and PROXY_COUNT=1: the rate limits stay on (production refuses to switch
them off) and count per client address, and every simulated user sends an address of its own
in X-Forwarded-For (``load_flows.client_address``), as real visitors behind the proxy have.

Phase 1: --users visitors (locust, scripts/load_locustfile.py) for --duration seconds, each
pausing 1 to 3 s between requests: the map's /api/employers with realistic viewports and
filters (6 of 10 requests), the list page with filters and pages (2), existing employers'
pages (2). Phase 2: --businesses businesses at once, each submitting the whole questionnaire
once under a unique name (scripts/load_flows.py); the run ends when the last has finished.

Checks: no failed request (and no error inside locust) in either phase, and every submitted
name stored exactly once. Prints p50/p95 and requests/s per endpoint and writes them with the
date, cores and command to --output. The exit code is 1 when a check fails. Locust runs as a
subprocess (its gevent patches stay out of this process) with a time limit, so the run always
stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_data import bench_url, build, database_exists, migrate
from bench_load import FILTERS, free_port, scenarios, start_server
from load_flows import is_loopback, stored
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "load_locustfile.py"
HOST = "127.0.0.1"


def plan(engine, prefix: str, businesses: int) -> dict:
    """What the users ask for: the map viewports × filters of scripts/bench_load.py (as the
    map page asks), list pages with filters, and up to 500 published employers' slugs."""
    map_paths = [
        s.path
        for s in scenarios(engine)
        if s.label.startswith("map ") and "all properties" not in s.label
    ]
    lists = ["/"] + [f"/?{urlencode(params)}" for _, params, _ in FILTERS if params]
    lists += ["/?page=2", "/?" + urlencode({"q": "Bäckerei"})]
    with engine.connect() as connection:
        slugs = connection.scalars(
            text(
                "SELECT slug FROM companies WHERE status = 'published' ORDER BY random() LIMIT 500"
            )
        ).all()
    if not slugs:
        raise SystemExit("the database holds no published employer")
    return {
        "map": map_paths,
        "list": lists,
        "detail": slugs,
        "prefix": prefix,
        "users": businesses,
    }


def run_locust(
    user_class: str,
    base: str,
    users: int,
    spawn_rate: int,
    seconds: int,
    plan_file: Path,
    out: Path,
) -> tuple[list[dict], int]:
    """Run locust headless with ``users`` of ``user_class`` (``spawn_rate`` started per
    second) for at most ``seconds``; its statistics (one entry per request name, as locust's
    JSON has them) and its exit code (not 0 after a failed request or an error)."""
    command = [
        str(ROOT / ".venv/bin/locust"),
        f"--locustfile={LOCUSTFILE}",
        "--headless",
        f"--users={users}",
        f"--spawn-rate={spawn_rate}",
        f"--run-time={seconds}s",
        f"--host={base}",
        f"--json-file={out}",
        "--stop-timeout=10",
        "--loglevel=WARNING",
        user_class,
    ]
    env = dict(os.environ, LOAD_TEST_PLAN=str(plan_file))
    # Our own locust on our own locustfile; --run-time bounds it, the timeout is a backstop.
    done = subprocess.run(command, cwd=ROOT, env=env, timeout=seconds + 120, check=False)  # noqa: S603
    entries = json.loads(Path(f"{out}.json").read_text(encoding="utf-8"))
    return entries, done.returncode


def percentile(times: dict[str, int], share: float) -> int:
    """The response time (ms, locust's rounded buckets) that ``share`` of the requests in the
    histogram ``times`` finished within."""
    total = sum(times.values())
    seen = 0
    for value in sorted(times, key=float):
        seen += times[value]
        if seen >= share * total:
            return round(float(value))
    return 0


def summary(entry: dict, seconds: float) -> dict:
    """Count, failures, p50, p95 and requests per second (over the phase's ``seconds``) of
    one statistics entry."""
    return {
        "name": entry["name"],
        "count": entry["num_requests"],
        "failed": entry["num_failures"],
        "p50": percentile(entry["response_times"], 0.5),
        "p95": percentile(entry["response_times"], 0.95),
        "rps": entry["num_requests"] / seconds,
    }


def aggregate(entries: list[dict]) -> dict:
    """All HTTP requests of a phase as one entry (not the questionnaire's whole walks)."""
    requests = [e for e in entries if e["method"] != "FLOW"]
    times: dict[str, int] = {}
    for entry in requests:
        for value, count in entry["response_times"].items():
            times[value] = times.get(value, 0) + count
    return {
        "name": "all requests",
        "num_requests": sum(e["num_requests"] for e in requests),
        "num_failures": sum(e["num_failures"] for e in requests),
        "response_times": times,
    }


def table(entries: list[dict]) -> list[str]:
    """A phase's statistics as a Markdown table, all requests last; requests per second over
    the phase's time (its first request's start to its last request)."""
    lines = [
        "| request | count | failed | p50 ms | p95 ms | req/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    if not entries:
        return [*lines, "| (no requests) | 0 | 0 | | | |"]
    seconds = max(
        max(e["last_request_timestamp"] for e in entries) - min(e["start_time"] for e in entries),
        1e-9,
    )
    rows = [*sorted(entries, key=lambda e: e["name"]), aggregate(entries)]
    for row in [summary(e, seconds) for e in rows]:
        lines.append(
            f"| {row['name']} | {row['count']} | {row['failed']} | {row['p50']} "
            f"| {row['p95']} | {row['rps']:.1f} |"
        )
    return lines


def failures(entries: list[dict]) -> int:
    """The failed requests of a phase."""
    return sum(e["num_failures"] for e in entries)


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="employers to create")
    parser.add_argument("--seed", type=float, default=0.42)
    parser.add_argument("--reuse", action="store_true", help="keep the database when built")
    parser.add_argument("--duration", type=int, default=120, help="phase 1 seconds")
    parser.add_argument("--users", type=int, default=50, help="phase 1 concurrent visitors")
    parser.add_argument("--businesses", type=int, default=20, help="phase 2 concurrent businesses")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn (sync) workers")
    parser.add_argument(
        "--host", default=HOST, help="the server's IPv4 address or name: loopback only"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "docs/load-test.md")
    args = parser.parse_args()
    if ":" in args.host or not is_loopback(f"http://{args.host}"):
        parser.error(f"refusing {args.host!r}: the load test runs on loopback only")
    if min(args.count, args.duration, args.users, args.businesses, args.workers) < 1:
        parser.error("--count, --duration, --users, --businesses and --workers must be at least 1")
    return args


def main() -> int:
    """Prepare, serve, load, check and report; 0 when every check held, else 1."""
    args = parse_args()
    database = f"kmu_atlas_bench_loadtest_{args.count}"
    url = bench_url(database)
    if args.reuse and database_exists(url):
        migrate(url, load_reference_data=False)
    else:
        url = build(database, args.count, args.seed)
    engine = create_engine(url)
    prefix = f"Lasttest {secrets.token_hex(4)}"
    port = free_port()
    base = f"http://{args.host}:{port}"
    server = start_server(
        url.render_as_string(False),
        port,
        args.workers,
        map_cache=True,
        extra_env={"PROXY_COUNT": "1"},
        host=args.host,
    )
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory() as work:
            plan_file = Path(work) / "plan.json"
            plan_file.write_text(json.dumps(plan(engine, prefix, args.businesses)), "utf-8")
            print(f"phase 1: {args.users} visitors for {args.duration} s", file=sys.stderr)
            browse, browse_rc = run_locust(
                "Visitor", base, args.users, 10, args.duration, plan_file, Path(work) / "browse"
            )
            print(f"phase 2: {args.businesses} businesses", file=sys.stderr)
            submit, submit_rc = run_locust(
                "Business",
                base,
                args.businesses,
                args.businesses,
                300,
                plan_file,
                Path(work) / "submit",
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()[0]
    names = [f"{prefix} {n:02d}" for n in range(1, args.businesses + 1)]
    with engine.connect() as connection:
        counts = stored(connection, names)
        published = connection.scalar(
            text("SELECT count(*) FROM companies WHERE status = 'published'")
        )
    engine.dispose()
    wrong = {name: n for name, n in counts.items() if n != 1}
    checks = [
        (
            f"phase 1: {failures(browse)} failed requests, locust's exit code {browse_rc}",
            not failures(browse) and browse_rc == 0,
        ),
        (
            f"phase 2: {failures(submit)} failed requests, locust's exit code {submit_rc}",
            not failures(submit) and submit_rc == 0,
        ),
        (
            f"{args.businesses - len(wrong)} of {args.businesses} questionnaires stored once"
            + (f" (not: {wrong})" if wrong else ""),
            not wrong,
        ),
    ]
    report = "\n".join(
        [
            "# Load test",
            "",
            "Written by `make load-test` (scripts/load_test.py); do not edit by hand. Issue 17's",
            "bounded load test: the app under gunicorn on loopback (APP_ENV=production, map cache",
            "on, rate limits on: each simulated user sends an address of its own from",
            "198.18.0.0/15 in X-Forwarded-For, PROXY_COUNT=1), locust as the client on the same",
            "machine (it competes for the same cores). Latencies in ms as locust measures them;",
            "requests per second over the phase's time.",
            "",
            f"- Date: {started}",
            f"- Machine: {os.cpu_count()} cores; gunicorn {args.workers} sync workers; load"
            f" average (1 min) {load_before:.1f} before, {load_after:.1f} after (what else"
            " runs on the machine competes for the same cores)",
            f"- Data: {published:,} published employers (`kmu_atlas_bench_loadtest_{args.count}`)",
            "- Command: `" + " ".join(["python", "scripts/load_test.py", *sys.argv[1:]]) + "`",
            "",
            f"## Phase 1: {args.users} visitors for {args.duration} s",
            "",
            "Each pauses 1 to 3 s between requests: the map's `/api/employers` (viewports from",
            "state to street zoom, with and without filters), the list page (filters, page 2, a",
            "text search) and existing employers' pages, 6 : 2 : 2.",
            "",
            *table(browse),
            "",
            f"## Phase 2: {args.businesses} businesses submit the questionnaire at once",
            "",
            "Each: the start page, start, every step with its CSRF token and the honeypot left",
            "empty, the final submit; redirects followed one by one (`page after …`: the page",
            "a POST leads to). `questionnaire: whole` is one business's whole walk (not in",
            "`all requests`).",
            "",
            *table(submit),
            "",
            "## Checks",
            "",
            *[f"- {'ok' if ok else 'FAILED'}: {what}" for what, ok in checks],
            "",
        ]
    )
    print(report)
    args.output.write_text(report, encoding="utf-8")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
