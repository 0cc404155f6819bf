"""What a partner may choose for its widget (partner, language, theme, source code, its page's origin),
read from the widget URL and carried through every page of the widget. Never the petition's text."""

from dataclasses import dataclass

from petition.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, bcp47, from_accept_language, match_locale
from petition.public.forms import SOURCE_CODE

THEMES = ("light", "dark", "auto")


def supported_languages() -> list[str]:
    """What a partner may write in `data-lang` (BCP 47 tags, as "sr-Latn"), English first."""
    return [bcp47(DEFAULT_LOCALE), *sorted(bcp47(code) for code in SUPPORTED_LOCALES if code != DEFAULT_LOCALE)]


@dataclass(frozen=True)
class WidgetOptions:
    partner: str | None
    lang: str
    theme: str
    source: str | None
    origin: str | None  # the embedding page's origin, as embed.js saw it; trusted only once checked

    @classmethod
    def from_args(cls, args) -> "WidgetOptions":
        theme = args.get("theme", "")
        source = args.get("source", "")
        return cls(
            partner=args.get("partner") or None,
            # The partner's data-lang (as "sr-Latn" or "sr_Latn"), else the reader's browser languages: a
            # choice remembered in a cookie would be a third-party cookie here, which browsers drop.
            lang=match_locale(args.get("lang")) or from_accept_language() or DEFAULT_LOCALE,
            theme=theme if theme in THEMES else THEMES[0],
            source=source if SOURCE_CODE.match(source) else None,
            origin=args.get("origin") or None,
        )

    def query(self) -> dict[str, str]:
        """The options as URL parameters for the widget's next page (defaults left out)."""
        values = {"partner": self.partner, "lang": self.lang, "theme": self.theme, "origin": self.origin}
        defaults = WidgetOptions.from_args({})
        return {k: v for k, v in values.items() if v and v != getattr(defaults, k)}
