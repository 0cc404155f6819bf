"""Organisers' accounts: logging in and out, throttling, CSRF, the session cookie and its timeouts,
invitations."""

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select, update

from petition import create_app
from petition.extensions import db
from petition.models import LoginFailure, OrganiserSession
from petition.timeutil import utcnow
from tests.helpers.live_server import LiveServer
from tests.helpers.organisers import PASSWORD, Browser, csrf_of


def without_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', html)


def test_an_organiser_logs_in_sees_their_petitions_and_logs_out(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id, "owner")
    b = web()
    assert b.get("/organiser/").status_code == 303

    response = b.log_in("Owner@Example.org")
    assert response.status_code == 303 and response.headers["Location"] == "/organiser/"
    page = b.get("/organiser/").get_data(as_text=True)
    assert "Ban biometric mass surveillance" in page and "owner@example.org" in page

    assert b.post("/organiser/logout").status_code == 303
    assert b.get("/organiser/").status_code == 303


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id)
    wrong_password = web().log_in("owner@example.org", "not the password at all")
    unknown = web().log_in("nobody@example.org", PASSWORD)
    empty = web().log_in("", "")

    for response in (wrong_password, unknown, empty):
        assert response.status_code == 200
        assert "That email and password do not match an organiser account." in response.get_data(as_text=True)
    assert without_tokens(wrong_password.get_data(as_text=True)) == without_tokens(unknown.get_data(as_text=True))


def test_after_five_failures_an_account_is_throttled_even_with_the_right_password(
    app, petition_id, make_organiser, web
):
    make_organiser("owner@example.org", petition_id)
    b = web()
    for _ in range(5):
        assert b.log_in("owner@example.org", "wrong password!!").status_code == 200

    response = web().log_in("owner@example.org", PASSWORD, environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert response.status_code == 429
    assert 800 <= int(response.headers["Retry-After"]) <= 900
    assert "Too many failed attempts" in response.get_data(as_text=True)
    # Another account is not affected.
    make_organiser("viewer@example.org", petition_id, "viewer")
    assert web().log_in("viewer@example.org").status_code == 303


def test_an_unknown_address_is_throttled_like_a_real_one(app, petition_id, web):
    b = web()
    for _ in range(5):
        b.log_in("nobody@example.org", "wrong password!!")
    assert web().log_in("nobody@example.org", "x", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 429


def test_failures_from_one_address_are_throttled_across_accounts(app, app_config, petition_id, make_organiser, web):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 3
    make_organiser("owner@example.org", petition_id)
    attacker = {"REMOTE_ADDR": "198.51.100.7"}
    for n in range(3):
        assert web().log_in(f"guess{n}@example.org", "wrong password!!", environ_base=attacker).status_code == 200

    assert web().log_in("owner@example.org", PASSWORD, environ_base=attacker).status_code == 429
    assert web().log_in("owner@example.org", PASSWORD, environ_base={"REMOTE_ADDR": "203.0.113.1"}).status_code == 303


def test_the_throttle_lifts_once_the_failures_are_older_than_the_window(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id)
    for _ in range(5):
        web().log_in("owner@example.org", "wrong password!!")
    assert web().log_in("owner@example.org").status_code == 429
    with app.app_context():
        db.session.execute(update(LoginFailure).values(failed_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    assert web().log_in("owner@example.org").status_code == 303


def test_no_address_is_stored_in_clear_by_the_throttle(app, petition_id, web):
    web().log_in("secret.person@example.org", "wrong password!!", environ_base={"REMOTE_ADDR": "192.0.2.55"})
    with app.app_context():
        keys = db.session.scalars(select(LoginFailure.key)).all()
    assert len(keys) == 2
    assert not any("secret" in k or "192.0.2" in k for k in keys)


def test_forms_without_the_csrf_token_are_refused(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id)
    anonymous = app.test_client()
    assert (
        anonymous.post("/organiser/login", data={"email": "owner@example.org", "password": PASSWORD}).status_code == 400
    )

    b = web("owner@example.org")
    response = b.client.post("/organiser/p/demo/close", data={})
    assert response.status_code == 400
    forged = b.client.post("/organiser/p/demo/close", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert app.test_client().get("/api/v1/petitions/demo").json["status"] == "open"


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_https(
    app_config, petition_id, make_organiser, tmp_path
):
    make_organiser("owner@example.org", petition_id)
    for base_url, secure in (("http://petitions.test", False), ("https://petitions.example", True)):
        site = create_app({**app_config, "BASE_URL": base_url})
        b = Browser(site.test_client())
        response = b.log_in("owner@example.org")
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure, base_url
        with site.app_context():
            db.engine.dispose()


def _age_login(app, **ages: timedelta) -> None:
    with app.app_context():
        values = {column: utcnow() - age for column, age in ages.items()}
        db.session.execute(update(OrganiserSession).values(**values))
        db.session.commit()


def test_a_session_idle_for_more_than_an_hour_ends(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id)
    b = web("owner@example.org")
    _age_login(app, last_seen_at=timedelta(minutes=61))

    response = b.get("/organiser/p/demo")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/organiser/login?next=/organiser/p/demo")
    assert "expired=1" in response.headers["Location"]
    assert "Your session has ended" in b.get(response.headers["Location"]).get_data(as_text=True)


def test_a_session_ends_twelve_hours_after_login_however_active(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id)
    b = web("owner@example.org")
    _age_login(app, created_at=timedelta(hours=12, minutes=1), last_seen_at=timedelta(seconds=5))
    assert b.get("/organiser/").status_code == 303


def test_using_the_site_keeps_a_session_alive_but_the_dashboard_refresh_does_not(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id)
    b = web("owner@example.org")
    _age_login(app, last_seen_at=timedelta(minutes=50))
    assert b.get("/organiser/p/demo/figures").status_code == 200
    with app.app_context():
        idle = utcnow() - db.session.scalar(select(OrganiserSession.last_seen_at))
    assert idle > timedelta(minutes=49), "the automatic refresh counted as activity"

    assert b.get("/organiser/p/demo").status_code == 200
    with app.app_context():
        idle = utcnow() - db.session.scalar(select(OrganiserSession.last_seen_at))
    assert idle < timedelta(minutes=1)


def test_an_ended_session_answers_the_dashboard_refresh_with_401(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id)
    b = web("owner@example.org")
    _age_login(app, last_seen_at=timedelta(hours=2))
    response = b.get("/organiser/p/demo/figures")
    assert response.status_code == 401


def test_logging_out_ends_the_session_on_the_server_for_every_copy_of_the_cookie(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id)
    b = web("owner@example.org")
    cookie = b.client.get_cookie("organiser_session").value
    copy = app.test_client()
    copy.set_cookie("organiser_session", cookie)
    assert copy.get("/organiser/").status_code == 200

    b.post("/organiser/logout")
    assert copy.get("/organiser/").status_code == 303


def test_after_login_only_a_local_next_address_is_followed(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id)
    for target, expected in (
        ("/organiser/p/demo", "/organiser/p/demo"),
        ("//evil.example/x", "/organiser/"),
        ("https://evil.example/", "/organiser/"),
        ("/\\evil.example", "/organiser/"),
    ):
        b = web()
        response = b.post(
            "/organiser/login", {"email": "owner@example.org", "password": PASSWORD}, query_string={"next": target}
        )
        assert response.headers["Location"] == expected, target


def test_an_account_created_on_the_command_line_can_log_in(app, petition_id, runner, web):
    result = runner.invoke(
        args=["organiser", "create", "campaigner@example.org", "--petition", "demo"],
        env={"ORGANISER_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    b = web("campaigner@example.org")
    assert b.get("/organiser/p/demo").status_code == 200


def test_an_owner_invites_a_new_organiser_who_chooses_a_password_once(app, owner, web, outbox):
    response = owner.post("/organiser/p/demo/team", {"email": "Newcomer@Example.org", "role": "viewer"})
    assert response.status_code == 303
    outbox.deliver()
    [message] = outbox.to("newcomer@example.org")
    text = outbox.text_of(message)
    assert "viewer" in text
    invite = re.search(r"http://petitions\.test(/organiser/invite/\S+)", text).group(1)
    assert (
        "Referrer-Policy" in owner.get(invite).headers and owner.get(invite).headers["Referrer-Policy"] == "no-referrer"
    )

    newcomer = web()
    # Unusable before: an invited account has no password.
    assert newcomer.log_in("newcomer@example.org", "").status_code == 200
    form = newcomer.get(invite).get_data(as_text=True)
    response = newcomer.client.post(
        invite,
        data={"csrf_token": csrf_of(form), "password": "a brand new passphrase", "confirm": "a brand new passphrase"},
    )
    assert response.status_code == 303
    assert newcomer.get("/organiser/p/demo").status_code == 200
    assert newcomer.get("/organiser/p/demo/edit").status_code == 403, "a viewer"
    assert web().get(invite).status_code == 410, "the link works once"
    assert web("newcomer@example.org", "a brand new passphrase").get("/organiser/").status_code == 200


def test_adding_an_existing_organiser_tells_them_without_a_password_link(app, owner, make_organiser, outbox, web):
    make_organiser("colleague@example.org")
    owner.post("/organiser/p/demo/team", {"email": "colleague@example.org", "role": "owner"})
    outbox.deliver()
    [message] = outbox.to("colleague@example.org")
    assert "/organiser/invite/" not in outbox.text_of(message)
    assert web("colleague@example.org").get("/organiser/p/demo/edit").status_code == 200


def test_the_last_owner_cannot_leave_or_be_demoted(app, owner, petition_id, make_organiser):
    with app.app_context():
        from petition.models import Organiser

        owner_id = db.session.scalar(select(Organiser.id).where(Organiser.email == "owner@example.org"))
    response = owner.post("/organiser/p/demo/team/remove", {"organiser_id": str(owner_id)})
    assert response.status_code == 409
    response = owner.post("/organiser/p/demo/team", {"email": "owner@example.org", "role": "viewer"})
    assert response.status_code == 422
    assert "at least one owner" in response.get_data(as_text=True)
    assert owner.get("/organiser/p/demo/edit").status_code == 200


def _guessers(server, guesses: list[tuple[str, str]]) -> list:
    """One browser per guess (its own cookie and CSRF token, fetched beforehand), all from this machine's
    address, released together so that their logins race."""
    calls = []
    for email, password in guesses:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = opener.open(f"{server.url}/organiser/login", timeout=30).read().decode()
        body = urllib.parse.urlencode({"csrf_token": csrf_of(page), "email": email, "password": password}).encode()
        calls.append(lambda opener=opener, body=body: _status(opener, f"{server.url}/organiser/login", body))
    return _all_at_once(calls)


def _all_at_once(calls: list) -> list:
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _status(opener, url: str, body: bytes) -> int:
    try:
        return opener.open(urllib.request.Request(url, data=body, method="POST"), timeout=60).status
    except urllib.error.HTTPError as error:
        return error.code


def _failures(app, prefix: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.key.like(prefix)))


def test_forty_simultaneous_wrong_passwords_for_one_account_are_checked_at_most_five_times(
    app, petition_id, make_organiser, web
):
    """The red team's race: 32 of 40 parallel guesses were checked against a limit of 5."""
    make_organiser("owner@example.org", petition_id)
    with LiveServer(app) as server:
        statuses = _guessers(server, [("owner@example.org", f"guess number {n}") for n in range(40)])
    checked = statuses.count(200)
    assert statuses.count(429) == 40 - checked
    assert 1 <= checked <= 5, f"{checked} passwords were checked"
    assert _failures(app, "account:%") <= 5
    assert web().log_in("owner@example.org").status_code == 429, "the account is throttled, right password or not"


def test_forty_simultaneous_guesses_from_one_address_record_at_most_its_limit(app, petition_id, make_organiser):
    """The red team's race: 37 failures were recorded for one client address against a limit of 20."""
    make_organiser("owner@example.org", petition_id)
    with LiveServer(app) as server:
        statuses = _guessers(server, [(f"guess{n}@example.org", "wrong password!!") for n in range(40)])
    assert statuses.count(200) <= 20 and statuses.count(429) == 40 - statuses.count(200)
    assert _failures(app, "ip:%") <= 20


def _invitation(owner, outbox, email="newcomer@example.org", role="owner") -> str:
    assert owner.post("/organiser/p/demo/team", {"email": email, "role": role}).status_code == 303
    outbox.deliver()
    [message] = outbox.to(email)
    return re.search(r"http://petitions\.test(/organiser/invite/\S+)", outbox.text_of(message)).group(1)


def _choose_password(browser: Browser, invite: str, password: str):
    form = browser.get(invite).get_data(as_text=True)
    return browser.client.post(invite, data={"csrf_token": csrf_of(form), "password": password, "confirm": password})


def test_a_replayed_invitation_gives_nothing_and_says_the_link_was_used(app, owner, web, outbox):
    """Replaying an invitation (the red team found one in a log) must not give the account to someone
    else: once used, the link answers 410 and says so, and a password sent with it changes nothing."""
    invite = _invitation(owner, outbox)
    assert _choose_password(web(), invite, "the newcomer's own passphrase").status_code == 303

    replayer = web()
    page = replayer.get(invite)
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "already been used" in text and "tell the petition's owner" in text
    assert "newcomer@example.org" not in text
    assert replayer.client.post(invite, data={"password": "an attacker's passphrase!!"}).status_code in {400, 410}
    assert replayer.get("/organiser/p/demo/export.csv").status_code == 303, "not logged in"
    assert web().log_in("newcomer@example.org", "an attacker's passphrase!!").status_code == 200
    assert web("newcomer@example.org", "the newcomer's own passphrase").get("/organiser/p/demo").status_code == 200


def test_an_invitation_replayed_at_the_same_moment_works_once(app, owner, outbox):
    """Ten browsers send the same invitation with different passwords at once: one wins, the others are
    told the link was used, and only the winner's password opens the account."""
    invite = _invitation(owner, outbox)
    with LiveServer(app) as server:
        calls = []
        for n in range(10):
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            form = opener.open(f"{server.url}{invite}", timeout=30).read().decode()
            password = f"passphrase number {n:02d}"
            fields = {"csrf_token": csrf_of(form), "password": password, "confirm": password}
            body = urllib.parse.urlencode(fields).encode()
            calls.append(lambda opener=opener, body=body: _status(opener, f"{server.url}{invite}", body))
        statuses = _all_at_once(calls)
    assert sorted(statuses) == [200] + [410] * 9, statuses  # the winner follows its redirect to its petitions
    winner = statuses.index(200)
    browser = Browser(app.test_client())
    assert browser.log_in("newcomer@example.org", f"passphrase number {winner:02d}").status_code == 303
    for n in range(10):
        if n != winner:
            assert (
                Browser(app.test_client()).log_in("newcomer@example.org", f"passphrase number {n:02d}").status_code
                != 303
            )
