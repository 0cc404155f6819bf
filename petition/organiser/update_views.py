"""Campaign updates, for owners and editors (viewers get 403): write one, translate it for the
languages signers used, preview it, send a test to oneself, see how many it will reach in each
language, send it, and follow, pause or resume it while it goes out."""

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from petition.extensions import db
from petition.i18n import autonym, match_locale
from petition.mail.update_compose import preview
from petition.models import Audience, CampaignUpdate, Petition, UpdateStatus
from petition.organiser.access import UPDATE_WRITERS, petition_for
from petition.organiser.forms import ActionForm, TranslationForm, UpdateForm
from petition.policy import passive
from petition.services import updates
from petition.timeutil import utcnow

_DONE = {
    "saved": "Saved.",
    "translated": "Translation saved.",
    "tested": "A test is on its way to your address.",
    "paused": "Paused: no more messages go out until you resume.",
    "resumed": "Resumed.",
}


def _petition(slug: str):
    return petition_for(slug, roles=UPDATE_WRITERS)


def _update_of(petition: Petition, update_id: int) -> CampaignUpdate:
    found = updates.get_update(db.session, petition.id, update_id)
    if found is None:
        abort(404)
    return found


def updates_page(slug: str):
    petition, role = _petition(slug)
    rows = [(u, updates.progress_of(db.session, u)) for u in updates.updates_of(db.session, petition.id)]
    return render_template(
        "organiser/updates.html", petition=petition, role=role, rows=rows, audience_words=AUDIENCE_WORDS
    )


def _totals(counts) -> tuple[int, int]:
    return sum(c.opted_in for c in counts), sum(c.everyone for c in counts)


def new_update(slug: str):
    petition, role = _petition(slug)
    counts = updates.audience_by_language(db.session, petition.id)
    form = UpdateForm(counts=_totals(counts))
    errors: dict[str, str] = {}
    if request.method == "POST" and form.validate():
        try:
            created = updates.draft(
                db.session,
                petition,
                subject=form.subject.data,
                body=form.body.data,
                audience=updates.parse_audience(form.audience.data),
                organiser=current_user.organiser,
                now=utcnow(),
            )
        except updates.UpdateInvalid as invalid:
            db.session.rollback()
            errors = invalid.errors
        else:
            db.session.commit()
            return redirect(url_for("organiser.update", slug=slug, update_id=created.id, done="saved"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("organiser/update_new.html", petition=petition, role=role, form=form, errors=errors), status


def _page(petition: Petition, role, campaign_update: CampaignUpdate, *, form=None, errors=None, status=200):
    is_draft = campaign_update.status == UpdateStatus.DRAFT
    counts = updates.audience_by_language(db.session, petition.id) if is_draft else []
    if form is None:
        form = UpdateForm(counts=_totals(counts))
        form.subject.data = campaign_update.subject
        form.body.data = campaign_update.body_markdown
        form.audience.data = campaign_update.audience.value
    translated = {t.locale: t for t in campaign_update.translations}
    languages = [campaign_update.locale, *sorted(translated)]
    for count in counts:
        if count.locale not in languages and match_locale(count.locale):
            languages.append(count.locale)
    shown = match_locale(request.args.get("lang")) or campaign_update.locale
    preview = updates_preview(campaign_update, shown)
    progress = updates.progress_of(db.session, campaign_update)
    return render_template(
        "organiser/update.html",
        petition=petition,
        role=role,
        update=campaign_update,
        form=form,
        errors=errors or {},
        action=ActionForm(),
        counts=counts,
        totals=_totals(counts),
        audience_count=sum(c.for_audience(campaign_update.audience) for c in counts),
        translated=translated,
        translation_form=TranslationForm(),
        languages=languages,
        language_name=lambda code: f"{autonym(code)} ({code})" if match_locale(code) else code,
        shown=shown,
        preview=preview,
        progress=progress,
        events=updates.events_of(db.session, campaign_update.id),
        done=_DONE.get(request.args.get("done", "")),
        sent_to=request.args.get("sent", type=int),
        audience_words=AUDIENCE_WORDS,
    ), status


def updates_preview(campaign_update: CampaignUpdate, locale: str) -> dict:
    found = preview(db.session, campaign_update, locale)
    body = found["html"].split("<body>", 1)[-1].rsplit("</body>", 1)[0]
    # Our template around the organiser's Markdown, sanitised by petition.services.markdown.
    return {**found, "html": Markup(body)}  # noqa: S704


def update_page(slug: str, update_id: int):
    petition, role = _petition(slug)
    campaign_update = _update_of(petition, update_id)
    if request.method == "GET":
        return _page(petition, role, campaign_update)
    form = UpdateForm(counts=("?", "?"))
    if not form.validate():
        return _page(petition, role, campaign_update, form=form, status=422)
    try:
        updates.revise(
            db.session,
            campaign_update,
            subject=form.subject.data,
            body=form.body.data,
            audience=updates.parse_audience(form.audience.data),
        )
    except updates.UpdateInvalid as invalid:
        db.session.rollback()
        return _page(petition, role, campaign_update, form=form, errors=invalid.errors, status=422)
    db.session.commit()
    return redirect(url_for("organiser.update", slug=slug, update_id=update_id, done="saved"), code=303)


def translate(slug: str, update_id: int):
    petition, role = _petition(slug)
    campaign_update = _update_of(petition, update_id)
    form = TranslationForm()
    if not form.validate():
        abort(400)
    try:
        updates.translate(
            db.session, campaign_update, locale=form.lang.data, subject=form.subject.data, body=form.body.data
        )
    except updates.UpdateInvalid as invalid:
        db.session.rollback()
        return _page(petition, role, campaign_update, errors=invalid.errors, status=422)
    db.session.commit()
    code = match_locale(form.lang.data)
    return redirect(url_for("organiser.update", slug=slug, update_id=update_id, lang=code, done="translated"), code=303)


def send_test(slug: str, update_id: int):
    petition, _role = _petition(slug)
    campaign_update = _update_of(petition, update_id)
    asked = request.form.get("lang", "")
    locale = updates.queue_test(db.session, campaign_update, current_user.organiser, asked, utcnow())
    db.session.commit()
    return redirect(url_for("organiser.update", slug=slug, update_id=update_id, lang=locale, done="tested"), code=303)


def send(slug: str, update_id: int):
    petition, role = _petition(slug)
    campaign_update = _update_of(petition, update_id)
    try:
        recipients = updates.start(db.session, campaign_update, now=utcnow(), organiser=current_user.organiser)
    except updates.UpdateInvalid as invalid:
        db.session.rollback()
        return _page(petition, role, campaign_update, errors=invalid.errors, status=409)
    db.session.commit()
    return redirect(url_for("organiser.update", slug=slug, update_id=update_id, sent=recipients), code=303)


def pause(slug: str, update_id: int):
    return _switch(slug, update_id, updates.pause, "paused")


def resume(slug: str, update_id: int):
    return _switch(slug, update_id, updates.resume, "resumed")


def _switch(slug: str, update_id: int, change, done: str):
    petition, _role = _petition(slug)
    campaign_update = _update_of(petition, update_id)
    changed = change(db.session, campaign_update, now=utcnow(), organiser=current_user.organiser)
    db.session.commit()
    target = url_for("organiser.update", slug=slug, update_id=update_id, done=done if changed else None)
    return redirect(target, code=303)


@passive
def progress(slug: str, update_id: int):
    """The figures of one update, for the page to follow while it goes out (asked by the page by
    itself: it checks the login without keeping it alive)."""
    petition, _role = _petition(slug)
    campaign_update = _update_of(petition, update_id)
    figures = updates.progress_of(db.session, campaign_update)
    return jsonify(
        status=campaign_update.status.value,
        recipients=figures.recipients,
        queued=figures.queued,
        sent=figures.sent,
        failed=figures.failed,
        in_doubt=figures.in_doubt,
        skipped=figures.skipped,
        unsubscribed=figures.unsubscribed,
    )


AUDIENCE_WORDS = {
    Audience.OPTED_IN: "signers who asked to be kept informed",
    Audience.ALL: "every confirmed signer",
}
