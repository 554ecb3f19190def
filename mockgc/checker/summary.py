"""The one summary of judged runs: a row per result, shown in the terminal (simulate, run, demo) and in the report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mockgc.checker.result import BAD_CLASSES, CLASSES, HOLDS, Result, bad_sessions

NA = "n/a"  # a figure the run could not measure (no call inside a window, no repair...)


def row(result: Result, exit_code: int | None = None) -> dict[str, Any]:
    """One result as the summary's figures (also the `matrix` rows of a live matrix's result.json)."""
    counts = result["sessions"]
    flow_p99 = (result.get("flow_ms") or {}).get("p99")
    figures: dict[str, Any] = {
        "mitigation": result["mitigation"],
        "verdict": result["verdict"] + (" (partial)" if result.get("partial") else ""),
        "sessions": counts["total"],
        **{name: counts[name] for name in CLASSES},
        "requests_per_session": result["requests_per_session"],
        "p99_ms": result["latency_ms"]["p99"],
        "p99_inside_ms": result["latency_ms_by_window"]["inside"]["p99"],
        "p99_outside_ms": result["latency_ms_by_window"]["outside"]["p99"],
        "http_400": result["http"].get("400", 0),
        "http_429": result["http"].get("429", 0),
        "flow_p99_s": None if flow_p99 is None else round(flow_p99 / 1000, 3),
    }
    if "harness" in result:
        figures["harness_errors"] = result["harness"]["errors"]
    if "gate" in result:
        judgement = result["gate"]
        figures["expected"] = judgement["expected"]
        figures["gate"] = "BROKEN" if judgement["broken"] else "pass"
    if exit_code is not None:
        figures["exit_code"] = exit_code
    return figures


def ms(value: Any) -> str:
    """Milliseconds, whole; n/a when the run has no such figure."""
    return NA if value is None else f"{value:.0f}"


def number(value: Any, digits: int = 2) -> str:
    return NA if value is None else f"{value:.{digits}f}"


@dataclass(frozen=True)
class Column:
    title: str  # the terminal's short header
    heading: str  # the report's human header
    cell: Callable[[dict[str, Any]], str]
    narrow: bool = False  # kept on a narrow terminal
    wanted: Callable[[list[dict[str, Any]]], bool] = lambda rows: True


def _gated(rows: list[dict[str, Any]]) -> bool:
    return any("gate" in r for r in rows)


COLUMNS = (
    Column("mitigation", "Mitigation", lambda r: str(r["mitigation"]), narrow=True),
    Column("verdict", "Verdict", lambda r: str(r["verdict"]), narrow=True),
    Column(
        "expect",
        "Expected",
        lambda r: str(r.get("expected") or "-"),
        wanted=lambda rows: any(r.get("expected") for r in rows),
    ),
    Column("gate", "Gate", lambda r: str(r.get("gate", "-")), narrow=True, wanted=_gated),
    Column("sessions", "Sessions", lambda r: str(r["sessions"]), narrow=True),
    Column("ok", "OK", lambda r: str(r["ok"])),
    Column("lost", "Lost", lambda r: str(r["lost"])),
    Column("ack_lost", "Ack lost", lambda r: str(r["ack_lost"])),
    Column("corrupted", "Corrupted", lambda r: str(r["corrupted"])),
    Column("unverif", "Unverified", lambda r: str(r["unverified"])),
    Column("lost*", "Bad", lambda r: str(bad_sessions(r)), narrow=True, wanted=lambda rows: False),
    Column("indet", "Indeterminate", lambda r: str(r["indeterminate"])),
    Column("req/sess", "Requests per session", lambda r: number(r["requests_per_session"]), narrow=True),
    Column("call p99 ms", "Call p99 (ms)", lambda r: ms(r["p99_ms"])),
    Column(
        "p99 in/out ms",
        "Call p99 inside / outside windows (ms)",
        lambda r: f"{ms(r['p99_inside_ms'])}/{ms(r['p99_outside_ms'])}",
        narrow=True,
    ),
    Column("400s", "HTTP 400", lambda r: str(r["http_400"]), narrow=True),
    Column("429s", "HTTP 429", lambda r: str(r["http_429"])),
    Column(
        "flow p99 s",
        "Flow p99 (s)",
        lambda r: number(r["flow_p99_s"]),
        wanted=lambda rows: any(r["flow_p99_s"] is not None for r in rows),
    ),
)
NARROW_NOTE = f"lost* = {' + '.join(c for c in CLASSES if c in BAD_CLASSES)}"
WIDE = 130  # a terminal at least this wide gets every column


def columns(rows: list[dict[str, Any]], *, narrow: bool = False) -> list[Column]:
    if narrow:
        return [c for c in COLUMNS if c.narrow and (c.title == "lost*" or c.wanted(rows))]
    return [c for c in COLUMNS if c.title != "lost*" and c.wanted(rows)]


def print_summary(
    console: Any, results: Sequence[Result], *, title: str | None = None, rows: list[dict[str, Any]] | None = None
) -> None:
    """The table in the terminal; piped or captured output gets room for every column. On a narrow
    terminal (80 columns) the table keeps the names, the verdict, the losses and the cost, whole."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, WIDE + 40), stderr=console.stderr)
    rows = rows if rows is not None else [row(r) for r in results]
    narrow = console.width < WIDE
    shown = columns(rows, narrow=narrow)
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), title=title, pad_edge=not narrow, collapse_padding=narrow)
    for index, column in enumerate(shown):
        # Names and verdicts never shrink or wrap; numbers fold rather than end in an ellipsis.
        table.add_column(
            column.title,
            no_wrap=index < 2,
            justify="left" if index < 2 else "right",
            overflow="fold",
            min_width=len(max(column.title.split(), key=len)),
        )
    for figures in rows:
        cells = [column.cell(figures) for column in shown]
        style = "green" if str(figures["verdict"]).startswith(HOLDS) else "red"
        cells[1] = f"[{style}]{cells[1]}[/]"
        table.add_row(*cells)
    console.print(table)
    if narrow:
        console.print(NARROW_NOTE)


def table_cells(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """(human headers, cells) of the full table, for the HTML report."""
    shown = columns(rows)
    return [c.heading for c in shown], [[c.cell(figures) for c in shown] for figures in rows]
