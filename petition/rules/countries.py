"""ISO 3166-1 alpha-2 countries, named from Babel's CLDR data, with the EU's `EL` for Greece."""

from functools import cache

from babel import Locale

from petition.i18n import cldr_locale
from petition.rules.collation import collation_language, sort_key

# CLDR territories with two-letter codes that are not ISO 3166-1 countries.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ"}
_ALIASES = {"EL": "GR", "UK": "GB"}


@cache
def iso_countries() -> frozenset[str]:
    territories = Locale("en").territories
    return frozenset(code for code in territories if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


def normalise_country(value: str) -> str:
    """`el`, ` GR ` and `gr` all mean Greece; returns the ISO code, or the cleaned input if unknown."""
    code = value.strip().upper()
    return _ALIASES.get(code, code)


@cache
def country_name(code: str, locale: str = "en") -> str:
    """In the reader's language: "Chéquia" in Portugal's Portuguese, the EU's (see `cldr_locale`)."""
    return Locale.parse(cldr_locale(locale)).territories.get(code, code)


def sorted_by_name(codes, locale: str = "en") -> list[tuple[str, str]]:
    """(code, name) pairs in the reader's alphabetical order (see petition.rules.collation)."""
    return list(_sorted_by_name(tuple(sorted(codes)), locale))


@cache  # a handful of country lists times 26 languages; sorting with collation keys on every page was costly
def _sorted_by_name(codes: tuple[str, ...], locale: str) -> tuple[tuple[str, str], ...]:
    language = collation_language(locale)
    return tuple(
        sorted(((code, country_name(code, locale)) for code in codes), key=lambda pair: sort_key(pair[1], language))
    )
