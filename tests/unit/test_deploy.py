"""The production files shipped in deploy/ fit the app: the example settings load in
production, and the worker unit runs the app's worker command (the scheduled work is the
worker's, not systemd timers')."""

import re
import shlex
from pathlib import Path

import click

from app import create_app
from app.config import ENV_SETTINGS, load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SYSTEMD = DEPLOY / "systemd"


def example_environment() -> dict[str, str]:
    """deploy/kmu-atlas.env.example as a dict (comments and blank lines skipped)."""
    lines = (DEPLOY / "kmu-atlas.env.example").read_text(encoding="utf-8").splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key: value for key, value in pairs}


def test_the_example_settings_are_known_and_load_in_production():
    environment = example_environment()
    assert set(environment) <= set(ENV_SETTINGS), set(environment) - set(ENV_SETTINGS)
    settings = load_settings(environ=environment)
    assert settings["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert settings["PROXY_COUNT"] == 1
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["JOBS_RUN_INLINE"] is False and settings["JOBS_CONCURRENCY"] == 2


def command_of(app, words: list[str]) -> click.Command | None:
    """The app's command ``flask <words>``, or None."""
    command: click.Command = app.cli
    with click.Context(app.cli) as context:
        for word in words:
            if not isinstance(command, click.Group):
                return None
            command = command.get_command(context, word)
            if command is None:
                return None
    return None if isinstance(command, click.Group) else command


def test_the_worker_unit_runs_the_apps_worker_command():
    unit = (SYSTEMD / "kmu-atlas-worker.service").read_text(encoding="utf-8")
    [start] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    words = shlex.split(start.removeprefix("ExecStart="))
    assert words[:3] == ["/srv/kmu-atlas/.venv/bin/flask", "--app", "app.wsgi:create_cli_app"]
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": "postgresql://u@localhost/atlas"})
    assert command_of(app, words[3:]) is not None, words
    assert words[3:] == ["jobs", "worker"]
    assert "EnvironmentFile=/etc/kmu-atlas/kmu-atlas.env" in unit
    assert re.search(r"^Restart=on-failure$", unit, re.M)
    assert re.search(r"^KillSignal=SIGTERM$", unit, re.M)  # the worker's graceful stop


def test_no_timer_or_cron_job_schedules_what_the_worker_runs():
    assert sorted(path.name for path in SYSTEMD.iterdir()) == [
        "kmu-atlas-worker.service",
        "kmu-atlas.service",
    ]


def test_the_service_starts_the_wsgi_factory():
    service = (SYSTEMD / "kmu-atlas.service").read_text(encoding="utf-8")
    assert "'app.wsgi:create_wsgi_app()'" in service
    assert "EnvironmentFile=/etc/kmu-atlas/kmu-atlas.env" in service
