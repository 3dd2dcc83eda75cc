"""Cells that are safe to open in a spreadsheet program (CSV and Excel files we write).

A text that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, or the
full-width forms of those signs) is taken as a formula by Excel and LibreOffice when the file is
opened: ``=HYPERLINK(…)`` or ``=cmd|' /C calc'!A0`` in a company name would run there. As the
OWASP "CSV Injection" page recommends, such a text gets a leading single quote, so that it shows
as text. Every writer of a spreadsheet file passes its cells through :func:`safe_cell` (or a
whole table through :func:`safe_frame`); values that are not texts (numbers, booleans, dates)
stay as they are. GeoJSON and GeoPackage files are no spreadsheets and are written unchanged.
"""

from __future__ import annotations

import pandas as pd

#: First characters that make a spreadsheet program read a cell as a formula.
FORMULA_STARTS = frozenset("=+-@\t\r" + "\uff1d\uff0b\uff0d\uff20")


def safe_cell(value):
    """``value`` with a leading ``'`` if it is a text a spreadsheet would read as a formula;
    anything else unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the table with :func:`safe_cell` applied to every text column (columns of
    numbers, booleans or dates are left as they are)."""
    safe = frame.copy()
    for name in safe.columns:
        column = safe[name]
        if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            safe[name] = column.map(safe_cell)
    return safe
