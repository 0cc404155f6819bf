"""The signing form, shared by our page, the widget and the partner API: what it asks (`SignForm`,
which renders it) and how an answer is read and checked (`read_signature`, one pass over the fields
with no form object, since it runs for every signature of a burst).

The form shows what `read_signature` found wrong (`SignForm.show_errors`); it does not validate.

On a European Citizens' Initiative the form asks for the signer's nationality rather than their
country (an initiative counts each signer for the member state of their nationality, wherever they
live) and for one more tick, `eligible`: citizen of that member state and old enough to sign there.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.widgets import Select, html_params

from petition.i18n import current_locale
from petition.rules import eci
from petition.rules.countries import normalise_country, sorted_by_name
from petition.services.signer_fields import FieldInvalid, clean_email, clean_name

SOURCE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _as_text(value):
    return value if isinstance(value, str) else ("" if value is None else str(value))


class CountrySelect(Select):
    """WTForms' <select>, with the same markup, but its options rendered once per list and language.
    Outside the EU the list holds every country, about 250: WTForms' way (`html_params` for each
    option) spent 2.6 ms on it, about 40 % of a rendering of the petition page, which each process
    repeats once a second per language while the page is read."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        for name in self.validation_attrs:
            if name not in kwargs and getattr(field.flags, name, False):
                kwargs[name] = getattr(field.flags, name)
        options = _options_html(tuple((str(value), str(label)) for value, label in field.choices))
        if isinstance(field.data, str):  # what the person chose, when the form comes back with an error
            chosen = f'<option value="{escape(field.data)}">'
            options = options.replace(chosen, f'<option selected value="{escape(field.data)}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704


@lru_cache(maxsize=64)
def _options_html(choices: tuple[tuple[str, str], ...]) -> str:
    return "".join(f'<option value="{escape(value)}">{escape(label or value)}</option>' for value, label in choices)


class SignForm(FlaskForm):
    class Meta:
        # Replaced by our own cookie-free form token (see form_token.py).
        csrf = False

    first_name = StringField(_l("First name"), filters=[_as_text], render_kw={"autocomplete": "given-name"})
    last_name = StringField(_l("Last name"), filters=[_as_text], render_kw={"autocomplete": "family-name"})
    email = StringField(
        _l("Email"), filters=[_as_text], render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"}
    )
    country = SelectField(
        _l("Country"),
        validate_choice=False,
        filters=[lambda v: normalise_country(_as_text(v))],
        widget=CountrySelect(),
    )
    consent = BooleanField(_l("I agree that my name, email and country are stored to count my signature."))
    # Only on ECI petitions (removed from the others in __init__).
    eligible = BooleanField(_l("I am a citizen of the member state I chose and old enough to sign there."))
    keep_informed = BooleanField(_l("Keep me informed about this campaign (optional)."))
    # A honeypot: hidden from people by CSS, filled in by naive bots.
    website = StringField(_l("Leave this field empty"), filters=[_as_text])
    form_token = HiddenField()
    source = HiddenField()

    def __init__(self, *args, allowed_countries=(), locale="en", eci=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.asks_nationality = eci
        choose = _l("Choose your nationality") if eci else _l("Choose your country")
        self.country.choices = [("", choose), *sorted_by_name(frozenset(allowed_countries), locale)]
        if eci:
            self.country.label.text = _l("Nationality")
            self.country.description = _l(
                "An initiative counts each signer for the member state of their nationality, wherever they live. "
                "With more than one, choose one: each person signs once."
            )
            self.consent.label.text = _l(
                "I agree that my name, email and nationality are stored to count my signature."
            )
            self.eligible.description = LazyString(minimum_ages_sentence)
        else:
            del self.eligible

    def show_errors(self, errors: dict[str, list]) -> None:
        """Mark the fields `read_signature` refused, so the page shows why next to each."""
        for name, messages in errors.items():
            if name in self._fields:
                self._fields[name].errors = list(messages)
        self._errors = None  # WTForms caches `errors`


def minimum_ages_sentence() -> str:
    """ "Minimum age: 16 (Austria, Belgium, …); 17 (Greece); 18 (all other member states).", from the
    shipped ECI table, in the reader's language and alphabetical order."""
    locale = current_locale()
    by_age = eci.states_by_minimum_age()
    usual = eci.usual_minimum_age()
    groups = []
    for age, codes in sorted(by_age.items()):
        if age == usual:
            continue
        names = ", ".join(name for _code, name in sorted_by_name(codes, locale))
        groups.append(f"{age} ({names})")
    everyone_else = _("all other member states")
    groups.append(f"{usual} ({everyone_else})")
    return _("Minimum age: %(ages)s.", ages="; ".join(groups))


_FALSE = ("", "false")  # what a checkbox sends (or not) when it is not ticked, as WTForms reads it


@dataclass
class Reading:
    """An answer to the signing form, read and checked."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""  # the address to write to
    email_local_part: str = ""
    email_ascii_domain: str = ""
    country: str = ""
    consent: bool = False
    eligible: bool = False
    keep_informed: bool = False
    honeypot: str = ""
    form_token: str = ""
    source: str = ""
    errors: dict[str, list] = field(default_factory=dict)

    @property
    def source_code(self) -> str | None:
        code = self.source.strip()
        return code if SOURCE_CODE.match(code) else None


def read_signature(
    formdata, allowed_countries: frozenset[str], check_deliverability: bool = False, *, eci: bool = False
) -> Reading:
    """The fields as `SignForm` names them, from a form post or the partner API's JSON (as a MultiDict).
    `eci`: the petition is a European Citizens' Initiative (nationality, and the `eligible` tick)."""

    def text(name: str) -> str:
        value = formdata.get(name)
        return value if isinstance(value, str) else ""

    def ticked(name: str) -> bool:
        return name in formdata and formdata.get(name) not in _FALSE

    reading = Reading(
        consent=ticked("consent"),
        eligible=ticked("eligible"),
        keep_informed=ticked("keep_informed"),
        honeypot=text("website"),
        form_token=text("form_token"),
        source=text("source"),
    )
    errors = reading.errors
    for name in ("first_name", "last_name"):
        try:
            setattr(reading, name, clean_name(text(name)))
        except FieldInvalid as error:
            errors[name] = [error.args[0]]
    try:
        reading.email, reading.email_local_part, reading.email_ascii_domain = clean_email(
            text("email"), check_deliverability
        )
    except FieldInvalid as error:
        errors["email"] = [error.args[0]]
    reading.country = normalise_country(text("country"))
    if not reading.country:
        errors["country"] = [_l("Please choose your nationality.") if eci else _l("Please choose your country.")]
    elif reading.country not in allowed_countries:
        errors["country"] = [_l("Please choose a country from the list.")]
    if not reading.consent:
        errors["consent"] = [_l("Please tick this box to sign: we cannot count you otherwise.")]
    if eci and not reading.eligible:
        errors["eligible"] = [
            _l("Please confirm that you are a citizen of the member state you chose and old enough to sign there.")
        ]
    return reading
