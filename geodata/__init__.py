"""Spatial data in and out: region definitions, readers, reprojection, validation.

This package has no Flask imports; the app imports it, never the reverse.
"""
