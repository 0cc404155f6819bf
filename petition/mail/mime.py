"""Writing a text-and-HTML email as MIME text directly, the way the standard library would write it
(`EmailMessage.set_content` + `add_alternative` + `as_bytes`): the same headers and parts, which the
standard library's parser reads back to the same text (tests/test_mail_mime.py checks both ways).

Bodies go out as 7bit when they are ASCII, 8bit otherwise (as `email.policy.default` does), and as
base64 when a line is longer than SMTP allows (998 bytes). Lines end in LF; the SMTP client turns
them into CRLF.
"""

import binascii
import re
import secrets

MAX_LINE_BYTES = 998
_UNSAFE_IN_ADDRESS = re.compile(r'[^\x21-\x7e]|[()<>,;:\\"\[\]@]')


class Template:
    """A text with slots; `fill` puts each slot's value in."""

    def __init__(self, text: str, slots: tuple[str, ...]):
        pattern = "(" + "|".join(re.escape(slot) for slot in slots) + ")"
        self.pieces = re.split(pattern, text)  # literal, slot, literal, slot, ..., literal

    def fill(self, values: dict[str, str]) -> str:
        pieces = self.pieces
        return "".join(values[piece] if i % 2 else piece for i, piece in enumerate(pieces))


def address_line(name: str, address: str) -> str:
    """`To: ana@example.org` for an address that needs no quoting or encoding (the form only lets
    such addresses through); anything else is refused rather than risked in a header."""
    if not address or "@" not in address or _UNSAFE_IN_ADDRESS.search(address.replace("@", "", 1)):
        raise ValueError("an address that would need quoting or encoding in a header")
    return f"{name}: {address}\n"


def _part(content_type: str, text: str) -> str:
    data = text.encode("utf-8")
    lines = data.splitlines()
    if max((len(line) for line in lines), default=0) > MAX_LINE_BYTES:
        encoded = binascii.b2a_base64(data + b"\n", newline=False).decode("ascii")
        body = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"
        encoding = "base64"
    else:
        body = b"\n".join(lines).decode("utf-8") + "\n"
        encoding = "7bit" if data.isascii() else "8bit"
    return f'Content-Type: {content_type}; charset="utf-8"\nContent-Transfer-Encoding: {encoding}\n\n{body}'


def message(header_lines: list[str], language: str, text: str, html: str) -> bytes:
    """The whole message; `header_lines` are complete header lines (folded, each ending in LF)."""
    plain, rich = _part("text/plain", text), _part("text/html", html)
    boundary = "===============" + secrets.token_hex(10) + "=="
    while boundary in plain or boundary in rich:  # as unlikely as a collision of 80 random bits
        boundary = "===============" + secrets.token_hex(10) + "=="
    return "".join(
        [
            *header_lines,
            "MIME-Version: 1.0\n",
            f'Content-Type: multipart/alternative; boundary="{boundary}"\n',
            f"Content-Language: {language}\n",
            "\n",
            # The line break before each boundary belongs to the boundary, not to the part.
            f"--{boundary}\n",
            plain,
            f"\n--{boundary}\n",
            rich,
            f"\n--{boundary}--\n",
        ]
    ).encode("utf-8")
