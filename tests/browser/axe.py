"""axe-core in the browser: inject node_modules/axe-core/axe.min.js into a page, run it, and assert no violations.

Any page can be checked with one call once it is loaded, e.g. for the widget or the organiser dashboard:

    from tests.browser.axe import assert_no_axe_violations
    page.goto(url)
    assert_no_axe_violations(page)

axe-core comes from npm (`npm ci`, run by `make test`); without it these tests are skipped, or fail
under REQUIRE_TEST_SERVICES=1.
"""

import json
from pathlib import Path

from tests.conftest import missing_service

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, plus axe's best practices (landmarks, one h1, headings in order...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def require_axe() -> str:
    if not AXE_JS.exists():
        missing_service(f"accessibility tests need axe-core: run `npm ci` (missing {AXE_JS})")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page, context: str | None = None, tags: list[str] | None = None) -> list[dict]:
    """Runs axe on the page (or on the element a CSS selector names) and returns its violations."""
    # Once the page has loaded: a page a click led to is there before its style sheet (on a busy machine,
    # long enough for axe to judge the colours and layout of the unstyled page).
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which our Content-Security-Policy (rightly) does not
        # let a <script> tag do; the page under test keeps its real headers.
        page.evaluate(require_axe() + "\n;true")
    options = {"runOnly": {"type": "tag", "values": tags or AXE_TAGS}, "resultTypes": ["violations"]}
    return page.evaluate(
        "([context, options]) => axe.run(context || document, options).then(r => r.violations)",
        [context, options],
    )


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {json.dumps(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


def assert_no_axe_violations(page, context: str | None = None, tags: list[str] | None = None) -> None:
    violations = axe_violations(page, context, tags)
    assert not violations, f"axe found problems on {page.url}:\n{describe(violations)}"
