"""CSRF as shipped: the app built from the environment alone refuses every POST without a token.

The app here is made by ``create_app()`` with no configuration mapping, from
``CVN_*`` variables only, as ``make run`` (development) and gunicorn
(production) make it. Every POST route of the URL map is posted to, by each
kind of account, with a payload that would change something, but without a
token: each answer must be the 400 page, and no table may change.
"""
from __future__ import annotations

import hashlib
from datetime import date

import pyotp
import pytest
from sqlalchemy import select

from cvn import create_app
from cvn.alerts.services import unsubscribe_token
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import Base, DoseState, InvitationChannel, InvitationTarget, OutboxMessage, OutboxStatus
from cvn.sharing import services as sharing
from tests.conftest import PASSWORD, TOTP_SECRET, BrowserLikeClient, base_config

BIRTH = date(2024, 2, 10)
#: The test app's key: the factories seal the authenticator secrets with it.
STRONG_SECRET = base_config("sqlite://")["SECRET_KEY"]

#: Views exempted from Flask-WTF's automatic check, and why. They check the token
#: themselves for every POST except the one they exist for, so a POST without a
#: token still gets the 400 below.
EXEMPT = {
    # RFC 8058 one-click unsubscribe: a mail client's POST carries ``List-Unsubscribe=One-Click``
    # and the signed token, not a CSRF token; the page's own button is checked like any form.
    "alerts.unsubscribe",
}

#: Tables a refused request may still touch: the server-side session (its last activity).
VOLATILE: set[str] = {"web_session"}


def env_for(mode: str, database_url: str, tmp_path) -> dict[str, str]:
    """Return the environment a deployment of ``mode`` would run with."""
    env = {"CVN_INSTANCE_PATH": str(tmp_path), "CVN_DATABASE_URL": database_url,
           "CVN_MAIL_DELIVERY": "outbox", "CVN_RATELIMIT_STORAGE_URL": "memory://",
           "CVN_SECRET_KEY": STRONG_SECRET}
    if mode == "production":
        env.update({"CVN_ENV": "production", "CVN_BASE_URL": "https://localhost"})
    return env


@pytest.fixture(params=["development", "production"])
def shipped_app(request, monkeypatch, tmp_path, database_url, app):
    """Return the app exactly as ``create_app()`` builds it from the environment."""
    for name in list(__import__("os").environ):
        if name.startswith("CVN_") and name != "CVN_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    for name, value in env_for(request.param, database_url, tmp_path).items():
        monkeypatch.setenv(name, value)
    shipped = create_app()
    shipped.test_client_class = BrowserLikeClient
    assert not shipped.testing
    yield shipped
    with shipped.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def world(create_professional, create_patient, create_carnet, create_admin):
    """Accounts of every kind around one carnet, and the objects POST routes act on."""
    pro = create_professional()
    carnet = create_carnet(pro, birth_date=BIRTH)
    carnets.record_dose(pro, carnet, carnets.DoseInput("Hexyon", [], date(2024, 4, 10)))
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    declared = carnets.record_dose(owner, carnet, carnets.DoseInput("Priorix", [], date(2025, 2, 12)))
    assert declared.state == DoseState.DECLARED
    invitation, _ = sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL,
                                              InvitationChannel.LINK)
    access = carnet_access(carnet, pro)
    waiting = create_professional(verified=False)
    failed = OutboxMessage(recipient="perdu@exemple.fr", subject="Essai", stored_text="Bonjour",
                           status=OutboxStatus.FAILED, attempts=40)
    db.session.add(failed)
    db.session.commit()
    return {
        "pro": pro, "owner": owner, "admin": create_admin(), "carnet": carnet,
        "values": {"public_id": carnet.public_id, "dose_id": declared.id, "invitation_id": invitation.id,
                   "access_id": access.id, "user_id": waiting.id, "message_id": failed.id,
                   "token": unsubscribe_token(carnet.id, owner.id)},
    }


def carnet_access(carnet, pro):
    from cvn.models import Access

    return db.session.scalar(select(Access).where(Access.carnet_id == carnet.id,
                                                  Access.professional_id == pro.id))


#: A payload per endpoint that the route would act on if the token were not checked.
PAYLOADS = {
    "carnets.add_dose": {"product": "Priorix", "administered_on": "2025-03-01"},
    "carnets.edit_dose": {"product": "Priorix", "administered_on": "2025-02-13"},
    "carnets.delete_dose": {"reason": "Erreur de saisie"},
    "carnets.create": {"last_name": "Martin", "first_names": "Léo", "birth_date": "2025-01-01", "sex": "M"},
    "validation.reject": {"reason": "Pas de preuve"},
    "status.set_flags": {"flags": ["asplenia"]},
    "alerts.toggle": {"on": "1"},
    "archives.end_access": {"confirm": "1"},
    "sharing.invite_by_email": {"email": "autre@exemple.fr", "target": "professional"},
    "sharing.invite_by_code": {"target": "professional"},
    "sharing.claim": {"birth_date": BIRTH.isoformat(), "attest": "y"},
    "auth.login": {"email": "x@exemple.fr", "password": PASSWORD},
    "auth.signup_patient": {"email": "new@exemple.fr", "first_name": "Zoé", "last_name": "Nouvelle",
                            "password": "une phrase de passe solide", "confirm": "une phrase de passe solide"},
    "auth.forgot_password": {"email": "x@exemple.fr"},
    "auth.account": {"first_name": "Autre", "last_name": "Nom"},
}


def table_digest() -> str:
    """Return one SHA-256 over every row of every table (what 'nothing written' means)."""
    h = hashlib.sha256()
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in VOLATILE:
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            h.update(f"{table.name}:{rows!r}".encode())
    return h.hexdigest()


def post_routes(app):
    """Return every (endpoint, rule) of the URL map that accepts POST."""
    return sorted((rule.endpoint, rule) for rule in app.url_map.iter_rules() if "POST" in rule.methods)


def log_in(client, user, https: bool):
    """Log in for real, with the page's token, through the code step for professionals."""
    headers = {"Referer": "https://localhost/connexion"} if https else {}
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD}, headers=headers)
    assert response.status_code == 303, "the real log-in, with its token, works"
    if response.headers["Location"].endswith("/connexion/code"):
        code = pyotp.TOTP(TOTP_SECRET).now()  # the shipped app runs on the real clock
        response = client.post("/connexion/code", data={"code": code}, headers=headers)
        assert response.status_code == 303 and not response.headers["Location"].endswith("/code")


@pytest.mark.parametrize("who", ["anonymous", "pro", "owner", "admin"])
def test_every_post_route_refuses_a_missing_token(shipped_app, world, who):
    https = shipped_app.config["CVN_ENV"] == "production"
    client = shipped_app.test_client()
    client.base_url = "https://localhost" if https else None
    if who != "anonymous":
        log_in(client, world[who], https)
    routes = post_routes(shipped_app)
    assert {endpoint for endpoint, _ in routes} >= {
        "carnets.add_dose", "validation.validate", "archives.end_access", "sharing.claim", "admin.verify"}
    with shipped_app.app_context():
        before = table_digest()
    refused = []
    for endpoint, rule in routes:
        # Rows of the account pages (sessions, devices, passkeys) need only an id here:
        # the token check comes before any lookup.
        values = {arg: world["values"].get(arg, 1) for arg in rule.arguments}
        with shipped_app.test_request_context():
            from flask import url_for

            url = url_for(endpoint, **values)
        response = client.post(url, data=PAYLOADS.get(endpoint, {}), csrf=False)
        body = response.get_data(as_text=True)
        assert response.status_code == 400, f"{endpoint} answered {response.status_code} without a token"
        assert "Rechargez la page" in body, endpoint
        refused.append(endpoint)
    with shipped_app.app_context():
        assert table_digest() == before, "a request without a CSRF token changed the database"
    assert len(refused) == len(routes)


def test_exemptions_are_exactly_the_listed_ones(shipped_app):
    """Only the routes in EXEMPT skip the token; a new exemption must be added there, with its reason."""
    from cvn.extensions import csrf

    exempt = {endpoint for endpoint, view in shipped_app.view_functions.items()
              if f"{view.__module__}.{view.__name__}" in csrf._exempt_views}
    blueprints = [name for name, blueprint in shipped_app.blueprints.items()
                  if blueprint in csrf._exempt_blueprints]
    assert not blueprints, f"whole blueprints exempted from CSRF: {blueprints}"
    assert exempt == EXEMPT


def test_shipped_settings_keep_csrf_on(shipped_app):
    assert shipped_app.config.get("WTF_CSRF_ENABLED", True) is True
    assert shipped_app.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True
    assert shipped_app.config["SECRET_KEY"] == STRONG_SECRET
