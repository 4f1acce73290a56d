"""Accounts: sign-up, log-in, log-out, reset, account page, verification."""
import re

import pytest
from sqlalchemy import func, select

from cvn.extensions import db
from cvn.models import AuthToken, OutboxMessage, Role, User
from cvn.tokens import hash_token
from tests.conftest import PASSWORD, outbox_links


def signup(client, kind="patient", **overrides):
    data = {"first_name": "Éloïse", "last_name": "Durand", "email": "eloise@exemple.fr",
            "password": PASSWORD}
    if kind == "professionnel":
        data.update(profession="infirmier", rpps="12345678901")
    data.update(overrides)
    return client.post(f"/inscription/{kind}", data=data)


def errors(response) -> list[str]:
    return re.findall(r'class="error"[^>]*>([^<]*)<', response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_patient_signup_logs_in_and_lands_on_mes_carnets(client):
    response = signup(client, email="  Eloise@Exemple.FR ")
    assert response.status_code == 200 and "Vérifiez votre boîte mail" in response.get_data(as_text=True)
    user = db.session.scalar(select(User))
    assert user.email == "eloise@exemple.fr"
    assert user.role == Role.PATIENT and not user.is_admin
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    assert user.email_confirmed_at is None
    page = client.get("/", follow_redirects=True)
    assert "Mes carnets" in page.get_data(as_text=True)


def test_professional_signup_waits_for_verification(client):
    response = signup(client, "professionnel", rpps="123 456 789 01")
    assert response.status_code == 200
    user = db.session.scalar(select(User))
    assert user.role == Role.PROFESSIONAL and user.verified_at is None and user.rpps == "12345678901"
    page = client.get("/pro/", follow_redirects=True)
    assert "Compte en attente de vérification" in page.get_data(as_text=True)
    assert client.get("/pro/").status_code == 303


def test_admins_are_told_when_a_professional_signs_up(client, create_admin):
    admin = create_admin()
    signup(client, "professionnel")
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == admin.email))
    assert message is not None and "12345678901" in message.body_text


@pytest.mark.parametrize("kind, overrides, status, expected", [
    ("patient", {"email": "pas-une-adresse"}, 422, "n’est pas valide"),
    ("patient", {"password": "trop-court"}, 422, "au moins 12 caractères"),
    ("patient", {"password": "password1234"}, 422, "mot de passe très courant"),
    ("patient", {"password": "xxxxxxxxxxxxxxx"}, 422, "caractères répétés"),
    ("patient", {"password": "azertyuiop12"}, 422, "trop facile à deviner"),
    ("patient", {"password": "motdepasse2024"}, 422, "trop facile à deviner"),
    ("patient", {"password": "Durand aime les tomates"}, 422, "votre nom ou votre prénom"),
    ("patient", {"password": "les eloise du quartier"}, 422, "votre adresse e-mail"),
    ("patient", {"password": "mon carnet cvn du jour"}, 422, "« cvn »"),
    ("patient", {"first_name": ""}, 422, "obligatoire"),
    ("professionnel", {"rpps": "1234"}, 422, "exactement 11 chiffres"),
    ("professionnel", {"rpps": "1234567890a"}, 422, "exactement 11 chiffres"),
    ("professionnel", {"profession": ""}, 422, "Choisissez votre profession"),
])
def test_signup_bad_input_is_refused_in_french_and_nothing_written(client, kind, overrides, status, expected):
    response = signup(client, kind, **overrides)
    assert response.status_code == status
    assert any(expected in e for e in errors(response)), errors(response)
    assert count(User) == 0


def test_signup_with_a_taken_address_gives_the_same_page_and_tells_its_owner(app, create_patient):
    owner = create_patient(email="eloise@exemple.fr")
    fresh, taken = app.test_client(), app.test_client()
    new = signup(fresh, email="nouvelle@exemple.fr")
    existing = signup(taken, email="ELOISE@exemple.fr", password="un tout autre mot de passe")
    assert new.status_code == existing.status_code == 200
    def page(response, email):  # the CSRF token is random in every page
        return re.sub(r'data-token="[^"]*"', "", response.get_data(as_text=True)).replace(email, "X")

    assert page(new, "nouvelle@exemple.fr") == page(existing, "eloise@exemple.fr")
    assert count(User) == 2
    db.session.refresh(owner)
    assert owner.check_password(PASSWORD)  # nothing changed on the existing account
    notice = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "eloise@exemple.fr"))
    assert "créer un compte avec votre adresse" in notice.subject
    confirmation = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "nouvelle@exemple.fr"))
    assert confirmation.subject == "Confirmez votre adresse e-mail"
    assert taken.get("/compte").status_code == 302  # the prober is not logged in as the owner


def test_login_errors_do_not_reveal_whether_the_account_exists(client, auth, create_patient):
    user = create_patient()
    wrong_password = auth.login(user, "mauvais mot de passe")
    unknown = auth.login("personne@exemple.fr", "mauvais mot de passe")
    assert wrong_password.status_code == unknown.status_code == 401
    message = "Adresse e-mail ou mot de passe incorrect."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_login_is_case_insensitive_and_follows_only_local_next(client, auth, create_patient):
    user = create_patient(email="marie@exemple.fr")
    response = client.post("/connexion?next=/compte", data={"email": "MARIE@exemple.fr", "password": PASSWORD})
    assert response.headers["Location"] == "/compte"
    auth.logout()
    response = client.post("/connexion?next=https://evil.example/x",
                           data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_logout_is_a_post(client, auth, create_patient):
    auth.login(create_patient())
    assert client.get("/deconnexion").status_code == 405
    assert auth.logout().status_code == 303
    assert client.get("/compte").status_code == 302  # back to the log-in page


def test_login_is_rate_limited_with_a_clear_message(make_app, create_patient):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    for _ in range(10):
        assert client.post("/connexion", data={"email": "x@exemple.fr", "password": "nope"}).status_code == 401
    response = client.post("/connexion", data={"email": "x@exemple.fr", "password": "nope"})
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Trop de tentatives" in body and "Patientez" in body


def reset_link(client, email) -> str:
    client.post("/mot-de-passe/oublie", data={"email": email})
    message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert message.recipient == email
    return outbox_links(message)[0]


def test_password_reset_end_to_end(client, auth, create_patient):
    user = create_patient()
    response = client.post("/mot-de-passe/oublie", data={"email": user.email.upper()})
    assert "Si un compte existe" in response.get_data(as_text=True)
    link = outbox_links(db.session.scalar(select(OutboxMessage)))[0]
    raw = link.rsplit("/", 1)[1]
    assert len(raw) >= 43  # 256 bits, base64url
    token = db.session.scalar(select(AuthToken))
    assert token.token_hash == hash_token(raw) and raw not in token.token_hash

    path = link.replace("http://cvn.test", "")
    landing = client.get(path)
    assert landing.status_code == 303 and raw not in landing.headers["Location"]
    form = client.get(landing.headers["Location"])
    assert raw not in form.get_data(as_text=True)
    done = client.post(landing.headers["Location"], data={"password": "un nouveau mot de passe"})
    assert done.status_code == 303
    assert auth.login(user, PASSWORD).status_code == 401
    assert auth.login(user, "un nouveau mot de passe").status_code == 303
    # Single use.
    auth.logout()
    assert client.get(path).status_code == 410


def test_reset_for_unknown_email_writes_nothing_and_says_the_same(client):
    response = client.post("/mot-de-passe/oublie", data={"email": "inconnu@exemple.fr"})
    assert response.status_code == 200 and "Si un compte existe" in response.get_data(as_text=True)
    assert count(OutboxMessage) == 0 and count(AuthToken) == 0


def test_reset_link_expires_after_one_hour(client, clock, create_patient):
    user = create_patient()
    path = reset_link(client, user.email).replace("http://cvn.test", "")
    clock.advance(minutes=61)
    response = client.get(path)
    assert response.status_code == 410
    assert "n’est plus valable" in response.get_data(as_text=True)


def test_reset_link_expiring_between_opening_and_posting(client, clock, create_patient):
    user = create_patient()
    path = reset_link(client, user.email).replace("http://cvn.test", "")
    form_url = client.get(path).headers["Location"]
    clock.advance(hours=2)
    assert client.post(form_url, data={"password": "un nouveau mot de passe"}).status_code == 410
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_reset_refuses_a_short_password_and_keeps_the_token(client, create_patient):
    user = create_patient()
    path = reset_link(client, user.email).replace("http://cvn.test", "")
    form_url = client.get(path).headers["Location"]
    response = client.post(form_url, data={"password": "court"})
    assert response.status_code == 422 and "au moins 12" in response.get_data(as_text=True)
    assert db.session.scalar(select(AuthToken)).used_at is None


def test_change_password_logs_out_other_sessions(app, client, auth, create_patient):
    user = create_patient()
    other = app.test_client()
    other.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert other.get("/compte").status_code == 200
    auth.login(user)
    bad = client.post("/compte", data={"action": "password", "pw-current_password": "faux",
                                       "pw-password": "encore un autre mot"})
    assert bad.status_code == 422 and "Mot de passe actuel incorrect" in bad.get_data(as_text=True)
    good = client.post("/compte", data={"action": "password", "pw-current_password": PASSWORD,
                                        "pw-password": "encore un autre mot"})
    assert good.status_code == 303
    assert client.get("/compte").status_code == 200  # this session stays
    assert other.get("/compte").status_code == 302   # the other one is logged out
    assert count(OutboxMessage) == 1


def test_change_email(client, auth, create_patient):
    user = create_patient(email="ancienne@exemple.fr")
    create_patient(email="prise@exemple.fr")
    auth.login(user)
    taken = client.post("/compte", data={"action": "email", "em-email": "Prise@exemple.fr",
                                         "em-current_password": PASSWORD})
    assert taken.status_code == 409
    response = client.post("/compte", data={"action": "email", "em-email": "Nouvelle@exemple.fr",
                                            "em-current_password": PASSWORD})
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.email == "nouvelle@exemple.fr"
    notice = db.session.scalar(select(OutboxMessage))
    assert notice.recipient == "ancienne@exemple.fr" and "nouvelle@exemple.fr" in notice.body_text


def test_admin_verifies_a_professional_from_the_page(client, auth, create_admin, create_professional):
    pro = create_professional(verified=False, last_name="Attente")
    auth.login(create_admin())
    page = client.get("/admin/professionnels")
    assert page.status_code == 200 and "Attente" in page.get_data(as_text=True)
    response = client.post(f"/admin/professionnels/{pro.id}/verifier")
    assert response.status_code == 303
    db.session.refresh(pro)
    assert pro.verified_at is not None
    after = client.get("/admin/professionnels").get_data(as_text=True)
    assert pro.rpps not in after and "Aucun compte en attente" in after
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == pro.email))


@pytest.mark.parametrize("who, status", [
    ("anonymous", 302), ("patient", 403), ("unverified", 403), ("professional", 403), ("admin", 200),
])
def test_admin_page_access(client, auth, create_patient, create_professional, create_admin, who, status):
    users = {"patient": create_patient, "unverified": lambda: create_professional(verified=False),
             "professional": create_professional, "admin": create_admin}
    if who != "anonymous":
        auth.login(users[who]())
    assert client.get("/admin/professionnels").status_code == status


@pytest.mark.parametrize("who, path, status", [
    ("anonymous", "/pro/", 302), ("anonymous", "/mes-carnets/", 302),
    ("patient", "/pro/", 403), ("patient", "/mes-carnets/", 200), ("patient", "/pro/en-attente", 403),
    ("unverified", "/pro/", 303), ("unverified", "/pro/en-attente", 200), ("unverified", "/mes-carnets/", 403),
    ("professional", "/pro/", 200), ("professional", "/pro/en-attente", 302),
    ("professional", "/mes-carnets/", 403),
])
def test_space_access_matrix(client, auth, create_patient, create_professional, who, path, status):
    users = {"patient": create_patient, "unverified": lambda: create_professional(verified=False),
             "professional": create_professional}
    if who != "anonymous":
        auth.login(users[who]())
    assert client.get(path).status_code == status
