"""Everything on the map is a feature source: a key, declared filter parameters, a query of
public rows and their public properties (:mod:`app.features.source`). One pipeline serves every
source (:mod:`app.features.pipeline`); the spatial part is written once
(:mod:`app.features.spatial`). Employers are the first source (:mod:`app.features.employers`).
"""

from app.features import employers  # noqa: F401  (registers the employer source)
from app.features.source import FeatureSource, get, register, registered, unregister

__all__ = ["FeatureSource", "get", "register", "registered", "unregister"]
