"""axe-core (npm, `make install` puts it in node_modules/) run inside a page, as an auditor would.

Only serious and critical violations fail a test: those are the ones that lock a screen-reader or
keyboard user out (GB/T 37668 and WCAG 2.1 AA, which axe's tags below cover).
"""

from __future__ import annotations

import pytest

from banshi.stack import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = {"serious", "critical"}


def blocking_violations(page, context: str | None = None) -> list[str]:
    """Each serious or critical violation as 'rule (impact): target…', ready for an assertion message."""
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `make install` (npm ci)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """([context, tags]) => axe.run(context ? document.querySelector(context) : document,
             { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })""",
        [context, TAGS],
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:4]} {v['help']}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]
