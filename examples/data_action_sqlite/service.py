"""A Data Action service that keeps the customer's preference in its own SQLite store (the mock never sees it).

    python examples/data_action_sqlite/service.py --db prefs.db --port 8400 [--broken] [--forget-after S] [--memory]

POST /set {conversationId, participantId, sessionId, userId, variable, value} stores the value (200);
POST /get {conversationId, sessionId, variable} answers {"value": v} (null when none is stored).
SIGHUP restarts the store (reopens the file; with --memory, starts empty), as a redeploy would.
Defects mockgc must catch: --broken acknowledges every /set without storing it; --forget-after S keeps
a value S seconds only (a cache with an expiry: durable at the run's end, gone a little later, which
`mockgc run --reread-after` sees); --memory keeps values in memory only (lost at a restart, which
`mockgc run --restart-cmd "kill -HUP PID"` sees).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _serve import fields, serve

SET_FIELDS = ("conversationId", "participantId", "sessionId", "userId", "variable", "value")
GET_FIELDS = ("conversationId", "sessionId", "variable")


class Preferences:
    """One SQLite connection behind a lock: the server's threads take turns, and every write is committed.
    `forget_after` (seconds) makes it a cache with an expiry: an older value reads as none."""

    def __init__(self, path: str, forget_after: float | None = None) -> None:
        self.path, self.forget_after = path, forget_after
        self.lock = threading.Lock()
        self.open()

    def open(self) -> None:
        """(Re)open the store: a restart. The file keeps its values; ":memory:" starts empty."""
        db = sqlite3.connect(self.path, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS preference (conversation TEXT, session TEXT, variable TEXT, value TEXT,"
            " stored REAL, PRIMARY KEY (conversation, session, variable))"
        )
        with contextlib.suppress(sqlite3.OperationalError):  # a file from before `stored` existed
            db.execute("ALTER TABLE preference ADD COLUMN stored REAL")
        with self.lock:
            self.db = db

    def put(self, conversation: str, session: str, variable: str, value: str) -> None:
        with self.lock, self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO preference VALUES (?, ?, ?, ?, ?)",
                (conversation, session, variable, value, time.monotonic()),
            )

    def get(self, conversation: str, session: str, variable: str) -> str | None:
        with self.lock:
            row = self.db.execute(
                "SELECT value, stored FROM preference WHERE conversation = ? AND session = ? AND variable = ?",
                (conversation, session, variable),
            ).fetchone()
        if row is None or (self.forget_after is not None and time.monotonic() - (row[1] or 0) > self.forget_after):
            return None
        return str(row[0])


def routes(store: Preferences, broken: bool) -> dict[str, Any]:
    def set_value(body: Any) -> tuple[int, Any]:
        given = fields(body, SET_FIELDS)
        if given is None:
            return 400, {"message": f"give {', '.join(SET_FIELDS)} as strings"}
        if not broken:
            store.put(given["conversationId"], given["sessionId"], given["variable"], given["value"])
        return 200, {"stored": True}

    def get_value(body: Any) -> tuple[int, Any]:
        given = fields(body, GET_FIELDS)
        if given is None:
            return 400, {"message": f"give {', '.join(GET_FIELDS)} as strings"}
        return 200, {"value": store.get(given["conversationId"], given["sessionId"], given["variable"])}

    return {"/set": set_value, "/get": get_value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="preferences.db", help="SQLite file (created if missing).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8400, help="0 picks a free port.")
    parser.add_argument("--broken", action="store_true", help="Acknowledge writes without storing them.")
    parser.add_argument("--forget-after", type=float, help="Keep a value this many seconds only (a cache).")
    parser.add_argument("--memory", action="store_true", help="Keep values in memory only: a restart loses them.")
    args = parser.parse_args()
    store = Preferences(":memory:" if args.memory else args.db, args.forget_after)
    signal.signal(signal.SIGHUP, lambda signum, frame: store.open())
    serve(routes(store, args.broken), args.host, args.port, "data-action-sqlite")


if __name__ == "__main__":
    main()
