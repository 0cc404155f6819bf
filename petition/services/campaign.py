"""Who runs a petition, as its page shows it: the organisers' name and contact, and for a European
Citizens' Initiative its registration number and its page on the Commission's signing system.
One set of checks for the CLI and the organisers' form (through petition.services.petitions)."""

import re
import unicodedata
from urllib.parse import urlsplit

from petition.services.signer_fields import FieldInvalid, clean_email

# The Commission numbers registered initiatives "ECI(2024)000004".
ECI_NUMBER = re.compile(r"^ECI\((20\d\d)\)(\d{6})$")
CONTACT_MESSAGE = "Give an email address or a web address (https://…) people can reach you at."
OFFICIAL_MESSAGE = "Give the https:// address of the initiative on the Commission's site (…europa.eu)."


def _one_line(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join((text or "").split()))


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} for ch in text)


def check_web_address(url: str, message: str, *, https_only: bool = False) -> str:
    """An absolute http(s) address of a named host, with no credentials, spaces or control characters."""
    if not url or _has_control(url) or any(ch.isspace() for ch in url):
        raise ValueError(message)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError as error:
        raise ValueError(message) from error
    schemes = {"https"} if https_only else {"https", "http"}
    if parts.scheme not in schemes or "." not in host or parts.username or parts.password:
        raise ValueError(message)
    return url


def check_contact(contact: str) -> str:
    """An email address (shown as a mail link) or a web address people can reach the organisers at."""
    if "@" in contact and "/" not in contact:
        try:
            address, _local, _domain = clean_email(contact)
        except FieldInvalid as error:
            raise ValueError(CONTACT_MESSAGE) from error
        return address
    return check_web_address(contact, CONTACT_MESSAGE)


def check_eci_signing_url(url: str) -> str:
    """Only an address on the Commission's own site: the pages call it the official way to sign, so a
    mistyped or hostile address must not pass for it."""
    url = check_web_address(url, OFFICIAL_MESSAGE, https_only=True)
    host = urlsplit(url).hostname or ""
    if host != "europa.eu" and not host.endswith(".europa.eu"):
        raise ValueError(OFFICIAL_MESSAGE)
    return url


def check_campaign(
    name: str, contact: str, number: str, url: str, *, is_eci: bool, errors: dict[str, str]
) -> dict[str, str | None]:
    """The four fields cleaned (None when empty), as the petition's columns; what is wrong goes to `errors`."""
    name, contact, url = _one_line(name), _one_line(contact), _one_line(url)
    number = _one_line(number).upper()
    if len(name) > 200 or _has_control(name):
        errors["organiser_name"] = "The organiser's name must be at most 200 characters of text."
    if contact:
        if len(contact) > 300:
            errors["organiser_contact"] = "The contact must be at most 300 characters."
        else:
            try:
                contact = check_contact(contact)
            except ValueError as error:
                errors["organiser_contact"] = str(error)
    if number:
        if not is_eci:
            errors["eci_registration_number"] = "Only a European Citizens' Initiative has a registration number."
        elif not ECI_NUMBER.match(number):
            errors["eci_registration_number"] = "Write the number as the Commission does, for example ECI(2024)000004."
    if url:
        if not is_eci:
            errors["eci_signing_url"] = "Only a European Citizens' Initiative has a page on the Commission's site."
        elif len(url) > 500:
            errors["eci_signing_url"] = "The address must be at most 500 characters."
        else:
            try:
                url = check_eci_signing_url(url)
            except ValueError as error:
                errors["eci_signing_url"] = str(error)
    return {
        "organiser_name": name or None,
        "organiser_contact": contact or None,
        "eci_registration_number": number or None,
        "eci_signing_url": url or None,
    }
