"""Shared fixtures: app, client, runner, auth helper, factories, clock, live server.

The database is built once per run by applying the Alembic migrations (never
``create_all``), on SQLite by default or on the server named by
``CVN_TEST_DATABASE_URL`` (PostgreSQL in CI). Every test starts from empty tables.
"""
from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import threading
from datetime import datetime, timedelta, timezone

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, select, text

from flask.testing import FlaskClient

from cvn import create_app
from cvn.config import normalize_database_url
from cvn.extensions import db, limiter
from cvn.models import Base, Profession, Role, User

PASSWORD = "correct horse battery"
#: The authenticator-app secret the professional factory enrols (tests compute its codes with pyotp).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TEST_DATABASE_URL = os.environ.get("CVN_TEST_DATABASE_URL", "").strip()
#: A migrated SQLite file copied instead of migrating again (`make mutate` starts pytest once per mutant).
SQLITE_TEMPLATE = os.environ.get("CVN_TEST_SQLITE_TEMPLATE", "").strip()
#: A Monday morning in Paris; tests move it with the ``clock`` fixture.
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


class Clock:
    """A settable clock injected as ``CVN_CLOCK``."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        """Move time forward by a ``timedelta(**delta)``."""
        self.now += timedelta(**delta)
        return self.now


def _drop_everything(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            for table in reversed(inspect(conn).get_table_names()):
                conn.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
    engine.dispose()


def base_config(url: str, **overrides) -> dict:
    """Return the configuration of a test app."""
    config = {
        "TESTING": True,
        "CVN_ENV": "testing",
        "SECRET_KEY": "test-secret-key-not-for-production-0123456789",
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "CVN_SCHEDULER": False,
        "CVN_MAIL_DELIVERY": "outbox",
        "CVN_BASE_URL": "http://cvn.test",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


CSRF_TOKEN = re.compile(r'id="csrf-token" data-token="([^"]+)"')


class BrowserLikeClient(FlaskClient):
    """A test client that sends a CSRF token with every POST, as the app's pages make a browser do.

    CSRF protection stays on in every test, as shipped: before a POST that
    carries no token, the client reads one from a page the way the browser
    does (``<span id="csrf-token">`` in every page's body) and sends it in the
    ``X-CSRFToken`` header. ``csrf=False`` sends the POST without a token.
    """

    #: Base URL of every request (``https://localhost`` to test secure cookies).
    base_url: str | None = None

    def open(self, *args, csrf: bool = True, **kwargs):
        if self.base_url and "base_url" not in kwargs and not (args and not isinstance(args[0], str)):
            kwargs["base_url"] = self.base_url
        method = str(kwargs.get("method", "GET")).upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if csrf and method not in ("GET", "HEAD", "OPTIONS") and args and isinstance(args[0], str):
            data = kwargs.get("data")
            has_token = isinstance(data, dict) and "csrf_token" in data
            if not has_token and not any(k.lower() == "x-csrftoken" for k in headers):
                headers["X-CSRFToken"] = self.csrf_token()
        if headers:
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """Return the CSRF token the current session's pages carry."""
        page = self.open("/hors-ligne", method="GET").get_data(as_text=True)
        match = CSRF_TOKEN.search(page)
        assert match, "every page carries the CSRF token"
        return match.group(1)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """Build the test database from the migrations, once per run."""
    path = None
    if TEST_DATABASE_URL:
        url = normalize_database_url(TEST_DATABASE_URL)
    else:
        path = tmp_path_factory.mktemp('db') / 'cvn-test.sqlite3'
        url = f"sqlite:///{path}"
        if SQLITE_TEMPLATE and os.path.exists(SQLITE_TEMPLATE):
            shutil.copyfile(SQLITE_TEMPLATE, path)
            return url
    _drop_everything(url)
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    if path is not None and SQLITE_TEMPLATE:
        shutil.copyfile(path, SQLITE_TEMPLATE)
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def make_app(database_url, clock):
    """Return a factory of apps on the test database, with config overrides."""
    apps = []
    root_handlers = list(logging.getLogger().handlers)

    def make(**overrides):
        app = create_app(base_config(database_url, CVN_CLOCK=clock, **overrides))
        app.test_client_class = BrowserLikeClient
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())
            db.engine.dispose()
    if getattr(limiter, "_storage", None) is not None:
        limiter.reset()
    for handler in logging.getLogger().handlers:
        if handler not in root_handlers:  # a production app's JSON log handler
            logging.getLogger().removeHandler(handler)


@pytest.fixture
def app(make_app):
    """Return the app under test, with an app context for the test body.

    The context belongs to a twin app on the same database: Flask reuses a
    pushed context of the *same* app for requests, which would share ``g`` and
    the database session between the test and every request. With a twin, each
    request gets its own, as in production.
    """
    served = make_app()
    with make_app().app_context():
        yield served


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_counter = itertools.count(1)
_hashes: dict[str, str] = {}


def _set_password(user: User, password: str) -> None:
    """Set a password, hashing each distinct one once per run (scrypt is slow on purpose)."""
    if password not in _hashes:
        user.set_password(password)
        _hashes[password] = user.password_hash
    user.password_hash = _hashes[password]
    user.auth_version = 1


@pytest.fixture
def create_patient(app):
    """Return a factory of patient accounts (committed)."""

    def make(email: str | None = None, password: str = PASSWORD, email_confirmed: bool = True, **fields) -> User:
        n = next(_counter)
        user = User(email=(email or f"patient{n}@exemple.fr").lower(), first_name=fields.pop("first_name", "Jeanne"),
                    last_name=fields.pop("last_name", f"Patiente{n}"), role=Role.PATIENT,
                    is_admin=fields.pop("is_admin", False), auth_version=0, code_failures=0,
                    email_confirmed_at=START if email_confirmed else None, **fields)
        _set_password(user, password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def create_professional(app, clock):
    """Return a factory of professional accounts (verified unless told otherwise)."""

    def make(email: str | None = None, password: str = PASSWORD, verified: bool = True,
             profession: Profession = Profession.MEDECIN, second_factor: bool = True, **fields) -> User:
        """A professional; ``second_factor`` enrols the authenticator app ``TOTP_SECRET``."""
        from cvn.auth.factors import enrol_totp

        n = next(_counter)
        user = User(email=(email or f"pro{n}@exemple.fr").lower(), first_name=fields.pop("first_name", "Paul"),
                    last_name=fields.pop("last_name", f"Soignant{n}"), role=Role.PROFESSIONAL,
                    profession=profession, rpps=fields.pop("rpps", f"{10000000000 + n}"),
                    is_admin=fields.pop("is_admin", False), auth_version=0, code_failures=0,
                    email_confirmed_at=START, verified_at=clock() if verified else None, **fields)
        _set_password(user, password)
        db.session.add(user)
        db.session.flush()
        if second_factor:
            enrol_totp(user, TOTP_SECRET, 0)
        db.session.commit()
        return user

    return make


@pytest.fixture
def create_admin(create_patient):
    """Return a factory of administrators; ``second_factor`` enrols the authenticator app ``TOTP_SECRET``."""
    from cvn.auth.factors import enrol_totp

    def make(second_factor: bool = True, **fields) -> User:
        admin = create_patient(is_admin=True, first_name="Ada", **fields)
        if second_factor:
            enrol_totp(admin, TOTP_SECRET, 0)
            db.session.commit()
        return admin

    return make


def totp_code(app, email: str) -> str:
    """Return the code the account's authenticator app shows now (``TOTP_SECRET``).

    Like a user waiting for the next code, it moves the injected clock on 30
    seconds when the current code was already used (a code serves once).
    """
    import pyotp

    from cvn.models import TotpCredential

    clock = app.config["CVN_CLOCK"]
    last = db.session.scalar(select(TotpCredential.last_step).join(User, User.id == TotpCredential.user_id)
                             .where(User.email == email.lower()))
    step = int(clock().timestamp()) // 30
    if last is not None and last >= step:
        clock.advance(seconds=30 * (last - step + 1))
    return pyotp.TOTP(TOTP_SECRET).at(clock())


def log_in(client, user_or_email, password: str = PASSWORD, **kwargs):
    """Post the log-in form; when the code step follows, type the app's code like a user."""
    email = getattr(user_or_email, "email", user_or_email)
    response = client.post("/connexion", data={"email": email, "password": password, **kwargs.pop("data", {})},
                           **kwargs)
    if response.status_code == 303 and response.headers["Location"].endswith("/connexion/code"):
        response = client.post("/connexion/code", data={"code": totp_code(client.application, email)})
    return response


class AuthActions:
    """Log a test client in and out (flaskr's helper), through the code step when there is one."""

    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password: str = PASSWORD, **kwargs):
        return log_in(self._client, user_or_email, password, **kwargs)

    def password_only(self, user_or_email, password: str = PASSWORD, **kwargs):
        """Post the log-in form and stop there (the code step, if any, is left to the test)."""
        email = getattr(user_or_email, "email", user_or_email)
        return self._client.post("/connexion", data={"email": email, "password": password}, **kwargs)

    def logout(self):
        return self._client.post("/deconnexion")


@pytest.fixture
def auth(client):
    return AuthActions(client)


def outbox_links(message) -> list[str]:
    """Return the http(s) links found in a message's text body."""
    return re.findall(r"https?://\S+", message.body_text)


class LiveServer:
    """A CSRF-protected app served on a free loopback port, in a thread."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        app.config["CVN_BASE_URL"] = self.url
        self.flask_app = app
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server_factory(make_app):
    """Return a factory of live servers with config overrides (stopped after the test)."""
    servers = []

    def start(**config):
        server = LiveServer(make_app(**config))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(live_server_factory):
    return live_server_factory()


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free loopback port, recording what it receives."""
    from tests.smtp import SMTPServer

    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def create_carnet(app, create_professional):
    """Return a factory of carnets opened by a professional (a new one by default)."""
    from datetime import date

    from cvn.carnets.services import create_carnet as open_carnet
    from cvn.models import Sex

    def make(pro: User | None = None, last_name: str = "Durand", first_names: str = "Éloïse",
             birth_date: date = date(2024, 2, 10), sex: Sex = Sex.FEMALE):
        return open_carnet(pro or create_professional(), last_name=last_name, first_names=first_names,
                           birth_date=birth_date, sex=sex)

    return make
