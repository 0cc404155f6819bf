"""Numbers, dates and links written for the reader's locale (Babel's CLDR data)."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from urllib.parse import quote, urlencode

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol
from flask import request, url_for
from flask_babel import get_translations
from jinja2 import pass_context

from petition.i18n import bcp47, cldr_locale, current_locale

# A language link on the result of a form post leads to the page the form came from.
_GET_TWIN = {"public.sign": "public.petition_page", "public.confirm": "public.confirm_page"}

# CLDR's minimumGroupingDigits: in these languages a four-digit number takes no separator ("1234" but
# "12 345"). Babel (2.19) ignores it while browsers' Intl.NumberFormat applies it, so the server and
# live.js used to write the same total two ways. From CLDR's common/main/<language>.xml; the browser
# test tests/browser/test_numbers.py compares both sides in every language.
MIN_GROUPING_DIGITS = {"bg": 2, "es": 2, "et": 2, "hu": 2, "it": 2, "lv": 2, "pl": 2, "pt_PT": 2, "sl": 2}


@dataclass(frozen=True)
class NumberStyle:
    """How one locale writes whole numbers and percentages: Babel's CLDR data read once, so that the 27
    countries of a petition page cost microseconds rather than a Babel call each (tests/test_numbers.py
    checks every locale against Babel)."""

    locale: str
    group: str
    decimal: str
    grouped_from: int  # the smallest number written with a group separator
    percent_prefix: str
    percent_suffix: str

    def integer(self, n: int) -> str:
        if n < 0:
            return format_decimal(n, locale=self.locale, group_separator=-n >= self.grouped_from)
        if n < self.grouped_from:
            return str(n)
        return f"{n:,}".replace(",", self.group)

    def share(self, part: int, whole: int, digits: int = 1) -> str:
        """`part` of `whole` as a percentage rounded down, so that one signature short is never "100 %"."""
        if digits == 0:
            number = self.integer(max(part, 0) * 100 // whole)
        else:
            tenths = max(part, 0) * 1000 // whole
            number = f"{self.integer(tenths // 10)}{self.decimal}{tenths % 10}"
        return f"{self.percent_prefix}{number}{self.percent_suffix}"


@cache
def number_style(locale: str) -> NumberStyle:
    """For a CLDR locale (see `cldr_locale`)."""
    prefix, _, suffix = format_percent(0, locale=locale).partition("0")
    return NumberStyle(
        locale=locale,
        group=get_group_symbol(locale),
        decimal=get_decimal_symbol(locale),
        grouped_from=10 ** (2 + MIN_GROUPING_DIGITS.get(locale, 1)),
        percent_prefix=prefix,
        percent_suffix=suffix,
    )


def reader_number_style() -> NumberStyle:
    return number_style(cldr_locale(current_locale()))


def format_count(value: int | None) -> str:
    """1234567 -> "1,234,567" (en), "1.234.567" (de), "1 234 567" with a no-break space (fr, pl, sv);
    1234 -> "1234" in Polish, Spanish or Italian, where four digits are not grouped."""
    return reader_number_style().integer(value or 0)


@pass_context
def number_filter(context, value: int | None) -> str:
    """The templates' `number` filter: with the page's `number_style` when its view gave one (a petition
    page writes a hundred numbers; looking the locale up for each was a tenth of its rendering)."""
    style = context.get("number_style")
    return (style or reader_number_style()).integer(value or 0)


def format_share(part: int, whole: int, digits: int = 1) -> str:
    """69119 of 69120 -> "99.9%" (en), "99,9 %" (de): rounded down, never 100 % before it is reached."""
    return reader_number_style().share(part, whole, digits)


def number_locale() -> str:
    """The BCP 47 tag live.js gives `Intl.NumberFormat`, to write numbers as the server does."""
    return bcp47(cldr_locale(current_locale()))


def language_name(locale: str) -> str:
    """A language named in the reader's language: `en` is "inglese" on an Italian page."""
    return _language_name(locale, cldr_locale(current_locale()))


@cache
def _language_name(locale: str, reader: str) -> str:
    return Locale.parse(locale).get_display_name(reader) or locale


def format_day(moment: datetime) -> str:
    """The calendar day in UTC, written out: "25 November 2027", "25. studenoga 2027."."""
    return format_date(moment.date(), format="long", locale=cldr_locale(current_locale()))


def plural_forms(singular: str, plural: str) -> dict:
    """For a script that updates a count: the reader's language tag for `Intl.PluralRules`, and the
    message (with `%(count)s` still in it) for each CLDR plural category, from this language's catalogue."""
    return _plural_forms(singular, plural, current_locale(), get_translations())


@lru_cache(maxsize=256)  # fixed per language and message for the life of the process; asked on every page
def _plural_forms(singular: str, plural: str, locale: str, translations) -> dict:
    rules_locale = cldr_locale(locale)
    rule = Locale.parse(rules_locale).plural_form
    forms: dict[str, str] = {}
    for n in [*range(200), 1_000_000]:
        forms.setdefault(rule(n), translations.ungettext(singular, plural, n))
    return {"locale": bcp47(rules_locale), "forms": forms}


@pass_context
def lang_url(context, locale: str) -> str:
    """This page in another language: the same address with `lang` set, other query arguments kept.
    A page rendered once for many visitors (petition.public_cache) says which arguments it was made
    for in `page_args`: only those are kept, never the arguments of the visitor it was rendered for."""
    tag = bcp47(locale)
    if request.method in ("GET", "HEAD"):  # a HEAD renders (and may cache) the same page as the GET
        page_args = context.get("page_args")
        if page_args is None:
            args = request.args.to_dict(flat=False)
            args["lang"] = [tag]
        else:
            args = {"lang": [tag], **{name: [value] for name, value in page_args.items()}}
        return f"{request.script_root}{quote(request.path)}?{urlencode(args, doseq=True)}"
    twin = _GET_TWIN.get(request.endpoint or "")
    if twin is None:
        return url_for("public.index", lang=tag)
    return url_for(twin, **(request.view_args or {}), lang=tag)
