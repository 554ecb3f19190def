"""`window-guard`: keep the critical write out of the publish window, by asking the platform or by the calendar."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mockgc.flows.context import FlowContext, SessionRef
from mockgc.flows.effects import Call, Effect, Now, Reply, Sleep
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import choice, count, number, tunable_choice, tunable_number

VARIANTS = ("operation", "weekly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# -- the weekly window: pure functions of an instant, so DST is testable without sleeping --


def window_start_on_or_before(at: float, *, weekday: int, start: time, tz: ZoneInfo) -> float:
    """Epoch seconds of the latest weekly window start at or before `at`.

    The start is a wall-clock time in `tz`, so it moves in UTC when DST changes; it is
    built from the local date (never by adding 7 * 86400 s, which is off by an hour
    across a switch).
    """
    local = datetime.fromtimestamp(at, tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    candidate = datetime.combine(day, start, tzinfo=tz).timestamp()
    if candidate > at:
        candidate = datetime.combine(day - timedelta(days=7), start, tzinfo=tz).timestamp()
    return candidate


def next_window_start(at: float, *, weekday: int, start: time, tz: ZoneInfo) -> float:
    """Epoch seconds of the first weekly window start strictly after `at`."""
    previous = window_start_on_or_before(at, weekday=weekday, start=start, tz=tz)
    day = datetime.fromtimestamp(previous, tz).date() + timedelta(days=7)
    return datetime.combine(day, start, tzinfo=tz).timestamp()


def defer_until(
    at: float, *, weekday: int, start: time, duration_s: float, lead_s: float, tz: ZoneInfo
) -> float | None:
    """When a critical section starting at `at` may run: None for now, else the end of the window.

    Inside [start - lead, start + duration) it must wait for the end; the lead keeps a
    section that starts just before the window from running into it.
    """
    last = window_start_on_or_before(at, weekday=weekday, start=start, tz=tz)
    if at < last + duration_s:
        return last + duration_s
    upcoming = next_window_start(at, weekday=weekday, start=start, tz=tz)
    if at >= upcoming - lead_s:
        return upcoming + duration_s
    return None


def publish_running(reply: Reply) -> bool:
    """Does a list_operations reply show a schedule publish still Processing? An error counts as yes."""
    if not reply.ok or not isinstance(reply.body, dict):
        return True
    for operation in reply.body.get("entities") or ():
        extra = operation.get("mockgc") or {}
        if operation.get("status") == "Processing" and extra.get("publishes"):
            return True
    return False


class WindowGuard(Mitigation):
    """Wait until no publish is running, then write and evaluate (both plain, once).

    variant="operation" (default) asks the platform: it lists the business unit's WFM
    operations and, while one that publishes is Processing, sleeps `poll_s`, giving up
    the wait after `deadline_s` (then it writes anyway). When the platform cannot answer
    the list, it treats that as "a publish may be running" and keeps waiting.

    variant="weekly" uses the calendar: a window every `weekday` at `start` (local time
    in `timezone`) lasting `duration_minutes`; a critical section that would start inside
    it, or within `lead_s` before it, waits until it ends. It is only right when the
    publishes really fall inside that window.

    Both check once and then act: a publish that starts between the check and the
    write is not seen. Nothing re-attaches an invalidated session.
    """

    name = "window-guard"
    space = (
        tunable_choice(
            "variant",
            VARIANTS,
            trades="ask the platform (a request per poll) or trust the calendar (no request, long waits)",
        ),
        tunable_number(
            "poll_s", 0.1, 10.0, log=True, trades="polling more often writes sooner after a publish, at more requests"
        ),
        tunable_number(
            "deadline_s",
            1.0,
            600.0,
            log=True,
            trades="a later deadline waits out longer publishes, and the customer waits it",
        ),
        tunable_number(
            "lead_s",
            0.0,
            60.0,
            trades="weekly: a longer lead keeps sections that start just before the window out of it",
        ),
        tunable_number(
            "duration_minutes",
            1.0,
            120.0,
            trades="weekly: a longer window covers longer publishes, deferring more sessions",
        ),
    )

    def __init__(
        self,
        *,
        variant: str = "operation",
        poll_s: float = 1.0,
        deadline_s: float = 120.0,
        weekday: str = "monday",
        start: str = "06:00",
        timezone: str = "America/Chicago",
        duration_minutes: float = 60.0,
        lead_s: float = 5.0,
        max_polls: int = 10_000,
    ) -> None:
        self.variant = choice("variant", variant, VARIANTS)
        self.poll_s = number("poll_s", poll_s, positive=True)
        self.deadline_s = number("deadline_s", deadline_s)
        self.weekday = choice("weekday", str(weekday).lower(), WEEKDAYS)
        try:
            parsed = time.fromisoformat(start)
        except (TypeError, ValueError):
            raise ValueError(f"start must be a time of day like 06:00, got {start!r}") from None
        self.start = parsed.strftime("%H:%M:%S") if parsed.second else parsed.strftime("%H:%M")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"timezone must be an IANA zone like America/Chicago, got {timezone!r}") from None
        self.timezone = timezone
        self.duration_minutes = number("duration_minutes", duration_minutes, high=7 * 24 * 60, positive=True)
        self.lead_s = number("lead_s", lead_s)
        self.max_polls = count("max_polls", max_polls, high=1_000_000)

    # The parsed forms are derived, not parameters, so describe() (vars) stays the params.
    def _window(self) -> dict[str, Any]:
        return {
            "weekday": WEEKDAYS.index(self.weekday),
            "start": time.fromisoformat(self.start),
            "tz": ZoneInfo(self.timezone),
        }

    def defer_until(self, at: float) -> float | None:
        """The weekly variant's decision for a critical section starting at `at` (pure)."""
        return defer_until(at, duration_s=self.duration_minutes * 60.0, lead_s=self.lead_s, **self._window())

    def wait_for_publishes(self, ctx: FlowContext) -> Generator[Effect, Any, None]:
        began = yield Now()
        for _ in range(self.max_polls):
            reply = yield Call("list_operations", {"businessUnitId": ctx.business_unit_id})
            if not publish_running(reply):
                return
            now = yield Now()
            if now + self.poll_s - began > self.deadline_s:
                return
            yield Sleep(self.poll_s)

    def wait_for_calendar(self) -> Generator[Effect, Any, None]:
        now = yield Now()
        until = self.defer_until(now)
        if until is not None:
            yield Sleep(until - now)

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        if self.variant == "operation":
            yield from self.wait_for_publishes(ctx)
        else:
            yield from self.wait_for_calendar()
        return (yield from super().set_data(ctx, session, name, value))
