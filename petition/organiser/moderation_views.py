"""Moderation pages: the petition's blocklist (owners change it, viewers see it), and the review of
flagged signatures with release and invalidation, each previewed before it is confirmed (owners)."""

from dataclasses import replace
from datetime import timedelta

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from petition import live
from petition.extensions import db
from petition.models import FlagReason, Petition, Role, SignatureStatus
from petition.organiser.access import petition_for
from petition.organiser.forms import ActionForm
from petition.services import blocklist, flagged_review, moderation, moderation_log
from petition.services.moderation import Action
from petition.timeutil import utcnow

_DONE = {"release": "released", "invalidate": "invalidated", "block": "blocked", "unblock": "unblocked"}


def _done_message() -> str | None:
    done, rows = request.args.get("done", ""), request.args.get("rows", "")
    if done not in _DONE:
        return None
    if rows.isdigit():
        return f"{signatures(int(rows))} {_DONE[done]}."
    return f"Sender {_DONE[done]}." if done in {"block", "unblock"} else None


def signatures(count: int) -> str:
    """ "1 signature", "1,204 signatures"."""
    return f"{count:,} signature" if count == 1 else f"{count:,} signatures"


def _blocked_page(petition: Petition, role: Role, error: str | None = None, status: int = 200):
    return render_template(
        "organiser/blocked.html",
        petition=petition,
        role=role,
        form=ActionForm(),
        blocked=blocklist.blocklist_of(db.session, petition.id),
        records=[r for r in moderation_log.records_of(db.session, petition.id) if r.action in {"block", "unblock"}],
        error=error,
        done=_done_message(),
    ), status


def blocked_page(slug: str):
    petition, role = petition_for(slug)
    if request.method == "GET":
        return _blocked_page(petition, role)
    if role != Role.OWNER:
        abort(403)
    action, now, organiser = request.form.get("action", ""), utcnow(), current_user.organiser
    value = (request.form.get("value") or "")[:1000]
    try:
        if action == "block_domain":
            blocklist.block_domain(db.session, petition.id, value, organiser, now)
        elif action == "block_address":
            blocklist.block_address(db.session, petition.id, value, organiser, now)
        elif action == "unblock_address":
            if not blocklist.unblock_address(db.session, petition.id, value, organiser, now):
                raise blocklist.BlockInvalid("That address is not on the blocklist.")
        elif action == "unblock" and value.isdigit():
            if not blocklist.unblock(db.session, petition.id, int(value), organiser, now):
                raise blocklist.BlockInvalid("That entry is no longer on the blocklist.")
        else:
            raise blocklist.BlockInvalid("Choose what to block or unblock.")
    except blocklist.BlockInvalid as error:
        db.session.rollback()
        return _blocked_page(petition, role, error=str(error), status=422)
    db.session.commit()
    done = "unblock" if action.startswith("unblock") else "block"
    return redirect(url_for("organiser.blocked", slug=slug, done=done), code=303)


def _flagged_page(petition: Petition, status: int = 200, **extra):
    prefill = {key: request.args.get(key, "") for key in moderation.Criteria().as_form()}
    context = {
        "petition": petition,
        "role": Role.OWNER,
        "form": ActionForm(),
        "summary": flagged_review.summary(db.session, petition.id),
        "records": moderation_log.records_of(db.session, petition.id),
        "reasons": list(FlagReason),
        "signatures": signatures,
        "statuses": [s.value for s in SignatureStatus],
        "prefill": prefill,
        "hour_window": flagged_review.hour_window,
        "done": _done_message(),
        "errors": {},
        "action": None,
        "entered": {},
        **extra,
    }
    return render_template("organiser/flagged.html", **context), status


def flagged_page(slug: str):
    petition, _role = petition_for(slug, owner=True)
    return _flagged_page(petition)


def _expected() -> int | None:
    raw = request.form.get("expected", "")
    return int(raw) if raw.isdigit() else None


def moderate(slug: str, action: str):
    petition, _role = petition_for(slug, owner=True)
    action = Action(action)
    entered = {key: request.form.get(key, "")[:200] for key in moderation.Criteria().as_form()}
    try:
        criteria = moderation.parse_criteria(request.form, action)
    except moderation.CriteriaInvalid as invalid:
        return _flagged_page(petition, 422, action=action.value, errors=invalid.errors, entered=entered)
    now = utcnow()
    if request.form.get("step") != "confirm":
        # The preview fixes the window's end (to the next whole second, as the form shows seconds):
        # signatures made after it are not part of what was shown, so they are not acted on.
        end = (now + timedelta(seconds=1)).replace(microsecond=0)
        pinned = criteria if criteria.until else replace(criteria, until=end)
        return _show_preview(petition, action, pinned)
    expected = _expected()
    if expected is None:
        return _show_preview(petition, action, criteria, message="Preview first, then confirm.", status=422)
    try:
        if action == Action.RELEASE:
            rows = moderation.release(db.session, petition.id, criteria, current_user.organiser, now, expected)
        else:
            rows = moderation.invalidate(db.session, petition.id, criteria, current_user.organiser, now, expected).rows
    except moderation.CountChanged as changed:
        db.session.rollback()
        message = (
            f"The signatures matching changed since the preview ({expected:,} then, {changed.now_matching:,} now). "
            "Nothing was changed: check the new preview and confirm again."
        )
        return _show_preview(petition, action, criteria, message=message, status=409)
    db.session.commit()
    if action == Action.INVALIDATE:
        live.announce(petition.id)  # confirmed ones may have been uncounted
    return redirect(url_for("organiser.flagged", slug=slug, done=action.value, rows=rows), code=303)


def _show_preview(petition: Petition, action: Action, criteria, message: str | None = None, status: int = 200):
    result = moderation.preview(db.session, petition.id, criteria, action)
    return _flagged_page(
        petition,
        status,
        action=action.value,
        preview=result,
        criteria=criteria,
        hidden=criteria.as_form(),
        preview_message=message,
    )


def release(slug: str):
    return moderate(slug, Action.RELEASE)


def invalidate(slug: str):
    return moderate(slug, Action.INVALIDATE)
