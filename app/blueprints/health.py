"""Health checks for the orchestrator and the load balancer.

- ``/healthz/live`` (liveness): the process answers. It touches no database and is 200 as long
  as the process runs; restarting the process would not help when only the database is gone.
- ``/healthz/ready`` (readiness) and ``/healthz``: the database is reachable and at the newest
  migration (200), else 503 with the reason. Send traffic only while it is 200. The body also
  tells how the task queue stands (``jobs``: workers alive, jobs due and waiting, the oldest
  one's wait in seconds), for monitoring: a server is ready without a worker, but no worker or
  a wait of minutes means mail and imports are not being done.

The answers name no connection details, are stored by no cache (``Cache-Control: no-store``),
set no cookie and are never rate-limited.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.extensions import limiter
from app.services.health import check_health

bp = Blueprint("health", __name__)


def _answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@bp.get("/healthz/ready")
@limiter.exempt
def ready():
    """Readiness: 200 with a small JSON body when healthy; 503 with the reason otherwise."""
    healthy, body = check_health()
    return _answer(body, 200 if healthy else 503)


@bp.get("/healthz/live")
@limiter.exempt
def live():
    """Liveness: the process answers (no database involved)."""
    return _answer({"status": "ok"}, 200)
