"""A suite-wide check that logs never carry personal data, tokens, API keys or passwords.

Every log record emitted by the app and the libraries that serve it during the whole run is kept;
when the run ends, any record that contains a test signer's email or name, a signature link token or
a test password fails the run. (Test-only tools, such as the SMTP sink, are not listened to.)

Under pytest-xdist each worker listens to its own process and hands what it found to the controller,
which fails the run: a worker's exit status alone would not."""

import logging
import re

import pytest

WATCHED = ("petition", "flask", "werkzeug", "gunicorn", "sqlalchemy", "alembic", "email_validator", "root")
FORBIDDEN = [
    re.compile(r"[\w.+-]+@example\.(org|com)", re.IGNORECASE),  # every signer address in the tests
    re.compile(r"Kova[cč]"),  # the test signers' surname
    re.compile(r"eyJzIjo"),  # the start of every signature link token ({"s": ...)
    re.compile(r"correct horse battery staple"),  # the organiser password used in tests
    re.compile(r"ptk_[A-Za-z0-9_-]{20}"),  # a partner API key (its short hint, ptk_ and 6 characters, may show)
]


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(WATCHED) and record.name != "root":
            return
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        for pattern in FORBIDDEN:
            if pattern.search(text):
                self.leaks.append(f"{record.name}: {text[:300]}")
                break


_collector = _Collector()


def pytest_configure(config):
    root = logging.getLogger()
    root.addHandler(_collector)
    root.setLevel(logging.DEBUG)
    # Chatty loggers stay at INFO; DEBUG from them would only slow the run.
    for name in ("asyncio", "urllib3", "mail.log", "hypothesis", "filelock", "PIL", "faker"):
        logging.getLogger(name).setLevel(logging.INFO)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """On the xdist controller: gather what a worker found (a crashed worker's list may be missing)."""
    leaks = getattr(node, "workeroutput", {}).get("log_leaks")
    if leaks is None:
        _collector.leaks.append(f"worker {node.gateway.id} ended without reporting its logs: they went unchecked")
    else:
        _collector.leaks.extend(leaks)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _collector not in logging.getLogger().handlers:
        _collector.leaks.append("the log guard was detached from the root logger: logs went unchecked")
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports for the whole run
        workeroutput["log_leaks"] = list(_collector.leaks)
        return
    if _collector.leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line("Personal data, tokens or passwords reached the logs:", red=True)
            for leak in _collector.leaks[:20]:
                reporter.write_line(f"  {leak}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
