"""Bitmaps of the map index's tags, kept in each app process: a filter of several tags is
intersected here instead of in PostgreSQL's GIN index.

Why: for several common tags (say a sector, two sizes, a family criterion and an offer at
1,000,000 employers) the GIN index intersects posting lists of hundreds of thousands of
employers (about 16 ms) and the heap is read for the few thousand it finds (about 9 ms), for
every map answer. Compressed bitmaps (Roaring, ``pyroaring``) intersect the same sets in well
under a millisecond, and the positions of the employers found come from arrays.

Exact, never stale: a :class:`Snapshot` holds ``map_points`` as one REPEATABLE READ
transaction saw it, with the ``map_generation`` that transaction saw. Every transaction that
changes the map index raises the generation when it commits (migration 0013), one after the
other, so a request's transaction that sees the same generation sees the same points. A
request whose transaction sees another generation does not use the snapshot: it is answered
from the database (:mod:`app.features.map_index`) while the process loads a new snapshot in a
background thread. Nothing is shared between processes but the database; each builds its own
snapshot from it (about 40 MB and 10 s at 1,000,000 employers, 1 s at 100,000).

Used for filters that are tags only (no name search, no place and radius, no proximity to a
layer whose features expire: those depend on the companies table or on the calendar). One
tag alone is answered from the stored cells, which is cheaper still.

``MAP_BITMAPS`` switches it off (the test suite does, except for the tests of this module).
"""

from __future__ import annotations

import array
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from flask import current_app
from pyroaring import BitMap, FrozenBitMap

from app.extensions import db
from app.features import map_cache

log = logging.getLogger(__name__)

_EMPTY = FrozenBitMap()
_POSITIONS = (
    "COPY (SELECT company_id, ST_X(location), ST_Y(location), mx, my FROM map_points)"
    " TO STDOUT (FORMAT binary)"
)
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


@dataclass(frozen=True)
class Snapshot:
    """``map_points`` at one generation: a bitmap of employer ids per tag, and each
    employer's longitude, latitude and Web Mercator position, indexed by its id (NaN where
    there is no published employer)."""

    generation: int
    tags: dict[str, FrozenBitMap]
    x: np.ndarray
    y: np.ndarray
    mx: np.ndarray
    my: np.ndarray

    def select(self, groups: list[tuple[str, list[str]]]) -> np.ndarray:
        """The ids (ascending) of the employers that meet every group of
        :func:`app.features.map_index.tag_groups`: ("any", tags) or ("all", tags)."""
        found = None
        for kind, tags in groups:
            maps = [self.tags.get(tag, _EMPTY) for tag in tags]
            part = BitMap.union(*maps) if kind == "any" else BitMap.intersection(*maps)
            found = part if found is None else found & part
        if found is None:
            raise ValueError("a selection needs at least one tag group")
        return np.frombuffer(found.to_array(), dtype=np.uint32)

    def in_view(self, ids: np.ndarray, bbox: tuple[float, float, float, float]) -> np.ndarray:
        """The ``ids`` whose point lies in ``bbox``, its edge included (as
        :func:`app.features.map_index.in_view` decides it)."""
        west, south, east, north = bbox
        x, y = self.x[ids], self.y[ids]
        return ids[(x >= west) & (x <= east) & (y >= south) & (y <= north)]

    def cells(self, ids: np.ndarray, zoom: int) -> list:
        """The grid cells (64 pixels at ``zoom``) of the employers ``ids``, by position, as
        :func:`app.features.map_index.view_cells` gives them."""
        from app.features.map_index import Cell, cells_per_world

        if not len(ids):
            return []
        size = cells_per_world(zoom)
        gx = np.floor(self.mx[ids] * size).astype(np.int64)
        gy = np.floor(self.my[ids] * size).astype(np.int64)
        keys = gx * size + gy  # sorts as (gx, gy)
        order = np.argsort(keys, kind="stable")
        keys, ids = keys[order], ids[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        counts = np.diff(np.r_[starts, len(keys)])
        x, y = self.x[ids], self.y[ids]
        columns = (
            np.add.reduceat(x, starts),
            np.add.reduceat(y, starts),
            np.minimum.reduceat(x, starts),
            np.minimum.reduceat(y, starts),
            np.maximum.reduceat(x, starts),
            np.maximum.reduceat(y, starts),
            np.minimum.reduceat(ids, starts),
        )
        rows = zip(counts.tolist(), *(column.tolist() for column in columns), strict=True)
        return [
            Cell(n, sx, sy, west, south, east, north, first if n == 1 else None)
            for n, sx, sy, west, south, east, north, first in rows
        ]


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
            positions = _positions(data)
            tags = {
                tag: FrozenBitMap(array.array("I", members))
                for tag, members in cursor.execute(_TAGS)
            }
        connection.rollback()
    return Snapshot(generation, tags, *positions)


def _positions(data: bytes) -> list[np.ndarray]:
    """Longitude, latitude, mx and my by employer id from the binary COPY ``data``."""
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
    ids = rows["id"].astype(np.int64)
    size = int(ids.max()) + 1 if len(ids) else 0
    columns = []
    for name in ("x", "y", "mx", "my"):
        column = np.full(size, np.nan)
        column[ids] = rows[name]
        columns.append(column)
    return columns


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
