"""Fetching from outside (app/services/safe_fetch.py): the address checks (SSRF), redirects,
conditional requests, the size and time limits, against small servers on 127.0.0.1 that the
tests start themselves (allowed explicitly; the default refuses them). No database."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network

import pytest

from app.config import ConfigError, load_settings
from app.services import safe_fetch

LOOPBACK = (ip_network("127.0.0.1/32"),)


class Server:
    """A tiny HTTP server on ``host``: ``routes`` maps a path to (status, headers, body);
    ``requests`` records (path, headers) of every request."""

    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[tuple[str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                status, headers, body = server.routes.get(self.path, (404, {}, b"not found"))
                if callable(body):
                    body(self)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.close()


def refused(url: str, **options) -> str:
    with pytest.raises(safe_fetch.FetchRefused) as info:
        safe_fetch.check_url(url, **options)
    return str(info.value)


# --- address checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed.ics",
        "http://127.1.2.3/feed.ics",
        "http://localhost/feed.ics",
        "http://10.0.0.5/feed.ics",
        "http://172.16.3.4/feed.ics",
        "http://192.168.178.1/feed.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/feed.ics",
        "http://0.0.0.0/feed.ics",
        "http://224.0.0.1/feed.ics",
        "http://240.0.0.1/feed.ics",
        "http://[::1]/feed.ics",
        "http://[::]/feed.ics",
        "http://[fe80::1]/feed.ics",
        "http://[fd00::1]/feed.ics",
        "http://[ff02::1]/feed.ics",
        "http://[::ffff:127.0.0.1]/feed.ics",
        "http://[::ffff:10.0.0.1]/feed.ics",
        "http://[2002:7f00:1::1]/feed.ics",
    ],
)
def test_internal_addresses_are_refused(url):
    assert "internen Netz" in refused(url)


def test_a_host_is_refused_when_any_of_its_addresses_is_internal(monkeypatch):
    def resolve(host, port, *args, **kwargs):
        assert host == "calendar.example.org"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    message = refused("https://calendar.example.org/events.ics")
    assert "calendar.example.org" in message and "10.1.2.3" in message


def test_a_public_host_is_accepted(monkeypatch):
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2a00:1450:4001:82a::200e", port, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
        ],
    )
    assert safe_fetch.check_url("https://calendar.example.org/events.ics?token=abc") is None
    assert safe_fetch.check_url("http://calendar.example.org:80/x.ics") is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.org/feed.ics", "https://"),
        ("file:///etc/passwd", "https://"),
        ("gopher://example.org/", "https://"),
        ("webcal://example.org/feed.ics", "webcal://"),
        ("https://user:secret@example.org/feed.ics", "Passwort"),
        ("https://user@example.org/feed.ics", "Benutzernamen"),
        ("http:///feed.ics", "Name des Servers"),
        ("https://exa mple.org/", "keine gültige"),
        ("http://[::1/feed.ics", "keine gültige"),
        ("http://example.org:99999/", "keine gültige"),
        ("", "Adresse an"),
    ],
)
def test_bad_addresses_get_specific_messages(url, words):
    assert words in refused(url)


def test_other_ports_are_refused_unless_the_network_is_allowed(monkeypatch):
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port))
        ],
    )
    assert "Port 8080" in refused("http://calendar.example.org:8080/feed.ics")
    assert "Port 22" in refused("http://calendar.example.org:22/")
    allowed = (ip_network("8.8.8.0/24"),)
    assert (
        safe_fetch.check_url("http://calendar.example.org:8080/", allowed_networks=allowed) is None
    )


def test_allowed_networks_open_exactly_those_addresses():
    assert safe_fetch.check_url("http://127.0.0.1:8080/feed.ics", allowed_networks=LOOPBACK) is None
    assert "internen Netz" in refused("http://127.0.0.2/feed.ics", allowed_networks=LOOPBACK)
    assert "internen Netz" in refused("http://10.0.0.1/feed.ics", allowed_networks=LOOPBACK)
    # without an app and without the option, nothing internal is allowed
    assert "internen Netz" in refused("http://127.0.0.1:8080/feed.ics")


def test_an_unknown_host_is_refused(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert "nicht gefunden" in refused("https://no-such-host.example.org/feed.ics")


def test_refusals_are_value_errors():
    assert issubclass(safe_fetch.FetchRefused, ValueError)
    assert issubclass(safe_fetch.FetchRefused, safe_fetch.FetchError)


def test_the_settings_read_networks_and_limits():
    base = {"APP_ENV": "testing", "DATABASE_URL": "postgresql://atlas@db/atlas"}
    defaults = load_settings(base, environ={})
    assert defaults["FETCH_ALLOWED_NETWORKS"] == ()
    assert (defaults["FEED_MAX_BYTES"], defaults["FEED_TIMEOUT_SECONDS"]) == (2 * 1024 * 1024, 10)
    settings = load_settings(
        {**base, "FETCH_ALLOWED_NETWORKS": " 10.20.0.0/16, 192.0.2.10 ,fd00::/8"}, environ={}
    )
    assert settings["FETCH_ALLOWED_NETWORKS"] == (
        ip_network("10.20.0.0/16"),
        ip_network("192.0.2.10/32"),
        ip_network("fd00::/8"),
    )
    with pytest.raises(ConfigError, match="FETCH_ALLOWED_NETWORKS 'intranet' is not a network"):
        load_settings({**base, "FETCH_ALLOWED_NETWORKS": "10.0.0.0/8,intranet"}, environ={})
    with pytest.raises(ConfigError, match="FEED_MAX_BYTES"):
        load_settings({**base, "FEED_MAX_BYTES": "viel"}, environ={})


# --- redirects ------------------------------------------------------------------------------


def test_redirect_targets_are_resolved_and_checked():
    base = "http://127.0.0.1:8000/a/feed.ics"
    assert (
        safe_fetch.redirect_target(base, "other.ics", allowed_networks=LOOPBACK)
        == "http://127.0.0.1:8000/a/other.ics"
    )
    assert (
        safe_fetch.redirect_target(base, "/b.ics", allowed_networks=LOOPBACK)
        == "http://127.0.0.1:8000/b.ics"
    )
    for location in (
        "http://127.0.0.2:8000/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "file:///etc/passwd",
    ):
        with pytest.raises(safe_fetch.FetchRefused):
            safe_fetch.redirect_target(base, location, allowed_networks=LOOPBACK)
    with pytest.raises(safe_fetch.FetchFailed):
        safe_fetch.redirect_target(base, "", allowed_networks=LOOPBACK)


def test_a_redirect_to_another_internal_address_is_not_followed(server):
    other = Server("127.0.0.2")
    try:
        other.routes["/feed.ics"] = (200, {}, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
        server.routes["/feed.ics"] = (302, {"Location": f"{other.base}/feed.ics"}, b"")
        with pytest.raises(safe_fetch.FetchRefused, match="internen Netz"):
            safe_fetch.fetch(f"{server.base}/feed.ics", allowed_networks=LOOPBACK)
        assert [path for path, _ in server.requests] == ["/feed.ics"]
        assert other.requests == []
    finally:
        other.close()


def test_redirects_are_followed_three_times_at_most(server):
    server.routes["/1"] = (301, {"Location": "/2"}, b"")
    server.routes["/2"] = (302, {"Location": f"{server.base}/3"}, b"")
    server.routes["/3"] = (307, {"Location": "/4"}, b"")
    server.routes["/4"] = (200, {"ETag": '"v4"'}, b"the end")
    result = safe_fetch.fetch(f"{server.base}/1", allowed_networks=LOOPBACK)
    assert (result.status, result.content, result.etag) == (200, b"the end", '"v4"')
    assert result.url == f"{server.base}/4"

    server.routes["/0"] = (308, {"Location": "/1"}, b"")
    with pytest.raises(safe_fetch.FetchFailed, match="zu oft"):
        safe_fetch.fetch(f"{server.base}/0", allowed_networks=LOOPBACK)
    assert [path for path, _ in server.requests][-4:] == ["/0", "/1", "/2", "/3"]


# --- fetching -------------------------------------------------------------------------------


def test_conditional_requests_and_user_agent(server):
    server.routes["/feed.ics"] = (
        200,
        {"ETag": '"abc"', "Last-Modified": "Wed, 01 Sep 2027 10:00:00 GMT"},
        b"BEGIN:VCALENDAR",
    )
    first = safe_fetch.fetch(f"{server.base}/feed.ics", allowed_networks=LOOPBACK)
    assert (first.status, first.etag, first.last_modified) == (
        200,
        '"abc"',
        "Wed, 01 Sep 2027 10:00:00 GMT",
    )
    _path, headers = server.requests[-1]
    assert "KMU-Atlas" in headers["User-Agent"]
    assert "If-None-Match" not in headers

    server.routes["/feed.ics"] = (304, {"Content-Length": "0"}, b"")
    second = safe_fetch.fetch(
        f"{server.base}/feed.ics",
        etag=first.etag,
        last_modified=first.last_modified,
        allowed_networks=LOOPBACK,
    )
    assert second.not_modified and second.content == b""
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    _, headers = server.requests[-1]
    assert headers["If-None-Match"] == '"abc"'
    assert headers["If-Modified-Since"] == "Wed, 01 Sep 2027 10:00:00 GMT"


def test_the_connection_goes_to_the_checked_address(server, monkeypatch):
    """The host name is resolved once and checked; the socket is opened to that address,
    the Host header keeps the name (no second lookup that could give another address)."""
    real = socket.getaddrinfo
    lookups = []

    def resolve(host, port, *args, **kwargs):
        if host == "feeds.example.test":
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    server.routes["/feed.ics"] = (200, {}, b"hello")
    result = safe_fetch.fetch(
        f"http://feeds.example.test:{server.port}/feed.ics", allowed_networks=LOOPBACK
    )
    assert result.content == b"hello"
    assert lookups == ["feeds.example.test"]
    assert server.requests[-1][1]["Host"] == f"feeds.example.test:{server.port}"


def test_http_errors_are_reported_with_their_status(server):
    server.routes["/feed.ics"] = (500, {}, b"oops")
    with pytest.raises(safe_fetch.FetchFailed) as info:
        safe_fetch.fetch(f"{server.base}/feed.ics", allowed_networks=LOOPBACK)
    assert info.value.status == 500
    assert "500" in str(info.value)
    with pytest.raises(safe_fetch.FetchFailed, match="404"):
        safe_fetch.fetch(f"{server.base}/missing.ics", allowed_networks=LOOPBACK)


def test_an_announced_size_over_the_limit_is_refused_before_reading(server):
    server.routes["/big.ics"] = (200, {}, b"x" * 5000)
    with pytest.raises(safe_fetch.FetchTooLarge, match="größer"):
        safe_fetch.fetch(f"{server.base}/big.ics", max_bytes=4000, allowed_networks=LOOPBACK)
    assert (
        safe_fetch.fetch(
            f"{server.base}/big.ics", max_bytes=5000, allowed_networks=LOOPBACK
        ).content
        == b"x" * 5000
    )


def test_a_stream_without_length_is_counted(server):
    def chunked(handler):
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(50):
            handler.wfile.write(b"3e8\r\n" + b"y" * 1000 + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    def unannounced(handler):
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"z" * 30_000)

    server.routes["/chunked.ics"] = (200, {}, chunked)
    server.routes["/unannounced.ics"] = (200, {}, unannounced)
    for path in ("/chunked.ics", "/unannounced.ics"):
        with pytest.raises(safe_fetch.FetchTooLarge):
            safe_fetch.fetch(f"{server.base}{path}", max_bytes=20_000, allowed_networks=LOOPBACK)
    whole = safe_fetch.fetch(
        f"{server.base}/chunked.ics", max_bytes=50_000, allowed_networks=LOOPBACK
    )
    assert whole.content == b"y" * 50_000


def test_a_server_that_does_not_answer_times_out():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        port = silent.getsockname()[1]
        with pytest.raises(safe_fetch.FetchFailed, match="Sekunden"):
            safe_fetch.fetch(f"http://127.0.0.1:{port}/", timeout=1, allowed_networks=LOOPBACK)
    finally:
        silent.close()


def test_a_closed_port_is_reported_as_unreachable():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(safe_fetch.FetchFailed, match="nicht erreichbar"):
        safe_fetch.fetch(f"http://127.0.0.1:{port}/", allowed_networks=LOOPBACK)


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    """An HTTPS server on 127.0.0.1 whose certificate names feeds.example.test (self-signed
    with openssl); the name resolves to 127.0.0.1. Yields (server, path of the certificate)."""
    import shutil
    import ssl
    import subprocess

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603  (openssl with fixed arguments)
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=feeds.example.test",
            "-addext", "subjectAltName=DNS:feeds.example.test",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    running = Server()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    running.httpd.socket = context.wrap_socket(running.httpd.socket, server_side=True)
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == "feeds.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    yield running, cert
    running.close()


def test_https_checks_the_certificate_against_the_host_name(tls_server, monkeypatch):
    import ssl

    server, cert = tls_server
    server.routes["/feed.ics"] = (200, {}, b"secure")
    url = f"https://feeds.example.test:{server.port}/feed.ics"

    with pytest.raises(safe_fetch.FetchFailed, match="Zertifikat"):  # not trusted
        safe_fetch.fetch(url, allowed_networks=LOOPBACK)

    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: trusting)
    result = safe_fetch.fetch(url, allowed_networks=LOOPBACK)
    assert result.content == b"secure"
    assert server.requests[-1][1]["Host"] == f"feeds.example.test:{server.port}"
