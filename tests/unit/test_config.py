import gc
import subprocess
import sys

import pytest
from flask.cli import NoAppException

from app import create_app
from app.config import DEFAULT_TILE_URL, ConfigError, load_settings
from app.wsgi import create_cli_app, create_wsgi_app

GOOD = {
    "APP_ENV": "testing",
    "DATABASE_URL": "postgresql://atlas:secret@db.internal:5432/atlas",
    "RATELIMIT_STORAGE_URI": "redis://cache.internal:6379/0",
}


def settings(**overrides):
    return load_settings({**GOOD, **overrides}, environ={})


def test_database_url_is_normalised_to_psycopg():
    assert settings()["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://atlas:secret@db.internal:5432/atlas"
    )
    assert settings(DATABASE_URL="postgres://u@h/d")["SQLALCHEMY_DATABASE_URI"].startswith(
        "postgresql+psycopg://"
    )


def test_without_database_url_the_local_cluster_is_used(tmp_path):
    config = load_settings({"APP_ENV": "testing", "INSTANCE_PATH": str(tmp_path)}, environ={})
    assert config["LOCAL_DATABASE"] is True
    assert f"host={tmp_path}/postgres" in config["SQLALCHEMY_DATABASE_URI"].replace("%2F", "/")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a url", "is not a valid URL"),
        ("mysql://u:p@localhost/atlas", "only PostgreSQL works"),
        ("postgresql://u:p@localhost", "names no database"),
    ],
)
def test_malformed_database_url_is_refused_with_a_clear_message(value, message):
    with pytest.raises(ConfigError, match=message):
        settings(DATABASE_URL=value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tiles.example.org/{z}/{x}/{y}.png", "must be an http"),
        ("ftp://tiles.example.org/{z}/{x}/{y}.png", "must be an http"),
        ("https://tiles.example.org/{z}/{x}.png", r"lacks the placeholder\(s\) \{y\}"),
    ],
)
def test_malformed_tile_url_is_refused(value, message):
    with pytest.raises(ConfigError, match=message):
        settings(TILE_URL=value, TILE_ATTRIBUTION="x")


def test_own_tile_server_needs_an_attribution():
    with pytest.raises(ConfigError, match="TILE_ATTRIBUTION must be set"):
        settings(TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png")
    assert settings()["TILE_URL"] == DEFAULT_TILE_URL


def test_production_requires_a_long_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        settings(APP_ENV="production")
    with pytest.raises(ConfigError, match="at least 32 characters"):
        settings(APP_ENV="production", SECRET_KEY="short")
    config = settings(APP_ENV="production", SECRET_KEY="x" * 40, BASE_URL="https://atlas.test")
    assert config["SECRET_KEY"] == "x" * 40
    assert config["SESSION_COOKIE_SECURE"] is True


def test_production_requires_base_url_and_trusts_only_its_host():
    # Mailed links must never be built from a request's Host header.
    with pytest.raises(ConfigError, match="BASE_URL is not set"):
        settings(APP_ENV="production", SECRET_KEY="x" * 40)
    config = settings(APP_ENV="production", SECRET_KEY="x" * 40, BASE_URL="https://atlas.test/")
    assert config["BASE_URL"] == "https://atlas.test"
    assert config["TRUSTED_HOSTS"] == ["atlas.test"]
    config = settings(
        APP_ENV="production",
        SECRET_KEY="x" * 40,
        BASE_URL="https://atlas.test",
        TRUSTED_HOSTS="www.atlas.test, atlas.internal",
    )
    assert config["TRUSTED_HOSTS"] == ["atlas.test", "www.atlas.test", "atlas.internal"]
    assert settings(APP_ENV="development")["TRUSTED_HOSTS"] is None


def test_production_requires_a_shared_rate_limit_storage():
    production = {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "BASE_URL": "https://a.test"}
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI is not set"):
        settings(**production, RATELIMIT_STORAGE_URI="")
    # a single process may count in its memory, as a conscious choice
    assert settings(**production, RATELIMIT_STORAGE_URI="memory://")["RATELIMIT_STORAGE_URI"] == (
        "memory://"
    )
    with pytest.raises(ConfigError, match="must start with one of memory://, redis://"):
        settings(RATELIMIT_STORAGE_URI="cache.internal:6379")
    assert settings(RATELIMIT_STORAGE_URI="")["RATELIMIT_STORAGE_URI"] == "memory://"
    config = settings(**production)
    assert config["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6379/0"
    # while Redis cannot be reached, each process counts on its own rather than failing
    assert config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    assert config["RATELIMIT_SWALLOW_ERRORS"] is True


def test_jobs_run_inline_only_in_tests_and_never_in_production():
    production = {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "BASE_URL": "https://a.test"}
    assert settings()["JOBS_RUN_INLINE"] is True
    assert settings(JOBS_RUN_INLINE="false")["JOBS_RUN_INLINE"] is False
    assert settings(APP_ENV="development")["JOBS_RUN_INLINE"] is False
    assert settings(**production)["JOBS_RUN_INLINE"] is False
    with pytest.raises(ConfigError, match="JOBS_RUN_INLINE must not be set in production"):
        settings(**production, JOBS_RUN_INLINE="true")
    assert settings(JOBS_CONCURRENCY="4")["JOBS_CONCURRENCY"] == 4
    with pytest.raises(ConfigError, match="JOBS_CONCURRENCY"):
        settings(JOBS_CONCURRENCY="0")


def test_map_feature_limit_and_api_rate_limit_are_checked():
    assert settings()["MAP_FEATURE_LIMIT"] == 500
    assert settings()["API_RATE_LIMIT"] == "300 per minute"
    with pytest.raises(ConfigError, match="must not be smaller than CLUSTER_THRESHOLD"):
        settings(MAP_FEATURE_LIMIT="100", CLUSTER_THRESHOLD="150")
    with pytest.raises(ConfigError, match="API_RATE_LIMIT 'often'"):
        settings(API_RATE_LIMIT="often")


def test_development_keeps_a_generated_secret_key_in_the_instance_folder(tmp_path):
    first = settings(APP_ENV="development", INSTANCE_PATH=str(tmp_path))["SECRET_KEY"]
    again = settings(APP_ENV="development", INSTANCE_PATH=str(tmp_path))["SECRET_KEY"]
    assert first == again
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("APP_ENV", "staging", "APP_ENV 'staging' must be one of"),
        ("REGION", "atlantis", "Region 'atlantis' not found"),
        ("MAX_UPLOAD_MB", "lots", "must be a whole number"),
    ],
)
def test_other_bad_settings(key, value, message):
    with pytest.raises(ConfigError, match=message):
        settings(**{key: value})


def test_create_app_stops_on_bad_configuration():
    with pytest.raises(ConfigError, match="only PostgreSQL works"):
        create_app({**GOOD, "DATABASE_URL": "sqlite:///atlas.db"})


def test_cli_app_turns_configuration_errors_into_a_usage_error(monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    monkeypatch.setenv("TILE_URL", "https://tiles.example.org/{z}.png")
    monkeypatch.setenv("TILE_ATTRIBUTION", "x")
    with pytest.raises(NoAppException, match="Configuration error: TILE_URL"):
        create_cli_app()


def test_the_wsgi_app_keeps_its_start_up_objects_out_of_the_collectors_scans(monkeypatch):
    for key, value in GOOD.items():
        monkeypatch.setenv(key, value)
    before = gc.get_freeze_count()
    try:
        application = create_wsgi_app()
        assert application.name == "app"
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_flask_command_prints_one_sentence_not_a_traceback(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "FLASK_APP": "app.wsgi:create_cli_app",
        "APP_ENV": "testing",
        "DATABASE_URL": "mysql://u:p@localhost/atlas",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "seed-demo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Configuration error: DATABASE_URL uses 'mysql'" in result.stderr
    assert "Traceback" not in result.stderr


def test_proxy_count_is_a_whole_number_from_zero():
    assert settings()["PROXY_COUNT"] == 0
    assert settings(PROXY_COUNT="2")["PROXY_COUNT"] == 2
    with pytest.raises(ConfigError, match="PROXY_COUNT '-1' must be a whole number ≥ 0"):
        settings(PROXY_COUNT="-1")


@pytest.mark.parametrize("value", [False, "false", "0", "no"])
def test_switches_turn_off_from_text_or_a_bool(value):
    assert settings(MAP_CACHE=value)["MAP_CACHE"] is False
    assert settings(MAP_CACHE=not value if isinstance(value, bool) else "true")["MAP_CACHE"]
    assert settings()["MAP_CACHE"] is True


def test_rate_limits_are_on_unless_switched_off_in_the_environment():
    assert settings()["RATELIMIT_ENABLED"] is True
    assert settings(RATELIMIT_ENABLED="false")["RATELIMIT_ENABLED"] is False
    config = load_settings({**GOOD}, environ={"RATELIMIT_ENABLED": "false"})
    assert config["RATELIMIT_ENABLED"] is False
    with pytest.raises(ConfigError, match="RATELIMIT_ENABLED 'off' must be true or false"):
        settings(RATELIMIT_ENABLED="off")


def test_production_refuses_switching_the_rate_limits_off():
    production = {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "BASE_URL": "https://a.test"}
    assert settings(**production)["RATELIMIT_ENABLED"] is True
    assert settings(**production, RATELIMIT_ENABLED="true")["RATELIMIT_ENABLED"] is True
    with pytest.raises(ConfigError, match="RATELIMIT_ENABLED=false must not be set in production"):
        settings(**production, RATELIMIT_ENABLED="false")
    assert settings(APP_ENV="development", RATELIMIT_ENABLED="false")["RATELIMIT_ENABLED"] is False


def test_the_wsgi_app_begins_loading_the_map_bitmaps(monkeypatch):
    from app.features import tag_bitmaps

    for key, value in {**GOOD, "MAP_BITMAPS": "true"}.items():
        monkeypatch.setenv(key, value)
    loads = []
    monkeypatch.setattr(tag_bitmaps, "load", lambda engine: loads.append(engine) or None)
    try:
        application = create_wsgi_app()
    finally:
        gc.unfreeze()
    application.extensions["tag_bitmaps"].wait()
    assert len(loads) == 1
    assert str(loads[0].url).endswith("@db.internal:5432/atlas")
