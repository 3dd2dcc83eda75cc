"""Paces kept by all app processes together (app.pacing): one turn per interval, a caller
that would wait too long does without, and without its storage each process keeps the pace
alone. (The pace shared through Redis: tests/integration/test_several_servers.py.)"""

import time

from limits import RateLimitItemPerSecond

from app import pacing
from app.pacing import Pace

UNREACHABLE = "redis+unix:///nonexistent/kmu-atlas/redis.sock?db=0"


def test_a_pace_gives_one_turn_a_second():
    pace = Pace("memory://", "test", RateLimitItemPerSecond(1))
    started = time.monotonic()
    assert pace.wait(timeout=0)
    assert not pace.wait(timeout=0.2)  # the next turn is about a second away: given up at once
    assert time.monotonic() - started < 0.5
    assert pace.wait(timeout=5)
    assert time.monotonic() - started > 0.9


def test_without_its_storage_a_process_keeps_the_pace_alone(caplog, monkeypatch):
    # (An in-process migration's logging set-up disables the loggers that exist before it.)
    monkeypatch.setattr(pacing.log, "disabled", False)
    pace = Pace(UNREACHABLE, "test", RateLimitItemPerSecond(1))
    started = time.monotonic()
    assert pace.wait(timeout=0)
    assert "storage unreachable" in caplog.text
    assert not pace.wait(timeout=0)
    assert pace.wait(timeout=5)
    assert time.monotonic() - started > 0.9
