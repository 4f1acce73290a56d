"""Server-side sessions: what the cookie and the table hold, log-out, timeouts, remembered devices."""
import re

import pytest
from sqlalchemy import func, select

from cvn import devices, sessions
from cvn.extensions import db
from cvn.models import RememberedDevice, User, WebSession
from cvn.tokens import hash_token
from tests.conftest import PASSWORD, log_in

COOKIE = "cvn_session"
DEVICE = "cvn_appareil"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def cookie(client, name=COOKIE):
    found = client.get_cookie(name)
    return found.value if found else None


def logged_in(client) -> bool:
    return client.get("/compte").status_code == 200


def test_the_cookie_holds_a_random_id_and_the_table_its_hash_and_sealed_data(client, create_patient, pro_invite):
    raw_token = pro_invite()
    client.get(f"/i/{raw_token}")  # puts the invitation token in the session
    raw = cookie(client)
    assert raw and len(raw) >= 43 and "." not in raw  # 256 random bits, no signed payload
    row = db.session.scalar(select(WebSession))
    assert row.key_hash == hash_token(raw) and raw not in row.key_hash
    assert raw_token.encode() not in row.data and b"claim_token" not in row.data  # encrypted
    assert client.get("/invitation").status_code == 200  # and still readable by its browser
    log_in(client, create_patient())
    assert count(WebSession) == 1 and cookie(client) != raw  # a new id at log-in (no fixation)
    assert db.session.scalar(select(WebSession.key_hash)) != hash_token(raw)


@pytest.fixture
def pro_invite(create_carnet):
    from cvn.models import InvitationChannel, InvitationTarget
    from cvn.sharing import services

    def make():
        carnet = create_carnet()
        creator = db.session.get(User, carnet.created_by_id)
        return services.create_invitation(creator, carnet, InvitationTarget.HOLDER, InvitationChannel.LINK)[1]

    return make


def test_log_out_deletes_the_session_and_a_replayed_cookie_is_refused(app, client, create_patient):
    log_in(client, create_patient())
    saved = cookie(client)
    assert logged_in(client)
    assert client.post("/deconnexion").status_code == 303
    assert count(WebSession, WebSession.user_id.is_not(None)) == 0
    thief = app.test_client()
    thief.set_cookie(COOKIE, saved)
    assert thief.get("/compte").status_code == 302


def test_a_late_answer_to_the_old_cookie_leaves_a_newer_session_alone(app, client, create_patient):
    """A request sent before the log-out but answered after a new log-in must not delete the new cookie.

    The browser applies every answer's Set-Cookie in the order answers arrive: an answer that
    deleted the session cookie because the one it was sent with had ended would log the person
    out again (seen in the browser suite under load, the page after a log-in was anonymous).
    Pages that keep nothing in the session are checked: the service worker's update check, which
    every page load starts, and the pages open to visitors. (A late answer that must keep something,
    a redirect to the log-in page with its message, still opens a session of its own.)
    """
    user = create_patient()
    log_in(client, user)
    old = cookie(client)
    assert client.post("/deconnexion").status_code == 303
    log_in(client, user)
    assert cookie(client) not in (None, old)
    late = app.test_client()  # the same browser, as it was when the late request left
    late.set_cookie(COOKIE, old)
    for path in ("/sw.js", "/", "/connexion"):
        answer = late.get(path)
        assert not [h for h in answer.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")], path
    assert logged_in(client)


def test_remembered_device_reopens_a_patient_session_until_log_out(app, client, clock, create_patient):
    user = create_patient()
    log_in(client, user, data={"remember": "y"})
    device = db.session.scalar(select(RememberedDevice))
    raw = cookie(client, DEVICE)
    assert device.user_id == user.id and device.token_hash == hash_token(raw)
    assert (device.expires_at - device.created_at).days == 30
    # The browser was closed (session cookie gone): the device opens a new session.
    later = app.test_client()
    later.set_cookie(DEVICE, raw)
    assert logged_in(later)
    assert db.session.scalar(select(WebSession.method).where(WebSession.id != None).order_by(  # noqa: E711
        WebSession.id.desc()).limit(1)) == "device"
    # Log-out forgets the device: a copy of its cookie no longer logs in.
    assert later.post("/deconnexion").status_code == 303
    assert later.get_cookie(DEVICE) is None and count(RememberedDevice) == 0
    replay = app.test_client()
    replay.set_cookie(DEVICE, raw)
    assert not logged_in(replay)


def test_a_remembered_device_lasts_thirty_days_at_most(app, client, clock, create_patient):
    log_in(client, create_patient(), data={"remember": "y"})
    raw = cookie(client, DEVICE)
    clock.advance(days=29, hours=23)
    early = app.test_client()
    early.set_cookie(DEVICE, raw)
    assert logged_in(early)
    clock.advance(hours=2)
    late = app.test_client()
    late.set_cookie(DEVICE, raw)
    assert not logged_in(late)


def test_a_professional_device_spares_only_the_code(app, client, clock, create_professional):
    pro = create_professional()
    log_in(client, pro, data={"remember": "y"})
    raw = cookie(client, DEVICE)
    fresh = app.test_client()
    fresh.set_cookie(DEVICE, raw)
    assert not logged_in(fresh)  # no session without the password
    response = fresh.post("/connexion", data={"email": pro.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"  # no code step on this device
    assert logged_in(fresh)
    other = app.test_client()
    assert other.post("/connexion", data={"email": pro.email, "password": PASSWORD}).headers["Location"] \
        == "/connexion/code"


@pytest.mark.parametrize("kind, idle_ok, idle_gone", [("professional", 29, 31), ("patient", 119, 121)])
def test_idle_timeout(client, clock, create_patient, create_professional, kind, idle_ok, idle_gone):
    user = create_professional() if kind == "professional" else create_patient()
    log_in(client, user)
    clock.advance(minutes=idle_ok)
    assert logged_in(client)
    clock.advance(minutes=idle_gone)
    assert not logged_in(client)


def test_absolute_timeout_of_twelve_hours_whatever_the_activity(client, clock, create_professional):
    log_in(client, create_professional())
    for _ in range(24):  # active every 29 minutes, for 11 h 36
        clock.advance(minutes=29)
        assert logged_in(client)
    clock.advance(minutes=29)  # 12 h 05 after log-in
    assert not logged_in(client)


def test_flask_logins_own_remember_cookie_logs_nobody_in(make_app, create_patient):
    from flask_login.utils import encode_cookie

    app = make_app()
    user = create_patient()
    with app.test_request_context():
        forged = encode_cookie(user.get_id())  # what Flask-Login's remember cookie held (365 days)
    client = app.test_client()
    client.set_cookie("remember_token", forged)
    assert not logged_in(client)


def test_session_list_ends_another_session_and_not_anothers_account(app, client, create_patient):
    user, stranger = create_patient(), create_patient()
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 "
                                             "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36")
    log_in(phone, user)
    log_in(client, user)
    page = client.get("/compte/sessions").get_data(as_text=True)
    assert "Chrome sur Android" in page and "cette session" in page
    rows = {r.id: r for r in sessions.sessions_of(user)}
    assert len(rows) == 2
    phone_id = next(i for i, r in rows.items() if "Android" in r.user_agent)
    other = app.test_client()
    log_in(other, stranger)
    assert other.post(f"/compte/sessions/{phone_id}/terminer").status_code == 404
    assert logged_in(phone)
    assert client.post(f"/compte/sessions/{phone_id}/terminer").status_code == 303
    assert not logged_in(phone) and logged_in(client)


def test_forgetting_a_device_ends_what_it_opened(app, client, create_patient):
    user = create_patient()
    tablet = app.test_client()
    log_in(tablet, user, data={"remember": "y"})
    device = db.session.scalar(select(RememberedDevice))
    log_in(client, user)
    assert "Appareils mémorisés" in client.get("/compte/sessions").get_data(as_text=True)
    assert client.post(f"/compte/appareils/{device.id}/oublier").status_code == 303
    assert count(RememberedDevice) == 0 and not logged_in(tablet) and logged_in(client)


def test_password_change_ends_every_other_session_and_device(app, client, create_patient):
    user = create_patient()
    other = app.test_client()
    log_in(other, user, data={"remember": "y"})
    device_cookie = cookie(other, DEVICE)
    log_in(client, user)
    response = client.post("/compte", data={"action": "password", "pw-current_password": PASSWORD,
                                            "pw-password": "encore un autre mot"})
    assert response.status_code == 303
    assert logged_in(client) and not logged_in(other)
    assert count(RememberedDevice) == 0 and count(WebSession, WebSession.user_id == user.id) == 1
    replay = app.test_client()
    replay.set_cookie(DEVICE, device_cookie)
    assert not logged_in(replay)


def test_password_reset_ends_every_session(app, client, create_patient):
    from cvn.models import OutboxMessage
    from tests.conftest import outbox_links

    user = create_patient()
    other = app.test_client()
    log_in(other, user, data={"remember": "y"})
    client.post("/mot-de-passe/oublie", data={"email": user.email})
    link = outbox_links(db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == user.email)))[0]
    form_url = client.get(link.replace("http://cvn.test", "")).headers["Location"]
    assert client.post(form_url, data={"password": "un nouveau mot de passe"}).status_code == 303
    assert not logged_in(other)
    assert count(WebSession, WebSession.user_id == user.id) == 0 and count(RememberedDevice) == 0


def test_purge_removes_ended_rows(client, clock, create_patient):
    log_in(client, create_patient(), data={"remember": "y"})
    assert count(WebSession) == 1
    clock.advance(hours=13)
    assert sessions.purge() == 1 and count(RememberedDevice) == 1
    clock.advance(days=30)
    assert sessions.purge() == 1 and count(RememberedDevice) == 0


@pytest.mark.parametrize("agent, label", [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", "Safari sur iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 "
     "Edg/126.0", "Edge sur Windows"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox sur Linux"),
    ("", "Appareil inconnu"),
])
def test_device_label(agent, label):
    assert devices.device_label(agent) == label


def test_session_cookie_flags(client, create_patient):
    response = log_in(client, create_patient())
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in header and "SameSite=Lax" in header and not re.search(r"Expires|Max-Age", header)


def test_secure_cookies_get_the_host_prefix(make_app, create_patient):
    app = make_app(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    response = log_in(client, create_patient(), data={"remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(h for h in cookies if h.startswith("__Host-cvn_session="))
    device_cookie = next(h for h in cookies if h.startswith("__Host-cvn_appareil="))
    for header in (session_cookie, device_cookie):
        assert "Secure" in header and "Path=/" in header and "Domain" not in header
    assert "Max-Age=2592000" in device_cookie
