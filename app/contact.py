"""Contact in one tap: the ``tel:`` link of a phone number as written, and the "Route" link.

A number is shown as the employer wrote it ("02361 / 12 34-5"); its link dials it in the
international form (``tel:+49236112345``), so that it also works from a
phone with a foreign SIM card. The browser's twin of :func:`tel_href` is ``telHref`` in
``app/static/js/contact.js``; ``tests/unit/test_contact.py`` gives both the same examples.

The "Route" link is a plain link to the routing page of the ``ROUTE_URL`` setting with the
destination filled in: the page itself contacts no routing service.
"""

from __future__ import annotations

import re

from flask import Flask, current_app

#: The country a number without one is dialled in (the region's): Germany.
COUNTRY_CODE = "49"
#: "+49 (0) 2361 …": the national trunk prefix written in brackets after the country code.
_TRUNK_IN_BRACKETS = re.compile(r"\(\s*0\s*\)")


def tel_href(phone: str | None) -> str | None:
    """The ``tel:`` URI of a phone number as written, or None when it holds no digits.

    "+49 2361 12345" and "0049 2361 12345" and "02361 12345" all give ``tel:+49236112345``;
    a number without the area code ("12 34 56") keeps its digits as they are.
    """
    if not phone:
        return None
    text = _TRUNK_IN_BRACKETS.sub("", phone.strip())
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if plus:
        return f"tel:+{digits}"
    if digits.startswith("00"):
        return f"tel:+{digits[2:]}"
    if digits.startswith("0"):
        return f"tel:+{COUNTRY_CODE}{digits[1:]}"
    return f"tel:{digits}"


def route_href(lat: float | None, lon: float | None) -> str | None:
    """The configured routing page (``ROUTE_URL``) with the destination ``lat``/``lon``, or
    None without a point."""
    if lat is None or lon is None:
        return None
    template = current_app.config["ROUTE_URL"]
    return template.replace("{lat}", f"{lat:.6f}").replace("{lon}", f"{lon:.6f}")


def init_app(app: Flask) -> None:
    """Give templates ``tel_href`` and ``route_href``."""
    app.jinja_env.globals["tel_href"] = tel_href
    app.jinja_env.globals["route_href"] = route_href
