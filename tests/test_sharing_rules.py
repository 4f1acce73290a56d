"""The claim and invitation rules one by one, at the service level (fast).

Who may invite whom, what an invitation holds, when it can be revoked or
re-issued, which account may claim it, and everything a claim changes (or not).
Written against the mutants mutmut left alive in ``cvn/sharing/services.py``.
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cvn.extensions import db
from cvn.models import (Access, AuditEvent, Invitation, InvitationChannel, InvitationTarget, OutboxMessage,
                        Ownership)
from cvn.sharing import services
from cvn.sharing.states import NOT_SHARED, sharing_states
from cvn.tokens import hash_token

BIRTH = date(2024, 2, 10)
HOLDER, PROFESSIONAL = InvitationTarget.HOLDER, InvitationTarget.PROFESSIONAL
LINK, QR, EMAIL = InvitationChannel.LINK, InvitationChannel.QR, InvitationChannel.EMAIL


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def actions(carnet) -> list[tuple[str, dict]]:
    """Return the carnet's audit events, oldest first, as (action, detail)."""
    return [(e.action, e.detail or {}) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.carnet_id == carnet.id).order_by(AuditEvent.id))]


@pytest.fixture
def pro(create_professional):
    return create_professional(first_name="Claire", last_name="Martin")


@pytest.fixture
def carnet(create_carnet, pro):
    return create_carnet(pro, birth_date=BIRTH)


@pytest.fixture
def owner(carnet, pro, create_patient):
    """The carnet's first owner, by a hand-over claimed normally."""
    mother = create_patient(first_name="Anne")
    invitation, _raw = services.create_invitation(pro, carnet, HOLDER, QR)
    services.claim(invitation, mother, BIRTH, True)
    return mother


# --- Who may invite ---------------------------------------------------------------------

def test_who_may_invite_whom(carnet, pro, create_patient, create_professional):
    stranger, outsider = create_patient(), create_professional()
    assert services.may_invite(pro, carnet, HOLDER), "the professional hands an unowned carnet over"
    assert not services.may_invite(pro, carnet, PROFESSIONAL), "only owners bring in professionals"
    assert not services.may_invite(outsider, carnet, HOLDER) and not services.may_invite(stranger, carnet, HOLDER)
    mother = create_patient()
    services.claim(services.create_invitation(pro, carnet, HOLDER, QR)[0], mother, BIRTH, True)
    assert services.has_owner(carnet)
    assert not services.may_invite(pro, carnet, HOLDER), "once owned, the owners decide"
    assert services.may_invite(mother, carnet, HOLDER) and services.may_invite(mother, carnet, PROFESSIONAL)
    assert not services.may_invite(stranger, carnet, PROFESSIONAL)
    with pytest.raises(services.NotAllowed):
        services.create_invitation(pro, carnet, HOLDER, LINK)
    assert count(Invitation) == 1


def test_an_ended_ownership_does_not_count_as_an_owner(carnet, pro, owner, clock):
    db.session.scalar(select(Ownership).where(Ownership.user_id == owner.id)).ended_at = clock()
    db.session.commit()
    assert not services.has_owner(carnet) and services.may_invite(pro, carnet, HOLDER)


# --- What an invitation holds -----------------------------------------------------------

def test_an_invitation_by_link_holds_only_the_token_digest_and_lasts_30_days(carnet, pro, clock):
    invitation, raw = services.create_invitation(pro, carnet, HOLDER, LINK, "  ")
    assert invitation.token_hash == hash_token(raw) and raw not in invitation.token_hash
    assert invitation.created_at == clock() and invitation.expires_at == clock() + timedelta(days=30)
    assert (invitation.created_by_id, invitation.carnet_id) == (pro.id, carnet.id)
    assert invitation.email is None and invitation.failed_attempts == 0
    assert (invitation.target, invitation.channel) == (HOLDER, LINK)
    assert count(OutboxMessage) == 0, "only the e-mail channel sends a message"
    assert actions(carnet)[-1] == ("invitation.create", {"invitation": invitation.id, "target": "holder",
                                                         "channel": "link"})
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invitation.create"))
    assert created.actor_id == pro.id
    assert services.create_invitation(pro, carnet, HOLDER, QR)[0].email is None, "no address, none stored"
    assert services.link_for(raw) == f"http://cvn.test/i/{raw}"
    assert services.find(raw).id == invitation.id


def test_e_mailed_invitations_say_who_sends_what(carnet, pro, owner):
    holder, _ = services.create_invitation(owner, carnet, HOLDER, EMAIL, " Pere@Exemple.FR ")
    shared, raw = services.create_invitation(owner, carnet, PROFESSIONAL, EMAIL, "docteur@exemple.fr")
    assert holder.email == "pere@exemple.fr"
    first, second = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert (first.recipient, second.recipient) == ("pere@exemple.fr", "docteur@exemple.fr")
    assert first.subject == f"{owner.display_name} vous confie un carnet de vaccination"
    assert second.subject == f"{owner.display_name} partage un carnet de vaccination avec vous"
    assert services.link_for(raw) in second.body_text
    # each its own letter: the holder is told what owning a carnet means, the professional where it goes
    assert "vous confie votre carnet de vaccination numérique" in first.body_text
    assert "patientèle" not in first.body_text
    assert "ajouter ce carnet à votre patientèle" in second.body_text and "vous confie" not in second.body_text
    assert actions(carnet)[-1] == ("invitation.create", {"invitation": shared.id, "target": "professional",
                                                         "channel": "email"})


def test_find_knows_only_real_tokens(carnet, pro):
    invitation, raw = services.create_invitation(pro, carnet, HOLDER, QR)
    assert services.find(raw) is invitation
    assert services.find("") is None and services.find(None) is None and services.find(raw[:-1]) is None
    assert services.find(raw + "x" * 100) is None


def test_an_invitation_is_found_only_through_its_own_carnet(carnet, pro, create_carnet):
    invitation, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    other = create_carnet(pro, last_name="Autre")
    assert services.get_for_carnet(carnet, invitation.id) is invitation
    assert services.get_for_carnet(other, invitation.id) is None
    assert services.get_for_carnet(carnet, invitation.id + 1000) is None


# --- Revoking and re-issuing ------------------------------------------------------------

def test_revoking_stops_pending_and_locked_links_only(carnet, pro, clock, create_patient):
    pending, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    locked, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    expired, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    locked.locked_at = clock()
    expired.expires_at = clock() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(services.NotAllowed):
        services.revoke(create_patient(), pending)
    assert pending.revoked_at is None
    clock.advance(minutes=5)
    for invitation in (pending, locked, expired):
        services.revoke(pro, invitation)
    assert pending.revoked_at == clock() and locked.revoked_at == clock()
    assert expired.revoked_at is None, "an expired link is left as it is"
    assert [a for a in actions(carnet) if a[0] == "invitation.revoke"] == [
        ("invitation.revoke", {"invitation": pending.id}), ("invitation.revoke", {"invitation": locked.id})]


def test_reissuing_replaces_the_link_on_the_same_channel(carnet, pro, owner, clock, create_patient):
    old, old_raw = services.create_invitation(owner, carnet, PROFESSIONAL, EMAIL, "docteur@exemple.fr")
    with pytest.raises(services.NotAllowed):
        services.reissue(pro, old)
    clock.advance(minutes=1)
    new, raw = services.reissue(owner, old)
    assert old.revoked_at == clock() and new.id != old.id and raw != old_raw
    assert (new.target, new.channel, new.email, new.created_by_id) == (PROFESSIONAL, EMAIL, "docteur@exemple.fr",
                                                                       owner.id)
    assert new.state(clock()).value == "pending"
    assert count(OutboxMessage, OutboxMessage.recipient == "docteur@exemple.fr") == 2


def test_reissuing_a_used_link_leaves_it_used(carnet, pro, owner, create_professional):
    doctor = create_professional()
    used, _ = services.create_invitation(owner, carnet, PROFESSIONAL, LINK)
    services.claim(used, doctor, BIRTH, True)
    new, _ = services.reissue(owner, used)
    assert used.revoked_at is None and used.used_by_id == doctor.id and new.channel == LINK


def test_reissuing_past_the_e_mail_limit_changes_nothing(carnet, pro, owner, clock):
    first, _ = services.create_invitation(owner, carnet, PROFESSIONAL, EMAIL, "docteur@exemple.fr")
    for n in range(services.PER_RECIPIENT - 1):
        services.create_invitation(owner, carnet, PROFESSIONAL, EMAIL, "docteur@exemple.fr")
    with pytest.raises(services.TooManyInvitations):
        services.reissue(owner, first)
    assert first.revoked_at is None, "checked before anything changes"
    db.session.rollback()
    assert count(Invitation, Invitation.email == "docteur@exemple.fr") == 5


# --- Who may claim ----------------------------------------------------------------------

def test_which_account_may_claim_which_invitation(carnet, pro, owner, create_patient, create_professional):
    holder, _ = services.create_invitation(owner, carnet, HOLDER, QR)
    shared, _ = services.create_invitation(owner, carnet, PROFESSIONAL, QR)
    patient, doctor, unverified = create_patient(), create_professional(), create_professional(verified=False)
    assert services.check_account(holder, patient) is None
    assert services.check_account(holder, doctor) == "professional_for_holder"
    assert services.check_account(shared, doctor) is None
    assert services.check_account(shared, patient) == "patient_for_professional"
    assert services.check_account(shared, unverified) == "unverified"
    for invitation, account, kind in ((holder, doctor, "professional_for_holder"),
                                      (shared, patient, "patient_for_professional"), (shared, unverified, "unverified")):
        with pytest.raises(services.ClaimError) as refused:
            services.claim(invitation, account, BIRTH, True)
        assert refused.value.kind == kind and refused.value.invitation is invitation
    assert holder.used_at is None and shared.used_at is None and holder.failed_attempts == 0


@pytest.mark.parametrize("state", ["used", "revoked", "locked", "expired"])
def test_only_a_pending_invitation_can_be_claimed(carnet, pro, clock, create_patient, state):
    invitation, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    if state == "expired":
        clock.advance(days=30)
    else:
        setattr(invitation, f"{state}_at", clock())
        db.session.commit()
    with pytest.raises(services.ClaimError) as refused:
        services.claim(invitation, create_patient(), BIRTH, True)
    assert refused.value.kind == state and refused.value.invitation is invitation
    assert count(Ownership) == 0


def test_a_claim_needs_the_attestation(carnet, pro, create_patient):
    invitation, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    with pytest.raises(services.ClaimError) as refused:
        services.claim(invitation, create_patient(), BIRTH, False)
    assert refused.value.kind == "not_attested" and refused.value.invitation is invitation
    assert invitation.used_at is None and count(Ownership) == 0


# --- Wrong birth dates ------------------------------------------------------------------

def test_each_wrong_birth_date_counts_and_the_fifth_locks(carnet, pro, clock, create_patient):
    invitation, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    patient = create_patient()
    for n in range(1, 5):
        with pytest.raises(services.WrongBirthDate) as wrong:
            services.claim(invitation, patient, BIRTH + timedelta(days=1), True)
        assert wrong.value.kind == "wrong_birth_date" and wrong.value.remaining == 5 - n
        assert wrong.value.invitation is invitation
        assert actions(carnet)[-1] == ("claim.wrong_birth_date", {"invitation": invitation.id})
        assert invitation.failed_attempts == n and invitation.locked_at is None
    with pytest.raises(services.ClaimError) as locked:
        services.claim(invitation, patient, BIRTH - timedelta(days=1), True)
    assert type(locked.value) is services.ClaimError and locked.value.kind == "locked"
    assert locked.value.invitation is invitation
    assert invitation.failed_attempts == 5 and invitation.locked_at == clock()
    assert [a for a, _ in actions(carnet)][-6:] == ["claim.wrong_birth_date"] * 5 + ["invitation.locked"]
    assert actions(carnet)[-1][1] == {"invitation": invitation.id}
    attempts = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ["claim.wrong_birth_date", "invitation.locked"]))).all()
    assert len(attempts) == 6 and {e.actor_id for e in attempts} == {patient.id}, "each under the account that typed"
    with pytest.raises(services.ClaimError) as still:
        services.claim(invitation, patient, BIRTH, True)
    assert still.value.kind == "locked" and count(Ownership) == 0


# --- What a claim changes ---------------------------------------------------------------

def test_the_first_claim_makes_an_owner_and_revokes_the_other_hand_overs(carnet, pro, clock, create_patient):
    invitation, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    other, _ = services.create_invitation(pro, carnet, HOLDER, LINK)
    expired, _ = services.create_invitation(pro, carnet, HOLDER, LINK)
    expired.expires_at = clock() + timedelta(minutes=1)
    ends_now, _ = services.create_invitation(pro, carnet, HOLDER, LINK)
    ends_now.expires_at = clock() + timedelta(minutes=2)
    db.session.commit()
    revoked_before, _ = services.create_invitation(pro, carnet, HOLDER, LINK)
    services.revoke(pro, revoked_before)
    revoked_on = revoked_before.revoked_at
    clock.advance(minutes=2)
    mother = create_patient()
    assert services.claim(invitation, mother, BIRTH, True) is carnet
    assert (invitation.used_at, invitation.used_by_id) == (clock(), mother.id)
    ownership = db.session.scalar(select(Ownership))
    assert (ownership.carnet_id, ownership.user_id, ownership.since, ownership.invitation_id) == (
        carnet.id, mother.id, clock(), invitation.id)
    assert other.revoked_at == clock() and expired.revoked_at is None and ends_now.revoked_at is None
    assert revoked_before.revoked_at == revoked_on < clock(), "a link revoked before stays as it was"
    claimed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "carnet.claim"))
    assert claimed.actor_id == mother.id
    assert actions(carnet)[-2:] == [("carnet.claim", {"invitation": invitation.id}),
                                    ("invitation.revoke", {"invitation": other.id, "reason": "owner_consent"})]
    assert count(OutboxMessage) == 0, "nobody else to tell"
    revocation = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "invitation.revoke")
                                    .order_by(AuditEvent.id)).all()[-1]
    assert revocation.actor_id == mother.id, "revoked in the first owner's name"


def test_a_second_owner_joins_and_the_first_is_told(carnet, pro, owner, clock, create_patient):
    for_father, _ = services.create_invitation(owner, carnet, HOLDER, QR)
    spare, _ = services.create_invitation(owner, carnet, HOLDER, LINK)
    father = create_patient(first_name="Marc")
    services.claim(for_father, father, BIRTH, True)
    assert count(Ownership, Ownership.carnet_id == carnet.id) == 2
    assert spare.revoked_at is None, "only the first claim revokes the pending hand-overs"
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient == owner.email
    assert message.subject == f"Un autre titulaire a rejoint le carnet d’{carnet.first_names}"  # Éloïse: elided


def test_a_professional_claim_opens_one_access_and_tells_the_confirmed_owners(
        carnet, pro, owner, clock, create_patient, create_professional):
    unconfirmed = create_patient(email_confirmed=False)
    services.claim(services.create_invitation(owner, carnet, HOLDER, QR)[0], unconfirmed, BIRTH, True)
    db.session.query(OutboxMessage).delete()
    doctor = create_professional(first_name="Luc", last_name="Bernard")
    invitation, _ = services.create_invitation(owner, carnet, PROFESSIONAL, QR)
    clock.advance(hours=1)
    services.claim(invitation, doctor, BIRTH, True)
    access = db.session.scalar(select(Access).where(Access.professional_id == doctor.id))
    assert (access.carnet_id, access.granted_at, access.ended_at) == (carnet.id, clock(), None)
    assert actions(carnet)[-1] == ("access.grant", {"invitation": invitation.id})
    grant = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access.grant"))
    assert grant.actor_id == doctor.id
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient == owner.email, "never to an unconfirmed address"
    assert message.subject == f"{doctor.display_name} a désormais accès au carnet d’{carnet.first_names}"  # Éloïse: elided
    assert count(OutboxMessage) == 1
    again, _ = services.create_invitation(owner, carnet, PROFESSIONAL, QR)
    services.claim(again, doctor, BIRTH, True)
    assert count(Access, Access.professional_id == doctor.id) == 1, "one open access, not two"
    assert again.used_by_id == doctor.id


def test_an_owner_claiming_another_hand_over_stays_one_owner(carnet, pro, owner):
    invitation, _ = services.create_invitation(owner, carnet, HOLDER, QR)
    services.claim(invitation, owner, BIRTH, True)
    assert count(Ownership) == 1 and invitation.used_by_id == owner.id


def test_a_hand_over_from_before_the_first_claim_needs_consent(carnet, pro, create_patient):
    early, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    first, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    services.claim(first, create_patient(), BIRTH, True)
    early.revoked_at = None  # even if it had escaped the revocation at the first claim
    db.session.commit()
    with pytest.raises(services.ClaimError) as refused:
        services.claim(early, create_patient(), BIRTH, True)
    assert refused.value.kind == "owner_consent" and refused.value.invitation is early
    assert count(Ownership) == 1


@pytest.mark.parametrize("lost_to", ["used", "revoked", "locked", "expired"])
def test_a_claim_that_loses_the_race_changes_nothing(carnet, pro, clock, create_patient, lost_to):
    """Another request changed the invitation after this claim read it: the conditional update finds nothing."""
    winner, loser = create_patient(), create_patient()
    invitation, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    assert invitation.used_at is None, "this session read it pending"
    table = Invitation.__table__
    change = {"used": {"used_at": clock(), "used_by_id": winner.id}, "revoked": {"revoked_at": clock()},
              "locked": {"locked_at": clock()}, "expired": {"expires_at": clock()}}[lost_to]
    with db.engine.begin() as other_session:
        other_session.execute(table.update().where(table.c.id == invitation.id).values(**change))
    with pytest.raises(services.ClaimError) as lost:
        services.claim(invitation, loser, BIRTH, True)
    assert lost.value.kind == lost_to and lost.value.invitation is invitation
    assert count(Ownership) == 0 and count(AuditEvent, AuditEvent.action == "carnet.claim") == 0


def test_a_hand_over_lost_to_a_claim_that_made_an_owner_says_used_not_consent(carnet, pro, clock, create_patient):
    """The winner's claim committed its ownership too: the loser finds an owner, and is told the link was used.

    (Not "ask the owner's consent": the link was this person's too, and it was used.)
    """
    winner, loser = create_patient(), create_patient()
    invitation, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    assert invitation.used_at is None, "this session read it pending"
    table = Invitation.__table__
    with db.engine.begin() as other_session:
        other_session.execute(table.update().where(table.c.id == invitation.id)
                              .values(used_at=clock(), used_by_id=winner.id))
        other_session.execute(Ownership.__table__.insert().values(carnet_id=carnet.id, user_id=winner.id,
                                                                  since=clock()))
    with pytest.raises(services.ClaimError) as lost:
        services.claim(invitation, loser, BIRTH, True)
    assert lost.value.kind == "used" and lost.value.invitation is invitation
    assert count(Ownership) == 1 and count(Ownership, Ownership.user_id == loser.id) == 0


def test_the_same_account_claiming_through_two_links_at_once_gets_one_ownership(carnet, pro, owner, monkeypatch,
                                                                                create_patient):
    """The other link's claim committed between this claim's owner check and its commit: the unique index says no."""
    father = create_patient(first_name="Marc")
    first, _ = services.create_invitation(owner, carnet, HOLDER, QR)
    second, _ = services.create_invitation(owner, carnet, HOLDER, LINK)
    services.claim(first, father, BIRTH, True)
    real = services.is_owner
    monkeypatch.setattr(services, "is_owner", lambda user, c: False if user.id == father.id else real(user, c))
    with pytest.raises(services.ClaimError) as refused:
        services.claim(second, father, BIRTH, True)
    assert refused.value.kind == "used" and refused.value.invitation is second
    db.session.refresh(second)
    assert second.used_at is None and count(Ownership, Ownership.user_id == father.id) == 1


# --- E-mail limits --------------------------------------------------------------------------

def test_one_account_sends_at_most_20_e_mailed_invitations_an_hour(carnet, pro, owner, clock):
    services.create_invitation(owner, carnet, PROFESSIONAL, QR)  # other channels do not count
    for n in range(services.PER_SENDER):
        services.create_invitation(owner, carnet, PROFESSIONAL, EMAIL, f"docteur{n}@exemple.fr")
        if n == 0:
            clock.advance(minutes=1)
    with pytest.raises(services.TooManyInvitations) as refused:
        services.create_invitation(owner, carnet, PROFESSIONAL, EMAIL, "encore@exemple.fr")
    assert refused.value.message == (
        "Vous avez envoyé 20 invitations par e-mail en une heure : c’est le maximum. "
        "Réessayez un peu plus tard, ou partagez par QR code ou par lien à copier.")
    clock.advance(minutes=59)  # the first is now exactly an hour old: it no longer counts
    services.create_invitation(owner, carnet, PROFESSIONAL, EMAIL, "encore@exemple.fr")


def test_one_address_receives_at_most_5_invitations_a_day_whoever_sends_them(carnet, pro, owner, clock,
                                                                             create_patient):
    other = create_patient()
    services.create_invitation(owner, carnet, PROFESSIONAL, LINK, "docteur@exemple.fr")  # not e-mailed
    for n in range(services.PER_RECIPIENT):
        services.create_invitation(owner, carnet, PROFESSIONAL, EMAIL, "docteur@exemple.fr")
        if n == 0:
            clock.advance(hours=1)
    with pytest.raises(services.TooManyInvitations) as refused:
        services.check_email_limits(other, " Docteur@Exemple.fr ")
    assert refused.value.message == (
        "Cette adresse a déjà reçu 5 invitations aujourd’hui : c’est le maximum. "
        "Réessayez demain, ou partagez par QR code ou par lien à copier.")
    with pytest.raises(services.TooManyInvitations):
        services.create_invitation(owner, carnet, PROFESSIONAL, EMAIL, "Docteur@exemple.fr")
    clock.advance(hours=23)  # the first is a day old
    services.check_email_limits(other, "docteur@exemple.fr")


def test_the_sender_limit_counts_this_account_s_invitations_only(carnet, pro, owner, create_patient):
    other_parent = create_patient()
    services.claim(services.create_invitation(owner, carnet, HOLDER, QR)[0], other_parent, BIRTH, True)
    for n in range(services.PER_SENDER):
        services.create_invitation(other_parent, carnet, PROFESSIONAL, EMAIL, f"docteur{n}@exemple.fr")
    services.check_email_limits(owner, "autre@exemple.fr")  # the other parent's twenty do not count


def test_a_revocation_is_audited_under_its_author(carnet, pro):
    invitation, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    services.revoke(pro, invitation)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invitation.revoke"))
    assert event.actor_id == pro.id and event.carnet_id == carnet.id


# --- What the lists show ------------------------------------------------------------------

def test_owned_carnets_are_the_open_ownerships_youngest_first(pro, create_carnet, create_patient, clock):
    parent, other = create_patient(), create_patient()
    twin_a = create_carnet(pro, first_names="Alix", birth_date=date(2023, 5, 1))
    twin_b = create_carnet(pro, first_names="Bea", birth_date=date(2023, 5, 1))
    baby = create_carnet(pro, first_names="Léo", birth_date=date(2025, 1, 1))
    elder = create_carnet(pro, first_names="Zoé", birth_date=date(2019, 1, 1))
    left = create_carnet(pro, first_names="Ancien", birth_date=date(2024, 1, 1))
    not_mine = create_carnet(pro, first_names="Autre", birth_date=date(2024, 6, 1))
    # Ownerships made in another order than the carnets' ids.
    for carnet in (elder, twin_b, baby, twin_a, left):
        db.session.add(Ownership(carnet_id=carnet.id, user_id=parent.id))
    db.session.add(Ownership(carnet_id=not_mine.id, user_id=other.id))
    db.session.commit()
    db.session.scalar(select(Ownership).where(Ownership.carnet_id == left.id)).ended_at = clock()
    db.session.commit()
    assert [c.first_names for c in services.owned_carnets(parent)] == ["Léo", "Alix", "Bea", "Zoé"]


def test_sharing_states_say_owned_pending_until_or_not_shared(pro, clock, create_carnet, create_patient):
    carnets = {name: create_carnet(pro, first_names=name) for name in
               ("owned", "pending", "later", "revoked", "locked", "ends_now", "left", "bare")}
    services.claim(services.create_invitation(pro, carnets["owned"], HOLDER, QR)[0], create_patient(), BIRTH, True)
    pending, _ = services.create_invitation(pro, carnets["pending"], HOLDER, QR)
    services.create_invitation(pro, carnets["later"], HOLDER, QR)
    clock.advance(days=2)
    later, _ = services.create_invitation(pro, carnets["later"], HOLDER, LINK)  # the latest expiry counts
    for name, column in (("revoked", "revoked_at"), ("locked", "locked_at")):
        invitation, _ = services.create_invitation(pro, carnets[name], HOLDER, QR)
        setattr(invitation, column, clock())
    ends_now, _ = services.create_invitation(pro, carnets["ends_now"], HOLDER, QR)
    ends_now.expires_at = clock() + timedelta(hours=1)
    # The holder claimed, then left: the used hand-over and the owners' invitation to a professional
    # say nothing about the holder any more.
    former = create_patient()
    services.claim(services.create_invitation(pro, carnets["left"], HOLDER, QR)[0], former, BIRTH, True)
    services.create_invitation(former, carnets["left"], PROFESSIONAL, QR)
    db.session.scalar(select(Ownership).where(Ownership.user_id == former.id)).ended_at = clock()
    db.session.commit()
    clock.advance(hours=1)
    states = sharing_states([c.id for c in carnets.values()])
    kinds = {name: states[carnet.id].kind for name, carnet in carnets.items()}
    assert kinds == {"owned": "owned", "pending": "pending", "later": "pending", "revoked": "not_shared",
                     "locked": "not_shared", "ends_now": "not_shared", "left": "not_shared", "bare": "not_shared"}
    assert states[carnets["pending"].id].until == pending.expires_at
    assert states[carnets["pending"].id].until.utcoffset() == timedelta(0), "an aware UTC date, as the column gives"
    assert states[carnets["later"].id].until == later.expires_at and later.expires_at.tzinfo is not None
    assert states[carnets["bare"].id] == NOT_SHARED
    assert sharing_states([]) == {}


def test_the_first_claim_revokes_only_this_carnet_s_hand_overs(pro, clock, create_carnet, create_patient):
    carnet, sibling = create_carnet(pro, birth_date=BIRTH), create_carnet(pro, first_names="Soeur", birth_date=BIRTH)
    # A former owner had invited a professional, then left the carnet.
    former = create_patient()
    services.claim(services.create_invitation(pro, carnet, HOLDER, QR)[0], former, BIRTH, True)
    for_doctor, _ = services.create_invitation(former, carnet, PROFESSIONAL, LINK)
    db.session.scalar(select(Ownership).where(Ownership.user_id == former.id)).ended_at = clock()
    db.session.commit()
    hand_over, _ = services.create_invitation(pro, carnet, HOLDER, QR)
    sibling_hand_over, _ = services.create_invitation(pro, sibling, HOLDER, QR)
    spare, _ = services.create_invitation(pro, carnet, HOLDER, LINK)
    services.claim(hand_over, create_patient(), BIRTH, True)
    assert spare.revoked_at == clock(), "the other hand-over of this carnet"
    assert sibling_hand_over.revoked_at is None, "another carnet's hand-over is not this claim's business"
    assert for_doctor.revoked_at is None, "an invitation to a professional is not a hand-over"


def test_a_carnet_s_invitations_newest_first_by_target(carnet, pro, owner, clock):
    holder_1, _ = services.create_invitation(owner, carnet, HOLDER, QR)
    pro_1, _ = services.create_invitation(owner, carnet, PROFESSIONAL, QR)
    clock.advance(minutes=1)
    pro_2, _ = services.create_invitation(owner, carnet, PROFESSIONAL, LINK)
    pro_3, _ = services.create_invitation(owner, carnet, PROFESSIONAL, LINK)  # same time: the later id first
    first_hand_over = db.session.scalar(select(Invitation).where(Invitation.used_by_id == owner.id))
    assert [i.id for i in services.invitations(carnet, PROFESSIONAL)] == [pro_3.id, pro_2.id, pro_1.id]
    assert [i.id for i in services.invitations(carnet, HOLDER)] == [holder_1.id, first_hand_over.id]
    assert [i.id for i in services.invitations(carnet)] == [pro_3.id, pro_2.id, pro_1.id, holder_1.id,
                                                            first_hand_over.id]


def test_the_notice_to_the_other_owners_says_who_joined_and_where_to_look(pro, clock, create_carnet, create_patient,
                                                                          create_professional):
    carnet = create_carnet(pro, first_names="Léo", birth_date=BIRTH)
    unconfirmed = create_patient(first_name="Ines", email_confirmed=False)
    services.claim(services.create_invitation(pro, carnet, HOLDER, QR)[0], unconfirmed, BIRTH, True)
    mother = create_patient(first_name="Anne")
    services.claim(services.create_invitation(unconfirmed, carnet, HOLDER, QR)[0], mother, BIRTH, True)
    assert count(OutboxMessage) == 0, "the only other owner has no confirmed address"
    doctor = create_professional(first_name="Luc", last_name="Bernard")
    services.claim(services.create_invitation(mother, carnet, PROFESSIONAL, QR)[0], doctor, BIRTH, True)
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient == mother.email and count(OutboxMessage) == 1, "told, though listed after Ines"
    body = message.body_text
    assert body.startswith("Bonjour Anne,")
    assert f"{doctor.display_name} (Médecin) a désormais accès au carnet de vaccination de Léo" in body
    assert f"Qui a accès au carnet : http://cvn.test/carnets/{carnet.public_id}/partage#professionnels" in body, body
    db.session.query(OutboxMessage).delete()
    unconfirmed.email_confirmed_at = clock()
    db.session.commit()
    father = create_patient(first_name="Marc", last_name="Durand")
    services.claim(services.create_invitation(mother, carnet, HOLDER, QR)[0], father, BIRTH, True)
    to_ines = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == unconfirmed.email))
    assert "Marc Durand est désormais titulaire du carnet de vaccination de Léo, comme vous." in to_ines.body_text


def test_owners_are_this_carnet_s_oldest_first_and_only_they_are_told(pro, clock, create_carnet, create_patient,
                                                                       create_professional):
    carnet, other = create_carnet(pro, birth_date=BIRTH), create_carnet(pro, first_names="Autre", birth_date=BIRTH)
    neighbour = create_patient(first_name="Voisine")
    services.claim(services.create_invitation(pro, other, HOLDER, QR)[0], neighbour, BIRTH, True)
    mother = create_patient(first_name="Anne")
    services.claim(services.create_invitation(pro, carnet, HOLDER, QR)[0], mother, BIRTH, True)
    clock.advance(days=1)
    father = create_patient(first_name="Marc")
    services.claim(services.create_invitation(mother, carnet, HOLDER, QR)[0], father, BIRTH, True)
    assert [o.user_id for o in services.owners(carnet)] == [mother.id, father.id]
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    services.claim(services.create_invitation(father, carnet, PROFESSIONAL, QR)[0], create_professional(), BIRTH, True)
    assert sorted(m.recipient for m in db.session.scalars(select(OutboxMessage))) == sorted([mother.email,
                                                                                            father.email])


def test_a_professional_with_access_to_another_carnet_gets_this_one_too(pro, owner, carnet, clock, create_carnet):
    """Access to another carnet (here one they opened) is not access to this one: the claim opens it."""
    create_carnet(pro, last_name="Autre", first_names="Jules")
    invitation, _ = services.create_invitation(owner, carnet, PROFESSIONAL, QR)
    db.session.scalar(select(Access).where(Access.carnet_id == carnet.id)).ended_at = clock()  # the owner had ended it
    db.session.commit()
    services.claim(invitation, pro, BIRTH, True)
    assert count(Access, Access.carnet_id == carnet.id, Access.professional_id == pro.id,
                 Access.ended_at.is_(None)) == 1


def test_owners_are_listed_oldest_first_whatever_the_order_they_were_written_in(carnet, clock, create_patient):
    later, earlier = create_patient(), create_patient()
    now = clock()
    db.session.add(Ownership(carnet_id=carnet.id, user_id=later.id, since=now))
    db.session.add(Ownership(carnet_id=carnet.id, user_id=earlier.id, since=now - timedelta(days=3)))
    db.session.commit()
    assert [o.user_id for o in services.owners(carnet)] == [earlier.id, later.id]
