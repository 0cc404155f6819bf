"""A petition's Markdown text reaches visitors as harmless HTML: no scripts, no handlers, no hidden
links to other schemes or hosts; ordinary formatting survives."""

import re
from html.parser import HTMLParser

import pytest

from petition.extensions import db
from petition.models import Petition

HOSTILE = {
    "javascript link": "[click](javascript:alert(1))",
    "javascript in mixed case": "[click](JaVaScRiPt:alert(1))",
    "javascript upper case": "[click](JAVASCRIPT:alert(1))",
    "javascript with an entity": "[click](java&#115;cript:alert(1))",
    "javascript with a hex entity": "[click](&#x6A;avascript:alert(1))",
    "javascript with a tab": "[click](<java\tscript:alert(1)>)",
    "javascript reference link": "[click][evil]\n\n[evil]: jAvAsCrIpT:alert(1)",
    "javascript autolink": "<javascript:alert(1)>",
    "vbscript link": "[click](vbscript:msgbox(1))",
    "data link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data image link": "[click](data:image/png;base64,iVBORw0KGgo=)",
    "data image": "![pixel](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "img with onerror": "<img src=x onerror=alert(1)>",
    "svg with script": "<svg><script>alert(1)</script></svg>",
    "svg onload": "<svg onload=alert(1)>",
    "script tag": "<script>alert(1)</script>",
    "script inline": "Hello <script src=https://evil.example/x.js></script> world",
    "iframe": "<iframe src=https://evil.example></iframe>",
    "event handler on a link": '<a href="https://example.org" onclick="alert(1)">x</a>',
    "event handler on a paragraph": '<p onmouseover="alert(1)">hover</p>',
    "style tag": "<style>body{background:url(https://evil.example/x)}</style>",
    "protocol-relative link": "[home](//evil.example/login)",
    "protocol-relative link in brackets": "[home](<//evil.example>)",
    "protocol-relative image": "![x](//evil.example/track.png)",
    "remote image": "![x](https://evil.example/track.png)",
    "form": '<form action="https://evil.example"><input name=x></form>',
}


class Elements(HTMLParser):
    """Every element and attribute inside the petition's text block."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def body_block(html: str) -> str:
    match = re.search(r'<div class="body">(.*?)</div>\s*</article>', html, re.S)
    assert match, "the petition page shows its text"
    return match.group(1)


@pytest.fixture
def page_with_body(app, client, make_petition):
    def render(body: str) -> str:
        make_petition(slug="text", body=body)
        response = client.get("/p/text")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return render


def assert_harmless(html: str) -> None:
    parser = Elements()
    parser.feed(html)
    for tag, attrs in parser.elements:
        assert tag not in {"script", "svg", "iframe", "object", "embed", "style", "form", "input", "math"}, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), f"<{tag} {name}> survived"
            if name in {"href", "src", "action", "formaction", "xlink:href"}:
                url = (value or "").strip()
                assert not url.startswith(("//", "\\\\", "/\\")), f"<{tag} {name}={url}> leaves the site"
                scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
                assert scheme is None or scheme.group(1).lower() in {"http", "https", "mailto"}, url
                if tag == "img":
                    assert scheme is None, f"an image from another host would be fetched: {url}"


@pytest.mark.parametrize("markdown", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_is_rendered_harmless(page_with_body, markdown):
    html = page_with_body(markdown)
    block = body_block(html)
    assert_harmless(block)
    lowered = block.lower()
    assert "<script" not in lowered and "<svg" not in lowered and "<iframe" not in lowered
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):""", lowered)
    # The page as a whole still has only our own script.
    scripts = re.findall(r"<script\b[^>]*>", html, re.I)
    assert scripts == ['<script src="/static/js/live.js" defer>'], scripts


def test_all_hostile_markdown_at_once_leaves_the_rest_of_the_page_intact(page_with_body):
    html = page_with_body("\n\n".join(HOSTILE.values()) + "\n\nThe end.")
    assert_harmless(body_block(html))
    assert "The end." in html
    assert 'class="sign-form"' in html, "no unclosed tag swallowed the signing form"


def test_ordinary_formatting_survives(page_with_body):
    html = page_with_body(
        "We call on the **Commission** to act, *now*.\n\n"
        "- stop buying cameras\n- ban biometric surveillance\n\n"
        "1. sign\n2. share\n\n"
        "Read [the proposal](https://reclaimyourface.eu/proposal) or [our FAQ](/p/text) "
        "or [write to us](mailto:team@example.org).\n\n"
        "## Why\n\n> Public space belongs to the public."
    )
    block = body_block(html)
    assert "<strong>Commission</strong>" in block and "<em>now</em>" in block
    assert "<ul>\n<li>stop buying cameras</li>\n<li>ban biometric surveillance</li>\n</ul>" in block
    assert "<ol>" in block and "<li>share</li>" in block
    assert "<h2>Why</h2>" in block and "<blockquote>" in block
    for href in ["https://reclaimyourface.eu/proposal", "/p/text", "mailto:team@example.org"]:
        assert f'href="{href}"' in block, href
    assert 'rel="nofollow noopener noreferrer"' in block
    assert_harmless(block)


def test_text_stored_later_is_rendered_with_the_same_care(app, client, make_petition):
    petition_id = make_petition(slug="text")
    with app.app_context():
        db.session.get(
            Petition, petition_id
        ).body_markdown = "[x](JavaScript:alert(document.cookie)) <b onclick=x>b</b>"
        db.session.commit()
    block = body_block(client.get("/p/text").get_data(as_text=True))
    assert_harmless(block)
    assert "<a" not in block and "<b>b</b>" not in block, "neither the link nor the raw tag became HTML"
