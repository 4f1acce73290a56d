"""The access matrix, complete by construction: every route of the app × nine kinds of user.

``test_every_route_has_an_entry_for_every_kind_of_user`` walks the app's URL map
and fails when a route (endpoint and method) has no case below, or a case does
not say what each kind of user gets: a new route cannot ship without its row.
``test_access_matrix`` then plays every case as each kind of user, in one world
per kind, and checks the status.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from cvn.alerts import services as alerts
from cvn.auth.factors import enrol_totp
from cvn.archives import services as archives
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import (Access, InvitationChannel, InvitationTarget, OutboxMessage, OutboxStatus, Passkey,
                        RememberedDevice, WebSession)
from cvn.outbox.services import queue_mail
from cvn.sharing import services as sharing
from tests.conftest import TOTP_SECRET, log_in

ROLES = ("anonymous", "owner", "co_owner", "other_patient", "pro_with_access", "pro_access_ended",
         "pro_without_access", "unverified", "admin")
PATIENTS = ("owner", "co_owner", "other_patient", "admin")  # the administrator is a patient account
VERIFIED = ("pro_with_access", "pro_access_ended", "pro_without_access")
PROS = VERIFIED + ("unverified",)
OWNERS = ("owner", "co_owner")
BIRTH = date(2024, 2, 10)


def every(status: int) -> dict[str, int]:
    return {role: status for role in ROLES}


def logged_in(status: int, anonymous: int = 302) -> dict[str, int]:
    """Any account gets ``status``; visitors are sent to log in."""
    return {**every(status), "anonymous": anonymous}


def carnet_route(status: int, allowed=("owner", "co_owner", "pro_with_access")) -> dict[str, int]:
    """A carnet route: ``status`` for those allowed, 404 for every other account (no leak), log-in else."""
    return {**logged_in(404), **{role: status for role in allowed}}


def pro_space(status: int) -> dict[str, int]:
    """The verified professionals' space: patients are told it is not theirs, unverified wait."""
    return {**logged_in(403), **{role: status for role in VERIFIED}, "unverified": 303}


def admin_only(status: int) -> dict[str, int]:
    return {**logged_in(403), "admin": status}


@dataclass
class Case:
    endpoint: str
    method: str
    url: Callable[[dict], str]
    expected: dict[str, int]
    data: dict | Callable[[dict], dict] | None = None
    #: Where a 303 must lead (a path prefix), e.g. the identity confirmation before a method change.
    to: str | None = None


def account_page(status: int) -> dict[str, int]:
    """An account page is the account's own: any account gets ``status``, visitors are sent to log in."""
    return logged_in(status)


def own_item(status: int, owner: str = "owner") -> dict[str, int]:
    """A session, device or passkey of ``owner``'s: ``status`` for that account, 404 for any other."""
    return {**logged_in(404), owner: status}


CONFIRM = "/compte/confirmer"


C = "/carnets/{carnet}"
CASES = [
    # Public pages, the PWA shell and the health check.
    Case("main.home", "GET", lambda w: "/", {**every(302), "anonymous": 200}),
    Case("main.manifest", "GET", lambda w: "/manifest.webmanifest", every(200)),
    Case("main.service_worker", "GET", lambda w: "/sw.js", every(200)),
    Case("main.offline", "GET", lambda w: "/hors-ligne", every(200)),
    Case("main.health", "GET", lambda w: "/sante", every(200)),
    Case("static", "GET", lambda w: "/static/css/cvn.css", every(200)),
    Case("auth.login", "GET", lambda w: "/connexion", {**every(302), "anonymous": 200}),
    Case("auth.signup", "GET", lambda w: "/inscription", every(200)),
    Case("auth.signup_patient", "GET", lambda w: "/inscription/patient", every(200)),
    Case("auth.signup_professional", "GET", lambda w: "/inscription/professionnel", every(200)),
    Case("auth.forgot_password", "GET", lambda w: "/mot-de-passe/oublie", every(200)),
    Case("auth.reset_link", "GET", lambda w: "/mot-de-passe/lien/inconnu", every(410)),
    Case("auth.reset_password", "GET", lambda w: "/mot-de-passe/nouveau", every(410)),
    Case("auth.account", "GET", lambda w: "/compte", logged_in(200)),
    Case("sharing.open_link", "GET", lambda w: "/i/inconnu", every(303)),
    Case("sharing.claim", "GET", lambda w: "/invitation", every(404)),
    Case("alerts.unsubscribe", "GET", lambda w: f"/alertes/desabonnement/{w['unsubscribe']}", every(200)),
    # The development outbox: from this machine (as the test client is) in development and tests only.
    Case("outbox.index", "GET", lambda w: "/dev/boite-mail/", every(200)),
    Case("outbox.show", "GET", lambda w: f"/dev/boite-mail/{w['message']}", every(200)),
    # Spaces.
    Case("pro.home", "GET", lambda w: "/pro/", pro_space(200)),
    Case("pro.pending", "GET", lambda w: "/pro/en-attente",
         {**logged_in(403), **{r: 302 for r in VERIFIED}, "unverified": 200}),
    Case("patient.home", "GET", lambda w: "/mes-carnets/", {**logged_in(403), **{r: 200 for r in PATIENTS}}),
    Case("carnets.create", "GET", lambda w: "/pro/carnets/nouveau", pro_space(200)),
    Case("patient.new_carnet", "GET", lambda w: "/mes-carnets/nouveau",
         {**logged_in(403), **{r: 200 for r in PATIENTS}}),
    Case("carnets.coverage", "GET", lambda w: "/catalogue/couverture?product=hexyon", logged_in(200)),
    Case("validation.queue", "GET", lambda w: "/pro/a-valider", pro_space(200)),
    Case("archives.index", "GET", lambda w: "/pro/archives", pro_space(200)),
    Case("archives.show", "GET", lambda w: f"/pro/archives/{w['archive']}",
         {**pro_space(404), "pro_access_ended": 200}),
    Case("admin.professionals", "GET", lambda w: "/admin/professionnels", admin_only(200)),
    Case("admin.failed_mail", "GET", lambda w: "/admin/e-mails-en-echec", admin_only(200)),
    # One carnet.
    Case("carnets.show", "GET", lambda w: C.format(**w), carnet_route(200)),
    Case("carnets.section", "GET", lambda w: C.format(**w) + "/doses", carnet_route(200)),
    Case("carnets.section", "GET", lambda w: C.format(**w) + "/doses?vue=maladies", carnet_route(200)),
    Case("carnets.section", "GET", lambda w: C.format(**w) + "/partage", carnet_route(200)),
    Case("carnets.section", "GET", lambda w: C.format(**w) + "/historique?page=2", carnet_route(200)),
    Case("carnets.printable", "GET", lambda w: C.format(**w) + "/imprimer", carnet_route(200)),
    Case("carnets.new_dose", "GET", lambda w: C.format(**w) + "/doses/nouvelle", carnet_route(200)),
    # The header alone is for htmx; a plain request is sent to the carnet.
    Case("carnets.summary", "GET", lambda w: C.format(**w) + "/resume", carnet_route(303)),
    Case("carnets.edit_dose", "GET", lambda w: C.format(**w) + f"/doses/{w['dose_edit']}/modifier",
         carnet_route(200, ("pro_with_access",))),
    Case("carnets.delete_dose", "GET", lambda w: C.format(**w) + f"/doses/{w['dose_delete']}/supprimer",
         carnet_route(200, ("pro_with_access",))),
    Case("archives.end_access", "GET", lambda w: C.format(**w) + f"/acces/{w['access']}/arreter",
         carnet_route(200, ("owner", "co_owner"))),
    # Portability: FHIR export for everyone who reads the carnet, import for its owners, the certificate.
    Case("portability.export", "GET", lambda w: C.format(**w) + "/export.fhir.json", carnet_route(200)),
    Case("portability.export_archive", "GET", lambda w: f"/pro/archives/{w['archive']}/export.fhir.json",
         {**pro_space(404), "pro_access_ended": 200}),
    Case("portability.import_file", "GET", lambda w: C.format(**w) + "/import", carnet_route(200, OWNERS)),
    Case("portability.certificate_page", "GET", lambda w: C.format(**w) + "/attestation", carnet_route(200)),
    Case("portability.verify", "GET", lambda w: "/verifier/inconnu", every(404)),
    # Leaving with one's data; the privacy and legal pages are public.
    Case("privacy.download", "GET", lambda w: "/compte/mes-donnees.zip", logged_in(200)),
    Case("privacy.delete_account", "GET", lambda w: "/compte/supprimer", logged_in(200)),
    Case("privacy.privacy", "GET", lambda w: "/confidentialite", every(200)),
    Case("privacy.legal", "GET", lambda w: "/mentions-legales", every(200)),
    # The account's log-in methods and sessions: each account's own.
    Case("auth.methods", "GET", lambda w: "/compte/methodes", account_page(200)),
    Case("auth.sessions_page", "GET", lambda w: "/compte/sessions", account_page(200)),
    Case("auth.confirm_identity", "GET", lambda w: CONFIRM, account_page(200)),
    Case("auth.totp_enrol", "GET", lambda w: "/compte/methodes/application", account_page(303), to=CONFIRM),
    Case("auth.recovery_codes", "GET", lambda w: "/compte/methodes/codes-de-secours", account_page(303),
         to="/compte/methodes"),  # shown once, right after they are made: none here
    # Log-in's second step and address confirmation: for visitors too (nothing half-way here).
    Case("auth.login_code", "GET", lambda w: "/connexion/code", every(303), to="/connexion"),
    Case("auth.confirm_link", "GET", lambda w: "/compte/adresse/inconnu", every(303), to="/compte/adresse"),
    # The landing page's button (so mail scanners confirm nothing); the token is checked on POST.
    Case("auth.confirm_email", "GET", lambda w: "/compte/adresse", every(200)),
    # Changes that leave the world as it was for the next case.
    Case("auth.login", "POST", lambda w: "/connexion", {**every(302), "anonymous": 401},
         {"email": "personne@exemple.fr", "password": "mauvais mot de passe"}),
    Case("auth.signup_patient", "POST", lambda w: "/inscription/patient", every(422), {}),
    Case("auth.signup_professional", "POST", lambda w: "/inscription/professionnel", every(422), {}),
    Case("auth.forgot_password", "POST", lambda w: "/mot-de-passe/oublie", every(200),
         {"email": "personne@exemple.fr"}),
    Case("auth.reset_password", "POST", lambda w: "/mot-de-passe/nouveau", every(410), {}),
    Case("auth.account", "POST", lambda w: "/compte", logged_in(400), {}),
    Case("sharing.claim", "POST", lambda w: "/invitation", every(404), {}),
    Case("carnets.create", "POST", lambda w: "/pro/carnets/nouveau", pro_space(422), {}),
    Case("patient.new_carnet", "POST", lambda w: "/mes-carnets/nouveau",
         {**logged_in(403), **{r: 422 for r in PATIENTS}}, {}),
    Case("portability.import_file", "POST", lambda w: C.format(**w) + "/import", carnet_route(422, OWNERS), {}),
    Case("portability.import_confirm", "POST", lambda w: C.format(**w) + "/import/confirmer",
         carnet_route(303, OWNERS), {"pending": "aucun"}),
    Case("privacy.delete_account", "POST", lambda w: "/compte/supprimer",
         {**logged_in(422), **{r: 403 for r in PROS}}, {"password": "mauvais mot de passe"}),
    Case("carnets.add_dose", "POST", lambda w: C.format(**w) + "/doses", carnet_route(303),
         {"product": "Priorix", "administered_on": "2025-02-12"}),
    Case("carnets.edit_dose", "POST", lambda w: C.format(**w) + f"/doses/{w['dose_edit']}/modifier",
         carnet_route(303, ("pro_with_access",)), {"product": "Hexyon", "administered_on": "2024-04-11"}),
    Case("status.set_flags", "POST", lambda w: C.format(**w) + "/situation", carnet_route(303),
         {"flags": ["asplenia"]}),
    Case("alerts.toggle", "POST", lambda w: C.format(**w) + "/alertes", carnet_route(303, ("owner", "co_owner")),
         {"alerts": "on"}),
    Case("validation.validate", "POST", lambda w: C.format(**w) + f"/doses/{w['declared_validate']}/valider",
         carnet_route(303, ("pro_with_access",))),
    Case("validation.reject", "POST", lambda w: C.format(**w) + f"/doses/{w['declared_reject']}/refuser",
         carnet_route(303, ("pro_with_access",)), {"reason": "lot inconnu"}),
    Case("validation.validate_all", "POST", lambda w: C.format(**w) + "/doses/valider-tout",
         carnet_route(303, ("pro_with_access",))),
    # Once a carnet has an owner, only its owners invite another owner (or a professional).
    Case("sharing.invite_by_email", "POST", lambda w: C.format(**w) + "/invitations/email", carnet_route(303, OWNERS),
         {"inv-email": "autre.parent@exemple.fr"}),
    Case("sharing.invite_by_code", "POST", lambda w: C.format(**w) + "/invitations/code", carnet_route(303, OWNERS),
         {"channel": "qr"}),
    Case("sharing.reissue", "POST", lambda w: C.format(**w) + f"/invitations/{w['invitation_reissue']}/renouveler",
         carnet_route(303, OWNERS)),
    Case("sharing.revoke", "POST", lambda w: C.format(**w) + f"/invitations/{w['invitation_revoke']}/revoquer",
         carnet_route(303, OWNERS)),
    Case("auth.confirm_email", "POST", lambda w: "/compte/adresse", every(410)),  # the unknown token above
    Case("auth.login_code", "POST", lambda w: "/connexion/code", every(303), {"code": "123456"}, to="/connexion"),
    Case("auth.send_login_code", "POST", lambda w: "/connexion/code/email", every(303), to="/connexion"),
    Case("auth.passkey_login_options", "POST", lambda w: "/connexion/cle/options", every(200)),
    Case("auth.passkey_login", "POST", lambda w: "/connexion/cle", every(401)),  # no passkey answer
    Case("auth.confirm_identity", "POST", lambda w: CONFIRM, account_page(422), {"password": "mauvais mot de passe"}),
    Case("auth.confirm_identity_passkey_options", "POST", lambda w: CONFIRM + "/cle/options", account_page(200)),
    Case("auth.confirm_identity_passkey", "POST", lambda w: CONFIRM + "/cle", account_page(401)),
    # Method changes ask for the password again first (the log-in itself does not count).
    Case("auth.totp_enrol", "POST", lambda w: "/compte/methodes/application", account_page(303),
         {"code": "123456"}, to=CONFIRM),
    Case("auth.totp_remove", "POST", lambda w: "/compte/methodes/application/retirer", account_page(303), to=CONFIRM),
    Case("auth.email_code_on", "POST", lambda w: "/compte/methodes/email/activer", account_page(303), to=CONFIRM),
    Case("auth.email_code_off", "POST", lambda w: "/compte/methodes/email/retirer", account_page(303), to=CONFIRM),
    Case("auth.passkey_options", "POST", lambda w: "/compte/methodes/cles/options", account_page(303), to=CONFIRM),
    Case("auth.passkey_add", "POST", lambda w: "/compte/methodes/cles", account_page(303), to=CONFIRM),
    Case("auth.recovery_codes_new", "POST", lambda w: "/compte/methodes/codes-de-secours", account_page(303),
         to=CONFIRM),
    Case("auth.passkey_remove", "POST", lambda w: f"/compte/methodes/cles/{w['passkey']}/retirer",
         own_item(303), to=CONFIRM),
    Case("auth.passkey_rename", "POST", lambda w: f"/compte/methodes/cles/{w['passkey']}/renommer",
         own_item(303), {"name": "Téléphone"}, to="/compte/methodes"),
    Case("auth.resend_confirmation", "POST", lambda w: "/compte/adresse/renvoyer", account_page(303), to="/compte"),
    Case("admin.verify", "POST", lambda w: f"/admin/professionnels/{w['candidate']}/verifier", admin_only(303)),
    Case("admin.resend_mail", "POST", lambda w: f"/admin/e-mails-en-echec/{w['failed']}/renvoyer", admin_only(303)),
    # Last: what ends something.
    Case("alerts.unsubscribe", "POST", lambda w: f"/alertes/desabonnement/{w['unsubscribe']}", every(200),
         {"List-Unsubscribe": "One-Click"}),
    Case("carnets.delete_dose", "POST", lambda w: C.format(**w) + f"/doses/{w['dose_delete']}/supprimer",
         carnet_route(303, ("pro_with_access",)), {"reason": "doublon"}),
    Case("archives.end_access", "POST", lambda w: C.format(**w) + f"/acces/{w['access']}/arreter",
         carnet_route(303, ("owner", "co_owner"))),
    Case("auth.end_session", "POST", lambda w: f"/compte/sessions/{w['session']}/terminer", own_item(303),
         to="/compte/sessions"),
    Case("auth.forget_device", "POST", lambda w: f"/compte/appareils/{w['device']}/oublier", own_item(303),
         to="/compte/sessions"),
    Case("auth.end_other_sessions", "POST", lambda w: "/compte/sessions/terminer-autres", account_page(303),
         to="/compte/sessions"),  # after the two above: it would end the owner's other sessions first
    Case("auth.logout", "POST", lambda w: "/deconnexion", every(303)),
]


def test_every_route_has_an_entry_for_every_kind_of_user(app):
    covered = {(case.endpoint, case.method) for case in CASES}
    missing = sorted((rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules()
                     for method in rule.methods - {"HEAD", "OPTIONS"}
                     if (rule.endpoint, method) not in covered)
    assert missing == [], f"routes without a row in the access matrix: {missing}"
    incomplete = [(case.endpoint, case.method, sorted(set(ROLES) - set(case.expected)))
                  for case in CASES if set(case.expected) != set(ROLES)]
    assert incomplete == []
    known = {(rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods}
    assert covered <= known, covered - known  # no row for a route that is gone


@pytest.fixture
def world(app, create_professional, create_patient, create_admin, create_carnet):
    """One carnet seen by the nine kinds of user, with something for every route to act on."""
    pro = create_professional(first_name="Claire")
    carnet = create_carnet(pro, birth_date=BIRTH)
    D = carnets.DoseInput
    dose_edit = carnets.record_dose(pro, carnet, D("Hexyon", [], date(2024, 4, 10)))
    dose_delete = carnets.record_dose(pro, carnet, D("Hexyon", [], date(2024, 6, 10)))
    owner, co_owner = create_patient(first_name="Owner"), create_patient(first_name="Co")
    # The professional hands the carnet over; from then on its owner invites the other parent.
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  co_owner, BIRTH, True)
    declared = [carnets.record_dose(owner, carnet, D("Priorix", [], date(2025, 2, day))) for day in (10, 11, 12)]
    ended = create_professional(first_name="Ended")
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  ended, BIRTH, True)
    archive = archives.end_access(owner, carnet, db.session.scalar(
        select(Access).where(Access.professional_id == ended.id)))
    gone = create_professional(first_name="Gone")  # an open access for the owners to end
    sharing.claim(sharing.create_invitation(owner, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  gone, BIRTH, True)
    reissue = sharing.create_invitation(owner, carnet, InvitationTarget.HOLDER, InvitationChannel.LINK)[0]
    revoke = sharing.create_invitation(owner, carnet, InvitationTarget.HOLDER, InvitationChannel.LINK)[0]
    # The owner's passkey, and two more sessions (one on a remembered device), for the account routes.
    # With the app enrolled too, the owner's log-in goes through the app's code, as the tests' helper types it.
    enrol_totp(owner, TOTP_SECRET, 0)
    passkey = Passkey(user_id=owner.id, credential_id="cle-du-titulaire", public_key=b"k", sign_count=0,
                      name="Clé du titulaire", transports="")
    db.session.add(passkey)
    db.session.commit()
    for remember in (True, False):
        assert log_in(app.test_client(), owner, data={"remember": "y"} if remember else {}).status_code in (302, 303)
    device = db.session.scalar(select(RememberedDevice).where(RememberedDevice.user_id == owner.id))
    session_alone = db.session.scalar(select(WebSession.id).where(WebSession.user_id == owner.id,
                                                                  WebSession.device_id.is_(None)))
    alerts.subscribe(owner, carnet, True)
    failed = queue_mail("perdu@exemple.fr", "Un e-mail en échec", "password_changed",
                        user=type("U", (), {"first_name": "X"})())
    failed.status = OutboxStatus.FAILED
    db.session.commit()
    users = {"owner": owner, "co_owner": co_owner, "other_patient": create_patient(), "pro_with_access": pro,
             "pro_access_ended": ended, "pro_without_access": create_professional(),
             "unverified": create_professional(verified=False), "admin": create_admin()}
    return {
        "users": users, "carnet": carnet.public_id, "dose_edit": dose_edit.id, "dose_delete": dose_delete.id,
        "declared_validate": declared[0].id, "declared_reject": declared[1].id, "archive": archive.id,
        "access": db.session.scalar(select(Access.id).where(Access.professional_id == gone.id)),
        "invitation_reissue": reissue.id, "invitation_revoke": revoke.id,
        "candidate": create_professional(verified=False).id, "failed": failed.id,
        "message": db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id)),
        "unsubscribe": alerts.unsubscribe_token(carnet.id, owner.id),
        "passkey": passkey.id, "session": session_alone, "device": device.id,
    }


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, auth, clock, world, role):
    if role != "anonymous":
        assert auth.login(world["users"][role]).status_code in (302, 303)
        clock.advance(minutes=6)  # past the identity confirmation the log-in itself gives (5 minutes)
    wrong = []
    for case in CASES:
        data = case.data(world) if callable(case.data) else case.data
        response = client.open(case.url(world), method=case.method, data=data)
        status = response.status_code
        if status != case.expected[role]:
            wrong.append((case.method, case.endpoint, f"got {status}", f"expected {case.expected[role]}"))
        elif case.to and status == 303 and not urlsplit(response.location).path.startswith(case.to):
            wrong.append((case.method, case.endpoint, f"led to {response.location}", f"expected {case.to}"))
    assert wrong == []
