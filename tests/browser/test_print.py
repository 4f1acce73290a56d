"""A carnet printed through the browser (page.pdf): a clean record on at most two A4 pages."""
from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from cvn.carnets import services as carnets
from cvn.models import InvitationChannel, InvitationTarget
from cvn.sharing import services as sharing
from tests.browser.conftest import SCREENSHOTS, log_in_ui

BIRTH = date(2019, 1, 10)
#: A child's 20 doses: the infant series, MMR, meningococcus, boosters at 6 years.
DOSES = [("Hexyon", date(2019, 3, 12)), ("Prevenar 20", date(2019, 3, 12)), ("Rotarix", date(2019, 3, 12)),
         ("Hexyon", date(2019, 5, 14)), ("Prevenar 20", date(2019, 5, 14)), ("Rotarix", date(2019, 5, 14)),
         ("Bexsero", date(2019, 3, 26)), ("Bexsero", date(2019, 5, 28)), ("Neisvac", date(2019, 6, 11)),
         ("Hexyon", date(2019, 12, 10)), ("Prevenar 20", date(2019, 12, 10)), ("Bexsero", date(2020, 1, 14)),
         ("Priorix", date(2020, 1, 14)), ("Nimenrix", date(2020, 1, 14)), ("Priorix", date(2020, 5, 12)),
         ("Engerix B10", date(2021, 2, 3)), ("Tetravac-acellulaire", date(2025, 2, 4)), ("Havrix", date(2024, 7, 1)),
         ("Stamaril", date(2024, 7, 1)), ("Priorix", date(2020, 6, 2))]


@pytest.fixture
def big_carnet(create_professional, create_patient, create_carnet):
    """A child's carnet with 20 doses, handed over to a parent who also declared nothing yet."""
    pro = create_professional(first_name="Claire", last_name="Martin")
    carnet = create_carnet(pro, first_names="Inès", last_name="Moreau", birth_date=BIRTH)
    for product, on in DOSES:
        carnets.record_dose(pro, carnet, carnets.DoseInput(product, [], on, lot_number="LOT-1234"))
    owner = create_patient(first_name="Sarah", last_name="Moreau")
    sharing.claim(sharing.create_invitation(pro, carnet, InvitationTarget.HOLDER, InvitationChannel.QR)[0],
                  owner, BIRTH, True)
    return {"pro": pro, "owner": owner, "carnet": carnet}


@pytest.mark.parametrize("who", ["owner", "pro"])
def test_a_childs_carnet_of_20_doses_prints_on_at_most_two_a4_pages(live_server, browser, big_carnet, who):
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        page = context.new_page()
        log_in_ui(page, live_server, big_carnet[who])
        public_id = big_carnet["carnet"].public_id
        page.goto(live_server.url + f"/carnets/{public_id}")
        status = PdfReader(io.BytesIO(page.pdf(format="A4")))
        status_text = "\n".join(p.extract_text() for p in status.pages)
        assert len(status.pages) <= 2 and "Statut vaccinal" in status_text and "Hépatite A" in status_text
        for view in ("maladies", "date"):
            page.goto(live_server.url + f"/carnets/{public_id}/doses?vue={view}")
            pdf = page.pdf(format="A4", print_background=False)
            (SCREENSHOTS / f"print-{who}-{view}.pdf").write_bytes(pdf)
            reader = PdfReader(io.BytesIO(pdf))
            printed = "\n".join(p.extract_text() for p in reader.pages)
            assert len(reader.pages) <= 2, f"{view}: {len(reader.pages)} pages"
            # The record: identity, status line, every dose with its date and who recorded it.
            assert "Inès" in printed and "MOREAU" in printed.upper()
            assert "20 doses" in printed and "en retard" in printed
            assert printed.count("Claire Martin") >= 20 or printed.count("Martin") >= 20, printed
            for product, on in DOSES:
                assert product.split()[0] in printed
            # Not the app around it: no forms, navigation, sharing or audit trail.
            for absent in ("Se déconnecter", "Enregistrer une dose", "Déclarer une dose", "Journal des accès",
                           "Historique", "Partage", "Corriger", "Mon compte", "Exporter", "Par date"):
                assert absent not in printed, f"{view}: {absent!r} printed"
    finally:
        context.close()


@pytest.mark.parametrize("who", ["owner", "pro"])
def test_the_print_view_holds_the_whole_record_on_at_most_two_a4_pages(live_server, browser, big_carnet, who):
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        page = context.new_page()
        log_in_ui(page, live_server, big_carnet[who])
        page.goto(live_server.url + f"/carnets/{big_carnet['carnet'].public_id}")
        page.get_by_role("link", name="Imprimer le carnet").click()
        page.wait_for_url("**/imprimer")
        pdf = page.pdf(format="A4", print_background=False)
        (SCREENSHOTS / f"print-{who}-carnet.pdf").write_bytes(pdf)
        reader = PdfReader(io.BytesIO(pdf))
        printed = "\n".join(p.extract_text() for p in reader.pages)
        assert len(reader.pages) <= 2, f"{len(reader.pages)} pages"
        # Identity, the status, and every dose with its date and who recorded it, on one printout.
        assert "Inès" in printed and "MOREAU" in printed.upper() and "imprimé le" in printed
        assert "Statut vaccinal" in printed and "Hépatite A" in printed and "en retard" in printed
        for product, on in DOSES:
            assert product.split()[0] in printed
        assert printed.count("Martin") >= 20
        for absent in ("Se déconnecter", "Enregistrer une dose", "Déclarer une dose", "Corriger", "Exporter",
                       "Imprimer le carnet", "Retour au carnet"):
            assert absent not in printed, f"{absent!r} printed"
    finally:
        context.close()
