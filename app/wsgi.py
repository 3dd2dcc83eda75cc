"""Entry points for the ``flask`` CLI (see ``.flaskenv``) and WSGI servers."""

from flask.cli import NoAppException

from app import create_app
from app.config import ConfigError


def create_cli_app():
    """Create the app for the CLI; a configuration error becomes one clear line, no traceback."""
    try:
        return create_app()
    except ConfigError as exc:
        raise NoAppException(f"Configuration error: {exc}") from None
