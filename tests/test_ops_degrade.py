"""Failures degrade: with the database unreachable, a styled 503 page (no database needed, Retry-After),
and /sante answers 503 in JSON instead of raising."""
import logging

import pytest

from cvn import create_app
from cvn.extensions import db
from cvn.sessions import cookie_name, csrf_cookie_name
from tests.conftest import CSRF_TOKEN, base_config
from tests.smtp import free_port


@pytest.fixture
def down_app(app):
    """An app like the test app (same secret key) whose database is unreachable (a closed port)."""
    dead = create_app(base_config(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/cvn",
                                  SECRET_KEY=app.config["SECRET_KEY"]))
    yield dead
    with dead.app_context():
        db.engine.dispose()


def assert_unavailable(response):
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Service momentanément indisponible" in body and "Internal Server Error" not in body
    assert int(response.headers["Retry-After"]) > 0
    assert "/static/css/cvn.css" in body  # styled like every page
    assert '<html lang="fr">' in body


def test_a_logged_in_user_gets_the_503_page(client, auth, create_patient, down_app):
    auth.login(create_patient())
    name = cookie_name(client.application)
    cookie = client.get_cookie(name)
    assert cookie is not None, "logging in sets the session cookie"
    dead = down_app.test_client()
    dead.set_cookie(name, cookie.value)  # the same browser, after the database went away
    for path in ("/mes-carnets/", "/compte", "/"):
        assert_unavailable(dead.get(path))


def test_visitors_posting_a_form_get_the_503_page(client, down_app):
    """A log-in form opened before the outage and posted during it gets 503 (the account cannot be read)."""
    form = client.get("/connexion")  # the visitor's token lives in the signed cvn_csrf cookie, no row
    name = csrf_cookie_name(client.application)
    token = CSRF_TOKEN.search(form.get_data(as_text=True)).group(1)
    dead = down_app.test_client()
    dead.set_cookie(name, client.get_cookie(name).value)
    assert_unavailable(dead.post("/connexion", data={"csrf_token": token, "email": "a@exemple.fr",
                                                     "password": "x" * 12}))
    # Without its cookie the token is refused: the "form expired" page needs no database (400).
    refused = down_app.test_client().post("/connexion", data={"csrf_token": token, "email": "a@exemple.fr"})
    assert refused.status_code == 400


def test_pages_that_need_a_new_session_get_the_503_page(down_app):
    """A page whose session cannot be written (its form's token, a hand-over token) is not served half-working."""
    visitor = down_app.test_client()
    response = visitor.get("/connexion")  # its CSRF token lives in a signed cookie: no row needed
    assert response.status_code == 200
    assert [c.split("=")[0] for c in response.headers.getlist("Set-Cookie")] == ["cvn_csrf"]
    opened = visitor.get("/i/" + "t" * 43)  # a hand-over link: the token cannot be kept for the claim
    assert_unavailable(opened)
    assert "Location" not in opened.headers  # not sent on to /invitation without its token
    assert visitor.get("/static/css/cvn.css").status_code == 200  # the page's style needs no database


def test_health_answers_503_in_json_when_the_database_is_down(down_app):
    response = down_app.test_client().get("/sante")
    assert response.status_code == 503
    assert response.get_json() == {"status": "down", "database": "unreachable", "redis": "not_used",
                                   "outbox": None, "mail_delivery": "outbox"}


def test_health_says_degraded_when_redis_is_down(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/5")
    response = app.test_client().get("/sante")
    assert response.status_code == 200  # still serving: limits count in memory meanwhile
    assert response.get_json()["status"] == "degraded" and response.get_json()["redis"] == "unreachable"


def test_health_needs_no_account_and_shows_no_personal_data(client, create_patient):
    create_patient(email="secret.person@exemple.fr")
    response = client.get("/sante")
    assert response.status_code == 200 and "exemple.fr" not in response.get_data(as_text=True)


def test_in_production_mode_the_outage_is_one_warning_line_not_a_traceback(app, caplog):
    """Not testing (errors are not re-raised): a session the database cannot load logs one warning, no traceback."""
    dead = create_app(base_config(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/cvn",
                                  SECRET_KEY=app.config["SECRET_KEY"], TESTING=False))
    try:
        client = dead.test_client()
        client.set_cookie(cookie_name(dead), "x" * 43)  # a session to load
        with caplog.at_level(logging.WARNING):
            for path in ("/compte", "/i/" + "t" * 43):
                caplog.clear()
                assert_unavailable(client.get(path))
                assert [r.getMessage() for r in caplog.records] == ["database unreachable: OperationalError"]
                assert not any(r.exc_info for r in caplog.records)
    finally:
        with dead.app_context():
            db.engine.dispose()
