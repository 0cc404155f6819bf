"""Every language's catalogue is complete, not fuzzy, keeps the placeholders, and uses its own plural forms."""

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from petition.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES
from tests.helpers.catalogues import TRANSLATIONS, po_path, translator

TRANSLATED = [code for code in SUPPORTED_LOCALES if code != DEFAULT_LOCALE]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# The EU's Portuguese is Portugal's: 0 takes the plural there ("0 assinaturas"), unlike in Brazil.
PLURAL_RULES_OF = {"pt": "pt_PT"}


def read(locale: str):
    with po_path(locale).open("rb") as source:
        return read_po(source, locale=locale)


def source_messages() -> set:
    """What the code and templates ask to translate now (the same rules as `make translations-extract`)."""
    root = TRANSLATIONS.parents[1]
    method_map = [
        ("petition/organiser/**", "ignore"),
        ("templates/organiser/**", "ignore"),
        ("templates/email/organiser_*", "ignore"),
        ("templates/public/share.html", "ignore"),
        ("petition/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map, keywords=keywords, callback=None
    ):
        found.add(message if isinstance(message, str) else tuple(message[:2]))
    return {m for m in found if m and "translations" not in str(m)}


def test_the_template_lists_every_message_in_the_code():
    with (TRANSLATIONS / "messages.pot").open("rb") as source:
        template = {m.id for m in read_po(source) if m.id}
    asked = source_messages()
    assert len(asked) > 50, "extraction found (almost) nothing: check the method map"
    missing = asked - template
    assert not missing, f"run `make translations-extract translations-update`; not in messages.pot: {missing}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogue_is_complete_and_not_fuzzy(locale):
    catalog = read(locale)
    with (TRANSLATIONS / "messages.pot").open("rb") as source:
        template = [m for m in read_po(source) if m.id]
    assert not catalog.fuzzy, f"{locale}: the catalogue header is marked fuzzy"
    problems = []
    for wanted in template:
        message = catalog.get(wanted.id)
        if message is None:
            problems.append(f"missing: {wanted.id!r}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {wanted.id!r}")
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(form.strip() for form in forms):
            problems.append(f"untranslated: {wanted.id!r}")
        source = wanted.id[1] if isinstance(wanted.id, tuple) else wanted.id
        for form in forms:
            if form and set(PLACEHOLDER.findall(form)) != set(PLACEHOLDER.findall(source)):
                problems.append(f"placeholders differ: {source!r} -> {form!r}")
    errors = [f"{message.id!r}: {error}" for message, errs in catalog.check() for error in errs]
    assert not problems + errors, f"{locale}:\n" + "\n".join(problems + errors)


@pytest.mark.parametrize("locale", TRANSLATED)
def test_plural_forms_are_the_languages_own(locale):
    catalog = read(locale)
    expected = get_plural(PLURAL_RULES_OF.get(locale, locale))
    assert catalog.num_plurals == expected.num_plurals
    assert catalog.plural_expr.replace(" ", "") == expected.plural_expr.replace(" ", "")
    for message in catalog:
        if message.id and isinstance(message.id, tuple):
            assert len(message.string) == expected.num_plurals, message.id


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pl", {1: "1 podpis", 2: "2 podpisy", 5: "5 podpisów", 12: "12 podpisów", 22: "22 podpisy"}),
        ("sl", {1: "1 podpis", 2: "2 podpisa", 3: "3 podpisi", 5: "5 podpisov", 101: "101 podpis", 102: "102 podpisa"}),
        ("sr_Cyrl", {1: "1 потпис", 2: "2 потписа", 5: "5 потписа", 11: "11 потписа", 21: "21 потпис"}),
        ("sr_Latn", {1: "1 potpis", 3: "3 potpisa", 21: "21 potpis", 111: "111 potpisa"}),
        ("cs", {1: "1 podpis", 4: "4 podpisy", 5: "5 podpisů"}),
        ("lt", {1: "1 parašas", 2: "2 parašai", 10: "10 parašų", 21: "21 parašas"}),
        ("lv", {0: "0 parakstu", 1: "1 paraksts", 2: "2 paraksti", 11: "11 parakstu", 21: "21 paraksts"}),
        ("ro", {1: "1 semnătură", 19: "19 semnături", 20: "20 de semnături"}),
        ("fr", {0: "0 signature", 1: "1 signature", 2: "2 signatures"}),
        ("pt", {0: "0 assinaturas", 1: "1 assinatura"}),
    ],
)
def test_signature_counts_read_right(locale, expected):
    translations = translator(locale)
    for n, text in expected.items():
        assert translations.ngettext("%(count)s signature", "%(count)s signatures", n) % {"count": n} == text
