"""Layer features: what is around an employer (childcare, housing, transit, training, and
kinds configured later). Public data that only the agency changes; each row names its kind
(a key of the configured layer kinds), its source and when it was imported."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Date, DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class LayerFeature(db.Model):
    """One point of a layer, with the layer's own attributes in ``properties``."""

    __tablename__ = "layer_features"
    __table_args__ = (
        # Distances are measured on the ellipsoid (geography); this index serves ST_DWithin.
        Index(
            "ix_layer_features_location_geography",
            text("(location::geography)"),
            postgresql_using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(300))
    #: The kind's attributes (operator, opening hours, rooms, rent, lines, …) as JSON.
    properties: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
    #: Where the row came from (a file name, "workspace", "demo") and its id there.
    source: Mapped[str] = mapped_column(String(200), default="", server_default="")
    source_ref: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    #: After this day the feature is no longer public (housing offers).
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)

    def __repr__(self) -> str:
        return f"<LayerFeature {self.id} {self.kind} {self.name!r}>"
