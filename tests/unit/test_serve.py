"""``flask serve`` (``make run``) runs the task queue's worker in a thread beside the server,
unless jobs run inline or ``--no-worker`` says so."""

from __future__ import annotations

import threading

import pytest

from app import cli, create_app, jobs


@pytest.fixture
def started(monkeypatch):
    """What ``flask serve`` started: the worker's call (in which thread) and the server's."""
    calls = {"worker": [], "server": []}
    done = threading.Event()

    def worker(app, **options):
        calls["worker"].append((threading.current_thread(), app, options))
        done.set()

    monkeypatch.setattr(jobs, "run_worker", worker)
    monkeypatch.setattr(cli, "run_simple", lambda *args, **kwargs: calls["server"].append(args))
    calls["done"] = done
    return calls


def serve(*arguments, **config):
    app = create_app(
        {"APP_ENV": "testing", "DATABASE_URL": "postgresql://u@localhost/atlas", **config}
    )
    result = app.test_cli_runner().invoke(args=["serve", "--port", "5099", *arguments])
    assert result.exit_code == 0, result.output
    return app


def test_serve_runs_the_worker_in_a_thread_of_its_own(started):
    app = serve(JOBS_RUN_INLINE=False)
    assert started["done"].wait(5)
    [(thread, worker_app, options)] = started["worker"]
    assert thread is not threading.main_thread() and thread.daemon
    assert worker_app is app
    assert options == {"install_signal_handlers": False}  # signals belong to the main thread
    [(host, port, server_app)] = started["server"]
    assert (host, port, server_app) == ("127.0.0.1", 5099, app)


@pytest.mark.parametrize(
    ("arguments", "config"), [(["--no-worker"], {"JOBS_RUN_INLINE": False}), ([], {})]
)
def test_no_worker_when_switched_off_or_jobs_run_inline(started, arguments, config):
    serve(*arguments, **config)
    assert started["server"] and started["worker"] == []
