"""What the load test's users do, without locust (so that a test can run it too).

:func:`submit_questionnaire` walks the questionnaire as a business would in a browser: the
start page, "start", every step with its CSRF token and draft token taken from the page before,
the honeypot left empty, and the final submit. ``client`` is a ``requests.Session`` that takes
paths (locust's ``HttpSession``, or :class:`LoopbackClient`) and a ``name`` per request (the
row of the statistics). Redirects are followed one by one (:func:`follow`): each POST and the
next step's page it leads to are separate rows.
"""

from __future__ import annotations

import html
import re
from ipaddress import ip_address, ip_network
from urllib.parse import urlsplit

import requests

#: The answers of every step (as in tests/integration/test_questionnaire.py); the business's
#: name is the one the load test gives it.
STEPS = {
    "business": {"description": "Lasttest: Möbel nach Maß aus Marl."},
    "location": {
        "street": "Hauptstraße",
        "house_number": "5a",
        "postal_code": "45768",
        "town": "Marl",
        "location": "51.6561,7.0903",
    },
    "classification": {"sectors": ["16", "31"], "occupations": ["22", "93"]},
    "size": {"employees": "12"},
    "offers": {
        "offers_apprenticeships": "y",
        "has_open_positions": "y",
        "open_positions": "2",
        "languages": ["de", "tr"],
    },
    "family": {"family": ["part_time"]},
    "contact": {
        "phone": "02365 12345",
        "email": "info@lasttest.example",
        "website": "https://lasttest.example",
        "contact_name": "Erika Muster",
        "contact_email": "erika@lasttest.example",
    },
    "summary": {"consent": "y"},
}


class FlowError(RuntimeError):
    """The questionnaire did not go as a business would expect."""


#: The simulated users' own client addresses (RFC 2544's benchmarking range, 198.18.0.0/15):
#: the server runs behind one "proxy" (PROXY_COUNT=1) and takes each user's address from
#: X-Forwarded-For, so the rate limits stay on and count per user, as with real visitors.
CLIENT_NETWORK = ip_network("198.18.0.0/15")


def client_address(kind: int, number: int) -> str:
    """The address of simulated user ``number`` (from 0) of user kind ``kind`` (0 visitors,
    1 businesses: each kind has half the range, so no two users share an address)."""
    half = CLIENT_NETWORK.num_addresses // 2
    if kind not in (0, 1) or not 0 <= number < half - 2:
        raise ValueError(f"no client address for kind {kind}, user {number}")
    return str(CLIENT_NETWORK[kind * half + number + 1])


def is_loopback(url: str) -> bool:
    """Whether ``url`` is plain http(s) to a loopback address (127.0.0.0/8, ::1, localhost)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def insecure_cookies(session: requests.Session) -> None:
    """Keep ``session``'s cookies without their Secure flag, as browsers treat loopback as a
    secure context: the app in production sets its session cookie Secure, and requests sends
    such a cookie only over https. Only ever used for a loopback host (checked by callers)."""
    for cookie in session.cookies:
        cookie.secure = False


def follow(client, response, name: str):
    """Follow ``response``'s redirects one by one (keeping the cookies each sets, see
    :func:`insecure_cookies`); the final response."""
    for _ in range(5):
        insecure_cookies(client)
        if response.status_code not in (301, 302, 303) or "Location" not in response.headers:
            return response
        location = urlsplit(response.headers["Location"])
        path = location.path + (f"?{location.query}" if location.query else "")
        response = client.get(path, name=name, allow_redirects=False)
    raise FlowError(f"{name}: more than 5 redirects")


class LoopbackClient(requests.Session):
    """A ``requests.Session`` on ``base`` (loopback only) that takes paths and ignores the
    ``name`` locust's session uses for its statistics."""

    def __init__(self, base: str):
        if not is_loopback(base):
            raise ValueError(f"not a loopback address: {base}")
        super().__init__()
        self.base = base.rstrip("/")

    def request(self, method, url, *args, name=None, **kwargs):
        """The request on ``base`` + ``url``."""
        kwargs.setdefault("timeout", 60)
        return super().request(method, self.base + url, *args, **kwargs)


def hidden(page: str, field: str) -> str | None:
    """The value of the hidden input ``field`` on ``page`` (None when absent)."""
    found = re.search(rf'name="{field}"\s+value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"\s+name="{field}"', page
    )
    return html.unescape(found.group(1)) if found else None


def expect(response, path: str, what: str) -> str:
    """The page's text, when ``response`` is a 200 at ``path``; else :class:`FlowError`."""
    if response.status_code != 200 or urlsplit(response.url).path != path:
        raise FlowError(
            f"{what}: expected 200 at {path}, got {response.status_code} at "
            f"{urlsplit(response.url).path}: {response.text[:300]!r}"
        )
    return response.text


def submit_questionnaire(client, name: str) -> None:
    """Fill in and submit the questionnaire once for the business ``name``; raises
    :class:`FlowError` when a step does not lead to the next (or to the thank-you page)."""
    keys = list(STEPS)

    def post(path, data, what):
        response = client.post(
            path, data=data, name=f"questionnaire: {what}", allow_redirects=False
        )
        return follow(client, response, f"questionnaire: page after {what}")

    start = client.get("/mitmachen/", name="questionnaire: start page", allow_redirects=False)
    page = expect(follow(client, start, "questionnaire: start page"), "/mitmachen/", "start page")
    response = post("/mitmachen/start", {"csrf_token": hidden(page, "csrf_token")}, "start")
    page = expect(response, f"/mitmachen/schritt/{keys[0]}", "start")
    for index, key in enumerate(keys):
        last = index + 1 == len(keys)
        data = {**STEPS[key], "action": "submit" if last else "next"}
        if key == "business":
            data["name"] = name
        for field in ("csrf_token", "draft"):
            if (value := hidden(page, field)) is not None:
                data[field] = value
        response = post(f"/mitmachen/schritt/{key}", data, "submit" if last else f"step {key}")
        target = "/mitmachen/danke" if last else f"/mitmachen/schritt/{keys[index + 1]}"
        page = expect(response, target, f"step {key}")


def stored(connection, names: list[str]) -> dict[str, int]:
    """How many employers the database holds under each of ``names`` (a SQLAlchemy
    connection); a name stored exactly once maps to 1."""
    from sqlalchemy import bindparam, text

    query = text(
        "SELECT name, count(*) FROM companies WHERE name IN :names GROUP BY name"
    ).bindparams(bindparam("names", expanding=True))
    counts = dict(connection.execute(query, {"names": names}).all())
    return {name: counts.get(name, 0) for name in names}
