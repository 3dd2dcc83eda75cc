"""Bitmaps of the map index's tags, kept in each app process: a filter of tags is answered
here (intersected, cut to the view, grouped into cells) instead of in PostgreSQL.

Why: for several common tags (say a sector, two sizes, a family criterion and an offer at
1,000,000 employers) the GIN index intersects posting lists of hundreds of thousands of
employers (about 16 ms) and the heap is read for the few thousand it finds (about 9 ms), for
every map answer. Compressed bitmaps (Roaring, ``pyroaring``) intersect the same sets in well
under a millisecond. The employers are numbered in the order of their grid cell, so a view is
a few runs of numbers (a bitmap of ranges): only the cells on the view's edge are tested
point by point. One tag or none in a town view at 100,000 employers: 11 ms in-process
instead of 22 from the stored cells and the points on the view's edge.

Exact, never stale: a :class:`Snapshot` holds ``map_points`` as one REPEATABLE READ
transaction saw it, with the ``map_generation`` that transaction saw. Every transaction that
changes the map index raises the generation when it commits (migration 0013), one after the
other, so a request's transaction that sees the same generation sees the same points. A
request whose transaction sees another generation does not use the snapshot: it is answered
from the database (:mod:`app.features.map_index`) while the process loads a new snapshot in a
background thread. Nothing is shared between processes but the database; each builds its own
snapshot from it (about 15 s at 1,000,000 employers, 1.2 s at 100,000; for its size see
docs/architecture.md).

Markers too: the snapshot holds each employer's slug and name (what a marker shows, read from
``companies`` in the same transaction; every change to a company raises the generation), so
a view's single employers are drawn without reading a row (a street view's 500 markers:
about 2 ms of PostgreSQL's time and a round trip less).

Used for filters that are tags only (no name search, no place and radius, no proximity to a
layer whose features expire: those depend on the companies table or on the calendar). One
tag (or none) with more than :data:`app.features.map_index.STORED_CELLS_FROM` employers in
the view is clustered from the stored cells, which cost the same for any number.

``MAP_BITMAPS`` switches it off (the test suite does, except for the tests of this module).
"""

from __future__ import annotations

import array
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from flask import current_app
from pyroaring import BitMap, FrozenBitMap

from app.extensions import db
from app.features import map_cache

log = logging.getLogger(__name__)

_EMPTY = FrozenBitMap()
_POSITIONS = (
    "COPY (SELECT company_id, ST_X(location), ST_Y(location), mx, my FROM map_points"
    " ORDER BY company_id) TO STDOUT (FORMAT binary)"
)
#: What the markers show (slug and name) of the same employers in the same order: the UTF-8
#: lengths of each, and all of them as one text.
_LABELS = """
SELECT array_agg(octet_length(convert_to(c.slug, 'UTF8')) ORDER BY p.company_id),
       array_agg(octet_length(convert_to(c.name, 'UTF8')) ORDER BY p.company_id),
       convert_to(string_agg(c.slug || c.name, '' ORDER BY p.company_id), 'UTF8')
FROM map_points p JOIN companies c ON c.id = p.company_id
"""
#: A row of PostgreSQL's binary COPY format for :data:`_POSITIONS`: the number of fields,
#: then each field's length and value (big-endian; none is NULL: the columns are NOT NULL).
_ROW = np.dtype(
    [("fields", ">i2"), ("id_length", ">i4"), ("id", ">i4")]
    + [
        item
        for name in ("x", "y", "mx", "my")
        for item in ((f"{name}_length", ">i4"), (name, ">f8"))
    ]
)
_HEADER = b"PGCOPY\n\xff\r\n\x00"
_TAGS = "SELECT tag, array_agg(company_id) FROM map_points, unnest(tags) AS tag GROUP BY tag"


#: The grid a snapshot orders its employers by: the finest stored band's cells (64 pixels at
#: zoom 13, :data:`app.features.map_index.BANDS`), so that a view is a few runs of positions.
GRID_ZOOM = 13
_GRID = 2 ** (GRID_ZOOM + 2)  # cells per world's width at GRID_ZOOM (256 / 64 · 2^zoom)
#: Cells of the grid that lie this close to the view's edge (as a share of the world's width)
#: are tested point by point, so that rounding cannot put a point on the wrong side.
_MARGIN = 1e-12


class Point(NamedTuple):
    """An employer of a snapshot, with what its marker shows."""

    id: int
    x: float
    y: float
    slug: str
    name: str


@dataclass(frozen=True)
class Labels:
    """Each employer's slug and name (what a marker shows) as UTF-8 in one buffer: in a
    street view's 500 markers, no row is read from the database (about 8 bytes per employer
    and the text: 4.4 MB at 100,000, some 45 MB at 1,000,000)."""

    text: bytes
    starts: np.ndarray
    slug_lengths: np.ndarray
    name_lengths: np.ndarray

    @classmethod
    def of(cls, slug_lengths, name_lengths, text: bytes) -> Labels:
        """The labels of rows whose slug and name have these UTF-8 lengths, one after the
        other in ``text``."""
        slug_lengths = np.asarray(slug_lengths, dtype=np.int64)
        name_lengths = np.asarray(name_lengths, dtype=np.int64)
        ends = np.cumsum(slug_lengths + name_lengths)
        if (int(ends[-1]) if len(ends) else 0) != len(text):
            raise ValueError("the markers' labels do not match their lengths")
        starts = np.r_[np.int64(0), ends[:-1]] if len(ends) else ends
        # In the smallest type that holds them: some 8 bytes per employer besides the text.
        longest = int(max(slug_lengths.max(), name_lengths.max())) if len(ends) else 0
        return cls(
            text,
            starts.astype(_smallest(len(text))),
            slug_lengths.astype(_smallest(longest)),
            name_lengths.astype(_smallest(longest)),
        )

    def take(self, rows: np.ndarray) -> Labels:
        """The labels of ``rows``, in that order (the text is shared)."""
        return Labels(
            self.text, self.starts[rows], self.slug_lengths[rows], self.name_lengths[rows]
        )

    def __len__(self) -> int:
        return len(self.starts)

    def slug_and_name(self, row: int) -> tuple[str, str]:
        """The slug and name of ``row``."""
        start = int(self.starts[row])
        middle = start + int(self.slug_lengths[row])
        end = middle + int(self.name_lengths[row])
        return self.text[start:middle].decode(), self.text[middle:end].decode()


def _smallest(largest: int) -> type:
    """The smallest unsigned integer type (16, 32 or 64 bits) that holds ``largest``."""
    return np.uint16 if largest < 2**16 else np.uint32 if largest < 2**32 else np.uint64


@dataclass(frozen=True)
class Snapshot:
    """``map_points`` at one generation. Its employers are numbered by *position*: in the
    order of their grid cell (:data:`GRID_ZOOM`, column by column), so the employers of one
    column of cells between two rows are one run of positions. Per tag, a bitmap of
    positions; per position, the employer's id, longitude, latitude, Web Mercator
    position, slug and name."""

    generation: int
    tags: dict[str, FrozenBitMap]
    everyone: FrozenBitMap
    ids: np.ndarray
    keys: np.ndarray
    x: np.ndarray
    y: np.ndarray
    mx: np.ndarray
    my: np.ndarray
    labels: Labels
    #: The ids in ascending order, and their positions: an employer's position by its id.
    sorted_ids: np.ndarray
    by_id: np.ndarray

    def select(self, groups: list[tuple[str, list[str]]]) -> BitMap:
        """The positions of the employers that meet every group of
        :func:`app.features.map_index.tag_groups` (("any", tags) or ("all", tags)): all of
        them for no group."""
        found = None
        for kind, tags in groups:
            maps = [self.tags.get(tag, _EMPTY) for tag in tags]
            part = BitMap.union(*maps) if kind == "any" else BitMap.intersection(*maps)
            found = part if found is None else found & part
        return BitMap(self.everyone) if found is None else found

    def in_view(self, selected: BitMap, bbox: tuple[float, float, float, float]) -> BitMap:
        """The ``selected`` positions whose point lies in ``bbox``, its edge included (as
        :func:`app.features.map_index.in_view` decides it): the grid cells wholly inside the
        view are taken whole, only those on its edge are tested point by point."""
        from app.features.map_index import mercator_x, mercator_y

        west, south, east, north = bbox
        left, right = mercator_x(west) * _GRID, mercator_x(east) * _GRID
        top, bottom = mercator_y(north) * _GRID, mercator_y(south) * _GRID
        margin = _MARGIN * _GRID
        candidates = self._runs(left, right, top, bottom, math.floor, math.floor)
        certain = self._runs(
            left + margin, right - margin, top + margin, bottom - margin, math.ceil, _below
        )
        found = certain & selected
        edge = (candidates - certain) & selected
        if edge:
            positions = np.frombuffer(edge.to_array(), dtype=np.uint32)
            x, y = self.x[positions], self.y[positions]
            inside = (x >= west) & (x <= east) & (y >= south) & (y <= north)
            found |= _bitmap(positions[inside])
        return found

    def _runs(self, left, right, top, bottom, first, last) -> BitMap:
        """The positions in the grid's columns ``first(left)`` … ``last(right)`` between the
        rows ``first(top)`` … ``last(bottom)`` (none where that range is empty)."""
        return self._between(first(left), last(right), first(top), last(bottom))

    def in_cells(self, cells: tuple[int, int, int, int], zoom: int) -> BitMap:
        """The positions in the range ``cells`` (x0, y0, x1, y1) of the grid cells of
        ``zoom`` (at most :data:`GRID_ZOOM`; its cells are whole cells of the grid)."""
        x0, y0, x1, y1 = cells
        shift = GRID_ZOOM - zoom
        return self._between(
            x0 << shift, ((x1 + 1) << shift) - 1, y0 << shift, ((y1 + 1) << shift) - 1
        )

    def _between(self, x0: int, x1: int, y0: int, y1: int) -> BitMap:
        """The positions in the grid's columns ``x0`` … ``x1`` between the rows ``y0`` …
        ``y1``."""
        x0, x1 = max(x0, 0), min(x1, _GRID - 1)
        y0, y1 = max(y0, 0), min(y1, _GRID - 1)
        runs = BitMap()
        if x0 > x1 or y0 > y1:
            return runs
        columns = np.arange(x0, x1 + 1, dtype=np.int64) * _GRID
        starts = np.searchsorted(self.keys, columns + y0, "left")
        ends = np.searchsorted(self.keys, columns + y1, "right")
        nonempty = ends > starts
        starts, ends = starts[nonempty], ends[nonempty]
        if len(starts):  # adjacent columns' runs joined: a view over dense land is few runs
            joined = starts[1:] != ends[:-1]
            first, last = starts[np.r_[True, joined]], ends[np.r_[joined, True]]
            for start, end in zip(first.tolist(), last.tolist(), strict=True):
                runs.add_range(start, end)
        return runs

    def smallest_ids(self, positions: BitMap, limit: int) -> list[int]:
        """The ``limit`` smallest employer ids at ``positions``, ascending."""
        ids = self.ids[np.frombuffer(positions.to_array(), dtype=np.uint32)]
        if len(ids) > limit:
            ids = np.partition(ids, limit - 1)[:limit]
        return np.sort(ids).tolist()

    def points(self, ids: list[int]) -> list[Point] | None:
        """The employers ``ids``, in that order, with what their markers show; None when one
        of them is not in the snapshot."""
        wanted = np.asarray(ids, dtype=np.int64)
        found = np.searchsorted(self.sorted_ids, wanted)
        if len(wanted) and (
            int(found.max()) >= len(self.sorted_ids) or (self.sorted_ids[found] != wanted).any()
        ):
            return None
        at = self.by_id[found]
        rows = zip(ids, self.x[at].tolist(), self.y[at].tolist(), at.tolist(), strict=True)
        return [
            Point(company_id, x, y, *self.labels.slug_and_name(position))
            for company_id, x, y, position in rows
        ]

    def cells(self, positions: BitMap, zoom: int) -> list:
        """The grid cells (64 pixels at ``zoom``) of the employers at ``positions``, by
        position, as :func:`app.features.map_index.view_cells` gives them."""
        return list(self.keyed_cells(positions, zoom).values())

    def keyed_cells(self, positions: BitMap, zoom: int) -> dict:
        """:meth:`cells` by their (column, row) at ``zoom``, in that order."""
        from app.features.map_index import Cell, cells_per_world

        if not positions:
            return {}
        at = np.frombuffer(positions.to_array(), dtype=np.uint32)
        x, y, ids = self.x[at], self.y[at], self.ids[at]
        if zoom <= GRID_ZOOM:
            # The positions are in the order of the grid's cells, and each of the grid's
            # cells lies in one cell of ``zoom``: first the grid's cells, then theirs.
            keys = self.keys[at]
            parts = _reduced(np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]), x, y, ids)
            shift = GRID_ZOOM - zoom
            first = keys[parts[0]]
            gx, gy = (first // _GRID) >> shift, (first % _GRID) >> shift
            _, x, y, west, south, east, north, ids = parts
            counts = np.diff(np.r_[parts[0], len(at)])
        else:
            size = cells_per_world(zoom)
            gx = np.floor(self.mx[at] * size).astype(np.int64)
            gy = np.floor(self.my[at] * size).astype(np.int64)
            counts = np.ones(len(at), dtype=np.int64)
            west, south, east, north = x, y, x, y
        # Group by (gx, gy): a radix sort of a view's few hundred cells.
        gx0, gy0 = int(gx.min()), int(gy.min())
        height = int(gy.max()) - gy0 + 1
        keys = (gx - gx0) * height + (gy - gy0)  # sorts as (gx, gy)
        if int(keys.max()) < 2**16:
            keys = keys.astype(np.uint16)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        totals = np.add.reduceat(counts[order], starts)
        columns = (
            np.add.reduceat(x[order], starts),
            np.add.reduceat(y[order], starts),
            np.minimum.reduceat(west[order], starts),
            np.minimum.reduceat(south[order], starts),
            np.maximum.reduceat(east[order], starts),
            np.maximum.reduceat(north[order], starts),
            np.minimum.reduceat(ids[order], starts),
        )
        cell = keys[starts].astype(np.int64)
        cell_x, cell_y = (cell // height + gx0).tolist(), (cell % height + gy0).tolist()
        rows = zip(
            cell_x, cell_y, totals.tolist(), *(column.tolist() for column in columns), strict=True
        )
        return {
            (gx, gy): Cell(n, sx, sy, west, south, east, north, first if n == 1 else None)
            for gx, gy, n, sx, sy, west, south, east, north, first in rows
        }


def _reduced(starts: np.ndarray, x: np.ndarray, y: np.ndarray, ids: np.ndarray) -> tuple:
    """For runs beginning at ``starts``: the starts, then the sums of ``x`` and ``y``, their
    minimums, their maximums, and the smallest id."""
    return (
        starts,
        np.add.reduceat(x, starts),
        np.add.reduceat(y, starts),
        np.minimum.reduceat(x, starts),
        np.minimum.reduceat(y, starts),
        np.maximum.reduceat(x, starts),
        np.maximum.reduceat(y, starts),
        np.minimum.reduceat(ids, starts),
    )


def _below(value: float) -> int:
    """The last whole cell that ends at or before ``value``."""
    return math.floor(value) - 1


def _bitmap(values: np.ndarray) -> BitMap:
    return BitMap(array.array("I", values.astype(np.uint32).tobytes()))


def load(engine) -> Snapshot:
    """Read ``map_points`` and its generation in one REPEATABLE READ transaction: the
    positions in PostgreSQL's binary COPY format (read as one array), the tags as one array of
    ids each (about 10 s at 1,000,000 employers, most of it the database unnesting 15 million
    tags; 1 s at 100,000)."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        generation = map_cache.generation(connection)
        raw = connection.connection.driver_connection  # psycopg: binary data, no ORM
        with raw.cursor(binary=True) as cursor:
            with cursor.copy(_POSITIONS) as copy:
                data = b"".join(bytes(block) for block in copy)
            rows = _rows(data)
            columns = (rows[name] for name in ("x", "y", "mx", "my"))
            slug_lengths, name_lengths, text = cursor.execute(_LABELS).fetchone()
            labels = Labels.of(slug_lengths or [], name_lengths or [], text or b"")
            snapshot = build(generation, rows["id"], *columns, cursor.execute(_TAGS), labels)
        connection.rollback()
    return snapshot


def build(
    generation: int, ids, x, y, mx, my, members: Iterable[tuple[str, list]], labels: Labels
) -> Snapshot:
    """The snapshot of employers ``ids`` at longitude ``x``, latitude ``y`` and Web Mercator
    position ``mx``, ``my`` with ``labels`` (of one length), with each tag's employer ids
    (pairs of tag and ids, read one after the other)."""
    ids = np.asarray(ids, dtype=np.int64)
    if len(labels) != len(ids):
        raise ValueError("the markers' labels do not match the positions")
    keys = _grid_keys(np.asarray(mx, dtype=np.float64), np.asarray(my, dtype=np.float64))
    order = np.lexsort((ids, keys))  # by cell, then by id: the same data, the same positions
    position = np.zeros(int(ids.max()) + 1 if len(ids) else 0, dtype=np.int64)
    position[ids[order]] = np.arange(len(ids))
    tags = {
        tag: FrozenBitMap(_bitmap(np.sort(position[np.asarray(tagged, dtype=np.int64)])))
        for tag, tagged in members
    }
    sorted_ids = np.sort(ids)
    return Snapshot(
        generation,
        tags,
        FrozenBitMap(range(len(ids))),
        ids[order],
        keys[order],
        *(np.asarray(column, dtype=np.float64)[order] for column in (x, y, mx, my)),
        labels.take(order),
        sorted_ids.astype(_smallest(int(ids.max()) if len(ids) else 0)),
        position[sorted_ids].astype(np.uint32),
    )


def _grid_keys(mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """Each point's cell of the :data:`GRID_ZOOM` grid, as one number that sorts column by
    column."""
    column = np.clip(np.floor(mx * _GRID), 0, _GRID - 1).astype(np.int64)
    row = np.clip(np.floor(my * _GRID), 0, _GRID - 1).astype(np.int64)
    return column * _GRID + row


def _rows(data: bytes) -> np.ndarray:
    """The rows (id, x, y, mx, my) of the binary COPY ``data``."""
    # The signature, 32 bits of flags and the length of the header's extension (then the
    # extension, the rows, and a 16-bit -1 at the end).
    header = len(_HEADER) + 8 + int.from_bytes(data[len(_HEADER) + 4 : len(_HEADER) + 8], "big")
    if not data.startswith(_HEADER) or (len(data) - header - 2) % _ROW.itemsize:
        raise ValueError("unexpected COPY data for the map positions")
    rows = np.frombuffer(
        data, dtype=_ROW, offset=header, count=(len(data) - header - 2) // _ROW.itemsize
    )
    if len(rows) and not (
        (rows["fields"] == 5).all()
        and (rows["id_length"] == 4).all()
        and all((rows[f"{name}_length"] == 8).all() for name in ("x", "y", "mx", "my"))
    ):
        raise ValueError("unexpected COPY rows for the map positions")
    return rows


class Bitmaps:
    """The process's snapshot of one app's database, and its reload in the background."""

    def __init__(self, app):
        self.app = app
        self.snapshot: Snapshot | None = None
        self._loading: threading.Thread | None = None
        self._lock = threading.Lock()
        #: No load in the background before this (``time.monotonic()``): after one, at least
        #: as long as it took, so that a run of publishes (an import) keeps a process loading
        #: at most half of the time; the database answers meanwhile.
        self._not_before = 0.0

    def current(self, generation: int) -> Snapshot | None:
        """The snapshot if it shows ``generation``; else None, and if it is older, a new one
        is loaded in the background (see :meth:`reload`)."""
        snapshot = self.snapshot
        if snapshot is not None and snapshot.generation == generation:
            return snapshot
        if snapshot is None or snapshot.generation < generation:
            self.reload(wait=False)
        return None

    def reload(self, *, wait: bool) -> None:
        """Load a new snapshot: ``wait``, before returning; else in the background, unless
        a load is under way or the last one ended too recently."""
        with self._lock:
            idle = self._loading is None or not self._loading.is_alive()
            if idle and not wait and time.monotonic() < self._not_before:
                return
            if idle:
                self._loading = threading.Thread(target=self._load, name="tag-bitmaps", daemon=True)
                self._loading.start()
            loading = self._loading
        if wait:
            loading.join()

    def wait(self) -> None:
        """Wait for a load under way, if any."""
        loading = self._loading
        if loading is not None:
            loading.join()

    def _load(self) -> None:
        started = time.monotonic()
        try:
            with self.app.app_context():
                self.snapshot = load(db.engine)
        except Exception:  # the database may be away: requests keep the SQL path
            log.exception("Could not load the tag bitmaps; the map answers from the database.")
        finally:
            ended = time.monotonic()
            self._not_before = ended + (ended - started)


_EXTENSION = "tag_bitmaps"


def init_app(app) -> None:
    """Give ``app`` its bitmaps when ``MAP_BITMAPS`` is on (loaded at the first request that
    can use them, or from :func:`start_loading`)."""
    if app.config.get("MAP_BITMAPS"):
        app.extensions[_EXTENSION] = Bitmaps(app)


def start_loading(app) -> None:
    """Begin loading the bitmaps in the background (a server's start), if switched on."""
    bitmaps = app.extensions.get(_EXTENSION)
    if bitmaps is not None:
        bitmaps.reload(wait=False)


def state() -> str:
    """ "off", "loading" (nothing loaded yet) or "loaded" (a snapshot of some generation)."""
    bitmaps = current_app.extensions.get(_EXTENSION)
    if bitmaps is None:
        return "off"
    return "loading" if bitmaps.snapshot is None else "loaded"


def current() -> Snapshot | None:
    """The snapshot of the current app for this request's transaction, or None (switched off,
    not loaded yet, or of another generation than this transaction sees)."""
    bitmaps = current_app.extensions.get(_EXTENSION)
    if bitmaps is None:
        return None
    return bitmaps.current(map_cache.generation())
