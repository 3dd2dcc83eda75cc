"""The OpenAPI 3.1 description of the public JSON API (``GET /api/openapi.json``).

The parts that could drift from the code are generated from it:

- each feature source's query parameters from its declared :class:`Parameter` list (the same
  declarations the parser checks and the browser gets), with the values a choice accepts
  (the source's vocabulary: taxonomies, the region's municipalities, the layer kinds);
- one pair of paths (map data and list) per registered source, and ``/api/layers/{kind}``
  for the current app's configured kinds;
- the employer properties from :data:`app.features.employers.PUBLIC_FIELDS` and the types of
  their columns; a layer's properties from its kind's fields.

What the code cannot tell (descriptions, the event properties, the taxonomy answers) is written
here; ``tests/integration/test_openapi.py`` checks the document against the URL map and every
response against it (schemathesis), so neither side can change alone.

The texts are in the interface language (``?lang=en`` for English). Nothing here renders a
template or builds a URL from an endpoint name.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ARRAY, Boolean, Integer, String
from werkzeug.exceptions import NotFound

from app.features import source as sources
from app.features.filters import (
    CONTROL_CHARACTERS,
    MAX_PAGE,
    MAX_RADIUS_KM,
    MAX_TEXT,
    MAX_ZOOM,
    PROPERTY_SETS,
    SORTS,
    Parameter,
)
from app.features.pipeline import MARKER_PROPERTIES
from app.i18n import LANGUAGES, current_language
from app.layers import LayerKind, layer_kinds
from app.models import Company
from app.models.company import SIZES

OPENAPI_VERSION = "3.1.0"
#: JSON Schema for a text without the control characters the filter parser refuses.
NO_CONTROL = "^[^" + CONTROL_CHARACTERS.pattern[1:-1] + "]*$"
#: ``lat,lon`` as ``near`` accepts it.
LAT_LON = (
    "^-?(90(\\.0+)?|[1-8]?[0-9](\\.[0-9]+)?),-?(180(\\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\\.[0-9]+)?)$"
)
GEOJSON = "application/geo+json"
JSON = "application/json"
#: Alias paths: the same operations as ``/api/features/<key>`` for these sources.
ALIASES = {"employers": "/api/employers", "events": "/api/events"}
#: The employer properties that are not columns, with their schemas.
_EMPLOYER_EXTRA = {
    "id": {"type": "integer"},
    "sectors": {"type": "array", "items": {"type": "string"}},
    "occupations": {"type": "array", "items": {"type": "string"}},
    "family": {"type": "array", "items": {"type": "string"}},
    "apprenticeships": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "places": {"type": ["integer", "null"]},
                "label": {"type": "string"},
                "lang": {"type": "string", "enum": ["de", "en"]},
            },
            "required": ["code", "name", "places", "label", "lang"],
            "additionalProperties": False,
        },
    },
}
_NULLABLE_STRING = {"type": ["string", "null"]}
#: The event properties (:func:`app.features.events.public_properties`).
_EVENT_PROPERTIES = {
    "id": {"type": "integer"},
    "slug": {"type": "string"},
    "title": {"type": "string"},
    "kind": {"type": "string"},
    "kind_label": {"type": "string"},
    "starts_at": {"type": ["string", "null"], "format": "date-time"},
    "when": {"type": "string"},
    "all_day": {"type": "boolean"},
    "series": {"type": "boolean"},
    "place": {"type": "string"},
    "attendance": {"type": "string", "enum": ["on_site", "online", "hybrid"]},
    "organiser": {"type": "string"},
    "free_of_charge": {"type": "boolean"},
    "url": {"type": "string"},
    "cancelled": {"type": "boolean"},
}
#: Example values for properties and parameters (the document's examples are checked against
#: its schemas by the tests).
_EXAMPLES: dict[str, Any] = {
    "id": 42,
    "slug": "baeckerei-beispiel",
    "name": "Bäckerei Beispiel",
    "title": "Infoabend Ausbildung",
    "description": "Handwerksbäckerei mit drei Filialen.",
    "street": "Marktplatz",
    "house_number": "1",
    "postal_code": "45657",
    "town": "Recklinghausen",
    "website": "https://baeckerei-beispiel.example",
    "phone": "02361 000000",
    "email": "info@baeckerei-beispiel.example",
    "municipality_ags": "05562032",
    "employees": 12,
    "open_positions": 2,
    "offers_apprenticeships": True,
    "offers_internships": False,
    "languages": ["de", "tr"],
    "size_class": "small",
    "sectors": ["10"],
    "occupations": ["29"],
    "family": ["flexible_hours"],
    "apprenticeships": [],
    "kind": "info_event",
    "kind_label": "Infoveranstaltung",
    "starts_at": "2026-12-01T10:00:00+01:00",
    "when": "Dienstag, 1. Dezember 2026, 10:00",
    "all_day": False,
    "series": False,
    "place": "Rathaus, 45657 Recklinghausen",
    "attendance": "on_site",
    "organiser": "Jobcenter Kreis Recklinghausen",
    "free_of_charge": True,
    "url": "/veranstaltungen/infoabend-ausbildung",
    "cancelled": False,
}


def _nullable(schema: dict) -> dict:
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*kinds, "null"]}


def _type_schema(sql_type) -> dict:
    if isinstance(sql_type, ARRAY):
        return {"type": "array", "items": _type_schema(sql_type.item_type)}
    if isinstance(sql_type, Boolean):
        return {"type": "boolean"}
    if isinstance(sql_type, Integer):
        return {"type": "integer"}
    if isinstance(sql_type, String):
        return {"type": "string"}
    return {}


def column_schema(column) -> dict:
    """The JSON Schema of a mapped column's value as the API writes it."""
    schema = _type_schema(column.type)
    if column.key == "size_class":
        schema["enum"] = [*SIZES, None]
    return _nullable(schema) if column.nullable and "type" in schema else schema


def employer_properties() -> dict:
    """The employer properties: :data:`PUBLIC_FIELDS` typed by their columns, then the
    classifications."""
    from app.features.employers import PUBLIC_FIELDS

    columns = Company.__table__.c
    properties = {"id": _EMPLOYER_EXTRA["id"]}
    properties.update({name: column_schema(columns[name]) for name in PUBLIC_FIELDS})
    properties.update({k: v for k, v in _EMPLOYER_EXTRA.items() if k != "id"})
    return properties


def layer_properties(kind: LayerKind) -> dict:
    """A layer feature's properties: id, name, the kind's fields in order, ``fictional``."""
    value = {"type": ["string", "number", "integer", "boolean", "null"]}
    properties = {"id": {"type": "integer"}, "name": {"type": "string"}}
    properties.update(
        {field.key: dict(value, title=field.label(current_language())) for field in kind.fields}
    )
    properties["fictional"] = {"type": "boolean", "const": True}
    return properties


def source_properties(key: str) -> dict:
    """The properties of a feature of the source ``key`` (JSON Schema by property name)."""
    if key == "employers":
        return employer_properties()
    if key == "events":
        return copy.deepcopy(_EVENT_PROPERTIES)
    kinds = layer_kinds()
    if key in kinds:
        return layer_properties(kinds[key])
    return {"id": {}}


def _optional(key: str) -> set[str]:
    return {"fictional"} if key in layer_kinds() else set()


def _object(properties: dict, optional=()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


_PYTHON_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}


def _fits(value: Any, schema: dict) -> bool:
    """Whether ``value`` has the type ``schema`` asks for (items of a list included)."""
    kinds = schema.get("type")
    if kinds is None:
        return True
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if isinstance(value, bool) and "boolean" not in kinds:
        return False
    if not any(isinstance(value, _PYTHON_TYPES[kind]) for kind in kinds):
        return False
    if isinstance(value, list) and "items" in schema:
        return all(_fits(item, schema["items"]) for item in value)
    return "enum" not in schema or value in schema["enum"]


def example_of(schema: dict, name: str = "") -> Any:
    """An example value for ``schema`` (a known example for the property ``name`` first)."""
    if name in _EXAMPLES and _fits(_EXAMPLES[name], schema):
        return copy.deepcopy(_EXAMPLES[name])
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        optional = set(schema["properties"]) - set(schema.get("required", ()))
        return {
            key: example_of(value, key)
            for key, value in schema.get("properties", {}).items()
            if key not in optional
        }
    if kind == "array":
        return []
    return {"integer": 1, "number": 1.5, "boolean": True, "null": None}.get(kind, "…")


# --- parameters ----------------------------------------------------------------------------


def _descriptions() -> dict[str, str]:
    """What each parameter means, in the interface language."""
    return {
        "q": _(
            "Freitext: jedes Wort muss vorkommen (auch als Wortanfang; ä, ae und a gelten "
            "gleich). Arbeitgeber: findet das keinen veröffentlichten Eintrag, genügen ähnlich "
            "geschriebene Wörter im Namen (Tippfehler)."
        ),
        "sector": _("Wirtschaftszweige (WZ 2008): Abschnitte A bis U oder Abteilungen."),
        "occupation": _("Berufe (KldB 2010): Berufsbereiche oder Berufshauptgruppen."),
        "municipality": _("Gemeinden der Region, als achtstelliger Gemeindeschlüssel (AGS)."),
        "near": _(
            "Ein Ort: Postleitzahl, Gemeindename der Region oder Koordinaten „Breite,Länge“."
        ),
        "radius_km": _("Umkreis um den Ort in Kilometern (nur mit near)."),
        "size": _("Größenklassen nach Beschäftigtenzahl."),
        "family": _("Familienfreundliche Merkmale: alle angegebenen müssen zutreffen."),
        "offers": _("Angebote: Ausbildung, Praktikum oder offene Stellen."),
        "apprenticeship": _("Anerkannte Ausbildungsberufe (Codes aus /api/taxonomies/search)."),
        "language": _("Sprachen im Betrieb (ISO 639-1)."),
        "within": _(
            "Nähe zu Ebenen: Art:Meter, mehrere mit Komma; alle müssen zutreffen, "
            "jede Art höchstens einmal."
        ),
        "kind": _("Art der Veranstaltung."),
        "target_group": _("Zielgruppen."),
        "free": _("yes: nur kostenlose, no: nur kostenpflichtige Veranstaltungen."),
        "attendance": _("on_site: vor Ort (auch hybrid), online: online (auch hybrid)."),
        "bbox": _(
            "Kartenausschnitt: Westen, Süden, Osten, Norden in Grad (WGS 84); Westen kleiner "
            "als Osten, Süden kleiner als Norden."
        ),
        "zoom": _("Zoomstufe der Karte: bestimmt, wie dicht Punkte zusammengefasst werden."),
        "properties": _(
            "all: alle öffentlichen Angaben je Punkt; marker: nur id, slug, name oder title "
            "(und distance_km), was eine Markierung braucht. Die übrigen Angaben eines "
            "Arbeitgebers liefert dann /api/employers/{id}."
        ),
        "sort": _("Reihenfolge: name, oder distance (nur mit near; dann die Vorgabe)."),
        "page": _("Seite der Liste (20 Einträge je Seite)."),
        "lang": _("Sprache der Bezeichnungen und Meldungen."),
    }


def _parameter(name: str, schema: dict, description: str, **extra) -> dict:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    parameter.update(extra)
    return parameter


def parameter_object(parameter: Parameter, vocabulary: Any) -> dict:
    """The OpenAPI parameter for a declared filter parameter (values from ``vocabulary``)."""
    description = _descriptions().get(parameter.name, "")
    if parameter.type == "text":
        schema = {"type": "string", "maxLength": MAX_TEXT, "pattern": NO_CONTROL}
        return _parameter(parameter.name, schema, description, example="Bäckerei")
    if parameter.type == "choice":
        values = sorted(parameter.allowed(vocabulary))
        item = {"type": "string", "enum": values}
        if parameter.multiple:
            schema = {"type": "array", "items": item}
            return _parameter(
                parameter.name,
                schema,
                description + " " + _("Mehrere Werte mit Komma: einer davon genügt.")
                if parameter.name != "family"
                else description,
                style="form",
                explode=False,
                example=values[:1],
            )
        return _parameter(parameter.name, item, description, example=values[0])
    if parameter.type == "place":
        places = sorted(_place_names())
        schema = {
            "anyOf": [
                {"type": "string", "enum": places},
                {"type": "string", "pattern": LAT_LON},
            ]
        }
        return _parameter(parameter.name, schema, description, example="45657")
    if parameter.type == "number":  # radius_km
        schema = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_KM}
        if parameter.default:
            schema["default"] = float(parameter.default)
        return _parameter(parameter.name, schema, description, example=10)
    if parameter.type == "proximity":
        schema = {"type": "string", "enum": list(parameter.options)}
        return _parameter(parameter.name, schema, description, example=parameter.options[0])
    if parameter.type == "within":
        kinds = sorted(parameter.allowed(None))
        pattern = "^({}):({})$".format("|".join(kinds), "|".join(parameter.options))
        schema = {
            "type": "array",
            "items": {"type": "string", "pattern": pattern},
            "maxItems": max(len(kinds), 1),
        }
        example = [f"{kinds[0]}:{parameter.options[1]}"] if kinds else []
        return _parameter(
            parameter.name,
            schema,
            description,
            style="form",
            explode=False,
            example=example,
        )
    raise ValueError(f"no OpenAPI form for parameter type {parameter.type!r}")


def _place_names() -> set[str]:
    """Postal codes and municipality names ``near`` resolves (those of the database)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Municipality, PostalCode

    codes = db.session.scalars(
        select(PostalCode.code).join(Municipality, PostalCode.municipality_ags == Municipality.ags)
    )
    names = db.session.scalars(select(Municipality.name))
    return set(codes) | set(names)


def _view_parameters() -> list[dict]:
    descriptions = _descriptions()
    longitude = {"type": "number", "minimum": -180, "maximum": 180}
    latitude = {"type": "number", "minimum": -90, "maximum": 90}
    bbox = {
        "type": "array",
        "prefixItems": [longitude, latitude, longitude, latitude],
        "items": False,
        "minItems": 4,
        "maxItems": 4,
    }
    return [
        _parameter(
            "properties",
            {"type": "string", "enum": list(PROPERTY_SETS), "default": PROPERTY_SETS[0]},
            descriptions["properties"],
        ),
        _parameter(
            "bbox",
            bbox,
            descriptions["bbox"],
            style="form",
            explode=False,
            example=[6.9, 51.5, 7.4, 51.8],
        ),
        _parameter(
            "zoom",
            {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM},
            descriptions["zoom"],
            example=12,
        ),
    ]


def _list_parameters() -> list[dict]:
    descriptions = _descriptions()
    return [
        _parameter("sort", {"type": "string", "enum": list(SORTS)}, descriptions["sort"]),
        _parameter(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            descriptions["page"],
            example=1,
        ),
    ]


def _lang_parameter(strict: bool = False) -> dict:
    """``lang``: checked (400 for another value) by the taxonomy endpoints, elsewhere only a
    choice of language (another value means German)."""
    return {"$ref": "#/components/parameters/" + ("lang" if strict else "interface_lang")}


# --- responses -----------------------------------------------------------------------------


def _point() -> dict:
    return {
        "type": "object",
        "properties": {
            "type": {"const": "Point"},
            "coordinates": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
            },
        },
        "required": ["type", "coordinates"],
        "additionalProperties": False,
    }


def feature_schema(key: str, *, marker: bool = False) -> dict:
    """One point feature of the source ``key``: every public property, or (``marker``) only
    what ``properties=marker`` keeps (:data:`app.features.pipeline.MARKER_PROPERTIES`)."""
    properties = source_properties(key)
    properties["distance_km"] = {"type": "number"}
    optional = _optional(key) | {"distance_km"}
    if marker:
        properties = {name: properties[name] for name in MARKER_PROPERTIES if name in properties}
        optional = set(properties) - {"id"}
    return _object(
        {
            "type": {"const": "Feature"},
            "id": {"type": "integer"},
            "geometry": {"$ref": "#/components/schemas/Point"},
            "properties": _object(properties, optional),
        }
    )


def feature_collection_schema(key: str) -> dict:
    """The map data of the source ``key``: features and clusters, with the counts."""
    feature, marker_feature = feature_schema(key), feature_schema(key, marker=True)
    return _object(
        {
            "type": {"const": "FeatureCollection"},
            "total": {"type": "integer", "minimum": 0},
            "matched": {"type": "integer", "minimum": 0},
            "clustered": {"type": "boolean"},
            "limited": {"type": "boolean"},
            "limit": {"type": "integer", "minimum": 1},
            "features": {
                "type": "array",
                "items": {
                    "anyOf": [feature, marker_feature, {"$ref": "#/components/schemas/Cluster"}]
                },
            },
            "place": {"$ref": "#/components/schemas/Place"},
        },
        optional={"place"},
    )


def list_schema(key: str) -> dict:
    """One page of the list of the source ``key``."""
    properties = source_properties(key)
    properties["distance_km"] = {"type": ["number", "null"]}
    properties["url"] = {"type": ["string", "null"]}
    return _object(
        {
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "sort": {"type": "string", "enum": list(SORTS)},
            "suggestion": {
                "type": ["string", "null"],
                "description": _(
                    "„Meinten Sie“: für eine Suche mit q, die keinen Arbeitgeber oder nur ähnlich "
                    "geschriebene Namen fand, eine Schreibweise aus veröffentlichten Einträgen "
                    "(als q zu verwenden); sonst null."
                ),
            },
            "items": {"type": "array", "items": _object(properties, _optional(key))},
        }
    )


def _json_response(description: str, schema: dict, media: str = JSON) -> dict:
    example = example_of(schema) if "$ref" not in schema else None
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {media: content}}


def _errors(*codes: int) -> dict:
    return {str(code): {"$ref": f"#/components/responses/{code}"} for code in codes}


def _map_example(key: str) -> dict:
    schema = feature_collection_schema(key)
    example = example_of(schema)
    feature_schema = schema["properties"]["features"]["items"]["anyOf"][0]
    feature = example_of(feature_schema)
    feature["geometry"] = {"type": "Point", "coordinates": [7.1975, 51.6146]}
    example.update(total=1, matched=1, clustered=False, limited=False, limit=500)
    example["features"] = [feature]
    return example


def _list_example(key: str) -> dict:
    schema = list_schema(key)
    example = example_of(schema)
    example.update(total=1, page=1, pages=1, per_page=20, sort="name", suggestion=None)
    item = example_of(schema["properties"]["items"]["items"])
    item["distance_km"] = None
    item["url"] = f"/arbeitgeber/{_EXAMPLES['slug']}" if key == "employers" else item["url"]
    example["items"] = [item]
    return example


def _source_operations(key: str, label: str, parameters: list[dict]) -> tuple[dict, dict]:
    """The map-data and list operations of one source."""
    map_op = {
        "tags": [label],
        "summary": _("%(source)s: Kartendaten (GeoJSON)", source=label),
        "description": _(
            "Die passenden Einträge als GeoJSON-FeatureCollection; wo sie dicht liegen, als "
            "Cluster mit Anzahl. total zählt den Kartenausschnitt, matched alle passenden. "
            "Höchstens limit einzelne Punkte je Antwort."
        ),
        "operationId": f"{key}_map",
        "parameters": [*parameters, *_view_parameters(), _lang_parameter()],
        "responses": {
            "200": {
                "description": _("Die Kartendaten."),
                "content": {
                    GEOJSON: {
                        "schema": feature_collection_schema(key),
                        "example": _map_example(key),
                    }
                },
            },
            **_errors(400, 429),
        },
    }
    list_op = {
        "tags": [label],
        "summary": _("%(source)s: Liste", source=label),
        "description": _(
            "Eine Seite der passenden Einträge (20 je Seite), nach Name oder Entfernung; "
            "der Kartenausschnitt zählt hier nicht."
        ),
        "operationId": f"{key}_list",
        "parameters": [*parameters, *_list_parameters(), _lang_parameter()],
        "responses": {
            "200": {
                "description": _("Eine Seite der Liste."),
                "content": {JSON: {"schema": list_schema(key), "example": _list_example(key)}},
            },
            **_errors(400, 429),
        },
    }
    return map_op, list_op


def _source_parameters(source) -> list[dict]:
    vocabulary = source.vocabulary()
    return [parameter_object(p, vocabulary) for p in source.parameters]


def _taxonomy_schema() -> dict:
    entry = _object({"code": {"type": "string"}, "label": {"type": "string"}})
    divisions = _object(
        {
            "code": {"type": "string"},
            "label": {"type": "string"},
            "divisions": {"type": "array", "items": entry},
        }
    )
    groups = _object(
        {
            "code": {"type": "string"},
            "label": {"type": "string"},
            "groups": {"type": "array", "items": entry},
        }
    )
    entries = {"type": "array", "items": entry}
    return _object(
        {
            "language": {"type": "string", "enum": list(LANGUAGES)},
            "sectors": {"type": "array", "items": divisions},
            "occupations": {"type": "array", "items": groups},
            "family": entries,
            "sizes": entries,
            "offers": entries,
            "municipalities": entries,
            "languages": entries,
        }
    )


def _search_schema() -> dict:
    hit = _object(
        {
            "code": {"type": "string"},
            "label": {"type": "string"},
            "filter_code": {"type": "string"},
            "level": {"type": "string"},
            "term": {"type": ["string", "null"]},
        }
    )
    hits = {"type": "array", "items": hit}
    return _object(
        {
            "query": {"type": "string"},
            "language": {"type": "string", "enum": list(LANGUAGES)},
            "sectors": hits,
            "occupations": hits,
            "apprenticeships": hits,
        }
    )


def _kinds_schema() -> dict:
    field = _object({"key": {"type": "string"}, "label": {"type": "string"}})
    kind = _object(
        {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "colour": {"type": "string", "pattern": "^#[0-9a-fA-F]{3,6}$"},
            "symbol": {"type": "string"},
            "proximity": {"type": "boolean"},
            "fields": {"type": "array", "items": field},
            "attribution": {"type": "string"},
        }
    )
    return _object({"kinds": {"type": "array", "items": kind}})


def _outline_schema() -> dict:
    feature = _object(
        {
            "type": {"const": "Feature"},
            "geometry": {
                "type": "object",
                "properties": {
                    "type": {"enum": ["Polygon", "MultiPolygon"]},
                    "coordinates": {"type": "array"},
                },
                "required": ["type", "coordinates"],
            },
            "properties": {"type": "object", "maxProperties": 0},
        }
    )
    return _object(
        {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "items": feature, "maxItems": 1},
        }
    )


def _layer_union_schema(kinds: dict[str, LayerKind]) -> dict:
    """``/api/layers/{kind}``: the map data of any configured kind."""
    return {"anyOf": [feature_collection_schema(key) for key in kinds]} if kinds else {}


def _components() -> dict:
    descriptions = _descriptions()
    error = {
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": _("Der HTTP-Status als Text.")},
            "parameter": {
                "type": "string",
                "description": _("Der Parameter mit dem unbrauchbaren Wert (nur bei 400)."),
            },
            "message": {
                "type": "string",
                "description": _("Was nicht stimmt, als Klartext in der Sprache der Oberfläche."),
            },
        },
        "required": ["error", "message"],
        "additionalProperties": False,
    }

    def error_response(description: str, example: dict) -> dict:
        return {
            "description": description,
            "content": {
                JSON: {"schema": {"$ref": "#/components/schemas/Error"}, "example": example}
            },
        }

    return {
        "schemas": {
            "Error": error,
            "Point": _point(),
            "Cluster": _object(
                {
                    "type": {"const": "Feature"},
                    "geometry": {"$ref": "#/components/schemas/Point"},
                    "properties": _object(
                        {
                            "cluster": {"const": True},
                            "count": {"type": "integer", "minimum": 2},
                            "bbox": {
                                "type": "array",
                                "items": {"type": "number"},
                                "minItems": 4,
                                "maxItems": 4,
                            },
                        }
                    ),
                }
            ),
            "Place": _object(
                {
                    "lon": {"type": "number"},
                    "lat": {"type": "number"},
                    "label": {"type": "string"},
                    "radius_km": {"type": "number"},
                }
            ),
        },
        "parameters": {
            "lang": _parameter(
                "lang", {"type": "string", "enum": list(LANGUAGES)}, descriptions["lang"]
            ),
            "interface_lang": _parameter(
                "lang",
                {"type": "string", "examples": list(LANGUAGES)},
                descriptions["lang"] + " " + _("Ein anderer Wert bedeutet Deutsch."),
            ),
        },
        "responses": {
            "400": error_response(
                _("Ein Parameter hat einen unbrauchbaren Wert."),
                {
                    "error": "Bad Request",
                    "parameter": "sector",
                    "message": _(
                        "Unbekannter Wirtschaftszweig „%(value)s“: erwartet wird ein "
                        "WZ-2008-Abschnitt (A bis U) oder eine zweistellige WZ-Abteilung.",
                        value="ZZ",
                    ),
                },
            ),
            "404": error_response(
                _("Die angefragte Adresse gibt es nicht."),
                {"error": NotFound().name, "message": NotFound().description},
            ),
            "429": error_response(
                _("Zu viele Anfragen: die Grenze gilt je Client für die ganze API."),
                {
                    "error": "Too Many Requests",
                    "message": _(
                        "Zu viele Anfragen in kurzer Zeit. Bitte warten Sie einen Moment und "
                        "versuchen Sie es dann noch einmal."
                    ),
                },
            ),
        },
    }


def _source_paths() -> tuple[dict, dict]:
    """Map data and list of every registered source (and the aliases), with the sources'
    parameters as shared components (``<key>.<name>``)."""
    paths: dict[str, dict] = {}
    shared: dict[str, dict] = {}
    for key, source in sources.registered().items():
        parameters = []
        for parameter in _source_parameters(source):
            name = f"{key}.{parameter['name']}"
            shared[name] = parameter
            parameters.append({"$ref": f"#/components/parameters/{name}"})
        label = source.label()
        map_op, list_op = _source_operations(key, label, parameters)
        paths[f"/api/features/{key}"] = {"get": map_op}
        paths[f"/api/features/{key}/list"] = {"get": list_op}
        one_op = _feature_operation(key, label) if hasattr(source, "published_feature") else None
        if one_op:
            paths[f"/api/features/{key}/{{feature_id}}"] = {"get": one_op}
        if key in ALIASES:
            alias = ALIASES[key]
            paths[alias] = {"get": dict(map_op, operationId=f"{key}_map_alias")}
            paths[f"{alias}/list"] = {"get": dict(list_op, operationId=f"{key}_list_alias")}
            if one_op:
                alias_op = dict(one_op, operationId=f"{key}_feature_alias")
                paths[f"{alias}/{{feature_id}}"] = {"get": alias_op}
    return paths, shared


def _feature_operation(key: str, label: str) -> dict:
    """One published feature with every public property (what a popup shows)."""
    schema = feature_schema(key)
    example = example_of(schema)
    example["geometry"] = {"type": "Point", "coordinates": [7.1975, 51.6146]}
    return {
        "tags": [label],
        "summary": _("%(source)s: ein Eintrag (GeoJSON)", source=label),
        "description": _(
            "Ein veröffentlichter Eintrag mit allen öffentlichen Angaben, wie die Kartendaten "
            "ohne properties=marker sie zeigen; 404, wenn unter der Nummer keiner "
            "veröffentlicht ist."
        ),
        "operationId": f"{key}_feature",
        "parameters": [
            {
                "name": "feature_id",
                "in": "path",
                "required": True,
                "description": _("Die Nummer (id) des Eintrags."),
                "schema": {"type": "integer", "minimum": 0},
                "example": 42,
            },
            _lang_parameter(),
        ],
        "responses": {
            "200": {
                "description": _("Der Eintrag."),
                "content": {GEOJSON: {"schema": schema, "example": example}},
            },
            **_errors(404, 429),
        },
    }


def _layer_paths(kinds: dict[str, LayerKind]) -> dict:
    """``/api/layers`` and ``/api/layers/{kind}`` (the current app's kinds)."""
    paths: dict[str, dict] = {}
    layers_tag = _("Ebenen")
    paths["/api/layers"] = {
        "get": {
            "tags": [layers_tag],
            "summary": _("Die Ebenen-Arten"),
            "description": _(
                "Jede konfigurierte Ebene: Schlüssel, Name, Farbe, Symbol, Felder mit "
                "Bezeichnungen, ob Arbeitgeber nach der Nähe zu ihr gefiltert werden können, "
                "und die Quellenangabe."
            ),
            "operationId": "layer_kinds",
            "parameters": [_lang_parameter()],
            "responses": {
                "200": _json_response(_("Die Ebenen-Arten."), _kinds_schema()),
                **_errors(429),
            },
        }
    }
    if kinds:
        paths["/api/layers/{kind}"] = {
            "get": {
                "tags": [layers_tag],
                "summary": _("Eine Ebene: Kartendaten (GeoJSON)"),
                "description": _(
                    "Wie /api/features/{kind}: die Punkte einer Ebene im Kartenausschnitt."
                ),
                "operationId": "layer_map",
                "parameters": [
                    {
                        "name": "kind",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": list(kinds)},
                        "example": next(iter(kinds)),
                    },
                    *_view_parameters(),
                    _lang_parameter(),
                ],
                "responses": {
                    "200": {
                        "description": _("Die Kartendaten der Ebene."),
                        "content": {
                            GEOJSON: {
                                "schema": _layer_union_schema(kinds),
                                "example": _map_example(next(iter(kinds))),
                            }
                        },
                    },
                    **_errors(400, 404, 429),
                },
            }
        }
    return paths


def _vocabulary_paths() -> dict:
    """The taxonomy catalogue and the everyday-word search."""
    paths: dict[str, dict] = {}
    vocabulary_tag = _("Verzeichnisse")
    paths["/api/taxonomies"] = {
        "get": {
            "tags": [vocabulary_tag],
            "summary": _("Alle Codes, die die Filter annehmen"),
            "description": _(
                "Wirtschaftszweige, Berufe, familienfreundliche Merkmale, Größenklassen, "
                "Angebote, Gemeinden und Sprachen, jeweils mit Code und Bezeichnung."
            ),
            "operationId": "taxonomies",
            "parameters": [_lang_parameter(strict=True)],
            "responses": {
                "200": _json_response(_("Das Verzeichnis."), _taxonomy_schema()),
                **_errors(400, 429),
            },
        }
    }
    paths["/api/taxonomies/search"] = {
        "get": {
            "tags": [vocabulary_tag],
            "summary": _("Codes zu Alltagswörtern suchen"),
            "description": _(
                "Wirtschaftszweige, Berufe und Ausbildungsberufe zu Wörtern wie „Bäcker“, "
                "beste zuerst; ein Tippfehler wird toleriert."
            ),
            "operationId": "taxonomy_search",
            "parameters": [
                _parameter(
                    "q",
                    {"type": "string", "maxLength": 100, "pattern": NO_CONTROL},
                    _("Die gesuchten Wörter."),
                    example="Bäcker",
                ),
                _parameter(
                    "lang",
                    {"type": "string", "enum": ["", *LANGUAGES]},
                    _descriptions()["lang"] + " " + _("Leer: die Sprache der Oberfläche."),
                ),
            ],
            "responses": {
                "200": _json_response(_("Die Treffer."), _search_schema()),
                **_errors(400, 429),
            },
        }
    }
    return paths


def _other_paths() -> dict:
    """The region's outline and this description itself (document and page)."""
    paths: dict[str, dict] = {}
    paths["/api/region/outline"] = {
        "get": {
            "tags": [_("Region")],
            "summary": _("Umriss der Region (GeoJSON)"),
            "description": _(
                "Die gespeicherten Gemeindegrenzen, vereinigt und vereinfacht, als "
                "FeatureCollection mit einem Feature; ohne Feature, solange keine Grenzen "
                "gespeichert sind."
            ),
            "operationId": "region_outline",
            "responses": {
                "200": _json_response(_("Der Umriss."), _outline_schema(), GEOJSON),
                **_errors(429),
            },
        }
    }
    about_tag = _("Diese Beschreibung")
    paths["/api/openapi.json"] = {
        "get": {
            "tags": [about_tag],
            "summary": _("Diese Beschreibung (OpenAPI 3.1)"),
            "operationId": "openapi",
            "parameters": [_lang_parameter()],
            "responses": {
                "200": {
                    "description": _("Das OpenAPI-Dokument."),
                    "content": {JSON: {"schema": {"type": "object", "required": ["openapi"]}}},
                },
                **_errors(429),
            },
        }
    }
    paths["/api/docs"] = {
        "get": {
            "tags": [about_tag],
            "summary": _("Diese Beschreibung als Web-Seite"),
            "operationId": "docs",
            "parameters": [_lang_parameter()],
            "responses": {
                "200": {
                    "description": _("Die Dokumentation als HTML."),
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
                **_errors(429),
            },
        }
    }
    return paths


def _feed_paths(registered: dict) -> dict:
    """The iCalendar feed of the events (not JSON), if the events source is registered."""
    paths: dict[str, dict] = {}
    events_source = registered.get("events")
    if events_source is not None:
        paths["/veranstaltungen.ics"] = {
            "get": {
                "tags": [events_source.label()],
                "summary": _("Veranstaltungen als Kalender (iCalendar)"),
                "description": _(
                    "Die Veranstaltungen mit denselben Filtern wie die Liste: kommende und "
                    "die der letzten 30 Tage, abgesagte mit STATUS:CANCELLED. Bei einem "
                    "unbrauchbaren Filter 400 als Klartext."
                ),
                "operationId": "events_ical",
                "parameters": [
                    *(
                        {"$ref": f"#/components/parameters/events.{p.name}"}
                        for p in events_source.parameters
                    ),
                    _lang_parameter(),
                ],
                "responses": {
                    "200": {
                        "description": _("Der Kalender (RFC 5545)."),
                        "content": {"text/calendar": {"schema": {"type": "string"}}},
                    },
                    "304": {"description": _("Unverändert (ETag).")},
                    "400": {
                        "description": _("Ein Parameter hat einen unbrauchbaren Wert."),
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                },
            }
        }
    return paths


def document() -> dict:
    """The OpenAPI 3.1 document of the current app's public API (in the interface language)."""
    region = current_app.config["REGION"]
    paths, shared = _source_paths()
    paths.update(_layer_paths(layer_kinds()))
    paths.update(_vocabulary_paths())
    paths.update(_other_paths())
    paths.update(_feed_paths(sources.registered()))
    components = _components()
    components["parameters"].update(shared)
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": _("KMU-Atlas %(region)s: öffentliche API", region=region.name),
            "version": "1",
            "description": _(
                "Die veröffentlichten Arbeitgeber, Veranstaltungen und Ebenen der Karte, nur "
                "mit ihren öffentlichen Feldern. Alle Endpunkte sind lesend (GET) und ohne "
                "Anmeldung; eine Anfragegrenze gilt je Client für die ganze API. Mehrere "
                "Werte eines Parameters stehen mit Komma getrennt; verschiedene Parameter "
                "müssen alle zutreffen; leere Werte schränken nichts ein. Ein unbrauchbarer "
                "Wert ergibt 400 mit dem Namen des Parameters und einer Meldung."
            ),
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "paths": paths,
        "components": components,
    }


# --- the documentation page ------------------------------------------------------------------

#: At most this many allowed values are listed on the page (the rest are in /api/taxonomies).
SHOWN_VALUES = 12


def _schema_text(schema: dict) -> str:
    """A short description of a parameter's schema for the page."""
    if "anyOf" in schema:
        return " / ".join(_schema_text(option) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array" and "prefixItems" in schema:
        parts = ", ".join(_schema_text(item) for item in schema["prefixItems"])
        return _("Liste, mit Komma getrennt: %(items)s", items=parts)
    if kind == "array":
        return _("Liste, mit Komma getrennt: %(items)s", items=_schema_text(schema["items"]))
    if "enum" in schema:
        values = [str(value) for value in schema["enum"]]
        if len(values) > SHOWN_VALUES:
            return _(
                "einer von %(count)d Werten, z. B. %(values)s",
                count=len(values),
                values=", ".join(values[:SHOWN_VALUES]),
            )
        return _("einer von: %(values)s", values=", ".join(values))
    if "pattern" in schema and kind == "string" and "maxLength" not in schema:
        return _("Text der Form %(pattern)s", pattern=schema["pattern"])
    if kind == "string":
        limit = schema.get("maxLength")
        return _("Text, höchstens %(max)d Zeichen", max=limit) if limit else _("Text")
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum")
        name = _("ganze Zahl") if kind == "integer" else _("Zahl")
        if low is not None and high is not None:
            return f"{name} ({low}–{high})"
        return name
    return kind or ""


def _resolve(spec: dict, item: dict) -> dict:
    reference = item.get("$ref")
    if not reference:
        return item
    target: Any = spec
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    return target


def _example_url(path: str, parameters: list[dict]) -> str:
    from urllib.parse import urlencode

    query = []
    for parameter in parameters:
        if "example" not in parameter:
            continue
        value = parameter["example"]
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(value))
        elif not query and value not in ([], ""):
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            query.append((parameter["name"], text))
    return f"{path}?{urlencode(query)}" if query else path


def page_outline(spec: dict) -> list[dict]:
    """The operations of ``spec`` as the documentation page shows them: method, path, texts,
    parameters (name, where, what values, meaning), responses, an example request and an
    example answer (pretty JSON, shortened)."""
    import json

    operations = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            parameters = [_resolve(spec, p) for p in operation.get("parameters", [])]
            responses = []
            example = None
            for status, response in operation["responses"].items():
                response = _resolve(spec, response)
                responses.append({"status": status, "description": response["description"]})
                for media, content in response.get("content", {}).items():
                    if status == "200" and "example" in content and example is None:
                        text = json.dumps(content["example"], ensure_ascii=False, indent=2)
                        lines = text.splitlines()
                        if len(lines) > 60:
                            text = "\n".join([*lines[:60], "…"])
                        example = {"media": media, "text": text}
            operations.append(
                {
                    "id": operation.get("operationId", path),
                    "method": method.upper(),
                    "path": path,
                    "tag": (operation.get("tags") or [""])[0],
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "values": _schema_text(p["schema"]),
                            "description": p.get("description", ""),
                        }
                        for p in parameters
                    ],
                    "responses": responses,
                    "example_url": _example_url(path, parameters),
                    "example": example,
                }
            )
    return operations


def error_outline(spec: dict) -> list[dict]:
    """The shared error answers of ``spec``: status, description and the example as JSON."""
    import json

    return [
        {
            "status": status,
            "description": response["description"],
            "example": json.dumps(
                response["content"][JSON]["example"], ensure_ascii=False, indent=2
            ),
        }
        for status, response in spec["components"]["responses"].items()
    ]
