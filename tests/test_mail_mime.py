"""The MIME text the mail worker writes by hand reads back, through the standard library's parser,
exactly as the message the standard library itself would have built from the same parts."""

import email
import email.policy
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petition.mail import mime

# Text as templates and signers produce it: any printable character, line breaks, long lines.
body_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85")
    | st.sampled_from(["\n", "\r", " ", "=", ".", "-", "é", "ж", "🙂"]),
    max_size=2500,
)
subjects = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=150)


def by_hand(subject: str, to: str, text: str, html: str) -> bytes:
    return mime.message(
        header_lines=[
            default_policy.fold("Subject", subject),
            default_policy.fold("From", "Petitions <petitions@example.org>"),
            mime.address_line("To", to),
            "Date: Thu, 03 Dec 2026 21:00:00 GMT\n",
            "Message-ID: <1.abc@example.org>\n",
            "Auto-Submitted: auto-generated\n",
        ],
        language="sr-Latn",
        text=text,
        html=html,
    )


def by_the_standard_library(subject: str, to: str, text: str, html: str) -> bytes:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "Petitions <petitions@example.org>"
    message["To"] = to
    message["Date"] = "Thu, 03 Dec 2026 21:00:00 GMT"
    message["Message-ID"] = "<1.abc@example.org>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = "sr-Latn"
    return message.as_bytes()


def parsed(data: bytes) -> dict:
    message = email.message_from_bytes(data, policy=email.policy.default)
    plain, rich = message.iter_parts()
    return {
        "headers": [(name, str(value)) for name, value in message.items() if name != "Content-Type"],
        "type": message.get_content_type(),
        "parts": [(p.get_content_type(), p.get_content_charset(), p.get_content()) for p in (plain, rich)],
        "defects": [*message.defects, *plain.defects, *rich.defects],
    }


@settings(max_examples=300, deadline=None)
@given(subject=subjects, text=body_text, html=body_text)
def test_a_message_written_by_hand_reads_back_as_the_standard_librarys(subject, text, html):
    mine, theirs = (
        parsed(by_hand(subject, "ana@example.org", text, html)),
        parsed(by_the_standard_library(subject, "ana@example.org", text, html)),
    )
    assert mine == theirs
    assert mine["defects"] == []


def test_every_line_stays_within_what_smtp_carries():
    long_line = "ž" * 2000  # 4,000 bytes of UTF-8 on one line
    data = by_hand("Subject", "ana@example.org", long_line, f"<p>{long_line}</p>")
    assert max(len(line) for line in data.split(b"\n")) <= mime.MAX_LINE_BYTES
    assert parsed(data)["parts"][0][2] == long_line + "\n"


@pytest.mark.parametrize(
    "address", ["", "ana", "ana@example.org\nBcc: x@example.org", "a b@example.org", "zoë@example.org", "a@b@c.org"]
)
def test_an_address_that_would_need_quoting_never_reaches_a_header(address):
    with pytest.raises(ValueError):
        mime.address_line("To", address)


def test_template_slots_are_filled_wherever_they_appear():
    template = mime.Template("Hello NAME, here: https://x.test/confirm/TOKEN?again=TOKEN", ("NAME", "TOKEN"))
    assert template.fill({"NAME": "Ana", "TOKEN": "t.1"}) == "Hello Ana, here: https://x.test/confirm/t.1?again=t.1"
