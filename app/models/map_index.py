"""The map index (migration 0012): tables the database keeps up to date itself, by triggers, in
the same transaction as every change to the employers, their classifications, the
municipalities' boundaries and the layer features. Read by :mod:`app.features.map_index`;
never written by the application."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db

#: One row per published employer: its point, Web Mercator position in [0, 1) and facet tags.
map_points = Table(
    "map_points",
    db.metadata,
    Column("company_id", Integer, primary_key=True),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("mx", Float, nullable=False),
    Column("my", Float, nullable=False),
    Column("tags", ARRAY(Text), nullable=False),
)

#: Per band, tag ("*": all) and grid cell: count and sums of longitude, latitude and ids. The
#: primary key's index includes the sums (migration 0015), so a view's cells are read from the
#: index alone.
map_cells = Table(
    "map_cells",
    db.metadata,
    Column("band", SmallInteger, primary_key=True),
    Column("tag", Text, primary_key=True),
    Column("cx", Integer, primary_key=True),
    Column("cy", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
    Column("sx", Float, nullable=False),
    Column("sy", Float, nullable=False),
    Column("sid", BigInteger, nullable=False),
)

#: Per layer kind, radius and employer with a feature of that kind within: the last public day.
map_nearby = Table(
    "map_nearby",
    db.metadata,
    Column("kind", String(40), primary_key=True),
    Column("metres", Integer, primary_key=True),
    Column("company_id", Integer, primary_key=True),
    Column("until", Date, nullable=False),
)
