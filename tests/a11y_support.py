"""Helpers for the accessibility tests: axe-core in the page, signing in the demo's people,
and the check that whatever has the keyboard focus shows it.

axe-core (tests/vendor/axe-core/, vendored: nothing is downloaded at test time) is added to
every document of a browser context as an init script. Playwright evaluates init scripts
through the DevTools protocol, which the page's Content-Security-Policy does not govern, so
the app's strict policy (no inline script) stays exactly as it is served.
"""

from __future__ import annotations

from pathlib import Path

from tests.test_browser_two_factor import set_up_second_factor

AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

# WCAG 2.0 and 2.1, levels A and AA: what PRODUCT.md promises. No rule is switched off.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

DEMO_PASSWORD = "policyhub-demo"

_RUN_AXE = """
async (tags) => {
  const results = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.map((node) => node.target.join(" ")),
    summaries: violation.nodes.map((node) => node.failureSummary || ""),
    html: violation.nodes.map((node) => node.html),
  }));
}
"""


def add_axe(context) -> None:
    """Make axe-core available as `window.axe` on every page the context opens."""
    context.add_init_script(path=str(AXE_SOURCE))


def axe_violations(page) -> list[dict]:
    """The page's violations of WCAG 2.1 A and AA as axe-core finds them."""
    assert page.evaluate("typeof window.axe") == "object", "axe-core is not in the page"
    return page.evaluate(_RUN_AXE, WCAG_21_AA)


def describe(violation: dict, *, where: str) -> str:
    """One violation as lines a person can act on: rule, page and each element's selector."""
    lines = [f"{violation['id']} ({violation['impact']}) on {where}: {violation['help']}"]
    for target, html, summary in zip(
        violation["targets"], violation["html"], violation["summaries"], strict=True
    ):
        lines.append(f"    {target}    {html[:160]}")
        # The first line of axe's summary says why (e.g. the contrast found and the colours).
        why = [line.strip() for line in summary.splitlines()[1:2] if line.strip()]
        lines += [f"        {line}" for line in why]
    return "\n".join(lines)


def log_in(page, base_url: str, email: str) -> None:
    """Sign a demo person in with the password; a site admin or HR/legal person (two-factor
    required in the tests' settings) sets up an authenticator app on the way."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    if page.get_by_role("heading", name="Set up two-factor sign-in").count():
        set_up_second_factor(page)
        page.get_by_role("link", name="Continue").click()
    page.get_by_role("heading", name="My tasks").wait_for()


# --- Keyboard --------------------------------------------------------------------------------

# What the focused element looks like: a visible focus indicator is an outline of some width
# that is not "none", or a box-shadow (Bootstrap's focus ring is a box-shadow).
_FOCUS_STYLE = """
() => {
  const element = document.activeElement;
  if (!element || element === document.body || element === document.documentElement) {
    return null;
  }
  const style = getComputedStyle(element);
  const label = (element.innerText || element.value || element.getAttribute("aria-label")
    || element.name || element.id || "").trim().slice(0, 60);
  return {
    tag: element.tagName.toLowerCase(),
    label: label,
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
  };
}
"""


def focus_style(page) -> dict | None:
    """The focused element and its focus styles; None when nothing has the focus."""
    return page.evaluate(_FOCUS_STYLE)


def shows_focus(style: dict) -> bool:
    outline = style["outlineStyle"] != "none" and style["outlineWidth"] > 0
    shadow = style["boxShadow"] not in ("", "none")
    return outline or shadow


class KeyboardUser:
    """Moves through a page with Tab and Shift+Tab only, and checks at each stop that the
    element with the focus shows it."""

    def __init__(self, page, *, limit: int = 200):
        self.page = page
        self.limit = limit
        self.unfocused: list[str] = []  # elements seen without a visible focus indicator
        self.stops = 0

    def _check(self) -> dict | None:
        style = focus_style(self.page)
        self.stops += 1
        if style is not None and not shows_focus(style):
            self.unfocused.append(
                f"{self.page.url}: <{style['tag']}> {style['label']!r} "
                f"(outline {style['outlineStyle']} {style['outlineWidth']}px, "
                f"box-shadow {style['boxShadow']})"
            )
        return style

    def tab_to(self, matches, *, backwards: bool = False) -> dict:
        """Press Tab (or Shift+Tab) until `matches(style)` is true for the focused element."""
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(self.limit):
            self.page.keyboard.press(key)
            style = self._check()
            if style is not None and matches(style):
                return style
        raise AssertionError(f"{self.page.url}: nothing matching was reached with {key}")

    def tab_to_label(self, text: str, *, tag: str | None = None, backwards: bool = False):
        """Tab to the element whose text is exactly `text` (a link's or a button's words)."""

        def matches(style):
            return style["label"] == text and (tag is None or style["tag"] == tag)

        return self.tab_to(matches, backwards=backwards)

    def tab_to_link(self, path: str):
        """Tab to the link that leads to `path`."""
        page = self.page

        def matches(style):
            return style["tag"] == "a" and page.evaluate(
                "(path) => new URL(document.activeElement.href).pathname === path", path
            )

        return self.tab_to(matches)

    def tab_to_field(self, name: str, *, backwards: bool = False):
        """Tab to the form field whose accessible name (its label) is `name`."""
        page = self.page

        def matches(style):
            return page.evaluate(
                """(name) => {
                  const element = document.activeElement;
                  if (!element || !element.labels) return false;
                  return Array.from(element.labels).some(
                    (label) => label.innerText.trim().replace(/\\s*\\*$/, "") === name);
                }""",
                name,
            )

        return self.tab_to(matches, backwards=backwards)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
