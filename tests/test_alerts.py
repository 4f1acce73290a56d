"""Status on screen, holder situations, and e-mail alerts when a dose falls due."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cvn.audit import audit_trail
from cvn.alerts import services as alerts
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import (AlertSent, AlertSubscription, InvitationChannel, InvitationTarget, OutboxMessage,
                        OutboxStatus)
from cvn.outbox.services import deliver_due
from cvn.sharing import services as sharing
from tests.conftest import log_in
from tests.html import one, row_containing, text, texts
from tests.smtp import SMTPServer

BIRTH = date(2025, 12, 20)  # about 2 months and a half on 2026-03-02 (the test clock)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def baby(create_professional, create_patient, create_carnet):
    pro = create_professional()
    carnet = create_carnet(pro, first_names="Léo", birth_date=BIRTH)
    owner = create_patient(first_name="Paula", email="paula@exemple.fr")
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    return {"pro": pro, "carnet": carnet, "owner": owner}


def login(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


def test_status_is_shown_on_the_carnet_page(app, baby):
    """Léo, born 20 December 2025, seen on 2 March 2026 with no dose.

    Calendrier des vaccinations 2025: the first DTCaP-Hib-HepB dose is due at
    2 months (20 February 2026) and is mandatory (L3111-2); MMR comes at 12 months.
    """
    page = login(app, baby["owner"]).get(f"/carnets/{baby['carnet'].public_id}")
    status = one(page, "#statut")
    assert text(one(status, "h2")) == "Statut vaccinal"
    pertussis = row_containing(status, ":scope > ul.status-list > li.status-row", "Coqueluche")
    assert text(one(pertussis, ".status-badge")) in ("● À faire", "⚠ En retard")
    assert "Dose 1/3" in text(one(pertussis, ".status-next"))
    assert "20 février 2026" in text(one(pertussis, ".status-next"))
    assert "obligatoire" in texts(pertussis, ".tag")
    measles = row_containing(status, ":scope > ul.status-list > li.status-row", "Rougeole")
    assert "À jour" in text(one(measles, ".status-badge")) or "Plus tard" in text(one(measles, ".status-badge"))
    assert "20 décembre 2026" in text(one(measles, ".status-next"))
    toggle = one(status, "form.alerts-toggle")
    assert text(one(toggle, "button")) == "Recevoir des alertes par e-mail"


def test_summary_in_lists(app, baby):
    mes = login(app, baby["owner"]).get("/mes-carnets/").get_data(as_text=True)
    assert "vaccins à faire" in mes or "vaccins en retard" in mes
    pro_list = login(app, baby["pro"]).get("/pro/").get_data(as_text=True)
    assert "vaccins à faire" in pro_list or "vaccins en retard" in pro_list


def test_flags_are_set_by_owner_and_pro_and_audited(app, baby):
    client = login(app, baby["owner"])
    response = client.post(f"/carnets/{baby['carnet'].public_id}/situation",
                           data={"flags": ["immunocompromised", "bogus"]})
    assert response.status_code == 303
    db.session.refresh(baby["carnet"])
    assert baby["carnet"].flags == ["immunocompromised"]
    login(app, baby["pro"]).post(f"/carnets/{baby['carnet'].public_id}/situation", data={"flags": []})
    db.session.refresh(baby["carnet"])
    assert baby["carnet"].flags == []
    actions = [e.action for e in audit_trail(baby["carnet"])]
    assert actions.count("carnet.flags") == 2


def test_pregnancy_flag_is_ignored_for_a_male_holder(baby, create_carnet):
    from cvn.models import Sex
    from cvn.status.services import set_flags

    boy = create_carnet(baby["pro"], sex=Sex.MALE)
    set_flags(baby["pro"], boy, ["pregnant", "asplenia"])
    assert boy.flags == ["asplenia"]


def test_only_owners_toggle_alerts(app, baby, create_patient):
    url = f"/carnets/{baby['carnet'].public_id}/alertes"
    assert login(app, baby["pro"]).post(url, data={"alerts": "on"}).status_code == 404
    assert login(app, create_patient()).post(url, data={"alerts": "on"}).status_code == 404
    assert login(app, baby["owner"]).post(url, data={"alerts": "on"}).status_code == 303
    assert count(AlertSubscription) == 1


def test_alerts_announce_once_day_after_day(app, clock, baby):
    """Day after day, each due dose is announced on one day only, and a message only carries news.

    The oracle is the pure engine: the announcements expected over the days are
    the union of what ``due_items`` finds each day.
    """
    from cvn.status.services import person_of, records_by_carnet

    carnet = baby["carnet"]
    alerts.subscribe(baby["owner"], carnet, True)
    expected, days_with_news = set(), 0
    for offset in range(0, 40):
        day = date(2026, 3, 2) + timedelta(days=offset)
        clock.now = clock.now.replace(year=day.year, month=day.month, day=day.day)
        items, _ = alerts.due_items(person_of(carnet), records_by_carnet([carnet.id])[carnet.id], day)
        today_keys = {(carnet.id, r.disease, r.dose or "", r.next_date) for r in items}
        news = today_keys - expected
        expected |= today_keys
        days_with_news += bool(news)
        before = count(OutboxMessage)
        stats = alerts.run_daily(day)
        assert stats.announced == len(news), day
        assert count(OutboxMessage) - before == (1 if news else 0), day
        if offset == 0:
            assert news and stats.messages == 1
            message = db.session.scalar(select(OutboxMessage))
            assert message.recipient == "paula@exemple.fr" and "Léo" in message.subject
            assert "/alertes/desabonnement/" in message.body_text
        stats = alerts.run_daily(day)  # the same day again: nothing
        assert stats.messages == 0 and stats.announced == 0
    keys = set(db.session.execute(select(AlertSent.carnet_id, AlertSent.disease, AlertSent.dose,
                                         AlertSent.due_date)).tuples())
    assert keys == expected and count(AlertSent) == len(expected)
    assert count(OutboxMessage) == days_with_news >= 2, "something new came due within the 40 days"


def test_no_alert_to_an_unconfirmed_address(app, baby):
    from sqlalchemy import update

    from cvn.models import User

    db.session.execute(update(User).where(User.id == baby["owner"].id).values(email_confirmed_at=None))
    db.session.commit()
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    assert alerts.run_daily(date(2026, 3, 2)).messages == 0
    assert count(OutboxMessage) == 0


def test_no_alert_without_opt_in_and_opt_out_is_respected(app, baby):
    assert alerts.run_daily(date(2026, 3, 2)).messages == 0
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    alerts.subscribe(baby["owner"], baby["carnet"], False)
    assert alerts.run_daily(date(2026, 3, 2)).messages == 0
    assert count(OutboxMessage) == 0


def test_one_click_unsubscribe(app, client, baby):
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    token = alerts.unsubscribe_token(baby["carnet"].id, baby["owner"].id)
    page = client.get(f"/alertes/desabonnement/{token}")
    assert page.status_code == 200 and count(AlertSubscription) == 1  # a GET (link scanners) changes nothing
    done = client.post(f"/alertes/desabonnement/{token}")
    assert done.status_code == 200 and "Alertes désactivées" in done.get_data(as_text=True)
    assert count(AlertSubscription) == 0
    assert client.post("/alertes/desabonnement/forged.token").status_code == 400


class Worker(threading.Thread):
    """One alert worker: its own app (own database session and connection) in a thread."""

    def __init__(self, app, on: date):
        super().__init__(daemon=True)
        self.app, self.on, self.stats, self.error = app, on, None, None

    def run(self):
        with self.app.app_context():
            try:
                self.stats = alerts.run_daily(self.on)
            except Exception as error:  # noqa: BLE001 — the test reports it
                self.error = error
            finally:
                db.session.remove()


def test_two_workers_overlapping_at_the_insert_announce_once(make_app, clock, baby, monkeypatch):
    """Both workers read the known keys before either writes; only the unique key decides.

    Worker A takes the job lock and stops right after reading which
    announcements exist; its lease then runs out (it hung), so worker B takes
    the lock, reads the same (empty) set and stops at the same point. Both then
    insert the same keys: the unique key and "on conflict do nothing" must let
    exactly one of them write the message, and neither may fail.
    """
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    real = alerts._known_keys
    at_point, barrier = threading.Semaphore(0), threading.Barrier(2, timeout=20)

    def known_then_wait(carnet_ids):
        keys = real(carnet_ids)
        at_point.release()
        barrier.wait()
        return keys

    monkeypatch.setattr(alerts, "_known_keys", known_then_wait)
    a = Worker(make_app(), date(2026, 3, 2))
    a.start()
    assert at_point.acquire(timeout=20), "worker A reached the insert"
    clock.advance(minutes=31)  # A's lease has run out: B may take the lock
    b = Worker(make_app(), date(2026, 3, 2))
    b.start()
    for worker in (a, b):
        worker.join(40)
        assert not worker.is_alive()
    assert a.error is None and b.error is None, (a.error, b.error)
    assert a.stats.carnets == 1 and b.stats.carnets == 1, "both evaluated the carnet at once"
    assert sorted([a.stats.messages, b.stats.messages]) == [0, 1]
    db.session.expire_all()
    assert count(OutboxMessage) == 1
    keys = db.session.execute(select(AlertSent.carnet_id, AlertSent.disease, AlertSent.dose,
                                     AlertSent.due_date)).all()
    assert keys and len(keys) == len(set(keys))


def test_a_second_worker_waits_for_the_job_lock(make_app, baby, monkeypatch):
    """While worker A is inside a batch, worker B starting the job evaluates nothing."""
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    real = alerts._known_keys
    inside, go_on = threading.Event(), threading.Event()

    def known_then_hold(carnet_ids):
        keys = real(carnet_ids)
        inside.set()
        assert go_on.wait(20)
        return keys

    monkeypatch.setattr(alerts, "_known_keys", known_then_hold)
    a = Worker(make_app(), date(2026, 3, 2))
    a.start()
    assert inside.wait(20), "worker A is inside its batch"
    b = Worker(make_app(), date(2026, 3, 2))
    b.start()
    b.join(30)
    go_on.set()
    a.join(30)
    assert a.error is None and b.error is None, (a.error, b.error)
    assert b.stats.skipped and b.stats.carnets == 0 and b.stats.messages == 0
    assert a.stats.messages == 1
    db.session.expire_all()
    assert count(OutboxMessage) == 1


def test_lock_lets_the_job_run_twice_without_double_announcements(app, baby):
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    assert alerts.acquire(alerts.JOB)
    assert alerts.run_daily(date(2026, 3, 2)).skipped  # another process holds the lock
    alerts.release(alerts.JOB)
    assert alerts.run_daily(date(2026, 3, 2)).messages == 1
    assert alerts.run_daily(date(2026, 3, 2)).messages == 0


def test_smtp_down_then_up_delivers_once(make_app, clock, baby):
    smtp = SMTPServer()
    app = make_app(CVN_MAIL_DELIVERY="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        alerts.subscribe(baby["owner"], baby["carnet"], True)
        alerts.run_daily(date(2026, 3, 2))
        assert deliver_due()["failed"] == 1  # nothing listens yet
        smtp.start()
        try:
            clock.advance(days=1)
            assert alerts.run_daily(date(2026, 3, 3)).messages == 0
            assert deliver_due()["sent"] == 1
            assert deliver_due()["sent"] == 0
            assert len(smtp.messages) == 1 and "Léo" in smtp.messages[0]["subject"]
        finally:
            smtp.stop()
    assert db.session.scalar(select(OutboxMessage)).status == OutboxStatus.SENT


def test_run_alerts_cli(runner, baby):
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    result = runner.invoke(args=["cvn", "run-alerts", "--on", "2026-03-02"])
    assert result.exit_code == 0 and "1 message(s)" in result.output


@pytest.mark.parametrize("role, flags_status, alerts_status", [
    ("anonymous", 302, 302), ("owner", 303, 303), ("other_patient", 404, 404), ("pro_with_access", 303, 404),
    ("pro_without_access", 404, 404), ("unverified", 404, 404), ("admin", 404, 404),
])
def test_status_routes_access_matrix(client, auth, baby, create_patient, create_professional, create_admin,
                                     role, flags_status, alerts_status):
    users = {"owner": baby["owner"], "other_patient": create_patient(), "pro_with_access": baby["pro"],
             "pro_without_access": create_professional(), "unverified": create_professional(verified=False),
             "admin": create_admin()}
    if role != "anonymous":
        auth.login(users[role])
    c = baby["carnet"].public_id
    assert client.post(f"/carnets/{c}/situation", data={"flags": ["asplenia"]}).status_code == flags_status
    assert client.post(f"/carnets/{c}/alertes", data={"alerts": "on"}).status_code == alerts_status
    db.session.refresh(baby["carnet"])
    assert (baby["carnet"].flags == ["asplenia"]) == (flags_status == 303)
    assert (count(AlertSubscription) == 1) == (alerts_status == 303)


def test_unchanged_carnets_are_not_re_evaluated_until_something_can_be_new(app, clock, baby):
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    assert alerts.run_daily(date(2026, 3, 2)).carnets == 1
    subscription = db.session.scalar(select(AlertSubscription))
    db.session.refresh(subscription)
    next_check = subscription.next_check_on
    assert date(2026, 3, 2) < next_check <= date(2026, 3, 9)
    clock.advance(days=1)
    assert next_check > date(2026, 3, 3) and alerts.run_daily(date(2026, 3, 3)).carnets == 0
    # A change to the carnet (a validated dose) makes it looked at again at once.
    clock.advance(hours=1)
    carnets.record_dose(baby["pro"], baby["carnet"], carnets.DoseInput("Hexyon", [], date(2026, 2, 21)))
    assert alerts.run_daily(date(2026, 3, 3)).carnets == 1
    # And on its check date, whatever happens.
    db.session.refresh(subscription)
    clock.advance(days=30)
    assert alerts.run_daily(subscription.next_check_on).carnets == 1


def test_a_dose_coming_due_is_announced_14_days_ahead(app, clock, baby):
    # Dose 1 given on time: the next dose (4 months, 20 April 2026) is announced from 6 April.
    carnets.record_dose(baby["pro"], baby["carnet"], carnets.DoseInput("Hexyon", [], date(2026, 2, 20)))
    carnets.record_dose(baby["pro"], baby["carnet"], carnets.DoseInput("Prevenar 20", [], date(2026, 2, 20)))
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    day, announced_on = date(2026, 3, 2), {}
    while day <= date(2026, 4, 25):
        clock.now = clock.now.replace(year=day.year, month=day.month, day=day.day)
        alerts.run_daily(day)
        for row in db.session.scalars(select(AlertSent).where(AlertSent.disease == "diphtheria")):
            announced_on.setdefault((row.dose, row.due_date), day)
        day += timedelta(days=1)
    assert announced_on.get(("Dose 2/3", date(2026, 4, 20))) == date(2026, 4, 6)


def test_summary_counts_one_vaccination_per_series(baby):
    from cvn.status.services import grouped, status_of, summarize

    recs = status_of(baby["carnet"])
    needing = [r for r in recs if r.status in ("due", "overdue")]
    summary = summarize(recs)
    assert 0 < summary.needs < len(needing)  # diphtheria, tetanus, pertussis, polio: one series
    assert summary.needs == sum(g.status in ("due", "overdue") for g in grouped(recs))


def test_weekly_rechecks_are_spread_over_the_week(app, clock, create_patient):
    """5,000 carnets subscribed the same day: no later day re-evaluates more than a seventh, plus changes."""
    from sqlalchemy import insert, update

    from cvn.models import Carnet, Dose, DoseState

    subscriber = create_patient()
    day0 = date(2026, 3, 2)
    now = clock()
    carnet_rows = [{"public_id": f"bulk{i:06d}", "last_name": "Bulk", "first_names": f"N{i}",
                    "birth_date": date(1990, 1, 1) + timedelta(days=i % 3000), "sex": "F" if i % 2 else "M",
                    "search_name": f"bulk n{i}", "created_at": now, "flags": [], "last_activity_at": now}
                   for i in range(5000)]
    db.session.execute(insert(Carnet), carnet_rows)
    ids = list(db.session.scalars(select(Carnet.id).where(Carnet.public_id.like("bulk%"))))
    # An adult booster two years ago: nothing comes due for years, only the weekly re-check applies.
    db.session.execute(insert(Dose), [{"carnet_id": cid, "product_code": None, "product_name": None,
                                       "diseases": ["diphtheria", "tetanus", "polio"],
                                       "administered_on": date(2024, 3, 1), "state": DoseState.VALIDATED,
                                       "recorded_at": now} for cid in ids])
    db.session.execute(insert(AlertSubscription), [{"carnet_id": cid, "user_id": subscriber.id, "created_at": now}
                                                   for cid in ids])
    db.session.commit()
    assert alerts.run_daily(day0).carnets == 5000  # the first check of each new subscription
    seventh = -(-5000 // 7)
    per_day, seen = [], set()
    for offset in range(1, 22):
        day = day0 + timedelta(days=offset)
        clock.now = clock.now.replace(year=day.year, month=day.month, day=day.day)
        changed = set(ids[offset * 10: offset * 10 + 25]) if offset % 3 == 0 else set()
        if changed:
            db.session.execute(update(Carnet).where(Carnet.id.in_(changed)).values(last_activity_at=clock()))
            db.session.commit()
        clock.advance(minutes=1)
        evaluated = alerts.run_daily(day).carnets
        assert evaluated <= seventh + len(changed), (day, evaluated)
        per_day.append(evaluated)
        seen |= {cid for cid in ids if (cid - day.toordinal()) % 7 == 0}
    assert min(per_day) >= 5000 // 7, "every day takes its share: the re-checks are not skipped"
    assert sum(per_day) >= 3 * 5000, "three weeks re-check every carnet three times"
