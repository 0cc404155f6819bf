"""Is a form post coming from one of our own pages? (Our page or our widget iframe, both our origin.)"""

from urllib.parse import urlsplit

from flask import Request, current_app


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_same_origin_post(request: Request) -> bool:
    """Browsers send `Sec-Fetch-Site` and `Origin` on form posts; a post from another site is refused.
    Clients that send neither (scripts, old browsers) still need a valid form token."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site in {"cross-site", "same-site"}:
        return False
    if fetch_site == "same-origin":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = {_origin(current_app.config["BASE_URL"]), _origin(request.host_url)}
    return origin.lower() in allowed
