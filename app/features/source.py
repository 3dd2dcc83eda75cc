"""What a feature source is, and the registry of sources by key.

A feature source is anything the map shows: employers today; childcare, housing, transit and
training layers and events next. Each declares its filter parameters and gives a query of its
public rows and their public properties; everything else (map data with clusters, list, counts,
exports, permalinks, the browser's declarations) is done once for all sources by
:mod:`app.features.pipeline`.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Select
from sqlalchemy.engine import Row

from app.features.filters import FeatureFilter, Parameter


@runtime_checkable
class FeatureSource(Protocol):
    """A kind of feature on the map.

    ``query(filter)`` selects the public rows (published entries only) that pass the source's
    own parameters; the pipeline adds the shared spatial conditions. The pipeline passes each
    result row to ``properties`` (the public fields, JSON-ready) and ``feature_id``.
    """

    key: str
    #: Every filter parameter the source accepts, in permalink order.
    parameters: tuple[Parameter, ...]
    #: The point column (SRID 4326), the id column, and the name column lists sort by.
    geometry: Any
    id_column: Any
    name_order: tuple[Any, ...]
    #: CSS classes of the source's markers and clusters: {"className", "clusterClassName"}.
    marker: dict[str, str]

    def label(self) -> str:
        """The source's name in the interface language (legend, headings)."""

    def empty_filter(self) -> FeatureFilter:
        """A filter that narrows nothing."""

    def make_filter(self, **fields) -> FeatureFilter:
        """The source's filter from parsed values (FeatureFilter's fields)."""

    def vocabulary(self) -> Any:
        """What the source's choice parameters accept (handed to each ``allowed``)."""

    def query(self, f: FeatureFilter) -> Select:
        """Public rows passing the source's own parameters (not the spatial ones)."""

    def with_details(self, query: Select) -> Select:
        """``query`` with what ``properties`` reads loaded eagerly."""

    def properties(self, row: Row) -> dict:
        """The public fields of a result row."""

    def feature_id(self, row: Row) -> Any:
        """The id of a result row's feature."""

    def export_rows(self, f: FeatureFilter, **options) -> tuple[list[str], Select]:
        """The attribute names and a query of export rows: those attributes, then lon and lat
        (the filter without its map view)."""


_SOURCES: dict[str, FeatureSource] = {}
#: Where an app keeps the sources made from its own configuration (its layer kinds).
APP_SOURCES = "feature_sources"


def _app_sources() -> dict[str, FeatureSource]:
    """The current app's own sources (none outside an app)."""
    from flask import current_app, has_app_context

    return current_app.extensions.get(APP_SOURCES, {}) if has_app_context() else {}


def register_for_app(app, source: FeatureSource) -> FeatureSource:
    """Add a source to one app only (made from that app's configuration, e.g. a layer kind).
    Sources registered with :func:`register` come first and win on a key both use."""
    app.extensions.setdefault(APP_SOURCES, {})[source.key] = source
    return source


def register(source: FeatureSource) -> FeatureSource:
    """Add a source to the registry (its key must be new)."""
    if source.key in _SOURCES:
        raise ValueError(f"a feature source {source.key!r} is registered already")
    _SOURCES[source.key] = source
    return source


def unregister(key: str) -> None:
    """Remove a source from the registry (tests use it for sources of their own)."""
    _SOURCES.pop(key, None)


def get(key: str) -> FeatureSource:
    """The source with this key (registered, or the current app's own); KeyError if there is
    none."""
    if key in _SOURCES:
        return _SOURCES[key]
    return _app_sources()[key]


def registered() -> dict[str, FeatureSource]:
    """Every registered source by key, in registration order, then the current app's own."""
    sources = dict(_SOURCES)
    for key, source in _app_sources().items():
        sources.setdefault(key, source)
    return sources
