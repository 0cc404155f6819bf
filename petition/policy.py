"""Each route's policy, declared once on its view: the hooks that run on every request read it from there.

A view says what kind of route it is with small decorators (`@token_in_url`, `@frameable`, ...); a
blueprint may give defaults to all of its views (`for_blueprint`). `install(app)` resolves every URL
rule's policy once, when the app is built, and hangs it on the rule, so that the security headers,
i18n, the error pages, the organisers' login and the request-log redaction read one attribute per
request (`current()`) instead of keeping lists of endpoint names that drift apart.
"""

import re
from dataclasses import dataclass, replace

from flask import Blueprint, Flask, Request, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Rule

from petition import log_redaction


@dataclass(frozen=True, slots=True)
class Policy:
    token_in_url: bool = False  # the URL holds a secret: no Referer, no cache, cut out of request logs
    frameable: bool = False  # partners' registered sites may frame it (decided per request), so never cached
    english_only: bool = False  # staff and technical pages: English whatever the reader chose, no language links
    language_cookie: bool = True  # a `?lang=` choice is remembered in a cookie (pointless in iframes and APIs)
    private: bool = False  # personal data or a fresh secret: never kept by a browser or proxy cache
    json_errors: bool = False  # errors are the API's JSON document, not a page
    login_free: bool = False  # an organiser page that needs no login (logging in, accepting an invitation)
    passive: bool = False  # asked by a page by itself (a refresh): checks the login without keeping it alive
    body_limit: int | None = None  # bytes a request body may have; None: the app's MAX_CONTENT_LENGTH


DEFAULT = Policy()
# Flask's own static files: the same for everyone, with nothing to remember.
STATIC = Policy(language_cookie=False)


def policy(**declared):
    """Declares some of a view's policy; decorators stack, and a view's own word beats its blueprint's."""
    Policy(**declared)  # a misspelt name fails when the module is imported

    def mark(view):
        view.route_policy = {**getattr(view, "route_policy", {}), **declared}
        return view

    return mark


token_in_url = policy(token_in_url=True)
frameable = policy(frameable=True)
english_only = policy(english_only=True)
no_language_cookie = policy(language_cookie=False)
private = policy(private=True)
login_free = policy(login_free=True)
passive = policy(passive=True)


def body_limit(size: int):
    return policy(body_limit=size)


def for_blueprint(blueprint: Blueprint, **declared) -> None:
    """Defaults for every view of a blueprint, and for unknown URLs under its prefix (a 404 under /api/
    is answered in JSON, one under /organiser/ is not cached)."""
    Policy(**declared)
    blueprint.route_policy = declared


def _resolve(app: Flask, rule: Rule) -> Policy:
    if rule.endpoint == "static":
        return STATIC
    blueprint_name, _, _ = rule.endpoint.rpartition(".")
    blueprint = app.blueprints.get(blueprint_name)
    defaults = getattr(blueprint, "route_policy", None)
    if defaults is None:  # a route of the app itself: the blueprint whose prefix it lives under, if any
        defaults = _prefix_defaults(app, rule.rule)
    view = app.view_functions.get(rule.endpoint)
    return _made({**defaults, **getattr(view, "route_policy", {})})


def _made(declared: dict) -> Policy:
    if declared.get("english_only"):
        declared = {**declared, "language_cookie": False}  # a language nobody reads here is not worth remembering
    return Policy(**declared)


def _prefix_defaults(app: Flask, path: str) -> dict:
    for prefix, defaults in app.extensions["route_policy_prefixes"]:
        if path == prefix or path.startswith(prefix + "/"):
            return defaults
    return {}


def install(app: Flask) -> None:
    """After every blueprint is registered: resolve each rule's policy, and give the log redaction the
    URL rules of token pages."""
    app.extensions["route_policy_prefixes"] = [
        (bp.url_prefix.rstrip("/"), bp.route_policy)
        for bp in app.blueprints.values()
        if bp.url_prefix and getattr(bp, "route_policy", None)
    ]
    token_rules = []
    for rule in app.url_map.iter_rules():
        rule.route_policy = _resolve(app, rule)
        if rule.route_policy.token_in_url:
            token_rules.append(rule.rule)
    app.extensions["token_paths"] = log_redaction.pattern_for(token_rules)
    log_redaction.install(token_rules)


def current(req: Request = request) -> Policy:
    """The policy of the route this request reached: one attribute of its URL rule."""
    rule = req.url_rule
    if rule is None:
        return _unrouted(req)
    try:
        return rule.route_policy
    except AttributeError:  # a rule added after the app was built (tests add some)
        rule.route_policy = _resolve(current_app, rule)
        return rule.route_policy


def _unrouted(req: Request) -> Policy:
    """Routing failed (only error responses get here). A wrong method on a known URL (405) gets that
    URL's policy, so that a token page keeps its token out of Referer even then and the widget stays
    framable; an unknown URL gets its prefix's defaults, and is treated as a token page if it looks like one."""
    error = req.routing_exception
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        try:
            rule, _args = current_app.create_url_adapter(req).match(
                method=sorted(error.valid_methods)[0], return_rule=True
            )
        except HTTPException:
            pass
        else:
            return rule.route_policy if hasattr(rule, "route_policy") else _resolve(current_app, rule)
    found = _made(_prefix_defaults(current_app, req.path))
    token_paths: re.Pattern | None = current_app.extensions["token_paths"]
    if token_paths is not None and token_paths.search(req.path):
        found = replace(found, token_in_url=True)
    return found
