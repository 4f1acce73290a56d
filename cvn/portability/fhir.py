"""FHIR R4 views of a carnet: a ``Bundle`` with the Patient, its Immunizations and the forecast.

Pure functions over plain data (``Holder``, ``DoseView``, engine recommendations):
the live carnet and a professional's frozen archive both go through them.
Codes: the catalogue's own product and disease codes (systems below), with
the HL7 terminologies for site, route, report origin and forecast status.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from cvn.schedule.catalogue import disease_label

FHIR_JSON = "application/fhir+json"
#: Our own code systems (stable: an export imports back into any CVN).
PRODUCT_SYSTEM = "urn:cvn:vaccin"
DISEASE_SYSTEM = "urn:cvn:maladie"
CARNET_SYSTEM = "urn:cvn:carnet"
STATUS_SYSTEM = "urn:cvn:statut-vaccinal"
#: The French national identifier of health professionals (RPPS), as an OID.
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
SITE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActSite"
ROUTE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
ORIGIN_SYSTEM = "http://terminology.hl7.org/CodeSystem/immunization-origin"
FORECAST_SYSTEM = "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status"
ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
LOINC = "http://loinc.org"
#: Extensions carried in an archived copy's ``Bundle.meta``.
FROZEN_AT_URL = "urn:cvn:extension:archive-frozen-at"
SHA256_URL = "urn:cvn:extension:archive-sha256"

#: CVN injection sites → HL7 v3 ActSite (oral, nasal and "other" travel as text only).
SITES = {"deltoid_left": ("LD", "left deltoid"), "deltoid_right": ("RD", "right deltoid"),
         "thigh_left": ("LT", "left thigh"), "thigh_right": ("RT", "right thigh"),
         "arm_left": ("LA", "left arm"), "arm_right": ("RA", "right arm")}
SITE_TEXT = {"deltoid_left": "Deltoïde gauche", "deltoid_right": "Deltoïde droit", "thigh_left": "Cuisse gauche",
             "thigh_right": "Cuisse droite", "arm_left": "Bras gauche", "arm_right": "Bras droit",
             "oral": "Voie orale", "nasal": "Nasale", "other": "Autre"}
#: CVN routes → HL7 v3 RouteOfAdministration.
ROUTES = {"im": ("IM", "Injection, intramuscular", "Intramusculaire"),
          "sc": ("SQ", "Injection, subcutaneous", "Sous-cutanée"),
          "id": ("IDINJ", "Injection, intradermal", "Intradermique"),
          "oral": ("PO", "Swallow, oral", "Orale"),
          "nasal": ("NASINHLC", "Inhalation, nasal", "Nasale")}
#: Engine statuses → HL7 forecast status (where one means the same) and French text.
FORECAST = {"due": ("due", "Due", "À faire"), "overdue": ("overdue", "Overdue", "En retard"),
            "complete": ("complete", "Complete", "Terminé"), "up_to_date": (None, None, "À jour"),
            "not_recommended": (None, None, "Non recommandé actuellement")}
STATES = {"validated": "completed", "declared": "completed", "rejected": "entered-in-error"}


@dataclass
class Holder:
    """Who the carnet is about."""

    key: str  # the carnet's public id (stable across exports)
    last_name: str
    first_names: str
    birth_date: date
    sex: str  # "F" or "M"


@dataclass
class DoseView:
    """One dose as the export shows it."""

    key: str  # a FHIR id (see :func:`stable_id`)
    state: str  # "validated" | "declared" | "rejected"
    administered_on: date
    diseases: list[str]
    product_code: str | None = None
    product_name: str | None = None
    lot_number: str | None = None
    dose_label: str | None = None
    injection_site: str | None = None
    route: str | None = None
    note: str | None = None
    recorded_at: datetime | None = None
    validated_by: str | None = None
    validated_by_rpps: str | None = None
    rejection_reason: str | None = None
    extra: dict = field(default_factory=dict)


def stable_id(*parts: str) -> str:
    """Return a stable UUID for a resource (same carnet and dose → same id), valid as a FHIR id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "cvn:" + ":".join(parts)))


def urn(*parts: str) -> str:
    return f"urn:uuid:{stable_id(*parts)}"


def _iso(moment: datetime | date) -> str:
    return moment.isoformat()


def disease_concept(code: str) -> dict:
    return {"coding": [{"system": DISEASE_SYSTEM, "code": code, "display": disease_label(code)}],
            "text": disease_label(code)}


def patient_resource(holder: Holder) -> dict:
    """Return the holder as a FHIR Patient."""
    return {"resourceType": "Patient", "id": stable_id(holder.key, "patient"),
            "identifier": [{"system": CARNET_SYSTEM, "value": holder.key}],
            "name": [{"family": holder.last_name, "given": holder.first_names.split(),
                      "text": f"{holder.first_names} {holder.last_name.upper()}"}],
            "gender": "female" if holder.sex == "F" else "male",
            "birthDate": holder.birth_date.isoformat()}


def _vaccine_code(dose: DoseView) -> dict:
    if dose.product_code:
        return {"coding": [{"system": PRODUCT_SYSTEM, "code": dose.product_code, "display": dose.product_name}],
                "text": dose.product_name or dose.product_code}
    if dose.product_name:
        return {"text": dose.product_name}
    return {"coding": [{"system": ABSENT_SYSTEM, "code": "unknown", "display": "Unknown"}],
            "text": "Vaccin non précisé (ancien carnet)"}


def immunization_resource(dose: DoseView, patient_ref: str) -> dict:
    """Return one dose as a FHIR Immunization (performer for validated doses, origin for declared ones)."""
    resource: dict = {
        "resourceType": "Immunization", "id": dose.key, "status": STATES[dose.state],
        "vaccineCode": _vaccine_code(dose), "patient": {"reference": patient_ref},
        "occurrenceDateTime": dose.administered_on.isoformat(),
        "primarySource": dose.state == "validated",
        "protocolApplied": [{"doseNumberString": dose.dose_label or "Non précisé",
                             "targetDisease": [disease_concept(code) for code in dose.diseases]}],
    }
    if dose.recorded_at:
        resource["recorded"] = _iso(dose.recorded_at)
    if dose.lot_number:
        resource["lotNumber"] = dose.lot_number
    if dose.injection_site:
        site = SITES.get(dose.injection_site)
        resource["site"] = {"text": SITE_TEXT.get(dose.injection_site, dose.injection_site)}
        if site:
            resource["site"]["coding"] = [{"system": SITE_SYSTEM, "code": site[0], "display": site[1]}]
    if dose.route in ROUTES:
        code, display, text = ROUTES[dose.route]
        resource["route"] = {"coding": [{"system": ROUTE_SYSTEM, "code": code, "display": display}], "text": text}
    if dose.state == "validated" and dose.validated_by:
        actor = {"display": dose.validated_by}
        if dose.validated_by_rpps:
            actor["identifier"] = {"system": RPPS_SYSTEM, "value": dose.validated_by_rpps}
        resource["performer"] = [{"actor": actor}]
    if dose.state != "validated":
        resource["reportOrigin"] = {"coding": [{"system": ORIGIN_SYSTEM, "code": "record",
                                                "display": "Written Record"}],
                                    "text": "Déclarée par le titulaire (ou un parent), non validée par un "
                                            "professionnel de santé"}
    notes = [n for n in (dose.note, f"Refusée par un professionnel : {dose.rejection_reason}"
                         if dose.state == "rejected" and dose.rejection_reason else None) if n]
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    return resource


def recommendation_resource(holder: Holder, recommendations, patient_ref: str, on: date) -> dict:
    """Return the engine's forecast as one ImmunizationRecommendation (one entry per disease)."""
    entries = []
    for rec in recommendations:
        hl7, display, text = FORECAST.get(rec.status, (None, None, rec.status))
        status = {"coding": [{"system": STATUS_SYSTEM, "code": rec.status, "display": text}], "text": text}
        if hl7:
            status["coding"].insert(0, {"system": FORECAST_SYSTEM, "code": hl7, "display": display})
        entry = {"targetDisease": disease_concept(rec.disease), "forecastStatus": status,
                 "description": rec.reason}
        if rec.dose:
            entry["doseNumberString"] = rec.dose
        if rec.next_date:
            entry["dateCriterion"] = [{"code": {"coding": [{"system": LOINC, "code": "30980-7",
                                                            "display": "Date vaccine due"}],
                                                "text": "Date recommandée"},
                                       "value": rec.next_date.isoformat()}]
        entries.append(entry)
    return {"resourceType": "ImmunizationRecommendation", "id": stable_id(holder.key, "forecast"),
            "patient": {"reference": patient_ref}, "date": on.isoformat(), "recommendation": entries}


def bundle(holder: Holder, doses: list[DoseView], recommendations, at: datetime,
           frozen: tuple[datetime, str] | None = None) -> dict:
    """Return the carnet as a FHIR R4 ``collection`` Bundle.

    ``frozen`` (an archive's freeze time and SHA-256) goes into ``meta``, as
    ``lastUpdated`` and two extensions, and the bundle's identifier.
    """
    patient_ref = urn(holder.key, "patient")
    entries = [{"fullUrl": patient_ref, "resource": patient_resource(holder)}]
    for dose in doses:
        entries.append({"fullUrl": urn(holder.key, "dose", dose.key), "resource": immunization_resource(dose, patient_ref)})
    if recommendations:
        entries.append({"fullUrl": urn(holder.key, "forecast"),
                        "resource": recommendation_resource(holder, recommendations, patient_ref, at.date())})
    result = {"resourceType": "Bundle", "type": "collection", "timestamp": _iso(at),
              "identifier": {"system": CARNET_SYSTEM, "value": holder.key},
              "meta": {"lastUpdated": _iso(at)}, "entry": entries}
    if frozen is not None:
        frozen_at, sha256 = frozen
        result["identifier"] = {"system": "urn:ietf:rfc:3986", "value": f"urn:cvn:archive:{sha256}"}
        result["meta"] = {"lastUpdated": _iso(frozen_at), "tag": [{"system": CARNET_SYSTEM, "code": "archive",
                                                                    "display": "Copie figée d’un carnet"}],
                          "extension": [{"url": FROZEN_AT_URL, "valueDateTime": _iso(frozen_at)},
                                        {"url": SHA256_URL, "valueString": sha256}]}
    return result
