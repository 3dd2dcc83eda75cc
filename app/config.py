"""Settings from the environment, checked once at start-up.

Every setting is read from an environment variable of the same name; ``create_app(config)`` may
override them (tests do). A bad value raises :class:`ConfigError` with one sentence saying what
is wrong and how to fix it, before anything else starts.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from limits import parse_many
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.layers import LayerKindsError, load_layer_kinds
from app.services import entries
from geodata.regions import RegionError, load_region
from questionnaire import DefinitionError, load_definition

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("production", "development", "testing")
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#: Where "Route" links go: a routing page that takes the destination as {lat} and {lon}.
DEFAULT_ROUTE_URL = "https://www.openstreetmap.org/directions?to={lat}%2C{lon}"
DEFAULT_TILE_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>-Mitwirkende'
)
#: The default credit in each interface language (used while TILE_ATTRIBUTION is not set).
DEFAULT_TILE_ATTRIBUTIONS = {
    "de": DEFAULT_TILE_ATTRIBUTION,
    "en": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    "tr": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> katkıcıları',
    "ar": '&copy; مساهمو <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    "uk": '&copy; учасники <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
}
#: The settings read from the environment; anything else in ``create_app(config)`` is passed
#: to Flask's config unchanged.
ENV_SETTINGS = (
    "APP_ENV",
    "DATABASE_URL",
    "SECRET_KEY",
    "TILE_URL",
    "TILE_ATTRIBUTION",
    "REGION",
    "INSTANCE_PATH",
    "MAX_UPLOAD_MB",
    "CLUSTER_THRESHOLD",
    "MAIL_SMTP_HOST",
    "MAIL_SMTP_PORT",
    "MAIL_SMTP_USER",
    "MAIL_SMTP_PASSWORD",
    "MAIL_SMTP_STARTTLS",
    "MAIL_FROM",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_ENABLED",
    "BASE_URL",
    "QUESTIONNAIRE_DEFINITION",
    "NOMINATIM_URL",
    "STAFF_IDLE_MINUTES",
    "STAFF_SESSION_HOURS",
    "TOTP_ENCRYPTION_KEY",
    "TRUSTED_HOSTS",
    "MAP_FEATURE_LIMIT",
    "API_RATE_LIMIT",
    "PROXY_COUNT",
    "LAYER_KINDS",
    "FETCH_ALLOWED_NETWORKS",
    "FEED_MAX_BYTES",
    "FEED_TIMEOUT_SECONDS",
    "EMBED_FRAME_ANCESTORS",
    "ROUTE_URL",
    "SERVICE_WORKER",
    "MAP_CACHE",
    "MAP_BITMAPS",
    "RETENTION_UPLOAD_DAYS",
    "RETENTION_OUTBOX_DAYS",
    "JOBS_RUN_INLINE",
    "JOBS_CONCURRENCY",
)


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and what to do."""


#: The region a deployment covers when REGION is not set.
DEFAULT_REGION = "emscher-lippe"
#: The name search's typo tolerance (0 to 1): the pg_trgm strict word similarity a word of an
#: employer's name must reach to match a query word when the full text finds nothing. Set on
#: every database connection as ``pg_trgm.strict_word_similarity_threshold``, so that the
#: trigram index serves the condition (app.features.employers.text_condition). Tuned on the
#: region's names: "Bäkerei" ~ "Bäckerei" 0.55, "Hofman" ~ "Hoffmann" 0.45, "Bank" ~ "Bäckerei"
#: 0.17, "Bäkerei" ~ "Dachdeckerei" 0.29.
NAME_SIMILARITY = 0.4


def local_database_name(region_key: str) -> str:
    """The project-local database of a region: ``kmu_atlas`` for the default region and
    ``kmu_atlas_<key>`` for another (``REGION=soest make run``), so that two regions' data,
    demo employers included, never share a database."""
    if region_key == DEFAULT_REGION:
        return "kmu_atlas"
    return "kmu_atlas_" + re.sub(r"[^a-z0-9]+", "_", region_key.lower()).strip("_")[:40]


def local_database_url(instance_path: Path, database: str = "kmu_atlas") -> URL:
    """The URL of the project-local PostGIS cluster that ``scripts/localdb.sh`` runs.

    It listens only on a Unix socket inside ``instance/postgres``, so it never clashes with
    another PostgreSQL server on the machine.
    """
    return URL.create(
        "postgresql+psycopg",
        username="kmu_atlas",
        database=database,
        query={"host": str(instance_path / "postgres")},
    )


def parse_database_url(value: str) -> URL:
    """Parse DATABASE_URL; accept postgres://, postgresql:// and postgresql+psycopg:// URLs."""
    hint = "DATABASE_URL must look like postgresql://user:password@host:5432/database"
    try:
        url = make_url(value.strip())
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL {value!r} is not a valid URL: {hint}.") from None
    if url.get_backend_name() not in ("postgres", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL uses {url.drivername!r}, but only PostgreSQL works: {hint}."
        )
    if not url.database:
        raise ConfigError(f"DATABASE_URL names no database: {hint}.")
    return url.set(drivername="postgresql+psycopg")


def parse_tile_url(value: str) -> str:
    """Check TILE_URL: an http(s) URL template with {z}, {x} and {y} placeholders."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"TILE_URL {value!r} must be an http(s) URL such as {DEFAULT_TILE_URL}.")
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in value]
    if missing:
        raise ConfigError(f"TILE_URL {value!r} lacks the placeholder(s) {', '.join(missing)}.")
    return value


def parse_route_url(value: str) -> str:
    """Check ROUTE_URL: an http(s) URL template of a routing page with the placeholders {lat}
    and {lon} (the destination) and no others."""
    example = f"such as {DEFAULT_ROUTE_URL}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"ROUTE_URL {value!r} must be an http(s) URL {example}.")
    missing = [p for p in ("{lat}", "{lon}") if p not in value]
    if missing:
        raise ConfigError(f"ROUTE_URL {value!r} lacks the placeholder(s) {', '.join(missing)}.")
    if re.search(r"[{}]", value.replace("{lat}", "").replace("{lon}", "")):
        raise ConfigError(
            f"ROUTE_URL {value!r} may hold only the placeholders {{lat}} and {{lon}} in braces."
        )
    return value


def tile_origin(tile_url: str) -> str:
    """The scheme and host a browser contacts for tiles (``{s}`` subdomains kept as pattern)."""
    parts = urlsplit(tile_url)
    return f"{parts.scheme}://{parts.netloc}"


def load_settings(overrides: Mapping | None = None, environ: Mapping | None = None) -> dict:
    """Read, check and return the Flask config from the environment plus ``overrides``."""
    overrides = dict(overrides or {})
    environ = os.environ if environ is None else environ
    raw = {key: environ.get(key) for key in ENV_SETTINGS}
    raw.update({k: v for k, v in overrides.items() if k in ENV_SETTINGS})
    passthrough = {k: v for k, v in overrides.items() if k not in ENV_SETTINGS}

    app_env = (raw["APP_ENV"] or "production").strip().lower()
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV {raw['APP_ENV']!r} must be one of {', '.join(ENVIRONMENTS)}.")
    instance_path = Path(raw["INSTANCE_PATH"] or PROJECT_ROOT / "instance").resolve()

    region_setting = raw["REGION"] or DEFAULT_REGION
    try:
        region = load_region(region_setting)
    except RegionError as exc:
        raise ConfigError(f"REGION: {exc}") from None

    if raw["DATABASE_URL"]:
        database_url = parse_database_url(raw["DATABASE_URL"])
        local_database = False
    else:
        database_url = local_database_url(instance_path, local_database_name(region.key))
        local_database = True

    tile_url = parse_tile_url(raw["TILE_URL"] or DEFAULT_TILE_URL)
    route_url = parse_route_url((raw["ROUTE_URL"] or DEFAULT_ROUTE_URL).strip())
    attribution = raw["TILE_ATTRIBUTION"]
    if attribution is None:
        if raw["TILE_URL"] and raw["TILE_URL"] != DEFAULT_TILE_URL:
            raise ConfigError(
                "TILE_ATTRIBUTION must be set when TILE_URL is set: name the tile source."
            )
        attribution = DEFAULT_TILE_ATTRIBUTION

    max_upload_mb = _whole_number(raw, "MAX_UPLOAD_MB", 10)
    cluster_threshold = _whole_number(raw, "CLUSTER_THRESHOLD", 150)
    map_feature_limit = _whole_number(raw, "MAP_FEATURE_LIMIT", 500)
    if map_feature_limit < cluster_threshold:
        raise ConfigError(
            f"MAP_FEATURE_LIMIT ({map_feature_limit}) must not be smaller than "
            f"CLUSTER_THRESHOLD ({cluster_threshold})."
        )

    try:
        questionnaire = load_definition(
            raw["QUESTIONNAIRE_DEFINITION"] or None, targets=entries.FIELD_NAMES
        )
    except DefinitionError as exc:
        raise ConfigError(f"QUESTIONNAIRE_DEFINITION: {exc}") from None

    try:
        layer_kinds = load_layer_kinds(raw["LAYER_KINDS"] or None)
    except LayerKindsError as exc:
        raise ConfigError(f"LAYER_KINDS: {exc}") from None

    base_url = (raw["BASE_URL"] or "").rstrip("/")
    if base_url and urlsplit(base_url).scheme not in ("http", "https"):
        raise ConfigError(f"BASE_URL {base_url!r} must start with https:// or http://.")

    nominatim_url = (raw["NOMINATIM_URL"] or "").rstrip("/")
    if nominatim_url and urlsplit(nominatim_url).scheme not in ("http", "https"):
        raise ConfigError(f"NOMINATIM_URL {nominatim_url!r} must start with https:// or http://.")

    jobs_run_inline = _flag(raw, "JOBS_RUN_INLINE", default=app_env == "testing")
    if jobs_run_inline and app_env == "production":
        raise ConfigError(
            "JOBS_RUN_INLINE must not be set in production: mail and scheduled work run in "
            "the worker (flask jobs worker), never within a request."
        )

    ratelimit_enabled = _flag(raw, "RATELIMIT_ENABLED", default=True)
    if not ratelimit_enabled and app_env == "production":
        raise ConfigError(
            "RATELIMIT_ENABLED=false must not be set in production: the rate limits protect "
            "sign-in, the questionnaire, registrations, job alerts and the API. To raise a "
            "limit, set API_RATE_LIMIT."
        )

    settings = {
        "APP_ENV": app_env,
        "TESTING": app_env == "testing",
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": _secret_key(raw["SECRET_KEY"], app_env, instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url.render_as_string(hide_password=False),
        # JIT compilation costs more than it saves on these short interactive queries, and so
        # do parallel workers: starting them costs more than the few thousand rows a request
        # reads (a town view's edge: 8 ms alone, 26 ms with a worker), and under concurrent
        # requests every core is busy anyway. The name search's trigram threshold
        # (NAME_SIMILARITY) holds for every connection.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            "connect_args": {
                "connect_timeout": 5,
                "options": "-c jit=off -c max_parallel_workers_per_gather=0"
                f" -c pg_trgm.strict_word_similarity_threshold={NAME_SIMILARITY}",
            },
        },
        "LOCAL_DATABASE": local_database,
        "TILE_URL": tile_url,
        "TILE_ATTRIBUTION": attribution,
        "ROUTE_URL": route_url,
        # The installable app's offline cache; "false" also removes an installed worker from
        # visitors' browsers. Off in tests unless a test switches it on (a browser closed during
        # the worker's install cuts its requests off, which the test server reports).
        "SERVICE_WORKER": _flag(raw, "SERVICE_WORKER", default=app_env != "testing"),
        # Unfiltered map answers shared through PostgreSQL (app.features.map_cache).
        "MAP_CACHE": _flag(raw, "MAP_CACHE", default=True),
        # Filters of several tags intersected in each process (app.features.tag_bitmaps); off
        # in the test suite but for the tests that switch it on (each test loads its own).
        "MAP_BITMAPS": _flag(raw, "MAP_BITMAPS", default=app_env != "testing"),
        "REGION": region,
        # The whole body of a request (an upload's file included), the text fields of a form
        # together, and the number of a form's fields: beyond them the answer is 413.
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 500 * 1024,
        "MAX_FORM_PARTS": 1000,
        "CLUSTER_THRESHOLD": cluster_threshold,
        "CLUSTER_MAX_ZOOM": 15,
        "MAP_FEATURE_LIMIT": map_feature_limit,
        "BASE_URL": base_url,
        "MAIL_SMTP_HOST": raw["MAIL_SMTP_HOST"] or "",
        "MAIL_SMTP_PORT": _whole_number(raw, "MAIL_SMTP_PORT", 587),
        "MAIL_SMTP_USER": raw["MAIL_SMTP_USER"] or "",
        "MAIL_SMTP_PASSWORD": raw["MAIL_SMTP_PASSWORD"] or "",
        "MAIL_SMTP_STARTTLS": (raw["MAIL_SMTP_STARTTLS"] or "true").lower() != "false",
        "MAIL_FROM": raw["MAIL_FROM"] or "KMU-Atlas <no-reply@localhost>",
        "RATELIMIT_STORAGE_URI": _ratelimit_storage(raw["RATELIMIT_STORAGE_URI"], app_env),
        # Redis unreachable: count in each process meanwhile instead of failing the request.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        # Off only in development or tests; refused in production.
        "RATELIMIT_ENABLED": ratelimit_enabled,
        "API_RATE_LIMIT": _rate_limit(raw, "API_RATE_LIMIT", "300 per minute"),
        "QUESTIONNAIRE": questionnaire,
        "LAYER_KINDS": layer_kinds,
        "NOMINATIM_URL": nominatim_url,
        "NOMINATIM_USER_AGENT": f"KMU-Atlas/0.1 ({base_url or 'self-hosted'})",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": app_env == "production",
        "SESSION_COOKIE_NAME": "__Host-session" if app_env == "production" else "session",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
        "STAFF_IDLE_MINUTES": _whole_number(raw, "STAFF_IDLE_MINUTES", 30),
        # A staff session ends this long after signing in, however busy (ASVS 3.3.2).
        "STAFF_SESSION_HOURS": _whole_number(raw, "STAFF_SESSION_HOURS", 12),
        "TOTP_ENCRYPTION_KEY": _fernet_keys(raw["TOTP_ENCRYPTION_KEY"]),
        "TRUSTED_HOSTS": _trusted_hosts(raw["TRUSTED_HOSTS"], base_url, app_env),
        "PROXY_COUNT": _whole_number(raw, "PROXY_COUNT", 0, minimum=0),
        "FETCH_ALLOWED_NETWORKS": _networks(raw, "FETCH_ALLOWED_NETWORKS"),
        "FEED_MAX_BYTES": _whole_number(raw, "FEED_MAX_BYTES", 2 * 1024 * 1024),
        "FEED_TIMEOUT_SECONDS": _whole_number(raw, "FEED_TIMEOUT_SECONDS", 10),
        "EMBED_FRAME_ANCESTORS": frame_ancestors(raw["EMBED_FRAME_ANCESTORS"]),
        # How long `flask retention run` keeps import uploads and outbox mails (and what the
        # privacy page says). Mail limits count the outbox of the last day: keep at least two.
        "RETENTION_UPLOAD_DAYS": _whole_number(raw, "RETENTION_UPLOAD_DAYS", 30),
        "RETENTION_OUTBOX_DAYS": _whole_number(raw, "RETENTION_OUTBOX_DAYS", 90, minimum=2),
        # Jobs (app.jobs) run in the process that deferred them, right after its commit,
        # instead of in the worker: the test suite's default; refused in production.
        "JOBS_RUN_INLINE": jobs_run_inline,
        # How many jobs one worker runs at once (each in a thread of its own).
        "JOBS_CONCURRENCY": _whole_number(raw, "JOBS_CONCURRENCY", 2),
    }
    settings.update(passthrough)
    return settings


def _trusted_hosts(value: str | None, base_url: str, app_env: str) -> list[str] | None:
    """The host names the app answers to (Flask refuses others with 400).

    Links in e-mails are built from BASE_URL, never from the request's Host header, so
    production requires BASE_URL; its host is trusted, plus any in TRUSTED_HOSTS.
    """
    hosts = [host.strip() for host in (value or "").split(",") if host.strip()]
    if app_env != "production":
        return hosts or None
    if not base_url:
        raise ConfigError(
            "BASE_URL is not set: in production, set it to the public address of the site "
            "(e.g. https://atlas.example.org); links in e-mails are built from it."
        )
    return [urlsplit(base_url).hostname, *hosts]


#: One origin a page may be framed by: scheme://host[:port], the host's first label may be "*".
_FRAME_ORIGIN = re.compile(
    r"https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?/?",
    re.ASCII,
)


def frame_ancestors(value: str | None) -> str:
    """EMBED_FRAME_ANCESTORS: the sites that may frame the embed pages, as the value of CSP's
    ``frame-ancestors``. "*" (the default) means any site; otherwise origins such as
    https://www.gladbeck.de, separated by spaces or commas ("'self'" and "https:" are allowed);
    the atlas itself ('self') is always added, for the builder's preview."""
    parts = [part for part in re.split(r"[\s,]+", (value or "*").strip()) if part]
    if not parts:
        return "*"
    if "*" in parts and len(parts) > 1:
        raise ConfigError(
            "EMBED_FRAME_ANCESTORS: '*' already allows every site, so give it alone or list "
            "the origins instead."
        )
    for part in parts:
        if part in ("*", "'self'", "https:") or _FRAME_ORIGIN.fullmatch(part.lower()):
            continue
        raise ConfigError(
            f"EMBED_FRAME_ANCESTORS {part!r} is not a site: give origins such as "
            "https://www.gladbeck.de separated by spaces, or * for any site."
        )
    if parts != ["*"] and "'self'" not in parts:
        parts.insert(0, "'self'")  # the builder's preview frames the embed pages itself
    return " ".join(part.rstrip("/") if "://" in part else part for part in parts)


def _flag(raw: Mapping, key: str, *, default: bool) -> bool:
    """A true/false setting (text, or a bool passed to ``create_app``), or its default when
    unset."""
    if isinstance(raw[key], bool):
        return raw[key]
    value = (raw[key] or "").strip().lower()
    if not value:
        return default
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{key} {raw[key]!r} must be true or false.")
    return value in ("true", "1", "yes")


def _whole_number(raw: Mapping, key: str, default: int, minimum: int = 1) -> int:
    """A whole-number setting ≥ ``minimum``, or its default when unset."""
    try:
        value = int(raw[key] or default)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(f"{key} {raw[key]!r} must be a whole number ≥ {minimum}.")
    return value


def _fernet_keys(value: str | None) -> tuple[str, ...]:
    """TOTP_ENCRYPTION_KEY: Fernet keys separated by commas, the first encrypting, all
    decrypting (to change the key, put the new one first and keep the old one until every
    secret was written anew). Unset: a key derived from SECRET_KEY (app.services.second_factor).
    """
    keys = tuple(part.strip() for part in (value or "").split(",") if part.strip())
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                "TOTP_ENCRYPTION_KEY must be Fernet keys separated by commas (make one with "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')."
            ) from None
    return keys


def _networks(raw: Mapping, key: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated networks (CIDR) the app may fetch from although they are internal."""
    networks = []
    for part in (raw[key] or "").split(","):
        if not part.strip():
            continue
        try:
            networks.append(ip_network(part.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"{key} {part.strip()!r} is not a network: give addresses or networks in CIDR "
                "notation, separated by commas (e.g. 10.20.0.0/16,192.0.2.10/32)."
            ) from None
    return tuple(networks)


#: The rate-limit storages the app accepts: one process's memory, or Redis shared by all.
RATELIMIT_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")


def _ratelimit_storage(value: str | None, app_env: str) -> str:
    """Where the rate limits count: required in production, where several processes serve
    and each would otherwise count only its own share (``memory://`` there is a conscious
    choice for a single process); ``memory://`` elsewhere."""
    value = (value or "").strip()
    if not value:
        if app_env == "production":
            raise ConfigError(
                "RATELIMIT_STORAGE_URI is not set: in production, set it to redis://host:6379/0 "
                "so that every app process counts the same requests (memory:// only if a single "
                "process serves)."
            )
        return "memory://"
    scheme = urlsplit(value).scheme
    if scheme not in RATELIMIT_SCHEMES:
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI {value!r} must start with one of "
            f"{', '.join(s + '://' for s in RATELIMIT_SCHEMES)}."
        )
    return value


def _rate_limit(raw: Mapping, key: str, default: str) -> str:
    """A Flask-Limiter rate limit such as "300 per minute", or its default when unset."""
    value = (raw[key] or default).strip()
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            f"{key} {value!r} must be a rate limit such as '300 per minute'."
        ) from None
    return value


def _secret_key(value: str | None, app_env: str, instance_path: Path) -> str:
    """The secret key: required in production; elsewhere kept in ``instance/secret_key``."""
    if value:
        if app_env == "production" and len(value) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long in production.")
        return value
    if app_env == "production":
        raise ConfigError(
            "SECRET_KEY is not set: set it in the environment (e.g. python -c "
            "'import secrets; print(secrets.token_hex(32))'), or set APP_ENV=development "
            "for a local run."
        )
    if app_env == "testing":
        return secrets.token_hex(32)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
