"""Hand-over: invitations (e-mail, QR, link), the claim, its failures, ownership."""
import io
import re
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from cvn.extensions import db
from cvn.models import (AuditEvent, Invitation, InvitationChannel, InvitationTarget, OutboxMessage, Ownership)
from cvn.sharing import services
from cvn.sharing.qr import qr_png
from cvn.tokens import hash_token
from tests.conftest import PASSWORD, log_in, outbox_links
from tests.html import texts

BIRTH = date(2024, 2, 10)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def pro(create_professional):
    return create_professional(first_name="Claire", last_name="Martin")


@pytest.fixture
def carnet(create_carnet, pro):
    return create_carnet(pro, birth_date=BIRTH)


def invite(pro, carnet, channel=InvitationChannel.LINK, email=None):
    return services.create_invitation(pro, carnet, InvitationTarget.HOLDER, channel, email)


def path_of(raw: str) -> str:
    return f"/i/{raw}"


def claim_as(client, raw, birth="2024-02-10", attest=True):
    client.get(path_of(raw))
    data = {"birth_date": birth}
    if attest:
        data["attest"] = "y"
    return client.post("/invitation", data=data)


def test_email_invitation_goes_through_the_outbox(client, auth, pro, carnet):
    auth.login(pro)
    response = client.post(f"/carnets/{carnet.public_id}/invitations/email", data={"inv-email": "Parent@Exemple.fr"})
    assert response.status_code == 303
    invitation = db.session.scalar(select(Invitation))
    assert invitation.channel == InvitationChannel.EMAIL and invitation.email == "parent@exemple.fr"
    assert (invitation.expires_at - invitation.created_at).days == 30
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient == "parent@exemple.fr"
    assert "Dr Claire Martin" in message.subject and "Dr Claire Martin" in message.body_text
    assert "1er avril 2026" in message.body_text  # 2 March + 30 days
    assert "Durand" not in message.body_text and "2024" not in message.body_text  # no health data
    link = outbox_links(message)[0]
    raw = link.rsplit("/", 1)[1]
    assert link == f"http://cvn.test/i/{raw}" and len(raw) >= 43
    assert invitation.token_hash == hash_token(raw)
    assert message.body_html and link in message.body_html


def test_bad_email_is_refused_in_french(client, auth, pro, carnet):
    auth.login(pro)
    response = client.post(f"/carnets/{carnet.public_id}/invitations/email", data={"inv-email": "pas-une-adresse"})
    assert response.status_code == 422 and "n’est pas valide" in response.get_data(as_text=True)
    assert count(Invitation) == 0 and count(OutboxMessage) == 0


def test_code_invitation_shows_qr_and_link_to_its_issuer_only(app, client, auth, pro, carnet, create_professional):
    auth.login(pro)
    response = client.post(f"/carnets/{carnet.public_id}/invitations/code", data={"channel": "qr"})
    assert response.status_code == 303
    page = client.get(f"/carnets/{carnet.public_id}/partage").get_data(as_text=True)
    link = re.search(r'value="(http://cvn\.test/i/[^"]+)"', page).group(1)
    assert '<svg' in page and 'class="qr"' in page
    assert db.session.scalar(select(Invitation)).token_hash == hash_token(link.rsplit("/", 1)[1])
    # Another session (even the same professional elsewhere) cannot redisplay it.
    other = app.test_client()
    log_in(other, pro)
    assert link not in other.get(f"/carnets/{carnet.public_id}/partage").get_data(as_text=True)


def test_qr_code_encodes_the_link():
    import zxingcpp
    from PIL import Image

    link = "http://cvn.test/i/" + "A" * 43
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(link))))
    assert decoded[0].text == link


def test_link_moves_the_token_out_of_the_url(client, pro, carnet):
    _inv, raw = invite(pro, carnet)
    response = client.get(path_of(raw))
    assert response.status_code == 303 and response.headers["Location"] == "/invitation"
    page = client.get("/invitation")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Dr Claire Martin" in body
    assert raw not in body
    # No health data and not the holder's identity before the birth date is confirmed.
    assert "Durand" not in body and "Éloïse" not in body and "2024" not in body
    assert "Créer un compte" in body and "Se connecter" in body


def test_full_claim_by_a_new_account(client, pro, carnet):
    _inv, raw = invite(pro, carnet)
    client.get(path_of(raw))
    signup = client.post("/inscription/patient?next=/invitation", data={
        "first_name": "Marc", "last_name": "Durand", "email": "marc@exemple.fr", "password": PASSWORD})
    # The claim does not wait for the address's confirmation: "Continuer" leads straight back to it.
    assert signup.status_code == 200 and 'href="/invitation"' in signup.get_data(as_text=True)
    assert "date de naissance du titulaire" in client.get("/invitation").get_data(as_text=True)
    wrong = client.post("/invitation", data={"birth_date": "11/02/2024", "attest": "y"})
    assert wrong.status_code == 422 and "Il vous reste 4 essais" in wrong.get_data(as_text=True)
    done = client.post("/invitation", data={"birth_date": "10/02/2024", "attest": "y"})
    assert done.status_code == 303 and done.headers["Location"] == f"/carnets/{carnet.public_id}"
    ownership = db.session.scalar(select(Ownership))
    assert ownership.carnet_id == carnet.id and ownership.user.email == "marc@exemple.fr"
    assert db.session.scalar(select(Invitation)).used_at is not None
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "claim.wrong_birth_date" in actions and actions[-1] == "carnet.claim"
    page = client.get(f"/carnets/{carnet.public_id}").get_data(as_text=True)
    assert "Éloïse DURAND" in page
    assert "Éloïse DURAND" in client.get("/mes-carnets/").get_data(as_text=True)


def test_attestation_is_required_and_nothing_is_written(client, auth, pro, carnet, create_patient):
    _inv, raw = invite(pro, carnet)
    auth.login(create_patient())
    response = claim_as(client, raw, attest=False)
    assert response.status_code == 422 and "Cochez cette case" in response.get_data(as_text=True)
    assert count(Ownership) == 0 and db.session.scalar(select(Invitation)).used_at is None
    assert db.session.scalar(select(Invitation)).failed_attempts == 0


def test_link_expires_after_30_days(client, auth, clock, pro, carnet, create_patient):
    _inv, raw = invite(pro, carnet)
    auth.login(create_patient())
    clock.advance(days=30, seconds=1)
    client.get(path_of(raw))
    page = client.get("/invitation")
    assert page.status_code == 410 and "Ce lien a expiré" in page.get_data(as_text=True)
    assert "Demandez un nouveau lien à Dr Claire Martin" in page.get_data(as_text=True)
    assert count(Ownership) == 0


def test_expiring_while_on_the_form(client, auth, clock, pro, carnet, create_patient):
    _inv, raw = invite(pro, carnet)
    clock.advance(days=29, hours=23, minutes=59)
    auth.login(create_patient())
    client.get(path_of(raw))
    assert client.get("/invitation").status_code == 200
    clock.advance(minutes=2)  # the link expires; the session (2 hours idle) does not
    response = client.post("/invitation", data={"birth_date": "2024-02-10", "attest": "y"})
    assert response.status_code == 410 and count(Ownership) == 0


def test_a_used_link_cannot_be_reused(app, client, auth, pro, carnet, create_patient):
    _inv, raw = invite(pro, carnet)
    first = create_patient()
    auth.login(first)
    assert claim_as(client, raw).status_code == 303
    assert "Vous l’avez déjà utilisé" in claim_as(client, raw).get_data(as_text=True)
    other = app.test_client()
    log_in(other, create_patient())
    response = claim_as(other, raw)
    assert response.status_code == 410 and "déjà servi" in response.get_data(as_text=True)
    assert count(Ownership) == 1


def test_five_wrong_birth_dates_lock_the_invitation(client, auth, pro, carnet, create_patient):
    invitation, raw = invite(pro, carnet)
    auth.login(create_patient())
    client.get(path_of(raw))
    for remaining in (4, 3, 2, 1):
        response = client.post("/invitation", data={"birth_date": "2020-01-01", "attest": "y"})
        assert f"Il vous reste {remaining} essai{'s' if remaining > 1 else ''}." in response.get_data(as_text=True)
    locked = client.post("/invitation", data={"birth_date": "2020-01-01", "attest": "y"})
    assert locked.status_code == 423 and "verrouillé" in locked.get_data(as_text=True)
    # Even the right date no longer works.
    assert claim_as(client, raw).status_code == 423
    assert count(Ownership) == 0
    # The issuer sees it locked and issues a new one.
    auth.logout()
    auth.login(pro)
    panel = client.get(f"/carnets/{carnet.public_id}/partage").get_data(as_text=True)
    assert "Verrouillée" in panel
    assert client.post(f"/carnets/{carnet.public_id}/invitations/{invitation.id}/renouveler").status_code == 303
    assert count(Invitation) == 2
    fresh = db.session.scalars(select(Invitation).order_by(Invitation.id.desc())).first()
    assert fresh.locked_at is None and fresh.failed_attempts == 0


def test_revoked_link_says_so(client, auth, pro, carnet, create_patient):
    invitation, raw = invite(pro, carnet)
    auth.login(pro)
    assert client.post(f"/carnets/{carnet.public_id}/invitations/{invitation.id}/revoquer").status_code == 303
    auth.logout()
    auth.login(create_patient())
    response = claim_as(client, raw)
    assert response.status_code == 410 and "a été annulé" in response.get_data(as_text=True)
    assert count(Ownership) == 0


def test_unknown_link(client):
    client.get("/i/nimportequoi")
    response = client.get("/invitation")
    assert response.status_code == 404 and "n’est pas reconnu" in response.get_data(as_text=True)


def test_two_parents_the_first_owner_invites_the_second(app, pro, carnet, create_patient):
    mother, father = create_patient(first_name="Mère"), create_patient(first_name="Père")
    first, raw_mother = invite(pro, carnet, InvitationChannel.EMAIL, mother.email)
    _second, raw_father = invite(pro, carnet, InvitationChannel.EMAIL, father.email)
    client = app.test_client()
    log_in(client, mother)
    assert claim_as(client, raw_mother).status_code == 303
    # The professional's other hand-over died with the first claim: the owner decides now.
    other = app.test_client()
    log_in(other, father)
    refused = claim_as(other, raw_father)
    assert refused.status_code == 410 and "Ce lien a été annulé" in refused.get_data(as_text=True)
    assert [o.user_id for o in services.owners(carnet)] == [mother.id]
    _inv, raw = services.create_invitation(mother, carnet, InvitationTarget.HOLDER, InvitationChannel.LINK)
    assert claim_as(other, raw).status_code == 303
    assert {o.user_id for o in services.owners(carnet)} == {mother.id, father.id}
    assert [c.id for c in services.owned_carnets(father)] == [carnet.id]
    notice = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == mother.email,
                                                           OutboxMessage.subject.like("Un autre titulaire%")))
    assert notice is not None and "Père" in notice.body_text


def test_a_professional_cannot_hand_over_an_owned_carnet(client, auth, pro, carnet, create_patient):
    services.claim(invite(pro, carnet)[0], create_patient(), BIRTH, True)
    auth.login(pro)
    before = count(Invitation)
    for channel in ("qr", "link"):
        response = client.post(f"/carnets/{carnet.public_id}/invitations/code", data={"channel": channel})
        assert response.status_code == 404
    response = client.post(f"/carnets/{carnet.public_id}/invitations/email", data={"inv-email": "x@exemple.fr"})
    assert response.status_code == 404
    assert count(Invitation) == before
    with pytest.raises(services.NotAllowed):
        invite(pro, carnet)
    page = client.get(f"/carnets/{carnet.public_id}/partage").get_data(as_text=True)
    assert "lui seul peut inviter un autre titulaire" in page and "QR code pour" not in page


def test_a_hand_over_issued_before_the_first_claim_needs_the_owners_consent(pro, carnet, create_patient):
    stale, _raw = invite(pro, carnet)
    services.claim(invite(pro, carnet)[0], create_patient(), BIRTH, True)
    stale.revoked_at = None  # as if revoking had been missed (a race): the claim still refuses
    db.session.commit()
    with pytest.raises(services.ClaimError) as error:
        services.claim(stale, create_patient(), BIRTH, True)
    assert error.value.kind == "owner_consent" and len(services.owners(carnet)) == 1


def test_professional_account_cannot_claim_a_holder_invitation(client, auth, pro, carnet, create_professional):
    _inv, raw = invite(pro, carnet)
    auth.login(create_professional())
    response = claim_as(client, raw)
    assert response.status_code == 403
    assert "compte professionnel" in response.get_data(as_text=True)
    assert count(Ownership) == 0 and db.session.scalar(select(Invitation)).used_at is None


def test_claims_are_rate_limited(make_app, pro, carnet, create_patient):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    user = create_patient()
    log_in(client, user)
    statuses = []
    for _ in range(3):
        _inv, raw = invite(pro, carnet)
        client.get(path_of(raw))
        for _ in range(4):
            statuses.append(client.post("/invitation", data={"birth_date": "2020-01-01", "attest": "y"}).status_code)
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_concurrent_claims_of_one_token_only_one_wins(make_app, pro, carnet, create_patient):
    invitation, _raw = invite(pro, carnet)
    invitation_id = invitation.id  # read here: the threads must not touch this session
    user_ids = [create_patient().id for _ in range(4)]
    apps = [make_app() for _ in user_ids]
    barrier = threading.Barrier(len(user_ids))
    outcomes = []

    def attempt(app, user_id):
        with app.app_context():
            from cvn.models import Invitation as Inv, User

            inv = db.session.get(Inv, invitation_id)
            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                services.claim(inv, user, BIRTH, True)
                outcomes.append("won")
            except services.ClaimError as error:
                outcomes.append(error.kind)
            except Exception as error:  # e.g. SQLite "database is locked" under contention
                outcomes.append(type(error).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(a, u)) for a, u in zip(apps, user_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("won") == 1, outcomes
    assert set(outcomes) == {"won", "used"}, outcomes  # the losers are told plainly
    db.session.expire_all()
    assert count(Ownership) == 1


def test_sharing_status_in_the_patientele(client, auth, clock, pro, carnet, create_patient):
    auth.login(pro)
    assert "Pas encore confié au patient" in texts(client.get("/pro/"), ".patient-row .badge")
    _inv, raw = invite(pro, carnet)
    page = client.get("/pro/").get_data(as_text=True)
    assert "Invitation en attente jusqu’au 1er avril 2026" in page
    clock.advance(days=31)
    auth.login(pro)  # a month later: the session has long ended
    assert "Pas encore confié au patient" in texts(client.get("/pro/"), ".patient-row .badge")
    clock.advance(days=-31)
    owner_client = client.application.test_client()
    owner = create_patient()
    log_in(owner_client, owner)
    claim_as(owner_client, raw)
    assert "Confié au patient" in client.get("/pro/").get_data(as_text=True)


def test_owner_reads_and_declares_but_does_not_validate(client, auth, pro, carnet, create_patient):
    from cvn.models import Dose, DoseState

    _inv, raw = invite(pro, carnet)
    owner = create_patient()
    auth.login(owner)
    claim_as(client, raw)
    page = client.get(f"/carnets/{carnet.public_id}/doses/nouvelle").get_data(as_text=True)
    assert "Déclarer la dose" in page and "Enregistrer la dose" not in page
    assert client.post(f"/carnets/{carnet.public_id}/doses",
                       data={"product": "Hexyon", "administered_on": "2024-04-10"}).status_code == 303
    dose = db.session.scalar(select(Dose))
    assert dose.state == DoseState.DECLARED and dose.validated_by_id is None
    assert client.post(f"/carnets/{carnet.public_id}/doses/{dose.id}/valider").status_code == 404
    assert client.post(f"/carnets/{carnet.public_id}/invitations/code", data={"channel": "link"}).status_code == 303


# --- Access matrix of the new routes ------------------------------------------

ROLES = ["anonymous", "owner", "other_patient", "unverified", "pro_without_access", "pro_with_access", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_invitation_routes_access_matrix(client, auth, role, pro, carnet, create_patient, create_professional,
                                         create_admin):
    invitation, raw = invite(pro, carnet)
    owner = create_patient()
    services.claim(invite(pro, carnet)[0], owner, BIRTH, True)
    users = {"owner": owner, "other_patient": create_patient(), "unverified": create_professional(verified=False),
             "pro_without_access": create_professional(), "pro_with_access": pro, "admin": create_admin()}
    if role != "anonymous":
        auth.login(users[role])
    c = carnet.public_id
    allowed = role == "owner"  # once owned, only owners invite another owner
    cases = [
        ("POST", f"/carnets/{c}/invitations/email", {"inv-email": "x@exemple.fr"}),
        ("POST", f"/carnets/{c}/invitations/code", {"channel": "qr"}),
        ("POST", f"/carnets/{c}/invitations/{invitation.id}/renouveler", None),
        ("POST", f"/carnets/{c}/invitations/{invitation.id}/revoquer", None),
    ]
    before = count(Invitation)
    for method, url, data in cases:
        status = client.open(url, method=method, data=data).status_code
        expected = 302 if role == "anonymous" else (303 if allowed else 404)
        assert status == expected, (role, url)
    if not allowed:
        assert count(Invitation) == before
