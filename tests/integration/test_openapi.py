"""The OpenAPI description of the public API (``/api/openapi.json``) against the code.

- the document is valid OpenAPI 3.1, and its examples fit its own schemas;
- every public ``/api`` rule of the URL map is documented, and every documented path exists;
- the parameters of each source are its declared ones;
- schemathesis generates requests from the served document and checks every answer against
  it (status, content type, schema, and that valid values are accepted), on published and
  unpublished employers, events and layer features; nothing unpublished ever appears;
- the documentation page renders the same operations.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import given as hypothesis_given
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis.generation.modes import GenerationMode
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app.extensions import db
from app.features import source as sources
from app.models import CompanyStatus, LayerFeature

#: The documented non-API paths (they answer other media types).
NON_API = {"/veranstaltungen.ics"}
#: Names that only published rows carry in the fixture; the unpublished ones must never appear.
HIDDEN = ("Versteckt wartend", "Versteckt abgelehnt", "Termin wartend", "Wohnung abgelaufen")


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def add_feature(kind: str, name: str, lon: float, lat: float, **values) -> None:
    expires_on = values.pop("expires_on", None)
    db.session.add(
        LayerFeature(
            kind=kind,
            name=name,
            properties=values,
            location=f"SRID=4326;POINT({lon} {lat})",
            source="test",
            expires_on=expires_on,
        )
    )


@pytest.fixture
def published_data(app, make_company, make_event):
    """Published and unpublished employers, events and layer features."""
    make_company(
        "Bäckerei Offen",
        sectors=("10",),
        family=("flexible_hours",),
        offers_apprenticeships=True,
        languages=["de", "tr"],
        website="https://baeckerei.example",
    )
    make_company("Dachdecker Offen", lon=7.21, lat=51.62, employees=40)
    make_company("Metallbau Gladbeck", lon=6.987, lat=51.571, municipality_ags="05562014")
    make_company("Versteckt wartend", status=CompanyStatus.PENDING, lon=7.2, lat=51.615)
    make_company("Versteckt abgelehnt", status=CompanyStatus.REJECTED, lon=7.19, lat=51.61)
    make_event("Infoabend Offen")
    make_event("Messe Offen", kind="job_fair", location=(7.0, 51.57), free_of_charge=False)
    make_event("Termin wartend", status="pending")
    with app.app_context():
        add_feature("transit", "Recklinghausen Hbf", 7.2, 51.614, lines="S2, RE2")
        add_feature("childcare", "Kita Sonnenschein", 7.198, 51.6147, operator="Stadt")
        add_feature("housing", "Wohnung frei", 7.197, 51.615, rooms="2", rent="600 €")
        add_feature(
            "housing",
            "Wohnung abgelaufen",
            7.196,
            51.616,
            expires_on=date.today() - timedelta(days=1),
        )
        db.session.commit()


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises on any violation of the OpenAPI 3.1 schema


def _examples(node, where=""):
    """Every (where, schema, example) in the document (media types and parameters)."""
    if isinstance(node, dict):
        if "schema" in node and "example" in node:
            yield where, node["schema"], node["example"]
        for key, value in node.items():
            yield from _examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _examples(value, f"{where}/{index}")


def test_every_example_fits_its_schema(spec):
    """Examples are generated or hand-written: either way they must fit their schemas."""
    found = list(_examples(spec["paths"])) + list(_examples(spec["components"]))
    assert len(found) > 20
    for where, schema, example in found:
        # "#/components/…" references resolve against the document's components.
        rooted = {**schema, "components": spec["components"]}
        errors = list(jsonschema.Draft202012Validator(rooted).iter_errors(example))
        assert not errors, (where, errors[0].message)


def _public_api_rules(app) -> set[str]:
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and "GET" in (rule.methods or ())
    }


def _concrete(path: str, spec_path: dict) -> list[str]:
    """The documented path with its path parameters replaced by each allowed value."""
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return [path]
    parameters = {p["name"]: p for p in spec_path["get"].get("parameters", []) if "name" in p}
    (name,) = names
    schema = parameters[name]["schema"]
    values = schema["enum"] if "enum" in schema else [str(parameters[name]["example"])]
    return [path.replace("{" + name + "}", value) for value in values]


def test_every_public_api_rule_is_documented_and_every_documented_path_exists(app, spec):
    adapter = app.url_map.bind("localhost")
    documented_rules = set()
    for path, item in spec["paths"].items():
        assert set(item) == {"get"}, path  # the public API only reads
        for concrete in _concrete(path, item):
            try:
                endpoint, _values = adapter.match(concrete, method="GET")
            except (NotFound, MethodNotAllowed):
                pytest.fail(f"documented path {concrete} does not exist")
            rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
            documented_rules.add(rule.rule)
            assert path.startswith("/api/") or path in NON_API
    missing = _public_api_rules(app) - documented_rules
    assert not missing, f"public API rules not in /api/openapi.json: {sorted(missing)}"


def test_each_source_documents_exactly_its_declared_parameters(app, spec):
    with app.test_request_context():
        registered = sources.registered()
    assert {"employers", "events", "transit", "childcare"} <= set(registered)
    for key, source in registered.items():
        for path in (f"/api/features/{key}", f"/api/features/{key}/list"):
            names = [
                parameter["$ref"].rsplit("/", 1)[1]
                for parameter in spec["paths"][path]["get"]["parameters"]
                if parameter.get("$ref", "").split("/")[-1].startswith(f"{key}.")
            ]
            assert names == [f"{key}.{p.name}" for p in source.parameters], path
    # The choices are the values the parser accepts: a documented value is accepted and an
    # undocumented one refused.
    sector = spec["components"]["parameters"]["employers.sector"]["schema"]["items"]["enum"]
    assert "C" in sector and "43" in sector and "ZZ" not in sector
    assert spec["paths"]["/api/features/employers"]["get"]["parameters"]


def test_documented_values_are_accepted_and_others_refused(client, spec):
    components = spec["components"]["parameters"]
    for name in ("employers.sector", "employers.municipality", "events.kind", "events.free"):
        schema = components[name]["schema"]
        values = schema.get("items", schema)["enum"]
        key, parameter = name.split(".")
        for value in values[:5]:
            response = client.get(f"/api/features/{key}", query_string={parameter: value})
            assert response.status_code == 200, (name, value, response.get_json())
        response = client.get(f"/api/features/{key}", query_string={parameter: "kein-wert"})
        assert response.status_code == 400
        assert response.get_json()["parameter"] == parameter


def test_employer_properties_follow_the_public_fields(spec, client, published_data):
    from app.features.employers import PRIVATE_FIELDS, PUBLIC_FIELDS

    collection = spec["paths"]["/api/employers"]["get"]["responses"]["200"]["content"]
    feature = collection["application/geo+json"]["schema"]["properties"]["features"]["items"]
    documented = feature["anyOf"][0]["properties"]["properties"]["properties"]
    assert set(PUBLIC_FIELDS) <= set(documented)
    assert not set(PRIVATE_FIELDS) & set(documented)
    # A real answer has exactly the documented properties (distance_km only with a place).
    answer = client.get("/api/employers?zoom=18").get_json()
    properties = answer["features"][0]["properties"]
    assert set(properties) == set(documented) - {"distance_km"}


def test_every_documented_list_shows_published_rows_only(client, spec, published_data):
    shown = ""
    for path in spec["paths"]:
        if path.endswith("/list") or path == "/veranstaltungen.ics":
            response = client.get(path)
            assert response.status_code == 200, path
            text = response.get_data(as_text=True)
            for hidden in HIDDEN:
                assert hidden not in text, (path, hidden)
            shown += text
    for name in ("Dachdecker Offen", "Infoabend Offen", "Kita Sonnenschein", "Wohnung frei"):
        assert name in shown


def _values(value) -> list:
    return value if isinstance(value, list) else str(value).split(",")


def respecting_the_described_rules(case):
    """The case (its query already serialized: lists comma-joined) with the rules the document
    states in words (JSON Schema cannot say them) made true: a bbox's west below its east and
    south below its north, each kind at most once in ``within``, ``sort=distance`` only with
    ``near``."""
    query = case.query
    if not query:
        return case
    if "bbox" in query:
        west, south, east, north = (float(v) for v in _values(query["bbox"]))
        (west, east), (south, north) = sorted((west, east)), sorted((south, north))
        if west == east or south == north:
            del query["bbox"]
        else:
            query["bbox"] = ",".join(repr(v) for v in (west, south, east, north))
    if "within" in query:
        kept = {}
        for condition in _values(query["within"]):
            kept.setdefault(condition.split(":")[0], condition)
        query["within"] = ",".join(kept.values())
    if query.get("sort") == "distance" and not query.get("near"):
        query["sort"] = "name"
    return case


def without_empty_values(case) -> bool:
    """Whether no query value is empty or has an empty part: the document says that empty
    values narrow nothing (they are accepted whatever the parameter's schema). A null, an
    empty list and an empty object are sent as an empty value (``near=``)."""
    return not any(_empty(value) for value in (case.query or {}).values())


def _empty(value) -> bool:
    if value is None:
        return True
    if isinstance(value, list | dict):
        return not value
    return any(not part.strip() for part in str(value).split(","))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_as_documented(app, published_data, mode):
    """Schemathesis: requests generated from the served document, every answer checked
    (status code, content type, body schema; valid values accepted, invalid ones refused)."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    seen: dict[str, int] = {}
    unconstrained: list[str] = []
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode)
        if mode is GenerationMode.POSITIVE:
            strategy = strategy.map(respecting_the_described_rules)
        else:
            strategy = strategy.filter(without_empty_values)

        @hypothesis_given(case=strategy)
        @settings(
            max_examples=12 if mode is GenerationMode.POSITIVE else 8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        def check(case):
            # Schemathesis' WSGI transport asks for compressed answers but does not unpack
            # them (a real HTTP client does; tests/integration/test_compression.py).
            response = case.call_and_validate(headers={"Accept-Encoding": "identity"})
            seen[case.operation.label] = seen.get(case.operation.label, 0) + 1
            if response.status_code == 200 and case.path != "/api/docs":
                text = response.text
                for hidden in HIDDEN:
                    assert hidden not in text, (case.path, hidden)

        try:
            check()
        except Unsatisfiable:  # nothing of this operation can be invalid (no constrained input)
            assert mode is GenerationMode.NEGATIVE, operation.label
            unconstrained.append(operation.label)
    assert len(seen) + len(unconstrained) == len(operations)
    assert len(seen) >= 20


def test_the_documentation_page_lists_every_operation(client, spec):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for path in spec["paths"]:
        assert f"GET {path}</code>" in page, path
    assert 'href="/api/openapi.json' in page
    assert "<script" not in page.split("<main", 1)[1]
    english = client.get("/api/docs?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english
