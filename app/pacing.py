"""Paces kept by every app process together, e.g. at most one request a second to the
operator's Nominatim, however many servers and workers run.

The counts live where the rate limits' do (``RATELIMIT_STORAGE_URI``: Redis in production,
``memory://`` for a single process), in a moving window (``limits``), under keys of their own.
While that storage cannot be reached, each process keeps the pace on its own, as a single
process would, and logs a warning: the action is slowed, never refused for it.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import current_app
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

_EXTENSION = "pacing"
_making = threading.Lock()
#: The namespace of the pace counters in the shared storage.
NAMESPACE = "kmu-atlas-pace"


class Pace:
    """At most ``rate`` of the action ``name`` for every process on the same storage."""

    def __init__(self, storage_uri: str, name: str, rate: RateLimitItem):
        self.name = name
        self.rate = rate
        self._window = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._lock = threading.Lock()
        self._last = -1e9

    def wait(self, timeout: float) -> bool:
        """Wait for the action's turn: True when it may run now, False when the turn would
        come only after ``timeout`` seconds (the caller does without it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._window.hit(self.rate, NAMESPACE, self.name):
                    return True
                reset = self._window.get_window_stats(self.rate, NAMESPACE, self.name).reset_time
            except Exception as error:  # the storage's client raises its own errors
                log.warning("Pace %s kept per process: storage unreachable (%s)", self.name, error)
                return self._wait_alone(deadline)
            wait = max(reset - time.time(), 0.01)
            if time.monotonic() + wait > deadline:
                return False
            time.sleep(wait)

    def _wait_alone(self, deadline: float) -> bool:
        """The pace in this process alone (one action per ``rate``'s interval)."""
        interval = self.rate.get_expiry() / self.rate.amount
        with self._lock:
            wait = interval - (time.monotonic() - self._last)
            if wait > 0:
                if time.monotonic() + wait > deadline:
                    return False
                time.sleep(wait)
            self._last = time.monotonic()
            return True


def pace(name: str, per_second: int = 1) -> Pace:
    """The current app's pace ``name`` (made on first use, on ``RATELIMIT_STORAGE_URI``)."""
    with _making:
        paces = current_app.extensions.setdefault(_EXTENSION, {})
        if name not in paces:
            uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
            paces[name] = Pace(uri, name, RateLimitItemPerSecond(per_second))
        return paces[name]
