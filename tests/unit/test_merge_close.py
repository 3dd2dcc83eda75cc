"""Map items that would overlap on screen are merged (:func:`app.features.pipeline.merge_close`):
for any items, no two of the result overlap, the counts add up, the largest come first and each
item's centre lies in its extent. Generated items (hypothesis), from scattered to piled up."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from app.features.pipeline import MARKER_PIXELS, _Group, merge_close, screen_pixels

item = st.tuples(
    st.sampled_from([1, 1, 2, 5, 30, 200]),
    st.floats(0, 1, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(item, max_size=120),
    zoom=st.integers(4, 17),
    spread=st.sampled_from([0.0005, 0.005, 0.05, 0.5]),
)
def test_merged_items_never_overlap_and_keep_every_count(items, zoom, spread):
    groups = []
    for index, (n, u, v) in enumerate(items):
        lon, lat = 7.0 + u * spread, 51.5 + v * spread
        groups.append(_Group(n, lon * n, lat * n, lon, lat, lon, lat, index if n == 1 else None))
    merged = merge_close(groups, zoom)
    assert sum(group.n for group in merged) == sum(n for n, _, _ in items)
    assert [group.n for group in merged] == sorted((group.n for group in merged), reverse=True)
    places = [screen_pixels(group.lon, group.lat, zoom) for group in merged]
    for (ax, ay), (bx, by) in itertools.combinations(places, 2):
        assert abs(ax - bx) >= MARKER_PIXELS or abs(ay - by) >= MARKER_PIXELS
    for group in merged:
        assert group.west - 1e-9 <= group.lon <= group.east + 1e-9
        assert group.south - 1e-9 <= group.lat <= group.north + 1e-9
    if len(items) <= 1:
        assert len(merged) == len(items)


def test_a_grown_item_that_moves_onto_another_takes_it_in():
    """Two kept items just apart; a third joins the first and pulls it onto the second: all
    three end as one."""
    zoom, step = 12, 360 / (256 * 2**12)  # degrees of longitude per pixel at zoom 12
    lat = 51.6

    def group(pixels_east, n):
        lon = 7.0 + pixels_east * step
        return _Group(n, lon * n, lat * n, lon, lat, lon, lat, None)

    # 0 and 60 px are apart (markers are 56 px wide). The smallest, at 40 px, joins the
    # first, which moves to 13 px: 47 px from the second, which it then takes in.
    merged = merge_close([group(0, 10), group(60, 9), group(40, 5)], zoom)
    assert [g.n for g in merged] == [24]
    assert merge_close([group(0, 10), group(60, 9)], zoom)[1].n == 9
