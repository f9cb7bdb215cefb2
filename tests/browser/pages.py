"""Checks a browser test runs on an admin page: axe-core's WCAG 2.1 AA rules, nothing
wider than the viewport, and a screenshot for docs/ when asked (issue 10)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what the issue asks the pages to meet.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# A violation of these fails the test; "moderate" and "minor" ones are not reported.
AXE_FAILING_IMPACTS = ("serious", "critical")
# Where `make screenshots` has the tests save their pictures (docs/screenshots); unset:
# none are saved.
SCREENSHOTS_ENV = "CLARION_SCREENSHOTS"

# Parts of a page axe leaves out, each the narrowest selector with its reason. Rules are
# never turned off: a new page's violation fails until fixed or explained here.
AXE_EXCLUDE: tuple[tuple[str, str], ...] = ()

_AXE_RUN = """
async ([tags, exclude]) => {
  const results = await axe.run(
    {include: [document], exclude: exclude.map(selector => [selector])},
    {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']},
  );
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ': '
      + n.failureSummary.replace(/\\s+/g, ' ') : '')),
  }));
}
"""

# Elements whose right edge is past the viewport, except those clipped by a scrolling
# (or clipping) box: a wide table in its own scroll box is fine, the box itself is
# checked. Only the outermost offender of a branch is listed.
_OVERFLOWING = """
() => {
  const width = window.innerWidth;
  const clips = el => {
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== 'visible') return true;
    }
    return false;
  };
  const over = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    const rect = el.getBoundingClientRect();
    if ((rect.width === 0 && rect.height === 0) || rect.right <= width + 0.5) continue;
    if (getComputedStyle(el).visibility === 'hidden' || clips(el)) continue;
    over.add(el);
  }
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + [...el.classList].map(c => '.' + c).join('');
  const path = el => {
    const parts = [];
    for (let at = el; at && at !== document.body; at = at.parentElement) parts.unshift(name(at));
    return parts.slice(-4).join(' > ');
  };
  return [...over].filter(el => !over.has(el.parentElement)).map(
    el => `${path(el)}: right edge ${Math.round(el.getBoundingClientRect().right)} px`);
}
"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, all impacts."""
    page.add_script_tag(path=str(AXE))
    exclude = [selector for selector, _reason in AXE_EXCLUDE]
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN, [list(AXE_TAGS), exclude])
    return violations


def axe_failures(page: Page) -> str:
    """The serious and critical violations, one paragraph each; "" when there is none."""
    failing = [v for v in axe_violations(page) if v["impact"] in AXE_FAILING_IMPACTS]
    return "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n" + "".join(f"  - {t}\n" for t in v["targets"])
        for v in failing
    )


def overflowing(page: Page) -> list[str]:
    """What is wider than the viewport: the page itself, then each offending element."""
    found: list[str] = page.evaluate(_OVERFLOWING)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    if scroll_width > inner_width:
        found.insert(0, f"the page scrolls sideways: {scroll_width} px in {inner_width} px")
    return found


def screenshot_save(page: Page, name: str) -> Path | None:
    """``<name>.png`` of the whole page in $CLARION_SCREENSHOTS (relative: to the project)."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if not folder:
        return None
    path = Path(settings.BASE_DIR) / folder / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    # From the top: the admin's sticky sidebar is drawn where the page was scrolled to.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path
