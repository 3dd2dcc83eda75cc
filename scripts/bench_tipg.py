"""Reference (b) of the benchmark: tipg (a dedicated OGC Features and vector-tile server, from
PyPI) serving the same published employers as Mapbox vector tiles.

Used by scripts/bench.py. A view ``bench_published_employers`` (id, name, point of the
published rows) is created in the benchmark database; tipg runs under uvicorn on loopback
with that database, and for each viewport a client fetches every WebMercatorQuad tile that
covers the view at its zoom, one after the other: the viewport's time is the sum over its
tiles (a browser would fetch up to six at once; its wait would be shorter, its work the
same). Only unfiltered views: the facet filters are joins tipg cannot express.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from bench_load import wait_until_up
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
VIEW = "bench_published_employers"


def create_view(engine) -> None:
    """The published employers as tipg's collection (a plain view on the same rows)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE OR REPLACE VIEW bench_published_employers AS SELECT id, name, location "
                "FROM companies WHERE status = 'published'"
            )
        )


def start(url, port: int) -> subprocess.Popen:
    """tipg under uvicorn against the database ``url`` (a SQLAlchemy URL on a socket)."""
    socket_dir = quote(url.query["host"], safe="")  # the socket directory as the host
    dsn = f"postgresql://{url.username}@{socket_dir}/{url.database}"
    env = dict(
        os.environ,
        DATABASE_URL=dsn,
        TIPG_DB_SCHEMAS='["public"]',
        TIPG_DB_TABLES=f'["public.{VIEW}"]',
        TIPG_MAX_FEATURES_PER_TILE="100000",
    )
    command = [
        str(ROOT / ".venv/bin/uvicorn"),
        "tipg.main:app",
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=2",
        "--log-level=warning",
    ]
    server = subprocess.Popen(command, env=env)  # noqa: S603 (our own venv's uvicorn)
    return wait_until_up(server, f"http://127.0.0.1:{port}/collections", "tipg")


def tiles_for(bbox: str, zoom: int) -> list[tuple[int, int, int]]:
    """The WebMercatorQuad tiles (z, x, y) that cover ``bbox`` (west,south,east,north)."""
    west, south, east, north = (float(v) for v in bbox.split(","))

    def tile(lon: float, lat: float) -> tuple[int, int]:
        n = 2**zoom
        x = int((lon + 180) / 360 * n)
        sin = math.sin(math.radians(lat))
        y = int((0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * n)
        return min(max(x, 0), n - 1), min(max(y, 0), n - 1)

    x0, y0 = tile(west, north)
    x1, y1 = tile(east, south)
    return [(zoom, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def fetch_view(base: str, tiles: list[tuple[int, int, int]]) -> tuple[float, int]:
    """Fetch every tile one after the other: the summed seconds and bytes."""
    seconds, size = 0.0, 0
    for z, x, y in tiles:
        started = time.perf_counter()
        url = f"{base}/collections/public.{VIEW}/tiles/WebMercatorQuad/{z}/{x}/{y}"
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (loopback)
            size += len(response.read())
        seconds += time.perf_counter() - started
    return seconds, size


def measure(base: str, label: str, bbox: str, zoom: int, requests: int) -> list[dict]:
    """The viewport at concurrency 1 and 8: p50/p95 of the summed tile times (ms)."""
    tiles = tiles_for(bbox, zoom)
    fetch_view(base, tiles)  # warm-up
    rows = []
    for level in (1, 8):
        with ThreadPoolExecutor(level) as pool:
            results = list(pool.map(lambda _: fetch_view(base, tiles), range(requests)))
        times = [seconds * 1000 for seconds, _ in results]
        quantiles = statistics.quantiles(times, n=20, method="inclusive")
        rows.append(
            {
                "label": label,
                "concurrency": level,
                "tiles": len(tiles),
                "bytes": results[0][1],
                "p50": statistics.median(times),
                "p95": quantiles[18],
            }
        )
        print(f"tipg {label} c{level}: p95 {quantiles[18]:.1f} ms", file=sys.stderr)
    return rows
