"""Which language a person reads: the supported locales, how one is chosen per request, and how it is written.

Order of choice: `?lang=` in the URL (our links and the widget's iframe URL both carry it), then a
language the view knows (a signer's, on their confirmation page), then the choice remembered in a cookie
on our own pages, then the browser's Accept-Language, then English.
A third-party iframe drops our cookies, which is why the widget passes its `data-lang` in the URL.
"""

from functools import cache

from babel import Locale, UnknownLocaleError
from flask import Flask, g, has_request_context, request
from flask_babel import get_locale
from markupsafe import Markup

from petition import policy

DEFAULT_LOCALE = "en"
# The 24 official EU languages, and Serbian in both of its scripts. Identifiers are Babel's (and the
# names of the folders in petition/translations/); `bcp47()` gives the tag for `lang` attributes.
SUPPORTED_LOCALES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu",
    "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sr_Cyrl", "sr_Latn", "sv",
)  # fmt: skip
# Where the EU's variety of a language is not the one CLDR gives the bare language: the EU's Portuguese
# is Portugal's, for numbers ("1234", "12 345"), country names ("Chéquia", "Polónia") and plural rules
# (0 takes the plural, "0 assinaturas"), not Brazil's. `cldr_locale()` applies it.
CLDR_LOCALE_OF = {"pt": "pt_PT"}
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
# Which pages stay in English (staff pages, and the partners' technical page) and which never remember a
# language (pages inside other sites, APIs) is each route's declared policy (petition.policy).


def english_only() -> bool:
    """Staff pages and the partners' technical page (embed code and API examples for web developers) stay
    in English (their text is not in the catalogues): they say so in <html lang> and offer no language
    links, whatever language the person reads the public pages in."""
    return has_request_context() and policy.current().english_only


@cache
def _by_lower() -> dict[str, str]:
    return {code.lower(): code for code in SUPPORTED_LOCALES}


def match_locale(tag: str | None) -> str | None:
    """The supported locale for a language tag (`de`, `de-AT`, `pt_BR`, `sr-Latn-RS`, `sr-cyrl`), or None.

    Serbian without a script follows CLDR's likely script for its region: Cyrillic in Serbia and by
    default, Latin in Montenegro and Bosnia."""
    if not tag or len(tag) > 35:
        return None
    text = tag.strip().replace("-", "_")
    exact = _by_lower().get(text.lower())
    if exact:
        return exact
    try:
        locale = Locale.parse(text)
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    if locale.language == "sr":
        return "sr_Latn" if locale.script == "Latn" else "sr_Cyrl"
    return _by_lower().get(locale.language)


def from_accept_language() -> str | None:
    for tag, _quality in request.accept_languages:
        found = match_locale(tag)
        if found:
            return found
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector; usable in any request."""
    if not has_request_context() or english_only():
        return DEFAULT_LOCALE
    return (
        match_locale(request.args.get("lang"))
        # A view that knows better than the browser (the confirmation page knows the signer's language).
        or match_locale(g.get("signer_locale"))
        or match_locale(request.cookies.get(LANG_COOKIE))
        or from_accept_language()
        or DEFAULT_LOCALE
    )


def current_locale() -> str:
    """The identifier of the locale in force (forced for an email, or chosen for this request)."""
    return str(get_locale() or DEFAULT_LOCALE)


def cldr_locale(locale: str) -> str:
    """The CLDR locale whose numbers, dates, country names and plural rules a reader of `locale` expects."""
    return CLDR_LOCALE_OF.get(locale, locale)


def bcp47(locale: str) -> str:
    """`sr_Latn` -> `sr-Latn`: the form HTML's `lang` attribute and Content-Language expect."""
    return locale.replace("_", "-")


def lang_arg() -> str | None:
    """The `lang` to carry into the next URL (form actions, redirects): the page's language, unless it is
    the default one and nobody asked for it (then URLs stay as they were)."""
    locale = current_locale()
    if locale == DEFAULT_LOCALE and not (has_request_context() and "lang" in request.args):
        return None
    return bcp47(locale)


def lang_attr(locale: str | None):
    """` lang="sr-Latn"` for text in another language than the page (a petition not yet translated), so
    that screen readers pronounce it right (WCAG 3.1.2); nothing when it is the page's language."""
    if not locale or locale == current_locale():
        return Markup("")
    return Markup(' lang="%s"') % bcp47(locale)


# Each language's name in itself, as the switcher on every page shows it. Written out (from Babel's
# CLDR data, checked by tests/test_i18n.py) because asking Babel loads all 26 languages' data into
# every worker, about 30 MB in all, for 26 words.
AUTONYMS = {
    "bg": "Български", "cs": "Čeština", "da": "Dansk", "de": "Deutsch", "el": "Ελληνικά", "en": "English",
    "es": "Español", "et": "Eesti", "fi": "Suomi", "fr": "Français", "ga": "Gaeilge", "hr": "Hrvatski",
    "hu": "Magyar", "it": "Italiano", "lt": "Lietuvių", "lv": "Latviešu", "mt": "Malti", "nl": "Nederlands",
    "pl": "Polski", "pt": "Português", "ro": "Română", "sk": "Slovenčina", "sl": "Slovenščina",
    "sr_Cyrl": "Српски (ћирилица)", "sr_Latn": "Srpski (latinica)", "sv": "Svenska",
}  # fmt: skip


def autonym(locale: str) -> str:
    """A language's name in itself ("Deutsch", "Српски (ћирилица)")."""
    return AUTONYMS[locale]


def language_choices() -> list[tuple[str, str, str]]:
    """(locale, BCP 47 tag, autonym) for every supported language, in the order of their tags."""
    return [(code, bcp47(code), autonym(code)) for code in sorted(SUPPORTED_LOCALES, key=str.lower)]


def remember_choice(response):
    """After a page was asked for with a valid `?lang=`, keep that choice for the next visit. Not on a
    page served inside other sites (the cookie would be a third-party one, dropped anyway), to scripts
    (meaningless to an API client) or in English only."""
    if not policy.current().language_cookie:
        return response
    # The page's language depends on these: a shared cache must not serve one person's German to another.
    response.vary.update(("Accept-Language", "Cookie"))
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Language", bcp47(current_locale()))
    if request.method != "GET":
        return response
    chosen = match_locale(request.args.get("lang"))
    if chosen and chosen != request.cookies.get(LANG_COOKIE):
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=LANG_COOKIE_MAX_AGE,
            samesite="Lax",
            secure=request.is_secure,
            httponly=True,
        )
    return response


def register(app: Flask) -> None:
    """Template helpers: `html_lang`, `language_choices`, `lang_url(code)`, and the `number` filter."""
    from petition.formatting import lang_url, number_filter

    app.after_request(remember_choice)
    app.jinja_env.filters["number"] = number_filter

    @app.context_processor
    def i18n_context():
        locale = current_locale()
        return {
            "current_locale": locale,
            "html_lang": bcp47(locale),
            "language_choices": language_choices,
            "offer_languages": not english_only(),
            "lang_url": lang_url,
            "lang_arg": lang_arg,
            "lang_attr": lang_attr,
        }
