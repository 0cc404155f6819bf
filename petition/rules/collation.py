"""Alphabetical order as readers of each supported language expect it, for short lists such as country names.

Why not ICU: PyICU needs the ICU headers and a compiler at install, which `make run` on a fresh machine
cannot count on, and we sort only a few hundred names. Why not plain `casefold()`: code-point order puts
"Čad" after "Zambie" in Czech and "Österreich" after "Zypern" in German.

This is a small version of the Unicode Collation Algorithm at its first two levels. Letters compare by
their base letter (accents removed, so German "Ö" sorts with "O" and Greek "Ά" with "Α"), except the
letters each language's alphabet treats as letters of their own, which CLDR's tailorings place after
a given letter: Czech "č" after "c" and "ch" after "h", Polish "ł" after "l", Swedish "å ä ö" after
"z", Serbian Cyrillic "ђ" after "д". Accents then break ties, then the text itself.
"""

import re
import unicodedata
from functools import cache

# Per language: (letter it follows, the letters that follow it in order). From CLDR's collation
# tailorings, limited to what changes the order of words (not case or accent details).
_TAILORINGS: dict[str, list[tuple[str, str]]] = {
    "cs": [("c", "č"), ("h", "ch"), ("r", "ř"), ("s", "š"), ("z", "ž")],
    "sk": [("a", "ä"), ("c", "č"), ("h", "ch"), ("o", "ô"), ("r", "ř"), ("s", "š"), ("z", "ž")],
    "pl": [("a", "ą"), ("c", "ć"), ("e", "ę"), ("l", "ł"), ("n", "ń"), ("o", "ó"), ("s", "ś"), ("z", "ź ż")],
    "hr": [("c", "č ć"), ("d", "dž đ"), ("l", "lj"), ("n", "nj"), ("s", "š"), ("z", "ž")],
    "sr_Latn": [("c", "č ć"), ("d", "dž đ"), ("l", "lj"), ("n", "nj"), ("s", "š"), ("z", "ž")],
    "sl": [("c", "č ć"), ("d", "đ"), ("s", "š"), ("z", "ž")],
    "hu": [
        ("c", "cs"),
        ("d", "dz dzs"),
        ("g", "gy"),
        ("l", "ly"),
        ("n", "ny"),
        ("o", "ö ő"),
        ("s", "sz"),
        ("t", "ty"),
        ("u", "ü ű"),
        ("z", "zs"),
    ],
    "lt": [("c", "č"), ("i", "y"), ("s", "š"), ("z", "ž")],
    "lv": [("c", "č"), ("g", "ģ"), ("k", "ķ"), ("l", "ļ"), ("n", "ņ"), ("s", "š"), ("z", "ž")],
    "et": [("s", "š z ž"), ("w", "õ ä ö ü")],
    "fi": [("z", "å ä ö")],
    "sv": [("z", "å ä ö")],
    "da": [("z", "æ ø å")],
    "es": [("n", "ñ")],
    "ro": [("a", "ă â"), ("i", "î"), ("s", "ș"), ("t", "ț")],
    # Maltese: "ċ", "ġ", "ż" come before their plain letters; "għ" after "g", "ħ" after "h", "ie" after "i".
    "mt": [("b", "ċ"), ("f", "ġ"), ("g", "għ"), ("h", "ħ"), ("i", "ie"), ("y", "ż")],
    "sr_Cyrl": [("д", "ђ"), ("и", "ј"), ("л", "љ"), ("н", "њ"), ("т", "ћ"), ("ч", "џ")],
    "bg": [],
}
# Cyrillic letters that are letters of their own wherever they are used (not "и" with a breve); the
# rest of Cyrillic compares by code point, which is alphabetical for the basic letters.
_CYRILLIC_OWN_LETTERS = set("йў")
# Letters Unicode does not decompose, sorted as the letters they are written with where no tailoring
# says otherwise (Danish "ø", Polish "ł" and Croatian "đ" have their own places above).
_EXPANSIONS = {"æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "þ": "th"}


# Maltese names carry the definite article ("il-Belġju", "l-Awstrija"); dictionaries sort by the noun.
_ARTICLES = {"mt": re.compile(r"^(?:i?[lċdnrstxżz]|i[ġ])-")}


@cache
def _units(language: str) -> dict[str, tuple[int, int]]:
    """Each tailored letter or digraph -> (primary weight of the letter it follows, rank after it)."""
    units: dict[str, tuple[int, int]] = {}
    for anchor, letters in _TAILORINGS.get(language, []):
        for rank, letter in enumerate(letters.split(), start=1):
            units[letter] = (ord(anchor), rank)
    return units


def _base_letter(ch: str) -> tuple[str, str]:
    """(base letter, accents) of one character: "ö" -> ("o", "\u0308"); Cyrillic "й" stays itself."""
    if ch in _CYRILLIC_OWN_LETTERS:
        return ch, ""
    if ch in _EXPANSIONS:
        return _EXPANSIONS[ch], ch
    decomposed = unicodedata.normalize("NFD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    accents = "".join(c for c in decomposed if unicodedata.combining(c))
    return (base or ch), accents


def sort_key(text: str, language: str) -> tuple:
    """Primary weights (letters), then secondary (accents), then the text: a total, stable order."""
    units = _units(language)
    longest = max((len(unit) for unit in units), default=1)
    folded = unicodedata.normalize("NFC", text.casefold())
    if language in _ARTICLES:
        folded = _ARTICLES[language].sub("", folded)
    primary: list[tuple[int, int]] = []
    secondary: list[str] = []
    i = 0
    while i < len(folded):
        for size in range(longest, 0, -1):
            piece = folded[i : i + size]
            if len(piece) == size and piece in units:
                primary.append(units[piece])
                secondary.append("")
                i += size
                break
        else:
            base, accents = _base_letter(folded[i])
            for ch in base:
                # Spaces and punctuation sort before letters and digits, as in CLDR's root order.
                primary.append((ord(ch), 0) if ch.isalnum() else (0, ord(ch)))
            secondary.append(accents)
            i += 1
    return primary, secondary, text


def collation_language(locale: str) -> str:
    """The tailoring to use: `sr_Latn` and `sr_Cyrl` differ; other locales go by their language."""
    return locale if locale in _TAILORINGS else locale.split("_")[0]
