"""Compressed answers (zstd, brotli, gzip as the client accepts) and ETags with 304 on JSON."""

import gzip
import re

import brotli
import pytest

NONCE = re.compile(rb' nonce="[^"]*"')


def same_page(first: bytes, second: bytes) -> bool:
    """Whether two answers are the same page (each has its own Content-Security-Policy nonce)."""
    return NONCE.sub(b"", first) == NONCE.sub(b"", second)


def test_pages_are_compressed_for_a_client_that_accepts_it(client):
    plain = client.get("/ueber")
    packed = client.get("/ueber", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert same_page(gzip.decompress(packed.data), plain.data)
    assert len(packed.data) < len(plain.data) / 2


def test_brotli_is_preferred_to_gzip(client):
    plain = client.get("/ueber")
    packed = client.get("/ueber", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "br"
    assert same_page(brotli.decompress(packed.data), plain.data)


def test_static_files_are_compressed(client):
    response = client.get("/static/css/app.css", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert b"{" in brotli.decompress(response.get_data())
    response.close()


def test_geojson_and_calendars_are_compressed(client, make_company):
    for number in range(20):
        make_company(name=f"Gepackter Betrieb {number}", lon=7.1 + number / 100)
    response = client.get(
        "/api/employers?bbox=6.5,51.3,7.8,51.9&zoom=16", headers={"Accept-Encoding": "gzip"}
    )
    assert response.mimetype == "application/geo+json"
    assert response.headers["Content-Encoding"] == "gzip"
    assert b'"FeatureCollection"' in gzip.decompress(response.data)


@pytest.mark.parametrize("encoding", ["", "gzip", "br"])
def test_json_answers_carry_an_etag_and_answer_304_when_unchanged(client, make_company, encoding):
    make_company(name="Etag Tischlerei")
    url = "/api/employers/list"
    headers = {"Accept-Encoding": encoding} if encoding else {}
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    make_company(name="Etag Schreinerei")
    changed = client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert b"Schreinerei" in (
        gzip.decompress(changed.data)
        if encoding == "gzip"
        else brotli.decompress(changed.data)
        if encoding == "br"
        else changed.data
    )


def test_an_etag_of_one_encoding_does_not_match_another(client, make_company):
    make_company(name="Etag Malerei")
    url = "/api/employers/list"
    gzipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    plain = client.get(url, headers={"If-None-Match": gzipped.headers["ETag"]})
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain.headers


def test_failed_and_never_stored_answers_get_no_etag(client):
    assert "ETag" not in client.get("/api/employers?zoom=abc").headers
    # The questionnaire's pin suggestion is JSON under /mitmachen: never stored, so untagged.
    response = client.get("/mitmachen/vorschlag?postal_code=45657")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
