"""The mockgc tab in Locust's web UI, through Locust's own extension mechanism (its examples/extend_web_ui.py):
extended tabs and tables in the page's template arguments, their rows in /stats/requests' `extended_stats`.

- /mockgc: Locust's page with the mockgc tabs open (they are on / too);
- /mockgc/status: the live status as JSON (mockgc/report/status.py): the verdict so far, each publish
  window as it fires, the sessions by class (provisional), the lost sessions so far, and the judgement once
  the test has stopped;
- /mockgc/report: the test's report.html once it is judged (as `mockgc check` judges it).

The headline "Failures" of the web UI is the share of sessions whose data went wrong (a lost or ack_lost
session is a Locust failure on its OUTCOME row), not of all requests: a 400 from a publish's lock is the
platform behaving as designed, and the checker judges it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, send_file

from mockgc.checker.result import CLASSES

TAB, LOST_TAB = "mockgc", "mockgc-lost"
TABS = [{"title": "mockgc", "key": TAB}, {"title": "mockgc: lost sessions", "key": LOST_TAB}]
TABLES = [
    {"key": TAB, "structure": [{"key": "what", "title": "mockgc"}, {"key": "value", "title": "so far"}]},
    {
        "key": LOST_TAB,
        "structure": [
            {"key": "time", "title": "time (s)"},
            {"key": "agent", "title": "agent"},
            {"key": "class", "title": "class"},
            {"key": "publish", "title": "publish"},
            {"key": "first_failing_call", "title": "first failing call"},
            {"key": "key", "title": "interaction"},
        ],
    },
]
LINKS = [
    {"href": "./mockgc/status", "title": "mockgc status (JSON)"},
    {"href": "./mockgc/report", "title": "mockgc report (HTML, once the test has stopped and been judged)"},
]


def _publish_text(publish: Mapping[str, Any]) -> str:
    state = publish["state"]
    if state == "scheduled":
        return f"scheduled at {publish['scheduled_s']:g} s"
    if state == "failed":
        return f"failed: {publish.get('error')}"
    return f"{state}: started at {publish['started_s']:.1f} s, window until {publish['ends_s']:.1f} s"


def summary_rows(status: Mapping[str, Any]) -> list[dict[str, str]]:
    """The mockgc tab's rows: the verdict so far (or the judgement), the sessions by class, each publish."""
    sessions = status.get("sessions") or {}
    judged = status.get("judged") or {}
    rows = [{"what": "verdict" if judged else "verdict so far", "value": str(status.get("verdict_so_far", ""))}]
    if judged:
        rows += [
            {"what": "finding", "value": str(judged.get("finding", ""))},
            {"what": "report", "value": str(judged.get("report") or judged.get("error") or "")},
        ]
    label = " (provisional)" if sessions.get("provisional", True) else ""
    total, bad = sessions.get("total", 0), sessions.get("bad", 0)
    share = f" ({sessions['bad_pct']:g}%)" if sessions.get("bad_pct") is not None else ""
    rows.append({"what": f"sessions{label}", "value": f"{total:,} ended, {bad:,} lost data{share}"})
    by_class = sessions.get("by_class") or {}
    rows += [{"what": f"  {name}", "value": f"{by_class.get(name, 0):,}"} for name in CLASSES]
    rows.append({"what": "in flight", "value": str(sessions.get("in_flight", 0))})
    rows += [{"what": f"publish {p['number']}", "value": _publish_text(p)} for p in status.get("publishes") or []]
    return rows


def lost_rows(status: Mapping[str, Any]) -> list[dict[str, str]]:
    """The lost sessions so far, the latest first."""
    return [
        {
            "time": f"{entry.get('time_s', 0):.1f}",
            "agent": str(entry.get("agent")),
            "class": str(entry.get("class")),
            "publish": str(entry.get("publish") or "outside the windows"),
            "first_failing_call": str(entry.get("first_failing_call")),
            "key": str(entry.get("key")),
        }
        for entry in reversed(status.get("lost_so_far") or [])
    ]


def extend(web_ui: Any, status: Callable[[], dict[str, Any]], report: Callable[[], Path | None]) -> None:
    """Adds the mockgc tabs, /mockgc, /mockgc/status and /mockgc/report to Locust's web UI."""
    web_ui.template_args |= {"extended_tabs": TABS, "extended_tables": TABLES, "extended_csv_files": LINKS}
    pages = Blueprint("mockgc", __name__)

    @pages.route("/mockgc")
    def tab() -> Any:
        if request.args.get("tab") is None:
            return redirect("./mockgc?tab=" + TAB)
        web_ui.update_template_args()
        return render_template("index.html", template_args=web_ui.template_args)

    @pages.route("/mockgc/status")
    def status_json() -> Response:
        return jsonify(status())

    @pages.route("/mockgc/report")
    def report_html() -> Any:
        path = report()
        if path is None or not path.exists():
            return Response(
                "no report yet: it is written when the test stops and is judged\n", 404, mimetype="text/plain"
            )
        return send_file(path.resolve(), mimetype="text/html")

    @web_ui.app.after_request
    def with_mockgc(response: Response) -> Response:
        if request.path != "/stats/requests" or response.status_code != 200:
            return response
        now = status()
        body = json.loads(response.get_data())
        body["extended_stats"] = [{"key": TAB, "data": summary_rows(now)}, {"key": LOST_TAB, "data": lost_rows(now)}]
        sessions = now.get("sessions") or {}
        if sessions.get("total"):
            body["fail_ratio"] = sessions["bad"] / sessions["total"]  # the headline: the share that lost data
        response.set_data(json.dumps(body))
        return response

    web_ui.app.register_blueprint(pages)
