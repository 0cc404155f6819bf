"""Where mail goes, chosen by MAIL_URL: an SMTP server, or a folder of .eml files."""

import contextlib
import os
import re
import smtplib
import ssl
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

_LINE_END = re.compile(rb"\r?\n")


class TemporaryFailure(Exception):
    """Try again later: the server is away, busy or answered 4xx."""


class Unreachable(TemporaryFailure):
    """No connection could be made: every message waiting for this server waits longer."""


class MaybeDelivered(TemporaryFailure):
    """The connection broke after the message itself began to go out: the server may have accepted
    it. Mail that may go twice is simply tried again; an update is not (petition.mail.update_worker)."""


class PermanentFailure(Exception):
    """Will never succeed as it is (5xx: no such mailbox, refused)."""


class _NotesData:
    """An SMTP connection that notes when the message data began to go out (the DATA command)."""

    data_started = False

    def data(self, msg):
        self.data_started = True
        return super().data(msg)


class _SMTP(_NotesData, smtplib.SMTP):
    pass


class _SMTPSSL(_NotesData, smtplib.SMTP_SSL):
    pass


class FileBackend:
    """One RFC 5322 file per message, written whole under a temporary name and then renamed, so a
    reader of the folder never sees half a message."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.ready = False

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        return False

    def open(self) -> None:
        if not self.ready:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.ready = True

    def close(self) -> None:
        pass

    def send(self, data: bytes, sender: str, recipient: str) -> None:
        self.open()
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            final = self.directory / (Path(tmp).name.removeprefix(".tmp-"))
            os.replace(tmp, final)
        except OSError as error:
            Path(tmp).unlink(missing_ok=True)
            raise TemporaryFailure(f"cannot write to the outbox folder: {error.strerror}") from error


class SmtpBackend:
    """One connection, reused for every message until it fails or the worker closes it."""

    # A connection unused for this long may have been closed by the server: it is checked (NOOP) first.
    IDLE_CHECK_SECONDS = 10.0

    def __init__(self, host: str, port: int, username: str | None, password: str | None, tls: str | None):
        self.host, self.port, self.username, self.password, self.tls = host, port, username, password, tls
        self.connection: smtplib.SMTP | None = None
        self.last_used = 0.0

    def __enter__(self):
        self.open()
        return self

    def open(self) -> None:
        if self.connection is not None and time.monotonic() - self.last_used > self.IDLE_CHECK_SECONDS:
            try:
                alive = self.connection.noop()[0] == 250
            except (OSError, smtplib.SMTPException):
                alive = False
            if not alive:
                self.connection = None
        if self.connection is not None:
            return
        try:
            if self.tls == "ssl":
                self.connection = _SMTPSSL(self.host, self.port, timeout=30, context=ssl.create_default_context())
            else:
                self.connection = _SMTP(self.host, self.port, timeout=30)
                if self.tls == "starttls":
                    self.connection.starttls(context=ssl.create_default_context())
            self.connection.ehlo_or_helo_if_needed()
            if self.username:
                self.connection.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            self.close()
            raise Unreachable(f"SMTP login refused ({error.smtp_code})") from error
        except (OSError, smtplib.SMTPException) as error:
            self.connection = None
            raise Unreachable(f"cannot reach the SMTP server: {type(error).__name__}") from error

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            self.connection = None

    def send(self, data: bytes, sender: str, recipient: str) -> None:
        self.open()
        self.last_used = time.monotonic()
        # smtplib sends bytes as they are; SMTP wants CRLF line ends (messages are written with LF).
        data = _LINE_END.sub(b"\r\n", data)
        options = ["BODY=8BITMIME"] if not data.isascii() and self.connection.has_extn("8bitmime") else []
        self.connection.data_started = False
        try:
            self.connection.sendmail(sender, [recipient], data, mail_options=options)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused ({codes[0]})") from error
            raise TemporaryFailure(f"recipient deferred ({codes[0]})") from error
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500:
                raise PermanentFailure(f"SMTP refused the message ({error.smtp_code})") from error
            raise TemporaryFailure(f"SMTP deferred the message ({error.smtp_code})") from error
        except (OSError, smtplib.SMTPException) as error:
            # The connection is of no more use; the next message opens a new one.
            maybe = self.connection.data_started
            self.connection = None
            if maybe:
                raise MaybeDelivered(f"SMTP connection lost while sending: {type(error).__name__}") from error
            raise TemporaryFailure(f"SMTP connection lost: {type(error).__name__}") from error


def backend_from_url(url: str):
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileBackend(Path(unquote(parts.path)))
    if parts.scheme == "smtp":
        tls = parse_qs(parts.query).get("tls", [None])[0]
        if tls not in (None, "starttls", "ssl"):
            raise ValueError("MAIL_URL tls must be starttls or ssl")
        port = parts.port or (465 if tls == "ssl" else 25)
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return SmtpBackend(parts.hostname or "localhost", port, username, password, tls)
    raise ValueError("MAIL_URL must start with smtp:// or file://")
