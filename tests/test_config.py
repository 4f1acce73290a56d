"""Settings: production refuses unsafe defaults; development keeps a local secret."""
import pytest

from cvn import create_app
from cvn.config import ConfigError, from_env, normalize_database_url

STRONG = "k" * 48


def production_env(tmp_path, **changes) -> dict[str, str]:
    """Return a complete, valid production environment, with ``changes`` (None removes a variable)."""
    env = {"CVN_ENV": "production", "CVN_SECRET_KEY": STRONG, "CVN_DATABASE_URL": "postgres://db/cvn",
           "CVN_INSTANCE_PATH": str(tmp_path), "CVN_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
           "CVN_MAIL_SERVER": "smtp.exemple.fr"}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def test_valid_production_environment_is_accepted(tmp_path):
    """The refusals below each change one variable of this environment, which starts."""
    config = from_env(production_env(tmp_path))
    assert config["SECRET_KEY"] == STRONG and config["CVN_ENV"] == "production"


def test_production_refuses_missing_secret(tmp_path):
    with pytest.raises(ConfigError, match="CVN_SECRET_KEY"):
        from_env(production_env(tmp_path, CVN_SECRET_KEY=None))


@pytest.mark.parametrize("secret", ["dev", "changeme", "short-but-not-weak", "secret" + " " * 40,
                                    "k" * 31])
def test_production_refuses_weak_secret(tmp_path, secret):
    with pytest.raises(ConfigError, match="CVN_SECRET_KEY"):
        from_env(production_env(tmp_path, CVN_SECRET_KEY=secret))


def test_production_refuses_missing_database(tmp_path):
    with pytest.raises(ConfigError, match="CVN_DATABASE_URL"):
        from_env(production_env(tmp_path, CVN_DATABASE_URL=None))


@pytest.mark.parametrize("missing", ["CVN_SECRET_KEY", "CVN_DATABASE_URL", "CVN_RATELIMIT_STORAGE_URL",
                                     "CVN_MAIL_SERVER"])
def test_production_app_does_not_start_without_each_setting(monkeypatch, tmp_path, missing):
    """create_app() itself refuses, with every other production setting valid."""
    for name, value in production_env(tmp_path, **{missing: None}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing, raising=False)
    with pytest.raises(ConfigError, match=missing):
        create_app()
    assert not (tmp_path / "secret_key").exists(), "production never makes a development secret"


def test_production_hardens_cookies(tmp_path):
    config = from_env(production_env(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/cvn"


def test_development_makes_a_secret_once_and_keeps_it(tmp_path):
    env = {"CVN_INSTANCE_PATH": str(tmp_path)}
    first = from_env(env)["SECRET_KEY"]
    second = from_env(env)["SECRET_KEY"]
    assert len(first) >= 64 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert from_env(env)["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'cvn.sqlite3'}"
    assert from_env(env)["SESSION_COOKIE_SECURE"] is False


def test_defaults_and_overrides(tmp_path):
    config = from_env({"CVN_INSTANCE_PATH": str(tmp_path), "CVN_BASE_URL": "https://cvn.fr/",
                       "CVN_MAIL_SERVER": "smtp.cvn.fr", "CVN_MAIL_PORT": "587"})
    assert config["CVN_BASE_URL"] == "https://cvn.fr"
    assert config["CVN_TIMEZONE"] == "Europe/Paris"
    assert config["CVN_MAIL_DELIVERY"] == "smtp"
    assert config["MAIL_PORT"] == 587
    assert from_env({"CVN_INSTANCE_PATH": str(tmp_path)})["CVN_MAIL_DELIVERY"] == "outbox"


@pytest.mark.parametrize("given, expected", [
    ("postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
    ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_url_uses_psycopg3(given, expected):
    assert normalize_database_url(given) == expected


def test_production_refuses_rate_limits_counted_per_process(tmp_path):
    with pytest.raises(ConfigError, match="CVN_RATELIMIT_STORAGE_URL"):
        from_env(production_env(tmp_path, CVN_RATELIMIT_STORAGE_URL=None))
    config = from_env(production_env(tmp_path, CVN_RATELIMIT_STORAGE_URL="memory://"))  # explicit: accepted
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    shared = from_env(production_env(tmp_path))
    assert shared["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert shared["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True


def test_production_refuses_to_start_without_a_mail_server(tmp_path):
    with pytest.raises(ConfigError, match="CVN_MAIL_SERVER"):
        from_env(production_env(tmp_path, CVN_MAIL_SERVER=None))
    with pytest.raises(ConfigError, match="CVN_MAIL_SERVER"):
        from_env(production_env(tmp_path, CVN_MAIL_SERVER=None, CVN_MAIL_DELIVERY="smtp"))
    kept = from_env(production_env(tmp_path, CVN_MAIL_SERVER=None, CVN_MAIL_DELIVERY="outbox"))
    assert kept["CVN_MAIL_DELIVERY"] == "outbox"
    assert from_env(production_env(tmp_path))["CVN_MAIL_DELIVERY"] == "smtp"


def test_sql_parameters_are_hidden_outside_development(make_app):
    from sqlalchemy import text

    from cvn.extensions import db

    for mode, hidden in (("production", True), ("testing", True), ("development", False)):
        app = make_app(CVN_ENV=mode)
        with app.app_context():
            assert db.engine.hide_parameters is hidden
            with pytest.raises(Exception) as caught:
                db.session.execute(text("SELECT * FROM no_such_table WHERE name = :p"), {"p": "Éloïse 2024-02-10"})
            db.session.rollback()
            assert ("Éloïse 2024-02-10" in str(caught.value)) is not hidden


def test_proxy_hops_decide_whose_address_counts(make_app):
    seen = {}
    for hops in (0, 1):
        app = make_app(CVN_PROXY_HOPS=hops)

        @app.get("/_adresse")
        def address():
            from flask import request

            return request.remote_addr

        client = app.test_client()
        seen[hops] = client.get("/_adresse", headers={"X-Forwarded-For": "203.0.113.7, 198.51.100.9"},
                                environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True)
    # No proxy trusted by default: a client cannot choose its address (and its rate-limit bucket).
    assert seen[0] == "10.0.0.2"
    # One proxy: the address it appended is the client's.
    assert seen[1] == "198.51.100.9"
    assert from_env({"CVN_INSTANCE_PATH": "/tmp"})["CVN_PROXY_HOPS"] == 0
