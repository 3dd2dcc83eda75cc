"""The production files shipped in deploy/ fit the app: the example settings load in
production, and every systemd timer runs a command the app has."""

import re
import shlex
from pathlib import Path

import click
import pytest

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


def timers() -> list[Path]:
    return sorted(SYSTEMD.glob("kmu-atlas-job@*.timer"))


def test_there_is_a_timer_for_each_scheduled_command():
    names = {timer.name for timer in timers()}
    assert "kmu-atlas-job@retention_run.timer" in names
    assert "kmu-atlas-job@events_import-feeds.timer" in names
    assert len(names) >= 7


@pytest.mark.parametrize("timer", timers(), ids=lambda path: path.name)
def test_each_timer_runs_a_command_of_the_app(timer):
    words = timer.name.removeprefix("kmu-atlas-job@").removesuffix(".timer").split("_")
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": "postgresql://u@localhost/atlas"})
    command: click.Command = app.cli
    with click.Context(app.cli) as context:
        for word in words:
            assert isinstance(command, click.Group), (timer.name, word)
            command = command.get_command(context, word)
            assert command is not None, f"{timer.name}: no command {' '.join(words)}"
    assert not isinstance(command, click.Group), f"{timer.name} names a group, not a command"
    text = timer.read_text(encoding="utf-8")
    assert re.search(r"^OnCalendar=\S", text, re.M)
    assert f"flask {' '.join(words)}" in text


def test_the_service_starts_the_wsgi_factory_and_the_job_unit_splits_at_underscores():
    service = (SYSTEMD / "kmu-atlas.service").read_text(encoding="utf-8")
    assert "'app.wsgi:create_wsgi_app()'" in service
    assert "EnvironmentFile=/etc/kmu-atlas/kmu-atlas.env" in service
    job = (SYSTEMD / "kmu-atlas-job@.service").read_text(encoding="utf-8")
    [start] = [line for line in job.splitlines() if line.startswith("ExecStart=")]
    # %i (raw), not %I: systemd would turn each "-" of the instance name into "/"
    assert '"%i"' in start and 'tr "_" " "' in start
    assert shlex.split(start.removeprefix("ExecStart="))[0] == "/bin/sh"
