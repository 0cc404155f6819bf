"""live.js in a real browser: the counter on a petition page moves by itself after a confirmation,
over the event stream, and by polling when the server has no room for another stream."""

import os
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_KEYS
from tests.test_two_processes import Server, sign

pytestmark = pytest.mark.browser


def start(app_config, tmp_path, max_streams: int) -> Server:
    env = {**os.environ, **TEST_KEYS, "DATABASE_URL": app_config["DATABASE_URL"], "MAIL_URL": app_config["MAIL_URL"],
           "BASE_URL": app_config["BASE_URL"], "MIN_FILL_SECONDS": "0", "WEB_CONCURRENCY": "1",
           "GUNICORN_THREADS": "4", "LIVE_MAX_STREAMS": str(max_streams), "LIVE_CHANNEL": uuid.uuid4().hex}  # fmt: skip
    return Server(env, tmp_path / "gunicorn.log")


@pytest.mark.parametrize("max_streams", [4, 0], ids=["event-stream", "polling-fallback"])
def test_the_counter_moves_without_reloading_the_page(app_config, petition_id, outbox, page, tmp_path, max_streams):
    server = start(app_config, tmp_path, max_streams)
    try:
        page.goto(f"http://127.0.0.1:{server.port}/p/demo")
        total = page.locator('[data-live="total"]')
        assert total.inner_text() == "0"
        time.sleep(0.5)  # the script has opened its stream or scheduled its first poll
        sign(server, "ana@example.org", "DE")
        outbox.deliver()
        assert server.request("POST", outbox.confirm_path("ana@example.org"))[0] == 200
        expect(total).to_have_text("1", timeout=6000)
        expect(page.locator('tr[data-country="DE"] [data-live="count"]')).to_have_text("1")
    finally:
        server.stop()
