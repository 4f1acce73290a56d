"""Settings: production refuses unsafe defaults; development keeps a local secret."""
import pytest

from cvn import create_app
from cvn.config import ConfigError, from_env, normalize_database_url

STRONG = "k" * 48


def production_env(tmp_path, **changes) -> dict[str, str]:
    """Return a complete, valid production environment, with ``changes`` (None removes a variable)."""
    env = {"CVN_ENV": "production", "CVN_SECRET_KEY": STRONG, "CVN_DATABASE_URL": "postgresql://x/y",
           "CVN_INSTANCE_PATH": str(tmp_path), "CVN_MAIL_DELIVERY": "outbox",
           "CVN_RATELIMIT_STORAGE_URL": "memory://"}
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


@pytest.mark.parametrize("missing", ["CVN_SECRET_KEY", "CVN_DATABASE_URL"])
def test_production_app_does_not_start_without_each_setting(monkeypatch, tmp_path, missing):
    """create_app() itself refuses, with every other production setting valid."""
    for name, value in production_env(tmp_path, **{missing: None}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing, raising=False)
    with pytest.raises(ConfigError, match=missing):
        create_app()
    assert not (tmp_path / "secret_key").exists(), "production never makes a development secret"


def test_production_hardens_cookies(tmp_path):
    config = from_env({"CVN_ENV": "production", "CVN_SECRET_KEY": STRONG,
                       "CVN_DATABASE_URL": "postgres://db/cvn", "CVN_INSTANCE_PATH": str(tmp_path)})
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
