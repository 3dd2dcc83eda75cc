"""Where browsers report content the Content-Security-Policy blocked (``report-uri``).

A report is logged as a warning (the directive, the blocked source and the page, each cut to a
sane length) and answered with 204. It is a browser's background request: no CSRF token, no
session, no cookie; rate-limited per client, and a body over :data:`MAX_REPORT_BYTES` is refused.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, request

from app.extensions import csrf, limiter
from app.security_headers import REPORT_PATH

log = logging.getLogger(__name__)
bp = Blueprint("csp_report", __name__)

MAX_REPORT_BYTES = 16 * 1024
#: The report fields that are logged, and how much of each.
FIELDS = ("effective-directive", "violated-directive", "blocked-uri", "document-uri", "line-number")
FIELD_LENGTH = 300


def summary(report: object) -> dict[str, str]:
    """The logged fields of a report body ``{"csp-report": {...}}`` (others are ignored)."""
    inner = report.get("csp-report") if isinstance(report, dict) else None
    if not isinstance(inner, dict):
        return {}
    return {field: str(inner[field])[:FIELD_LENGTH] for field in FIELDS if field in inner}


@bp.post(REPORT_PATH)
@csrf.exempt
@limiter.limit("30 per minute")
def report():
    """Log one violation report."""
    if (request.content_length or 0) > MAX_REPORT_BYTES:
        abort(413)
    fields = summary(request.get_json(force=True, silent=True))
    if not fields:
        abort(400, "Not a CSP report.")
    log.warning("content security policy violation: %s", fields)
    return "", 204
