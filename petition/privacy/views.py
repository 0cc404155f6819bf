"""The privacy notice, withdrawal and unsubscribe links, and requests for what is held about a person."""

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import ValidationError

from petition import live
from petition.extensions import db
from petition.policy import token_in_url
from petition.public import form_token
from petition.public.origin import is_same_origin_post
from petition.public.pages import petition_text, signature_from_link
from petition.services import personal, privacy, signature_links
from petition.services.signer_fields import FieldInvalid, clean_email
from petition.timeutil import utcnow

bp = Blueprint("privacy", __name__)
# The data request form is not about one petition; its form token is issued for "petition" 0.
_NO_PETITION = 0


class DataRequestForm(FlaskForm):
    class Meta:
        csrf = False  # a cookie-free form token instead, like the signing form

    email = StringField(_l("Email"), render_kw={"type": "email", "autocomplete": "email"})
    form_token = HiddenField()

    def validate_email(self, field):
        try:
            self.email_parts = clean_email(field.data or "")
        except FieldInvalid as error:
            raise ValidationError(str(error)) from error


@bp.get("/privacy")
def notice():
    return render_template("privacy/notice.html", config=current_app.config)


@bp.route("/privacy/request", methods=["GET", "POST"])
def data_request():
    form = DataRequestForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST":
        valid_token = form_token.check(form.form_token.data, _NO_PETITION) != form_token.TokenCheck.INVALID
        if is_same_origin_post(request) and valid_token and form.validate():
            _, local_part, ascii_domain = form.email_parts
            privacy.request_data_report(db.session, personal.canonical_email(local_part, ascii_domain), utcnow())
            db.session.commit()
            return redirect(url_for("privacy.data_request_sent"), code=303)
    form.form_token.data = form_token.issue(_NO_PETITION)
    return render_template("privacy/request.html", form=form), 422 if form.errors else 200


@bp.get("/privacy/request/sent")
def data_request_sent():
    return render_template("privacy/request_sent.html")


@token_in_url
@bp.get("/withdraw/<token>")
def withdraw_page(token: str):
    """Shows what will happen and a button; a GET changes nothing."""
    signature = signature_from_link(signature_links.WITHDRAW, token)
    return render_template("privacy/withdraw.html", petition=signature.petition, token=token)


@token_in_url
@bp.post("/withdraw/<token>")
def withdraw(token: str):
    signature = signature_from_link(signature_links.WITHDRAW, token)
    slug = signature.petition.slug
    withdrawn = privacy.withdraw(db.session, signature.id, utcnow())
    db.session.commit()
    if withdrawn is not None and withdrawn.was_counted:
        live.announce(withdrawn.petition_id)
    return redirect(url_for("privacy.withdrawn", slug=slug), code=303)


@token_in_url
@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """Shows what will happen and a button; a GET changes nothing (mail scanners open links)."""
    signature = signature_from_link(signature_links.UNSUBSCRIBE, token)
    title = petition_text(signature.petition).title
    return render_template("privacy/unsubscribe.html", token=token, title=title, done=False)


@token_in_url
@bp.post("/unsubscribe/<token>")
def unsubscribe(token: str):
    """The one-click unsubscribe of RFC 8058: mail clients POST `List-Unsubscribe=One-Click` here with
    no cookie and no form token (the signed link is the authority), and our own button posts here too.
    Answered with the page itself, not a redirect, which some clients would not follow."""
    signature = signature_from_link(signature_links.UNSUBSCRIBE, token)
    update_id = signature_links.UNSUBSCRIBE.read_link(token).update_id
    title = petition_text(signature.petition).title
    changed = privacy.unsubscribe(db.session, signature.id, update_id, utcnow())
    db.session.commit()
    return render_template("privacy/unsubscribe.html", token=token, title=title, done=True, already=not changed)


@bp.get("/withdrawn")
def withdrawn():
    return render_template("privacy/withdrawn.html", slug=request.args.get("slug", ""))
