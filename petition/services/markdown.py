"""Petition text: Markdown in, safe HTML out.

markdown-it escapes raw HTML and refuses `javascript:`-style links; nh3 then keeps only an allow-list
of tags and the http(s)/mailto schemes, as a second wall in case the first one has a gap. Relative
URLs stay only when they stay on this site (`//host/...` leaves it), and images only from this site:
a page must make no request to another host."""

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "a", "ul", "ol", "li",
    "blockquote", "code", "pre", "img",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}


def _same_site_only(url: str) -> str | None:
    # Browsers read `//host` (and `/\host`, `\\host`: backslashes count as slashes) as another host.
    return None if url.strip().replace("\\", "/").startswith("//") else url


def _images_from_this_site(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and re.match(r"^\s*[a-zA-Z][a-zA-Z0-9+.-]*:", value):
        return None
    return value


def render_markdown(text: str) -> Markup:
    html = _markdown.render(text or "")
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
        url_relative=_same_site_only,
        attribute_filter=_images_from_this_site,
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
