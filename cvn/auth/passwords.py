"""Password strength: long enough, not guessable, not made of the account's own words.

zxcvbn estimates how many guesses an attacker needs; a score under 3 (fewer
than about 10^8 guesses) is refused. Its dictionaries are English, so common
French passwords and the service's own words are added as extra inputs.
"""
from __future__ import annotations

import unicodedata

from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 3
#: zxcvbn refuses longer input; what comes after cannot lower the score anyway.
ZXCVBN_LIMIT = 72

#: Common in France, absent from zxcvbn's English lists (fed to it as dictionary words).
FRENCH_WORDS = [
    "motdepasse", "azerty", "azertyuiop", "soleil", "bonjour", "doudou", "chouchou", "loulou",
    "marseille", "paris", "france", "amour", "jetaime", "coucou", "bisous", "chocolat", "princesse",
    "vaccin", "vaccination", "vaccins", "carnet", "sante", "medecin", "docteur", "infirmier",
    "pharmacie", "pharmacien", "hopital", "patient", "bebe", "enfant", "famille", "maman", "papa",
]

#: zxcvbn's warnings, in French.
WARNINGS = {
    "Straight rows of keys are easy to guess.": "une suite de touches du clavier se devine facilement",
    "Short keyboard patterns are easy to guess.": "un motif du clavier se devine facilement",
    'Repeats like "aaa" are easy to guess.': "des caractères répétés se devinent facilement",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        "un motif répété n’est guère plus sûr que le motif seul",
    "Sequences like abc or 6543 are easy to guess.": "une suite comme abc ou 6543 se devine facilement",
    "Recent years are easy to guess.": "une année récente se devine facilement",
    "Dates are often easy to guess.": "une date se devine facilement",
    "This is a top-10 common password.": "c’est l’un des mots de passe les plus utilisés",
    "This is a top-100 common password.": "c’est un mot de passe très courant",
    "This is a very common password.": "c’est un mot de passe très courant",
    "This is similar to a commonly used password.": "il ressemble à un mot de passe très courant",
    "A word by itself is easy to guess.": "un mot seul se devine facilement",
    "Names and surnames by themselves are easy to guess.": "un nom ou un prénom seul se devine facilement",
    "Common names and surnames are easy to guess.": "les noms et prénoms courants se devinent facilement",
}


def _fold(text: str) -> str:
    """Lower-case and strip accents, so "Éloïse" and "eloise" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def problem(password: str, email: str = "", names: tuple[str, ...] = ()) -> str | None:
    """Return why the password is refused, in French, or None when it is strong enough."""
    if len(password) < MIN_LENGTH:
        return _("Le mot de passe doit compter au moins %(n)s caractères.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Le mot de passe doit compter au plus %(n)s caractères.", n=MAX_LENGTH)
    folded = _fold(password)
    local = _fold(email.split("@", 1)[0]) if email else ""
    if local and len(local) >= 3 and local in folded:
        return _("Le mot de passe ne doit pas contenir votre adresse e-mail.")
    for name in names:
        for part in _fold(name).replace("-", " ").split():
            if len(part) >= 3 and part in folded:
                return _("Le mot de passe ne doit pas contenir votre nom ou votre prénom.")
    if "cvn" in folded:
        return _("Le mot de passe ne doit pas contenir « cvn », le nom du service.")
    inputs = [w for w in [local, *(_fold(n) for n in names)] if w] + FRENCH_WORDS
    result = zxcvbn(folded[:ZXCVBN_LIMIT], user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return None
    warning = WARNINGS.get(result["feedback"].get("warning") or "")
    reason = (_("Mot de passe trop facile à deviner : %(why)s.", why=warning) if warning
              else _("Mot de passe trop facile à deviner."))
    return reason + " " + _("Essayez une phrase de quatre mots sans rapport entre eux.")
