"""The map answer's JSON encoder (orjson) writes what the app's JSON provider would."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import Flask

from app.features.pipeline import to_json


def test_map_json_matches_the_app_provider_and_keeps_key_order():
    app = Flask(__name__)
    app.json.sort_keys = False
    data = {
        "type": "FeatureCollection",
        "features": [{"properties": {"z": 1, "a": "Bäckerei „Korn“", "when": date(2026, 12, 1)}}],
        "starts": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        "price": Decimal("2.50"),
        7: "a number key",
    }
    with app.app_context():
        ours = to_json(data)
        flasks = app.json.dumps(data)
    assert ours.endswith(b"\n")
    assert json.loads(ours) == json.loads(flasks)
    assert list(json.loads(ours)["features"][0]["properties"]) == ["z", "a", "when"]
    app.json.sort_keys = True
    with app.app_context():
        assert list(json.loads(to_json(data))) == sorted(str(key) for key in data)
