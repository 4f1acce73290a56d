"""Visitors write no session row: their CSRF secret travels in a signed cookie of its own."""
from __future__ import annotations

from sqlalchemy import func, select

from cvn.extensions import db
from cvn.models import WebSession
from cvn.sessions import cookie_name, csrf_cookie_name
from tests.conftest import CSRF_TOKEN, PASSWORD


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(WebSession))


def test_anonymous_pages_write_no_session_row(client):
    for path in ("/hors-ligne", "/", "/connexion", "/hors-ligne", "/inscription"):
        assert client.get(path).status_code in (200, 302)
    assert rows() == 0
    assert client.get_cookie(cookie_name(client.application)) is None
    assert client.get_cookie(csrf_cookie_name(client.application)) is not None


def test_the_cookie_token_logs_in_and_then_a_row_holds_the_session(client, create_patient):
    user = create_patient()
    token = CSRF_TOKEN.search(client.get("/connexion").get_data(as_text=True)).group(1)
    again = CSRF_TOKEN.search(client.get("/hors-ligne").get_data(as_text=True)).group(1)
    assert rows() == 0
    response = client.post("/connexion", data={"csrf_token": token, "email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    assert again  # every page still carries a token
    assert rows() == 1
    assert client.get_cookie(cookie_name(client.application)) is not None
    assert client.get_cookie(csrf_cookie_name(client.application)) is None  # the row holds it now
    assert client.get("/mes-carnets/").status_code == 200


def test_a_forged_or_foreign_csrf_cookie_is_refused(app, client, make_app, create_patient):
    user = create_patient()
    token = CSRF_TOKEN.search(client.get("/connexion").get_data(as_text=True)).group(1)
    name = csrf_cookie_name(app)
    # Another visitor's cookie with this token: refused (the token is bound to its own cookie).
    other = app.test_client()
    other.get("/connexion")
    other_cookie = other.get_cookie(name).value
    stranger = app.test_client()
    stranger.set_cookie(name, other_cookie)
    refused = stranger.post("/connexion", data={"csrf_token": token, "email": user.email, "password": PASSWORD},
                            csrf=False)
    assert refused.status_code == 400
    # A cookie signed with another key is ignored, so the token is refused too.
    foreign = make_app(SECRET_KEY="another-secret-key-0123456789-abcdefghij").test_client()
    foreign.get("/connexion")
    forged = app.test_client()
    forged.set_cookie(name, foreign.get_cookie(name).value)
    assert forged.post("/connexion", data={"csrf_token": token, "email": user.email, "password": PASSWORD},
                       csrf=False).status_code == 400
    assert rows() == 0
