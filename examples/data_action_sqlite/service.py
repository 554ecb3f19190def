"""A Data Action service that keeps the customer's preference in its own SQLite store (the mock never sees it).

    python examples/data_action_sqlite/service.py --db prefs.db --port 8400 [--broken]

POST /set {conversationId, participantId, sessionId, userId, variable, value} stores the value (200);
POST /get {conversationId, sessionId, variable} answers {"value": v} (null when none is stored).
--broken acknowledges every /set without storing it: the defect mockgc must catch.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _serve import fields, serve

SET_FIELDS = ("conversationId", "participantId", "sessionId", "userId", "variable", "value")
GET_FIELDS = ("conversationId", "sessionId", "variable")


class Preferences:
    """One SQLite connection behind a lock: the server's threads take turns, and every write is committed."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS preference (conversation TEXT, session TEXT, variable TEXT, value TEXT,"
            " PRIMARY KEY (conversation, session, variable))"
        )
        self.lock = threading.Lock()

    def put(self, conversation: str, session: str, variable: str, value: str) -> None:
        with self.lock, self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO preference VALUES (?, ?, ?, ?)", (conversation, session, variable, value)
            )

    def get(self, conversation: str, session: str, variable: str) -> str | None:
        with self.lock:
            row = self.db.execute(
                "SELECT value FROM preference WHERE conversation = ? AND session = ? AND variable = ?",
                (conversation, session, variable),
            ).fetchone()
        return row[0] if row else None


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
    args = parser.parse_args()
    serve(routes(Preferences(args.db), args.broken), args.host, args.port, "data-action-sqlite")


if __name__ == "__main__":
    main()
