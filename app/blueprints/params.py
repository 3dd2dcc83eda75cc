"""Whole numbers from URLs, query strings and forms, bounded to PostgreSQL's ``integer``.

An id or page number beyond 2³¹−1 would reach the database and fail there with an overflow
(a 500). Ids in the path therefore do not match at all (404); numbers in a query string or form
that are not plain digits in range are refused with 400 and a message that says what is wrong.
``str.isdigit()`` is not used: it accepts ``²`` or ``①``, which ``int()`` then refuses.
"""

from __future__ import annotations

import re

from flask import abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

#: The largest value of a PostgreSQL ``integer`` (int4) column, such as every id here.
INT4_MAX = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


class Int4Converter(IntegerConverter):
    """``<int:…>`` for ids: ASCII digits only, from 0 to :data:`INT4_MAX`; anything else
    does not match the route (404; 405 if the path has a route for another method only).
    Registered app-wide in place of Werkzeug's ``int``, whose ``\\d`` takes any script's
    digits and whose range is unbounded."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=INT4_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_int4(value: str | None, minimum: int = 0) -> int | None:
    """``value`` as a whole number from ``minimum`` to :data:`INT4_MAX`, else None."""
    if value is None or not _DIGITS.fullmatch(value.strip()):
        return None
    number = int(value.strip())
    return number if minimum <= number <= INT4_MAX else None


def page_number(name: str = "seite") -> int:
    """The page number in the query string (1 if absent); 400 if it is not a page number."""
    raw = request.args.get(name, "")
    if not raw:
        return 1
    page = parse_int4(raw, minimum=1)
    if page is None:
        abort(
            400,
            description=_(
                "Die Seitenzahl muss eine ganze Zahl zwischen 1 und %(max)d sein.", max=INT4_MAX
            ),
        )
    return page


def id_in_query(name: str) -> int | None:
    """An entry id in the query string (None if absent); 400 if it cannot be an id."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    number = parse_int4(raw, minimum=1)
    if number is None:
        abort(400, description=_("Die Nummer des Eintrags muss eine positive ganze Zahl sein."))
    return number


class VersionMissing(ValueError):
    """A form that changes an entry came without the entry's version (or with a bad one)."""


def form_version(name: str = "version") -> int:
    """The entry version a workspace form was rendered with; VersionMissing if absent or bad.

    Without it the check for someone else's change in between could not run.
    """
    version = parse_int4(request.form.get(name), minimum=0)
    if version is None:
        raise VersionMissing(name)
    return version


def version_missing_message() -> str:
    """What staff are told when a form came without a usable version."""
    return _(
        "Nicht gespeichert: Dem Formular fehlt die Angabe, welchen Stand des Eintrags Sie "
        "gesehen haben. Bitte laden Sie den Eintrag neu und versuchen Sie es noch einmal."
    )
