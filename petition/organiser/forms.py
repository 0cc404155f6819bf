"""The organisers' forms. Each carries Flask-WTF's session CSRF token (the global CSRFProtect checks
every state-changing request of this blueprint)."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from petition.rules.countries import sorted_by_name

TARGET_ITEM = re.compile(r"^\s*([A-Za-z]{2})\s*[=:]\s*(\d{1,9})\s*$")


def _text(value):
    return value if isinstance(value, str) else ("" if value is None else str(value))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[_text], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), filters=[_text], render_kw={"autocomplete": "current-password"})


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password (at least 12 characters)"),
        filters=[_text],
        validators=[InputRequired(), Length(min=12, max=1000)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(_l("The same password again"), filters=[_text], render_kw={"autocomplete": "new-password"})

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords differ."))


def parse_targets(text: str) -> dict[str, int]:
    """`DE=1000, FR=500` (commas, semicolons or new lines between items)."""
    targets = {}
    for item in re.split(r"[,;\n]+", text or ""):
        if not item.strip():
            continue
        match = TARGET_ITEM.match(item)
        if not match:
            raise ValueError(f"'{item.strip()[:20]}' is not CC=N (for example DE=1000).")
        targets[match.group(1).upper()] = int(match.group(2))
    return targets


def format_targets(targets: dict[str, int]) -> str:
    return ", ".join(f"{code}={n}" for code, n in sorted(targets.items()))


class PetitionForm(FlaskForm):
    slug = StringField(
        _l("Address"),
        filters=[_text],
        description=_l("The end of the petition's address, /p/<address>: lower-case letters, digits and hyphens."),
    )
    title = StringField(_l("Title"), filters=[_text])
    summary = TextAreaField(_l("Summary"), filters=[_text], description=_l("One or two sentences under the title."))
    body = TextAreaField(
        _l("Text"), filters=[_text], description=_l("Markdown: **bold**, *italic*, [link](https://…), lists.")
    )
    rules = SelectField(_l("Rules"), validate_choice=False, filters=[_text])
    goal = IntegerField(_l("Goal (simple petitions)"), validators=[Optional(), NumberRange(min=1, max=1_000_000_000)])
    closes_on = DateField(_l("Last day of collection"), validators=[Optional()])
    registered_on = DateField(
        _l("ECI registration date"), validators=[Optional()], description=_l("Sets the per-country minimums.")
    )
    targets = TextAreaField(
        _l("Per-country targets (simple petitions)"), filters=[_text], description=_l("For example: DE=1000, FR=500")
    )
    retention_months = IntegerField(
        _l("Keep personal data for (months after closing, simple petitions)"),
        validators=[Optional(), NumberRange(min=1, max=120)],
    )
    submitted_on = DateField(
        _l("Submitted to the Commission on (ECI)"),
        validators=[Optional()],
        description=_l("Personal data is deleted one month after submission, at the latest 21 months after opening."),
    )
    organiser_name = StringField(
        _l("Organised by"),
        filters=[_text],
        description=_l("Your organisation or group, shown on the petition's page so people know who runs it."),
    )
    organiser_contact = StringField(
        _l("Contact"),
        filters=[_text],
        description=_l("An email address or a web address (https://…) where people can reach you; shown on the page."),
    )
    eci_registration_number = StringField(
        _l("ECI registration number"),
        filters=[_text],
        description=_l("As the Commission wrote it, for example ECI(2024)000004."),
    )
    eci_signing_url = StringField(
        _l("Address of the initiative on the Commission's signing system (ECI)"),
        filters=[_text],
        description=_l(
            "Where people give the legally valid statement of support, https://…europa.eu/…. The thanks page "
            "and the confirmation email send every signer there to sign officially."
        ),
        render_kw={"type": "url", "inputmode": "url"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules.choices = [("eci", _l("European Citizens' Initiative")), ("simple", _l("Simple petition"))]

    def validate_targets(self, field):
        try:
            self.parsed_targets = parse_targets(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from error


class TallyForm(FlaskForm):
    country = SelectField(_l("Country"), validate_choice=False, filters=[_text])
    count = IntegerField(
        _l("Signatures"),
        validators=[InputRequired(), NumberRange(min=-1_000_000, max=1_000_000)],
        description=_l("A negative number corrects an earlier entry."),
    )
    note = StringField(_l("Note"), filters=[_text], validators=[Length(max=500)])

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("Choose a country")), *sorted_by_name(countries)]


class UploadForm(FlaskForm):
    file = FileField(_l("CSV file of paper statements"))
    action = HiddenField()


class MemberForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[_text], validators=[InputRequired(), Length(max=254)])
    role = SelectField(_l("Role"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [
            ("viewer", _l("Viewer: sees the figures")),
            ("editor", _l("Editor: sees the figures, writes and sends updates to signers")),
            ("owner", _l("Owner: may change and export")),
        ]


class RemoveMemberForm(FlaskForm):
    organiser_id = HiddenField(filters=[_text])


class PartnerForm(FlaskForm):
    """A new partner; the names and rules of the checks are the partners service's, as for the CLI."""

    name = StringField(_l("Name"), filters=[_text], description=_l("As you and your team will see it."))
    origins = TextAreaField(
        _l("Sites that will show the widget"),
        filters=[_text],
        validators=[Length(max=5000)],
        description=_l("One address a line, for example https://ngo.example. Only the site counts: a path is ignored."),
    )

    def origin_list(self) -> list[str]:
        return [item for item in re.split(r"[\s,]+", self.origins.data or "") if item]


class OriginForm(FlaskForm):
    origin = StringField(_l("Site address"), filters=[_text], validators=[Length(max=300)])


class AddPartnerForm(FlaskForm):
    partner = SelectField(_l("Partner"), validate_choice=False, filters=[_text])


class UpdateForm(FlaskForm):
    """A campaign update; its rules (lengths, languages) are the updates service's, as for the CLI."""

    subject = StringField(_l("Subject"), filters=[_text], render_kw={"maxlength": 200})
    body = TextAreaField(
        _l("Text"),
        filters=[_text],
        description=_l("Markdown: **bold**, *italic*, [link](https://…), lists. Each signer is greeted by first name."),
        render_kw={"rows": 12},
    )
    audience = RadioField(_l("Send to"), default="opted_in", validate_choice=False, filters=[_text])

    def __init__(self, *args, counts=None, **kwargs):
        super().__init__(*args, **kwargs)
        opted_in, everyone = counts or ("?", "?")
        self.audience.choices = [
            ("opted_in", f"Signers who asked to be kept informed ({opted_in})"),
            (
                "all",
                f"Every confirmed signer, for news about the petition itself: closed, handed in, answered ({everyone})",
            ),
        ]


class TranslationForm(FlaskForm):
    lang = HiddenField(filters=[_text])
    subject = StringField(_l("Subject"), filters=[_text], render_kw={"maxlength": 200})
    body = TextAreaField(_l("Text"), filters=[_text], render_kw={"rows": 8})
