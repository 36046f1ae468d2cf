"""axe-core (from the npm registry, tests/e2e/package.json) run inside a Playwright page.

`make e2e` installs it with `npm ci` into tests/e2e/node_modules. The script is evaluated through
the DevTools protocol, which the pages' Content-Security-Policy does not apply to, so the app's
headers stay as they are in production.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pytest

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 A and AA; "serious" and "critical" violations fail the test.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = ("serious", "critical")


@lru_cache(maxsize=1)
def axe_source() -> str:
    if not AXE.is_file():
        message = "axe-core is not installed: run `npm ci` in tests/e2e (make e2e does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def serious_violations(page) -> list[str]:
    """The page's serious and critical axe violations, one line each (rule, impact, where)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result = page.evaluate("""tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                                        resultTypes: ["violations"]})""", TAGS)
    found = []
    for violation in result["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        for node in violation["nodes"]:
            found.append(f"{page.url}: {violation['id']} ({violation['impact']}) at {node['target']}: "
                         f"{node.get('failureSummary', '').splitlines()[-1:]}")
    return found
