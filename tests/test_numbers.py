"""Numbers and percentages as each reader writes them: the server's quick formatter agrees with Babel's
CLDR data in every language (the browser side is compared in tests/browser/test_numbers.py)."""

import pytest
from babel.numbers import format_decimal, format_percent

from petition.formatting import MIN_GROUPING_DIGITS, number_style
from petition.i18n import SUPPORTED_LOCALES, cldr_locale

NUMBERS = [0, 1, 7, 999, 1000, 1234, 9999, 10000, 12345, 99999, 100000, 999999, 1000000, 1234567, 450000000]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_whole_numbers_are_written_as_cldr_says_with_its_minimum_grouping(locale):
    cldr = cldr_locale(locale)
    style = number_style(cldr)
    least = MIN_GROUPING_DIGITS.get(cldr, 1)
    for n in NUMBERS:
        grouped = len(str(n)) >= 3 + least
        assert style.integer(n) == format_decimal(n, locale=cldr, group_separator=grouped), (locale, n)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_percentages_are_the_locales_own_pattern_rounded_down(locale):
    cldr = cldr_locale(locale)
    style = number_style(cldr)
    least = MIN_GROUPING_DIGITS.get(cldr, 1)
    for part, whole in [(0, 100), (1, 3), (2, 3), (69119, 69120), (69120, 69120), (1000000, 54720), (5, 1)]:
        tenths = part * 1000 // whole
        grouped = len(str(tenths // 10)) >= 3 + least
        expected = format_percent(tenths / 1000, format=_one_decimal(cldr), locale=cldr, group_separator=grouped)
        assert style.share(part, whole) == expected, (locale, part, whole)


def _one_decimal(locale: str) -> str:
    from babel import Locale

    return Locale.parse(locale).percent_formats[None].pattern.replace("#,##0", "#,##0.0")


def test_one_signature_short_is_never_a_hundred_percent():
    assert number_style("en").share(69119, 69120) == "99.9%"
    assert number_style("de").share(69119, 69120) == "99,9\u00a0%"
    assert number_style("en").share(69119, 69120, digits=0) == "99%"
    assert number_style("en").share(69120, 69120) == "100.0%"


def test_portuguese_is_portugals():
    from petition.rules.countries import country_name

    assert number_style(cldr_locale("pt")).integer(1234) == "1234"
    assert number_style(cldr_locale("pt")).integer(1234567) == "1\u00a0234\u00a0567"
    assert country_name("CZ", "pt") == "Chéquia" and country_name("PL", "pt") == "Polónia"
