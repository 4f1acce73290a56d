"""The alert job's rules one by one: what is due, when to look again, the job lock, the unique key, who is written to.

Service level and fast. Written against the mutants mutmut left alive in
``cvn/alerts/services.py`` (the concurrency itself is in test_alerts.py).
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cvn.alerts import services as alerts
from cvn.extensions import db
from cvn.models import (AlertSent, AlertSubscription, InvitationChannel, InvitationTarget, JobLock, OutboxMessage,
                        Ownership)
from cvn.schedule.catalogue import disease_label
from cvn.schedule.engine import DoseRecord, Person
from cvn.sharing import services as sharing

BIRTH = date(2025, 12, 20)  # seen on 2 March 2026 (the test clock): the 2-month doses are due
DAY = date(2026, 3, 2)
TWO_MONTHS = {"diphtheria", "tetanus", "pertussis", "polio", "hib", "hepatitis_b", "pneumococcus", "rotavirus"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- What is due, and when to look again (pure) -------------------------------------------

def test_due_items_are_what_is_due_and_the_next_look_is_the_next_due_date_minus_14_days():
    """Calendrier des vaccinations 2025: 2-month doses due on 20 Feb 2026; MenB dose 1 at 3 months (20 March)."""
    baby = Person(BIRTH, "F", frozenset())
    items, next_check = alerts.due_items(baby, [], DAY)
    assert {r.disease for r in items} == TWO_MONTHS
    assert next_check == date(2026, 3, 6), "MenB on 20 March, announced 14 days ahead"
    items, next_check = alerts.due_items(baby, [], date(2026, 3, 5))
    assert "meningococcus_b" not in {r.disease for r in items} and next_check == date(2026, 3, 6)
    items, _ = alerts.due_items(baby, [], date(2026, 3, 6))
    assert "meningococcus_b" in {r.disease for r in items}, "announced on the day it is 14 days away"
    _, next_check = alerts.due_items(baby, [], DAY, recheck=date(2026, 3, 4))
    assert next_check == date(2026, 3, 4), "a weekly re-check earlier than any due date wins"


def test_without_a_due_date_ahead_the_next_look_is_a_week_later():
    adult = Person(date(1990, 1, 1), "M", frozenset())
    items, next_check = alerts.due_items(adult, [], DAY)
    assert next_check == DAY + timedelta(days=7)
    assert all(r.status != "not_recommended" for r in items)


def test_weekly_rechecks_fall_on_each_carnet_s_own_weekday_within_the_week():
    days = [alerts.weekly_recheck(cid, DAY) for cid in range(1, 8)]
    assert sorted(days) == [DAY + timedelta(days=n) for n in range(1, 8)], "seven carnets, seven days"
    for cid in (3, 10, 1234):
        day = alerts.weekly_recheck(cid, DAY)
        assert DAY < day <= DAY + timedelta(days=7) and (day.toordinal() - cid) % 7 == 0
        assert alerts.weekly_recheck(cid, day) == day + timedelta(days=7), "on its day: a week later, not today"


# --- The job lock -------------------------------------------------------------------------

def test_the_job_lock_is_held_for_its_lease_only(app, clock):
    assert alerts.acquire("job-a")
    assert not alerts.acquire("job-a"), "held"
    assert alerts.acquire("job-b"), "locks are per name"
    lock = db.session.get(JobLock, "job-a")
    assert lock.locked_until == clock() + timedelta(minutes=30)
    clock.advance(minutes=30)
    assert not alerts.acquire("job-a"), "until the end of the lease"
    clock.advance(seconds=1)
    assert alerts.acquire("job-a", minutes=5)
    db.session.refresh(lock)
    assert lock.locked_until == clock() + timedelta(minutes=5)


def test_releasing_frees_one_lock_and_records_the_day_run(app, clock):
    assert alerts.acquire("job-a") and alerts.acquire("job-b")
    alerts.release("job-a", ran_on=DAY)
    lock_a, lock_b = db.session.get(JobLock, "job-a"), db.session.get(JobLock, "job-b")
    db.session.refresh(lock_a)
    db.session.refresh(lock_b)
    assert lock_a.locked_until is None and lock_a.last_run_on == DAY
    assert lock_b.locked_until is not None and lock_b.last_run_on is None
    assert not alerts.acquire("job-a", not_ran_on=DAY), "that day's run is done"
    assert alerts.acquire("job-a", not_ran_on=DAY + timedelta(days=1))
    alerts.release("job-a")
    db.session.refresh(lock_a)
    assert lock_a.locked_until is None and lock_a.last_run_on == DAY, "a release without a run keeps the day"
    assert alerts.acquire("job-a"), "without a day, only the lease matters"


# --- The unique key -----------------------------------------------------------------------

def test_an_announcement_key_is_inserted_once(app, clock, create_carnet):
    carnet, other = create_carnet(), create_carnet(last_name="Autre")
    first = {(carnet.id, "measles", "Dose 1/2", date(2026, 12, 20)), (other.id, "hib", "", date(2026, 2, 20))}
    assert alerts._insert_new(set()) == []
    assert set(alerts._insert_new(first)) == first
    again = {(carnet.id, "measles", "Dose 1/2", date(2026, 12, 20)), (carnet.id, "mumps", "Dose 1/2", date(2026, 12, 20))}
    assert alerts._insert_new(again) == [(carnet.id, "mumps", "Dose 1/2", date(2026, 12, 20))]
    db.session.commit()
    assert alerts._known_keys([carnet.id]) == again
    assert alerts._known_keys([other.id]) == {(other.id, "hib", "", date(2026, 2, 20))}
    assert {row.sent_at for row in db.session.scalars(select(AlertSent))} == {clock()}


def test_the_alert_pass_reads_each_carnet_as_its_page_does(app, create_professional, create_patient, create_carnet):
    """Holder (sex, flags, pregnancy term) and doses (declared, not rejected, not deleted, with products) of one id range."""
    from cvn.carnets import services as carnets
    from cvn.models import Sex
    from cvn.status.services import person_of
    from cvn.validation import services as validation

    pro = create_professional()
    mother = create_carnet(pro, first_names="Inès", birth_date=date(1995, 4, 1))
    son = create_carnet(pro, first_names="Léo", birth_date=date(2025, 6, 1), sex=Sex.MALE)
    skipped = create_carnet(pro, first_names="Zoé")
    beyond = create_carnet(pro, first_names="Yanis")
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, mother, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, date(1995, 4, 1), True)
    mother.flags, mother.pregnancy_due_on = ["pregnant", "asplenia"], date(2026, 6, 1)
    son.flags, son.pregnancy_due_on = [], date(2026, 6, 1)  # a stale term without the flag is not read
    db.session.commit()
    carnets.record_dose(pro, mother, carnets.DoseInput("Repevax", [], date(2020, 5, 4)))
    carnets.record_dose(owner, mother, carnets.DoseInput("Priorix", [], date(1996, 4, 10)))  # declared
    refused = carnets.record_dose(owner, mother, carnets.DoseInput("Stamaril", [], date(2019, 1, 5)))
    validation.reject(pro, mother, refused, "Pas de trace")
    gone = carnets.record_dose(pro, mother, carnets.DoseInput("Havrix", [], date(2018, 3, 3)))
    carnets.delete_dose(pro, mother, gone, "Doublon")
    carnets.record_dose(pro, son, carnets.DoseInput("Hexyon", [], date(2025, 8, 1)))
    carnets.record_dose(pro, son, carnets.DoseInput("Rotarix", [], date(2025, 8, 1)))
    for other in (skipped, beyond):
        carnets.record_dose(pro, other, carnets.DoseInput("Hexyon", [], date(2024, 4, 10)))

    people, records = alerts._people_and_records(mother.id, skipped.id, {mother.id, son.id, beyond.id})
    assert people == {mother.id: person_of(mother), son.id: person_of(son)}
    assert people[mother.id].sex == "F" and people[son.id].sex == "M"
    assert people[mother.id].pregnancy_due == date(2026, 6, 1) and people[son.id].pregnancy_due is None
    assert people[mother.id].flags == frozenset({"pregnant", "asplenia"})
    def key(r):
        return (r.date, r.product)

    page = {c.id: sorted((DoseRecord(d.administered_on, tuple(d.diseases), d.product_code,
                                     d.state.value == "validated")
                          for d in carnets.live_doses(c) if d.state.value != "rejected"), key=key)
            for c in (mother, son)}
    assert {cid: sorted(rs, key=key) for cid, rs in records.items()} == page
    assert [(r.product, r.validated) for r in sorted(records[mother.id], key=key)] == \
        [("priorix", False), ("repevax", True)]
    assert {r.product for r in records[son.id]} == {"hexyon", "rotarix"}


# --- The daily run ------------------------------------------------------------------------

@pytest.fixture
def family(create_professional, create_patient, create_carnet):
    """Léo's carnet owned by both parents, both subscribed."""
    pro = create_professional()
    carnet = create_carnet(pro, first_names="Léo", birth_date=BIRTH)
    mother = create_patient(first_name="Paula", email="paula@exemple.fr")
    father = create_patient(first_name="Marc", email="marc@exemple.fr")
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  mother, BIRTH, True)
    sharing.claim(sharing.create_invitation(mother, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  father, BIRTH, True)
    for parent in (mother, father):
        alerts.subscribe(parent, carnet, True)
    db.session.query(OutboxMessage).delete()  # the "another owner joined" notice
    db.session.commit()
    return {"pro": pro, "carnet": carnet, "mother": mother, "father": father}


def test_each_subscribed_owner_gets_one_message_with_the_doses_in_date_order(app, clock, family):
    carnet = family["carnet"]
    stats = alerts.run_daily(DAY)
    assert (stats.carnets, stats.announced, stats.messages, stats.skipped) == (1, len(TWO_MONTHS), 2, False)
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)).all()
    assert [m.recipient for m in messages] == ["marc@exemple.fr", "paula@exemple.fr"]
    for message in messages:
        assert message.subject == "Vaccination à prévoir pour Léo"
        link = message.headers["List-Unsubscribe"].strip("<>")
        assert link.startswith("http://cvn.test/alertes/desabonnement/") and link in message.body_text
        assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert f"http://cvn.test/carnets/{carnet.public_id}" in message.body_text
        # All due on the same day: listed by disease (code order), each once.
        lines = [line for line in message.body_text.splitlines() if line.startswith("- ")]
        assert lines == [f"- {disease_label(d)} (Dose 1{'/3' if d != 'rotavirus' else ''}) : à faire dès maintenant "
                         "(depuis le 20 février 2026)" for d in sorted(TWO_MONTHS)]
    # Each link stops this owner's alerts for this carnet, and no one else's.
    father_link = messages[0].headers["List-Unsubscribe"].strip("<>")
    assert alerts.unsubscribe_with(father_link.rsplit("/", 1)[1]).id == carnet.id
    assert [s.user_id for s in db.session.scalars(select(AlertSubscription))] == [family["mother"].id]
    assert {tuple(k) for k in db.session.execute(select(AlertSent.carnet_id, AlertSent.disease))} == {
        (carnet.id, d) for d in TWO_MONTHS}
    subscription = db.session.scalar(select(AlertSubscription).where(AlertSubscription.user_id == family["mother"].id))
    db.session.refresh(subscription)
    assert subscription.checked_at == clock()
    assert subscription.next_check_on == min(date(2026, 3, 6), alerts.weekly_recheck(carnet.id, DAY))


def test_messages_greet_each_owner_name_the_holder_and_the_run_counts_every_carnet(app, clock, family, create_carnet):
    """Two carnets in one batch: the counts add up over the batch, each message is the owner's and the holder's."""
    second = create_carnet(family["pro"], first_names="Jade", birth_date=BIRTH)
    sharing.claim(sharing.create_invitation(family["pro"], second, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  family["mother"], BIRTH, True)
    alerts.subscribe(family["mother"], second, True)
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    stats = alerts.run_daily(DAY)
    assert (stats.carnets, stats.announced, stats.messages) == (2, 2 * len(TWO_MONTHS), 3)
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert sorted((m.recipient, m.subject) for m in messages) == [
        ("marc@exemple.fr", "Vaccination à prévoir pour Léo"), ("paula@exemple.fr", "Vaccination à prévoir pour Jade"),
        ("paula@exemple.fr", "Vaccination à prévoir pour Léo")]
    for message in messages:
        first_name = "Marc" if message.recipient.startswith("marc") else "Paula"
        holder = message.subject.rsplit(" ", 1)[1]
        assert message.body_text.startswith(f"Bonjour {first_name},")
        assert f"sont à prévoir pour {holder} selon le calendrier" in message.body_text


def test_no_message_to_a_former_owner_or_an_unconfirmed_address(app, clock, family):
    mother, father = family["mother"], family["father"]
    db.session.scalar(select(Ownership).where(Ownership.user_id == father.id)).ended_at = clock()
    mother.email_confirmed_at = None
    db.session.commit()
    stats = alerts.run_daily(DAY)
    assert stats.announced == len(TWO_MONTHS) and stats.messages == 0 and count(OutboxMessage) == 0


def test_the_run_goes_through_every_batch(app, clock, monkeypatch, create_professional, create_patient,
                                          create_carnet):
    monkeypatch.setattr(alerts, "BATCH", 2)
    batches, real_batch = [], alerts._run_batch
    monkeypatch.setattr(alerts, "_run_batch", lambda ids, on, stats: batches.append(len(ids)) or real_batch(ids, on,
                                                                                                           stats))
    pro, parent = create_professional(), create_patient()
    for n in range(5):
        carnet = create_carnet(pro, first_names=f"Enfant{n}", birth_date=BIRTH)
        sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                      parent, BIRTH, True)
        alerts.subscribe(parent, carnet, True)
    stats = alerts.run_daily(DAY)
    assert (stats.carnets, stats.messages) == (5, 5) and batches == [2, 2, 1]
    assert alerts.run_daily(DAY).carnets == 0, "all five checked: nothing to look at again today"


def test_the_daily_run_happens_once_a_day_and_today_by_default(app, clock, family):
    clock.now = clock.now.replace(hour=10)
    first = alerts.run_daily(once_a_day=True)
    assert first.messages == 2 and db.session.get(JobLock, alerts.JOB).last_run_on == DAY
    assert alerts.run_daily(DAY, once_a_day=True).skipped
    assert not alerts.run_daily(DAY).skipped, "run by hand, it runs (and finds nothing new)"
    clock.advance(days=1)
    assert not alerts.run_daily(once_a_day=True).skipped


def test_a_failed_run_frees_the_lock_and_does_not_count_as_done(app, clock, family, monkeypatch):
    def broken(carnet_ids, on, stats):
        raise RuntimeError("panne")

    monkeypatch.setattr(alerts, "_run_batch", broken)
    with pytest.raises(RuntimeError):
        alerts.run_daily(DAY, once_a_day=True)
    lock = db.session.get(JobLock, alerts.JOB)
    db.session.refresh(lock)
    assert lock.locked_until is None and lock.last_run_on is None
    monkeypatch.undo()
    assert alerts.run_daily(DAY, once_a_day=True).messages == 2


def test_risk_flags_count_and_each_carnet_is_looked_at_again_on_its_own_weekday(app, clock, create_professional,
                                                                                create_patient, create_carnet):
    """Adults (born 1990, no dose recorded): asplenia adds pneumococcal, MenACWY and MenB vaccination (at any age)."""
    pro, adult = create_professional(), create_patient()
    carnets = [create_carnet(pro, first_names=f"Adulte{n}", birth_date=date(1990, 1, 1)) for n in range(7)]
    carnets[3].flags = ["asplenia"]
    db.session.commit()
    for carnet in carnets:
        db.session.add(Ownership(carnet_id=carnet.id, user_id=adult.id))
        db.session.commit()
        alerts.subscribe(adult, carnet, True)
    alerts.run_daily(DAY)
    announced = {}
    for carnet_id, disease in db.session.execute(select(AlertSent.carnet_id, AlertSent.disease)):
        announced.setdefault(carnet_id, set()).add(disease)
    assert "pneumococcus" not in announced[carnets[0].id]
    assert announced[carnets[3].id] == announced[carnets[0].id] | {"pneumococcus", "meningococcus_acwy", "meningococcus_b"}
    for subscription in db.session.scalars(select(AlertSubscription)):
        db.session.refresh(subscription)
        assert subscription.next_check_on == alerts.weekly_recheck(subscription.carnet_id, DAY)
