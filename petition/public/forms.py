"""The signing form, shared by our page, the widget and the partner API."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, ValidationError

from petition.rules.countries import normalise_country, sorted_by_name
from petition.services.signer_fields import FieldInvalid, clean_email, clean_name

SOURCE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _as_text(value):
    return value if isinstance(value, str) else ("" if value is None else str(value))


class SignForm(FlaskForm):
    class Meta:
        # Replaced by our own cookie-free form token (see form_token.py).
        csrf = False

    first_name = StringField(_l("First name"), filters=[_as_text], render_kw={"autocomplete": "given-name"})
    last_name = StringField(_l("Last name"), filters=[_as_text], render_kw={"autocomplete": "family-name"})
    email = StringField(
        _l("Email"), filters=[_as_text], render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"}
    )
    country = SelectField(_l("Country"), validate_choice=False, filters=[lambda v: normalise_country(_as_text(v))])
    consent = BooleanField(
        _l("I agree that my name, email and country are stored to count my signature."),
        validators=[DataRequired(_l("Please tick this box to sign: we cannot count you otherwise."))],
    )
    keep_informed = BooleanField(_l("Keep me informed about this campaign (optional)."))
    # A honeypot: hidden from people by CSS, filled in by naive bots.
    website = StringField(_l("Leave this field empty"), filters=[_as_text])
    form_token = HiddenField()
    source = HiddenField()

    def __init__(self, *args, allowed_countries=(), locale="en", check_deliverability=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = frozenset(allowed_countries)
        self.check_deliverability = check_deliverability
        self.country.choices = [("", _l("Choose your country")), *sorted_by_name(self.allowed, locale)]
        self.email_parts: tuple[str, str, str] | None = None

    def validate_first_name(self, field):
        field.data = _clean(clean_name, field.data)

    def validate_last_name(self, field):
        field.data = _clean(clean_name, field.data)

    def validate_email(self, field):
        self.email_parts = _clean(clean_email, field.data, self.check_deliverability)
        field.data = self.email_parts[0]

    def validate_country(self, field):
        if not field.data:
            raise ValidationError(_l("Please choose your country."))
        if field.data not in self.allowed:
            raise ValidationError(_l("Please choose a country from the list."))

    @property
    def source_code(self) -> str | None:
        code = (self.source.data or "").strip()
        return code if SOURCE_CODE.match(code) else None


def _clean(cleaner, *args):
    try:
        return cleaner(*args)
    except FieldInvalid as error:
        raise ValidationError(str(error)) from error
