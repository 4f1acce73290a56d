"""Status on screen, holder situations, and e-mail alerts when a dose falls due."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cvn.alerts import services as alerts
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import (AlertSent, AlertSubscription, InvitationChannel, InvitationTarget, OutboxMessage,
                        OutboxStatus)
from cvn.outbox.services import deliver_due
from cvn.sharing import services as sharing
from tests.conftest import PASSWORD, log_in
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
    page = login(app, baby["owner"]).get(f"/carnets/{baby['carnet'].public_id}").get_data(as_text=True)
    assert "Statut vaccinal" in page
    assert "Coqueluche" in page and ("À faire" in page or "En retard" in page)
    assert "Recevoir des alertes par e-mail" in page


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
    actions = [e.action for e in carnets.audit_trail(baby["carnet"])]
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
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    first = alerts.run_daily(date(2026, 3, 2))
    assert first.messages == 1 and first.announced >= 1
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient == "paula@exemple.fr" and "Léo" in message.subject
    assert "/alertes/desabonnement/" in message.body_text
    announced = count(AlertSent)
    # The same day again, then the following days: nothing new is announced twice.
    for day in range(0, 10):
        alerts.run_daily(date(2026, 3, 2) + timedelta(days=day))
        assert count(AlertSent) >= announced
    keys = db.session.execute(select(AlertSent.carnet_id, AlertSent.disease, AlertSent.dose,
                                     AlertSent.due_date)).all()
    assert len(keys) == len(set(keys))
    messages = count(OutboxMessage)
    rerun = alerts.run_daily(date(2026, 3, 11))
    assert rerun.messages == 0 and count(OutboxMessage) == messages


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


def test_two_workers_at_once_announce_once(make_app, baby):
    alerts.subscribe(baby["owner"], baby["carnet"], True)
    apps = [make_app(), make_app()]
    results = []
    barrier = threading.Barrier(2)

    def work(app):
        with app.app_context():
            barrier.wait()
            try:
                results.append(alerts.run_daily(date(2026, 3, 2)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.expire_all()
    assert sum(r.messages for r in results) == 1
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
