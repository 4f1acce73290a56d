"""Log-in methods: the code step, authenticator app, e-mail code, recovery codes, the lock, enrolment rules."""
import re

import pyotp
import pytest
from sqlalchemy import func, select

from cvn.auth import factors
from cvn.extensions import db
from cvn.models import Access, EmailCode, OutboxMessage, RecoveryCode, TotpCredential, User
from tests.conftest import PASSWORD, log_in, totp_code

HTMX = {"HX-Request": "true"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def logged_in(client) -> bool:
    return client.get("/compte").status_code == 200


def password_step(client, user, password=PASSWORD):
    return client.post("/connexion", data={"email": user.email, "password": password})


def last_mail(recipient) -> OutboxMessage:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == recipient)
                              .order_by(OutboxMessage.id.desc())).first()


def confirm(client):
    """Type the password again (method changes ask for it)."""
    assert client.post("/compte/confirmer", data={"password": PASSWORD}).status_code == 303


# --- The code step -------------------------------------------------------------------

def test_a_password_alone_does_not_log_in_an_account_with_an_app(app, client, create_professional):
    pro = create_professional()
    response = password_step(client, pro)
    assert response.status_code == 303 and response.headers["Location"] == "/connexion/code"
    assert not logged_in(client)
    page = client.get("/connexion/code").get_data(as_text=True)
    assert "Deuxième étape" in page and "application d’authentification" in page
    wrong = client.post("/connexion/code", data={"code": "000000"})
    assert wrong.status_code == 422 and "Il vous reste 4 essais" in wrong.get_data(as_text=True)
    right = client.post("/connexion/code", data={"code": totp_code(app, pro.email)})
    assert right.status_code == 303 and logged_in(client)


def test_an_app_code_serves_once(app, create_professional):
    pro = create_professional()
    first, second = app.test_client(), app.test_client()
    code = totp_code(app, pro.email)
    password_step(first, pro)
    password_step(second, pro)
    assert first.post("/connexion/code", data={"code": code}).status_code == 303
    assert second.post("/connexion/code", data={"code": code}).status_code == 422
    assert not logged_in(second)


def test_five_wrong_codes_lock_code_entry_for_fifteen_minutes(app, client, clock, create_professional):
    pro = create_professional()
    password_step(client, pro)
    for _ in range(4):
        assert client.post("/connexion/code", data={"code": "123456"}).status_code == 422
    locked = client.post("/connexion/code", data={"code": "123456"})
    body = locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert "Trop de codes erronés : la saisie des codes est bloquée pendant 15 minutes, jusqu’à 09 h 15" in body
    # Even the right code waits (and the lock holds in another browser).
    assert client.post("/connexion/code", data={"code": totp_code(app, pro.email)}).status_code == 429
    elsewhere = app.test_client()
    password_step(elsewhere, pro)
    assert "bloquée" in elsewhere.get("/connexion/code").get_data(as_text=True)
    clock.advance(minutes=14)
    password_step(client, pro)
    assert client.post("/connexion/code", data={"code": totp_code(app, pro.email)}).status_code == 429
    clock.advance(minutes=2)
    password_step(client, pro)
    assert client.post("/connexion/code", data={"code": totp_code(app, pro.email)}).status_code == 303
    db.session.refresh(pro)
    assert pro.code_failures == 0 and pro.code_locked_until is None


def test_the_code_step_expires_after_ten_minutes(app, client, clock, create_professional):
    pro = create_professional()
    password_step(client, pro)
    clock.advance(minutes=11)
    response = client.post("/connexion/code", data={"code": totp_code(app, pro.email)})
    assert response.status_code == 303 and response.headers["Location"] == "/connexion"
    assert not logged_in(client)


def test_code_attempts_are_rate_limited_per_account_across_clients(make_app, create_professional):
    app = make_app(RATELIMIT_ENABLED=True)
    pro = create_professional()
    statuses = []
    for n in range(11):  # eleven clients, eleven addresses: only the account is common
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        password_step(client, pro)
        statuses.append(client.post("/connexion/code", data={"code": "123456"}))
    assert statuses[-1].status_code == 429
    assert "Trop de codes essayés pour ce compte" in statuses[-1].get_data(as_text=True)


# --- Authenticator app enrolment -----------------------------------------------------

def enrol_app(client):
    page = client.get("/compte/methodes/application").get_data(as_text=True)
    secret = re.search(r'<p class="secret" id="cle-secrete"><code>([A-Z2-7 ]+)</code>', page).group(1)
    return page, secret.replace(" ", "")


def test_enrolling_an_app_asks_the_password_then_gives_recovery_codes_once(app, client, clock, create_patient):
    user = create_patient()
    log_in(client, user)
    clock.advance(minutes=6)  # the log-in itself counts as a confirmation for 5 minutes
    assert client.get("/compte/methodes/application").headers["Location"].startswith("/compte/confirmer")
    bad = client.post("/compte/confirmer", data={"password": "pas le bon"})
    assert bad.status_code == 422 and "Mot de passe incorrect" in bad.get_data(as_text=True)
    confirm(client)
    page, secret = enrol_app(client)
    assert "<svg" in page and len(secret) == 32
    assert client.post("/compte/methodes/application", data={"code": "000000"}).status_code == 422
    done = client.post("/compte/methodes/application", data={"code": pyotp.TOTP(secret).at(app.config["CVN_CLOCK"]())})
    assert done.headers["Location"] == "/compte/methodes/codes-de-secours"
    stored = db.session.scalar(select(TotpCredential))
    assert secret.encode() not in stored.secret and factors.open_secret(stored.secret) == secret
    shown = client.get("/compte/methodes/codes-de-secours").get_data(as_text=True)
    codes = re.findall(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>", shown)
    assert len(codes) == 10 and count(RecoveryCode) == 10
    stored_hashes = {r.code_hash for r in db.session.scalars(select(RecoveryCode))}
    assert not any(c.replace("-", "") in h for c in codes for h in stored_hashes)
    assert client.get("/compte/methodes/codes-de-secours").status_code == 303  # shown once
    notice = last_mail(user.email)
    assert notice.subject == "Vos méthodes de connexion ont changé" and "application" in notice.body_text


def test_method_changes_need_a_fresh_confirmation(app, client, clock, create_patient):
    log_in(client, create_patient())
    confirm(client)
    clock.advance(minutes=6)
    response = client.post("/compte/methodes/email/activer")
    assert response.status_code == 303 and response.headers["Location"].startswith("/compte/confirmer")
    assert db.session.scalar(select(User.email_code_enabled_at)) is None


def test_a_recovery_code_works_once(app, client, create_professional):
    pro = create_professional()
    codes = factors.new_recovery_codes(pro)
    db.session.commit()
    password_step(client, pro)
    assert "code de secours" in client.get("/connexion/code?methode=secours").get_data(as_text=True).lower()
    used = client.post("/connexion/code", data={"code": codes[0].lower()})
    assert used.status_code == 303 and logged_in(client)
    assert "Vos méthodes de connexion ont changé" == last_mail(pro.email).subject
    again = app.test_client()
    password_step(again, pro)
    again.get("/connexion/code?methode=secours")
    assert again.post("/connexion/code", data={"code": codes[0]}).status_code == 422
    assert not logged_in(again)
    assert factors.recovery_codes_left(pro) == 9


# --- E-mail code ---------------------------------------------------------------------------

def test_email_code_log_in(app, client, clock, create_patient):
    user = create_patient()
    log_in(client, user)
    confirm(client)
    assert client.post("/compte/methodes/email/activer").status_code == 303
    client.post("/deconnexion")
    response = password_step(client, user)
    assert response.headers["Location"] == "/connexion/code"
    message = last_mail(user.email)
    code = re.search(r"code de connexion à CVN : (\d{6})", message.body_text).group(1)
    stored = db.session.scalar(select(EmailCode))
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert "Nous l’avons envoyé à" in client.get("/connexion/code").get_data(as_text=True)
    assert client.post("/connexion/code", data={"code": code}).status_code == 303 and logged_in(client)
    client.post("/deconnexion")
    password_step(client, user)  # a new code; the old one is spent
    assert client.post("/connexion/code", data={"code": code}).status_code == 422


def test_an_email_code_lasts_ten_minutes(clock, create_patient):
    user = create_patient(email_code_enabled_at=factors.utcnow())
    codes = []
    for _ in range(2):
        assert factors.send_email_code(user)
        codes.append(re.search(r"(\d{6})", last_mail(user.email).subject).group(1))
    clock.advance(minutes=9, seconds=59)
    if codes[0] != codes[1]:
        assert not factors.verify_email_code(user, codes[0])  # only the newest code counts
    assert factors.send_email_code(user)
    late = re.search(r"(\d{6})", last_mail(user.email).subject).group(1)
    clock.advance(minutes=10, seconds=1)
    assert not factors.verify_email_code(user, late)
    assert factors.send_email_code(user)
    fresh = re.search(r"(\d{6})", last_mail(user.email).subject).group(1)
    clock.advance(minutes=9, seconds=59)
    assert factors.verify_email_code(user, fresh)


def test_an_email_code_dies_after_five_tries(app, client, create_patient):
    from sqlalchemy import update

    user = create_patient(email_code_enabled_at=factors.utcnow())
    password_step(client, user)
    code = re.search(r"(\d{6})", last_mail(user.email).subject).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        client.post("/connexion/code", data={"code": wrong})
    assert db.session.scalar(select(EmailCode.attempts).order_by(EmailCode.id.desc()).limit(1)) == 4
    db.session.execute(update(User).values(code_failures=0))  # not the account lock: the code's own tries
    db.session.commit()
    client.post("/connexion/code", data={"code": wrong})
    assert client.post("/connexion/code", data={"code": code}).status_code == 422


def test_no_code_is_sent_to_an_unconfirmed_address(client, create_patient):
    user = create_patient(email_confirmed=False)
    log_in(client, user)
    confirm(client)
    response = client.post("/compte/methodes/email/activer", follow_redirects=True)
    assert "Confirmez d’abord votre adresse" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).email_code_enabled_at is None
    assert factors.send_email_code(user) is False and count(EmailCode) == 0


def test_address_confirmation_link(client, create_patient):
    from tests.conftest import outbox_links

    client.post("/inscription/patient", data={"first_name": "Léa", "last_name": "Roux",
                                              "email": "lea@exemple.fr", "password": PASSWORD})
    user = db.session.scalar(select(User).where(User.email == "lea@exemple.fr"))
    assert user.email_confirmed_at is None
    link = outbox_links(last_mail("lea@exemple.fr"))[0]
    landing = client.get(link.replace("http://cvn.test", ""))
    assert landing.status_code == 303 and "/compte/adresse/" not in landing.headers["Location"]
    assert "Confirmer mon adresse" in client.get("/compte/adresse").get_data(as_text=True)
    assert client.post("/compte/adresse").status_code == 303
    db.session.refresh(user)
    assert user.email_confirmed_at is not None
    client.get(link.replace("http://cvn.test", ""))
    assert client.post("/compte/adresse").status_code == 410  # single use


# --- Professionals need a second factor ----------------------------------------------

def test_a_verified_professional_without_a_second_factor_reaches_no_carnet(app, client, create_professional,
                                                                           create_carnet, create_patient):
    pro = create_professional(second_factor=False)
    carnet = create_carnet(pro)
    response = client.post("/connexion", data={"email": pro.email, "password": PASSWORD})
    assert response.status_code == 303  # logged in with the password, then led to enrolment
    for url in ("/", "/pro/", f"/carnets/{carnet.public_id}", f"/carnets/{carnet.public_id}/journal",
                "/pro/a-valider", "/pro/archives", "/pro/carnets/nouveau"):
        got = client.get(url, follow_redirects=True)
        assert got.request.path == "/compte/methodes", url
        assert "Étape obligatoire pour les professionnels" in got.get_data(as_text=True)
        assert carnet.last_name not in got.get_data(as_text=True).upper().replace("DURANDAL", "")
    fragment = client.get(f"/carnets/{carnet.public_id}", headers=HTMX)
    assert fragment.status_code == 204 and fragment.headers["HX-Redirect"] == "/compte/methodes"
    post = client.post(f"/carnets/{carnet.public_id}/doses", data={"product": "Hexyon", "administered_on": "2024-06-10"})
    assert post.headers["Location"] == "/compte/methodes"
    # A carnet shared with this professional cannot be claimed into the patientèle either.
    from cvn.models import InvitationChannel, InvitationTarget
    from cvn.sharing import services as sharing

    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, carnet.birth_date, True)
    other = create_carnet(create_professional(), last_name="Autre")
    sharing.claim(sharing.create_invitation(db.session.get(User, other.created_by_id), other,
                                            InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, other.birth_date, True)
    _inv, raw = sharing.create_invitation(owner, other, InvitationTarget.PROFESSIONAL, InvitationChannel.LINK)
    client.get(f"/i/{raw}")
    claim = client.post("/invitation", data={"birth_date": other.birth_date.isoformat(), "attest": "y"})
    assert claim.headers["Location"] == "/compte/methodes"
    assert not any(a.carnet_id == other.id for a in db.session.scalars(select(Access).where(
        Access.professional_id == pro.id)))
    confirm(client)
    _page, secret = enrol_app(client)
    client.post("/compte/methodes/application", data={"code": pyotp.TOTP(secret).at(app.config["CVN_CLOCK"]())})
    assert client.get(f"/carnets/{carnet.public_id}").status_code == 200


def test_a_professional_keeps_a_last_second_factor(client, create_professional):
    pro = create_professional()
    log_in(client, pro)
    confirm(client)
    response = client.post("/compte/methodes/application/retirer", follow_redirects=True)
    assert "garde au moins une deuxième étape" in response.get_data(as_text=True)
    assert count(TotpCredential) == 1


def test_a_patient_may_turn_a_method_off(client, create_patient):
    user = create_patient(email_code_enabled_at=factors.utcnow())
    log_in(client, user, data={})
    assert client.get("/compte").status_code == 302  # the e-mail code step comes first
    code = re.search(r"(\d{6})", last_mail(user.email).subject).group(1)
    client.post("/connexion/code", data={"code": code})
    confirm(client)
    assert client.post("/compte/methodes/email/retirer").status_code == 303
    db.session.refresh(user)
    assert user.email_code_enabled_at is None
    assert last_mail(user.email).subject == "Vos méthodes de connexion ont changé"


# --- Weak passwords everywhere a password is chosen ---------------------------------------

def test_weak_passwords_are_refused_on_change_and_reset(client, create_patient):
    user = create_patient(first_name="Hortense", last_name="Lacroix")
    log_in(client, user)
    response = client.post("/compte", data={"action": "password", "pw-current_password": PASSWORD,
                                            "pw-password": "hortense lacroix"})
    assert response.status_code == 422 and "votre nom ou votre prénom" in response.get_data(as_text=True)
    response = client.post("/compte", data={"action": "password", "pw-current_password": PASSWORD,
                                            "pw-password": "password1234"})
    assert response.status_code == 422 and "très courant" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


# --- Access matrix of the new routes ----------------------------------------------------------

ROLES = ["anonymous", "patient", "professional", "unverified", "admin"]


def routes(own, theirs):
    """(method, url, data, expected when logged in); anonymous visitors are sent to log in (302)."""
    return [
        ("GET", "/compte/methodes", None, 200),
        ("GET", "/compte/sessions", None, 200),
        ("GET", "/compte/confirmer", None, 200),
        ("GET", "/compte/methodes/application", None, 303),  # confirm first
        ("POST", "/compte/methodes/application/retirer", None, 303),
        ("POST", "/compte/methodes/email/activer", None, 303),
        ("POST", "/compte/methodes/email/retirer", None, 303),
        ("POST", "/compte/methodes/codes-de-secours", None, 303),
        ("GET", "/compte/methodes/codes-de-secours", None, 303),
        ("POST", "/compte/methodes/cles/options", None, 303),
        ("POST", f"/compte/methodes/cles/{theirs['passkey']}/retirer", None, 404),  # not theirs: no confirmation
        ("POST", f"/compte/methodes/cles/{theirs['passkey']}/renommer", {"name": "à moi"}, 404),
        ("POST", f"/compte/sessions/{theirs['session']}/terminer", None, 404),
        ("POST", f"/compte/appareils/{theirs['device']}/oublier", None, 404),
        ("POST", "/compte/sessions/terminer-autres", None, 303),
        ("POST", "/compte/adresse/renvoyer", None, 303),
    ]


@pytest.fixture
def stranger(app, create_patient):
    """Another account with a passkey, a session and a remembered device the matrix must not reach."""
    from cvn.models import Passkey, RememberedDevice, WebSession

    user = create_patient(first_name="Autre")
    client = app.test_client()
    log_in(client, user, data={"remember": "y"})
    db.session.add(Passkey(user_id=user.id, credential_id="abc", public_key=b"k", sign_count=0, name="Sa clé",
                           transports=""))
    db.session.commit()
    return {"user": user, "client": client,
            "passkey": db.session.scalar(select(Passkey.id)),
            "session": db.session.scalar(select(WebSession.id).where(WebSession.user_id == user.id)),
            "device": db.session.scalar(select(RememberedDevice.id))}


@pytest.mark.parametrize("role", ROLES)
def test_account_routes_access_matrix(client, clock, role, stranger, create_patient, create_professional,
                                     create_admin):
    users = {"patient": create_patient, "professional": create_professional,
             "unverified": lambda: create_professional(verified=False), "admin": create_admin}
    if role != "anonymous":
        log_in(client, users[role]())
        clock.advance(minutes=6)  # past the confirmation the log-in itself gives
    for method, url, data, expected in routes(None, stranger):
        status = client.open(url, method=method, data=data).status_code
        assert status == (302 if role == "anonymous" else expected), (role, method, url, status)
    # The stranger's passkey, session and device are untouched.
    assert logged_in(stranger["client"])
    from cvn.models import Passkey

    assert db.session.scalar(select(Passkey.name)) == "Sa clé"


def test_passkey_attempts_are_refused_in_french_and_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, CVN_BASE_URL="http://localhost:5000")
    client = app.test_client()
    options = client.post("/connexion/cle/options", json={})
    assert options.status_code == 200 and options.get_json()["rpId"] == "localhost"
    assert options.get_json()["userVerification"] == "required"
    forged = '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}'
    answers = [client.post("/connexion/cle", json={"credential": forged}) for _ in range(11)]
    assert answers[0].status_code == 401 and "n’est pas reconnue" in answers[0].get_json()["error"]
    assert "expiré" in answers[1].get_json()["error"]  # the challenge served once
    assert answers[-1].status_code == 429
    assert not logged_in(client)


def test_passkeys_are_off_on_an_ip_address(client):
    page = client.get("/connexion").get_data(as_text=True)  # the tests' base URL is http://cvn.test
    assert "Se connecter avec une clé d’accès" in page
    from cvn.auth import passkeys

    client.application.config["CVN_BASE_URL"] = "http://127.0.0.1:5000"
    with client.application.app_context():
        assert passkeys.available() is False
    assert "Se connecter avec une clé d’accès" not in client.get("/connexion").get_data(as_text=True)
