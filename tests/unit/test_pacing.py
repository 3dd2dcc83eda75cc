"""Paces kept by all app processes together (app.pacing): one turn per interval, a caller
that would wait too long does without, and without its storage each process keeps the pace
alone. (The pace shared through Redis: tests/integration/test_several_servers.py.)"""

import time

from limits import RateLimitItemPerSecond

from app.pacing import Pace

UNREACHABLE = "redis+unix:///nonexistent/kmu-atlas/redis.sock?db=0"


def test_a_pace_gives_one_turn_a_second():
    pace = Pace("memory://", "test", RateLimitItemPerSecond(1))
    assert pace.wait(timeout=0)
    started = time.monotonic()
    assert not pace.wait(timeout=0.2)  # the next turn is a second away: given up at once
    assert time.monotonic() - started < 0.1
    assert pace.wait(timeout=2)
    assert time.monotonic() - started > 0.5


def test_without_its_storage_a_process_keeps_the_pace_alone(caplog):
    pace = Pace(UNREACHABLE, "test", RateLimitItemPerSecond(1))
    assert pace.wait(timeout=0)
    assert "storage unreachable" in caplog.text
    started = time.monotonic()
    assert not pace.wait(timeout=0.2)
    assert pace.wait(timeout=2)
    assert time.monotonic() - started > 0.5
