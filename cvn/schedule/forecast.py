"""``flask cvn forecast``: one JSON object in on stdin, the vaccination status out on stdout.

Input::

    {"birth_date": "2024-02-10", "sex": "F", "on": "2025-01-15", "flags": [],
     "doses": [{"date": "2024-04-10", "product": "Hexyon"},
               {"date": "2025-02-12", "diseases": ["measles", "mumps", "rubella"]}]}

``on`` defaults to today in Europe/Paris and ``flags`` to none. An optional
``"pregnancy": {"due_date": "YYYY-MM-DD"}`` (or ``{"start_date": …}``, the first day
of amenorrhoea; the term is then 41 weeks later) dates the current pregnancy and
implies the ``pregnant`` flag; the flag alone still works (stage unknown). A dose names a
catalogue product (by name, any case or accents, or by code) or the diseases it
covers; it counts as validated unless it says ``"validated": false``. Output:
``{"on": …, "recommendations": [{"disease", "status", "next_date", "dose",
"mandatory", "reason", "declared_pending", "rule", "source"}, …]}``, one entry per disease. Bad
input exits with code 2 and one line on stderr naming the field.

The command needs no application context: it is a plain click command.
"""
from __future__ import annotations

import json
import re
import sys
from datetime import date, timedelta

import click

from cvn.inputs import YEAR_MESSAGE, year_in_range
from cvn.schedule.catalogue import diseases, product_by_name, products
from cvn.schedule.engine import FLAGS, DoseRecord, Person, evaluate

_TOP = ("birth_date", "sex", "on", "flags", "doses", "pregnancy")
_PREGNANCY = ("due_date", "start_date")
#: the expected term is 41 weeks of amenorrhoea after the first day of the last period
_TERM_DAYS = 287
_DOSE = ("date", "product", "diseases", "validated")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


class InputError(ValueError):
    """Bad input: the message names the field."""


def _date(value, field: str) -> date:
    """Return the ISO date in value, or raise InputError naming the field."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise InputError(f"{field}: date invalide « {value} » (attendu AAAA-MM-JJ)")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{field}: date invalide « {value} » (attendu AAAA-MM-JJ)") from None
    if not year_in_range(parsed):
        raise InputError(f"{field}: date hors limites « {value} » ({YEAR_MESSAGE})")
    return parsed


def _unknown_keys(data: dict, allowed, prefix: str) -> None:
    """Raise InputError for the first key that is not allowed."""
    for key in data:
        if key not in allowed:
            raise InputError(f"{prefix}{key}: champ inconnu (attendus : {', '.join(allowed)})")


def _dose(raw, index: int, birth: date) -> DoseRecord:
    """Return the dose doses[index] describes, or raise InputError naming the field."""
    field = f"doses[{index}]"
    if not isinstance(raw, dict):
        raise InputError(f"{field}: objet attendu")
    _unknown_keys(raw, _DOSE, f"{field}.")
    if "date" not in raw:
        raise InputError(f"{field}.date: champ obligatoire")
    when = _date(raw["date"], f"{field}.date")
    if when < birth:
        raise InputError(f"{field}.date: dose du {when:%d/%m/%Y} antérieure à la naissance")
    product = None
    if raw.get("product") is not None:
        name = raw["product"]
        found = isinstance(name, str) and (product_by_name(name) or products().get(name.strip()))
        if not found:
            raise InputError(f"{field}.product: produit inconnu « {name} »")
        product = found
    covered = raw.get("diseases")
    if covered is not None:
        if not isinstance(covered, list) or not covered:
            raise InputError(f"{field}.diseases: liste de maladies attendue")
        known = diseases()
        for j, code in enumerate(covered):
            if not isinstance(code, str) or code not in known:
                raise InputError(f"{field}.diseases[{j}]: maladie inconnue « {code} »")
        codes = tuple(dict.fromkeys(covered))
    elif product is not None:
        codes = product.diseases
    else:
        raise InputError(f"{field}: « product » ou « diseases » est obligatoire")
    validated = raw.get("validated", True)
    if not isinstance(validated, bool):
        raise InputError(f"{field}.validated: true ou false attendu")
    return DoseRecord(when, codes, product.code if product else None, validated)


def parse(text: str, today: date) -> tuple[Person, list[DoseRecord], date]:
    """Return the person, doses and date described by the JSON text, or raise InputError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"entrée: JSON invalide (ligne {error.lineno}, colonne {error.colno})") from None
    except (ValueError, RecursionError):
        raise InputError("entrée: JSON invalide") from None
    if not isinstance(data, dict):
        raise InputError("entrée: un objet JSON est attendu")
    _unknown_keys(data, _TOP, "")
    if "birth_date" not in data:
        raise InputError("birth_date: champ obligatoire")
    birth = _date(data["birth_date"], "birth_date")
    sex = data.get("sex")
    if sex not in ("F", "M"):
        raise InputError(f"sex: « {sex} » invalide (attendu « F » ou « M »)")
    on = today if data.get("on") is None else _date(data["on"], "on")
    if on < birth:
        raise InputError(f"on: le {on:%d/%m/%Y} est antérieur à la naissance")
    flags = data.get("flags") or []
    if not isinstance(flags, list):
        raise InputError("flags: liste attendue")
    for j, flag in enumerate(flags):
        if flag not in FLAGS:
            raise InputError(f"flags[{j}]: indicateur inconnu « {flag} » (connus : {', '.join(FLAGS)})")
        if flag == "pregnant" and sex != "F":
            raise InputError(f"flags[{j}]: « pregnant » ne s'applique qu'au sexe « F »")
    due = _pregnancy(data.get("pregnancy"), sex)
    if due is not None:
        flags = [*flags, "pregnant"] if "pregnant" not in flags else flags
    raw_doses = data.get("doses") or []
    if not isinstance(raw_doses, list):
        raise InputError("doses: liste attendue")
    doses = [_dose(raw, j, birth) for j, raw in enumerate(raw_doses)]
    return Person(birth, sex, frozenset(flags), due), doses, on


def _pregnancy(raw, sex) -> date | None:
    """Return the expected term described by the "pregnancy" object (None when absent)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InputError("pregnancy: objet attendu, par exemple {\"due_date\": \"2026-03-01\"}")
    _unknown_keys(raw, _PREGNANCY, "pregnancy.")
    if sex != "F":
        raise InputError("pregnancy: ne s'applique qu'au sexe « F »")
    if ("due_date" in raw) == ("start_date" in raw):
        raise InputError("pregnancy: « due_date » ou « start_date » (un seul des deux) est obligatoire")
    if "due_date" in raw:
        return _date(raw["due_date"], "pregnancy.due_date")
    return _date(raw["start_date"], "pregnancy.start_date") + timedelta(days=_TERM_DAYS)


def forecast(text: str, today: date) -> dict:
    """Return the JSON-ready status for the JSON input text (raises InputError)."""
    person, doses, on = parse(text, today)
    return {"on": on.isoformat(), "recommendations": [
        {"disease": r.disease, "status": r.status,
         "next_date": r.next_date.isoformat() if r.next_date else None,
         "dose": r.dose, "mandatory": r.mandatory, "reason": r.reason,
         "declared_pending": r.declared_pending, "rule": r.rule, "source": r.source}
        for r in evaluate(person, doses, on)]}


@click.command("forecast")
def forecast_command() -> None:
    """Read one JSON carnet on stdin and write its vaccination status as JSON."""
    from cvn.clock import today

    try:
        result = forecast(sys.stdin.read(), today())
    except InputError as error:
        click.echo(" ".join(str(error).split()), err=True)
        sys.exit(2)
    click.echo(json.dumps(result, ensure_ascii=False))
