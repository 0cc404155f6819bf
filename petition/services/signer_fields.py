"""Cleaning what a signer types: names and email addresses, the same for the form and the API."""

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

NAME_MAX = 100
EMAIL_MAX = 254
# Zero-width (non-)joiners are part of correct spelling in Persian, Indic and other scripts.
_ALLOWED_FORMAT_CHARS = {"\u200c", "\u200d"}


class FieldInvalid(ValueError):
    """Its message is a lazy translation: it reads in the language of the request that shows it."""


def clean_name(value: str) -> str:
    """NFC, trimmed, inner white space folded; refuses control, bidi-override and unassigned characters."""
    text = unicodedata.normalize("NFC", value)
    for ch in text:
        category = unicodedata.category(ch)
        if category in {"Cc", "Cs", "Co", "Cn"} or (category == "Cf" and ch not in _ALLOWED_FORMAT_CHARS):
            raise FieldInvalid(_l("Please remove invisible or control characters."))
        if ch == "\ufffd":
            raise FieldInvalid(_l("Please remove invisible or control characters."))
    text = " ".join(text.split())
    if not text:
        raise FieldInvalid(_l("This field is required."))
    if len(text) > NAME_MAX:
        raise FieldInvalid(_l("Please use at most %(count)s characters.", count=NAME_MAX))
    if not any(unicodedata.category(ch).startswith("L") for ch in text):
        raise FieldInvalid(_l("Please enter a name with letters."))
    return text


def clean_email(value: str, check_deliverability: bool = False) -> tuple[str, str, str]:
    """Returns (address to send to, local part, ASCII domain). Refuses addresses that would need
    SMTPUTF8: the standard library mangles a non-ASCII local part in the To header."""
    text = value.strip()
    if not text:
        raise FieldInvalid(_l("This field is required."))
    if len(text) > EMAIL_MAX or any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} for ch in text):
        raise FieldInvalid(_l("Please enter a valid email address."))
    try:
        result = validate_email(text, check_deliverability=check_deliverability, allow_smtputf8=False)
    except EmailNotValidError as error:
        # The validator's own explanation is English only, so it is not shown.
        raise FieldInvalid(_l("Please enter a valid email address.")) from error
    return result.ascii_email or result.normalized, result.local_part, result.ascii_domain
