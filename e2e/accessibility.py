"""axe-core (npm, package.json) run inside Debian's Chromium: the serious and critical violations of a page."""

from pathlib import Path

AXE_SCRIPT = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA and axe's best practices (landmarks, one h1, headings in order, ...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    """Runs axe over the page as it is now and returns its serious and critical violations.

    The page's context must be made with `bypass_csp=True`: the site's CSP rightly refuses the injected script."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS
    )
    return [violation for violation in result["violations"] if violation["impact"] in FAILING_IMPACTS]


def violations_report(found: dict[str, list[dict]]) -> str:
    """One line per violation and up to three of the elements it names, per page (for the assertion message)."""
    lines = []
    for url, violations in found.items():
        for violation in violations:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
            lines.append(f"{url}: {violation['id']} ({violation['impact']}) {violation['help']}: {targets}")
    return "\n".join(lines)
