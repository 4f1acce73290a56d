"""Status, situation and alerts on the owner's phone; the patientèle summary on a tablet."""
import re
from datetime import date

from playwright.sync_api import expect

from cvn.models import InvitationChannel, InvitationTarget
from cvn.sharing import services as sharing
from tests.browser.conftest import open_menu
from tests.browser.test_carnets import login


def test_owner_reads_status_sets_situation_and_turns_alerts_on(live_server, phone, tablet, create_professional,
                                                               create_patient, create_carnet, screenshot, axe):
    pro = create_professional()
    carnet = create_carnet(pro, first_names="Léo", birth_date=date(2025, 12, 20))
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, date(2025, 12, 20), True)
    login(phone, live_server, owner)
    open_menu(phone)
    phone.get_by_role("link", name="Mes carnets").first.click()
    expect(phone.locator("main")).to_contain_text(re.compile("vaccins? (à faire|en retard)"))
    screenshot(phone, "phone-mes-carnets-status")
    phone.get_by_role("link", name=re.compile("Léo")).click()
    status = phone.locator("#statut")
    expect(status.get_by_role("heading", name="Statut vaccinal")).to_be_visible()
    expect(status).to_contain_text("Coqueluche")
    expect(status.locator(".status-row").first).to_contain_text(re.compile("À faire|En retard"))
    # BCG: not recommended without a risk (Calendrier 2025: BCG only for children at high risk),
    # due from 1 month once the risk is declared — the status row must say so, not just a message.
    shown_rows = phone.locator("#statut > ul.status-list > li.status-row")
    expect(shown_rows.filter(has_text="Tuberculose")).to_have_count(0)
    status.get_by_text("Situation du titulaire").click()
    status.get_by_label("Enfant exposé à un risque élevé de tuberculose").check()
    status.get_by_role("button", name="Enregistrer la situation").click()
    expect(phone.get_by_text("Situation enregistrée")).to_be_visible()
    bcg = phone.locator("#statut > ul.status-list > li.status-row").filter(has_text="Tuberculose")
    expect(bcg).to_have_count(1)
    expect(bcg.locator(".status-badge")).to_have_text(re.compile("À faire|En retard"))
    expect(phone.locator("#statut").get_by_label("Enfant exposé à un risque élevé de tuberculose")).to_be_checked()
    phone.locator("#statut").get_by_role("button", name="Recevoir des alertes par e-mail").click()
    expect(phone.get_by_text("Alertes par e-mail activées")).to_be_visible()
    expect(phone.locator("#statut")).to_contain_text("Vous recevez une alerte par e-mail")
    screenshot(phone, "phone-status")
    assert axe(phone) == []

    login(tablet, live_server, pro)
    expect(tablet.locator("#patientele")).to_contain_text(re.compile("vaccins? (à faire|en retard)"))
    screenshot(tablet, "tablet-patientele-status")


def test_pregnancy_term_dates_the_pertussis_dose_and_far_doses_read_later(live_server, phone, tablet,
                                                                         create_professional, create_patient,
                                                                         create_carnet, screenshot, axe):
    """HAS 2022: one pertussis dose in every pregnancy between 20 and 36 weeks; a term on 1 June 2026
    (test clock: 2 March 2026) puts 20 weeks on 5 January 2026. Zoster at 30: « Plus tard », not ✓."""
    pro = create_professional()
    carnet = create_carnet(pro, first_names="Inès", birth_date=date(1995, 4, 1))
    owner = create_patient()
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, date(1995, 4, 1), True)
    login(phone, live_server, owner)
    open_menu(phone)
    phone.get_by_role("link", name="Mes carnets").first.click()
    phone.get_by_role("link", name=re.compile("Inès")).click()
    rows = phone.locator("#statut > ul.status-list > li.status-row")
    zoster = rows.filter(has_text="Zona")
    expect(zoster.locator(".status-badge")).to_have_text("… Plus tard")
    status = phone.locator("#statut")
    status.get_by_text("Situation du titulaire").click()
    status.get_by_label("Grossesse en cours").check()
    status.get_by_label("Date prévue d’accouchement (terme), si connue").fill("2026-06-01")
    status.get_by_role("button", name="Enregistrer la situation").click()
    expect(phone.get_by_text("Situation enregistrée")).to_be_visible()
    pertussis = phone.locator("#statut > ul.status-list > li.status-row").filter(
        has=phone.locator("strong", has_text=re.compile("^Coqueluche$")))
    expect(pertussis.locator(".status-next")).to_contain_text("Dose de grossesse")
    expect(pertussis.locator(".status-next")).to_contain_text("5 janvier 2026")
    screenshot(phone, "phone-status-pregnancy")
    assert axe(phone) == []

    login(tablet, live_server, pro)
    tablet.goto(f"{live_server.url}/carnets/{carnet.public_id}")
    row = tablet.locator("#statut > ul.status-list > li.status-row").filter(
        has=tablet.locator("strong", has_text=re.compile("^Coqueluche$")))
    row.get_by_text("Détail pour le professionnel").click()
    expect(row.locator("details.clinician")).to_contain_text("pertussis_pregnancy")
    screenshot(tablet, "tablet-status-pregnancy")
