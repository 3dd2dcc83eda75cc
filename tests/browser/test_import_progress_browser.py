"""The progress pages of imports the worker runs, in a real browser (issue 17): while the
import is queued the page never reloads itself (a screen reader would start over every few
seconds); it asks again in the background (js/import-progress.js) and shows the result,
without the user reloading, once the worker has run the job. No WCAG violation meanwhile, and
no Content-Security-Policy violation (the autouse check of conftest.py)."""

from __future__ import annotations

import re
import threading

import pytest

from app import jobs
from app.extensions import db
from app.models import Company, LayerFeature
from app.services import importer
from app.services.accounts import by_email
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_workspace_browser import sign_in_with_keyboard

pytestmark = pytest.mark.browser

#: Two childcare facilities inside the region.
LAYER_CSV = b"name,lon,lat\nKita Sonnenschein,7.2,51.6\nKita Regenbogen,7.1,51.55\n"
EMPLOYERS_CSV = "Firma;PLZ\nBäckerei Sonnenschein;45657\nElektro Kaya;45768\n".encode()


def watch_navigations(page) -> list[str]:
    """The URLs the page's main frame navigates to from now on."""
    seen: list[str] = []
    page.on(
        "framenavigated", lambda frame: seen.append(frame.url) if frame is page.main_frame else None
    )
    return seen


def waits_without_reloading(page, progress_url: str, navigations: list[str]) -> None:
    """The queued page stays as it is for two of its looks in the background."""
    status = page.get_by_role("status")
    assert "sobald es vorliegt" in status.inner_text()
    assert page.get_by_role("link", name="Jetzt neu laden").get_attribute("href")
    asked_before = page.requests.count(progress_url)
    page.wait_for_timeout(6_500)
    assert navigations == []  # no reload while queued
    assert page.requests.count(progress_url) >= asked_before + 2  # but asked again
    assert page.get_by_role("heading", name="Import läuft").is_visible()


def run_the_worker(app) -> None:
    """Run the worker until no import is left: in a thread of its own, as Playwright's event
    loop runs in this one (the page meanwhile goes on asking in the background)."""
    worker = threading.Thread(
        target=jobs.run_worker,
        args=(app,),
        kwargs={"wait": False, "queues": ("imports",), "install_signal_handlers": False},
    )
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()


def test_the_layer_progress_page_shows_the_result_once_the_worker_has_run(
    page, live_server, app, make_staff
):
    app.config["JOBS_RUN_INLINE"] = False
    sign_in_with_keyboard(page, live_server, make_staff("curator"))
    page.goto(f"{live_server}/agentur/ebenen/")
    page.get_by_label("Ebene", exact=True).select_option("childcare")
    page.get_by_label("Datei", exact=True).set_input_files(
        {"name": "kitas.csv", "mimeType": "text/csv", "buffer": LAYER_CSV}
    )
    page.get_by_role("button", name="Hochladen und prüfen").click()
    page.get_by_role("heading", name="Ebene: Prüfbericht").wait_for()
    page.get_by_label(re.compile("Ersetzen:")).check()
    page.get_by_role("button", name="Importieren").click()
    page.wait_for_url(re.compile(r"/agentur/ebenen/datei/\d+/stand$"))
    progress_url = page.url
    navigations = watch_navigations(page)
    assert axe_violations(page) == []
    waits_without_reloading(page, progress_url, navigations)
    with app.app_context():
        assert db.session.query(LayerFeature).count() == 0

    run_the_worker(app)
    page.get_by_role("heading", name="Ebene importiert").wait_for(timeout=15_000)
    assert navigations == [progress_url]  # loaded anew once, by the page itself
    assert "Kinderbetreuung: 2 Objekte gespeichert, 0 entfernt." in page.inner_text("main")
    assert axe_violations(page) == []
    with app.app_context():
        assert db.session.query(LayerFeature).count() == 2


def test_the_employer_import_progress_page_shows_the_new_entries_once_the_worker_has_run(
    page, live_server, app, make_staff
):
    app.config["JOBS_RUN_INLINE"] = False
    email = make_staff("curator")
    with app.test_request_context():
        actor = by_email(email)
        upload = importer.store_upload(EMPLOYERS_CSV, "firmen.csv", actor)
        importer.request_import(upload, {"name": "Firma", "postal_code": "PLZ"}, "pending", actor)
        number = upload.id
    sign_in_with_keyboard(page, live_server, email)
    progress_url = f"{live_server}/agentur/import/{number}/stand"
    page.goto(progress_url)
    navigations = watch_navigations(page)
    assert axe_violations(page) == []
    waits_without_reloading(page, progress_url, navigations)

    run_the_worker(app)
    page.get_by_text("2 Einträge importiert").wait_for(timeout=15_000)
    assert navigations == [progress_url]
    main = page.inner_text("main")
    assert "Bäckerei Sonnenschein" in main and "Elektro Kaya" in main
    with app.app_context():
        assert db.session.query(Company).count() == 2
