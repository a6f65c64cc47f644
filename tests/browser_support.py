"""Helpers for the headless-Chromium tests: the axe-core accessibility check, the no-sideways-scroll check and
screenshots at the two widths every page is looked at (1440 px desktop, 390 px phone).

axe-core is vendored under static/vendor/axe-core/ for the tests only: no console page loads it; `axe_serious`
injects it into the page under test.
"""

from __future__ import annotations

from pathlib import Path

AXE_JS = Path(__file__).resolve().parent.parent / "static" / "vendor" / "axe-core" / "axe.min.js"

WIDTHS = {"desktop": (1440, 900), "phone": (390, 844)}

_AXE_RUN = """async (options) => {
  const context = options.exclude ? {exclude: options.exclude} : document;
  delete options.exclude;
  const result = await window.axe.run(context, options);
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 10).map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
    }));
}"""


def _axe_inject(page) -> None:
    if page.evaluate("() => typeof window.axe !== 'undefined'"):
        return
    # Evaluated through DevTools, not as a <script> tag: the console's Content-Security-Policy refuses inline
    # scripts (and a test watching for policy violations would see one).
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")


def axe_serious(page, *, exclude: list[str] | None = None) -> list[dict]:
    """The serious and critical axe-core violations of the page as it is now: [{id, impact, help, nodes}]."""
    _axe_inject(page)
    options = {"resultTypes": ["violations"]}
    if exclude:
        options["exclude"] = [[selector] for selector in exclude]
    return page.evaluate(_AXE_RUN, options)


def axe_report(violations: list[dict]) -> str:
    """A readable assertion message for `axe_serious`'s result."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']} — {violation['help']}")
        lines.extend(f"    {node['target']}: {node['summary']}" for node in violation["nodes"])
    return "\n".join(lines)


def assert_no_axe_serious(page, label: str = "") -> None:
    violations = axe_serious(page)
    assert violations == [], f"axe on {label or page.url}:\n{axe_report(violations)}"


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when it does not scroll sideways)."""
    return page.evaluate("() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


def assert_no_horizontal_scroll(page, label: str = "") -> None:
    overflow = horizontal_overflow(page)
    if overflow:
        culprits = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 8)
                .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                            (typeof e.className === 'string' && e.className
                               ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
                            ' right=' + Math.round(e.getBoundingClientRect().right))"""
        )
        raise AssertionError(f"{label or page.url} scrolls sideways by {overflow}px; too wide: {culprits}")


def screenshot_both(page, url: str, screenshot_dir: Path, name: str, *, check: bool = True) -> dict[str, Path]:
    """Open `url` at 1440 px and at 390 px, screenshot each (full page) as <name>-desktop.png / <name>-phone.png,
    and (with `check`) assert that neither scrolls sideways. Leaves the page at the desktop size."""
    paths = {}
    for label, (width, height) in (("phone", WIDTHS["phone"]), ("desktop", WIDTHS["desktop"])):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        page.wait_for_load_state("networkidle")
        path = Path(screenshot_dir) / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths[label] = path
        if check:
            assert_no_horizontal_scroll(page, f"{url} at {width}px")
    return paths
