"""The embed code a partner pastes into its page: one helper, so the share page and the organisers'
partners page hand out exactly the same snippet."""

from petition.links import external_url

PLACEHOLDER_PARTNER = "YOUR-PARTNER-ID"


def embed_code(slug: str, partner_id: str | None = None) -> str:
    """Plain text (templates escape it when they show it): the script tag of the contract's Embedding."""
    partner = partner_id or PLACEHOLDER_PARTNER
    script = external_url("embed.embed_js")
    return f'<script src="{script}" data-petition="{slug}" data-partner="{partner}" async></script>'


def share_url(slug: str, partner_id: str | None = None) -> str:
    """The public page with the partner's own code, preview and API examples."""
    return external_url("embed.share", slug=slug, partner=partner_id)
