"""The one place the platform fetches a URL from outside (partners' calendar feeds).

Every address is checked before it is contacted (:func:`check_url`): only ``http`` and
``https``, a host name and no user name or password in it, the ports 80 and 443, and a host
whose every resolved address is on the public internet. Loopback, private, link-local,
multicast, reserved, unspecified and shared (100.64.0.0/10) addresses are refused, also when
hidden in an IPv6 address (IPv4-mapped, 6to4, Teredo), so that a feed URL cannot make the
server read its own or its neighbours' services (SSRF). An operator may allow internal
networks (an internal calendar server) with ``FETCH_ALLOWED_NETWORKS``; hosts there may also
use other ports.

:func:`fetch` sends a conditional GET (``If-None-Match``/``If-Modified-Since``) with a
User-Agent naming KMU-Atlas, within one overall time limit and a size limit (the announced
``Content-Length`` first, then counted while reading), and follows at most
:data:`MAX_REDIRECTS` redirects itself, checking every target like the first address.

DNS rebinding: the connection goes to the very address that was resolved and checked (the
socket is opened to that address; the ``Host`` header and, for https, the certificate check and
SNI still use the host name), so a name that resolves to a public address for the check and to
a private one a moment later cannot slip through. The residual risk is a public address that
forwards to an internal one itself (an open proxy of the partner's), which no client-side check
can see.

Every error is a :class:`FetchError` with a translated sentence for the person who entered
the address: :class:`FetchRefused` (a ``ValueError``: the address may not be fetched),
:class:`FetchTooLarge` and :class:`FetchFailed` (network, time-out, HTTP error).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from flask import current_app, has_app_context
from flask_babel import gettext as _

#: Redirects followed before giving up.
MAX_REDIRECTS = 3
#: Ports an address may name without an allowed network.
STANDARD_PORTS = (80, 443)
#: Used when no app (and so no configuration) is at hand.
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 10
#: Redirect statuses that carry a Location to follow.
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
#: What a redirect target or a stored header may not contain.
_CONTROL = {chr(c) for c in range(33)} | {"\x7f"}
_CHUNK = 64 * 1024

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A URL was not fetched; the message (translated) says why, for the user."""


class FetchRefused(FetchError, ValueError):
    """The address may not be fetched (scheme, credentials, port, or an internal host)."""


class FetchTooLarge(FetchError):
    """The answer is larger than allowed."""


class FetchFailed(FetchError):
    """The server could not be reached, did not answer in time, or answered with an error;
    ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class FetchResult:
    """A fetched answer: 200 with ``content``, or 304 (not modified) with no content.
    ``etag`` and ``last_modified`` are for the next conditional request; ``url`` is where the
    answer came from after redirects."""

    status: int
    content: bytes
    etag: str
    last_modified: str
    url: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class _Target:
    """A checked address: where to connect (the checked IP addresses) and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    request_path: str
    addresses: tuple[str, ...]


# --- checking -------------------------------------------------------------------------------


def check_url(url: str, *, allowed_networks: Iterable[Network] | None = None) -> None:
    """Raise :class:`FetchRefused` (with a translated, specific message) unless ``url`` may be
    fetched: http(s), a host, no credentials, port 80/443, and every address the host resolves
    to public (or in ``FETCH_ALLOWED_NETWORKS``; ``allowed_networks`` overrides the setting).
    """
    _target(url, _allowed(allowed_networks))


def redirect_target(
    url: str, location: str | None, *, allowed_networks: Iterable[Network] | None = None
) -> str:
    """The absolute address a redirect from ``url`` to ``location`` leads to, checked like
    :func:`check_url` (FetchRefused for an internal target, FetchFailed without a target)."""
    return _redirect(url, location, _allowed(allowed_networks)).url


def _allowed(allowed_networks: Iterable[Network] | None) -> tuple[Network, ...]:
    if allowed_networks is not None:
        return tuple(allowed_networks)
    if has_app_context():
        return tuple(current_app.config.get("FETCH_ALLOWED_NETWORKS") or ())
    return ()


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _target(url: str, allowed: tuple[Network, ...]) -> _Target:
    """Check ``url`` and resolve its host; the checked target (FetchRefused otherwise)."""
    url = (url or "").strip()
    if not url:
        raise FetchRefused(_("Bitte geben Sie eine Adresse an."))
    invalid = _("„%(url)s“ ist keine gültige Internetadresse.", url=_short(url))
    if any(c in _CONTROL for c in url):
        raise FetchRefused(invalid)
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise FetchRefused(invalid) from None
    scheme = parts.scheme.lower()
    if scheme in ("webcal", "webcals"):
        raise FetchRefused(
            _("Bitte ersetzen Sie %(scheme)s:// in der Adresse durch https://.", scheme=scheme)
        )
    if scheme not in ("http", "https"):
        raise FetchRefused(
            _("Nur Adressen, die mit https:// oder http:// beginnen, können abgerufen werden.")
        )
    if parts.username is not None or parts.password is not None:
        raise FetchRefused(_("Die Adresse darf keinen Benutzernamen und kein Passwort enthalten."))
    if not host:
        raise FetchRefused(_("In der Adresse fehlt der Name des Servers."))
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    for address in addresses:
        if _in_networks(address, allowed):
            continue
        if not _is_public(address):
            raise FetchRefused(_internal(host, address))
    if port not in STANDARD_PORTS and not all(_in_networks(a, allowed) for a in addresses):
        raise FetchRefused(
            _(
                "Die Adresse nennt den Port %(port)d; erlaubt sind nur die üblichen Ports 80 "
                "(http) und 443 (https).",
                port=port,
            )
        )
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return _Target(
        url=url,
        scheme=scheme,
        host=host,
        port=port,
        request_path=path,
        addresses=tuple(str(a) for a in addresses),
    )


def _internal(host: str, address: Address) -> str:
    """Why an internal address is refused."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if host.strip("[]").lower() == str(address) or _same_address(host, address):
        return _(
            "Die Adresse %(address)s liegt in einem internen Netz. Solche Adressen ruft der "
            "KMU-Atlas aus Sicherheitsgründen nicht ab.",
            address=str(address),
        )
    return _(
        "Der Server %(host)s liegt in einem internen Netz (%(address)s). Solche Adressen ruft "
        "der KMU-Atlas aus Sicherheitsgründen nicht ab.",
        host=_short(host, 60),
        address=str(address),
    )


def _same_address(host: str, address: Address) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == address
    except ValueError:
        return False


def _resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (FetchRefused if none)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError:
        raise FetchRefused(
            _("„%(host)s“ ist kein gültiger Servername.", host=_short(host, 60))
        ) from None
    except OSError:
        raise FetchRefused(
            _("Der Server %(host)s wurde nicht gefunden.", host=_short(host, 60))
        ) from None
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchRefused(_("Der Server %(host)s wurde nicht gefunden.", host=_short(host, 60)))
    return addresses


def _embedded(address: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (IPv4-mapped, 6to4, Teredo)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def _is_public(address: Address) -> bool:
    """Whether ``address`` is on the public internet (and so is anything it carries)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    if not all(_is_public(inner) for inner in _embedded(address)):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _in_networks(address: Address, networks: tuple[Network, ...]) -> bool:
    candidates = [address, *_embedded(address)]
    return any(
        candidate.version == network.version and candidate in network
        for candidate in candidates
        for network in networks
    )


def _redirect(url: str, location: str | None, allowed: tuple[Network, ...]) -> _Target:
    location = (location or "").strip()
    if not location:
        raise FetchFailed(_("Der Server leitet weiter, nennt aber kein Ziel."))
    return _target(urljoin(url, location), allowed)


# --- fetching -------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to one checked address; the Host header keeps the host name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to one checked address; certificate check and SNI by host name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        self.tls_context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls_context)
        self.pinned_address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        try:
            self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _setting(name: str, default: int) -> int:
    if has_app_context():
        return int(current_app.config.get(name) or default)
    return default


def user_agent() -> str:
    """The User-Agent the platform fetches with."""
    base = current_app.config.get("BASE_URL") if has_app_context() else ""
    return f"KMU-Atlas/0.1 (calendar import; {base or 'self-hosted'})"


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    max_bytes: int | None = None,
    timeout: float | None = None,
    allowed_networks: Iterable[Network] | None = None,
    accept: str = "text/calendar, */*;q=0.5",
    agent: str | None = None,
) -> FetchResult:
    """GET ``url`` after :func:`check_url`, conditionally when ``etag``/``last_modified`` are
    given (a 304 comes back as such), within ``timeout`` seconds in all and ``max_bytes``
    (defaults: FEED_TIMEOUT_SECONDS, FEED_MAX_BYTES), following at most
    :data:`MAX_REDIRECTS` checked redirects. ``accept`` and ``agent`` (the User-Agent, by
    default :func:`user_agent`) are sent as headers. Raises a :class:`FetchError`."""
    max_bytes = max_bytes or _setting("FEED_MAX_BYTES", DEFAULT_MAX_BYTES)
    timeout = timeout or _setting("FEED_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    allowed = _allowed(allowed_networks)
    deadline = time.monotonic() + timeout
    headers = {
        "User-Agent": agent or user_agent(),
        "Accept": accept,
        "Accept-Encoding": "identity",
    }
    if etag and not any(c in _CONTROL - {" "} for c in etag):
        headers["If-None-Match"] = etag
    if last_modified and not any(c in _CONTROL - {" "} for c in last_modified):
        headers["If-Modified-Since"] = last_modified
    target = _target(url, allowed)
    redirects = 0
    while True:
        connection, sock, response = _request(target, headers, deadline, timeout)
        try:
            if response.status in REDIRECT_STATUSES:
                if redirects >= MAX_REDIRECTS:
                    raise FetchFailed(
                        _(
                            "Die Adresse leitet zu oft weiter (mehr als %(count)d Mal).",
                            count=MAX_REDIRECTS,
                        ),
                        response.status,
                    )
                redirects += 1
                target = _redirect(target.url, response.getheader("Location"), allowed)
                continue
            if response.status == 304:
                return FetchResult(
                    304,
                    b"",
                    response.getheader("ETag") or etag,
                    response.getheader("Last-Modified") or last_modified,
                    target.url,
                )
            if response.status != 200:
                raise FetchFailed(
                    _(
                        "Der Server %(host)s antwortete mit dem Fehler %(status)d (%(reason)s).",
                        host=_short(target.host, 60),
                        status=response.status,
                        reason=_short(response.reason or "", 60),
                    ),
                    response.status,
                )
            content = _read(response, sock, max_bytes, deadline, timeout)
            return FetchResult(
                200,
                content,
                response.getheader("ETag") or "",
                response.getheader("Last-Modified") or "",
                target.url,
            )
        except TimeoutError:
            raise FetchFailed(_timed_out(timeout)) from None
        except (http.client.HTTPException, OSError):
            raise FetchFailed(_no_valid_answer(target.host)) from None
        finally:
            response.close()
            connection.close()


def _timed_out(timeout: float) -> str:
    return _(
        "Der Server hat nicht innerhalb von %(seconds)d Sekunden geantwortet.",
        seconds=int(timeout),
    )


def _no_valid_answer(host: str) -> str:
    return _("Der Server %(host)s hat keine gültige Antwort geschickt.", host=_short(host, 60))


def _remaining(deadline: float, timeout: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchFailed(_timed_out(timeout))
    return remaining


def _request(target: _Target, headers: dict, deadline: float, timeout: float):
    """Send the GET to the first of the target's checked addresses that accepts a
    connection; (connection, its socket, response)."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error: Exception | None = None
    for address in target.addresses:
        connection = connection_class(
            target.host, target.port, address=address, timeout=_remaining(deadline, timeout)
        )
        try:
            connection.connect()
        except TimeoutError:
            connection.close()
            raise FetchFailed(_timed_out(timeout)) from None
        except ssl.SSLCertVerificationError:
            connection.close()
            raise FetchFailed(
                _(
                    "Das Zertifikat des Servers %(host)s ist nicht gültig; die Verbindung wurde "
                    "nicht aufgebaut.",
                    host=_short(target.host, 60),
                )
            ) from None
        except OSError as error:
            connection.close()
            last_error = error
            continue
        try:
            sock = connection.sock
            connection.request("GET", target.request_path, headers=headers)
            sock.settimeout(_remaining(deadline, timeout))
            return connection, sock, connection.getresponse()
        except FetchError:
            connection.close()
            raise
        except TimeoutError:
            connection.close()
            raise FetchFailed(_timed_out(timeout)) from None
        except (http.client.HTTPException, OSError, ValueError):
            connection.close()
            raise FetchFailed(_no_valid_answer(target.host)) from None
    raise FetchFailed(
        _("Der Server %(host)s ist nicht erreichbar.", host=_short(target.host, 60))
    ) from last_error


def _too_large(max_bytes: int) -> FetchTooLarge:
    return FetchTooLarge(
        _(
            "Die Datei ist größer als erlaubt (höchstens %(size)s MB).",
            size=f"{max_bytes / (1024 * 1024):.3g}",
        )
    )


def _read(response, sock, max_bytes: int, deadline: float, timeout: float) -> bytes:
    """The body, at most ``max_bytes`` (FetchTooLarge beyond), read before the deadline (one
    socket read at a time, each given only the time that is left)."""
    length = response.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    while True:
        sock.settimeout(_remaining(deadline, timeout))
        chunk = response.read1(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)
