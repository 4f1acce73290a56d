"""Settings: production refuses unsafe defaults; development keeps a local secret."""
import pytest

from cvn import create_app
from cvn.config import ConfigError, finish, from_env, normalize_database_url

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


# --- Each security setting, as shipped (written against mutmut's survivors) ---------------

def test_a_secret_of_32_characters_is_enough_and_weak_words_are_refused_whatever_their_case(tmp_path):
    assert from_env(production_env(tmp_path, CVN_SECRET_KEY="k" * 32))["SECRET_KEY"] == "k" * 32
    for weak in ("DEV", " Secret ", "ChangeMe"):
        with pytest.raises(ConfigError):
            from_env(production_env(tmp_path, CVN_SECRET_KEY=weak.ljust(40)))


def test_each_refusal_tells_the_operator_what_to_set(tmp_path):
    """The messages are the operator's only guide: each names the variable and the way out."""
    expected = {
        "CVN_SECRET_KEY": "CVN_SECRET_KEY must be set to a random value of at least 32 characters in production "
                          "(python -c 'import secrets; print(secrets.token_hex(32))').",
        "CVN_DATABASE_URL": "CVN_DATABASE_URL must be set in production.",
        "CVN_RATELIMIT_STORAGE_URL": "CVN_RATELIMIT_STORAGE_URL must be set in production (redis://host:6379/0), so "
                                     "that every web process counts in one place; set it to memory:// to count per "
                                     "process on purpose.",
        "CVN_MAIL_SERVER": "CVN_MAIL_SERVER must be set in production; set CVN_MAIL_DELIVERY=outbox to keep every "
                           "e-mail in the outbox on purpose.",
    }
    for missing, message in expected.items():
        with pytest.raises(ConfigError) as refused:
            from_env(production_env(tmp_path, **{missing: None}))
        assert str(refused.value) == message


def test_blank_settings_count_as_missing_in_production(tmp_path):
    with pytest.raises(ConfigError, match="CVN_RATELIMIT_STORAGE_URL"):
        from_env(production_env(tmp_path, CVN_RATELIMIT_STORAGE_URL="   "))
    with pytest.raises(ConfigError, match="CVN_MAIL_SERVER"):
        from_env(production_env(tmp_path, CVN_MAIL_SERVER=None, CVN_MAIL_DELIVERY=" smtp "))
    assert from_env(production_env(tmp_path, CVN_MAIL_SERVER=None, CVN_MAIL_DELIVERY=" outbox "))


def test_production_settings_as_shipped(tmp_path):
    config = from_env(production_env(tmp_path, CVN_OUTBOX_KEY="clé-de-la-boîte", CVN_PROXY_HOPS="2"))
    assert config["CVN_ENV"] == "production"
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_HTTPONLY"] is True and config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["PREFERRED_URL_SCHEME"] == "https"
    assert config["WTF_CSRF_TIME_LIMIT"] is None and "WTF_CSRF_ENABLED" not in config  # Flask-WTF's default: on
    assert config["PERMANENT_SESSION_LIFETIME"] == 12 * 3600
    assert config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert config["RATELIMIT_ENABLED"] is True
    assert config["CVN_OUTBOX_KEY"] == "clé-de-la-boîte" and config["CVN_PROXY_HOPS"] == 2
    assert not (tmp_path / "secret_key").exists()


def test_development_settings_are_relaxed_only_where_it_is_safe(tmp_path, monkeypatch):
    config = from_env({"CVN_INSTANCE_PATH": str(tmp_path)})
    assert config["CVN_ENV"] == "development"
    assert config["SESSION_COOKIE_SECURE"] is False and config["REMEMBER_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_HTTPONLY"] is True and config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert config["PREFERRED_URL_SCHEME"] == "http" and config["CVN_OUTBOX_KEY"] == ""
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert from_env({"CVN_INSTANCE_PATH": str(tmp_path), "CVN_ENV": "staging"})["SESSION_COOKIE_SECURE"] is False
    env = {"CVN_INSTANCE_PATH": str(tmp_path)}
    assert from_env({**env, "CVN_RATELIMIT_ENABLED": " Non "})["RATELIMIT_ENABLED"] is False
    for yes in ("1", "true", "YES", "on", " oui "):
        assert from_env({**env, "CVN_RATELIMIT_ENABLED": yes})["RATELIMIT_ENABLED"] is True
    monkeypatch.setenv("CVN_RATELIMIT_ENABLED", "0")
    assert from_env(env)["RATELIMIT_ENABLED"] is True, "the environment given, not the process's, decides"


def test_the_development_secret_is_read_from_the_instance_folder(tmp_path, monkeypatch):
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "secret_key").write_text("  kept-secret\n")
    assert from_env({"CVN_INSTANCE_PATH": str(tmp_path / "deep")})["SECRET_KEY"] == "kept-secret"
    fresh = tmp_path / "a" / "b"
    assert len(from_env({"CVN_INSTANCE_PATH": str(fresh)})["SECRET_KEY"]) == 64, "parents are made"
    monkeypatch.setenv("CVN_INSTANCE_PATH", str(tmp_path / "deep"))
    assert from_env()["SECRET_KEY"] == "kept-secret", "the process environment by default"


def test_finish_hides_sql_parameters_unless_development_is_said():
    production = {"CVN_ENV": "production", "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/cvn"}
    finish(production)
    assert production["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "hide_parameters": True, "connect_args": {"connect_timeout": 5, "options": "-c random_page_cost=1.1"}}
    development = {"CVN_ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"}
    finish(development)
    assert development["SQLALCHEMY_ENGINE_OPTIONS"] == {"hide_parameters": False}
    unsaid = {}
    finish(unsaid)
    assert unsaid["SQLALCHEMY_ENGINE_OPTIONS"] == {"hide_parameters": True}
    chosen = {"CVN_ENV": "development", "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True}}
    finish(chosen)
    assert chosen["SQLALCHEMY_ENGINE_OPTIONS"] == {"hide_parameters": True}, "an explicit choice stays"


def test_development_with_a_secret_given_still_makes_the_database_folder(tmp_path):
    folder = tmp_path / "a" / "b"
    config = from_env({"CVN_INSTANCE_PATH": str(folder), "CVN_SECRET_KEY": "given"})
    assert config["SECRET_KEY"] == "given" and not (folder / "secret_key").exists()
    assert folder.is_dir() and config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{folder / 'cvn.sqlite3'}"
