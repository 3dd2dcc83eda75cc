"""A tag bitmaps' snapshot (:class:`app.features.tag_bitmaps.Snapshot`) finds exactly the
points a view holds, also where the view's edge runs along or through its grid's cells, and
groups them as the map index does. Compared with a plain test of every point."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.features import tag_bitmaps
from app.features.map_index import cells_per_world, latitude, longitude, mercator_x, mercator_y

GRID = cells_per_world(tag_bitmaps.GRID_ZOOM)
rng = np.random.default_rng(16)


def _points():
    """600 points around Recklinghausen: scattered, on grid lines (in both directions) and
    in clumps of equal positions; ids with gaps."""
    x = list(rng.uniform(7.0, 7.4, 400))
    y = list(rng.uniform(51.5, 51.7, 400))
    column = math.floor(mercator_x(7.2) * GRID)
    row = math.floor(mercator_y(51.6) * GRID)
    for k in range(100):  # on the grid's lines
        x.append(longitude((column + k % 10) / GRID))
        y.append(latitude((row + k // 10) / GRID))
    for k in range(100):  # ten positions, ten employers each
        x.append(7.1 + (k % 10) * 0.01)
        y.append(51.55 + (k % 10) * 0.005)
    ids = np.arange(len(x)) * 3 + 5
    return ids, np.array(x), np.array(y)


IDS, X, Y = _points()
MX = np.array([mercator_x(value) for value in X])
MY = np.array([mercator_y(value) for value in Y])
TAGS = {
    "s:F": IDS[rng.random(len(IDS)) < 0.4],
    "z:micro": IDS[rng.random(len(IDS)) < 0.5],
    "f:part_time": IDS[::7],
}
#: Slugs and names, some of them not ASCII (their UTF-8 lengths differ from their lengths).
SLUGS = [f"arbeitgeber-{i}" for i in IDS.tolist()]
NAMES = [f"Bäckerei Nr. {i}" if i % 2 else f"Şirket {i} ✓" for i in IDS.tolist()]


def _labels(slugs: list[str], names: list[str]) -> tag_bitmaps.Labels:
    return tag_bitmaps.Labels.of(
        [len(s.encode()) for s in slugs],
        [len(n.encode()) for n in names],
        "".join(s + n for s, n in zip(slugs, names, strict=True)).encode(),
    )


SNAPSHOT = tag_bitmaps.build(
    1, IDS, X, Y, MX, MY, ((tag, list(ids)) for tag, ids in TAGS.items()), _labels(SLUGS, NAMES)
)

GROUPS = (
    [],
    [("any", ["s:F"])],
    [("any", ["s:F", "f:part_time"]), ("any", ["z:micro"])],
    [("all", ["z:micro", "f:part_time"])],
    [("any", ["unknown"])],
)


def _expected(groups, bbox) -> np.ndarray:
    """The ids in ``bbox`` (edge included) that meet ``groups``, by a plain test."""
    keep = np.ones(len(IDS), dtype=bool)
    for kind, tags in groups:
        member = [np.isin(IDS, TAGS.get(tag, [])) for tag in tags]
        keep &= np.logical_or.reduce(member) if kind == "any" else np.logical_and.reduce(member)
    if bbox is not None:
        west, south, east, north = bbox
        x, y = X, Y
        keep &= (x >= west) & (x <= east) & (y >= south) & (y <= north)
    return np.sort(IDS[keep])


def _found(groups, bbox) -> np.ndarray:
    selected = SNAPSHOT.select(groups)
    shown = SNAPSHOT.in_view(selected, bbox) if bbox is not None else selected
    return np.sort(SNAPSHOT.ids[np.array(shown.to_array(), dtype=np.int64)])


#: Views: wide, narrow, one running along the grid's lines, one whose edges pass through
#: points (on the lines and in the clumps), one smaller than a grid cell, one outside.
_COLUMN = math.floor(mercator_x(7.2) * GRID)
_ROW = math.floor(mercator_y(51.6) * GRID)
VIEWS = (
    None,
    (6.9, 51.4, 7.5, 51.8),
    (7.1, 51.55, 7.3, 51.65),
    (
        longitude((_COLUMN + 2) / GRID),
        latitude((_ROW + 7) / GRID),
        longitude((_COLUMN + 6) / GRID),
        latitude((_ROW + 3) / GRID),
    ),
    (7.12, 51.56, 7.15, 51.575),
    (7.2001, 51.6001, 7.2004, 51.6003),
    (8.0, 52.0, 8.1, 52.1),
)


def test_a_view_holds_exactly_the_points_a_plain_test_finds():
    for groups in GROUPS:
        for bbox in VIEWS:
            assert _found(groups, bbox).tolist() == _expected(groups, bbox).tolist(), (
                groups,
                bbox,
            )


@settings(max_examples=200, deadline=None)
@given(
    west=st.floats(6.95, 7.45),
    south=st.floats(51.45, 51.75),
    width=st.floats(0, 0.5),
    height=st.floats(0, 0.3),
    groups=st.sampled_from(GROUPS),
)
def test_any_view_holds_exactly_the_points_a_plain_test_finds(west, south, width, height, groups):
    bbox = (west, south, west + width, south + height)
    assert _found(groups, bbox).tolist() == _expected(groups, bbox).tolist()


def test_the_cells_count_and_sum_the_points_of_each_cell():
    bbox = (7.0, 51.5, 7.4, 51.7)
    zoom = 11
    shown = SNAPSHOT.in_view(SNAPSHOT.select([("any", ["s:F"])]), bbox)
    expected = {}
    index = {int(company_id): i for i, company_id in enumerate(IDS)}
    for company_id in _expected([("any", ["s:F"])], bbox):
        i = index[int(company_id)]
        key = (
            math.floor(MX[i] * cells_per_world(zoom)),
            math.floor(MY[i] * cells_per_world(zoom)),
        )
        expected.setdefault(key, []).append(i)
    cells = SNAPSHOT.cells(shown, zoom)
    assert list(SNAPSHOT.keyed_cells(shown, zoom)) == sorted(expected)
    assert len(cells) == len(expected)
    for cell, key in zip(cells, sorted(expected), strict=True):  # by position
        members = expected[key]
        assert cell.n == len(members)
        assert math.isclose(cell.sx, X[members].sum()) and math.isclose(cell.sy, Y[members].sum())
        assert (cell.west, cell.east) == (X[members].min(), X[members].max())
        assert (cell.south, cell.north) == (Y[members].min(), Y[members].max())
        assert cell.only_id == (int(IDS[members[0]]) if len(members) == 1 else None)


def test_the_smallest_ids_come_first():
    everyone = SNAPSHOT.select([])
    assert SNAPSHOT.smallest_ids(everyone, 5) == sorted(IDS.tolist())[:5]
    assert SNAPSHOT.smallest_ids(everyone, 10_000) == sorted(IDS.tolist())
    tagged = SNAPSHOT.select([("any", ["s:F"])])
    assert SNAPSHOT.smallest_ids(tagged, 3) == sorted(TAGS["s:F"].tolist())[:3]


def test_employers_come_with_their_places_and_labels_by_id():
    point = {
        int(i): (int(i), float(x), float(y), slug, name)
        for i, x, y, slug, name in zip(IDS, X, Y, SLUGS, NAMES, strict=True)
    }
    wanted = [int(i) for i in rng.permutation(IDS)[:50]]
    assert SNAPSHOT.points(wanted) == [point[i] for i in wanted]
    assert SNAPSHOT.points(sorted(point)) == [point[i] for i in sorted(point)]
    # An id it does not hold (between two, below all, above all): None.
    for missing in (int(IDS[0]) + 1, 0, int(IDS.max()) + 1):
        assert SNAPSHOT.points([int(IDS[1]), missing]) is None


def test_labels_that_do_not_match_are_refused():
    with pytest.raises(ValueError, match="labels"):
        tag_bitmaps.Labels.of([3], [4], b"abcdef")
    with pytest.raises(ValueError, match="labels"):
        tag_bitmaps.build(1, IDS[:2], X[:2], Y[:2], MX[:2], MY[:2], (), _labels(["a"], ["b"]))


def test_an_empty_snapshot_finds_nothing():
    empty = tag_bitmaps.build(1, [], [], [], [], [], (), _labels([], []))
    assert len(empty.in_view(empty.select([]), (7.0, 51.5, 7.4, 51.7))) == 0
    assert empty.cells(empty.select([]), 9) == []
