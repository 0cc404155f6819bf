"""Request logs without secrets: the token in a token page's URL (confirm, withdraw, unsubscribe, invite) is cut out.

Werkzeug's development server and gunicorn's access log write the request path (and gunicorn the
Referer); a token in a log file would let whoever reads it act for the signer or the organiser. Which
URLs hold a token is not listed here: `petition.policy.install` passes the URL rules of the views
marked `@token_in_url`, so a token page added later is redacted without anyone remembering to.
"""

import logging
import re

REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")
# A URL argument as it appears in a log line: up to the next slash, quote, space, query or fragment.
_ARGUMENT = r"[^/\s\"'?#]+"
_RULE_ARGUMENT = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def pattern_for(rules: list[str]) -> re.Pattern | None:
    """One expression matching the path of any of these URL rules (`/confirm/<token>`); each argument is
    a group named `a<rule number>_<argument name>` (an argument name may recur in several rules)."""
    alternatives = []
    for number, rule in enumerate(sorted(set(rules))):
        pieces = _RULE_ARGUMENT.split(rule)  # static text, argument name, static text, ...
        alternatives.append(
            "".join(
                re.escape(piece) if i % 2 == 0 else f"(?P<a{number}_{piece}>{_ARGUMENT})"
                for i, piece in enumerate(pieces)
            )
        )
    return re.compile("|".join(alternatives)) if alternatives else None


class RedactTokens(logging.Filter):
    def __init__(self):
        super().__init__()
        self.rules: set[str] = set()
        self.pattern: re.Pattern | None = None

    def add(self, rules: list[str]) -> None:
        if not set(rules) <= self.rules:
            self.rules |= set(rules)
            self.pattern = pattern_for(sorted(self.rules))

    def redact(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(_hide_arguments, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def _hide_arguments(match: re.Match) -> str:
    """`/confirm/eyJ...` -> `/confirm/[token]`: each argument's text replaced by its name."""
    text, start = match.group(0), match.start()
    matched = [name for name, value in match.groupdict().items() if value is not None]
    for group in sorted(matched, key=match.start, reverse=True):
        begin, end = match.start(group) - start, match.end(group) - start
        text = text[:begin] + f"[{group.split('_', 1)[1]}]" + text[end:]
    return text


_filter = RedactTokens()


def redact(text: str) -> str:
    return _filter.redact(text)


def install(rules: list[str]) -> None:
    """Redact these URL rules' arguments in the request loggers (process-wide, as logging is)."""
    _filter.add(rules)
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(_filter)
