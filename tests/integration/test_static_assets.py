"""Static files by their content's hash: kept for a year under a hashed URL, checked each time
without one; the import map hashes the ES modules' relative imports too."""

import json
import os
import re

from flask import url_for

from app.static_assets import ONE_YEAR


def static_url(app, filename):
    with app.test_request_context():
        return url_for("static", filename=filename)


def test_static_urls_carry_the_files_hash(app):
    url = static_url(app, "css/app.css")
    assert re.fullmatch(r"/static/css/app\.css\?v=[0-9a-f]{12}", url)


def test_a_hashed_url_is_kept_for_a_year_a_plain_or_old_one_is_checked(client, app):
    url = static_url(app, "css/app.css")
    hashed = client.get(url)
    assert hashed.status_code == 200
    assert hashed.cache_control.max_age == ONE_YEAR
    assert hashed.cache_control.public and hashed.cache_control.immutable
    for other in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(other)
        assert response.status_code == 200
        assert response.cache_control.no_cache and not response.cache_control.max_age, other
        response.close()
    etag = hashed.headers["ETag"]
    hashed.close()
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.cache_control.max_age == ONE_YEAR


def test_a_changed_file_gets_a_new_url(app, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "js").mkdir()
    module = tmp_path / "js" / "a.js"
    module.write_text("export const a = 1;\n")
    first = static_url(app, "js/a.js")
    module.write_text("export const a = 2;\n")
    os.utime(module, ns=(1, 1))  # another modification time, as an edit or a deployment gives
    second = static_url(app, "js/a.js")
    assert first != second
    assert static_url(app, "js/missing.js") == "/static/js/missing.js"


def test_every_page_maps_each_module_to_its_hashed_url(client, app):
    for path in ("/", "/einbetten/karte"):
        html = client.get(path).get_data(as_text=True)
        found = re.search(r'<script type="importmap" nonce="[^"]+">(.*?)</script>', html, re.S)
        assert found, path
        imports = json.loads(found.group(1))["imports"]
        assert "/static/js/atlas/map.js" in imports or len(imports) > 10
        for plain, hashed in imports.items():
            assert hashed == static_url(app, plain.removeprefix("/static/")), plain
        # before any module script or module preload
        assert html.index('type="importmap"') < html.index('type="module"'), path
        if "modulepreload" in html:
            assert html.index('type="importmap"') < html.index("modulepreload"), path


def test_the_modules_and_styles_of_a_page_are_all_hashed(client):
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert urls
    assert all("?v=" in url for url in urls), [url for url in urls if "?v=" not in url]
