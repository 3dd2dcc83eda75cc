"""Waiting for a page to be replaced by a new document.

Playwright's ``expect_navigation`` also ends on a same-document navigation: on the map that
is any change of the ``#map=…`` address when the map moves. A test that clicks something
which reloads the page, on a page whose map may still be moving, must wait for the new
document itself, or it goes on with the old page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def new_document(page, timeout: float = 20_000) -> Iterator[None]:
    """Wait, after the block, until a new document has loaded in ``page`` (not a hash change)."""
    page.evaluate("window.__kmuOldDocument = true")
    with page.expect_event("load", timeout=timeout):
        yield
    page.wait_for_function("() => window.__kmuOldDocument === undefined", timeout=timeout)
