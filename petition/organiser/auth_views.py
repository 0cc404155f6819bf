"""Logging in and out, and choosing a password from an invitation."""

from datetime import timedelta

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from petition.extensions import db
from petition.organiser.forms import LoginForm, SetPasswordForm
from petition.organiser.login import OrganiserLogin, safe_next
from petition.policy import login_free, token_in_url
from petition.services import accounts, login_throttle, organiser_sessions, team
from petition.timeutil import utcnow

GENERIC_ERROR = "That email and password do not match an organiser account."


def _limits() -> login_throttle.Limits:
    config = current_app.config
    return login_throttle.Limits(
        per_account=config["LOGIN_FAILURES_PER_ACCOUNT"],
        per_address=config["LOGIN_FAILURES_PER_ADDRESS"],
        window=timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]),
    )


def _start_session(organiser) -> None:
    token = organiser_sessions.begin(db.session, organiser, utcnow())
    # A fresh cookie: nothing from before the login (an old CSRF token, a stale id) carries over.
    session.clear()
    login_user(OrganiserLogin(organiser, token))


@login_free
def login():
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or url_for("organiser.index"))
        return render_template("organiser/login.html", form=form, expired=bool(request.args.get("expired")))

    now = utcnow()
    limits = _limits()
    email = (form.email.data or "").strip()[:254]
    keys = login_throttle.keys_for(email, request.remote_addr, limits)
    # Taken and committed before the password is hashed, so parallel guesses cannot all pass the limit.
    attempt = login_throttle.take_attempt(db.session, keys, limits.window, now)
    db.session.commit()
    if attempt.retry_after is not None:
        minutes = max(1, round(attempt.retry_after / 60))
        page = render_template("organiser/login.html", form=form, throttled_minutes=minutes)
        return page, 429, {"Retry-After": str(attempt.retry_after)}

    organiser = accounts.authenticate(db.session, email, form.password.data or "") if email else None
    if organiser is None:
        db.session.rollback()  # the attempt stays recorded as a failure
        return render_template("organiser/login.html", form=form, error=GENERIC_ERROR), 200
    login_throttle.succeeded(db.session, keys, attempt)
    _start_session(organiser)
    db.session.commit()
    return redirect(next_url or url_for("organiser.index"), code=303)


def logout():
    # CSRFProtect has checked the form's token before this runs.
    if current_user.is_authenticated:
        organiser_sessions.end(db.session, current_user.get_id())
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("organiser.login"), code=303)


@login_free
@token_in_url
def accept_invite(token: str):
    """An invitation works once: a link already used (or used by a request racing with this one) gets a
    410 page saying so, and whatever it sends changes nothing."""
    state, organiser = team.read_invite(db.session, token)
    if state is team.InviteState.INVALID:
        abort(404)
    if state is team.InviteState.USED:
        return render_template("organiser/invite_used.html"), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        if not team.accept_invite(db.session, organiser, form.password.data):
            db.session.rollback()
            return render_template("organiser/invite_used.html"), 410
        organiser_sessions.end_all(db.session, organiser.id)
        _start_session(organiser)
        db.session.commit()
        return redirect(url_for("organiser.index"), code=303)
    status = 422 if form.errors else 200
    return render_template("organiser/invite.html", form=form, email=organiser.email), status
