"""Diseases and vaccine products, loaded once from the TOML files in ``data/``."""
from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

#: Person flags the calendar may test, with their French labels (display order).
FLAG_LABELS = {
    "pregnant": "Grossesse en cours",
    "immunocompromised": "Immunodépression (maladie ou traitement)",
    "chronic_heart_lung": "Maladie chronique cardiaque ou respiratoire",
    "asplenia": "Asplénie (absence ou dysfonctionnement de la rate)",
    "complement_deficiency": "Déficit en complément (défense immunitaire, y compris traitement par éculizumab)",
    "hiv": "Infection par le VIH",
    "msm": "Homme ayant des relations sexuelles avec des hommes",
    "bcg_risk": "Enfant exposé à un risque élevé de tuberculose",
}
FLAGS = tuple(FLAG_LABELS)


@dataclass(frozen=True)
class Disease:
    code: str
    label: str


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    diseases: tuple[str, ...]
    kind: str = "vaccine"
    flags: frozenset[str] = field(default_factory=frozenset)


def fold(text: str) -> str:
    """Return text lower-cased without accents or extra spaces ("Éloïse " → "eloise")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().replace("-", " ").split())


@lru_cache(maxsize=1)
def diseases() -> dict[str, Disease]:
    """Return the diseases by code, in display order."""
    raw = tomllib.loads((DATA / "diseases.toml").read_text(encoding="utf-8"))
    return {d["code"]: Disease(d["code"], d["label"]) for d in raw["disease"]}


@lru_cache(maxsize=1)
def products() -> dict[str, Product]:
    """Return the products by code, checking their diseases exist."""
    raw = tomllib.loads((DATA / "products.toml").read_text(encoding="utf-8"))
    known = diseases()
    result = {}
    for p in raw["product"]:
        unknown = [d for d in p["diseases"] if d not in known]
        if unknown:
            raise ValueError(f"product {p['code']}: unknown disease(s) {unknown}")
        flags = frozenset(k for k in ("reduced_dose", "polysaccharide", "live") if p.get(k))
        result[p["code"]] = Product(p["code"], p["name"], tuple(p["diseases"]), p.get("kind", "vaccine"), flags)
    return result


@lru_cache(maxsize=1)
def _by_folded_name() -> dict[str, Product]:
    return {fold(p.name): p for p in products().values()}


def product_by_name(name: str) -> Product | None:
    """Return the catalogue product whose name matches, ignoring case and accents."""
    return _by_folded_name().get(fold(name))


def search_products(query: str, limit: int = 8) -> list[Product]:
    """Return products whose name contains the query; names starting with it first."""
    q = fold(query)
    if not q:
        return []
    hits = [p for p in products().values() if q in fold(p.name) or q == p.code]
    hits.sort(key=lambda p: (not fold(p.name).startswith(q), p.name))
    return hits[:limit]


def disease_label(code: str) -> str:
    """Return the French label of a disease code (the code itself if unknown)."""
    disease = diseases().get(code)
    return disease.label if disease else code


def sort_diseases(codes) -> list[str]:
    """Return disease codes in display order."""
    order = {code: i for i, code in enumerate(diseases())}
    return sorted(set(codes), key=lambda c: order.get(c, len(order)))
