"""The embed code a partner pastes into its page: one helper, so the share page and the organisers'
partners page hand out exactly the same snippet."""

from flask import current_app

PLACEHOLDER_PARTNER = "YOUR-PARTNER-ID"


def embed_code(slug: str, partner_id: str | None = None) -> str:
    """Plain text (templates escape it when they show it): the script tag of the contract's Embedding."""
    base_url = current_app.config["BASE_URL"]
    partner = partner_id or PLACEHOLDER_PARTNER
    return f'<script src="{base_url}/embed.js" data-petition="{slug}" data-partner="{partner}" async></script>'


def share_url(slug: str, partner_id: str | None = None) -> str:
    """The public page with the partner's own code, preview and API examples."""
    url = f"{current_app.config['BASE_URL']}/p/{slug}/share"
    return f"{url}?partner={partner_id}" if partner_id else url
