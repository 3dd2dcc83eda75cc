"""Entry points for the ``flask`` CLI (see ``.flaskenv``) and WSGI servers."""

import gc

from flask.cli import NoAppException

from app import create_app
from app.config import ConfigError
from app.features import tag_bitmaps


def create_cli_app():
    """Create the app for the CLI; a configuration error becomes one clear line, no traceback."""
    try:
        return create_app()
    except ConfigError as exc:
        raise NoAppException(f"Configuration error: {exc}") from None


def create_wsgi_app():
    """Create the app for a WSGI server (``gunicorn 'app.wsgi:create_wsgi_app()'``), then
    move everything built so far (modules, the app, SQLAlchemy's mappings) out of the garbage
    collector's reach: a full collection no longer scans them, which took 100 ms or more
    about once per hundred map answers of 500 employers (``gc.freeze``). The map's tag bitmaps
    begin to load in the background (until they are there, the database answers)."""
    application = create_app()
    tag_bitmaps.start_loading(application)
    gc.freeze()
    return application
