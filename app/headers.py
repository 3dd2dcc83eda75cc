"""What the server says about itself: its name, never its software or versions."""

from werkzeug.serving import WSGIRequestHandler

#: What the ``Server`` header says.
SERVER_NAME = "KMU-Atlas"


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without ``Server: Werkzeug/x Python/y``."""

    def version_string(self) -> str:
        """The ``Server`` header's value."""
        return SERVER_NAME
