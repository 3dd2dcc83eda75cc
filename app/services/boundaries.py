"""Official municipality boundaries: import (e.g. VG250), and what follows from them.

:func:`import_file` reads a boundary file (:mod:`geodata.boundaries`), keeps the polygons of
the region's municipalities (by the region's AGS keys, or by an AGS prefix), stores them, gives
every employer without a municipality the one its point lies in, and writes an audit entry, in
one transaction. Once boundaries are stored, the municipality filter, the dashboard map and the
"outside the region" checks (:mod:`app.services.region`) follow the polygons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from geoalchemy2.shape import from_shape
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Municipality, StaffUser
from app.services import audit
from geodata.boundaries import BoundaryFileError, read_boundaries

__all__ = ["BoundaryFileError", "ImportReport", "import_file", "outline"]

AUDIT_ACTION = "import_boundaries"
#: Tolerance (degrees, about 20 m) of the simplified outline the map draws.
OUTLINE_TOLERANCE = 0.0002


@dataclass
class ImportReport:
    """What an import did: which municipalities got a boundary, which AGS of the file are not
    municipalities of the region, which of the region's municipalities the file lacks, how
    many invalid geometries were made valid, and how many employers got a municipality."""

    matched: list[tuple[str, str]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    ignored: int = 0
    fixed: int = 0
    skipped: list[str] = field(default_factory=list)
    assigned: int = 0
    ags_column: str = ""

    def summary(self) -> dict:
        """The report as plain JSON (kept in the audit log)."""
        return {
            "matched": [ags for ags, _name in self.matched],
            "unmatched": self.unmatched[:100],
            "missing": [ags for ags, _name in self.missing],
            "ignored": self.ignored,
            "fixed": self.fixed,
            "skipped": len(self.skipped),
            "assigned": self.assigned,
        }

    def __str__(self) -> str:
        lines = [
            f"{len(self.matched)} municipality boundaries imported (AGS column {self.ags_column}).",
            f"{self.fixed} invalid geometries made valid.",
            f"{self.assigned} employers without a municipality were assigned one.",
        ]
        if self.unmatched:
            lines.append(
                f"{len(self.unmatched)} AGS of the file are not municipalities of the region: "
                + ", ".join(self.unmatched[:20])
                + (" …" if len(self.unmatched) > 20 else "")
            )
        if self.missing:
            lines.append(
                "No boundary in the file for: "
                + ", ".join(f"{name} ({ags})" for ags, name in self.missing)
            )
        if self.ignored:
            lines.append(f"{self.ignored} features of other regions were ignored.")
        if self.skipped:
            lines.append(f"{len(self.skipped)} features without AGS or polygon were skipped.")
        return "\n".join(lines)


def import_file(
    path: str | Path,
    *,
    ags_prefix: str | None = None,
    crs: str | None = None,
    ags_column: str | None = None,
    actor: StaffUser | None = None,
) -> ImportReport:
    """Import the boundaries of the region's municipalities from a file; one transaction.

    Without ``ags_prefix`` the file's features are kept whose AGS is one of the region's; with
    it, those whose AGS starts with the prefix (an AGS that is not a municipality of the region
    is reported as unmatched). Raises :class:`BoundaryFileError` (nothing stored) if the file
    cannot be read or holds no boundary of the region.
    """
    if ags_prefix is not None and not (ags_prefix.isdigit() and 1 <= len(ags_prefix) <= 8):
        raise BoundaryFileError(
            "The AGS prefix must be one to eight digits (e.g. 05562).", "bad_prefix"
        )
    boundaries = read_boundaries(path, crs=crs, ags_column=ags_column)
    region = current_app.config["REGION"]
    names = dict(
        db.session.execute(
            select(Municipality.ags, Municipality.name).where(Municipality.region_key == region.key)
        ).all()
    )
    report = ImportReport(
        fixed=boundaries.fixed, skipped=boundaries.skipped, ags_column=boundaries.ags_column
    )
    for ags in sorted(boundaries.polygons):
        wanted = ags.startswith(ags_prefix) if ags_prefix else ags in names
        if not wanted:
            report.ignored += 1
        elif ags in names:
            report.matched.append((ags, names[ags]))
        else:
            report.unmatched.append(ags)
    if not report.matched:
        raise BoundaryFileError(
            "The file holds no boundary of the region's municipalities"
            + (f" (AGS prefix {ags_prefix})." if ags_prefix else "."),
            "no_match",
        )
    found = dict(report.matched)
    report.missing = [(ags, name) for ags, name in sorted(names.items()) if ags not in found]
    try:
        for ags, _name in report.matched:
            db.session.execute(
                Municipality.__table__.update()
                .where(Municipality.ags == ags)
                .values(boundary=from_shape(boundaries.polygons[ags], srid=4326))
            )
        report.assigned = assign_municipalities()
        audit.record(
            AUDIT_ACTION,
            None,
            actor=actor,
            after=report.summary(),
            note=(
                f"{len(report.matched)} Gemeinden, {report.assigned} Einträge zugeordnet, "
                f"{report.fixed} Geometrien repariert"
            ),
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def error_message(error: BoundaryFileError) -> str:
    """The message for a file that cannot be imported, in the interface language (plain text;
    it names a column or CRS given by the user at most, shortened)."""
    messages = {
        "format": _("Die Datei ist weder GeoJSON noch GeoPackage noch ein gezipptes Shapefile."),
        "unreadable": _("Die Datei ist beschädigt oder kann nicht gelesen werden."),
        "reproject": _("Die Koordinaten der Datei können nicht umgerechnet werden."),
        "no_crs": _(
            "Die Datei nennt kein Koordinatensystem (z. B. ein Shapefile ohne .prj): bitte "
            "geben Sie eines an, z. B. EPSG:25832."
        ),
        "bad_crs": _(
            "„%(value)s“ ist kein Koordinatensystem (z. B. EPSG:25832).", value=error.detail
        ),
        "no_column": _("Die Datei hat keine Spalte „%(value)s“.", value=error.detail),
        "no_ags_column": _(
            "Keine AGS-Spalte gefunden (AGS, AGS_0, KN …): bitte nennen Sie sie. Spalten der "
            "Datei: %(value)s",
            value=error.detail,
        ),
        "zip_members": _("Die ZIP-Datei enthält zu viele Dateien."),
        "zip_size": _("Die ZIP-Datei ist entpackt zu groß."),
        "zip_shapefile": _("Die ZIP-Datei muss genau ein Shapefile (.shp) enthalten."),
        "zip_damaged": _("Die ZIP-Datei ist beschädigt."),
        "bad_prefix": _("Der AGS-Anfang besteht aus ein bis acht Ziffern (z. B. 05562)."),
        "no_match": _("Die Datei enthält keine Grenze einer Gemeinde der Region."),
    }
    return messages.get(error.code, messages["unreadable"])


def assign_municipalities() -> int:
    """Give every employer without a municipality the one whose stored boundary its point lies
    in (one UPDATE, in the caller's transaction); the number of employers assigned."""
    result = db.session.execute(
        text(
            """
            UPDATE companies AS c
               SET municipality_ags = m.ags, version = c.version + 1
              FROM municipalities AS m
             WHERE c.municipality_ags IS NULL
               AND c.location IS NOT NULL
               AND m.boundary IS NOT NULL
               AND ST_Intersects(m.boundary, c.location)
            """
        )
    )
    return result.rowcount


def outline() -> dict | None:
    """The region's outline: the dissolved stored boundaries, simplified, as a GeoJSON
    geometry; the region file's outline when no boundary is stored, else None."""
    geometry = db.session.scalar(
        select(
            func.ST_AsGeoJSON(
                func.ST_SimplifyPreserveTopology(
                    func.ST_Union(Municipality.boundary), OUTLINE_TOLERANCE
                ),
                6,
            )
        ).where(
            Municipality.region_key == current_app.config["REGION"].key,
            Municipality.boundary.is_not(None),
        )
    )
    return json.loads(geometry) if geometry else current_app.config["REGION"].outline
