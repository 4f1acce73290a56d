"""Read a FHIR R4 upload (a Bundle, one Immunization or a list of them) into doses to declare.

Pure: bytes, the holder's birth date and the carnet's existing doses in, a
:class:`Preview` out (what will be added, what duplicates a dose, what is
refused and why). Whole-file problems raise :class:`Refused` with a French
message; nothing is written here.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date

from fhir.resources.R4B.immunization import Immunization
from pydantic import ValidationError

from cvn.dates import french_date
from cvn.portability import fhir
from cvn.schedule.catalogue import diseases as known_diseases
from cvn.schedule.catalogue import fold, product_by_name, products, sort_diseases

MAX_BYTES = 1_000_000
MAX_IMMUNIZATIONS = 500
#: Immunization fields of earlier versions (DSTU2, STU3) that R4 renamed or dropped.
BEFORE_R4 = {"date", "notGiven", "wasNotGiven", "vaccinationProtocol", "explanation", "reported", "reaction"}
#: Immunization fields that appeared in R5.
R5_ONLY = {"informationSource", "administeredProduct", "reason", "supportingInformation", "basedOn"}
SITE_CODES = {code: key for key, (code, _d) in fhir.SITES.items()}
ROUTE_CODES = {code: key for key, (code, _d, _t) in fhir.ROUTES.items()}
TEXT_SITES = {fold(text): key for key, text in fhir.SITE_TEXT.items()}
TEXT_ROUTES = {fold(text): key for key, (_c, _d, text) in fhir.ROUTES.items()}


class Refused(ValueError):
    """The whole upload is refused; ``message`` says why, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Planned:
    """A dose the import would declare."""

    administered_on: date
    diseases: tuple[str, ...]
    product_code: str | None = None
    product_name: str | None = None
    lot_number: str | None = None
    dose_label: str | None = None
    injection_site: str | None = None
    route: str | None = None
    note: str | None = None

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """Return what makes two doses the same: the date and the diseases covered."""
        return self.administered_on.isoformat(), tuple(sorted(self.diseases))

    def to_dict(self) -> dict:
        return {**asdict(self), "administered_on": self.administered_on.isoformat(), "diseases": list(self.diseases)}

    @classmethod
    def from_dict(cls, data: dict) -> "Planned":
        return cls(**{**data, "administered_on": date.fromisoformat(data["administered_on"]),
                      "diseases": tuple(data["diseases"])})


@dataclass
class Line:
    """One immunization of the upload, as the preview lists it."""

    position: int
    label: str
    on: str | None
    reason: str = ""
    planned: Planned | None = None


@dataclass(frozen=True)
class FileHolder:
    """The person a file names (its Patient resource): shown in the preview, compared with the carnet."""

    name: str
    given: tuple[str, ...]
    birth_date: date | None


@dataclass
class Preview:
    holder: FileHolder | None = None
    added: list[Line] = field(default_factory=list)
    duplicates: list[Line] = field(default_factory=list)
    refused: list[Line] = field(default_factory=list)
    ignored: int = 0  # other resources of a Bundle (Patient, ImmunizationRecommendation …)


def load(raw: bytes) -> list:
    """Return the upload's resources (Immunizations and others), or raise :class:`Refused`."""
    if len(raw) > MAX_BYTES:
        raise Refused(f"Le fichier fait {len(raw) / 1_000_000:.1f} Mo : l’import accepte 1 Mo au plus. "
                      "Exportez moins de doses à la fois.")
    if not raw.strip():
        raise Refused("Le fichier est vide.")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise Refused("Ce fichier n’est pas un texte JSON (encodage UTF-8 attendu) : "
                      "choisissez le fichier .json exporté au format FHIR.") from None
    except json.JSONDecodeError as error:
        raise Refused(f"Ce fichier n’est pas un JSON valide (ligne {error.lineno}, colonne {error.colno}) : "
                      "il est peut-être incomplet ou abîmé.") from None
    except RecursionError:
        raise Refused("Ce fichier n’est pas un JSON valide : il est imbriqué trop profondément.") from None
    if isinstance(data, list):
        if not data or not all(isinstance(item, dict) and item.get("resourceType") == "Immunization"
                               for item in data):
            raise Refused("Ce fichier n’est pas du FHIR : une liste doit contenir uniquement des ressources "
                          "« Immunization ».")
        return data
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise Refused("Ce fichier n’est pas du FHIR : il manque le champ « resourceType ». "
                      "Importez un Bundle FHIR R4 ou une liste de ressources Immunization.")
    _check_version(data)
    kind = data["resourceType"]
    if kind == "Immunization":
        return [data]
    if kind != "Bundle":
        raise Refused(f"Ce fichier contient une ressource FHIR « {kind[:40]} » : importez un Bundle "
                      "ou une liste de ressources Immunization.")
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise Refused("Ce Bundle FHIR est mal formé : « entry » doit être une liste.")
    return [entry.get("resource") if isinstance(entry, dict) else None for entry in entries]


def _check_version(data: dict) -> None:
    """Refuse a file that says, or shows, it is not FHIR R4 (4.0) or R4B (4.3)."""
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    version = data.get("fhirVersion") or meta.get("fhirVersion")
    if isinstance(version, str) and not version.startswith(("4.0", "4.3")):
        raise Refused(f"Ce fichier est en FHIR {version[:10]} : CVN importe FHIR R4 (version 4.0.1).")
    if data.get("resourceType") == "Bundle" and "issues" in data:
        raise Refused("Ce fichier est en FHIR R5 : CVN importe FHIR R4 (version 4.0.1).")


def _version_of(resource: dict) -> str | None:
    """Return "R5" or "STU3" when an Immunization carries fields of that version, else None."""
    keys = set(resource)
    if keys & BEFORE_R4:
        return "STU3 (ou antérieure)"
    protocols = resource.get("protocolApplied")
    if keys & R5_ONLY or (isinstance(protocols, list) and any(
            isinstance(p, dict) and "doseNumber" in p for p in protocols)):
        return "R5"
    return None


def _fhir_error(error: ValidationError) -> str:
    """Say in French what the R4 model refused first."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__")
    if first.get("type") == "extra_forbidden":
        return f"champ « {where} » inconnu en FHIR R4"
    if first.get("type") == "missing":
        return f"champ obligatoire « {where} » absent"
    if "occurrence" in str(first.get("msg", "")):
        return "date de vaccination absente"
    return f"valeur invalide pour « {where} »" if where else "ressource non conforme à FHIR R4"


def _codings(concept) -> list[dict]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _diseases_of(resource: dict) -> list[str]:
    labels = {fold(d.label): code for code, d in known_diseases().items()}
    found = []
    for protocol in resource.get("protocolApplied") or []:
        for concept in protocol.get("targetDisease") or []:
            codes = [c.get("code") for c in _codings(concept) if c.get("system") == fhir.DISEASE_SYSTEM
                     and c.get("code") in known_diseases()]
            names = [labels.get(fold(str(t))) for t in [concept.get("text")] +
                     [c.get("display") for c in _codings(concept)] if t]
            found.extend(codes or [n for n in names if n][:1])
    return sort_diseases(found)


def _product_of(resource: dict):
    concept = resource.get("vaccineCode") or {}
    for coding in _codings(concept):
        if coding.get("system") == fhir.PRODUCT_SYSTEM and coding.get("code") in products():
            return products()[coding["code"]], None
    for name in [concept.get("text")] + [c.get("display") for c in _codings(concept)]:
        product = product_by_name(str(name)) if name else None
        if product is not None:
            return product, None
    text = concept.get("text")
    unknown = any(c.get("system") == fhir.ABSENT_SYSTEM for c in _codings(concept))
    return None, (None if unknown or not text else " ".join(str(text).split())[:120])


def _coded(concept, codes: dict, texts: dict, system: str) -> str | None:
    for coding in _codings(concept):
        if coding.get("system") == system and coding.get("code") in codes:
            return codes[coding["code"]]
    return texts.get(fold(str(concept.get("text") or ""))) if isinstance(concept, dict) else None


def _plan(resource: dict, birth_date: date, today: date) -> Planned:
    """Return the dose an Immunization describes, or raise ValueError with the French reason."""
    status = resource.get("status")
    if status == "not-done":
        raise ValueError("vaccination non faite (statut « not-done »)")
    if status == "entered-in-error":
        raise ValueError("saisie annulée ou refusée par un professionnel (statut « entered-in-error »)")
    try:
        on = date.fromisoformat(str(resource.get("occurrenceDateTime", ""))[:10])
    except ValueError:
        raise ValueError("date de vaccination absente ou imprécise (jour, mois et année attendus)") from None
    if on > today:
        raise ValueError("date de vaccination dans le futur")
    if on < birth_date:
        raise ValueError(f"date antérieure à la naissance ({birth_date.strftime('%d/%m/%Y')})")
    product, free_name = _product_of(resource)
    diseases = list(product.diseases) if product else _diseases_of(resource)
    if not diseases:
        raise ValueError("vaccin et maladies couvertes non reconnus")
    protocol = (resource.get("protocolApplied") or [{}])[0]
    label = protocol.get("doseNumberString") or (f"Dose {protocol['doseNumberPositiveInt']}"
                                                 if protocol.get("doseNumberPositiveInt") else None)
    notes = [n.get("text") for n in resource.get("note") or [] if isinstance(n, dict) and n.get("text")]
    clean = lambda v, n: (" ".join(str(v).split())[:n] or None) if v else None  # noqa: E731
    return Planned(
        administered_on=on, diseases=tuple(diseases), product_code=product.code if product else None,
        product_name=product.name if product else free_name, lot_number=clean(resource.get("lotNumber"), 40),
        dose_label=None if label == "Non précisé" else clean(label, 60),
        injection_site=_coded(resource.get("site"), SITE_CODES, TEXT_SITES, fhir.SITE_SYSTEM),
        route=_coded(resource.get("route"), ROUTE_CODES, TEXT_ROUTES, fhir.ROUTE_SYSTEM),
        note=("\n".join(notes)[:1000] or None) if notes else None)


def _label(resource: dict) -> str:
    concept = resource.get("vaccineCode") if isinstance(resource.get("vaccineCode"), dict) else {}
    names = [concept.get("text")] + [c.get("display") or c.get("code") for c in _codings(concept)]
    return next((" ".join(str(n).split())[:80] for n in names if n), "Vaccin non précisé")


def _shown_date(value) -> str | None:
    """Return the date as dd/mm/yyyy for the preview (as given when it does not parse)."""
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)[:30] if value else None


def holder_of(resources: list) -> FileHolder | None:
    """Return the person the file's Patient resource names (None when the file names nobody)."""
    patient = next((r for r in resources if isinstance(r, dict) and r.get("resourceType") == "Patient"), None)
    if patient is None:
        return None
    names = patient.get("name") if isinstance(patient.get("name"), list) else []
    first = names[0] if names and isinstance(names[0], dict) else {}
    given = tuple(str(g) for g in (first.get("given") or []) if isinstance(g, str))
    shown = str(first.get("text") or " ".join([*given, str(first.get("family") or "")])).strip()
    try:
        born = date.fromisoformat(str(patient.get("birthDate"))[:10])
    except ValueError:
        born = None
    return FileHolder(" ".join(shown.split())[:120], given, born)


def check_holder(holder: FileHolder | None, first_names: str, birth_date: date) -> None:
    """Refuse a file whose Patient is someone else: another birth date, or no first name in common.

    Family names are not compared (a usage or married name differs from the birth name).
    """
    if holder is None:
        return
    if holder.birth_date is not None and holder.birth_date != birth_date:
        raise Refused(f"Ce fichier est celui de {holder.name or 'une autre personne'} (date de naissance : "
                      f"{french_date(holder.birth_date)}), pas du titulaire de ce carnet (date de naissance : "
                      f"{french_date(birth_date)}). Importez le fichier de la bonne personne.")
    ours = {fold(part) for part in first_names.replace("-", " ").split()}
    theirs = {fold(part) for g in holder.given for part in g.replace("-", " ").split()}
    if theirs and not ours & theirs:
        raise Refused(f"Ce fichier est celui de {holder.name}, dont le prénom n’est pas celui du titulaire "
                      f"de ce carnet ({first_names}). Importez le fichier de la bonne personne.")


def preview(raw: bytes, birth_date: date, existing: set, today: date, first_names: str = "") -> Preview:
    """Sort the upload's Immunizations into added, duplicates and refused (raise :class:`Refused` for the file).

    A file naming another person (see :func:`check_holder`) is refused as a whole.
    """
    resources = load(raw)
    holder = holder_of(resources)
    check_holder(holder, first_names, birth_date)
    immunizations = [r for r in resources if isinstance(r, dict) and r.get("resourceType") == "Immunization"]
    if len(immunizations) > MAX_IMMUNIZATIONS:
        raise Refused(f"Ce fichier contient {len(immunizations)} vaccinations : l’import en accepte "
                      f"{MAX_IMMUNIZATIONS} au plus.")
    versions = {v for v in map(_version_of, immunizations) if v}
    if versions:
        raise Refused(f"Ce fichier est en FHIR {sorted(versions)[0]} : CVN importe FHIR R4 (version 4.0.1).")
    result, seen = Preview(holder=holder), set(existing)
    for position, resource in enumerate(resources, start=1):
        if not isinstance(resource, dict):
            result.refused.append(Line(position, "Entrée illisible", None, "entrée de Bundle sans ressource"))
            continue
        if resource.get("resourceType") != "Immunization":
            result.ignored += 1
            continue
        line = Line(position, _label(resource), _shown_date(resource.get("occurrenceDateTime")))
        try:
            Immunization.model_validate(resource)
            line.planned = _plan(resource, birth_date, today)
        except ValidationError as error:
            line.reason = _fhir_error(error)
        except ValueError as error:
            line.reason = str(error)
        if line.planned is None:
            result.refused.append(line)
        elif line.planned.key in seen:
            line.reason = ("déjà dans le carnet (même date, mêmes maladies)" if line.planned.key in existing
                           else "en double dans le fichier (même date, mêmes maladies)")
            result.duplicates.append(line)
        else:
            seen.add(line.planned.key)
            result.added.append(line)
    return result
