"""Browser timings for the benchmark: headless Chromium (Debian's) on the map page, and the
naive folium page (every employer inlined in a MarkerCluster) as the reference.

    .venv/bin/python scripts/bench_browser.py --url http://127.0.0.1:PORT [--runs 5]

Used by scripts/bench.py. Requests to any other origin (the tile server) are aborted, so the
figures are the app's own. Times are read in the page (``performance.now()``, whose origin is
the start of the navigation):

- first markers: from navigation to the first marker or cluster drawn by the map's script;
- filter redraw: from checking the size filter "micro" (a click in the page) to the map
  answered and drawn again (``#atlas[data-loads]`` grows and ``data-loaded`` is true).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
#: Viewport of the browser runs (a laptop; the phone's figures are alike).
VIEWPORT = {"width": 1366, "height": 800}

FIRST_MARKERS = """() => new Promise((resolve) => {
  const done = () => document.querySelector('.leaflet-marker-icon, .marker-cluster');
  const poll = () => done() || performance.now() > 300000
    ? resolve(done() ? performance.now() : NaN) : requestAnimationFrame(poll);
  poll();
})"""

REDRAW = """async (selector) => {
  const atlas = document.querySelector('#atlas');
  const before = Number(atlas.dataset.loads);
  const started = performance.now();
  document.querySelector(selector).click();
  return await new Promise((resolve) => {
    const poll = () => {
      if (Number(atlas.dataset.loads) > before && atlas.dataset.loaded === 'true') {
        requestAnimationFrame(() => resolve(performance.now() - started));
      } else requestAnimationFrame(poll);
    };
    poll();
  });
}"""


class QuietHandler(SimpleHTTPRequestHandler):
    """A static file server that does not log each request."""

    def log_message(self, format, *args):
        pass


def _browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


def _page(browser, origin: str):
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    page = context.new_page()
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort(),
    )
    return context, page


def map_timings(base_url: str, runs: int = 5) -> dict:
    """Median first-markers and filter-redraw times (ms) of the map page over ``runs``."""
    from playwright.sync_api import sync_playwright

    first, redraw = [], []
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        for _ in range(runs):
            context, page = _page(browser, base_url)
            page.goto(base_url + "/", wait_until="commit")
            first.append(page.evaluate(FIRST_MARKERS))
            page.wait_for_selector("#atlas[data-loaded=true]", timeout=120_000)
            redraw.append(page.evaluate(REDRAW, "input[name=size][value=micro]"))
            context.close()
        browser.close()
    return {"first_markers_ms": statistics.median(first), "redraw_ms": statistics.median(redraw)}


def folium_page(rows: list[tuple], centre: tuple[float, float], directory: Path) -> Path:
    """The usual folium map: every employer a Marker with a popup in one MarkerCluster, with
    Leaflet, Leaflet.markercluster and jQuery (folium's page script uses it) served from
    ``directory`` (no CDN here; Bootstrap and the icon fonts are left out)."""
    import folium
    from folium.plugins import MarkerCluster

    leaflet = ROOT / "node_modules/leaflet/dist"
    cluster = ROOT / "node_modules/leaflet.markercluster/dist"
    jquery = ROOT / "node_modules/jquery/dist/jquery.min.js"
    for source in (leaflet / "leaflet.js", leaflet / "leaflet.css", jquery):
        shutil.copy(source, directory)
    for name in ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"):
        shutil.copy(cluster / name, directory)
    folium.Map.default_js = [("leaflet", "leaflet.js"), ("jquery", "jquery.min.js")]
    folium.Map.default_css = [("leaflet_css", "leaflet.css")]
    MarkerCluster.default_js = [("markerclusterjs", "leaflet.markercluster.js")]
    MarkerCluster.default_css = [
        ("markerclustercss", "MarkerCluster.css"),
        ("markerclusterdefaultcss", "MarkerCluster.Default.css"),
    ]
    # A tile layer as usual (it gives the map its maxZoom, which MarkerCluster needs); its
    # tiles are not there (404), as the map page's are aborted.
    tiles = folium.TileLayer("tiles/{z}/{x}/{y}.png", attr="-", max_zoom=18)
    fmap = folium.Map(location=[centre[1], centre[0]], zoom_start=9, tiles=tiles)
    markers = MarkerCluster().add_to(fmap)
    for name, lon, lat in rows:
        folium.Marker([lat, lon], popup=folium.Popup(name)).add_to(markers)
    path = directory / "index.html"
    fmap.save(str(path))
    return path


def floor_page(centre: tuple[float, float], directory: Path) -> Path:
    """The least a Leaflet map with one marker needs: Leaflet's script and stylesheet and a
    page that puts one marker at ``centre`` (no data, no clusters, no other script). Its time
    to the marker is what no Leaflet page on this machine can beat."""
    lon, lat = centre
    path = directory / "floor.html"
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<link rel='stylesheet' href='leaflet.css'><script src='leaflet.js'></script></head>"
        "<body style='margin:0'><div id='map' style='height:100vh'></div><script>"
        f"L.marker([{lat:.6f}, {lon:.6f}]).addTo(L.map('map').setView([{lat:.6f}, {lon:.6f}], 9));"
        "</script></body></html>",
        encoding="utf-8",
    )
    return path


def folium_reference(rows: list[tuple], centre: tuple[float, float], runs: int = 3) -> dict:
    """HTML size and median time to first markers of the naive folium page for ``rows``
    (name, lon, lat), served from a local directory over HTTP; and the same time for
    :func:`floor_page` (``floor_ms``)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        path = folium_page(rows, centre, directory)
        floor_page(centre, directory)
        handler = partial(QuietHandler, directory=folder)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        times = {"index.html": [], "floor.html": []}
        try:
            with sync_playwright() as playwright:
                browser = _browser(playwright)
                for _ in range(runs):
                    for name, measured in times.items():
                        context, page = _page(browser, origin)
                        page.goto(f"{origin}/{name}", wait_until="commit", timeout=300_000)
                        measured.append(page.evaluate(FIRST_MARKERS))
                        context.close()
                browser.close()
        finally:
            server.shutdown()
        return {
            "html_bytes": path.stat().st_size,
            "first_markers_ms": statistics.median(times["index.html"]),
            "floor_ms": statistics.median(times["floor.html"]),
        }


def main() -> None:
    """Command line: the map page's timings at --url."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the app's base URL (loopback)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(map_timings(args.url.rstrip("/"), args.runs), file=sys.stdout)


if __name__ == "__main__":
    main()
