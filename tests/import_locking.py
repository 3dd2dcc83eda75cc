"""What the tests of both queued imports (employers and map layers) share: while a worker holds
the upload's row, a request to import it is refused at once instead of waiting for the lock;
and an import asked for so long ago that its job must be lost may be asked for again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import text

from app.extensions import db
from app.models import ImportUpload

#: How long the worker stand-in holds the row at most (a request that waited would hang).
HOLD_SECONDS = 10
#: A refusal must come well before that.
AT_ONCE_SECONDS = 5


def assert_refused_while_locked(app, upload_id: int, ask: Callable[[], object]) -> None:
    """Lock the upload's row on a connection of its own (as the import job does), call
    ``ask`` (the request for the import), and assert it was refused at once with 409 and the
    message, and that nothing was queued or changed."""
    app.config["JOBS_RUN_INLINE"] = False
    with app.app_context(), db.engine.connect() as worker:
        worker.execute(
            text("SELECT id FROM import_uploads WHERE id = :id FOR UPDATE"), {"id": upload_id}
        )
        release = threading.Timer(HOLD_SECONDS, worker.rollback)
        release.start()
        started = time.monotonic()
        refused = ask()
        waited = time.monotonic() - started
        release.cancel()
        worker.rollback()
    assert waited < AT_ONCE_SECONDS
    assert refused.status_code == 409
    assert "Diese Datei wird schon importiert." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ImportUpload, upload_id).import_state is None
        assert db.session.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == 0


def age_import_requests(app, minutes: int = 31) -> None:
    """Make every queued import look asked for ``minutes`` ago (past ``importer.STALE_AFTER``:
    its job counts as lost)."""
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE import_uploads SET import_request = jsonb_set(import_request,"
                " '{requested_at}', to_jsonb((now() - make_interval(mins => :minutes))::text))"
            ),
            {"minutes": minutes},
        )
        db.session.commit()
