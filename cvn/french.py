"""French grammar helpers: plurals (0 and 1 are singular) and the elision of « de »."""
from __future__ import annotations

from flask_babel import get_translations

#: Letters after which « de » elides to « d’ » (vowels with or without accents, and a mute h).
ELIDING = set("aeiouyhàâäéèêëîïôöùûüÿæœAEIOUYHÀÂÄÉÈÊËÎÏÔÖÙÛÜŸÆŒ")


def plural_form(singular: str, plural: str, n: int) -> str:
    """Pick the French form: singular for 0 and 1, plural from 2 ("0 dose", "2 doses")."""
    return singular if abs(n) <= 1 else plural


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """Return the French singular or plural, formatted with ``num`` and ``variables``."""
    return plural_form(singular, plural, num) % {"num": num, **variables}


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    """Translate through the catalogue when one exists, else apply the French rule."""
    translations = get_translations()
    if getattr(translations, "_catalog", None):
        return translations.ungettext(singular, plural, n)
    return plural_form(singular, plural, n)


def de(name: str) -> str:
    """Return « de Lou » or « d’Éloïse »: « de » elided before a vowel or a mute h."""
    name = name.strip()
    return f"d’{name}" if name[:1] in ELIDING else f"de {name}"


def install(jinja_env) -> None:
    """Make templates' ``ngettext`` French (0 is singular) and give them ``de``."""
    jinja_env.install_gettext_callables(
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=_template_ngettext,
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )
    jinja_env.globals["de"] = de
