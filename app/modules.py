"""The static ES module graph, for ``<link rel="modulepreload">``.

A page's module scripts import further modules, which import others: without a hint the
browser finds each level only after the one before has arrived (on a phone network, a round
trip per level before the map can ask for its data). :func:`preloads` lists every module a
page's entry scripts import, directly or not, read from the files' static ``import … from``
and ``export … from`` statements, so the page can announce them all at once.
"""

from __future__ import annotations

import posixpath
import re
from functools import cache
from pathlib import Path

from flask import current_app, g

#: Static imports and re-exports of a relative module (``import x from "./a.js"``,
#: ``import "./a.js"``, ``export { y } from "../b.js"``), also spread over several lines.
_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*["'](\.{1,2}/[^"']+)["']""")


def preloads(*entries: str) -> list[str]:
    """The modules (paths under the static folder) that the module scripts ``entries``
    import, directly or through others, without the entries themselves and without those
    already listed for this page; in a stable order (the graph is read once per process,
    again on every page while debugging)."""
    graph = _graph.__wrapped__ if current_app.debug else _graph
    listed = g.setdefault("module_preloads", set())
    fresh = [path for path in graph(current_app.static_folder, entries) if path not in listed]
    listed.update(fresh)
    return fresh


@cache
def _graph(static_folder: str, entries: tuple[str, ...]) -> list[str]:
    root = Path(static_folder)
    seen: list[str] = []
    pending = list(entries)
    while pending:
        path = pending.pop(0)
        source = (root / path).read_text(encoding="utf-8")
        for target in _IMPORT.findall(source):
            module = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if module not in seen and module not in entries:
                seen.append(module)
                pending.append(module)
    return seen
