"""The organisers' URLs, apart from their handlers. Every route needs a login except those declared
`@login_free` (the login page and the invitation link); every POST carries a CSRF token (the app-wide
CSRFProtect checks it). Every page is in English and kept by no cache."""

from flask import Blueprint, request
from flask_login import current_user

from petition import policy
from petition.extensions import login_manager
from petition.organiser import (
    auth_views,
    dashboard_views,
    export_views,
    moderation_views,
    paper_views,
    partner_views,
    petition_views,
    update_views,
)
from petition.services.petition_facts import facts_cache

bp = Blueprint("organiser", __name__, url_prefix="/organiser")
policy.for_blueprint(bp, english_only=True, private=True)

rules = [
    ("/login", "login", auth_views.login, ["GET", "POST"]),
    ("/logout", "logout", auth_views.logout, ["POST"]),
    ("/invite/<token>", "accept_invite", auth_views.accept_invite, ["GET", "POST"]),
    ("/", "index", petition_views.index, ["GET"]),
    ("/new", "new", petition_views.new, ["GET", "POST"]),
    ("/p/<slug>", "dashboard", dashboard_views.dashboard, ["GET"]),
    ("/p/<slug>/figures", "figures", dashboard_views.figures, ["GET"]),
    ("/p/<slug>/edit", "edit", petition_views.edit, ["GET", "POST"]),
    ("/p/<slug>/open", "open", petition_views.open_, ["POST"]),
    ("/p/<slug>/close", "close", petition_views.close, ["POST"]),
    ("/p/<slug>/team", "team", petition_views.team_page, ["GET", "POST"]),
    ("/p/<slug>/team/remove", "remove_member", petition_views.remove_member, ["POST"]),
    ("/p/<slug>/paper", "paper", paper_views.paper_page, ["GET"]),
    ("/p/<slug>/paper/tally", "record_tally", paper_views.record_tally, ["POST"]),
    ("/p/<slug>/paper/upload", "upload_statements", paper_views.upload_statements, ["POST"]),
    ("/p/<slug>/partners", "partners", partner_views.partners_page, ["GET"]),
    ("/p/<slug>/partners/new", "create_partner", partner_views.create_partner, ["POST"]),
    ("/p/<slug>/partners/add", "add_partner", partner_views.add_partner, ["POST"]),
    ("/p/<slug>/partners/<partner_id>/origins/add", "add_partner_origin", partner_views.add_origin, ["POST"]),
    ("/p/<slug>/partners/<partner_id>/origins/remove", "remove_partner_origin", partner_views.remove_origin, ["POST"]),
    ("/p/<slug>/partners/<partner_id>/rotate-key", "rotate_partner_key", partner_views.rotate_key, ["POST"]),
    ("/p/<slug>/partners/<partner_id>/revoke", "revoke_partner", partner_views.revoke, ["POST"]),
    ("/p/<slug>/partners/<partner_id>/remove", "remove_partner", partner_views.remove_partner, ["POST"]),
    ("/p/<slug>/exports", "exports", export_views.exports_page, ["GET"]),
    ("/p/<slug>/export.csv", "export_signatures", export_views.export_signatures, ["GET"]),
    ("/p/<slug>/countries.csv", "export_summary", export_views.export_summary, ["GET"]),
    ("/p/<slug>/blocked", "blocked", moderation_views.blocked_page, ["GET", "POST"]),
    ("/p/<slug>/flagged", "flagged", moderation_views.flagged_page, ["GET"]),
    ("/p/<slug>/flagged/release", "release_flagged", moderation_views.release, ["POST"]),
    ("/p/<slug>/flagged/invalidate", "invalidate_signatures", moderation_views.invalidate, ["POST"]),
    ("/p/<slug>/updates", "updates", update_views.updates_page, ["GET"]),
    ("/p/<slug>/updates/new", "new_update", update_views.new_update, ["GET", "POST"]),
    ("/p/<slug>/updates/<int:update_id>", "update", update_views.update_page, ["GET", "POST"]),
    ("/p/<slug>/updates/<int:update_id>/translation", "translate_update", update_views.translate, ["POST"]),
    ("/p/<slug>/updates/<int:update_id>/test", "test_update", update_views.send_test, ["POST"]),
    ("/p/<slug>/updates/<int:update_id>/send", "send_update", update_views.send, ["POST"]),
    ("/p/<slug>/updates/<int:update_id>/pause", "pause_update", update_views.pause, ["POST"]),
    ("/p/<slug>/updates/<int:update_id>/resume", "resume_update", update_views.resume, ["POST"]),
    ("/p/<slug>/updates/<int:update_id>/progress", "update_progress", update_views.progress, ["GET"]),
]
for path, endpoint, view, methods in rules:
    bp.add_url_rule(path, endpoint, view, methods=methods)


@bp.before_request
def require_login():
    """Default deny: a route added later is protected without anyone remembering to."""
    if not policy.current().login_free and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def forget_cached_petitions(response):
    """An organiser's change (a blocked domain, a closing date, opening or closing) takes effect in
    this process at once; other processes read it within PETITION_CACHE_SECONDS."""
    if request.method == "POST":
        facts_cache().clear()
    return response
