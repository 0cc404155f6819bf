"""The message catalogues as tests see them: compiled when missing or stale (as `make` does at install)."""

import os
import tempfile
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS = Path(__file__).resolve().parents[2] / "petition" / "translations"


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def compile_catalogues() -> None:
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parts[-3])
            # Written aside, then renamed: a parallel worker reading the catalogue never sees half of it.
            with tempfile.NamedTemporaryFile(dir=mo.parent, prefix=".messages-", suffix=".mo", delete=False) as target:
                write_mo(target, catalog)
            os.chmod(target.name, 0o644)
            os.replace(target.name, mo)


@pytest.fixture(scope="session")
def compiled_catalogues() -> None:
    compile_catalogues()


def translator(locale: str) -> Translations:
    """What a reader of `locale` sees for a message: `translator("de").gettext("Sign")`."""
    compile_catalogues()
    return Translations.load(str(TRANSLATIONS), [locale])
