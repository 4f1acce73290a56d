"""Demo data for `make run`: every capability visible within a minute of cloning.

Idempotent: each part is created only if it is missing. Dates are relative to
today, so the demo carnets look the same whenever they are loaded.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from cvn.carnets import services as carnets
from cvn.clock import today, utcnow
from cvn.dates import french_date
from cvn.extensions import db
from cvn.french import ngettext
from cvn.models import Carnet, Profession, Role, Sex, User

PASSWORD = "demo-cvn-2026"
#: Dr Martin's authenticator-app secret (base32), printed by `make run` so anyone can add it to an app.
DOCTOR_TOTP_SECRET = "DEMOCVNDRMARTINTOTPSECRETXYZ2345"
ACCOUNTS = [
    dict(email="admin@demo.cvn.fr", first_name="Alice", last_name="Opératrice",
         role=Role.PATIENT, is_admin=True),
    dict(email="dr.martin@demo.cvn.fr", first_name="Claire", last_name="Martin",
         role=Role.PROFESSIONAL, profession=Profession.MEDECIN, rpps="10001234567", verified=True),
    dict(email="inf.bernard@demo.cvn.fr", first_name="Hugo", last_name="Bernard",
         role=Role.PROFESSIONAL, profession=Profession.INFIRMIER, rpps="10007654321", verified=False),
    dict(email="patient@demo.cvn.fr", first_name="Éloïse", last_name="Durand", role=Role.PATIENT),
    dict(email="pharma.petit@demo.cvn.fr", first_name="Inès", last_name="Petit",
         role=Role.PROFESSIONAL, profession=Profession.PHARMACIEN, rpps="10009998887", verified=True),
]


def _months_ago(months: int) -> date:
    d = today()
    year, month = divmod(d.month - 1 - months, 12)
    return date(d.year + year, month + 1, min(d.day, 28))


def load_accounts() -> tuple[int, dict[str, User]]:
    """Create the demo accounts that are missing; return how many and all of them."""
    created, users = 0, {}
    for spec in ACCOUNTS:
        spec = dict(spec)
        verified = spec.pop("verified", False)
        user = db.session.scalar(select(User).where(User.email == spec["email"]))
        if user is None:
            user = User(auth_version=0, code_failures=0, email_confirmed_at=utcnow(), **{"is_admin": False, **spec})
            user.set_password(PASSWORD)
            if verified:
                user.verified_at = utcnow()
            db.session.add(user)
            created += 1
        users[spec["email"]] = user
    db.session.commit()
    load_second_factor(users["dr.martin@demo.cvn.fr"])
    load_second_factor(users["admin@demo.cvn.fr"])
    return created, users


def load_second_factor(user: User) -> None:
    """Enrol the authenticator app of Dr Martin (or the administrator) with the printed secret."""
    from cvn.auth.factors import enrol_totp, has_totp

    if not has_totp(user):
        enrol_totp(user, DOCTOR_TOTP_SECRET, 0)
        db.session.commit()


def second_factor_lines() -> list[str]:
    """Say how to log in as Dr Martin with an authenticator app."""
    from cvn.auth.factors import provisioning_uri

    doctor = db.session.scalar(select(User).where(User.email == "dr.martin@demo.cvn.fr"))
    grouped = " ".join(DOCTOR_TOTP_SECRET[i:i + 4] for i in range(0, len(DOCTOR_TOTP_SECRET), 4))
    return ["Dr Martin et l’administratrice se connectent avec mot de passe + code d’une application "
            "d’authentification (la même clé pour les deux) :",
            f"  clé secrète à saisir dans l’application : {grouped}",
            f"  (ou ce lien otpauth dans un générateur de QR code : {provisioning_uri(doctor, DOCTOR_TOTP_SECRET)})",
            "  la pharmacienne et l’infirmier n’ont pas encore de deuxième étape : CVN la leur fait ajouter à la "
            "connexion ; le compte patient se connecte avec le mot de passe seul."]


def load_carnets(doctor: User) -> int:
    """Give the demo doctor a patientèle with doses, a correction and a deletion."""
    if db.session.scalar(select(Carnet).where(Carnet.created_by_id == doctor.id).limit(1)):
        return 0
    D = carnets.DoseInput
    baby = carnets.create_carnet(doctor, last_name="Durand", first_names="Léo",
                                 birth_date=_months_ago(13), sex=Sex.MALE)
    # Léo, 13 months: every infant dose on time (2, 3, 4, 5, 6 and 12 months) except the
    # 11-month hexavalent booster, which is overdue, so his status shows a mix.
    for months, product, lot in [(11, "Hexyon", "HX2401"), (9, "Hexyon", "HX2405"), (9, "Prevenar 20", "PV18"),
                                 (2, "Prevenar 20", "PV31"), (10, "Bexsero", "BX77"), (8, "Bexsero", "BX81"),
                                 (1, "Bexsero", "BX95"), (7, "Nimenrix", "NM12"), (1, "Nimenrix", "NM20"),
                                 (1, "Priorix", "PX33")]:
        carnets.record_dose(doctor, baby, D(product, [], _months_ago(months), lot_number=lot,
                                            injection_site="thigh_left", route="im"))
    for months, lot in [(11, "RX5"), (10, "RX6")]:
        carnets.record_dose(doctor, baby, D("Rotarix", [], _months_ago(months), lot_number=lot, route="oral"))
    pcv = carnets.record_dose(doctor, baby, D("Prevenar 20", [], _months_ago(11), lot_number="PV1"))
    carnets.update_dose(doctor, baby, pcv, D("Prevenar 20", [], _months_ago(11), lot_number="PV12",
                                             injection_site="thigh_right", route="im"))

    mother = carnets.create_carnet(doctor, last_name="Durand", first_names="Éloïse",
                                   birth_date=date(1991, 6, 14), sex=Sex.FEMALE)
    carnets.record_dose(doctor, mother, D("", ["measles", "mumps", "rubella"], date(1992, 7, 1),
                                          note="Recopié du carnet de santé papier."))
    carnets.record_dose(doctor, mother, D("", ["measles", "mumps", "rubella"], date(1997, 9, 3)))
    carnets.record_dose(doctor, mother, D("Boostrixtetra", [], date(2016, 6, 20), lot_number="BT55"))
    mistake = carnets.record_dose(doctor, mother, D("Vaxigrip", [], today() - timedelta(days=20)))
    carnets.delete_dose(doctor, mother, mistake, "Saisie dans le mauvais carnet")

    grandfather = carnets.create_carnet(doctor, last_name="Lefèvre", first_names="Jérôme",
                                        birth_date=date(1952, 3, 2), sex=Sex.MALE)
    carnets.record_dose(doctor, grandfather, D("Efluelda", [], today() - timedelta(days=40), lot_number="EF9"))
    carnets.record_dose(doctor, grandfather, D("Shingrix", [], date(2024, 10, 2)))
    carnets.record_dose(doctor, grandfather, D("Vivotif", ["typhoid"], date(2019, 5, 1),
                                               note="Voyage au Maroc."))
    return 3


def load_sharing(doctor: User, patient: User) -> list[str]:
    """Hand Éloïse's carnet to the demo patient; leave an e-mail invitation pending for Léo's."""
    from cvn.models import Invitation, InvitationChannel, InvitationTarget
    from cvn.sharing import services as sharing

    mine = db.session.scalar(select(Carnet).where(Carnet.created_by_id == doctor.id,
                                                  Carnet.first_names == "Éloïse"))
    baby = db.session.scalar(select(Carnet).where(Carnet.created_by_id == doctor.id, Carnet.first_names == "Léo"))
    if mine is None or baby is None:
        return []
    if not sharing.owners(mine):
        invitation, _raw = sharing.create_invitation(doctor, mine, InvitationTarget.HOLDER, InvitationChannel.QR)
        sharing.claim(invitation, patient, mine.birth_date, True)
    if db.session.scalar(select(Invitation).where(Invitation.carnet_id == baby.id)) is None:
        sharing.create_invitation(doctor, baby, InvitationTarget.HOLDER, InvitationChannel.EMAIL, patient.email)
    lines = load_owner_story(doctor, patient, mine)
    return [f"  Carnet d’Éloïse Durand confié à {patient.email} ;", *lines,
            f"  invitation e-mail en attente pour le carnet de Léo Durand (né le "
            f"{french_date(baby.birth_date)}) : ouvrez-la depuis la boîte d’envoi."]


def load_owner_story(doctor: User, patient: User, carnet: Carnet) -> list[str]:
    """A declared dose waiting for Dr Martin; the pharmacist's access ended (an archive)."""
    from cvn.archives import services as archives
    from cvn.models import Archive, Dose, DoseState, InvitationChannel, InvitationTarget
    from cvn.sharing import services as sharing

    pharmacist = db.session.scalar(select(User).where(User.email == "pharma.petit@demo.cvn.fr"))
    if db.session.scalar(select(Archive).where(Archive.carnet_id == carnet.id)) is None:
        invitation, _raw = sharing.create_invitation(patient, carnet, InvitationTarget.PROFESSIONAL,
                                                     InvitationChannel.QR)
        sharing.claim(invitation, pharmacist, carnet.birth_date, True)
        D = carnets.DoseInput
        carnets.record_dose(pharmacist, carnet, D("Vaxigrip", [], today() - timedelta(days=400), lot_number="VX3"))
        access = next(a for a in archives.accesses(carnet) if a.professional_id == pharmacist.id)
        archives.end_access(patient, carnet, access)
    if db.session.scalar(select(Dose).where(Dose.carnet_id == carnet.id, Dose.state == DoseState.DECLARED)) is None:
        carnets.record_dose(patient, carnet, carnets.DoseInput("Comirnaty", [], today() - timedelta(days=90),
                                                               note="Centre de vaccination de la mairie."))
    return ["  une dose déclarée par la patiente attend la validation de Dr Martin (« À valider ») ;",
            "  écran du carnet d’Éloïse : en-tête (statut en une ligne), « Enregistrer une dose » / « Déclarer une "
            f"dose », puis Statut, Doses, Partage, Historique : /carnets/{carnet.public_id}/doses ;",
            "  la pharmacienne pharma.petit@demo.cvn.fr a un carnet dans « Carnets archivés » (partage arrêté) ; "
            f"l’ancienne adresse /carnets/{carnet.public_id} le lui dit et mène à sa copie ;"]


def load_status(doctor: User, patient: User) -> list[str]:
    """A holder's situation that changes the status, and the owner's alerts turned on."""
    from cvn.alerts import services as alerts
    from cvn.status.services import set_flags

    grandfather = db.session.scalar(select(Carnet).where(Carnet.created_by_id == doctor.id,
                                                         Carnet.first_names == "Jérôme"))
    mine = db.session.scalar(select(Carnet).where(Carnet.created_by_id == doctor.id,
                                                  Carnet.first_names == "Éloïse"))
    if grandfather is None or mine is None:
        return []
    if not grandfather.flags:
        set_flags(doctor, grandfather, ["chronic_heart_lung"])
    if not mine.flags:
        # Term in 18 weeks: 23 weeks of amenorrhoea, inside the pertussis window (20-36 weeks).
        set_flags(patient, mine, ["pregnant"], (today() + timedelta(weeks=18)).isoformat())
    if not alerts.is_subscribed(patient, mine):
        alerts.subscribe(patient, mine, True)
    stats = alerts.run_daily()
    return ["  Éloïse a déclaré une grossesse (terme dans 18 semaines) : la dose de coqueluche de la grossesse"
            " est datée (20 à 36 semaines), le VRS maternel l’est aussi en saison ;",
            f"  alertes par e-mail activées par la patiente ({_count(stats.messages, 'alerte')} dans la boîte d’envoi)."]


def load_own_carnet(doctor: User, patient: User) -> list[str]:
    """A carnet the patient opened herself for her daughter, copied from the paper one, shared with Dr Martin."""
    from cvn.models import DoseState, InvitationChannel, InvitationTarget
    from cvn.patient.services import create_own_carnet
    from cvn.portability.certificate import token_for
    from cvn.sharing import services as sharing
    from cvn.validation import services as validation
    from cvn.web import absolute_url

    lou = db.session.scalar(select(Carnet).where(Carnet.created_by_id == patient.id, Carnet.first_names == "Lou"))
    if lou is None:
        D = carnets.DoseInput
        lou = create_own_carnet(patient, last_name="Durand", first_names="Lou", birth_date=_months_ago(50),
                                sex=Sex.FEMALE, relation="child")
        declared = [carnets.record_dose(patient, lou, D(product, [], _months_ago(months)))
                    for months, product in [(48, "Infanrix Hexa"), (46, "Infanrix Hexa"), (39, "Infanrix Hexa"),
                                            (38, "Priorix")]]
        invitation, _raw = sharing.create_invitation(patient, lou, InvitationTarget.PROFESSIONAL,
                                                     InvitationChannel.LINK)
        sharing.claim(invitation, doctor, lou.birth_date, True)
        for dose in declared[:3]:
            validation.validate(doctor, lou, dose)
    pending = sum(1 for d in carnets.live_doses(lou) if d.state == DoseState.DECLARED)
    return [f"  carnet de Lou Durand créé par la patiente elle-même (« Mes carnets » → « Créer un carnet »), "
            f"partagé avec Dr Martin : 3 doses validées, {ngettext('%(num)s déclarée', '%(num)s déclarées', pending)} ;",
            "  sur chaque carnet : « Attestation de vaccination » (à imprimer, QR de vérification), "
            "« Exporter (FHIR) » et, pour la titulaire, « Importer (FHIR) » ;",
            f"  une attestation à vérifier : {absolute_url('portability.verify', token=token_for(lou, today()))}"]


def load_failed_mail(admin: User) -> list[str]:
    """An e-mail given up on after 7 days of retries, for the administrator's "E-mails en échec"."""
    from cvn.models import OutboxMessage, OutboxStatus
    from cvn.outbox.services import MAX_ATTEMPTS, queue_mail

    subject = "Votre compte professionnel est vérifié"
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.FAILED)) is None:
        message = queue_mail("cabinet.ferme@demo.cvn.fr", subject, "professional_verified",
                             user=type("Demo", (), {"first_name": "Marc", "display_name": "Dr Marc Lefèvre"})(),
                             link="http://127.0.0.1:5000/")
        message.status, message.attempts = OutboxStatus.FAILED, MAX_ATTEMPTS
        message.created_at = utcnow() - timedelta(days=8)
        message.last_error = "SMTPRecipientsRefused: 550 5.1.1 boîte aux lettres inconnue"
        db.session.commit()
    return ["  un e-mail en échec attend l’administratrice (« E-mails en échec », bouton « Renvoyer »)."]


def _count(n: int, noun: str) -> str:
    """Say "1 carnet", "3 carnets"."""
    return f"{n} {noun}{'s' if n > 1 else ''}"


def summary_lines(doctor: User) -> list[str]:
    """Say what the demo holds, counted from the data (accounts, carnets, Dr Martin's patientèle)."""
    from cvn.models import Access
    from cvn.validation.services import waiting_count

    accounts = db.session.scalar(select(func.count()).select_from(User).where(User.email.like("%@demo.cvn.fr")))
    carnets_in_all = db.session.scalar(select(func.count()).select_from(Carnet))
    patientele = db.session.scalar(select(func.count()).select_from(Access)
                                   .where(Access.professional_id == doctor.id, Access.open))
    waiting = waiting_count(doctor)
    return [f"Données de démonstration : {_count(accounts, 'compte')} et {_count(carnets_in_all, 'carnet')} ; "
            f"patientèle de Dr Martin : {_count(patientele, 'carnet')}, "
            f"{ngettext('%(num)s dose déclarée', '%(num)s doses déclarées', waiting)} à valider."]


def load() -> list[str]:
    """Load everything; return lines to print."""
    created, users = load_accounts()
    load_carnets(users["dr.martin@demo.cvn.fr"])
    shared = load_sharing(users["dr.martin@demo.cvn.fr"], users["patient@demo.cvn.fr"])
    shared += load_status(users["dr.martin@demo.cvn.fr"], users["patient@demo.cvn.fr"])
    shared += load_own_carnet(users["dr.martin@demo.cvn.fr"], users["patient@demo.cvn.fr"])
    shared += load_failed_mail(users["admin@demo.cvn.fr"])
    lines = [*summary_lines(users["dr.martin@demo.cvn.fr"]),
             f"Mot de passe de tous les comptes : {PASSWORD}", *second_factor_lines(), *shared]
    for spec in ACCOUNTS:
        kind = "administrateur" if spec.get("is_admin") else (
            "professionnel vérifié" if spec.get("verified") else
            "professionnel non vérifié" if spec["role"] == Role.PROFESSIONAL else
            "patient (propriétaire d’un carnet)")
        lines.append(f"  {spec['email']:<28} {kind}")
    return lines
