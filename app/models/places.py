"""Places of the region: municipalities (by AGS key) and postal codes with approximate points."""

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Municipality(db.Model):
    """A municipality of the region; its boundary is optional and imported later."""

    __tablename__ = "municipalities"

    ags: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_key: Mapped[str] = mapped_column(String(64), index=True)
    centroid: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
    boundary: Mapped[WKBElement | None] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))


class PostalCode(db.Model):
    """A five-digit postal code, mapped to its municipality, with an approximate point."""

    __tablename__ = "postal_codes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    municipality_ags: Mapped[str] = mapped_column(ForeignKey("municipalities.ags"), index=True)
    point: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
