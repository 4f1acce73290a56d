"""The access policy's edges, beyond the route matrices: ended grants, roles, the carnet in question."""
from datetime import date

from cvn import access
from cvn.extensions import db
from cvn.models import Access, Ownership

BIRTH = date(2024, 2, 10)


def test_an_ended_ownership_gives_nothing(app, create_patient, create_carnet, clock):
    carnet, patient = create_carnet(), create_patient()
    db.session.add(Ownership(carnet_id=carnet.id, user_id=patient.id, ended_at=clock()))
    db.session.commit()
    assert not access.is_owner(patient, carnet) and not access.can_read(patient, carnet)


def test_an_ended_access_gives_nothing(app, create_professional, create_carnet, clock):
    pro, carnet = create_professional(), create_carnet()
    db.session.add(Access(carnet_id=carnet.id, professional_id=pro.id, ended_at=clock()))
    db.session.commit()
    assert access.open_access(pro, carnet) is None and not access.can_read(pro, carnet)


def test_grants_are_about_this_carnet_only(app, create_professional, create_patient, create_carnet):
    pro, patient = create_professional(), create_patient()
    mine, other = create_carnet(pro), create_carnet()
    db.session.add(Ownership(carnet_id=mine.id, user_id=patient.id))
    db.session.commit()
    assert access.can_read(pro, mine) and not access.can_read(pro, other)
    assert access.is_owner(patient, mine) and not access.is_owner(patient, other)
    assert not access.can_record(patient, other) and not access.can_write(pro, other)


def test_only_patient_accounts_own_and_only_verified_professionals_work(app, create_professional,
                                                                        create_carnet):
    """A grant row left on an account of the other kind (or unverified) opens nothing."""
    pro, unverified = create_professional(), create_professional(verified=False)
    carnet = create_carnet()
    db.session.add_all([Ownership(carnet_id=carnet.id, user_id=pro.id),
                        Access(carnet_id=carnet.id, professional_id=unverified.id)])
    db.session.commit()
    assert not access.is_owner(pro, carnet) and not access.can_read(pro, carnet)
    assert access.open_access(unverified, carnet) is None and not access.can_read(unverified, carnet)
