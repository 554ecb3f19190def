"""report.html in a real browser (headless Chromium): every chart is drawn by the inlined plotly.js with nothing
fetched, the finding leads, and a screenshot is taken for a person to look at (`make browser-check`)."""

from __future__ import annotations

from pathlib import Path

from mockgc.report.html import write_run_report
from tests.browser import png_size, rendered_dom, screenshot
from tests.live.test_harness_units import _history, _judged


def test_the_report_draws_every_chart_offline_and_leads_with_the_finding(tmp_path: Path) -> None:
    history = _history()
    history.invoke("p", "k1", "create_call", {"userId": "agent-7"}, 1_795_000_000.9)
    result, sessions = _judged(history, names={"agent-7": "Ann Lee"})
    page = tmp_path / "report.html"
    write_run_report(page, result, history.entries, sessions)
    dom = rendered_dom(page.as_uri())
    # plotly drew each of the six charts (an SVG per chart), from the script in the page itself.
    assert dom.count('class="main-svg"') >= 6, "plotly did not draw the charts"
    assert "publish 1" in dom  # the windows are shaded and numbered
    assert "1 of 3 sessions (33%) lost the customer's preference" in dom
    shot = screenshot(page.as_uri(), tmp_path / "report.png")
    assert png_size(shot) == (1300, 2400) and shot.stat().st_size > 50_000  # a page with charts, not a blank one
