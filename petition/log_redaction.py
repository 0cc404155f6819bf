"""Request logs without secrets: the token in /confirm/…, /withdraw/… and /unsubscribe/… links is cut out.

Werkzeug's development server and gunicorn's access log write the request path; a confirmation or
withdrawal token in a log file would let whoever reads it act for the signer."""

import logging
import re

_TOKEN_PATH = re.compile(r"/(confirm|withdraw|unsubscribe)/[^\s\"'?]+")
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(r"/\1/[token]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install() -> None:
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
