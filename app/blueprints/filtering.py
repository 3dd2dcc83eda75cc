"""Reading a source's filter from the current request (shared by pages and the API)."""

from flask import current_app, request

from app.features import pipeline
from app.features.employers import EMPLOYERS
from app.features.filters import FeatureFilter
from app.features.source import FeatureSource
from app.services.places import resolve_place


def request_filter(source: FeatureSource = EMPLOYERS) -> FeatureFilter:
    """The source's filter in the query string; raises FilterError on a bad value."""
    return pipeline.parse_filter(source, request.args, resolve_place)


def map_settings(properties: str = "all") -> pipeline.MapSettings:
    """Clustering settings from the configuration and the region; ``properties`` as
    :func:`app.features.filters.parse_properties` reads it."""
    region = current_app.config["REGION"]
    return pipeline.MapSettings(
        threshold=current_app.config["CLUSTER_THRESHOLD"],
        max_zoom=current_app.config["CLUSTER_MAX_ZOOM"],
        default_zoom=region.zoom,
        latitude=region.center[1],
        limit=current_app.config["MAP_FEATURE_LIMIT"],
        properties=properties,
    )
