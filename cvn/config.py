"""Settings read from ``CVN_*`` environment variables, with safe defaults.

Every setting has a development default so that ``make run`` works on a fresh
clone. With ``CVN_ENV=production`` the app refuses to start unless a real secret
key, a database URL, shared rate-limit storage and a mail server are given (the
last two may be turned down explicitly: ``memory://``, ``CVN_MAIL_DELIVERY=outbox``).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instance_path(environ=None) -> Path:
    """Return the folder for local state (SQLite file, development secret)."""
    env = os.environ if environ is None else environ
    return Path(env.get("CVN_INSTANCE_PATH", ROOT / "instance"))


#: Secret keys that must never be accepted in production.
WEAK_SECRETS = {"", "dev", "changeme", "secret", "change-me", "development"}


class ConfigError(RuntimeError):
    """Raised when the environment cannot run the app safely."""


def _bool(env, name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def normalize_database_url(url: str) -> str:
    """Make a PostgreSQL URL use the psycopg 3 driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _dev_secret_key(instance: Path) -> str:
    """Return the development secret kept under ``instance/``, making it once."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_env(environ: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from the environment."""
    env = os.environ if environ is None else environ
    mode = env.get("CVN_ENV", "development")
    production = mode == "production"
    secret = env.get("CVN_SECRET_KEY", "")
    database_url = env.get("CVN_DATABASE_URL", "")
    ratelimit_url = env.get("CVN_RATELIMIT_STORAGE_URL", "").strip()
    mail_server = env.get("CVN_MAIL_SERVER", "")
    mail_delivery = env.get("CVN_MAIL_DELIVERY", "").strip()

    if production:
        if secret.strip().lower() in WEAK_SECRETS or len(secret) < 32:
            raise ConfigError(
                "CVN_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        if not database_url:
            raise ConfigError("CVN_DATABASE_URL must be set in production.")
        if not ratelimit_url:
            raise ConfigError(
                "CVN_RATELIMIT_STORAGE_URL must be set in production (redis://host:6379/0), so that every "
                "web process counts in one place; set it to memory:// to count per process on purpose."
            )
        if not mail_server and mail_delivery != "outbox":
            raise ConfigError(
                "CVN_MAIL_SERVER must be set in production; set CVN_MAIL_DELIVERY=outbox to keep "
                "every e-mail in the outbox on purpose."
            )
    instance = instance_path(env)
    if not secret:
        secret = _dev_secret_key(instance)
    if not database_url:
        instance.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance / 'cvn.sqlite3'}"

    return {
        "CVN_ENV": mode,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
        # No pool_pre_ping: cvn.dbpool pings only connections that sat idle (one round trip less a request).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        #: Absolute base of the links put in e-mails and QR codes; its host is also the passkeys'
        #: relying-party id (WebAuthn refuses an IP address, hence localhost by default).
        "CVN_BASE_URL": env.get("CVN_BASE_URL", "http://localhost:5000").rstrip("/"),
        "CVN_TIMEZONE": env.get("CVN_TIMEZONE", "Europe/Paris"),
        #: Who runs the service (data controller) and where to write about personal data; shown on
        #: the privacy and legal notice pages.
        "CVN_OPERATOR": env.get("CVN_OPERATOR", ""),
        "CVN_CONTACT_EMAIL": env.get("CVN_CONTACT_EMAIL", ""),
        #: Days a vaccination certificate stays verifiable through its QR code.
        "CVN_CERTIFICATE_DAYS": int(env.get("CVN_CERTIFICATE_DAYS", "90")),
        # Mail: without a server, messages stay in the outbox (readable in development).
        "CVN_MAIL_DELIVERY": mail_delivery or ("smtp" if mail_server else "outbox"),
        "MAIL_SERVER": mail_server or "localhost",
        "MAIL_PORT": int(env.get("CVN_MAIL_PORT", "25")),
        "MAIL_USERNAME": env.get("CVN_MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("CVN_MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env, "CVN_MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool(env, "CVN_MAIL_USE_SSL", False),
        "MAIL_DEFAULT_SENDER": env.get(
            "CVN_MAIL_SENDER", "Carnet de vaccination <ne-pas-repondre@cvn.localhost>"
        ),
        "MAIL_TIMEOUT": 10,
        # Rate limits: memory by default, Redis (redis://…) when several workers run.
        "RATELIMIT_STORAGE_URI": ratelimit_url or "memory://",
        # Redis down: count in memory (one warning in the log), never answer 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "RATELIMIT_KEY_PREFIX": env.get("CVN_RATELIMIT_PREFIX", "cvn"),
        #: Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
        "CVN_PROXY_HOPS": int(env.get("CVN_PROXY_HOPS", "0")),
        #: Key of the outbox encryption (one-time links at rest); derived from SECRET_KEY when empty.
        "CVN_OUTBOX_KEY": env.get("CVN_OUTBOX_KEY", ""),
        #: PostgreSQL planner's cost of a random page read, set on each connection (1.1: data in RAM or on SSD).
        "CVN_PG_RANDOM_PAGE_COST": env.get("CVN_PG_RANDOM_PAGE_COST", "1.1"),
        #: Seconds a client is told to wait (Retry-After) when the database is unreachable.
        "CVN_RETRY_AFTER": 30,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": _bool(env, "CVN_RATELIMIT_ENABLED", True),
        # Scheduler inside the web process (development only; production runs `flask cvn worker`).
        "CVN_SCHEDULER": _bool(env, "CVN_SCHEDULER", False),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": env.get("CVN_TIMEZONE", "Europe/Paris"),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_I18N_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Pages, manifest and JSON compressed per response (static files are compressed at start-up).
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_BR_LEVEL": 5,
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/javascript",
                               "image/svg+xml", "application/json", "application/manifest+json"],
    }


def finish(config) -> None:
    """Fill the settings that depend on the final mode and database (after test overrides)."""
    options = config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    # Outside development, SQL errors never carry their parameters (names, birth dates, hashes) into logs.
    options.setdefault("hide_parameters", config.get("CVN_ENV") != "development")
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        # An unreachable database fails fast (503 page) instead of holding the worker.
        connect = options.setdefault("connect_args", {})
        connect.setdefault("connect_timeout", 5)
        # The planner's default (4) prices a random read as a spinning disk's; CVN's working set
        # sits in memory or on SSD, where 1.1 is the usual value. With 4, the patientèle scans the
        # whole carnet table instead of following the professional's accesses (see test_query_plans).
        connect.setdefault("options", f"-c random_page_cost={float(config.get('CVN_PG_RANDOM_PAGE_COST', '1.1')):g}")
