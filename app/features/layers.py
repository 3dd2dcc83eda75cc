"""Layer kinds as feature sources: one :class:`LayerSource` per configured kind
(:mod:`app.layers`), registered per app from its configuration (:func:`register_layer_sources`,
called by ``create_app``), so that an app with its own ``LAYER_KINDS`` file has its own layers.

A layer's public rows are its features that have not expired (housing offers carry an expiry
date); its properties are the name and the kind's fields, in the kind's order.
"""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select

from app.features.filters import FeatureFilter, Parameter, within_parameter
from app.features.source import register_for_app
from app.i18n import current_language
from app.layers import LayerKind, layer_kinds
from app.models.layers import LayerFeature

#: The German collation names are sorted by (as for employers).
NAME_COLLATION = "de-x-icu"


def public_layer_features(kind: str) -> Select:
    """Features of ``kind`` that are public: not expired (``expires_on`` today or later)."""
    return select(LayerFeature).where(
        LayerFeature.kind == kind,
        or_(LayerFeature.expires_on.is_(None), LayerFeature.expires_on >= func.current_date()),
    )


class LayerSource:
    """The features of one configured layer kind, for the map, the API and exports."""

    parameters = ()
    make_filter = staticmethod(FeatureFilter)

    def __init__(self, kind: LayerKind):
        self.kind = kind
        self.key = kind.key
        self.marker = kind.marker
        self.geometry = LayerFeature.location
        self.id_column = LayerFeature.id
        self.name_order = (LayerFeature.name.collate(NAME_COLLATION),)

    def label(self) -> str:
        """The kind's name in the interface language."""
        return self.kind.name(current_language())

    def empty_filter(self) -> FeatureFilter:
        """A filter that narrows nothing."""
        return FeatureFilter()

    def vocabulary(self):
        """Layers declare no choice parameters."""
        return None

    def query(self, f: FeatureFilter) -> Select:
        """The kind's features that have not expired."""
        return public_layer_features(self.key)

    def with_details(self, query: Select) -> Select:
        """Everything ``properties`` reads is in the row."""
        return query

    def properties(self, row) -> dict:
        """The name and the kind's fields (in order; absent ones are None)."""
        return feature_properties(self.kind, row[0])

    def feature_id(self, row) -> int:
        """The feature's id."""
        return row[0].id

    def export_rows(self, f: FeatureFilter, **options):
        """Column names (name, then the kind's fields) and a query of rows ending in lon, lat."""
        from app.features.pipeline import matching

        names = ["name", *(field.key for field in self.kind.fields)]
        columns = [LayerFeature.name]
        columns += [
            LayerFeature.properties[field.key].astext.label(field.key) for field in self.kind.fields
        ]
        columns += [func.ST_X(LayerFeature.location), func.ST_Y(LayerFeature.location)]
        query = matching(self, f, use_view=False).with_only_columns(*columns)
        return names, query.order_by(LayerFeature.id)

    def declaration_extras(self) -> dict:
        """What the browser needs besides the common declaration: the kind (colour, symbol,
        field labels; the fields' values are data, German as written: ``lang``) and that the
        layer starts switched off."""
        layer = self.kind.declaration(current_language())
        layer["fields"] = [{**field, "lang": "de"} for field in layer["fields"]]
        return {"layer": layer, "initiallyShown": False}


def feature_properties(kind: LayerKind, feature: LayerFeature) -> dict:
    """A feature's public properties: name, the kind's fields in order, and ``fictional``."""
    stored = feature.properties or {}
    properties = {"id": feature.id, "name": feature.name}
    properties.update({field.key: stored.get(field.key) for field in kind.fields})
    if stored.get("fictional"):
        properties["fictional"] = True
    return properties


def register_layer_sources(app) -> None:
    """One source per layer kind of ``app``'s configuration, for that app only."""
    for kind in app.config["LAYER_KINDS"].values():
        register_for_app(app, LayerSource(kind))


def proximity_kinds() -> dict[str, str]:
    """The current app's kinds that employers can be filtered by, with the filter's label."""
    language = current_language()
    return {
        key: kind.proximity_label(language) for key, kind in layer_kinds().items() if kind.proximity
    }


def within() -> Parameter:
    """The employer parameter ``within=<kind>:<metres>,…`` (kinds with ``proximity``)."""
    return within_parameter("within", proximity_kinds)
