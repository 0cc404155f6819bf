"""Passing a petition on: plain links to send it by email or on the usual networks, and what a link
preview (OpenGraph) shows.

Only addresses: no network's script, button image or counter is loaded, so nobody learns that a
person looked at the page or signed until they choose to click one of these links. Each link carries
a campaign code (`?source=share-…`), so organisers see which channel brings signatures, as with any
other code.
"""

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask_babel import gettext as _

from petition.links import external_url
from petition.models import Petition

# name, source code, address with {url} and {text} (both already escaped for a query string)
NETWORKS = (
    ("WhatsApp", "share-whatsapp", "https://wa.me/?text={text}%20{url}"),
    ("Telegram", "share-telegram", "https://t.me/share/url?url={url}&text={text}"),
    ("Facebook", "share-facebook", "https://www.facebook.com/sharer/sharer.php?u={url}"),
    ("Bluesky", "share-bluesky", "https://bsky.app/intent/compose?text={text}%20{url}"),
    ("X", "share-x", "https://x.com/intent/post?text={text}&url={url}"),
    ("LinkedIn", "share-linkedin", "https://www.linkedin.com/sharing/share-offsite/?url={url}"),
    ("Reddit", "share-reddit", "https://www.reddit.com/submit?url={url}&title={text}"),
)
# The preview image every petition page names: served by us, from our static files.
CARD_IMAGE = "img/share-card.png"
CARD_SIZE = (1200, 630)
DESCRIPTION_MAX = 300


@dataclass(frozen=True)
class ShareLink:
    name: str
    href: str


@dataclass(frozen=True)
class Sharing:
    url: str  # the petition's address to copy
    email: str  # a mailto: link with a subject and a line of text
    networks: list[ShareLink]


def petition_url(petition: Petition, source: str | None = None) -> str:
    return external_url("public.petition_page", slug=petition.slug, source=source)


def share_links(petition: Petition, title: str) -> Sharing:
    """In the reader's language (the sentence that goes with the link)."""
    text = _("I signed “%(title)s”. Will you sign too?", title=title)
    networks = []
    for name, source, pattern in NETWORKS:
        url = quote(petition_url(petition, source), safe="")
        networks.append(ShareLink(name, pattern.format(url=url, text=quote(text, safe=""))))
    body = f"{text}\n\n{petition_url(petition, 'share-email')}"
    email = "mailto:?" + urlencode({"subject": title, "body": body}, quote_via=quote)
    return Sharing(url=petition_url(petition, "share-link"), email=email, networks=networks)


def description(summary: str, body_text: str = "") -> str:
    """A sentence or two for link previews and search results: the summary, shortened on a word."""
    text = " ".join((summary or body_text or "").split())
    if len(text) <= DESCRIPTION_MAX:
        return text
    return text[: DESCRIPTION_MAX - 1].rsplit(" ", 1)[0] + "…"
