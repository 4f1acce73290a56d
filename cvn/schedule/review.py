"""``flask cvn calendar``: the whole calendar as a French Markdown document a clinician can review.

Generated from ``data/calendar.toml``, the very file the engine reads: every series
and rule with its ages, intervals, conditions and source, and the notes written in
the data file (DECISION, ASSUMPTION) beside the series they concern.
"""
from __future__ import annotations

import sys
from datetime import date

import click

from cvn.schedule.catalogue import DATA, FLAG_LABELS, disease_label, products
from cvn.schedule.rules import load_raw, parse_duration
from cvn.schedule.rules import duration_text as _duration
from cvn.schedule.rules import range_text as _range
from cvn.schedule.series import MONTHS, fmt

KIND_LABELS = {"doses": "doses", "fixed_ages": "rappels à âges fixes", "campaign": "campagne annuelle",
               "pregnancy": "dose de chaque grossesse", "season": "première saison de l'enfant"}


def duration(text: str) -> str:
    """Return a duration of the data file in French words ("1y6m" → "18 mois")."""
    return _duration(parse_duration(text))


def window(pair) -> str:
    """Return an [from, to) window in French words, the end shown inclusive."""
    return "entre " + _range(parse_duration(pair[0]), parse_duration(pair[1]))


def french_date(text) -> str:
    """Return an ISO date as « 1er janvier 2018 »."""
    return fmt(date.fromisoformat(str(text)).toordinal())


def notes_by_series() -> dict[str, list[list[str]]]:
    """Return the comment blocks of calendar.toml attached to each series id.

    Comments inside a series (followed by one of its lines) belong to it; those
    just before a ``[[series]]`` line belong to the series that follows.
    """
    notes: dict[str, list[list[str]]] = {}
    current, pending, buffer = None, [], []
    started = False
    for line in (DATA / "calendar.toml").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if started and not stripped.startswith("# ----"):
                buffer.append(stripped.lstrip("#").strip())
            continue
        if not stripped:
            continue
        if stripped == "[[series]]":
            started = True
            pending, buffer, current = buffer, [], None
            continue
        if current is None and stripped.startswith("id = ") and started:
            current = stripped.split("=", 1)[1].strip().strip('"')
            notes[current] = [[x for x in pending if x]] if any(pending) else []
            pending = []
        if current is not None and any(buffer):
            notes[current].append([x for x in buffer if x])
        buffer = []
    return notes


def _paragraphs(blocks: list[list[str]]) -> list[str]:
    """Join wrapped comment lines into paragraphs (one per block, a new one at each DECISION …)."""
    out: list[str] = []
    for lines in blocks:
        first = True
        for line in lines:
            head = line.split(" ", 1)[0].rstrip(":")
            if first or (head.isupper() and len(head) > 3):
                out.append(line)
            else:
                out[-1] += " " + line
            first = False
    return out


def _who(series: dict) -> list[str]:
    """Return the lines saying whom the series is for and whether it is an obligation."""
    lines = []
    if series.get("mandatory"):
        lines.append("**Obligatoire** (pour les mineurs : Code de la santé publique, art. L3111-2)")
    elif series.get("mandatory_born_from"):
        lines.append(f"**Obligatoire** pour les enfants nés à partir du {french_date(series['mandatory_born_from'])} "
                     "(jusqu'à 18 ans), recommandée sinon")
    elif series.get("optional"):
        lines.append("Facultative : jugée seulement si une injection est enregistrée")
    else:
        lines.append("Recommandée")
    if series.get("born_from"):
        lines.append(f"Personnes nées à partir du {french_date(series['born_from'])}")
    if series.get("born_before"):
        lines.append(f"Personnes nées avant le {french_date(series['born_before'])}")
    if series.get("sex"):
        lines.append("Femmes" if series["sex"] == "F" else "Hommes")
    if series.get("flags_any"):
        lines.append("Situations : " + " ; ".join(FLAG_LABELS[f] for f in series["flags_any"]))
    if series.get("who"):
        lines.append(f"Pour : {series['who']}")
    for key, text in (("start_before", "Plus proposée si elle n'est pas commencée avant {}"),
                      ("first_dose_before", "Une 1re injection à partir de {} compte pour la série suivante"),
                      ("until", "Aucune injection ne compte à partir de {}"),
                      ("booster_every", "Rappel tous les {}, seulement avant une nouvelle exposition"),
                      ("booster_products_count_from",
                       "Les vaccins de rappel à dose réduite ne comptent qu'à partir de {}")):
        if series.get(key):
            lines.append(text.format(duration(series[key])))
    if series.get("contraindicated_flags"):
        lines.append("Contre-indiquée pendant : "
                     + " ; ".join(FLAG_LABELS[f] for f in series["contraindicated_flags"]))
    return lines


def _dose_row(dose: dict) -> str:
    """Return one rule as a Markdown table row."""
    if dose.get("window"):
        when = window(dose["window"])
    elif dose.get("from_age"):
        when = f"dès {duration(dose['from_age'])}"
    elif dose.get("age"):
        when = f"à {duration(dose['age'])}"
    else:
        when = "—"
    if dose.get("after_window"):
        gap = window(dose["after_window"]) + " après la précédente"
    elif dose.get("after"):
        gap = f"{duration(dose['after'])} après la précédente"
    else:
        gap = "—"
    minimum = []
    if dose.get("min_age"):
        minimum.append(f"âge {duration(dose['min_age'])}")
    if dose.get("min_interval"):
        minimum.append(f"intervalle {duration(dose['min_interval'])}")
    extra = []
    if dose.get("products"):
        names = products()
        extra.append("vaccins : " + ", ".join(names[p].name for p in dose["products"]))
    for key, text in (("superseded_at", "remplacé par le suivant à {}"),
                      ("reuse_within", "une dose de moins de {} avant compte"),
                      ("after_other_product", "{} après un autre vaccin"),
                      ("after_polysaccharide", "{} après un vaccin polyosidique donné après un conjugué")):
        if dose.get(key):
            extra.append(text.format(duration(dose[key])))
    cells = [dose["label"], when, gap, ", ".join(minimum) or "—", "; ".join(extra) or "—", dose.get("source", "")]
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


def _doses(doses: list[dict]) -> list[str]:
    """Return the table of a list of rules."""
    return ["| Dose | Âge recommandé | Après la précédente | Minimum | Conditions | Source |",
            "|---|---|---|---|---|---|", *(_dose_row(d) for d in doses), ""]


def _variant_title(variant: dict) -> str:
    """Return in words when a variant is chosen."""
    parts = []
    if variant.get("first_dose_age"):
        low, high = variant["first_dose_age"]
        parts.append(f"1re dose à partir de {duration(low)}" if parse_duration(high)[0] >= 1200
                     else f"1re dose {window(variant['first_dose_age'])}")
    if variant.get("first_dose_products"):
        parts.append("1re dose avec " + ", ".join(products()[p].name for p in variant["first_dose_products"]))
    if variant.get("flags_any"):
        parts.append("situations : " + " ; ".join(FLAG_LABELS[f] for f in variant["flags_any"]))
    if variant.get("next_dose_within"):
        parts.append(f"aucune injection, ou la 2e moins de {duration(variant['next_dose_within'])} après la 1re")
    if variant.get("dosed_only"):
        parts.append("seulement si une telle injection existe")
    if variant.get("until"):
        parts.append(f"aucune injection ne compte à partir de {duration(variant['until'])}")
    return " ; ".join(parts) or "dans les autres cas"


def _month_day(text: str) -> str:
    """Return "10-15" as « 15 octobre »."""
    month, day = (int(x) for x in text.split("-"))
    return f"{'1er' if day == 1 else day} {MONTHS[month - 1]}"


def _kind_details(series: dict) -> list[str]:
    """Return what a fixed-ages, campaign, pregnancy or season series says."""
    kind = series.get("kind", "doses")
    out = []
    if kind == "fixed_ages":
        out.append(f"- Âges : {', '.join(duration(a) for a in series['ages'])}, puis tous les "
                   f"{duration(series['every'])} ; rendez-vous sauté si le dernier rappel a moins de "
                   f"{duration(series['skip_within'])} ; au-delà de {duration(series['max_gap'])} d'écart "
                   f"({duration(series['max_gap_late'])} à partir de {duration(series['late_age'])}), rappel "
                   "immédiat puis retour aux âges fixes")
    if kind in ("campaign", "season") or series.get("season"):
        start = series.get("campaign_start") or series.get("season_start")
        end = series.get("campaign_end") or series.get("season_end")
        if start:
            out.append(f"- Saison non publiée (règle par défaut) : du {_month_day(start)} à la veille du "
                       f"{_month_day(end)}")
        for season in series.get("season", ()):
            line = f"- Saison {season['name']} : du {french_date(season['start'])} au {french_date(season['last_day'])}"
            if season.get("source"):
                line += f" ({season['source']})"
            out.append(line)
    if series.get("two_doses_first_time_before"):
        out.append(f"- Première vaccination avant {duration(series['two_doses_first_time_before'])} : 2 doses à "
                   f"{duration(series['two_doses_gap'])} d'intervalle")
    if series.get("min_interval"):
        out.append(f"- Au moins {duration(series['min_interval'])} après la dose précédente")
    for group in series.get("eligible", ()):
        bits = [group.get("who", "")]
        if group.get("min_interval"):
            bits.append(f"délai {duration(group['min_interval'])}")
        out.append(f"- Pour : {', '.join(b for b in bits if b)} — {group.get('source', '')}")
    if kind == "pregnancy":
        weeks = [parse_duration(w)[1] // 7 for w in series["weeks"]]
        out.append(f"- Entre {weeks[0]} et {weeks[1] - 1} semaines d'aménorrhée (terme pris à 41 semaines)")
        if series.get("lookback"):
            out.append(f"- Sans date de terme : une dose des {duration(series['lookback'])} précédentes compte")
    return out


def calendar_markdown() -> str:
    """Return the calendar as a French Markdown review document."""
    raw = load_raw()
    notes = notes_by_series()
    settings = raw["settings"]
    out = ["# Calendrier des vaccinations : document de relecture clinique", "",
           "Généré par `flask cvn calendar` à partir de `cvn/schedule/data/calendar.toml`, le fichier que lit "
           "le moteur de statut. Ne pas modifier à la main : corriger le fichier de données puis régénérer "
           "(`flask cvn calendar > docs/calendrier.md`).", "",
           "Les âges sont atteints le jour de l'anniversaire ; une fin de fenêtre « entre 11 et 13 ans » va "
           "jusqu'à la veille des 14 ans. Les notes du fichier de données (en anglais, avec les décisions "
           "marquées DECISION) sont reprises sous chaque série.", "",
           "## Règles générales", "",
           f"- Une dose à âge unique est « à faire » pendant {duration(settings['tolerance_infant'])} avant "
           f"{duration(settings['infant_age'])}, pendant {duration(settings['tolerance'])} ensuite, puis « en retard ».",
           f"- Obligation légale affichée seulement avant {duration(settings['mandatory_until'])}.",
           f"- « Plus tard » : série jamais commencée dont la 1re dose est à plus de "
           f"{duration(settings['not_yet_beyond'])}.",
           "- Deux vaccins vivants (" + ", ".join(disease_label(d) for d in settings["live_diseases"])
           + f") : le même jour ou à au moins {duration(settings['live_gap'])} d'intervalle ; sinon le second "
           "ne compte pas (le vaccin rotavirus, oral, fait exception).",
           f"- Source : {settings['source']}", ""]
    for series in raw["series"]:
        names = ", ".join(disease_label(d) for d in series["diseases"])
        out += [f"## {names} : {series['name']}", "",
                f"Identifiant `{series['id']}` — {KIND_LABELS[series.get('kind', 'doses')]}", ""]
        out += [f"- {line}" for line in _who(series)]
        out += _kind_details(series)
        out += [f"- Source : {series['source']}", ""]
        if series.get("dose"):
            out += _doses(series["dose"])
        for variant in series.get("variant", ()):
            title = variant.get("name") or _variant_title(variant)
            out += [f"### Variante : {title}", "", f"Choisie si : {_variant_title(variant)}. "
                    f"Source : {variant.get('source', '')}", ""]
            out += _doses(variant.get("dose", []))
        paragraphs = _paragraphs(notes.get(series["id"], []))
        if paragraphs:
            out += ["Notes du fichier de données :", "", "\n>\n".join(f"> {p}" for p in paragraphs), ""]
    return "\n".join(out).rstrip() + "\n"


@click.command("calendar")
def calendar_command() -> None:
    """Print the whole vaccination calendar as a French Markdown review document."""
    sys.stdout.write(calendar_markdown())
