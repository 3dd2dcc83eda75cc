"""Clusters that would overlap on screen are merged (issue 11, "tap targets"): no two map items
(clusters or single employers) of a clustered answer lie closer than the marker size in pixels,
and the counts stay exact. Map data name the searched place so that the map can draw it."""

import itertools

import pytest

from app.features.pipeline import MARKER_PIXELS, _Group, merge_close, screen_pixels
from tests.fixtures import RE


def _items(data):
    for feature in data["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        yield lon, lat, feature["properties"].get("count", 1)


def _assert_apart(data, zoom):
    points = [screen_pixels(lon, lat, zoom) for lon, lat, _ in _items(data)]
    for (ax, ay), (bx, by) in itertools.combinations(points, 2):
        # Markers are squares of at most MARKER_PIXELS: apart along x or along y.
        assert abs(ax - bx) >= MARKER_PIXELS or abs(ay - by) >= MARKER_PIXELS - 1e-6


@pytest.fixture
def dense(make_company):
    """48 employers on a 0.004° grid around Recklinghausen (about 280 m apart): at zoom 11
    to 13 their grid cells' clusters would sit side by side."""
    for row in range(6):
        for column in range(8):
            make_company(
                f"Dicht {row}-{column}", lon=RE[0] + column * 0.004, lat=RE[1] + row * 0.004
            )
    make_company("Weit weg", lon=6.80, lat=51.75)
    return 49


@pytest.mark.parametrize("zoom", [9, 10, 11, 12, 13, 14])
def test_clusters_never_overlap_and_counts_stay_exact(app, dense, zoom):
    app.config["CLUSTER_THRESHOLD"] = 3
    data = app.test_client().get(f"/api/employers?zoom={zoom}").get_json()
    assert data["clustered"] is True
    assert data["total"] == dense
    assert sum(count for _, _, count in _items(data)) == dense
    for feature in data["features"]:
        if feature["properties"].get("cluster"):
            assert feature["properties"]["count"] >= 2
            west, south, east, north = feature["properties"]["bbox"]
            lon, lat = feature["geometry"]["coordinates"]
            assert west <= lon <= east and south <= lat <= north
    _assert_apart(data, zoom)


def test_clusters_within_a_view_are_apart_too(app, dense):
    app.config["CLUSTER_THRESHOLD"] = 3
    bbox = f"{RE[0] - 0.02},{RE[1] - 0.02},{RE[0] + 0.05},{RE[1] + 0.04}"
    data = app.test_client().get(f"/api/employers?zoom=12&bbox={bbox}").get_json()
    assert data["total"] == 48 and data["matched"] == 49
    assert sum(count for _, _, count in _items(data)) == 48
    _assert_apart(data, 12)


def test_merge_close_keeps_far_items_and_merges_near_ones():
    def group(lon, lat, n=1, first=1):
        return _Group(n, lon * n, lat * n, lon, lat, lon, lat, first)

    far = [group(7.0, 51.6, 3), group(7.5, 51.6, 2), group(7.0, 51.9, first=9)]
    assert sorted(g.n for g in merge_close(far, 10)) == [1, 2, 3]
    # Three items a few pixels apart at zoom 10 become one of count 6, at their mean centre.
    near = [group(7.0, 51.6, 3), group(7.001, 51.6, 2), group(7.0, 51.601, first=9)]
    (merged,) = merge_close(near, 10)
    assert merged.n == 6
    assert merged.lon == pytest.approx((7.0 * 3 + 7.001 * 2 + 7.0) / 6)
    assert (merged.west, merged.south, merged.east, merged.north) == (7.0, 51.6, 7.001, 51.601)


def test_map_data_name_the_searched_place(client, dense):
    data = client.get(f"/api/employers?near={RE[1]},{RE[0]}&radius_km=5").get_json()
    place = data["place"]
    assert place["radius_km"] == 5
    assert (place["lon"], place["lat"]) == pytest.approx(RE)
    assert place["label"]
    assert "place" not in client.get("/api/employers").get_json()


def test_overlapping_markers_merge_in_a_sparse_view_too(client, make_company):
    for offset in range(3):  # about 70 m apart: one spot at zoom 10
        make_company(f"Nah {offset}", lon=RE[0] + offset * 0.001, lat=RE[1])
    make_company("Fern", lon=RE[0] + 0.2, lat=RE[1])
    data = client.get("/api/employers?zoom=10").get_json()
    assert data["clustered"] is False and data["total"] == 4
    (cluster,) = [f for f in data["features"] if f["properties"].get("cluster")]
    assert cluster["properties"]["count"] == 3
    assert [f["properties"]["name"] for f in data["features"][1:]] == ["Fern"]
    _assert_apart(data, 10)
    # Zoomed in to street level, or asked without a zoom, every feature comes on its own.
    assert len(client.get("/api/employers?zoom=15").get_json()["features"]) == 4
    assert len(client.get("/api/employers").get_json()["features"]) == 4
