"""The archive rules one by one, at the service level: one canonical text, its digest, who ends what, who reads what.

Written against the mutants mutmut left alive in ``cvn/archives/services.py``.
"""
import hashlib
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cvn.archives import services as archives
from cvn.carnets import services as carnets
from cvn.carnets.services import AccessLost
from cvn.extensions import db
from cvn.models import Access, AuditEvent, InvitationChannel, InvitationTarget
from cvn.sharing import services as sharing
from cvn.validation import services as validation

BIRTH = date(2024, 2, 10)


def test_the_canonical_text_is_one_per_content():
    """Sorted keys, no spaces, accents kept as they are: the same data always hashes the same."""
    text = archives.canonical({"b": 1, "a": ["Éloïse", None]})
    assert text == '{"a":["Éloïse",null],"b":1}'
    assert archives.canonical({"a": ["Éloïse", None], "b": 1}) == text
    assert archives.digest(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert archives.digest("Éloïse") != archives.digest("Eloise") and len(archives.digest("")) == 64


@pytest.fixture
def story(create_professional, create_patient, create_carnet):
    """Dr Alpha opened the carnet and recorded a dose; the mother owns it and declared one; Dr Bravo was invited."""
    alpha = create_professional(first_name="Anne", last_name="Alpha")
    bravo = create_professional(first_name="Bruno", last_name="Bravo")
    carnet = create_carnet(alpha, birth_date=BIRTH)
    mother = create_patient(first_name="Paula", last_name="Mère")
    sharing.claim(sharing.create_invitation(alpha, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  mother, BIRTH, True)
    sharing.claim(sharing.create_invitation(mother, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  bravo, BIRTH, True)
    return {"alpha": alpha, "bravo": bravo, "carnet": carnet, "mother": mother}


def access_of(pro) -> Access:
    return db.session.scalar(select(Access).where(Access.professional_id == pro.id, Access.ended_at.is_(None)))


def test_the_frozen_copy_holds_the_carnet_as_it_was(story, clock):
    alpha, carnet, mother = story["alpha"], story["carnet"], story["mother"]
    validated = carnets.record_dose(alpha, carnet, carnets.DoseInput("Hexyon", [], date(2024, 4, 10), lot_number="L1"))
    declared = carnets.record_dose(mother, carnet, carnets.DoseInput("Priorix", [], date(2025, 2, 12)))
    refused = carnets.record_dose(mother, carnet, carnets.DoseInput("Bexsero", [], date(2024, 6, 10)))
    validation.reject(alpha, carnet, refused, "Aucune trace")
    clock.advance(days=3)
    ended = access_of(alpha)
    archive = archives.end_access(mother, carnet, ended)
    assert archive.access_id == ended.id
    frozen = json.loads(archive.content)
    assert archive.content == archives.canonical(frozen) and archive.sha256 == archives.digest(archive.content)
    assert (archive.carnet_id, archive.professional_id, archive.ended_by_id, archive.frozen_at) == (
        carnet.id, alpha.id, mother.id, clock())
    assert frozen["frozen_at"] == clock().isoformat()
    assert frozen["holder"] == {"last_name": carnet.last_name, "first_names": carnet.first_names,
                                "birth_date": "2024-02-10", "sex": carnet.sex.value}
    by_product = {d["product_name"]: d for d in frozen["doses"]}
    assert set(by_product) == {"Hexyon", "Priorix", "Bexsero"}
    hexyon, priorix, bexsero = by_product["Hexyon"], by_product["Priorix"], by_product["Bexsero"]
    assert hexyon["id"] == validated.id and hexyon["lot_number"] == "L1" and hexyon["state"] == "validated"
    assert hexyon["recorded_by"] == alpha.display_name == hexyon["validated_by"]
    assert hexyon["recorded_at"] == validated.recorded_at.isoformat()
    assert hexyon["validated_at"] == validated.validated_at.isoformat()
    assert priorix["id"] == declared.id and priorix["recorded_by"] == mother.display_name
    assert priorix["validated_by"] is None and priorix["validated_at"] is None and priorix["rejection_reason"] is None
    assert bexsero["state"] == "rejected" and bexsero["rejection_reason"] == "Aucune trace"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.carnet_id == carnet.id)
                              .order_by(AuditEvent.id.desc()))
    assert (event.action, event.actor_id, event.detail) == (
        "access.end", mother.id, {"professional": alpha.id, "professional_name": alpha.display_name})


def test_only_an_owner_ends_an_open_access_of_this_carnet(story, create_patient, create_carnet, clock):
    alpha, bravo, carnet, mother = story["alpha"], story["bravo"], story["carnet"], story["mother"]
    access = access_of(bravo)
    other = create_carnet(alpha, last_name="Autre")
    for who, where in ((create_patient(), carnet), (alpha, carnet), (mother, other)):
        with pytest.raises(AccessLost):
            archives.end_access(who, where, access)
    assert access.ended_at is None
    archives.end_access(mother, carnet, access)
    assert access.ended_at == clock()
    with pytest.raises(AccessLost):
        archives.end_access(mother, carnet, access)
    assert [a.professional_id for a in archives.accesses(carnet)] == [alpha.id]


def test_archives_frozen_at_the_same_instant_come_newest_id_first(story):
    """A tie on the freeze time is broken by the id, on every backend.

    On SQLite the index (professional, frozen_at) read backwards gives that order
    even without the tie-break (mutmut, which runs on SQLite, cannot tell); on
    PostgreSQL twelve ties read in insertion order and fail without it.
    """
    alpha, carnet, mother = story["alpha"], story["carnet"], story["mother"]
    frozen = [archives.end_access(mother, carnet, access_of(alpha))]
    for _ in range(11):
        sharing.claim(sharing.create_invitation(mother, carnet, InvitationTarget.PROFESSIONAL,
                                                InvitationChannel.QR)[0], alpha, BIRTH, True)
        frozen.append(archives.end_access(mother, carnet, access_of(alpha)))
    assert len({a.frozen_at for a in frozen}) == 1
    assert [a.id for a in archives.archives_of(alpha)] == sorted((a.id for a in frozen), reverse=True)


def test_open_accesses_oldest_first(story, clock, create_professional):
    alpha, bravo, carnet, mother = story["alpha"], story["bravo"], story["carnet"], story["mother"]
    clock.advance(days=1)
    carla = create_professional(first_name="Carla")
    sharing.claim(sharing.create_invitation(mother, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  carla, BIRTH, True)
    access_of(alpha).granted_at = access_of(bravo).granted_at + timedelta(hours=1)
    db.session.commit()
    assert [a.professional_id for a in archives.accesses(carnet)] == [bravo.id, alpha.id, carla.id]


def test_a_professional_reads_only_their_own_archives_newest_first(story, clock):
    alpha, bravo, carnet, mother = story["alpha"], story["bravo"], story["carnet"], story["mother"]
    first = archives.end_access(mother, carnet, access_of(alpha))
    for_bravo = archives.end_access(mother, carnet, access_of(bravo))
    sharing.claim(sharing.create_invitation(mother, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  alpha, BIRTH, True)
    same_time = archives.end_access(mother, carnet, access_of(alpha))
    clock.advance(days=1)
    sharing.claim(sharing.create_invitation(mother, carnet, InvitationTarget.PROFESSIONAL, InvitationChannel.QR)[0],
                  alpha, BIRTH, True)
    latest = archives.end_access(mother, carnet, access_of(alpha))
    assert [a.id for a in archives.archives_of(alpha)] == [latest.id, same_time.id, first.id]
    assert [a.id for a in archives.archives_of(bravo)] == [for_bravo.id]

    shown = archives.open_archive(alpha, first.id)
    assert shown.archive is first and shown.intact is True and shown.data == json.loads(first.content)
    assert archives.open_archive(bravo, first.id) is None, "another professional's archive is not theirs"
    assert archives.open_archive(alpha, latest.id + 1000) is None
    table = first.__table__
    db.session.execute(table.update().where(table.c.id == first.id)
                       .values(content=first.content.replace("Durand", "Dupont")))
    db.session.commit()
    tampered = archives.open_archive(alpha, first.id)
    assert tampered.intact is False and tampered.data["holder"]["last_name"] == "Dupont"
