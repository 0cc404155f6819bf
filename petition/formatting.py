"""Numbers, dates and links written for the reader's locale (Babel's CLDR data)."""

from datetime import datetime
from functools import lru_cache
from urllib.parse import quote, urlencode

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from flask import request, url_for
from flask_babel import get_translations
from jinja2 import pass_context

from petition.i18n import PLURAL_RULES_OF, bcp47, current_locale
from petition.rules.progress import share_to_show

# A language link on the result of a form post leads to the page the form came from.
_GET_TWIN = {"public.sign": "public.petition_page", "public.confirm": "public.confirm_page"}


def format_count(value: int | None) -> str:
    """1234567 -> "1,234,567" (en), "1.234.567" (de), "1 234 567" with a no-break space (fr, pl, sv)."""
    return format_decimal(value or 0, locale=current_locale())


def format_share(fraction: float) -> str:
    """0.25 -> "25.0%" ("25,0 %" in German); anything short of the whole reads at most 99.9 %."""
    return format_percent(share_to_show(fraction, 1), format="#,##0.0%", locale=current_locale())


def format_day(moment: datetime) -> str:
    """The calendar day in UTC, written out: "25 November 2027", "25. studenoga 2027."."""
    return format_date(moment.date(), format="long", locale=current_locale())


def plural_forms(singular: str, plural: str) -> dict:
    """For a script that updates a count: the reader's language tag for `Intl.PluralRules`, and the
    message (with `%(count)s` still in it) for each CLDR plural category, from this language's catalogue."""
    return _plural_forms(singular, plural, current_locale(), get_translations())


@lru_cache(maxsize=256)  # fixed per language and message for the life of the process; asked on every page
def _plural_forms(singular: str, plural: str, locale: str, translations) -> dict:
    rules_locale = PLURAL_RULES_OF.get(locale, locale)
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
    if request.method == "GET":
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
